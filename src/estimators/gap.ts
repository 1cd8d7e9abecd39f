import { Problem, isFault } from '../../solvers/problem.js';
import { FvOperator } from '../../solvers/operator.js';
import type { Preconditioner } from '../../solvers/linear.js';
import { generatorModes, type GeneratorModes } from '../../solvers/eigen/index.js';
import type { PointFunction } from '../../solvers/quadrature.js';
import type { Regime } from '../diagnostics/regime.js';
import { NumericalFault } from '../errors.js';
import type { GapReport } from '../report/types.js';

export interface GapOptions {
  /** Number of modes λ₁..λ_k (default 1). */
  modes?: number;
  /** Also solve on the grid twice as fine and Richardson-extrapolate λ₁. */
  refine?: boolean;
  /** Preconditioner for the n-D solves (default Jacobi); built per operator. */
  preconditioner?: (op: FvOperator) => Preconditioner;
}

export interface GapInput {
  op: FvOperator;
  regime: Regime;
  /** The landscape, needed to rebuild the problem on the refined grid. */
  landscape: PointFunction;
}

export interface GapResult {
  report: GapReport;
  modes: GeneratorModes;
}

function solve(op: FvOperator, k: number, o: GapOptions): GeneratorModes {
  const r = generatorModes(op, { modes: k, preconditioner: o.preconditioner?.(op) });
  if (r.values.some((v) => !Number.isFinite(v))) throw new NumericalFault(`the eigen-solver returned ${r.values.join(', ')} for the spectral gap (${r.method})`);
  return r;
}

/**
 * λ₁..λ_k of the discrete generator, and with `refine` the Richardson extrapolation of λ₁ over
 * h and h/2 (second-order scheme: λ_ext = (4λ_{h/2} − λ_h)/3, error estimate |λ_ext − λ_{h/2}|).
 */
export function computeGap(input: GapInput, o: GapOptions = {}): GapResult {
  const { op, regime } = input;
  const k = o.modes ?? 1;
  const maxModes = op.grid.size - 2;
  if (!(Number.isInteger(k) && k >= 1 && k <= Math.min(50, maxModes))) throw new RangeError(`modes must be an integer from 1 to ${Math.min(50, maxModes)}`);
  const modes = solve(op, k, o);
  const notes: string[] = [];
  // 'undecided' is read like 'collapsing': π may not exist, so the gap is a grid value.
  const collapsing = regime.regime !== 'converging';
  if (collapsing) {
    notes.push(
      `regime "${regime.regime}": π is ${regime.regime === 'undecided' ? 'possibly ' : ''}not integrable, so this is the gap of the grid's π (a grid value that changes with h), not a Poincaré constant of the SDE; the density collapses onto the minimizers instead`,
    );
  }
  if (!modes.converged) notes.push(`the eigen-solver stopped before reaching its tolerance (residuals ${modes.residuals.map((r) => r.toExponential(2)).join(', ')})`);
  let extrapolated: GapReport['extrapolated'] = null;
  if (o.refine) {
    const fineGrid = op.grid.refined(2);
    const built = Problem.build(fineGrid, input.landscape, op.problem.noise);
    if (isFault(built)) throw new NumericalFault(`the landscape fails on the refined grid ${fineGrid.n.join('×')} (${built.reason} at ${built.point.join(', ')})`);
    const fine = solve(new FvOperator(built), 1, o).values[0];
    const coarse = modes.values[0];
    const value = (4 * fine - coarse) / 3;
    extrapolated = { value, coarse, fine, errorEstimate: Math.abs(value - fine), fineCells: fineGrid.n.slice() };
    if (collapsing) notes.push('the extrapolation of a grid value has no continuum limit in the collapsing regime; it is reported only to show the drift with h');
  }
  return {
    report: {
      value: modes.values[0],
      modes: modes.values,
      residuals: modes.residuals,
      method: modes.method,
      iterations: modes.iterations,
      innerIterations: modes.innerIterations,
      relativeAccuracy: modes.relativeAccuracy,
      extrapolated,
      label: collapsing ? 'grid value' : 'spectral gap',
      rateRatio: null,
      notes,
    },
    modes,
  };
}
