/**
 * Implicit solves must not put a floor under convergence measurements. PCG stops relative to the
 * right-hand side's deviation from π (solvers/backend/pcg.ts), so as ρ → π the solve error shrinks
 * with the distance. Check: the χ-distance's decay rate late in a 2-D run, where χ has fallen by
 * ~10⁸, equals λ₁ from the eigen-solver (an independent method). With a residual relative to ‖b‖
 * (the former rule) the linear tolerance here (1e-7) would have frozen χ near 1e-7 and the
 * measured rate would have fallen towards 0.
 */
import { describe, expect, it } from 'vitest';
import { buildOperator, gaussianBump } from './helpers/problems.js';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { DeviceTrBdf2 } from '../solvers/backend/implicit.js';
import { generatorModes } from '../solvers/eigen/index.js';

describe('no linear-solver floor under χ-distance decay', () => {
  it('TR-BDF2 (tolerance 1e-4) measures λ₁ to 1 % while χ falls from 1e-4 to 1e-8 of its start', async () => {
    // Additive-noise OU-type landscape: λ₁ ≈ 1 (the x direction), λ₂ ≈ 2.
    const op = buildOperator([[-4, 4], [-4, 4]], [24, 24], (x, y) => 0.5 * x * x + y * y, { kind: 'additive', D: 1 });
    const lambda1 = generatorModes(op, { modes: 2 }).values[0];
    expect(lambda1).toBeGreaterThan(0.9);
    expect(lambda1).toBeLessThan(1.1);
    const pi = op.problem.pi();
    const rho = gaussianBump(op.grid, [1.5, 0.5], 0.5);
    const h2 = op.grid.cellVolume;
    const chi = (): number => {
      let s = 0;
      for (let i = 0; i < rho.length; i++) s += ((rho[i] - pi[i]) ** 2 / pi[i]) * h2;
      return Math.sqrt(s);
    };
    const tolerance = 1e-4;
    const integ = new DeviceTrBdf2(new CpuBackend(op), op, { tolerance, dtMax: 0.25 }, { tol: 1e-7, maxIterations: 20000 });
    const chi0 = chi();
    const at: Record<number, number> = {};
    let t = 0;
    for (const tNext of [9, 18]) {
      await integ.advance(rho, t, tNext);
      t = tNext;
      at[tNext] = chi();
    }
    expect(at[9] / chi0).toBeLessThan(1e-3);
    expect(at[18] / chi0).toBeLessThan(1e-7);
    const rate = Math.log(at[9] / at[18]) / 9;
    expect(Math.abs(rate / lambda1 - 1)).toBeLessThan(0.01);
  });
});
