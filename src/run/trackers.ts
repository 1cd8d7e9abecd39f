/**
 * The run loop's built-in trackers (docs/design.md §5): each does one job on its own
 * schedule, in simulated time (report times) or in counted work, never in wall time — except
 * the wall limit, which only decides to stop. The controller (controller.ts) composes them.
 */
import type { Grid } from '../../solvers/grid.js';
import type { AsyncIntegrator } from '../../solvers/backend/integrators.js';
import { Pcg } from '../../solvers/backend/pcg.js';
import type { DistanceTracker, SeriesPoint } from '../diagnostics/distances.js';
import { NumericalFault } from '../errors.js';
import { healthWork } from './checkpoints.js';
import type { LookContext, ProgressInfo, Snapshot, StopRequest, Tracker, TrackerContext } from './types.js';

/** Distances to π and the collapse diagnostics at t = 0 and every report time: the report's series. */
export class SeriesTracker implements Tracker {
  readonly name = 'distances';
  readonly series: SeriesPoint[];
  readonly distances: DistanceTracker;
  private readonly resumed: boolean;
  /** Further per-point measurements (the basin masses, src/diagnostics/basins.ts). */
  private readonly extra?: (rho: Float64Array) => Partial<SeriesPoint>;

  /** `series`: the points of a resumed run so far (then start measures nothing). */
  constructor(distances: DistanceTracker, series?: SeriesPoint[], extra?: (rho: Float64Array) => Partial<SeriesPoint>) {
    this.distances = distances;
    this.resumed = series !== undefined;
    this.series = series ?? [];
    this.extra = extra;
  }

  start(ctx: TrackerContext): void {
    if (!this.resumed) this.measure(ctx.t, ctx.rho);
  }

  report(ctx: TrackerContext): void {
    this.measure(ctx.t, ctx.rho);
  }

  /** The point where a run stopped or failed between report times. */
  measure(t: number, rho: Float64Array): void {
    const p = this.distances.measure(t, rho);
    this.series.push(this.extra ? { ...p, ...this.extra(rho) } : p);
  }
}

/**
 * Tolerated negative density, relative to max ρ, per integrator: positivity is exact for explicit
 * Euler and for backward Euler with a direct solve; with PCG (2-D, 3-D) backward Euler's states
 * carry the CG error, which dipped to −1.3e-12 of max ρ on a healthy 40² OU run.
 */
export function negativeTolerance(integrator: Pick<AsyncIntegrator, 'name' | 'solver'>, tolerance: number): number {
  if (integrator.name === 'explicit' || (integrator.name === 'backward-euler' && !(integrator.solver instanceof Pcg))) return 1e-12;
  return Math.max(10 * tolerance, 1e-9);
}

export function checkHealth(rho: Float64Array, grid: Grid, t: number, steps: number, negTol: number, mass0: number): void {
  // Every message names step, time and cell (or the drift) and the likely cause, for the report's `error`.
  // One pass over ρ for what a healthy state needs (max, min, mass in index order); the offending
  // cell is searched for only when the check fails, so it is the first in index order as before.
  let maxV = 0;
  let minV = Infinity;
  let mass = 0;
  for (let i = 0; i < rho.length; i++) {
    const v = rho[i];
    if (!Number.isFinite(v)) {
      throw new NumericalFault(
        `density became ${v} in cell ${i} at x = (${grid.centre(i).map((c) => +c.toPrecision(6)).join(', ')}) by step ${steps}, t = ${t}: ` +
          'likely cause: time step above the stability limit (use integrator auto or a smaller time.dt), or a landscape that is not finite',
        'non-finite',
      );
    }
    if (v > maxV) maxV = v;
    if (v < minV) minV = v;
    mass += v;
  }
  if (minV < -negTol * maxV) {
    let i = 0;
    while (!(rho[i] < -negTol * maxV)) i++;
    throw new NumericalFault(
      `negative density ${rho[i].toExponential(3)} (beyond round-off, max ρ = ${maxV.toExponential(3)}) in cell ${i} at x = (${grid
        .centre(i)
        .map((c) => +c.toPrecision(6))
        .join(', ')}) by step ${steps}, t = ${t}: likely cause: explicit step above the positivity limit, or a noise floor too small for the grid`,
      'diverged',
    );
  }
  mass *= grid.cellVolume;
  if (Math.abs(mass - mass0) > 1e-9 * mass0) {
    throw new NumericalFault(`mass drifted from ${mass0} to ${mass} by step ${steps}, t = ${t}: likely cause: a linear solve that did not converge`, 'diverged');
  }
}

/**
 * Mass, positivity and finiteness at every report time and, mid-interval, every healthWork cell
 * updates (checkpoints.ts). Keeps the last state that passed: a failed run reports it, never a
 * NaN density.
 */
