/**
 * The engine of `fpsolve run` on diffusion-matrix noise: the noise models (src/noise/), the
 * monotone scheme (solvers/anisotropic/) and the non-symmetric solvers (solvers/nonsym/), behind
 * the interface the runner is written against (types.ts NonrevEngine).
 */
import { assembleGenerator } from '../../solvers/anisotropic/assemble.js';
import { InputError } from '../errors.js';
import { buildDiffusion } from '../noise/index.js';
import type { NonrevEngine } from './types.js';

const missing = (what: string): never => {
  throw new InputError(`diffusion-matrix noise needs ${what}, which this build does not have yet`);
};

export function defaultEngine(): NonrevEngine {
  return {
    buildDiffusion: (loaded, grid) => buildDiffusion(loaded, grid),
    assemble: (grid, field, gradF) => assembleGenerator(grid, field, gradF),
    steadyState: () => missing('the non-symmetric steady-state solver (solvers/nonsym/)'),
    stepper: () => missing('the implicit stepper (solvers/nonsym/)'),
    gap: () => missing('the non-symmetric eigen-solver (solvers/nonsym/)'),
  };
}
