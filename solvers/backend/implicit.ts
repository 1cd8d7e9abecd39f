import type { FvOperator } from '../operator.js';
import { record, substeps } from '../integrators.js';
import { DeviceIntegrator, type Checkpoint, type IntegratorState } from './integrators.js';
import { FLOAT32_CG_TOL, type CgSettings } from './pcg.js';
import type { ShiftedSolver } from './shifted.js';
import { implicitSolver, restoreRefinements, saveRefinements } from './refine.js';
import { SolverFailure } from '../base/failures.js';
import type { Backend, Field } from './types.js';

/**
 * The implicit integrators, written once against the Backend: each step solves with I − θA
 * through a ShiftedSolver (the backend's direct solve in 1-D on the CPU, else PCG with the
 * backend's preconditioner). test/gpu-integrators.test.ts checks each step against band-LU solves
 * of a generator assembled in the test.
 */

/** Backward Euler with a fixed step: unconditionally positive and mass-conserving (M-matrix). */
export class DeviceBackwardEuler extends DeviceIntegrator {
  readonly name = 'backward-euler';
  readonly dt: number;
  readonly solver: ShiftedSolver;
  private readonly bRho: Field;

  constructor(backend: Backend, op: FvOperator, dt: number, cg: CgSettings) {
    super(backend, op);
    this.dt = dt;
    this.solver = implicitSolver(backend, op, cg);
    this.bRho = backend.field();
  }

  override saveState(): IntegratorState {
    return { ...super.saveState(), ...saveRefinements(this.solver) };
  }

  override restoreState(st: IntegratorState): void {
    super.restoreState(st);
    restoreRefinements(this.solver, st);
  }

  protected async steps(t0: number, t1: number, checkpoint?: Checkpoint): Promise<number> {
    const m = substeps(t0, t1, this.dt);
    const dt = (t1 - t0) / m;
    const total = await this.backend.sum(this.x);
    for (let k = 0; k < m; k++) {
      await this.backend.copy(this.x, this.bRho);
      await this.solver.solve(dt, this.bRho, this.x);
      await this.restoreSum(this.x, total);
      record(this.stats, dt);
      if (k + 1 < m && checkpoint && (await checkpoint(t0 + (k + 1) * dt))) return t0 + (k + 1) * dt;
    }
    return t1;
  }

  describe(): string {
    return `backward Euler, dt = ${this.dt.toPrecision(4)}, ${this.solver.describe()} on ${this.backend.info.name}`;
  }
}

/**
 * Relative tolerance of the error-filter solve. The estimate steers the step through err^(−1/3),
 * so 10 % in it moves dt by 3 %; on the 2-D reference problem this solve then takes ~1 PCG
 * iteration instead of ~6, a quarter of all iterations, with the same steps (docs/performance.md).
 */
const FILTER_TOL = 0.1;
const GAMMA = 2 - Math.SQRT2;
const D_TRBDF2 = GAMMA / 2; // = 1 − 1/√2: both stages share the matrix I − d·dt·A
/** Weights of the third-order quadrature on the nodes 0, γ, 1 used for the embedded error estimate. */
const B2 = 1 / (6 * GAMMA * (1 - GAMMA));
const B3 = 0.5 - 1 / (6 * (1 - GAMMA));
const B1 = 1 - B2 - B3;
/** The BDF2 stage: y1 = A_BDF·ys − C_BDF·y, solved with the same matrix. */
const A_BDF = 1 / (GAMMA * (2 - GAMMA));
const C_BDF = ((1 - GAMMA) * (1 - GAMMA)) / (GAMMA * (2 - GAMMA));

export interface AdaptiveOptions {
  /** Relative L1 local error per step. */
  tolerance: number;
  /** First step; default chosen from ‖Aρ‖. */
  dt0?: number;
  /** Largest step (e.g. the report interval). */
  dtMax: number;
}

type Stage = 'f0' | 'fs' | 'f1' | 'ys' | 'y1' | 'rhs' | 'est';

/**
 * Smallest local error tolerance on a float32 backend. The error estimate sees the CG error of
 * both stages as if it were truncation error, so the step tolerance must sit well above the CG
 * tolerance (at best FLOAT32_CG_TOL there). Measured on the 64² double well (webasm): at 1e-6
 * float32 TR-BDF2 took 15507 steps near the explicit limit with 11809 rejections (float64: 162);
 * at 1e-4 it took 46 steps (float64: 41).
 */
export const FLOAT32_STEP_TOL = 10 * FLOAT32_CG_TOL;

/**
 * TR-BDF2 (Bank et al. 1985) with adaptive steps: L-stable, second order, one matrix I − d·dt·A
 * for both stages. The local error is estimated against a third-order quadrature over the stage
 * values and filtered through the same solve (Shampine's trick, so stiff modes do not inflate it).
 * A step that makes ρ negative beyond the tolerance is rejected like an inaccurate one. Runs to
 * equilibrium take few steps because dt grows as the solution smooths.
 */
