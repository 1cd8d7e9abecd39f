/**
 * The flat-array Jacobi eigen-solver (solvers/dense.ts `symmetricEigen`, rewritten for the per-point
 * cost of a sweep, issue #19.5) gives the same bits as the nested-array version it replaced, kept here
 * verbatim, and is right against an exact spectrum (docs/oracles.md §16 tridiagonal Toeplitz).
 */
import { describe, expect, it } from 'vitest';
import { symmetricEigen, type DenseEigen } from '../solvers/dense.js';

/** The nested-array implementation of solvers/dense.ts before the rewrite (same algorithm, same order of operations). */
function nestedEigen(a: readonly (readonly number[])[]): DenseEigen {
  const n = a.length;
  const m = a.map((r) => r.slice());
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off = Math.max(off, Math.abs(m[p]![q]!) / Math.sqrt(Math.abs(m[p]![p]! * m[q]![q]!) || 1e-300));
    if (off < 1e-17 || !Number.isFinite(off)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p]![q]!;
        if (apq === 0) continue;
        if (Math.abs(apq) < 1e-18 * Math.sqrt(Math.abs(m[p]![p]! * m[q]![q]!))) {
          m[p]![q] = m[q]![p] = 0;
          continue;
        }
        const theta = (m[q]![q]! - m[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k]![p]!;
          const mkq = m[k]![q]!;
          m[k]![p] = c * mkp - s * mkq;
          m[k]![q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p]![k]!;
          const mqk = m[q]![k]!;
          m[p]![k] = c * mpk - s * mqk;
          m[q]![k] = s * mpk + c * mqk;
        }
        m[p]![q] = m[q]![p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[i]![i]! - m[j]![j]!);
  return { values: order.map((i) => m[i]![i]!), vectors: order.map((i) => v.map((row) => row[i]!)) };
}

/** Park–Miller: the same matrices on every run. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

function symmetric(n: number, entry: (i: number, j: number) => number): number[][] {
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i]![j] = a[j]![i] = entry(i, j);
  return a;
}

const sameBits = (x: DenseEigen, y: DenseEigen): boolean =>
  x.values.length === y.values.length && x.values.every((v, i) => Object.is(v, y.values[i])) && x.vectors.every((r, i) => r.length === y.vectors[i]!.length && r.every((v, j) => Object.is(v, y.vectors[i]![j])));

describe('symmetricEigen (flat arrays)', () => {
  it('gives the nested-array version’s bits on dense, near-tridiagonal (Krylov-like), diagonal and degenerate matrices', () => {
    const r = rng(12345);
    const cases: number[][][] = [];
    for (let n = 1; n <= 30; n++) {
      cases.push(symmetric(n, () => r() - 0.5));
      // A Lanczos matrix with round-off off the band: the exponential integrator's input.
      cases.push(symmetric(n, (i, j) => (i === j ? r() : j === i + 1 ? 0.3 * r() : 1e-14 * (r() - 0.5))));
    }
    cases.push(symmetric(5, (i, j) => (i === j ? i + 1 : 0)));
    cases.push(symmetric(6, () => 1)); // rank one: a five-fold zero eigenvalue
    cases.push(symmetric(4, (i, j) => (i === j ? 1e-300 : j === i + 1 ? 1e-310 : 0)));
    cases.push(symmetric(3, (i, j) => (i === j ? 1 : j === i + 1 ? NaN : 0)));
    cases.push([]);
    // Not exactly symmetric (a Hessian from finite differences): the rows are updated in full, as before.
    for (const n of [2, 5, 12]) cases.push(symmetric(n, () => r()).map((row, i) => row.map((x, j) => (j > i ? x * (1 + 1e-15) : x))));
    cases.push([[1, -0], [0, 2]]);
    for (const a of cases) expect(sameBits(symmetricEigen(a), nestedEigen(a))).toBe(true);
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
