import type { FvOperator } from '../operator.js';
import { newStats, record, substeps, type IntegratorStats } from '../integrators.js';
import type { Backend, Field } from './types.js';
import { injectInfrastructureFault } from '../base/fault-injection.js';

/**
 * The integrator contract and the stencil-only integrators (explicit Euler, RKL2 super-time-
 * stepping), written once against the async Backend; the implicit ones (backward Euler, TR-BDF2)
 * are in implicit.ts. test/gpu-integrators.test.ts checks them against the methods' closed forms
 * on a generator assembled in the test; on gpu.js the state stays on the device between report times.
 */

/** Linear-solver counters, as the report reads them (report.integrator.linearSolver/…). */
export interface SolverStats {
  readonly name: string;
  iterations: number;
  solves: number;
}

/** float64 mass corrections of a float32 state (docs/gpujs.md §4.4). */
export interface MassCorrection {
  /** Report times (or stops) at which the host copy was rescaled in float64. */
  count: number;
  /** Largest |Σρ − mass₀| / mass₀ the host found at a report time, before rescaling. */
  maxRelativeDrift: number;
  /** Largest relative drift one float32 step made (each step is rescaled on the device by a float64-computed factor). */
  maxStepDrift: number;
}

/**
 * Called by an integrator after each accepted step that ends inside [t0, t1), with the time
 * reached. It may await (the run yields to the event loop there, so signals are seen) and it may
 * read the state with `peek`; returning true stops the integrator at that step. The integrators
 * call it at the same points whatever it does or however long it takes, and a checkpoint that
 * returns false leaves the arithmetic untouched: the numerical path never depends on timing.
 */
export type Checkpoint = (t: number) => boolean | Promise<boolean>;

export interface AsyncIntegrator {
  readonly name: string;
  readonly stats: IntegratorStats;
  readonly solver?: SolverStats;
  /** The local error tolerance an adaptive integrator really uses (it may raise the requested one). */
  readonly tolerance?: number;
  readonly backend: Backend;
  readonly massCorrection: MassCorrection;
  /** Why this integrator runs (set by selectIntegrator: the scenario named it, or what auto saw). */
  reason?: string;
  /**
   * Advances ρ from t0 to exactly t1 (report times are always hit) and returns t1. The steps of
   * [t0, t1) are planned from t0, t1 and the integrator's own state only. With `checkpoint`,
   * called after each step inside the interval: when it returns true the integrator stops there
   * (ρ mass-restored and valid) and returns the time reached. That stop is meant to end a run:
   * advance(ρ, reached, t1) would plan a new split of what is left, a different numerical path
   * from the uninterrupted one (equal to it only to round-off).
   *
   * ρ is uploaded on the first call and read back on return; between calls the backend's copy is
   * the state, so callers must not change ρ between calls except by passing a different array.
   */
  advance(rho: Float64Array, t0: number, t1: number, checkpoint?: Checkpoint): Promise<number>;
  /**
   * Copies the state into `out` without changing it (in a checkpoint, for health checks): float32
   * states are rescaled to their mass in the copy only, as advance would on return.
   */
  peek(out: Float64Array): Promise<void>;
  /** A human description of the step choice, for the report. */
  describe(): string;
  /**
   * What a restart needs beyond ρ to continue on the same steps (counters, the adaptive step
   * proposal), JSON-safe; `restoreState` puts it back before the first advance of a resumed run.
   */
  saveState(): IntegratorState;
  restoreState(s: IntegratorState): void;
  dispose(): void;
}

/** An integrator's restart state: numbers, flags and nested records only (written as JSON; non-finite numbers as null). */
export interface IntegratorState {
  [key: string]: number | boolean | string | null | IntegratorState;
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);
const numberOr = (v: unknown, dflt: number): number => (typeof v === 'number' ? v : dflt);


/** Host mass drift below this (relative) is left alone; above it a float32 state is rescaled in float64. */
const RENORMALIZE_ABOVE = 1e-12;

/** Upload, read-back and mass bookkeeping shared by every integrator on a Backend. */
export abstract class DeviceIntegrator implements AsyncIntegrator {
  abstract readonly name: string;
  readonly stats = newStats();
  readonly backend: Backend;
  readonly massCorrection: MassCorrection = { count: 0, maxRelativeDrift: 0, maxStepDrift: 0 };
  reason?: string;
  protected readonly op: FvOperator;
  /** The device state. Subclasses may swap it with a scratch field. */
  protected x: Field;
  private host: Float64Array | undefined;
  private mass0 = NaN;

