/**
 * Reference implementations for tests only: the synchronous float64 CG (CgSolver), backward Euler
 * and TR-BDF2 that fpsolve shipped before the implicit integrators were written once against the
 * Backend (solvers/backend/implicit.ts, solvers/backend/pcg.ts), since updated to the same stopping
 * rules (CG relative to the right-hand side's deviation from π; a loose error-filter solve). They are an independent code path
 * (fused loops over Float64Array, no Backend), so agreement to the last bit on the CPU backend
 * checks that the rewrite kept the arithmetic.
 */
import type { FvOperator } from '../../solvers/operator.js';
import { TridiagonalSolver, type Preconditioner } from '../../solvers/linear.js';
import { newStats, record, substeps } from '../../solvers/integrators.js';
import { dot, max, min, norm1, restoreSum, sum } from '../../solvers/vec.js';
import type { Integrator } from './reference-integrators.js';

/** Solves (I − θA) x = b in the ρ-form, the one linear system every implicit step needs. */
export interface ShiftedSolver {
  /** x receives the solution; it is also the initial guess for iterative solvers. */
  solve(theta: number, b: Float64Array, x: Float64Array, tol?: number): void;
  readonly name: string;
  iterations: number;
  solves: number;
}

export interface CgOptions {
  /** Relative residual tolerance ‖r‖/‖b‖ in the symmetric form. */
  tol: number;
  maxIterations: number;
}

/** The former shiftedSolver(): Thomas in 1-D, else CG with the given preconditioner. */
export function referenceSolver(op: FvOperator, pre: Preconditioner, opts: CgOptions): ShiftedSolver {
  return op.grid.dim === 1 ? new TridiagonalSolver(op) : new CgSolver(op, pre, opts);
}

/**
 * Preconditioned CG on the symmetric form (I − θS) y = b/√π, x = √π y. The inexact solve would
 * leak mass through the residual's component along √π; since √π is an eigenvector of (I − θS)
 * with eigenvalue 1, adding that component back (y += ⟨√π, r⟩/‖√π‖² √π) restores Σx = Σb to
 * round-off and only shrinks the residual.
 */
export class CgSolver implements ShiftedSolver {
  readonly name: string;
  iterations = 0;
  solves = 0;
  private readonly op: FvOperator;
  private readonly pre: Preconditioner;
  private readonly opts: CgOptions;
  private readonly y: Float64Array;
  private readonly r: Float64Array;
  private readonly z: Float64Array;
  private readonly p: Float64Array;
  private readonly q: Float64Array;
  private readonly s2: number;

  constructor(op: FvOperator, pre: Preconditioner, opts: CgOptions) {
    this.op = op;
    this.pre = pre;
    this.opts = opts;
    this.name = `PCG (${pre.name})`;
    const n = op.grid.size;
    this.y = new Float64Array(n);
    this.r = new Float64Array(n);
    this.z = new Float64Array(n);
    this.p = new Float64Array(n);
    this.q = new Float64Array(n);
    this.s2 = dot(op.sqrtPi, op.sqrtPi);
  }

  /** q = (I − θS) v */
  private applyShifted(theta: number, v: Float64Array, q: Float64Array): void {
    this.op.applySymmetric(v, q);
    for (let i = 0; i < q.length; i++) q[i] = v[i] - theta * q[i];
  }

