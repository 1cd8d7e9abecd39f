import { describe, expect, it } from 'vitest';
import { committor, meanFirstPassage } from '../solvers/absorbing.js';
import { buildOperator } from './helpers/problems.js';
import type { NoiseModel } from '../solvers/problem.js';

/** ∫_a^b g by composite Simpson with m (even) panels. */
function simpson(g: (x: number) => number, a: number, b: number, m = 400): number {
  if (b === a) return 0;
  const h = (b - a) / m;
  let s = g(a) + g(b);
  for (let k = 1; k < m; k++) s += (k % 2 ? 4 : 2) * g(a + k * h);
  return (s * h) / 3;
}

function centres(lo: number, hi: number, n: number): number[] {
  const h = (hi - lo) / n;
  return Array.from({ length: n }, (_, i) => lo + (i + 0.5) * h);
}

describe('committor in 2-D', () => {
  it('q = 1/2 on the symmetry plane x = 0 of a symmetric double well (multiplicative, collapse regime)', () => {
    const n = 96;
    const f = (x: number, y: number): number => (x * x - 1) ** 2 + 2 * y * y;
    const op = buildOperator([[-1.6, 1.6], [-1, 1]], [n, n], f, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
    const xs = centres(-1.6, 1.6, n);
    const ys = centres(-1, 1, n);
    const A = new Uint8Array(n * n);
    const B = new Uint8Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      if (Math.hypot(xs[i] + 1, ys[j]) < 0.1) A[i * n + j] = 1;
      if (Math.hypot(xs[i] - 1, ys[j]) < 0.1) B[i * n + j] = 1;
    }
    const res = committor(op, A, B, { tol: 1e-12 });
    expect(res.converged).toBe(true);
    // n even: the plane x = 0 is the face between columns n/2 − 1 and n/2; q there is their mean,
    // and the reflection maps q to 1 − q, so q_{n/2−1,j} + q_{n/2,j} = 1.
    let worst = 0;
    for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(res.u[(n / 2 - 1) * n + j] + res.u[(n / 2) * n + j] - 1));
    expect(worst).toBeLessThan(1e-8);
    // Not trivially symmetric: q varies across the plane's neighbourhood, and moves from 0 to 1.
    expect(res.u[(n / 2 - 1) * n + n / 2]).toBeLessThan(0.5);
    expect(res.u[(n / 4) * n + n / 2]).toBeLessThan(0.01);
  });

  const separable: { name: string; g: (x: number) => number; k: (y: number) => number; noise: NoiseModel; combine: 'product' | 'sum' }[] = [
    { name: 'product landscape g(x)·k(y), multiplicative noise', g: (x) => (x * x - 1) ** 2 + 0.05, k: (y) => 1 + y * y, noise: { kind: 'multiplicative', etaSigma: 1, eps: 0 }, combine: 'product' },
    { name: 'sum landscape g(x) + k(y), additive noise', g: (x) => (x * x - 1) ** 2, k: (y) => 2 * y * y, noise: { kind: 'additive', D: 0.25 }, combine: 'sum' },
  ];
  for (const c of separable) {
    it(`separable: ${c.name} — q depends on x only and equals the 1-D splitting formula (oracles.md §6)`, () => {
      const nx = 128;
      const ny = 48;
      const lo = -1.6;
      const hi = 1.6;
      const f = c.combine === 'product' ? (x: number, y: number): number => c.g(x) * c.k(y) : (x: number, y: number): number => c.g(x) + c.k(y);
      const op = buildOperator([[lo, hi], [-1, 1]], [nx, ny], f, c.noise);
      const xs = centres(lo, hi, nx);
      const A = new Uint8Array(nx * ny);
      const B = new Uint8Array(nx * ny);
      for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) {
        if (xs[i] <= -1) A[i * ny + j] = 1;
        if (xs[i] >= 0.9) B[i * ny + j] = 1;
      }
      const res = committor(op, A, B, { tol: 1e-12 });
      expect(res.converged).toBe(true);
      const a = Math.max(...xs.filter((x) => x <= -1));
      const b = Math.min(...xs.filter((x) => x >= 0.9));
      const noise = c.noise;
      const scale = noise.kind === 'multiplicative' ? (x: number): number => Math.pow(c.g(x), 2 / noise.etaSigma) : (x: number): number => Math.exp(c.g(x) / noise.D);
      const total = simpson(scale, a, b);
      let worst = 0;
      for (let i = 0; i < nx; i++) {
        if (xs[i] <= a || xs[i] >= b) continue;
        const exact = simpson(scale, a, xs[i]) / total;
        for (let j = 0; j < ny; j++) worst = Math.max(worst, Math.abs(res.u[i * ny + j] - exact));
      }
      expect(worst).toBeLessThan(2e-3);
    });
  }

  it('mean first-passage time, separable additive case: T depends on x only and equals the 1-D double integral', () => {
    const nx = 128;
    const ny = 32;
    const lo = -1.8;
    const hi = 1.5;
    const D = 0.4;
    const g = (x: number): number => (x * x - 1) ** 2 + 0.3 * x;
    const op = buildOperator([[lo, hi], [-1, 1]], [nx, ny], (x, y) => g(x) + y * y, { kind: 'additive', D });
    const xs = centres(lo, hi, nx);
    const T = new Uint8Array(nx * ny);
    for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) if (xs[i] >= 1.2) T[i * ny + j] = 1;
    const res = meanFirstPassage(op, T, { tol: 1e-12 });
    expect(res.converged).toBe(true);
    const b = Math.min(...xs.filter((x) => x >= 1.2));
    const pi = (x: number): number => Math.exp(-g(x) / D);
    let worst = 0;
    for (let i = 0; i < nx; i += 7) {
      if (xs[i] >= b) continue;
      const exact = simpson((y) => simpson(pi, lo, y, 200) / (D * pi(y)), xs[i], b, 200);
      for (let j = 0; j < ny; j += 5) worst = Math.max(worst, Math.abs(res.u[i * ny + j] / exact - 1));
    }
    // O(h²) scheme error at h = 0.026 (measured 2.0e-3); a wrong operator is off by O(1).
    expect(worst).toBeLessThan(5e-3);
  });
});
