import type { FvOperator } from '../operator.js';
import type { Preconditioner } from '../linear.js';
import type { MultigridPreconditioner } from '../multigrid.js';
import { tridiagonalGapSteps } from './bidiagonal.js';
import { shiftInvertSteps, type FinalCheck } from './shift-invert.js';
import { runAsync, runSync, type Steps } from './steps.js';

export { symmetricEigen, solveDense, type DenseEigen } from '../dense.js';
export { DirichletForm } from './dirichlet.js';
export { SingularPcg } from './pcg.js';
export { tridiagonalGap, tridiagonalGapSteps, type TridiagonalGap } from './bidiagonal.js';
export {
  shiftInvertModes,
  shiftInvertSteps,
  startBlock,
  parityComponent,
  ritzErrorBounds,
  finalCheck,
  type CheckGuards,
  type SubspaceOptions,
  type SubspaceResult,
  type FinalCheck,
  type WorkCounts,
} from './shift-invert.js';
export { EigenInterrupted, runAsync, runSync, type Steps } from './steps.js';

/** The k smallest nonzero eigenvalues of the discrete generator (−S, i.e. K v = λ M v). */
export interface GeneratorModes {
  values: number[];
  vectors: Float64Array[];
  /** ‖(−S)v − λv‖ with ‖v‖ = 1, the symmetric form of ‖Kv − λMv‖/‖Mv‖ (M-weighted). */
  residuals: number[];
  /** Bound on |computed − exact| of each value as an eigenvalue of the discrete operator (absolute). */
  errorBounds: number[];
  method: string;
  iterations: number;
  innerIterations: number;
  converged: boolean;
  /** errorBounds[0] / values[0]. */
  relativeAccuracy: number;
  /** n-D: the final check for missed modes (null in 1-D, where Sturm counts make it unnecessary). */
  check: FinalCheck | null;
}

export interface ModesOptions {
  modes: number;
  tol?: number;
  preconditioner?: Preconditioner;
  /** Use the n-D solver even in 1-D (for cross-checks). */
  forceIterative?: boolean;
  maxOuter?: number;
  /** n-D: extra start vectors for the block (SubspaceOptions.startVectors, e.g. √π times basin indicators). */
  startVectors?: readonly Float64Array[];
  /** n-D: SubspaceOptions.threads. */
  threads?: number;
  /** n-D: a multigrid hierarchy of this operator to take over (SubspaceOptions.multigrid). */
  multigrid?: MultigridPreconditioner;
}

/** 1-D: bisection on the bidiagonal factor (exact to high relative accuracy); n-D: shift-invert subspace iteration. */
export function* generatorModesSteps(op: FvOperator, o: ModesOptions): Steps<GeneratorModes> {
  if (op.grid.dim === 1 && !o.forceIterative) {
    const r = yield* tridiagonalGapSteps(op, o.modes);
    return {
      values: r.values,
      vectors: r.vectors,
      residuals: r.residuals,
      errorBounds: r.values.map((v) => v * r.relativeAccuracy),
      method:
        'bisection with Sturm counts on the Golub–Kahan form of the bidiagonal factor G (−S = GᵀG), high relative accuracy (Demmel–Kahan); the counts make λ₁ the lowest nonzero eigenvalue by construction',
      iterations: r.iterations,
      innerIterations: 0,
      converged: r.converged,
      relativeAccuracy: r.relativeAccuracy,
      check: null,
    };
  }
  const r = yield* shiftInvertSteps(op, {
    modes: o.modes,
    tol: o.tol,
    preconditioner: o.preconditioner,
    maxOuter: o.maxOuter,
    startVectors: o.startVectors,
    threads: o.threads,
    multigrid: o.multigrid,
  });
  const c = r.check;
  const checkText = c
    ? `; final check: inverse iteration from a random vector on the complement of the converged modes (Rayleigh–Ritz over its iterates and the block's guard vectors) reached Rayleigh quotient ${c.rayleigh.toPrecision(6)} ≥ λ${o.modes} in ${c.solves} solves`
    : '';
  return {
    values: r.values,
    vectors: r.vectors,
    residuals: r.residuals,
    errorBounds: r.errorBounds,
    method: `block shift-invert subspace iteration (${r.blockSize} start vectors spanning all ${2 ** op.grid.dim} parity classes plus seeded random parts${r.startVectors > 0 ? `, plus ${r.startVectors} given start vectors` : ''}) with Rayleigh–Ritz on the Dirichlet form (−S = GᵀG), ${r.preconditioner} on the deflated singular system (${r.solves} solves)${checkText}`,
    iterations: r.iterations,
    innerIterations: r.innerIterations,
    converged: r.converged,
    relativeAccuracy: r.relativeAccuracy,
    check: c,
  };
}

export function generatorModes(op: FvOperator, o: ModesOptions): GeneratorModes {
  return runSync(generatorModesSteps(op, o));
}

/** generatorModes returning to the event loop at count-based checkpoints; throws EigenInterrupted once `signal` is aborted. */
export function generatorModesAsync(op: FvOperator, o: ModesOptions, signal?: AbortSignal): Promise<GeneratorModes> {
  return runAsync(generatorModesSteps(op, o), signal);
}
