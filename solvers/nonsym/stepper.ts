import type { Csr } from '../sparse/csr.js';
import { csrMatVec } from '../sparse/csr.js';
import { gmres } from '../sparse/krylov.js';
import { SolverFailure } from '../base/failures.js';
import type { Grid } from '../grid.js';
import { NonsymMultigrid, type NonsymMultigridOptions } from './multigrid.js';

/**
 * Implicit time steps of dρ/dt = Aρ for a generator A stored as CSR (non-symmetric: a diffusion
 * matrix), each linear solve (I − c·A)x = b by flexible GMRES preconditioned by the aggregation
 * multigrid of A (built once; a new c only rewrites values, solvers/nonsym/multigrid.ts).
 *
 * - Backward Euler, fixed step: (I − ΔtA)⁻¹ ≥ 0 because I − ΔtA is an M-matrix (−A has
 *   off-diagonals ≤ 0 and is column diagonally dominant), and 1ᵀ(I − ΔtA) = 1ᵀ: positive and
 *   mass-conserving for any Δt. The inexact solve can leave round-off negatives; they are clipped.
 * - TR-BDF2 (Bank et al. 1985), adaptive, the same scheme and error estimate as the symmetric
 *   solvers/backend/implicit.ts (third-order quadrature over the stage values, filtered through
 *   (I − dΔtA)). Its trapezoidal stage is not positivity preserving: a step whose result is negative
 *   below −tolerance·max ρ is rejected like an inaccurate one (a smaller step is positive, the limit
 *   being the backward-Euler-like BDF2 damping); smaller negatives are clipped to 0 and the mass
 *   restored, and `clipped` sums the mass so moved (relative), so ρ ≥ 0 always holds on return.
 */
export interface CsrStepperOptions {
  method: 'backward-euler' | 'trbdf2';
  /** Backward Euler: the step (required). TR-BDF2: the first step (default from ‖Aρ‖). */
  dt?: number;
  /** TR-BDF2: relative L1 local error per step (default 1e-4). */
  tolerance?: number;
  /** TR-BDF2: largest step (default ∞). */
  dtMax?: number;
  /** Relative residual ‖b − (I − cA)x‖₂/‖b‖₂ of each linear solve (default 1e-10). */
  solveTol?: number;
  /** Iteration cap per linear solve (default 200). */
  maxIter?: number;
  multigrid?: Partial<NonsymMultigridOptions>;
}

export interface CsrStepStats {
  steps: number;
  rejected: number;
  solves: number;
  /** GMRES iterations over all solves. */
  iterations: number;
  /** Largest relative residual of a (non-filter) solve. */
  maxSolveResidual: number;
  /** Mass moved by clipping negative entries, relative to the total, summed over steps. */
  clipped: number;
  /** The last accepted step. */
  dtLast: number;
}

const GAMMA = 2 - Math.SQRT2;
const D_TRBDF2 = GAMMA / 2;
const B2 = 1 / (6 * GAMMA * (1 - GAMMA));
const B3 = 0.5 - 1 / (6 * (1 - GAMMA));
const B1 = 1 - B2 - B3;
const A_BDF = 1 / (GAMMA * (2 - GAMMA));
const C_BDF = ((1 - GAMMA) * (1 - GAMMA)) / (GAMMA * (2 - GAMMA));
/** The error filter only has to tame the estimate's stiff components (as in implicit.ts). */
const FILTER_TOL = 0.1;

export class CsrStepper {
  readonly a: Csr;
  readonly grid: Grid;
  readonly opts: CsrStepperOptions;
  readonly mg: NonsymMultigrid;
  private shift = NaN;
  private dtNext: number | undefined;
  private readonly w: Record<'f0' | 'fs' | 'f1' | 'ys' | 'y1' | 'rhs' | 'est', Float64Array>;

