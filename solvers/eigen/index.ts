import type { FvOperator } from '../operator.js';
import type { Preconditioner } from '../linear.js';
import { tridiagonalGap } from './bidiagonal.js';
import { shiftInvertModes } from './shift-invert.js';

export { symmetricEigen, solveDense, type DenseEigen } from './dense.js';
export { DirichletForm } from './dirichlet.js';
export { SingularPcg } from './pcg.js';
export { tridiagonalGap, type TridiagonalGap } from './bidiagonal.js';
export { shiftInvertModes, type SubspaceOptions, type SubspaceResult } from './shift-invert.js';

/** The k smallest nonzero eigenvalues of the discrete generator (−S, i.e. K v = λ M v). */
export interface GeneratorModes {
  values: number[];
  vectors: Float64Array[];
  /** ‖(−S)v − λv‖ with ‖v‖ = 1, the symmetric form of ‖Kv − λMv‖/‖Mv‖ (M-weighted). */
  residuals: number[];
  method: string;
  iterations: number;
  innerIterations: number;
  converged: boolean;
  relativeAccuracy: number;
}

export interface ModesOptions {
  modes: number;
  tol?: number;
  preconditioner?: Preconditioner;
  /** Use the n-D solver even in 1-D (for cross-checks). */
  forceIterative?: boolean;
}

/** 1-D: bisection on the bidiagonal factor (exact to high relative accuracy); n-D: shift-invert subspace iteration. */
export function generatorModes(op: FvOperator, o: ModesOptions): GeneratorModes {
  if (op.grid.dim === 1 && !o.forceIterative) {
    const r = tridiagonalGap(op, o.modes);
    return {
      values: r.values,
      vectors: r.vectors,
      residuals: r.residuals,
      method: 'bisection with Sturm counts on the Golub–Kahan form of the bidiagonal factor G (−S = GᵀG), high relative accuracy (Demmel–Kahan)',
      iterations: r.iterations,
      innerIterations: 0,
      converged: true,
      relativeAccuracy: r.relativeAccuracy,
    };
  }
  const r = shiftInvertModes(op, { modes: o.modes, tol: o.tol, preconditioner: o.preconditioner });
  return {
    values: r.values,
    vectors: r.vectors,
    residuals: r.residuals,
    method: `shift-invert subspace iteration with Rayleigh–Ritz on the Dirichlet form (−S = GᵀG), ${r.preconditioner} on the deflated singular system (${r.solves} solves)`,
    iterations: r.iterations,
    innerIterations: r.innerIterations,
    converged: r.converged,
    relativeAccuracy: r.relativeAccuracy,
  };
}
