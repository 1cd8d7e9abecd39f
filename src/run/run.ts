/**
 * `runScenario`: builds the problem, the integrator and the trackers, hands them to the run
 * controller (controller.ts), and has the report assembled (src/report/build.ts). The types are
 * in types.ts, set-up in setup.ts; both are re-exported here for the callers that import them
 * from this module.
 */
import { checkRunOptions } from './check-options.js';
import { autoRunsRkl2, selectIntegrator } from '../../solvers/backend/choose.js';
import { DistanceTracker } from '../diagnostics/distances.js';
import { attachWalls } from '../diagnostics/walls.js';
import { attachBasins, BasinMeter } from '../diagnostics/basins.js';
import { InputError } from '../errors.js';
import type { LoadedScenario, Scenario } from '../scenario/types.js';
import { attachEstimates } from '../estimators/run-report.js';
import { takeGapReuse } from '../estimators/gap-reuse.js';
import { criticalLimitOf } from '../estimators/critical-limit.js';
import { buildReport } from '../report/build.js';
import { checkStepBudget } from './budget.js';
import { BackendUnavailable, resolveBackend, type ResolvedBackend } from '../../solvers/backend/select.js';
import { backendMemoryExtra } from '../resources/memory.js';
import type { AsyncIntegrator } from '../../solvers/backend/integrators.js';
import { autoContext, defaultDelta, initialDensityFor, setUp } from './setup.js';
import { reportTimesOf, runController } from './controller.js';
import { HealthTracker, ProgressTracker, SeriesTracker, SignalTracker, SnapshotTracker, StopAfterTracker, WallLimitTracker, negativeTolerance } from './trackers.js';
import { CheckpointTracker, StopCheckpoint, type CheckpointLog } from './restart.js';
import type { RunOptions, RunResult, Tracker } from './types.js';

export { noiseModel, setUp } from './setup.js';
export type { ProgressInfo, PhaseInfo, RunOptions, RunResult, Setup, SetupOptions, Tracker, TrackerContext, LookContext, StopRequest, Snapshot, RestartState } from './types.js';

/** A pointed cause when the scenario itself asked for an explicit step above the positivity limit. */
function faultHint(integrator: Pick<AsyncIntegrator, 'name'>, time: Scenario['time'], limit: number): string {
  if (integrator.name === 'explicit' && time.dt !== undefined && time.dt > limit) {
    return `; time.dt = ${time.dt} is ${(time.dt / limit).toPrecision(3)}× the explicit limit ${limit.toPrecision(4)} on this grid: lower time.dt below it, or use integrator auto`;
  }
  return '';
}