export class DeviceTrBdf2 extends DeviceIntegrator {
  readonly name = 'trbdf2';
  readonly solver: ShiftedSolver;
  /** The local error tolerance used: the requested one, raised to FLOAT32_STEP_TOL on float32. */
  readonly tolerance: number;
  private readonly opts: AdaptiveOptions;
  private dtNext: number | undefined;
  private f: Record<Stage, Field>;
  /**
   * Whether f0 holds A·y for the current state: a rejected attempt retries from the same y, and
   * an accepted step's A·y1 is the next step's A·y, so each state's apply is done once.
   */
  private f0Current = false;
  /** The last attempt's error ratio and negativity (relative to max ρ), for the underflow message. */
  private lastEstimate = 0;
  private lastNegative = 0;

  constructor(backend: Backend, op: FvOperator, opts: AdaptiveOptions, cg: CgSettings) {
    super(backend, op);
    this.solver = implicitSolver(backend, op, cg);
    this.opts = opts;
    this.tolerance = backend.info.precision === 'float32' ? Math.max(opts.tolerance, FLOAT32_STEP_TOL) : opts.tolerance;
    this.dtNext = opts.dt0;
    const mk = (): Field => backend.field();
    this.f = { f0: mk(), fs: mk(), f1: mk(), ys: mk(), y1: mk(), rhs: mk(), est: mk() };
  }

  /** One attempted step from the state x; returns the error ratio (≤ 1 accepts), result in f.y1. */
  private async attempt(dt: number): Promise<number> {
    const b = this.backend;
    const y = this.x;
    const { f0, fs, f1, ys, y1, rhs, est } = this.f;
    const th = D_TRBDF2 * dt;
    if (!this.f0Current) await b.apply(y, f0);
    this.f0Current = true;
    // TR stage: (I − th A) ys = y + th A y. (Starting the solves from a linear extrapolation of
    // the last states instead of y measured no fewer iterations on the reference problem.)
    await b.lincomb(1, y, th, f0, rhs);
    await b.copy(y, ys);
    await this.solver.solve(th, rhs, ys);
    // BDF2 stage: (I − th A) y1 = A_BDF ys − C_BDF y
    await b.lincomb(A_BDF, ys, -C_BDF, y, rhs);
    await b.copy(ys, y1);
    await this.solver.solve(th, rhs, y1);
    await b.apply(ys, fs);
    await b.apply(y1, f1);
    // rhs = y + dt (B1 f0 + B2 fs + B3 f1) − y1, as four passes that round exactly like the one expression
    await b.lincomb(B1, f0, B2, fs, rhs);
    await b.lincomb(1, rhs, B3, f1, rhs);
    await b.lincomb(1, y, dt, rhs, rhs);
    await b.lincomb(1, rhs, -1, y1, rhs);
    await b.zero(est);
    // The filter only has to tame the estimate's stiff components: a digit is plenty.
    await this.solver.solve(th, rhs, est, FILTER_TOL);
    const tol = this.tolerance;
    const scale = tol * Math.max(await b.norm1(y1), 1e-300);
    let err = (await b.norm1(est)) / scale;
    this.lastEstimate = err;
    this.lastNegative = 0;
    const lo = await b.min(y1);
    if (lo < 0) {
      const neg = -lo / Math.max(await b.max(y1), 1e-300);
      if (neg > tol) err = Math.max(err, (2 * neg) / tol);
      this.lastNegative = neg;
    }
    if (!Number.isFinite(err)) err = Infinity;
    return err;
  }

  private async initialStep(): Promise<number> {
    const b = this.backend;
    await b.apply(this.x, this.f.f0);
    this.f0Current = true;
    const ratio = (await b.norm1(this.x)) / Math.max(await b.norm1(this.f.f0), 1e-300);
    const dt = Math.min(this.opts.dtMax, 0.5 * Math.cbrt(this.tolerance) * ratio);
    // A·ρ not finite (NaN made this NaN): start from the largest step, whose rejections then end
    // in the underflow message with a real dt and the cell.
    return dt > 0 ? dt : this.opts.dtMax;
  }

  /** The accepted y1 becomes the state (fields swapped, not copied), with Σρ restored. */
  private async accept(): Promise<void> {
    const total = await this.backend.sum(this.x);
    [this.x, this.f.y1] = [this.f.y1, this.x];
    await this.restoreSum(this.x, total);
    // A·ρ = A·y1 up to the round-off rescaling of restoreSum: the next attempt's f0.
    [this.f.f0, this.f.f1] = [this.f.f1, this.f.f0];
  }

  override saveState(): IntegratorState {
    return { ...super.saveState(), dtNext: this.dtNext ?? null, ...saveRefinements(this.solver) };
  }

  override restoreState(st: IntegratorState): void {
    super.restoreState(st);
    restoreRefinements(this.solver, st);
    // The step proposal carried across report times: without it the resumed steps differ.
    if (typeof st.dtNext === 'number') this.dtNext = st.dtNext;
  }

