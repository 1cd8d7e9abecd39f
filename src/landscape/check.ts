/**
 * Landscapes whose scale float64 cannot carry. The scheme only ever forms differences of ψ and
 * face rates c = D/h² · B(Δψ), so f itself may span many decades; what breaks is
 * - a cell value of f (or f + ε) below the normal float64 range (|v| < 2.2·10⁻³⁰⁸): subnormals keep
 *   fewer than 53 bits, so π = f^−α and D = (ησ/2)(f + ε) lose their precision silently (and the
 *   spectral gap of such a generator is a sea of round-off);
 * - an additive D below the normal range, or ψ = f/D that overflows;
 * - rates (the largest out-flow rate Σc of a cell) outside [1e-150, 1e150]: their squares enter
 *   the norms and dot products of the implicit solvers and the eigen-solver, and would under- or
 *   overflow; multiplicative noise ties the time scale to f's scale (D ∝ f), so f = 10⁻³⁰⁰·g means
 *   dynamics 10³⁰⁰ times slower than g's, and f = 10³⁰⁰·g steps that underflow.
 * Each is an InputError on `landscape` (or `noise.D`) at set-up, before any time stepping.
 */
import type { Problem } from '../../solvers/problem.js';
import type { FvOperator } from '../../solvers/operator.js';
import { InputError } from '../errors.js';

/** Smallest positive normal float64 (Number.MIN_VALUE is the smallest subnormal). */
export const MIN_NORMAL = 2 ** -1022;
/** Allowed range of the largest cell out-flow rate 1/explicitLimit (units 1/time). */
export const MIN_RATE = 1e-150;
export const MAX_RATE = 1e150;

const at = (problem: Problem, i: number): string => `near x = (${problem.grid.centre(i).map((v) => +v.toPrecision(6)).join(', ')})`;

/** Throws an InputError when the discretized landscape is outside what float64 represents faithfully. */
export function checkLandscapeScale(problem: Problem, op: Pick<FvOperator, 'explicitLimit'>, file?: string): void {
  const noise = problem.noise;
  if (noise.kind === 'additive' && !(noise.D >= MIN_NORMAL)) {
    throw new InputError(`D = ${noise.D} is below the normal float64 range: allowed D ≥ 2.2e-308`, { file, field: 'noise.D' });
  }
  const eps = noise.kind === 'multiplicative' ? noise.eps : 0;
  const f = problem.f;
  for (let i = 0; i < f.length; i++) {
    const v = f[i]!;
    const shifted = v + eps;
    if ((v !== 0 && Math.abs(v) < MIN_NORMAL) || (noise.kind === 'multiplicative' && shifted !== 0 && shifted < MIN_NORMAL)) {
      throw new InputError(
        `the cell average of f is ${v.toExponential(3)} ${at(problem, i)}, below the normal float64 range: cell values must be 0 or of magnitude ≥ 2.2e-308 (rescale f, or add a floor noise.eps)`,
        { file, field: 'landscape' },
      );
    }
    if (!Number.isFinite(problem.psi[i]!)) {
      throw new InputError(`ψ = −ln π overflows ${at(problem, i)} (f = ${v.toExponential(3)}): allowed: |f|/D within float64, e.g. a larger noise.D or a smaller f`, { file, field: 'landscape' });
    }
  }
  const rate = 1 / op.explicitLimit();
  if (!(rate >= MIN_RATE && rate <= MAX_RATE)) {
    const what = noise.kind === 'multiplicative' ? 'D = (ησ/2)(f + ε) over h²' : 'D over h² times the drift';
    throw new InputError(
      `the largest flux rate of the scheme (${what}) is ${rate.toExponential(3)} per unit time, outside the range [${MIN_RATE}, ${MAX_RATE}] that float64 solvers can square: ${noise.kind === 'additive' ? 'rescale f and noise.D' : 'rescale f (with multiplicative noise, scaling f by s scales time by 1/s)'}`,
      { file, field: 'landscape' },
    );
  }
}
