import { FvOperator } from '../../solvers/operator.js';
import type { Preconditioner } from '../../solvers/linear.js';
import type { MultigridPreconditioner } from '../../solvers/multigrid.js';
import { EigenInterrupted, runAsync, runSync, type GeneratorModes, type Steps } from '../../solvers/eigen/index.js';
import type { PointFunction } from '../../solvers/quadrature.js';
import type { Regime } from '../diagnostics/regime.js';
import { EXIT, FpsolveError } from '../errors.js';
import type { GapReport } from '../report/types.js';
import { refineSteps, solveModes, zeroOfF, type SolveOptions } from './gap-refine.js';
import { basinStartVectors } from './gap-start.js';

export interface GapOptions {
  /** Number of modes λ₁..λ_k (default 1). */
  modes?: number;
  /** Also solve on the grid twice as fine and Richardson-extrapolate λ₁, mode by mode (gap-refine.ts). */
  refine?: boolean;
  /** Preconditioner for the n-D solves (default: multigrid V-cycles, solvers/eigen/shift-invert.ts); built per operator. */
  preconditioner?: (op: FvOperator) => Preconditioner;
  /** Called after each work-counted checkpoint of the async solve (progress output only). */
  onCheckpoint?: (n: number) => void;
  /**
   * Start the n-D solver from the basins of attraction of f as well (gap-start.ts; default true).
   * Off only to compare with the parity block alone: the values agree, the solve takes longer.
   */
  basinStart?: boolean;
  /**
   * What a run already built for this grid (src/estimators/gap-reuse.ts): its basin labels (the
   * start vectors are made from them instead of labelling again) and its time steps' multigrid
   * hierarchy (taken over by the eigen-solve, which disposes it).
   */
  reuse?: GapReuse;
}

export interface GapReuse {
  labels?: { label: Int32Array; basins: readonly unknown[] };
  multigrid?: MultigridPreconditioner;
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

/**
 * A signal arrived while the gap was being computed. exitCode: 130 (SIGINT) or 143 (SIGTERM),
 * from the abort reason when it is one of those (as `fpsolve run` sets it), else 130.
 */
export class GapInterrupted extends FpsolveError {
  constructor(reason: unknown) {
    super('interrupted by a signal during the spectral-gap computation', reason === EXIT.terminated ? EXIT.terminated : EXIT.interrupted);
    this.name = 'GapInterrupted';
  }
}

/**
 * λ₁..λ_k of the discrete generator, and with `refine` the Richardson extrapolation over h and h/2
 * of the same mode (second-order scheme: λ_ext = (4λ_{h/2} − λ_h)/3, error estimate |λ_ext − λ_{h/2}|,
 * none near a zero of f where the scheme's λ₁ is not second order).
 */
export function computeGap(input: GapInput, o: GapOptions = {}): GapResult {
  return runSync(computeGapSteps(input, o));
}

/**
 * computeGap returning to the event loop at count-based checkpoints (every few CG iterations or
 * Sturm counts, never by the clock); throws GapInterrupted once `signal` is aborted.
 */
export async function computeGapAsync(input: GapInput, o: GapOptions = {}, signal?: AbortSignal): Promise<GapResult> {
  try {
    return await runAsync(computeGapSteps(input, o), signal, o.onCheckpoint);
  } catch (e) {
    if (e instanceof EigenInterrupted) throw new GapInterrupted(signal?.reason);
    throw e;
  }
}

function* computeGapSteps(input: GapInput, o: GapOptions): Steps<GapResult> {
  const { op, regime } = input;
  const k = o.modes ?? 1;
  const maxModes = op.grid.size - 2;
  if (!(Number.isInteger(k) && k >= 1 && k <= Math.min(50, maxModes))) throw new RangeError(`modes must be an integer from 1 to ${Math.min(50, maxModes)}`);
  // The basins of this grid with the regime's zero components as seeds, as the run labels them;
  // the refined grid's (gap-refine.ts) from steepest descent alone (the seeds' cells are this grid's).
  const mine = (on: FvOperator): boolean => on === op;
  const reuse: SolveOptions = o.reuse?.multigrid ? { multigrid: (on) => (mine(on) ? o.reuse?.multigrid : undefined) } : {};
  const so: GapOptions & SolveOptions =
    o.basinStart === false
      ? { ...o, ...reuse }
      : { ...o, ...reuse, startVectors: (on) => basinStartVectors(on, mine(on) ? regime : null, mine(on) ? o.reuse?.labels : undefined) };
  const modes = yield* solveModes(op, k, so);
  const notes: string[] = [];
  // 'undecided' is read like 'collapsing': π may not exist, so the gap is a grid value.
  const collapsing = regime.regime !== 'converging';
  if (collapsing) {
    notes.push(
      `regime "${regime.regime}": π is ${regime.regime === 'undecided' ? 'possibly ' : ''}not integrable, so this is the gap of the grid's π (a grid value that changes with h), not a Poincaré constant of the SDE; the density collapses onto the minimizers instead`,
    );
  }
  if (!modes.converged) {
    notes.push(
      `not converged: the eigen-solver stopped before reaching its tolerance (residuals ${modes.residuals.map((r) => r.toExponential(2)).join(', ')}); the only bound on λ₁'s error is its residual`,
    );
  }
  if (modes.check?.foundLower) notes.push('the final check found a mode below the converged ones; it was added and the iteration resumed');
  let extrapolated: GapReport['extrapolated'] = null;
  // A zero of f inside the box with multiplicative noise and no floor: π = f^−α is singular there and
  // the discrete λ₁ converges far slower than h² (docs/gap.md, oracles.md §4), so neither the grid
  // value nor a Richardson extrapolation is an accurate continuum gap.
  const zero = !collapsing ? zeroOfF(op, regime) : null;
  if (zero) notes.push(zero.note);
  if (o.refine) {
    const r = yield* refineSteps(input, modes, k, so, zero !== null);
    extrapolated = r.extrapolated;
    notes.push(...r.notes);
    if (collapsing) notes.push('the extrapolation of a grid value has no continuum limit in the collapsing regime; it is reported only to show the drift with h');
  }
  return {
    report: {
      value: modes.values[0],
      modes: modes.values,
      residuals: modes.residuals,
      errorBounds: modes.errorBounds,
      converged: modes.converged,
      method: modes.method,
      iterations: modes.iterations,
      innerIterations: modes.innerIterations,
      relativeAccuracy: modes.relativeAccuracy,
      extrapolated,
      label: collapsing || zero ? 'grid value' : 'spectral gap',
      rateRatio: null,
      notes,
    },
    modes,
  };
}
