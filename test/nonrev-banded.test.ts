/**
 * The direct banded solves of src/nonrev/banded.ts: the GTH steady state against the matrix-tree
 * formula (oracles.md §15) and against a dense LU solve; the implicit steps against the exact
 * two-state law ρ₀(t) = b/(a+b) + (ρ₀(0) − b/(a+b)) e^{−(a+b)t}, at their orders (TR-BDF2 second,
 * backward Euler first), with mass kept to round-off.
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { forwardMatrix } from '../src/nonrev/generator.js';
import { bandedSteadyState, bandedStepper, bandwidth } from '../src/nonrev/banded.js';
import { ouEngine } from './helpers/nonrev-ou-engine.js';

describe('GTH steady state on the band', () => {
  it('3-state cycle: the matrix-tree steady state to round-off', () => {
    const q = { q01: 2, q10: 0.5, q12: 3, q21: 1, q20: 1.5, q02: 0.7 };
    const grid = new Grid([[0, 1]], [3]);
    const gen = {
      grid,
      pairs: [
        { offset: [1], up: Float64Array.from([q.q01, q.q12, 0]), down: Float64Array.from([q.q10, q.q21, 0]) },
        { offset: [2], up: Float64Array.from([q.q02, 0, 0]), down: Float64Array.from([q.q20, 0, 0]) },
      ],
    };
    const tau = [q.q10 * q.q20 + q.q12 * q.q20 + q.q21 * q.q10, q.q01 * q.q21 + q.q02 * q.q21 + q.q20 * q.q01, q.q02 * q.q12 + q.q01 * q.q12 + q.q10 * q.q02];
    const s = tau.reduce((a, b) => a + b, 0);
    const ss = bandedSteadyState(forwardMatrix(gen), grid.cellVolume);
    ss.rho.forEach((v, k) => expect(Math.abs(v - tau[k] / (s * grid.cellVolume))).toBeLessThan(1e-14));
    expect(ss.residual).toBeLessThan(1e-15);
  });

  it('a 2-D non-reversible generator: the dense LU steady state to 1e-12, every entry positive', () => {
    const spec = { H: [[1, 0.2], [0.2, 0.5]] as [[number, number], [number, number]], D: [[0.4, 0.1], [0.1, 0.3]] as [[number, number], [number, number]] };
    const eng = ouEngine(spec);
    const grid = new Grid([[-3, 3], [-3, 3]], [18, 18]);
    const gen = eng.assemble(grid, eng.buildDiffusion({} as never, grid).field, () => undefined);
    const dense = eng.steadyState(gen.forward, grid, { tolerance: 0 }).rho;
    const band = bandedSteadyState(gen.forward, grid.cellVolume);
    let top = 0;
    for (const v of dense) top = Math.max(top, v);
    for (let i = 0; i < grid.size; i++) {
      expect(Math.abs(band.rho[i] - dense[i])).toBeLessThan(1e-12 * top);
      expect(band.rho[i]).toBeGreaterThan(0);
    }
    expect(bandwidth(gen.forward)).toBe(19);
  });
});

describe('implicit steps', () => {
  const a = 3;
  const b = 1;
  const grid = new Grid([[0, 2]], [2]);
  const A = forwardMatrix({ grid, pairs: [{ offset: [1], up: Float64Array.from([a, 0]), down: Float64Array.from([b, 0]) }] });
  const exact = (t: number): number => b / (a + b) + (1 - b / (a + b)) * Math.exp(-(a + b) * t);
  const err = async (integrator: string, dt: number): Promise<number> => {
    const st = bandedStepper(A, { integrator, dt, reportEvery: 0.5 });
    const rho = Float64Array.from([1, 0]);
    for (let k = 0; k < 2; k++) await st.advance(rho, 0.5 * k, 0.5 * (k + 1));
    expect(Math.abs(rho[0] + rho[1] - 1)).toBeLessThan(3e-16);
    return Math.abs(rho[0] - exact(1));
  };

  it('TR-BDF2 is second order, backward Euler first, against the exact two-state law', async () => {
    const t1 = await err('trbdf2', 0.05);
    const t2 = await err('trbdf2', 0.025);
    expect(t1 / t2).toBeGreaterThan(3.6);
    expect(t1 / t2).toBeLessThan(4.4);
    const b1 = await err('backward-euler', 0.05);
    const b2 = await err('backward-euler', 0.025);
    expect(b1 / b2).toBeGreaterThan(1.8);
    expect(b1 / b2).toBeLessThan(2.2);
    expect(t2).toBeLessThan(b2);
  });

  it('an explicit integrator is refused, naming the field', () => {
    expect(() => bandedStepper(A, { integrator: 'rkl2', reportEvery: 0.5 })).toThrow(/time.integrator rkl2 is not available/);
  });
});

describe('shift-invert Arnoldi with direct solves (the gap fallback)', () => {
  it('3-state cycle: μ₁ is a root of λ² + Tλ + S (T the sum of the rates, S the tree sums: oracles.md §15), here complex', async () => {
    const { bandedGap } = await import('../src/nonrev/banded.js');
    const { eigenvector, hessenbergEigenvalues } = await import('../solvers/nonsym/hessenberg.js');
    const q = { q01: 2, q10: 0.5, q12: 3, q21: 1, q20: 1.5, q02: 0.7 };
    const grid = new Grid([[0, 1]], [3]);
    const gen = {
      grid,
      pairs: [
        { offset: [1], up: Float64Array.from([q.q01, q.q12, 0]), down: Float64Array.from([q.q10, q.q21, 0]) },
        { offset: [2], up: Float64Array.from([q.q02, 0, 0]), down: Float64Array.from([q.q20, 0, 0]) },
      ],
    };
    const A = forwardMatrix(gen);
    const ss = bandedSteadyState(A, grid.cellVolume).rho;
    const T = q.q01 + q.q10 + q.q12 + q.q21 + q.q20 + q.q02;
    const S = q.q10 * q.q20 + q.q12 * q.q20 + q.q21 * q.q10 + q.q01 * q.q21 + q.q02 * q.q21 + q.q20 * q.q01 + q.q02 * q.q12 + q.q01 * q.q12 + q.q10 * q.q02;
    expect(T * T).toBeLessThan(4 * S);
    const g = bandedGap(A, ss, { values: hessenbergEigenvalues, vector: eigenvector }, { tol: 1e-10 });
    expect(g.re).toBeCloseTo(-T / 2, 10);
    expect(g.im).toBeCloseTo(Math.sqrt(4 * S - T * T) / 2, 10);
  });

  it('the 2-D non-reversible generator: the same μ₁ as the iterative shift-invert Arnoldi of solvers/nonsym/gap.ts', async () => {
    const { bandedGap } = await import('../src/nonrev/banded.js');
    const { eigenvector, hessenbergEigenvalues } = await import('../solvers/nonsym/hessenberg.js');
    const { nonsymmetricGap } = await import('../solvers/nonsym/gap.js');
    const spec = { H: [[1, 0.2], [0.2, 0.5]] as [[number, number], [number, number]], D: [[0.4, 0.1], [0.1, 0.3]] as [[number, number], [number, number]] };
    const eng = ouEngine(spec);
    const grid = new Grid([[-3, 3], [-3, 3]], [18, 18]);
    const gen = eng.assemble(grid, eng.buildDiffusion({} as never, grid).field, () => undefined);
    const ss = bandedSteadyState(gen.forward, grid.cellVolume).rho;
    const mine = bandedGap(gen.forward, ss, { values: hessenbergEigenvalues, vector: eigenvector }, { tol: 1e-9 });
    const theirs = nonsymmetricGap(gen.forward, grid, ss, { tol: 1e-9 });
    expect(Math.abs(mine.re - theirs.re)).toBeLessThan(1e-7 * Math.abs(theirs.re));
    expect(Math.abs(mine.im - theirs.im)).toBeLessThan(1e-7 * Math.abs(theirs.re));
    expect(mine.residual).toBeLessThan(1e-6);
  });
});
