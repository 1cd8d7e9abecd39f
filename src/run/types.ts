/**
 * The run's option, result and tracker types, in a leaf module: report/, plot/, estimators/ and the
 * library API import them from here without pulling in the run loop (docs/design.md §5).
 * Type-only imports; no run code.
 */
import type { Grid } from '../../solvers/grid.js';
import type { Problem } from '../../solvers/problem.js';
import type { FvOperator } from '../../solvers/operator.js';
import type { AsyncIntegrator } from '../../solvers/backend/integrators.js';
import type { BackendChoice } from '../../solvers/backend/select.js';
import type { SeriesPoint } from '../diagnostics/distances.js';
import type { Regime } from '../diagnostics/regime.js';
import type { CompiledExpr } from '../landscape/expr.js';
import type { EstimateOptions, MemoryLimit } from '../resources/memory.js';
import type { RunReport } from '../report/types.js';
import type { Scenario } from '../scenario/types.js';

/** Everything built from a scenario before time stepping (shared by run, gap and simulate). */
export interface Setup {
  scenario: Scenario;
  file: string;
  grid: Grid;
  problem: Problem;
  op: FvOperator;
  regime: Regime;
  landscape: { source: string; doc?: string; evalPoints: (coords: readonly Float64Array[], out: Float64Array) => void; compiled: CompiledExpr };
  /**
   * With SetupOptions.cellLogF: cell averages of ln f from the quadrature nodes of π (NaN where
   * the DistanceTracker uses its own rule), for the run's E log f.
   */
  cellLogF?: Float64Array;
}

export interface SetupOptions {
  /** Refuse grids whose estimated run memory exceeds this (default: defaultMemoryLimit()). */
  memoryLimit?: MemoryLimit;
  /** What the caller will add to the grid's arrays (default: a run with the gap estimate). */
  memoryEstimate?: EstimateOptions;
  /** Keep the cell averages of ln f from π's quadrature (Setup.cellLogF): a run's distances need them. */
  cellLogF?: boolean;
}

export interface ProgressInfo {
  t: number;
  end: number;
  steps: number;
  point: SeriesPoint;
}

/** A phase of the work before and after time stepping, for progress output (issue #20.5). */
export type PhaseInfo =
  | { phase: 'setup'; step: string }
  | { phase: 'gap'; step: string; iterations?: number; converged?: number; wanted?: number };

/** How a tracker asks the run to stop: the run ends with this status and message, report kept. */
export interface StopRequest {
  status: 'interrupted' | 'incomplete';
  error: string;
}

/** What a tracker sees at the start and at report times. ρ is the state at t: read it, never write it. */
export interface TrackerContext {
  readonly t: number;
  readonly end: number;
  readonly steps: number;
  readonly rho: Float64Array;
  readonly setup: Setup;
  readonly integrator: AsyncIntegrator;
  /** The series so far, the point at t last (at report times: already measured). */
  readonly series: readonly SeriesPoint[];
}

/** What a tracker sees mid-interval: the state is on the integrator's backend; `peek` copies it out. */
export interface LookContext {
  readonly t: number;
  readonly steps: number;
  readonly integrator: AsyncIntegrator;
  /** Cell updates done so far (docs/reliability.md, "Reproducibility"). */
  readonly work: number;
}

export type TrackerAnswer = StopRequest | undefined | void;

/**
 * A piece of the run loop with its own schedule (as py-pde's trackers): the controller advances
 * the time stepper from report time to report time and calls each tracker when it is due.
 * Schedules are in simulated time or in counted work, never in wall time, so trackers never
 * change which steps are taken; only a stop they request ends a run earlier.
 */
