import type { Csr } from '../sparse/csr.js';
import { csrMatVec } from '../sparse/csr.js';
import { bicgstab, gmres, type KrylovStats } from '../sparse/krylov.js';
import { csrNorm1 } from '../sparse/ops.js';
import { SolverFailure } from '../base/failures.js';
import type { Grid } from '../grid.js';
import { NonsymMultigrid, type NonsymMultigridOptions } from './multigrid.js';

/**
 * The steady state of a generator A on a grid (forward form: dρ/dt = Aρ in cell densities,
 * off-diagonals ≥ 0, columns summing to 0): Aρ = 0, Σ|K|ρ = 1, ρ ≥ 0.
 *
 * Method: A is solved as it is, singular, from an initial guess ρ₀ (uniform, or a caller's guess
 * such as the isotropic π): GMRES (or BiCGStab) on A x = 0 from x₀ = ρ₀, preconditioned by the
 * aggregation multigrid of A. Its iterates stay in ρ₀ + (range of the preconditioned Krylov space),
 * and for an irreducible chain the kernel (span π) meets the range of A ({Σx = 0}) only in 0, so
 * GMRES converges to an element of ρ₀ + ... with Aρ = 0 (Brown & Walker 1997); the result is then scaled
 * to Σ|K|ρ = 1. No equation is replaced, so the multigrid sees a generator on every level.
 *
 * The residual reported is ‖Aρ‖₁ / (‖A‖₁ ‖ρ‖₁): ρ is the exact kernel vector of A + E with
 * E = −(Aρ)·1ᵀ/‖ρ‖₁, whose columns still sum to 0 and ‖E‖₁/‖A‖₁ equals this residual. It is a
 * backward error; the forward error of ρ is at most about it times the chain's condition number
 * (of the order of ‖A‖₁ over the spectral gap), not bounded by the residual alone.
 *
 * Negative entries (round-off of an inexact solve; the exact kernel of an irreducible generator is
 * positive) are clipped to 0 and the mass restored; `clipped` says how much mass that moved.
 */
export interface SteadyStateOptions {
  /** Target for ‖Aρ‖₁/(‖A‖₁‖ρ‖₁) (default 1e-10). */
  tol?: number;
  /** Krylov iteration cap (default 500). */
  maxIter?: number;
  krylov?: 'gmres' | 'bicgstab';
  /** GMRES restart length (default 30). */
  restart?: number;
  multigrid?: Partial<NonsymMultigridOptions>;
  /** Initial guess (any positive density; it is normalised). */
  initial?: Float64Array;
  /** A multigrid already built for this A (its operator is set back to A; no adaptation). */
  preconditioner?: NonsymMultigrid;
  /**
   * Solve first to ADAPT_TOL with the given hierarchy, then rebuild it with that solution as the
   * prolongation weights (default: true unless a preconditioner or a coarseOperator is given).
   */
  adapt?: boolean;
}

export interface SteadyState {
  rho: Float64Array;
  /** ‖Aρ‖₁ / (‖A‖₁ ‖ρ‖₁) of the returned (clipped, normalised) ρ. */
  residual: number;
  iterations: number;
  method: string;
  converged: boolean;
  /** Mass of the clipped negative entries, relative to the total (0 when none were negative). */
  clipped: number;
  /** The most negative entry before clipping, relative to max ρ (0 when none). */
  mostNegative: number;
  multigrid: NonsymMultigrid;
  krylov: KrylovStats[];
}

/** Accuracy of the first, shape-finding pass when the hierarchy is adapted. */
export const ADAPT_TOL = 1e-5;

function relResidual(a: Csr, rho: Float64Array, norm: number, work: Float64Array): number {
  csrMatVec(a, rho, work);
  let r = 0;
  let m = 0;
  for (let i = 0; i < rho.length; i++) {
    r += Math.abs(work[i]);
    m += Math.abs(rho[i]);
  }
  return norm > 0 && m > 0 ? r / (norm * m) : r;
}