  constructor(backend: Backend, op: FvOperator) {
    this.backend = backend;
    this.op = op;
    this.x = backend.field();
  }

  protected abstract steps(t0: number, t1: number, checkpoint?: Checkpoint): Promise<number>;
  abstract describe(): string;

  async advance(rho: Float64Array, t0: number, t1: number, checkpoint?: Checkpoint): Promise<number> {
    injectInfrastructureFault();
    const b = this.backend;
    if (this.host !== rho) {
      await b.upload(this.x, rho);
      this.host = rho;
      let m = 0;
      for (let i = 0; i < rho.length; i++) m += rho[i];
      this.mass0 = this.resumedMass0 ?? m;
      this.resumedMass0 = undefined;
    }
    const reached = await this.steps(t0, t1, checkpoint);
    await b.download(this.x, rho);
    if (b.info.precision === 'float32') await this.renormalize(rho);
    return reached;
  }

  saveState(): IntegratorState {
    const s = this.stats;
    const solver = (this as AsyncIntegrator).solver;
    const m = this.massCorrection;
    return {
      name: this.name,
      steps: s.steps,
      rejected: s.rejected,
      dtMin: finiteOrNull(s.dtMin),
      dtMax: s.dtMax,
      solves: solver?.solves ?? 0,
      iterations: solver?.iterations ?? 0,
      mass0: finiteOrNull(this.mass0),
      massCorrection: { count: m.count, maxRelativeDrift: m.maxRelativeDrift, maxStepDrift: m.maxStepDrift },
    };
  }

  restoreState(st: IntegratorState): void {
    this.stats.steps = numberOr(st.steps, 0);
    this.stats.rejected = numberOr(st.rejected, 0);
    this.stats.dtMin = numberOr(st.dtMin, Infinity);
    this.stats.dtMax = numberOr(st.dtMax, 0);
    const solver = (this as AsyncIntegrator).solver;
    if (solver) {
      solver.solves = numberOr(st.solves, 0);
      solver.iterations = numberOr(st.iterations, 0);
    }
    const m = st.massCorrection;
    if (m && typeof m === 'object') {
      this.massCorrection.count = numberOr(m.count, 0);
      this.massCorrection.maxRelativeDrift = numberOr(m.maxRelativeDrift, 0);
      this.massCorrection.maxStepDrift = numberOr(m.maxStepDrift, 0);
    }
    // float32 states are rescaled to the mass of the run's initial state, not the resumed one's.
    if (typeof st.mass0 === 'number') this.resumedMass0 = st.mass0;
  }

  /** Set by restoreState: the first upload keeps this mass instead of the uploaded state's. */
  private resumedMass0: number | undefined;

  async peek(out: Float64Array): Promise<void> {
    await this.backend.download(this.x, out);
    if (this.backend.info.precision !== 'float32') return;
    let m = 0;
    for (let i = 0; i < out.length; i++) m += out[i];
    if (!(m > 0) || !Number.isFinite(m)) return;
    const k = this.mass0 / m;
    for (let i = 0; i < out.length; i++) out[i] *= k;
  }

  /**
   * float32 steps lose mass at the 1e-7 level per thousand steps; the report's diagnostics need
   * it conserved like the float64 path. The fix is a single float64 factor on the host copy, then
   * re-uploaded: it moves no mass between cells, so positivity and shape are untouched.
   */
  private async renormalize(rho: Float64Array): Promise<void> {
    let m = 0;
    for (let i = 0; i < rho.length; i++) m += rho[i];
    const drift = Math.abs(m - this.mass0) / this.mass0;
    if (!(m > 0) || !Number.isFinite(m) || drift <= RENORMALIZE_ABOVE) return;
    this.massCorrection.count++;
    if (drift > this.massCorrection.maxRelativeDrift) this.massCorrection.maxRelativeDrift = drift;
    const k = this.mass0 / m;
    for (let i = 0; i < rho.length; i++) rho[i] *= k;
    await this.backend.upload(this.x, rho);
  }

