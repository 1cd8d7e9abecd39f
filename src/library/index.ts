/**
 * fpsolve as a library: `import { loadScenario, runScenario, densityView } from 'fpsolve'` (package.json
 * "exports" points here; it lives in src/library/ rather than src/ so that no module of src/ and
 * none of its subfolders import each other both ways).
 * docs/library.md documents every export with an example; this file only gathers them, plus the
 * few helpers a script needs that the CLI does not (a scenario from an object, ndarray views of
 * ρ and π, the spectral gap of a built problem). Everything exported here is the public API: the
 * rest of dist/ may change between versions.
 */
import { join, resolve } from 'node:path';
import { parseScenarioText } from '../scenario/load.js';
import type { DiagnosticsSpec, DomainSpec, FromDataNoiseSpec, InitialSpec, LandscapeSpec, LoadedScenario, NoiseSpec, TimeSpec } from '../scenario/types.js';
import { setUp, type RunResult, type Setup } from '../run/run.js';
import { computeGapAsync, type GapOptions } from '../estimators/gap.js';
import type { GapReport } from '../report/types.js';
import { fieldView, type FieldView } from './fields.js';

// Scenarios ----------------------------------------------------------------------------------
export { loadScenario, parseScenarioText, scenarioSchemaPath, DEFAULTS as SCENARIO_DEFAULTS } from '../scenario/load.js';
export { bundledScenario, bundledScenarios } from './scenarios.js';
export type {
  Bounds,
  DataLandscapeSpec,
  DataParamName,
  DiagnosticsSpec,
  DomainSpec,
  FromDataNoiseSpec,
  InitialSpec,
  IntegratorName,
  LandscapeSpec,
  LoadedScenario,
  NoiseFromData,
  NoiseSpec,
  Scenario,
  TimeSpec,
} from '../scenario/types.js';

// Building and running -----------------------------------------------------------------------
export { setUp, runScenario, type Setup, type SetupOptions, type RunOptions, type RunResult, type ProgressInfo } from '../run/run.js';
export { runMatrixScenario, type MatrixRunOptions } from '../nonrev/run.js';
export { defaultEngine as matrixEngine } from '../nonrev/engine.js';
export type { MatrixRunReport, MatrixRunResult, NonrevEngine } from '../nonrev/types.js';
// The run loop's pieces (src/run/controller.ts, trackers.ts): a script passes its own `Tracker`s in RunOptions.trackers.
export type { PhaseInfo, Tracker, TrackerContext, LookContext, TrackerAnswer, StopRequest, Snapshot, RestartState } from '../run/types.js';
export { SeriesTracker, HealthTracker, SnapshotTracker, ProgressTracker, SignalTracker, WallLimitTracker, StopAfterTracker } from '../run/trackers.js';
export { runController, reportTimesOf } from '../run/controller.js';
// Restart: `const cp = readCheckpoint(dir); await runScenario(cp.loaded, { resume: cp.state })`.
export { readCheckpoint, scenarioHash, CheckpointTracker, type LoadedCheckpoint } from '../run/restart.js';
export { buildReport } from '../report/build.js';
export type { ReportFailure } from '../failure-report.js';
export { SolverFailure, InfrastructureFailure } from '../../solvers/base/failures.js';
export type { RunReport, RunStatus, GapReport, BoundsReport } from '../report/types.js';
export type { SeriesPoint } from '../diagnostics/distances.js';
export type { Regime, RegimeName, RegimeComponent } from '../diagnostics/regime.js';
export type { BackendChoice } from '../../solvers/backend/select.js';
export type { GapOptions } from '../estimators/gap.js';
export { Grid } from '../../solvers/grid.js';

// Fields as ndarrays -------------------------------------------------------------------------
export { fieldView, AXIS_NAMES, type FieldView } from './fields.js';
export { marginal, slice, midSlices } from '../field/marginal.js';
export { writeZarr } from '../io/zarr.js';

// Errors ---------------------------------------------------------------------------------------
export { EXIT, FpsolveError, InputError, NumericalFault, OutputError } from '../errors.js';
export { packageVersion } from '../paths.js';

/**
 * A scenario as a plain object, before validation and defaults: the fields of a scenario file
 * (schema/scenario.schema.json). `time.integrator`, `time.tolerance` and `diagnostics` may be left out.
 */
export interface ScenarioInput {
  name: string;
  description?: string;
  landscape: LandscapeSpec;
  domain: DomainSpec;
  noise: NoiseSpec | FromDataNoiseSpec;
  initial: InitialSpec;
  time: Omit<TimeSpec, 'integrator' | 'tolerance'> & Partial<Pick<TimeSpec, 'integrator' | 'tolerance'>>;
  diagnostics?: DiagnosticsSpec;
}

export interface ScenarioObjectOptions {
  /** `--set`-style overrides applied before validation, e.g. `['noise.eta=0.05', 'initial.file=rho0.npy']`. */
  overrides?: readonly string[];
  /** Directory that relative paths in the scenario (initial.file, landscape.data.file) resolve against (default: the working directory). */
  baseDir?: string;
}

/** Label of an in-code scenario in error messages (its "file"). */
const OBJECT_LABEL = '<object>';

/**
 * Validates a scenario given as an object, exactly as a scenario file would be (same schema,
 * same checks, same one-line InputError naming the field); the object itself is not modified.
 */
export function scenarioFromObject(input: ScenarioInput, opts: ScenarioObjectOptions = {}): LoadedScenario {
  // Through JSON text so that the object goes through the file path's parser and limits, and
  // shares nothing with the caller's object (overrides mutate what they are applied to).
  const file = opts.baseDir === undefined ? OBJECT_LABEL : join(resolve(opts.baseDir), OBJECT_LABEL);
  return parseScenarioText(JSON.stringify(input), file, opts.overrides ?? []);
}

/** Alias of `setUp`: scenario → grid, landscape, problem, operator, regime (no time stepping). */
export const buildProblem = setUp;

/** ρ at the end time of a run, as an ndarray of shape `domain.cells` with cell-centre coordinates. */
export function densityView(result: Pick<RunResult, 'density' | 'setup'>): FieldView {
  return fieldView(result.setup.grid, result.density);
}

/**
 * The scheme's discrete invariant density π (normalized: Σ π · cellVolume = 1), which ρ converges
 * to when the regime is `converging`. A fresh array each call.
 */
export function invariantDensityView(setup: Pick<Setup, 'grid' | 'problem'>): FieldView {
  return fieldView(setup.grid, setup.problem.pi());
}

/**
 * The spectral gap λ₁ (and λ₂..λ_k with `modes`) of the discrete generator of a built problem, as
 * `fpsolve gap` computes it (docs/gap.md). Aborting `signal` stops the solve with GapInterrupted.
 */
export async function spectralGap(setup: Pick<Setup, 'op' | 'regime' | 'landscape'>, opts: GapOptions = {}, signal?: AbortSignal): Promise<GapReport> {
  const input = { op: setup.op, regime: setup.regime, landscape: setup.landscape.evalPoints };
  return (await computeGapAsync(input, opts, signal)).report;
}
