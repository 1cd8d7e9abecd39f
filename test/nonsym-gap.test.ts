import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { nonsymmetricGap } from '../solvers/nonsym/gap.js';
import { steadyState } from '../solvers/nonsym/steady.js';
import { hessenbergEigenvalues } from '../solvers/nonsym/hessenberg.js';
import { box, ouGenerator, ringGenerator } from './nonsym-helpers.js';

/** oracles.md §14 Ring: eigenvalues p(e^{2πik/n} − 1) + q(e^{−2πik/n} − 1). */
function ringEigen(n: number, p: number, q: number, k: number): { re: number; im: number } {
  const c = Math.cos((2 * Math.PI * k) / n);
  const s = Math.sin((2 * Math.PI * k) / n);
  return { re: (p + q) * (c - 1), im: (p - q) * s };
}

describe('Hessenberg QR eigenvalues', () => {
  it('finds the complex eigenvalues of a companion matrix (roots of a known polynomial)', () => {
    // Roots 1, −2, 0.5 ± 3i: (x − 1)(x + 2)(x² − x + 9.25) = x⁴ + 0x³ + 7.25x² + 11.25x − 18.5 ... expanded below.
    const roots = [{ re: 1, im: 0 }, { re: -2, im: 0 }, { re: 0.5, im: 3 }, { re: 0.5, im: -3 }];
    // Coefficients of Π(x − r) by complex multiplication.
    let poly: { re: number; im: number }[] = [{ re: 1, im: 0 }];
    for (const r of roots) {
      const next = Array.from({ length: poly.length + 1 }, () => ({ re: 0, im: 0 }));
      poly.forEach((c, i) => {
        next[i].re += c.re;
        next[i].im += c.im;
        next[i + 1].re -= c.re * r.re - c.im * r.im;
        next[i + 1].im -= c.re * r.im + c.im * r.re;
      });
      poly = next;
    }
    const n = 4;
    const h = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (__, j) => (i === 0 ? -poly[j + 1].re : i === j + 1 ? 1 : 0)));
    const ev = hessenbergEigenvalues(h).sort((a, b) => a.re - b.re || a.im - b.im);
    const want = roots.slice().sort((a, b) => a.re - b.re || a.im - b.im);
    ev.forEach((e, i) => {
      expect(e.re).toBeCloseTo(want[i].re, 10);
      expect(e.im).toBeCloseTo(want[i].im, 10);
    });
  });
});

describe('nonsymmetricGap: shift-invert Arnoldi', () => {
  it('a driven ring (p ≠ q): the slowest mode rotates, λ₁ = p(e^{2πi/n} − 1) + q(e^{−2πi/n} − 1) exactly (oracles.md §14)', () => {
    const n = 12;
    const p = 1.3;
    const q = 0.4;
    const a = ringGenerator(n, p, q);
    const grid = new Grid([[0, 1]], [n]);
    const st = steadyState(a, grid);
    const gap = nonsymmetricGap(a, grid, st.rho, { nev: 4 });
    const want = ringEigen(n, p, q, 1);
    expect(gap.re).toBeCloseTo(want.re, 9);
    expect(gap.im).toBeCloseTo(Math.abs(want.im), 9);
    // The stop is on the inverse operator; A's residual is larger by up to ‖A‖/|λ| (≈ 6 here).
    expect(gap.residual).toBeLessThan(1e-6);
    expect(gap.converged).toBe(true);
    // The second estimate: the Ritz value's change between two Krylov sizes, printed with the residual.
    expect(gap.change).toBeLessThan(1e-8);
    expect(gap.estimate).toMatch(/residual .* change .* between Krylov sizes \d+ and \d+/);
    // The next Ritz values are the k = ±2 pair, each with its own residual.
    const second = gap.ritz.filter((r) => Math.abs(r.re - ringEigen(n, p, q, 2).re) < 1e-8);
    expect(second.map((r) => Math.abs(r.im)).sort()).toEqual([Math.abs(ringEigen(n, p, q, 2).im), Math.abs(ringEigen(n, p, q, 2).im)].map((v) => expect.closeTo(v, 8)));
  });

  it('a long ring (n = 512, multigrid on six levels): the gap to 1e-8 relative', () => {
    const n = 512;
    const a = ringGenerator(n, 2, 0.5);
    const grid = new Grid([[0, 1]], [n]);
    const st = steadyState(a, grid);
    for (const v of st.rho) expect(v).toBeCloseTo(1, 9); // uniform, Σ|K|ρ = 1
    const gap = nonsymmetricGap(a, grid, st.rho, { nev: 4, tol: 1e-10 });
    const want = ringEigen(n, 2, 0.5, 1);
    expect(Math.abs(gap.re - want.re) / Math.abs(want.re)).toBeLessThan(1e-8);
    expect(Math.abs(gap.im - Math.abs(want.im)) / Math.abs(want.im)).toBeLessThan(1e-8);
  });

  it('2-D OU with H and D not commuting (9-point test scheme): λ₁ → −μ_min(H), real, as h → 0 (oracles.md §14 OU spectrum)', () => {
    const H = [[2, 0.8], [0.8, 1]];
    const D = [[0.5, 0.2], [0.2, 0.3]];
    const muMin = (3 - Math.sqrt(1 + 4 * 0.64)) / 2;
    const errs: number[] = [];
    for (const n of [16, 32, 64]) {
      const grid = box(4, n);
      const a = ouGenerator(grid, H, D);
      const st = steadyState(a, grid);
      const gap = nonsymmetricGap(a, grid, st.rho, { nev: 4 });
      expect(gap.converged).toBe(true);
      expect(Math.abs(gap.im)).toBeLessThan(1e-6);
      expect(gap.residual).toBeLessThan(1e-5);
      errs.push(Math.abs(gap.re + muMin));
    }
    // The test scheme upwinds where the cell Péclet number is large (far from the centre on coarse
    // grids), so the order is between 1 and 2 here: each halving of h must cut the error by > 1.8.
    expect(errs[0] / errs[1]).toBeGreaterThan(1.8);
    expect(errs[1] / errs[2]).toBeGreaterThan(1.8);
    expect(errs[2]).toBeLessThan(0.03 * muMin);
  });
});
