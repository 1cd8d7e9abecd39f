/**
 * The flat-array Jacobi eigen-solver (solvers/dense.ts `symmetricEigen`, rewritten for the per-point
 * cost of a sweep, issue #19.5) is checked as an eigen-decomposition (A v = λ v, VᵀV = I, the trace) on
 * random, Krylov-like and degenerate matrices, and against an exact spectrum (docs/oracles.md §16
 * tridiagonal Toeplitz).
 */
import { describe, expect, it } from 'vitest';
import { symmetricEigen } from '../solvers/dense.js';

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

function symmetric(n: number, entry: (i: number, j: number) => number): number[][] {
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i]![j] = a[j]![i] = entry(i, j);
  return a;
}

describe('symmetricEigen (flat arrays)', () => {
  it('is an eigen-decomposition to round-off on dense, near-tridiagonal (Krylov-like), diagonal and degenerate matrices', () => {
    const r = rng(12345);
    const cases: number[][][] = [];
    for (let n = 1; n <= 30; n++) {
      cases.push(symmetric(n, () => r() - 0.5));
      // A Lanczos matrix with round-off off the band: the exponential integrator's input.
      cases.push(symmetric(n, (i, j) => (i === j ? r() : j === i + 1 ? 0.3 * r() : 1e-14 * (r() - 0.5))));
    }
    cases.push(symmetric(5, (i, j) => (i === j ? i + 1 : 0)));
    cases.push(symmetric(6, () => 1)); // rank one: a five-fold zero eigenvalue
    for (const a of cases) {
      const n = a.length;
      const { values, vectors } = symmetricEigen(a);
      const scale = Math.max(1e-300, ...a.map((row) => Math.hypot(...row)));
      expect(values.length).toBe(n);
      for (let k = 1; k < n; k++) expect(values[k]).toBeGreaterThanOrEqual(values[k - 1]!);
      // A v = λ v and VᵀV = I, checked directly (independent of how the rotations were ordered).
      for (let k = 0; k < n; k++) {
        const v = vectors[k]!;
        for (let i = 0; i < n; i++) {
          let av = 0;
          for (let j = 0; j < n; j++) av += a[i]![j]! * v[j]!;
          expect(Math.abs(av - values[k]! * v[i]!)).toBeLessThan(1e-12 * scale * n);
        }
        for (let l = 0; l <= k; l++) {
          const d = v.reduce((acc, x, j) => acc + x * vectors[l]![j]!, 0);
          expect(Math.abs(d - (l === k ? 1 : 0))).toBeLessThan(1e-12 * n);
        }
      }
      // The trace is the sum of the eigenvalues.
      const tr = a.reduce((acc, row, i) => acc + row[i]!, 0);
      expect(Math.abs(values.reduce((x, y) => x + y, 0) - tr)).toBeLessThan(1e-12 * scale * n);
    }
    // The rank-one case: eigenvalues 0 (five times) and 6.
    const ones = symmetricEigen(symmetric(6, () => 1)).values;
    ones.slice(0, 5).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-13));
    expect(ones[5]).toBeCloseTo(6, 12);
  });

  it('returns without looping on a non-finite entry and on the empty matrix', () => {
    const bad = symmetricEigen(symmetric(3, (i, j) => (i === j ? 1 : j === i + 1 ? NaN : 0)));
    expect(bad.values.length).toBe(3);
    expect(symmetricEigen([]).values).toEqual([]);
  });

  it('finds the exact spectrum and eigenvectors of tridiagonal Toeplitz matrices (oracles.md §16)', () => {
    for (const n of [2, 7, 24]) {
      const [a, b] = [0.7, -0.2];
      const { values, vectors } = symmetricEigen(symmetric(n, (i, j) => (i === j ? a : j === i + 1 ? b : 0)));
      // b < 0: λ_k = a + 2b cos(kπ/(n+1)) increases with k.
      const exact = Array.from({ length: n }, (_, k) => a + 2 * b * Math.cos(((k + 1) * Math.PI) / (n + 1)));
      values.forEach((v, k) => expect(v).toBeCloseTo(exact[k]!, 13));
      vectors.forEach((vec, k) => {
        const ex = Array.from({ length: n }, (_, j) => Math.sin(((j + 1) * (k + 1) * Math.PI) / (n + 1)) / Math.sqrt((n + 1) / 2));
        const sign = Math.sign(vec.reduce((s, x, j) => s + x * ex[j]!, 0));
        vec.forEach((x, j) => expect(sign * x).toBeCloseTo(ex[j]!, 12));
      });
    }
  });
});