export function steadyState(a: Csr, grid: Grid, opts: SteadyStateOptions = {}): SteadyState {
  const n = grid.size;
  if (a.rows !== n || a.cols !== n) throw new RangeError(`steadyState: a ${a.rows}×${a.cols} matrix on a grid of ${n} cells`);
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 500;
  const norm = csrNorm1(a);
  const x = new Float64Array(n);
  if (opts.initial) {
    if (opts.initial.length !== n) throw new RangeError(`steadyState: initial guess of length ${opts.initial.length} for ${n} cells`);
    let s = 0;
    for (let i = 0; i < n; i++) s += opts.initial[i];
    if (!(s > 0) || !Number.isFinite(s)) throw new RangeError('steadyState: the initial guess must have a positive finite sum');
    for (let i = 0; i < n; i++) x[i] = opts.initial[i] / s;
  } else x.fill(1 / n);
  // Re-discretised coarse levels already follow π's variation (the coarse scheme is fitted to it);
  // weights would switch them off (they are Galerkin-only), so no adaptation by default there.
  const adapt = opts.adapt ?? (!opts.preconditioner && !opts.multigrid?.coarseOperator);
  const build = (weights?: Float64Array): NonsymMultigrid => new NonsymMultigrid(a, grid, { ...opts.multigrid, ...(weights ? { weights } : {}) });
  let mg = opts.preconditioner ?? build(opts.initial ? x : undefined);
  mg.setOperator(0, 1);
  const zero = new Float64Array(n);
  const work = new Float64Array(n);
  const runs: KrylovStats[] = [];
  let iterations = 0;
  const krylovName = `${opts.krylov ?? 'gmres'}${opts.krylov === 'bicgstab' ? '' : `(${opts.restart ?? 30})`}`;
  let res = relResidual(a, x, norm, work);
  let adapted = false;
  for (let pass = 0; pass < 6 && res > tol && iterations < maxIter; pass++) {
    // The first pass with a piecewise-constant hierarchy only has to find the shape of ρ.
    const passTol = adapt && !adapted ? Math.max(tol, ADAPT_TOL) : tol;
    // GMRES sees ‖r‖₂; the target is on ‖r‖₁. Their ratio is taken from the current residual
    // (recomputed each pass), which tracks where the residual lives better than the worst case √n.
    let s1 = 0;
    let r1 = 0;
    let r2 = 0;
    for (let i = 0; i < n; i++) {
      s1 += Math.abs(x[i]);
      r1 += Math.abs(work[i]);
      r2 += work[i] * work[i];
    }
    const ratio = r2 > 0 ? r1 / Math.sqrt(r2) : Math.sqrt(n);
    const atol = (passTol * norm * s1) / (2 * ratio);
    const kopts = { tol: 0, atol, maxIter: maxIter - iterations, precond: mg.apply, restart: opts.restart ?? 30 };
    const st = opts.krylov === 'bicgstab' ? bicgstab(mg.operator, zero, x, kopts) : gmres(mg.operator, zero, x, kopts);
    runs.push(st);
    iterations += st.iterations;
    res = relResidual(a, x, norm, work);
    if (adapt && !adapted && res <= passTol) {
      mg = build(x);
      adapted = true;
    }
    if (st.breakdown !== undefined && st.iterations === 0) break;
  }
  const method = `${krylovName} + ${mg.describe()}${adapted ? ', rebuilt with the first solution as weights' : ''}`;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i];
  if (!Number.isFinite(sum)) {
    throw new SolverFailure('non-finite', `steady state: the Krylov solve gave a non-finite density (${method}, ${iterations} iterations)`, { solver: method, iterations });
  }
  // A kernel vector of either sign is as good as the other.
  if (sum < 0) {
    for (let i = 0; i < n; i++) x[i] = -x[i];
    sum = -sum;
  }
  let max = 0;
  let neg = 0;
  let mostNeg = 0;
  for (let i = 0; i < n; i++) {
    if (x[i] > max) max = x[i];
    if (x[i] < 0) {
      neg -= x[i];
      mostNeg = Math.max(mostNeg, -x[i]);
      x[i] = 0;
    }
  }
  const total = sum + neg;
  if (!(total > 0)) {
    throw new SolverFailure('breakdown', `steady state: the Krylov solve ended with no positive mass (${method}, ${iterations} iterations, residual ${res.toExponential(3)})`, { solver: method, iterations, residual: res });
  }
  const scale = 1 / (total * grid.cellVolume);
  for (let i = 0; i < n; i++) x[i] *= scale;
  const residual = relResidual(a, x, norm, work);
  return {
    rho: x,
    residual,
    iterations,
    method,
    converged: residual <= tol,
    clipped: total > 0 ? neg / total : 0,
    mostNegative: max > 0 ? mostNeg / max : 0,
    multigrid: mg,
    krylov: runs,
  };
}