  constructor(a: Csr, grid: Grid, opts: CsrStepperOptions) {
    if (a.rows !== grid.size || a.cols !== grid.size) throw new RangeError(`CsrStepper: a ${a.rows}×${a.cols} matrix on a grid of ${grid.size} cells`);
    if (opts.method === 'backward-euler' && !(opts.dt !== undefined && opts.dt > 0 && Number.isFinite(opts.dt))) {
      throw new RangeError(`CsrStepper: backward Euler needs a finite step dt > 0 (got ${opts.dt})`);
    }
    if (opts.tolerance !== undefined && !(opts.tolerance > 0 && opts.tolerance < 1)) throw new RangeError(`CsrStepper: tolerance must be in (0, 1) (got ${opts.tolerance})`);
    this.a = a;
    this.grid = grid;
    this.opts = opts;
    this.mg = new NonsymMultigrid(a, grid, opts.multigrid);
    this.dtNext = opts.method === 'trbdf2' ? opts.dt : undefined;
    const n = grid.size;
    const mk = (): Float64Array => new Float64Array(n);
    this.w = { f0: mk(), fs: mk(), f1: mk(), ys: mk(), y1: mk(), rhs: mk(), est: mk() };
  }

  /** x ← (I − cA)⁻¹ b, from the guess in x. */
  private solve(c: number, b: Float64Array, x: Float64Array, stats: CsrStepStats, tol?: number): void {
    if (c !== this.shift) {
      this.mg.setOperator(1, -c);
      this.shift = c;
    }
    const st = gmres(this.mg.operator, b, x, { tol: tol ?? this.opts.solveTol ?? 1e-10, maxIter: this.opts.maxIter ?? 200, precond: this.mg.apply, restart: 30 });
    stats.solves++;
    stats.iterations += st.iterations;
    if (!st.converged) {
      throw new SolverFailure(st.breakdown === 'non-finite' ? 'non-finite' : st.breakdown ? 'breakdown' : 'iteration-limit', `implicit step: GMRES did not reach ${tol ?? this.opts.solveTol ?? 1e-10} on (I − ${c.toPrecision(4)}·A) (residual ${st.relativeResidual.toExponential(3)} after ${st.iterations} iterations${st.breakdown ? `, ${st.breakdown} breakdown` : ''})`, { solver: 'gmres + multigrid', iterations: st.iterations, residual: st.relativeResidual });
    }
    if (tol === undefined) stats.maxSolveResidual = Math.max(stats.maxSolveResidual, st.relativeResidual);
  }

  /** Clips negatives, rescales to `mass`, returns the clipped mass relative to the total. */
  private static restore(x: Float64Array, mass: number): number {
    let neg = 0;
    let sum = 0;
    for (let i = 0; i < x.length; i++) {
      if (x[i] < 0) {
        neg -= x[i];
        x[i] = 0;
      }
      sum += x[i];
    }
    if (sum > 0) {
      const s = mass / sum;
      for (let i = 0; i < x.length; i++) x[i] *= s;
    }
    return mass > 0 ? neg / mass : 0;
  }

  /** Advances rho (in place) from t0 to t1. */
  advance(rho: Float64Array, t0: number, t1: number): CsrStepStats {
    if (rho.length !== this.grid.size) throw new RangeError(`CsrStepper.advance: ρ has ${rho.length} entries for ${this.grid.size} cells`);
    if (!(t1 >= t0)) throw new RangeError(`CsrStepper.advance: t1 = ${t1} before t0 = ${t0}`);
    const stats: CsrStepStats = { steps: 0, rejected: 0, solves: 0, iterations: 0, maxSolveResidual: 0, clipped: 0, dtLast: 0 };
    if (t1 === t0) return stats;
    let mass = 0;
    for (let i = 0; i < rho.length; i++) mass += rho[i];
    if (this.opts.method === 'backward-euler') {
      const dt0 = this.opts.dt!;
      const m = Math.max(1, Math.ceil((t1 - t0) / dt0 - 1e-9));
      const dt = (t1 - t0) / m;
      const b = this.w.rhs;
      for (let k = 0; k < m; k++) {
        b.set(rho);
        this.solve(dt, b, rho, stats);
        stats.clipped += CsrStepper.restore(rho, mass);
        stats.steps++;
      }
      stats.dtLast = dt;
      return stats;
    }
    return this.trbdf2(rho, t0, t1, mass, stats);
  }

