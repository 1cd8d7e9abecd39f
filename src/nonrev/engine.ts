/**
 * The engine of `fpsolve run` on diffusion-matrix noise: the noise models (src/noise/), the
 * monotone scheme (solvers/anisotropic/) and the non-symmetric solvers (solvers/nonsym/), behind
 * the interface the runner is written against (types.ts NonrevEngine).
 */
import { assembleGenerator } from '../../solvers/anisotropic/assemble.js';
import { steadyState } from '../../solvers/nonsym/steady.js';
import { SolverFailure } from '../../solvers/base/failures.js';
import { InputError, NumericalFault } from '../errors.js';
import { buildDiffusion } from '../noise/index.js';
import { bandedSteadyState, bandedStepper, bandwidth, BANDED_MAX_WORK } from './banded.js';
import type { NonrevEngine, SteadyStateLike } from './types.js';

/** n·w² below which the steady state is solved directly (about a second: 128² with the 3 axis-and-diagonal offsets, 64×128 with knight offsets). */
const DIRECT_WORK = 1e9;

export function defaultEngine(): NonrevEngine {
  return {
    buildDiffusion: (loaded, grid) => buildDiffusion(loaded, grid),
    assemble: (grid, field, gradF) => assembleGenerator(grid, field, gradF),
    steadyState: (a, grid, opts): SteadyStateLike => {
      // Where the band is cheap the direct solve is exact and positive in every cell (the Krylov
      // solve leaves far-tail cells at round-off, clipped to 0, which the distances then cannot divide by).
      if (a.rows * bandwidth(a) ** 2 <= DIRECT_WORK) return bandedSteadyState(a, grid.cellVolume);
      let why: string;
      try {
        const s = steadyState(a, grid, { tol: opts.tolerance });
        if (s.converged) return { rho: s.rho, residual: s.residual, iterations: s.iterations, method: s.method, ...(s.clipped > 0 ? { clipped: s.clipped } : {}) };
        why = `${s.method} stopped at residual ${s.residual.toExponential(2)} after ${s.iterations} iterations`;
      } catch (e) {
        if (!(e instanceof SolverFailure)) throw e;
        why = e.message;
      }
      // The direct solve needs no convergence: where the band is small enough it is the fallback.
      if (a.rows * bandwidth(a) ** 2 <= BANDED_MAX_WORK) {
        const b = bandedSteadyState(a, grid.cellVolume);
        return { ...b, method: `${b.method}; the Krylov solve did not converge (${why})` };
      }
      throw new NumericalFault(`steady state: not converged to ${opts.tolerance} (${why}), and the grid is too large for the direct solve`, 'iteration-limit');
    },
    // Implicit steps by the direct banded factorization (the Krylov stepper of solvers/nonsym/ is not in this build).
    stepper: (a, _grid, opts) => bandedStepper(a, opts),
    gap: () => {
      throw new InputError('the non-symmetric eigen-solver (solvers/nonsym/) is not in this build');
    },
  };
}