  solve(theta: number, b: Float64Array, x: Float64Array, tol: number = this.opts.tol): void {
    const s = this.op.sqrtPi;
    const n = b.length;
    const { y, r, z, p, q } = this;
    this.pre.setup(theta);
    // r = b/s − (I − θS) y0, with y0 = x/s (warm start from the current state)
    let bnorm2 = 0;
    for (let i = 0; i < n; i++) {
      const bi = b[i] / s[i];
      y[i] = x[i] / s[i];
      r[i] = bi;
      bnorm2 += bi * bi;
    }
    // The stop is relative to b's deviation from equilibrium: b/s minus its component along s.
    const c0 = -sum(b) / this.s2;
    for (let i = 0; i < n; i++) z[i] = r[i] + c0 * s[i];
    const deviation = Math.max(Math.sqrt(dot(z, z)), 1e-10 * Math.sqrt(bnorm2));
    this.applyShifted(theta, y, q);
    for (let i = 0; i < n; i++) r[i] -= q[i];
    const stop = tol * deviation;
    let rnorm = Math.sqrt(dot(r, r));
    let it = 0;
    if (rnorm > stop) {
      this.pre.apply(r, z);
      p.set(z);
      let rz = dot(r, z);
      while (it < this.opts.maxIterations) {
        this.applyShifted(theta, p, q);
        const alpha = rz / dot(p, q);
        for (let i = 0; i < n; i++) {
          y[i] += alpha * p[i];
          r[i] -= alpha * q[i];
        }
        it++;
        rnorm = Math.sqrt(dot(r, r));
        if (rnorm <= stop || !Number.isFinite(rnorm)) break;
        this.pre.apply(r, z);
        const rzNew = dot(r, z);
        const beta = rzNew / rz;
        rz = rzNew;
        for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
      }
    }
    // Restore exact mass with the true residual (the recursive one drifts).
    this.applyShifted(theta, y, q);
    let sr = 0;
    for (let i = 0; i < n; i++) sr += s[i] * (b[i] / s[i] - q[i]);
    const c = sr / this.s2;
    for (let i = 0; i < n; i++) x[i] = s[i] * (y[i] + c * s[i]);
    this.iterations += it;
    this.solves++;
    if (!(rnorm <= stop)) {
      throw new Error(`CG did not reach tolerance ${tol} in ${it} iterations`);
    }
  }
}

/** Backward Euler with a fixed step: unconditionally positive and mass-conserving (M-matrix). */
export class BackwardEuler implements Integrator {
  readonly name = 'backward-euler';
  readonly stats = newStats();
  readonly dt: number;
  readonly solver: ShiftedSolver;
  private readonly b: Float64Array;
  constructor(op: FvOperator, solver: ShiftedSolver, dt: number) {
    this.solver = solver;
    this.dt = dt;
    this.b = new Float64Array(op.grid.size);
  }
  advance(rho: Float64Array, t0: number, t1: number, pause?: () => boolean): number {
    const m = substeps(t0, t1, this.dt);
    const dt = (t1 - t0) / m;
    const total = sum(rho);
    for (let k = 0; k < m; k++) {
      this.b.set(rho);
      this.solver.solve(dt, this.b, rho);
      restoreSum(rho, total);
      record(this.stats, dt);
      if (k + 1 < m && pause?.()) return t0 + (k + 1) * dt;
    }
    return t1;
  }
  describe(): string {
    return `backward Euler, dt = ${this.dt.toPrecision(4)}, ${this.solver.name}`;
  }
}

const GAMMA = 2 - Math.SQRT2;
const D_TRBDF2 = GAMMA / 2; // = 1 − 1/√2: both stages share the matrix I − d·dt·A
/** Weights of the third-order quadrature on the nodes 0, γ, 1 used for the embedded error estimate. */
const B2 = 1 / (6 * GAMMA * (1 - GAMMA));
const B3 = 0.5 - 1 / (6 * (1 - GAMMA));
const B1 = 1 - B2 - B3;

export interface AdaptiveOptions {
  /** Relative L1 local error per step. */
  tolerance: number;
  /** First step; default chosen from ‖Aρ‖. */
  dt0?: number;
  /** Largest step (e.g. the report interval). */
  dtMax: number;
}

/**
 * TR-BDF2 (Bank et al. 1985) with adaptive steps: L-stable, second order, one matrix I − d·dt·A
 * for both stages. The local error is estimated against a third-order quadrature over the stage
 * values and filtered through the same solve (Shampine's trick, so stiff modes do not inflate it).
 * A step that makes ρ negative beyond the tolerance is rejected like an inaccurate one. Runs to
 * equilibrium take few steps because dt grows as the solution smooths.
 */
export class TrBdf2 implements Integrator {
  readonly name = 'trbdf2';
  readonly stats = newStats();
  readonly solver: ShiftedSolver;
  private readonly op: FvOperator;
  private readonly opts: AdaptiveOptions;
  private dtNext: number | undefined;
  private readonly f0: Float64Array;
  private readonly fs: Float64Array;
  private readonly f1: Float64Array;
  private readonly ys: Float64Array;
  private readonly y1: Float64Array;
  private readonly rhs: Float64Array;
  private readonly est: Float64Array;