  private attempt(y: Float64Array, dt: number, stats: CsrStepStats): number {
    const { f0, fs, f1, ys, y1, rhs, est } = this.w;
    const n = y.length;
    const th = D_TRBDF2 * dt;
    for (let i = 0; i < n; i++) rhs[i] = y[i] + th * f0[i];
    ys.set(y);
    this.solve(th, rhs, ys, stats);
    for (let i = 0; i < n; i++) rhs[i] = A_BDF * ys[i] - C_BDF * y[i];
    y1.set(ys);
    this.solve(th, rhs, y1, stats);
    csrMatVec(this.a, ys, fs);
    csrMatVec(this.a, y1, f1);
    for (let i = 0; i < n; i++) rhs[i] = y[i] + dt * (B1 * f0[i] + B2 * fs[i] + B3 * f1[i]) - y1[i];
    est.fill(0);
    this.solve(th, rhs, est, stats, FILTER_TOL);
    const tol = this.opts.tolerance ?? 1e-4;
    let e1 = 0;
    let y1n = 0;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      e1 += Math.abs(est[i]);
      y1n += Math.abs(y1[i]);
      if (y1[i] < lo) lo = y1[i];
      if (y1[i] > hi) hi = y1[i];
    }
    let err = e1 / (tol * Math.max(y1n, 1e-300));
    if (lo < 0 && hi > 0 && -lo / hi > tol) err = Math.max(err, (2 * -lo) / hi / tol);
    return Number.isFinite(err) ? err : Infinity;
  }

  private trbdf2(rho: Float64Array, t0: number, t1: number, mass: number, stats: CsrStepStats): CsrStepStats {
    const tol = this.opts.tolerance ?? 1e-4;
    const dtMax = this.opts.dtMax ?? Infinity;
    const { f0 } = this.w;
    csrMatVec(this.a, rho, f0);
    let dt: number | undefined = this.dtNext;
    if (dt === undefined) {
      let x1 = 0;
      let f1n = 0;
      for (let i = 0; i < rho.length; i++) {
        x1 += Math.abs(rho[i]);
        f1n += Math.abs(f0[i]);
      }
      dt = Math.min(dtMax, 0.5 * Math.cbrt(tol) * (x1 / Math.max(f1n, 1e-300)), t1 - t0);
      if (!(dt > 0)) dt = t1 - t0;
    }
    let step: number = dt;
    let t = t0;
    let rejectsInRow = 0;
    while (t < t1) {
      dt = step;
      const remaining = t1 - t;
      const landing = dt >= remaining * (1 - 1e-12) || dt > 0.8 * remaining;
      const h = landing ? remaining : dt;
      const err = this.attempt(rho, h, stats);
      if (err <= 1) {
        rho.set(this.w.y1);
        stats.clipped += CsrStepper.restore(rho, mass);
        // A·y1 is the next attempt's A·y unless clipping changed y1.
        csrMatVec(this.a, rho, f0);
        t = landing ? t1 : t + h;
        stats.steps++;
        stats.dtLast = h;
        rejectsInRow = 0;
        const grow = err === 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * Math.pow(err, -1 / 3)));
        step = Math.min(dtMax, Math.max(dt, h) * grow);
      } else {
        stats.rejected++;
        if (++rejectsInRow > 60 || h < 1e-14 * Math.max(1, Math.abs(t))) {
          throw new SolverFailure('step-underflow', `TR-BDF2 (CSR): step size underflow at t = ${t} (dt = ${h.toExponential(3)}, error ratio ${err.toExponential(3)} at tolerance ${tol}, ${rejectsInRow} rejections in a row)`, { solver: 'trbdf2', step: stats.steps, time: t, dt: h, residual: err });
        }
        step = h * Math.max(0.1, Math.min(0.5, 0.9 * Math.pow(err, -1 / 3)));
      }
    }
    this.dtNext = step;
    return stats;
  }
}