export class HealthTracker implements Tracker {
  readonly name = 'health';
  readonly work: number;
  readonly good: Float64Array;
  goodT: number;
  goodSteps: number;
  private readonly rho: Float64Array;
  private readonly grid: Grid;
  private readonly negTol: number;
  private mass0 = NaN;

  /** `rho`: the run's state array (mid-interval looks copy the backend's state into it). */
  constructor(rho: Float64Array, grid: Grid, negTol: number, at: { t: number; steps: number }) {
    this.rho = rho;
    this.grid = grid;
    this.negTol = negTol;
    this.work = healthWork(grid.size);
    this.good = rho.slice();
    this.goodT = at.t;
    this.goodSteps = at.steps;
  }

  /** Masses are compared with the series' first point (the initial state's, also in a resumed run). */
  start(ctx: TrackerContext): void {
    this.mass0 = ctx.series[0].mass;
  }

  report(ctx: TrackerContext): void {
    checkHealth(ctx.rho, this.grid, ctx.t, ctx.steps, this.negTol, this.mass0);
    this.keep(ctx.t, ctx.steps);
  }

  async look(ctx: LookContext): Promise<void> {
    await ctx.integrator.peek(this.rho);
    checkHealth(this.rho, this.grid, ctx.t, ctx.integrator.stats.steps, this.negTol, this.mass0);
    this.keep(ctx.t, ctx.integrator.stats.steps);
  }

  private keep(t: number, steps: number): void {
    this.good.set(this.rho);
    this.goodT = t;
    this.goodSteps = steps;
  }
}

/** Copies of ρ for figures, each at the first report time ≥ a wanted time (0: the initial density). */
export class SnapshotTracker implements Tracker {
  readonly name = 'snapshots';
  readonly snapshots: Snapshot[];
  private readonly wanted: number[];

  /** `taken`: the snapshots of a resumed run so far; wanted times they cover are not taken again. */
  constructor(times: readonly number[], taken?: Snapshot[], from = 0) {
    this.wanted = [...times].sort((a, b) => a - b);
    this.snapshots = taken ?? [];
    if (taken) while (this.wanted.length > 0 && this.wanted[0] <= from * (1 + 1e-12)) this.wanted.shift();
  }

  start(ctx: TrackerContext): void {
    this.keep(ctx.t, ctx.rho);
  }

  report(ctx: TrackerContext): void {
    this.keep(ctx.t, ctx.rho);
  }

  private keep(at: number, rho: Float64Array): void {
    let take = false;
    while (this.wanted.length > 0 && this.wanted[0] <= at * (1 + 1e-12)) take = this.wanted.shift() !== undefined;
    if (take) this.snapshots.push({ t: at, density: rho.slice() });
  }
}

/** Calls `onProgress` at every report time (the CLI's progress bar). */
export class ProgressTracker implements Tracker {
  readonly name = 'progress';
  private readonly onProgress: (p: ProgressInfo) => void;

  constructor(onProgress: (p: ProgressInfo) => void) {
    this.onProgress = onProgress;
  }

  report(ctx: TrackerContext): void {
    this.onProgress({ t: ctx.t, end: ctx.end, steps: ctx.steps, point: ctx.series[ctx.series.length - 1] });
  }
}

/** SIGINT/SIGTERM (an aborted signal) → status 'interrupted', seen at every yield. */
export class SignalTracker implements Tracker {
  readonly name = 'signals';
  private readonly signal: AbortSignal;

  constructor(signal: AbortSignal) {
    this.signal = signal;
  }

  poll(t: number): StopRequest | undefined {
    return this.signal.aborted ? { status: 'interrupted', error: `interrupted by a signal at t = ${t}` } : undefined;
  }
}

/** `--max-wall`: the only tracker that reads the clock, and it only decides to stop ('incomplete'). */
export class WallLimitTracker implements Tracker {
  readonly name = 'wall-limit';
  private readonly seconds: number;
  private readonly started: number;

  constructor(seconds: number, started: number) {
    this.seconds = seconds;
    this.started = started;
  }

  poll(t: number): StopRequest | undefined {
    if ((performance.now() - this.started) / 1000 > this.seconds) {
      return { status: 'incomplete', error: `stopped at t = ${t} after the wall-clock limit of ${this.seconds} s (--max-wall)` };
    }
    return undefined;
  }
}

/** `--stop-after <time>`: stop at the first report time ≥ it (after that time's checkpoint), unless it is the end. */
export class StopAfterTracker implements Tracker {
  readonly name = 'stop-after';
  private readonly after: number;
  private readonly where: string;

  /** `where`: how to continue, for the message (e.g. the checkpoint directory). */
  constructor(after: number, where: string) {
    this.after = after;
    this.where = where;
  }

  report(ctx: TrackerContext): StopRequest | undefined {
    if (ctx.t >= ctx.end || ctx.t < this.after * (1 - 1e-12)) return undefined;
    return { status: 'incomplete', error: `stopped at t = ${ctx.t} as asked (--stop-after ${this.after})${this.where}` };
  }
}