  protected async steps(t0: number, t1: number, checkpoint?: Checkpoint): Promise<number> {
    // The caller may hand over another state between calls (and float32 states are rescaled on
    // the host at report times): A·ρ is recomputed once per call.
    this.f0Current = false;
    let t = t0;
    let dt = this.dtNext ?? (await this.initialStep());
    let rejectsInRow = 0;
    while (t < t1) {
      const remaining = t1 - t;
      // Land exactly on t1; stretch a little rather than leave a sliver step.
      const landing = dt >= remaining * (1 - 1e-12) || dt > 0.8 * remaining;
      const h = landing ? remaining : dt;
      const err = await this.attempt(h);
      if (err <= 1) {
        await this.accept();
        t = landing ? t1 : t + h;
        record(this.stats, h);
        rejectsInRow = 0;
        const grow = err === 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * Math.pow(err, -1 / 3)));
        // Do not let a shortened landing step shrink the next proposal.
        dt = Math.min(this.opts.dtMax, Math.max(dt, h) * grow);
        if (t < t1 && checkpoint && (await checkpoint(t))) break;
      } else {
        this.stats.rejected++;
        rejectsInRow++;
        if (rejectsInRow > 60 || h < 1e-14 * Math.max(1, Math.abs(t))) {
          const u = await this.underflow(t, h, err, rejectsInRow);
          throw new SolverFailure(u.nonFinite ? 'non-finite' : 'step-underflow', u.message, { solver: this.name, step: this.stats.steps, time: t, dt: h, residual: err, cell: u.cell });
        }
        dt = h * Math.max(0.1, Math.min(0.5, 0.9 * Math.pow(err, -1 / 3)));
      }
    }
    this.dtNext = dt;
    return t;
  }

  /**
   * Why the last attempt failed, and where (the message and the cell): the cell where the filtered error estimate is largest
   * (or first not finite), or, when negativity rejected it, the most negative cell. Read from the
   * fields the attempt left behind; only on this failure path, so the download costs nothing.
   */
  private async underflow(t: number, h: number, err: number, rejects: number): Promise<{ message: string; cell: number; nonFinite: boolean }> {
    const b = this.backend;
    const grid = this.op.grid;
    const host = new Float64Array(b.size);
    const at = (i: number): string => `cell ${i} at x = (${grid.centre(i).map((c) => +c.toPrecision(6)).join(', ')})`;
    const firstNonFinite = (): number => {
      for (let i = 0; i < host.length; i++) if (!Number.isFinite(host[i])) return i;
      return -1;
    };
    let where: string;
    let cell: number;
    // A·ρ not finite: no step size can help, the operator itself failed (not the step control).
    let nonFinite = false;
    let cause = 'a tolerance below what float64 and the linear solves can reach (raise time.tolerance)';
    await b.download(this.f.f0, host);
    const bad = firstNonFinite();
    if (bad >= 0) {
      cell = bad;
      nonFinite = true;
      where = `A·ρ is ${host[bad]} in ${at(bad)}, so no step can pass`;
      cause = 'the operator is not finite there: f/D or ψ overflowed float64 (check the landscape\'s scale and the noise there)';
    } else if (this.lastNegative > this.tolerance && (2 * this.lastNegative) / this.tolerance >= this.lastEstimate) {
      await b.download(this.f.y1, host);
      let worst = 0;
      for (let i = 1; i < host.length; i++) if (host[i] < host[worst]) worst = i;
      cell = worst;
      where = `the step made the density negative, ${host[worst].toExponential(3)} (${this.lastNegative.toExponential(3)} of max ρ), most in ${at(worst)}`;
      cause = 'a noise floor too small for the grid there (raise noise.eps or refine the grid), or a tolerance too tight for it';
    } else {
      await b.download(this.f.est, host);
      let worst = firstNonFinite();
      if (worst < 0) {
        worst = 0;
        for (let i = 1; i < host.length; i++) if (Math.abs(host[i]) > Math.abs(host[worst])) worst = i;
      }
      const v = host[worst];
      cell = worst;
      where = Number.isFinite(v) ? `the local error estimate is largest, ${Math.abs(v).toExponential(3)}, in ${at(worst)}` : `the local error estimate is ${v} from ${at(worst)} on (a linear solve was not finite)`;
    }
    const why = rejects > 60 ? `${rejects} rejected attempts in a row` : 'dt below 1e-14·max(1, t)';
    return { cell, nonFinite, message: `adaptive step size underflow by step ${this.stats.steps}, t = ${t} (${why}; the last attempt had dt = ${h.toExponential(3)}, error ratio ${err.toExponential(3)} at tolerance ${this.tolerance}): ${where}; likely cause: ${cause}` };
  }

  describe(): string {
    const raised = this.tolerance !== this.opts.tolerance ? `, raised from ${this.opts.tolerance} for float32` : '';
    return `TR-BDF2, adaptive (tolerance ${this.tolerance}${raised}), ${this.solver.describe()} on ${this.backend.info.name}`;
  }
}
