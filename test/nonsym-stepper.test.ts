import { describe, expect, it } from 'vitest';
import { CsrStepper } from '../solvers/nonsym/stepper.js';
import { box, dense, expmTimes, luSolve, ouGenerator } from './nonsym-helpers.js';

const H = [[2, 0.8], [0.8, 1]];
const D = [[0.5, 0.2], [0.2, 0.3]];

function peaked(n: number, at: number): Float64Array {
  const rho = new Float64Array(n);
  rho[at] = 1;
  return rho;
}

describe('CsrStepper: implicit steps on a non-symmetric generator', () => {
  it('backward Euler keeps ρ ≥ 0 and the mass, and each step is the dense solve of (I − ΔtA)ρ₁ = ρ₀', () => {
    const grid = box(3, 16);
    const a = ouGenerator(grid, H, D);
    const rho = peaked(grid.size, 3 * 16 + 12); // a point mass off-centre: the hardest case for positivity
    const rho0 = Array.from(rho);
    const dt = 0.37;
    const st = new CsrStepper(a, grid, { method: 'backward-euler', dt, solveTol: 1e-13 });
    const stats = st.advance(rho, 0, dt);
    expect(stats.steps).toBe(1);
    const ad = dense(a);
    const m = ad.map((r, i) => r.map((v, j) => (i === j ? 1 : 0) - dt * v));
    const ref = luSolve(m, rho0);
    for (let i = 0; i < grid.size; i++) expect(Math.abs(rho[i] - ref[i])).toBeLessThan(1e-11);
    // Many large steps: never negative, mass exact.
    st.advance(rho, dt, 40 * dt);
    expect(Math.min(...rho)).toBeGreaterThanOrEqual(0);
    expect(rho.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 13);
  });

  it('TR-BDF2 at t = 1 against e^{A}ρ₀ (Taylor expm of the dense A) within its tolerance', () => {
    const grid = box(3, 10);
    const a = ouGenerator(grid, H, D);
    const n = grid.size;
    const rho0 = Float64Array.from({ length: n }, (_, i) => Math.exp(-(((i % 10) - 2) ** 2) / 2 - ((Math.floor(i / 10) - 6) ** 2) / 3));
    const mass = rho0.reduce((s, v) => s + v, 0);
    for (let i = 0; i < n; i++) rho0[i] /= mass;
    const ref = expmTimes(dense(a), 1, Array.from(rho0));
    const errFor = (tol: number): number => {
      const rho = rho0.slice();
      const st = new CsrStepper(a, grid, { method: 'trbdf2', tolerance: tol, solveTol: 1e-12 });
      st.advance(rho, 0, 1);
      expect(Math.min(...rho)).toBeGreaterThanOrEqual(0);
      expect(rho.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
      let e = 0;
      for (let i = 0; i < n; i++) e += Math.abs(rho[i] - ref[i]);
      return e;
    };
    const e3 = errFor(1e-3);
    const e5 = errFor(1e-5);
    expect(e3).toBeLessThan(1e-2);
    expect(e5).toBeLessThan(1e-4);
    expect(e5).toBeLessThan(e3 / 5);
  });

  it('refuses a backward-Euler stepper without a step (RangeError, not NaN)', () => {
    const grid = box(3, 8);
    expect(() => new CsrStepper(ouGenerator(grid, H, D), grid, { method: 'backward-euler' })).toThrow(/dt > 0/);
  });
});