  /**
   * Removes the round-off drift of Σρ, exactly as vec.restoreSum does on float64 (at the end of an
   * advance). float32 stages round each cell's update independently and lose ~1e-7 of the mass per
   * step, which over a report interval of hundreds of RKL2 stages reaches 1e-5; so on float32 this
   * runs after every step, with a round-off bound to match.
   */
  protected async restoreSum(x: Field, target: number): Promise<void> {
    const s = await this.backend.sum(x);
    if (s === 0 || !Number.isFinite(s) || s === target) return;
    const k = target / s;
    const f32 = this.backend.info.precision === 'float32';
    if (Math.abs(k - 1) > (f32 ? 1e-4 : 1e-8)) return;
    if (f32 && Math.abs(k - 1) > this.massCorrection.maxStepDrift) this.massCorrection.maxStepDrift = Math.abs(k - 1);
    await this.backend.scale(k, x);
  }

  /**
   * Equal steps of at most dtMax covering [t0, t1], under advance's checkpoint contract: the
   * fixed-step loop of explicit Euler and RKL2 (`step` advances this.x by dt).
   */
  protected async equalSteps(t0: number, t1: number, dtMax: number, checkpoint: Checkpoint | undefined, step: (dt: number) => Promise<void>): Promise<number> {
    const m = substeps(t0, t1, dtMax);
    const dt = (t1 - t0) / m;
    const total = await this.backend.sum(this.x);
    for (let k = 0; k < m; k++) {
      await step(dt);
      record(this.stats, dt);
      await this.stepDone(total);
      if (k + 1 < m && checkpoint && (await checkpoint(t0 + (k + 1) * dt))) {
        await this.restoreSum(this.x, total);
        return t0 + (k + 1) * dt;
      }
    }
    await this.restoreSum(this.x, total);
    return t1;
  }

  /** After each step: float32 states are kept at their mass (see restoreSum). */
  protected async stepDone(target: number): Promise<void> {
    if (this.backend.info.precision === 'float32') await this.restoreSum(this.x, target);
  }

  dispose(): void {
    this.backend.dispose();
  }
}

/** Explicit Euler at dt ≤ 0.9 × the positivity limit, the limit computed in float64 on the host. */
export class DeviceExplicitEuler extends DeviceIntegrator {
  readonly name = 'explicit';
  readonly dt: number;
  readonly limit: number;
  private y: Field;

  constructor(backend: Backend, op: FvOperator, dt?: number) {
    super(backend, op);
    this.limit = op.explicitLimit();
    this.dt = dt ?? 0.9 * this.limit;
    this.y = backend.field();
  }

  protected steps(t0: number, t1: number, checkpoint?: Checkpoint): Promise<number> {
    return this.equalSteps(t0, t1, this.dt, checkpoint, async (dt) => {
      await this.backend.eulerStep(dt, this.x, this.y);
      [this.x, this.y] = [this.y, this.x];
    });
  }

  describe(): string {
    return `explicit Euler, dt ≤ ${this.dt.toPrecision(4)} (positivity limit ${this.limit.toPrecision(4)}) on ${this.backend.info.name}`;
  }
}

/**
 * RKL2 (Meyer, Balsara & Aslam 2014) with the fewest stages s whose stability interval,
 * (s² + s − 2)/4 × the explicit limit, covers dt.
 *
 * Stability is not positivity: RKL2's stages mix earlier stages with negative weights (ν_j < 0),
 * so far beyond the explicit limit a step can undershoot zero where ρ is tiny next to steep π
 * (the bundled double well at its default step went to −1.6e-4 of max ρ in one step and the run
 * failed). A step whose minimum is below −max(tolerance, 1e-9) × max ρ is therefore rejected
 * and the step halved (stages recounted) for the rest of the run, down to the explicit limit,
 * where it is accepted and the run's health check has the last word. The decision reads only
 * the state, so the same input takes the same steps; the step reached is restart state.
 */
export class DeviceRkl2 extends DeviceIntegrator {
  readonly name = 'rkl2';
  /** The step asked for (time.dt or the default); `step` is what is used now. */
  readonly dt: number;
  stages: number;
  private current: number;
  private readonly limit: number;
  /** Most negative ρ a step may leave, relative to max ρ, before it is rejected. */
  private readonly negTol: number;
  private a: Field;
  private c: Field;
  private readonly l0: Field;

  constructor(backend: Backend, op: FvOperator, dt: number, tolerance = 1e-6) {
    super(backend, op);
    this.limit = op.explicitLimit();
    this.dt = dt;
    this.current = dt;
    this.stages = this.stagesFor(dt);
    // float32 stages round each cell to ~6e-8 of max ρ per stage, so there the floor is above their sum.
    this.negTol = Math.max(tolerance, backend.info.precision === 'float32' ? 5e-6 : 1e-9);
    this.a = backend.field();
    this.c = backend.field();
    this.l0 = backend.field();
  }

