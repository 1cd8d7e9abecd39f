import { describe, expect, it } from 'vitest';
import { committor, meanFirstPassage } from '../solvers/absorbing.js';
import { buildOperator } from './helpers/problems.js';
import type { NoiseModel } from '../solvers/problem.js';

/**
 * The 1-D exact formulas of oracles.md §6 "One-dimensional exact formulas", evaluated by our own
 * quadrature (composite Simpson on a fine mesh), against the grid's Dirichlet solves.
 */

/** ∫_a^b g by composite Simpson with m (even) panels. */
function simpson(g: (x: number) => number, a: number, b: number, m = 4000): number {
  if (b === a) return 0;
  const h = (b - a) / m;
  let s = g(a) + g(b);
  for (let k = 1; k < m; k++) s += (k % 2 ? 4 : 2) * g(a + k * h);
  return (s * h) / 3;
}

/** Scale density 1/(Aπ) up to a constant: f^β (multiplicative, β = 2/(ησ)), e^{f/D} (additive). */
function scaleDensity(f: (x: number) => number, noise: NoiseModel): (x: number) => number {
  if (noise.kind === 'multiplicative') {
    const beta = 2 / noise.etaSigma;
    return (x) => Math.pow(f(x) + noise.eps, beta);
  }
  return (x) => Math.exp(f(x) / noise.D);
}

function centres(lo: number, hi: number, n: number): number[] {
  const h = (hi - lo) / n;
  return Array.from({ length: n }, (_, i) => lo + (i + 0.5) * h);
}

describe('committor in 1-D: the splitting formula (oracles.md §6, splitting between two zeros)', () => {
  const cases: { name: string; f: (x: number) => number; lo: number; hi: number; za: number; zb: number; r: number; noise: NoiseModel }[] = [
    { name: 'double well (x²−1)², ησ = 1 (β = 2)', f: (x) => (x * x - 1) ** 2, lo: -1.6, hi: 1.6, za: -1, zb: 1, r: 0.05, noise: { kind: 'multiplicative', etaSigma: 1, eps: 0 } },
    { name: 'double well (x²−1)², ησ = 0.4 (β = 5)', f: (x) => (x * x - 1) ** 2, lo: -1.6, hi: 1.6, za: -1, zb: 1, r: 0.05, noise: { kind: 'multiplicative', etaSigma: 0.4, eps: 0 } },
    { name: 'double well (x²−1)², ησ = 4 (β = 0.5)', f: (x) => (x * x - 1) ** 2, lo: -1.6, hi: 1.6, za: -1, zb: 1, r: 0.05, noise: { kind: 'multiplicative', etaSigma: 4, eps: 0 } },
    { name: 'zeros at both walls x²(1−x)², ησ = 1', f: (x) => x * x * (1 - x) ** 2, lo: 0, hi: 1, za: 0, zb: 1, r: 0.03, noise: { kind: 'multiplicative', etaSigma: 1, eps: 0 } },
    { name: 'additive double well, D = 0.3', f: (x) => (x * x - 1) ** 2, lo: -1.6, hi: 1.6, za: -1, zb: 1, r: 0.05, noise: { kind: 'additive', D: 0.3 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const n = 640;
      const op = buildOperator([[c.lo, c.hi]], [n], c.f, c.noise);
      const xs = centres(c.lo, c.hi, n);
      const A = Uint8Array.from(xs, (x) => (Math.abs(x - c.za) <= c.r || x < c.za ? 1 : 0));
      const B = Uint8Array.from(xs, (x) => (Math.abs(x - c.zb) <= c.r || x > c.zb ? 1 : 0));
      const res = committor(op, A, B);
      expect(res.converged).toBe(true);
      // Dirichlet data sit at the centres of the last absorbed cells.
      const a = Math.max(...xs.filter((_, i) => A[i]));
      const b = Math.min(...xs.filter((_, i) => B[i]));
      const g = scaleDensity(c.f, c.noise);
      const total = simpson(g, a, b);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        if (A[i] || B[i]) continue;
        const exact = simpson(g, a, xs[i], 400) / total;
        worst = Math.max(worst, Math.abs(res.u[i] - exact));
      }
      expect(worst).toBeLessThan(2e-4);
    });
  }
});

describe('mean first-passage time in 1-D: the double integral (oracles.md §6, mean exit time)', () => {
  it('tilted double well, multiplicative, reflecting left wall, absorbing right end', () => {
    const f = (x: number): number => 0.5 + (x * x - 1) ** 2 + 0.2 * x;
    const noise: NoiseModel = { kind: 'multiplicative', etaSigma: 1, eps: 0 };
    const lo = -1.8;
    const hi = 1.8;
    const n = 720;
    const op = buildOperator([[lo, hi]], [n], f, noise);
    const xs = centres(lo, hi, n);
    const target = Uint8Array.from(xs, (x) => (x >= 1.3 ? 1 : 0));
    const res = meanFirstPassage(op, target);
    expect(res.converged).toBe(true);
    const b = Math.min(...xs.filter((_, i) => target[i]));
    const alpha = 1 + 2 / noise.etaSigma;
    const pi = (x: number): number => Math.pow(f(x), -alpha);
    const Api = (x: number): number => 0.5 * noise.etaSigma * f(x) * pi(x);
    // T(x0) = ∫_{x0}^b dy/(Aπ)(y) ∫_lo^y π
    const inner = (y: number): number => simpson(pi, lo, y, 400);
    let worst = 0;
    for (let i = 0; i < n; i += 23) {
      if (target[i]) continue;
      const exact = simpson((y) => inner(y) / Api(y), xs[i], b, 400);
      worst = Math.max(worst, Math.abs(res.u[i] / exact - 1));
    }
    expect(worst).toBeLessThan(2e-4);
  });
});