/** Runs a scenario to its end time (or, with `resume`, from a checkpoint to it), measuring at every report time. */
export async function runScenario(loaded: LoadedScenario, opts: RunOptions = {}): Promise<RunResult> {
  checkRunOptions(opts);
  const started = performance.now();
  const resume = opts.resume;
  const setup = setUp(loaded, { memoryLimit: opts.memoryLimit, memoryEstimate: { gap: opts.gap !== false, snapshots: opts.snapshots?.length ?? 0, extra: backendMemoryExtra(opts.backend) }, onPhase: opts.onPhase, cellLogF: true });
  const { scenario, grid, problem, op } = setup;
  const time = scenario.time;
  opts.onPhase?.({ phase: 'setup', step: resume ? 'checkpoint state' : 'initial density' });
  let rho: Float64Array;
  if (resume) {
    if (resume.density.length !== grid.size) throw new InputError(`the checkpoint's density has ${resume.density.length} cells, the scenario's grid ${grid.size}`, { file: resume.file });
    rho = resume.density.slice();
  } else {
    rho = initialDensityFor(loaded, grid);
  }
  checkStepBudget(loaded, op.explicitLimit());
  opts.onPhase?.({ phase: 'setup', step: 'backend and integrator' });
  let resolved: ResolvedBackend;
  try {
    resolved = await resolveBackend(opts.backend ?? 'auto', op, { integrator: time.integrator });
  } catch (e) {
    if (e instanceof BackendUnavailable) throw new InputError(`--backend ${opts.backend ?? 'auto'}: ${e.message}`);
    throw e;
  }
  if (time.integrator === 'auto' && autoRunsRkl2(op, resolved.backend.info.precision)) checkStepBudget(loaded, op.explicitLimit(), { integrator: 'rkl2', backend: resolved.backend.info.name });
  if (resume && resolved.backend.info.name !== resume.backend) {
    resolved.backend.dispose();
    // Another backend steps with other arithmetic: the resumed run would not end on the uninterrupted run's numbers.
    throw new InputError(`the checkpoint was written by a run on backend ${resume.backend}, this one would run on ${resolved.backend.info.name}: pass --backend to match`, { file: resume.file });
  }
  let integrator: AsyncIntegrator;
  try {
    const req = { choice: time.integrator, dt: time.dt, tolerance: time.tolerance, reportEvery: time.reportEvery, end: time.end, auto: autoContext(setup, opts, resume ? initialDensityFor(loaded, grid) : rho) };
    integrator = selectIntegrator(op, req, resolved.backend);
  } catch (e) {
    resolved.backend.dispose();
    throw new InputError((e as Error).message, { file: loaded.file, field: 'time.integrator' });
  }
  try {
    if (resume) {
      if (resume.integrator.name !== integrator.name) {
        throw new InputError(`the checkpoint's integrator is ${String(resume.integrator.name)}, this run chose ${integrator.name}`, { file: resume.file });
      }
      integrator.restoreState(resume.integrator);
    }
    const t0 = resume?.t ?? 0;
    const delta = scenario.diagnostics.delta ?? defaultDelta(problem);
    const distances = new DistanceTracker(problem, delta, setup.regime.componentCells, setup.landscape.evalPoints, setup.cellLogF);
    const basins = new BasinMeter(setup);
    const series = new SeriesTracker(distances, resume ? [...resume.series] : undefined, (r) => basins.measure(r));
    const health = new HealthTracker(rho, grid, negativeTolerance(integrator, integrator.tolerance ?? time.tolerance), { t: t0, steps: integrator.stats.steps });
    const snaps = new SnapshotTracker(opts.snapshots ?? [], resume ? [...resume.snapshots] : undefined, t0);
    const priorWall = resume?.wallSeconds ?? 0;
    // The series first: its start measures the point health compares masses with.
    const trackers: Tracker[] = [series, health, snaps];
    if (opts.onProgress) trackers.push(new ProgressTracker(opts.onProgress));
    if (opts.signal) trackers.push(new SignalTracker(opts.signal));
    if (opts.maxWallSeconds !== undefined) trackers.push(new WallLimitTracker(opts.maxWallSeconds, started));
    const wallSeconds = (): number => priorWall + (performance.now() - started) / 1000;
    const writer = (dir: string) => ({ dir, loaded, backend: resolved.backend.info.name, snapshots: () => snaps.snapshots, wallSeconds });
    const stopDir = opts.stopCheckpointDir ?? opts.checkpointDir;
    // Shared, so that a stop right at a report time whose checkpoint was just written does not write it twice.
    const log: CheckpointLog = { lastT: undefined };
    // After the series and snapshots: it keeps how many of each there are at the report time.
    const stopPoint = stopDir !== undefined ? new StopCheckpoint(writer(stopDir), log) : undefined;
    if (stopPoint) trackers.push(stopPoint);
    if (opts.checkpointDir !== undefined) trackers.push(new CheckpointTracker(writer(opts.checkpointDir), undefined, stopDir === opts.checkpointDir ? log : undefined));
    trackers.push(...(opts.trackers ?? []));
    if (opts.stopAfter !== undefined) trackers.push(new StopAfterTracker(opts.stopAfter, opts.checkpointDir !== undefined ? `; continue with --resume` : ''));
    const reportTimes = reportTimesOf(time).filter((r) => r > t0);
    // The bar appears at the first report time, which on a big grid can be minutes away.
    opts.onPhase?.({ phase: 'setup', step: 'done, stepping to the first report time' });
    const outcome = await runController({
      setup,
      integrator,
      rho,
      t0,
      reportTimes,
      end: time.end,
      trackers,
      series,
      health,
      faultHint: () => faultHint(integrator, time, op.explicitLimit()),
    });
    const { status, error } = outcome;
    // A failed run writes none: its last healthy state would step into the same fault again (docs/outputs.md).
    let checkpoint: RunResult['checkpoint'];
    if (stopPoint && stopDir !== undefined && (status === 'interrupted' || status === 'incomplete')) {
      try {
        const at = stopPoint.write();
        if (at !== undefined) checkpoint = { dir: stopDir, t: at };
      } catch (e) {
        // Disk full, say: the stopped run's report is still worth writing.
        checkpoint = { dir: stopDir, t: stopPoint.t ?? t0, error: (e as Error).message };
      }
    }
    const report = buildReport({ loaded, setup, integrator, series: series.series, status, error, delta, tracker: distances, wallSeconds: wallSeconds(), backend: resolved });
    if (outcome.failure) report.failure = outcome.failure;
    attachWalls(report, setup, rho);
    attachBasins(report, basins, rho, () => setup.problem.piShared());
    const reuse = takeGapReuse(resolved.backend, basins.labels, opts.gap !== false && status !== 'interrupted' && status !== 'incomplete');
    integrator.dispose();
    // After the integrator's buffers are freed: it allocates about 20 bytes per cell.
    try {
      const c = criticalLimitOf(setup, basins.labels);
      if (c) report.criticalLimit = c;
    } catch (e) {
      // A diagnostic must not cost the run its report.
      report.notes.push(`criticalLimit: not computed (${(e as Error).message})`);
    }
    // A stopped run's budget is spent: the gap estimate (seconds to minutes on big grids) is skipped.
    if (opts.gap !== false && status !== 'interrupted' && status !== 'incomplete') {
      opts.onPhase?.({ phase: 'gap', step: 'spectral gap' });
      await attachEstimates(report, setup, opts.signal, opts.onPhase, reuse);
    }
    reuse.dispose();
    return { report, density: rho, setup, ...(opts.snapshots ? { snapshots: snaps.snapshots } : {}), ...(checkpoint ? { checkpoint } : {}) };
  } catch (e) {
    integrator.dispose();
    throw e;
  }
}