export interface Tracker {
  readonly name: string;
  /**
   * Simulated time between calls of `report`: it is called at the first report time at or after
   * each multiple of it. Default: every report time. (Report times are the only places the
   * stepping can be looked at without changing its steps.)
   */
  readonly interval?: number;
  /** Cell updates between calls of `look` inside a report interval (default: never). */
  readonly work?: number;
  /** Once, before the first step (t = 0, or the time a resumed run starts from). */
  start?(ctx: TrackerContext): TrackerAnswer | Promise<TrackerAnswer>;
  /** At report times it is due at; may ask to stop. Throwing a NumericalFault fails the run. */
  report?(ctx: TrackerContext): TrackerAnswer | Promise<TrackerAnswer>;
  /** Mid-interval, every `work` cell updates; may ask to stop. Throwing a NumericalFault fails the run. */
  look?(ctx: LookContext): TrackerAnswer | Promise<TrackerAnswer>;
  /** Before each report interval and at every yield to the event loop: a cheap stop check (signals, wall limit). */
  poll?(t: number): StopRequest | undefined;
}

export interface RunOptions {
  /** Called at every report time. */
  onProgress?: (p: ProgressInfo) => void;
  /** Called when a set-up or gap phase starts or advances (progress output). */
  onPhase?: (p: PhaseInfo) => void;
  /** Checked at every report time; when aborted the run stops with status 'interrupted'. */
  signal?: AbortSignal;
  /** Wall-clock budget in seconds; past it the run stops with status 'incomplete'. */
  maxWallSeconds?: number;
  /** Memory limit for the up-front estimate (default: defaultMemoryLimit()). */
  memoryLimit?: MemoryLimit;
  /** Times at which to keep a copy of ρ (for plots), each taken at the first report time ≥ it; 0 is the initial density. */
  snapshots?: readonly number[];
  /** Compute the spectral gap and analytic bounds into the report (default true; `run --no-gap` turns it off). */
  gap?: boolean;
  /** Where the time stepping runs (docs/gpu.md); default 'auto' (float64 CPU unless a big grid meets a hardware GPU). */
  backend?: BackendChoice;
  /** More trackers, called after the built-in ones at each point (library API). */
  trackers?: readonly Tracker[];
  /** Write a restart checkpoint into this directory at every report time (`run --checkpoints`: <out>/checkpoint); also a stop's, as stopCheckpointDir. */
  checkpointDir?: string;
  /**
   * When the run stops early (signal, wall limit, a tracker's request), write a restart checkpoint
   * of the last report time's state into this directory (`run --out`: <out>/checkpoint). Default: checkpointDir.
   */
  stopCheckpointDir?: string;
  /** Stop (status 'incomplete') at the first report time ≥ this, after its checkpoint (`run --stop-after`). */
  stopAfter?: number;
  /** Continue from this restart checkpoint instead of the initial condition (`run --resume`). */
  resume?: RestartState;
}

/** ρ kept at the report times asked for by RunOptions.snapshots. */
export interface Snapshot {
  t: number;
  density: Float64Array;
}

export interface RunResult {
  report: RunReport;
  density: Float64Array;
  setup: Setup;
  /** ρ at the report times asked for by RunOptions.snapshots (present only when asked). */
  snapshots?: Snapshot[];
  /** The checkpoint a stopped run wrote (stopCheckpointDir): where, the time it resumes from, and why it could not be written if it was not. */
  checkpoint?: { dir: string; t: number; error?: string };
}

/** JSON-safe integrator state carried between report intervals (what a restart needs beyond ρ). */
export interface IntegratorStateJson {
  [key: string]: number | boolean | string | null | IntegratorStateJson;
}

/** A restart checkpoint as read back (src/run/restart.ts writes and checks it). */
export interface RestartState {
  /** Time of the checkpoint (a report time). */
  t: number;
  density: Float64Array;
  series: SeriesPoint[];
  /** The integrator's state (IntegratorState of solvers/backend/integrators.ts). */
  integrator: IntegratorStateJson;
  /** Snapshots taken so far (figures). */
  snapshots: Snapshot[];
  /** Seconds spent by the runs before this one (report.wallSeconds adds them up). */
  wallSeconds: number;
  /** The resolved backend's name: a resumed run must step on the same one. */
  backend: string;
  /** The file the checkpoint was read from, for messages. */
  file: string;
}
