import { describe, expect, it } from 'vitest';
import { assembleGenerator } from '../solvers/anisotropic/assemble.js';
import type { DiffusionField } from '../solvers/anisotropic/types.js';
import { nonsymmetricGap } from '../solvers/nonsym/gap.js';
import { steadyState } from '../solvers/nonsym/steady.js';
import { CsrStepper } from '../solvers/nonsym/stepper.js';
import { lyapunov } from './helpers/ou-lyapunov.js';
import { box } from './nonsym-helpers.js';

/**
 * The non-symmetric solvers on the real monotone scheme (solvers/anisotropic/assemble.ts, merged from
 * h/scheme), for an OU process whose D is far from diagonal (a 5×5 stencil): the steady state against
 * the Lyapunov covariance (oracles.md §8, §13) and the gap against −μ_min(H) (oracles.md §14).
 */
describe('steady state and gap of the assembled anisotropic OU generator', () => {
  const H = [2, 0.8, 0.8, 1];
  const D = [0.5, 0.4, 0.4, 0.45];
  const field: DiffusionField = {
    dim: 2,
    evalD: (_x, out) => out.set(D),
    evalDivD: (_x, out) => out.fill(0),
  };
  const grad = (x: ArrayLike<number>, out: Float64Array): void => {
    out[0] = H[0] * x[0] + H[1] * x[1];
    out[1] = H[2] * x[0] + H[3] * x[1];
  };
  const muMin = (3 - Math.sqrt(1 + 4 * 0.64)) / 2;
  const sig = lyapunov(2, H, D);

  it('covariance → Lyapunov Σ and λ₁ → −μ_min as h halves; backward Euler relaxes to the same ρ', () => {
    const covErr: number[] = [];
    const gapErr: number[] = [];
    for (const n of [32, 64]) {
      const grid = box(4, n);
      const a = assembleGenerator(grid, field, grad).forward;
      const st = steadyState(a, grid);
      expect(st.converged).toBe(true);
      const x = grid.coordinateField(0);
      const y = grid.coordinateField(1);
      const m = [0, 0, 0];
      for (let i = 0; i < grid.size; i++) {
        const w = st.rho[i] * grid.cellVolume;
        m[0] += w * x[i] * x[i];
        m[1] += w * x[i] * y[i];
        m[2] += w * y[i] * y[i];
      }
      covErr.push(Math.max(Math.abs(m[0] - sig[0]), Math.abs(m[1] - sig[1]), Math.abs(m[2] - sig[3])));
      const gap = nonsymmetricGap(a, grid, st.rho, { nev: 4 });
      expect(Math.abs(gap.im)).toBeLessThan(1e-6);
      gapErr.push(Math.abs(gap.re + muMin));
      if (n === 32) {
        // Time stepping reaches the steady state the Krylov solve found.
        const rho = new Float64Array(grid.size).fill(1 / (grid.size * grid.cellVolume));
        new CsrStepper(a, grid, { method: 'backward-euler', dt: 2 }).advance(rho, 0, 60);
        let d = 0;
        for (let i = 0; i < grid.size; i++) d += Math.abs(rho[i] - st.rho[i]) * grid.cellVolume;
        expect(d).toBeLessThan(1e-6);
      }
    }
    expect(covErr[1]).toBeLessThan(covErr[0]);
    expect(covErr[1]).toBeLessThan(0.02);
    expect(gapErr[1]).toBeLessThan(gapErr[0]);
    expect(gapErr[1]).toBeLessThan(0.03 * muMin);
  });
});