  constructor(op: FvOperator, solver: ShiftedSolver, opts: AdaptiveOptions) {
    this.op = op;
    this.solver = solver;
    this.opts = opts;
    this.dtNext = opts.dt0;
    const n = op.grid.size;
    this.f0 = new Float64Array(n);
    this.fs = new Float64Array(n);
    this.f1 = new Float64Array(n);
    this.ys = new Float64Array(n);
    this.y1 = new Float64Array(n);
    this.rhs = new Float64Array(n);
    this.est = new Float64Array(n);
  }

  /**
   * Whether f0 holds A·y for the current state: a rejected attempt retries from the same y, and
   * an accepted step's A·y1 is the next step's A·y, so each state's apply is done once.
   */
  private f0Current = false;

  /** One attempted step from y; returns the error ratio (≤ 1 accepts), result in this.y1. */
  private attempt(y: Float64Array, dt: number): number {
    const n = y.length;
    const { f0, fs, f1, ys, y1, rhs, est } = this;
    const th = D_TRBDF2 * dt;
    if (!this.f0Current) this.op.apply(y, f0);
    this.f0Current = true;
    for (let i = 0; i < n; i++) rhs[i] = y[i] + th * f0[i];
    ys.set(y);
    this.solver.solve(th, rhs, ys);
    const a = 1 / (GAMMA * (2 - GAMMA));
    const c = ((1 - GAMMA) * (1 - GAMMA)) / (GAMMA * (2 - GAMMA));
    for (let i = 0; i < n; i++) rhs[i] = a * ys[i] - c * y[i];
    y1.set(ys);
    this.solver.solve(th, rhs, y1);
    this.op.apply(ys, fs);
    this.op.apply(y1, f1);
    for (let i = 0; i < n; i++) rhs[i] = y[i] + dt * (B1 * f0[i] + B2 * fs[i] + B3 * f1[i]) - y1[i];
    est.fill(0);
    this.solver.solve(th, rhs, est, 0.1);
    const scale = this.opts.tolerance * Math.max(norm1(y1), 1e-300);
    let err = norm1(est) / scale;
    const lo = min(y1);
    if (lo < 0) {
      const neg = -lo / Math.max(max(y1), 1e-300);
      if (neg > this.opts.tolerance) err = Math.max(err, 2 * neg / this.opts.tolerance);
    }
    if (!Number.isFinite(err)) err = Infinity;
    return err;
  }

  private initialStep(y: Float64Array): number {
    this.op.apply(y, this.f0);
    this.f0Current = true;
    const ratio = norm1(y) / Math.max(norm1(this.f0), 1e-300);
    return Math.min(this.opts.dtMax, 0.5 * Math.cbrt(this.opts.tolerance) * ratio);
  }

  advance(rho: Float64Array, t0: number, t1: number, pause?: () => boolean): number {
    // The caller may hand over another state between calls: A·ρ is recomputed once per call.
    this.f0Current = false;
    let t = t0;
    let dt = this.dtNext ?? this.initialStep(rho);
    let rejectsInRow = 0;
    while (t < t1) {
      const remaining = t1 - t;
      // Land exactly on t1; stretch a little rather than leave a sliver step.
      const landing = dt >= remaining * (1 - 1e-12) || dt > 0.8 * remaining;
      const h = landing ? remaining : dt;
      const err = this.attempt(rho, h);
      if (err <= 1) {
        const total = sum(rho);
        rho.set(this.y1);
        restoreSum(rho, total);
        // A·ρ = A·y1 up to the round-off rescaling of restoreSum: the next attempt's f0.
        this.f0.set(this.f1);
        t = landing ? t1 : t + h;
        record(this.stats, h);
        rejectsInRow = 0;
        const grow = err === 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * Math.pow(err, -1 / 3)));
        // Do not let a shortened landing step shrink the next proposal.
        dt = Math.min(this.opts.dtMax, Math.max(dt, h) * grow);
        if (t < t1 && pause?.()) break;
      } else {
        this.stats.rejected++;
        rejectsInRow++;
        if (rejectsInRow > 60 || h < 1e-14 * Math.max(1, Math.abs(t))) {
          throw new Error(`adaptive step size underflow at t = ${t} (dt = ${h.toExponential(3)}, error ratio ${err.toExponential(3)})`);
        }
        dt = h * Math.max(0.1, Math.min(0.5, 0.9 * Math.pow(err, -1 / 3)));
      }
    }
    this.dtNext = dt;
    return t;
  }

  describe(): string {
    return `TR-BDF2, adaptive (tolerance ${this.opts.tolerance}), ${this.solver.name}`;
  }
}