  private stagesFor(dt: number): number {
    let s = 2;
    while (((s * s + s - 2) / 4) * this.limit < dt) s++;
    return s;
  }

  private async step(dt: number): Promise<void> {
    const b = this.backend;
    const s = this.stages;
    const bj = (j: number): number => (j < 2 ? 1 / 3 : (j * j + j - 2) / (2 * j * (j + 1)));
    const w1 = 4 / (s * s + s - 2);
    const y0 = this.x;
    let yPrev2 = this.a;
    let yPrev = this.c;
    await b.apply(y0, this.l0);
    const mu1 = bj(1) * w1;
    await b.lincomb(1, y0, mu1 * dt, this.l0, yPrev);
    await b.copy(y0, yPrev2);
    for (let j = 2; j <= s; j++) {
      const b0 = bj(j);
      const b1 = bj(j - 1);
      const b2 = bj(j - 2);
      const mu = ((2 * j - 1) / j) * (b0 / b1);
      const nu = (-(j - 1) / j) * (b0 / b2);
      const muT = mu * w1;
      const gammaT = -(1 - b1) * muT;
      const out = yPrev2;
      await b.rkl2Stage({ mu, nu, a: muT * dt, g: gammaT * dt }, yPrev, yPrev2, y0, this.l0, out);
      yPrev2 = yPrev;
      yPrev = out;
    }
    // Rotate storage: the last stage is the new state, the old state becomes scratch.
    this.x = yPrev;
    this.a = yPrev2;
    this.c = y0;
  }

  /** Whether the state after a step is as non-negative as RKL2's steps must leave it. */
  private async positiveEnough(): Promise<boolean> {
    const lo = await this.backend.min(this.x);
    if (lo >= 0) return true;
    const hi = await this.backend.max(this.x);
    return -lo <= this.negTol * Math.max(hi, 1e-300);
  }

  /**
   * Equal steps of at most the current step covering [t0, t1], under advance's checkpoint
   * contract; a rejected step is undone (the stages never write the old state, which step()
   * leaves in c) and the rest of the interval is re-split at the halved step.
   */
  protected async steps(t0: number, t1: number, checkpoint?: Checkpoint): Promise<number> {
    const total = await this.backend.sum(this.x);
    let from = t0;
    let m = substeps(from, t1, this.current);
    let dt = (t1 - from) / m;
    let k = 0;
    while (k < m) {
      await this.step(dt);
      if (dt > this.limit && !(await this.positiveEnough())) {
        [this.x, this.c] = [this.c, this.x];
        this.stats.rejected++;
        this.current = Math.max(this.limit, dt / 2);
        this.stages = this.stagesFor(this.current);
        from += k * dt;
        m = substeps(from, t1, this.current);
        dt = (t1 - from) / m;
        k = 0;
        continue;
      }
      record(this.stats, dt);
      await this.stepDone(total);
      k++;
      if (k < m && checkpoint && (await checkpoint(from + k * dt))) {
        await this.restoreSum(this.x, total);
        return from + k * dt;
      }
    }
    await this.restoreSum(this.x, total);
    return t1;
  }

  override saveState(): IntegratorState {
    return { ...super.saveState(), rkl2Step: this.current };
  }

  override restoreState(st: IntegratorState): void {
    super.restoreState(st);
    if (typeof st.rkl2Step === 'number' && st.rkl2Step > 0 && st.rkl2Step <= this.dt) {
      this.current = st.rkl2Step;
      this.stages = this.stagesFor(this.current);
    }
  }

  describe(): string {
    const reduced =
      this.current < this.dt
        ? `, reduced from ${this.dt.toPrecision(4)} after ${this.stats.rejected} step${this.stats.rejected === 1 ? '' : 's'} left ρ below −${this.negTol.toExponential(1)} × max ρ`
        : '';
    return `RKL2, ${this.stages} stages, dt ≤ ${this.current.toPrecision(4)} (${((this.stages * this.stages + this.stages - 2) / 4).toFixed(1)}× the explicit limit ${this.limit.toPrecision(4)}${reduced}) on ${this.backend.info.name}`;
  }
}
