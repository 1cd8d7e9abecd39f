import { Grid } from '../../solvers/grid.js';
import { Problem, isFault, type NoiseModel } from '../../solvers/problem.js';
import { FvOperator } from '../../solvers/operator.js';
import { selectIntegrator } from '../../solvers/select.js';
import { exponentialNotes } from '../../solvers/backend/exponential.js';
import { collapseReport, DistanceTracker, type SeriesPoint } from '../diagnostics/distances.js';
import { reportRates } from '../diagnostics/rates.js';
import { attachWalls } from '../diagnostics/walls.js';
import { classifyRegime, type Regime } from '../diagnostics/regime.js';
import { resolveLandscape } from '../landscape/builtins.js';
import { InputError, NumericalFault } from '../errors.js';
import { packageVersion } from '../paths.js';
import type { LoadedScenario, NoiseSpec, Scenario } from '../scenario/types.js';
import type { RunReport, RunStatus } from '../report/types.js';
import { initialDensity } from './initial.js';
import type { CompiledExpr } from '../landscape/expr.js';
import { attachEstimates } from '../estimators/run-report.js';
import { checkStepBudget, reportCount } from './budget.js';
import { checkLandscapeScale } from '../landscape/check.js';
import { checkMemory, estimateRunMemory, type EstimateOptions, type MemoryLimit } from '../resources/memory.js';
import { BackendUnavailable, resolveBackend, type BackendChoice, type ResolvedBackend } from '../../solvers/backend/select.js';
import type { AsyncIntegrator, Checkpoint } from '../../solvers/backend/integrators.js';
import { WorkCounter, YIELD_WORK, healthWork } from './checkpoints.js';
import { Pcg } from '../../solvers/backend/pcg.js';
import { describeStepFailure, type ReportFailure } from '../failure-report.js';

export function noiseModel(spec: NoiseSpec): NoiseModel {
  return spec.model === 'multiplicative'
    ? { kind: 'multiplicative', etaSigma: spec.eta * spec.sigma, eps: spec.eps ?? 0 }
    : { kind: 'additive', D: spec.D };
}

/** Everything built from a scenario before time stepping (shared by run, gap and simulate). */
export interface Setup {
  scenario: Scenario;
  file: string;
  grid: Grid;
  problem: Problem;
  op: FvOperator;
  regime: Regime;
  landscape: { source: string; doc?: string; evalPoints: (coords: readonly Float64Array[], out: Float64Array) => void; compiled: CompiledExpr };
}

export interface SetupOptions {
  /** Refuse grids whose estimated run memory exceeds this (default: defaultMemoryLimit()). */
  memoryLimit?: MemoryLimit;
  /** What the caller will add to the grid's arrays (default: a run with the gap estimate). */
  memoryEstimate?: EstimateOptions;
}

/**
 * Scenario → grid, landscape, problem, operator, regime. Bad landscapes are input errors (exit 2),
 * and so are grids whose estimated memory exceeds the limit: that is checked before the first
 * grid-sized array exists.
 */
export function setUp(loaded: LoadedScenario, opts: SetupOptions = {}): Setup {
  const { scenario, file } = loaded;
  checkMemory(estimateRunMemory(scenario.domain.cells, scenario.time.integrator, { reports: reportCount(scenario.time), ...opts.memoryEstimate }), opts.memoryLimit, file);
  const grid = new Grid(scenario.domain.bounds, scenario.domain.cells);
  const land = resolveLandscape(scenario.landscape, grid.dim, file);
  const evalPoints = (coords: readonly Float64Array[], out: Float64Array): void => land.compiled.evalPoints(coords, out);
  const noise = noiseModel(scenario.noise);
  const built = Problem.build(grid, evalPoints, noise);
  if (isFault(built)) {
    const where = `near x = (${built.point.map((v) => +v.toPrecision(6)).join(', ')})`;
    const what =
      built.reason === 'negative'
        ? `f must be ≥ 0 on the domain for multiplicative noise, but its cell average is ${built.value.toPrecision(4)} ${where}`
        : built.reason === 'non-finite'
          ? `f is not finite (${built.value}) ${where}; check the expression and domain.bounds`
          : `f vanishes on a whole cell ${where}, where π = f^−α is infinite: add a floor (noise.eps > 0)`;
    throw new InputError(what, { file, field: 'landscape' });
  }
  const op = new FvOperator(built);
  if (!(op.explicitLimit() > 0)) {
    // ψ differences overflowed the flux coefficients: every integrator would produce NaN or never finish.
    throw new InputError('f varies too steeply on this grid for float64 (the flux coefficients overflow): check the expression, its params and domain.bounds', { file, field: 'landscape' });
  }
  checkLandscapeScale(built, op, file);
  const regime = classifyRegime(grid, evalPoints, noise, land.compiled);
  return { scenario, file, grid, problem: built, op, regime, landscape: { source: land.source, doc: land.doc, evalPoints, compiled: land.compiled } };
}

export interface ProgressInfo {
  t: number;
  end: number;
  steps: number;
  point: SeriesPoint;
}

export interface RunOptions {
  /** Called at every report time. */
  onProgress?: (p: ProgressInfo) => void;
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
}

export interface RunResult {
  report: RunReport;
  density: Float64Array;
  setup: Setup;
  /** ρ at the report times asked for by RunOptions.snapshots (present only when asked). */
  snapshots?: { t: number; density: Float64Array }[];
}

/**
 * Tolerated negative density, relative to max ρ, per integrator: positivity is exact for explicit
 * Euler and for backward Euler with a direct solve; with PCG (2-D, 3-D) backward Euler's states
 * carry the CG error, which dipped to −1.3e-12 of max ρ on a healthy 40² OU run.
 */
function negativeTolerance(integrator: Pick<AsyncIntegrator, 'name' | 'solver'>, tolerance: number): number {
  if (integrator.name === 'explicit' || (integrator.name === 'backward-euler' && !(integrator.solver instanceof Pcg))) return 1e-12;
  return Math.max(10 * tolerance, 1e-9);
}

function checkHealth(rho: Float64Array, grid: Grid, t: number, steps: number, negTol: number, mass0: number): void {
  // Every message names step, time and cell (or the drift) and the likely cause, for the report's `error`.
  let maxV = 0;
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
  }
  let mass = 0;
  for (let i = 0; i < rho.length; i++) {
    mass += rho[i];
    if (rho[i] < -negTol * maxV) {
      throw new NumericalFault(
        `negative density ${rho[i].toExponential(3)} (beyond round-off, max ρ = ${maxV.toExponential(3)}) in cell ${i} at x = (${grid
          .centre(i)
          .map((c) => +c.toPrecision(6))
          .join(', ')}) by step ${steps}, t = ${t}: likely cause: explicit step above the positivity limit, or a noise floor too small for the grid`,
        'diverged',
      );
    }
  }
  mass *= grid.cellVolume;
  if (Math.abs(mass - mass0) > 1e-9 * mass0) {
    throw new NumericalFault(`mass drifted from ${mass0} to ${mass} by step ${steps}, t = ${t}: likely cause: a linear solve that did not converge`, 'diverged');
  }
}

/** Errors of the .npy reader name only the .npy file; the user needs the scenario and field that pointed there. */
function initialDensityFor(loaded: LoadedScenario, grid: Grid): Float64Array {
  try {
    return initialDensity(grid, loaded.scenario.initial, loaded);
  } catch (e) {
    if (e instanceof InputError && e.field === undefined) throw new InputError(e.message, { file: loaded.file, field: 'initial.file' });
    throw e;
  }
}

/** A pointed cause when the scenario itself asked for an explicit step above the positivity limit. */
function faultHint(integrator: Pick<AsyncIntegrator, 'name'>, time: Scenario['time'], limit: number): string {
  if (integrator.name === 'explicit' && time.dt !== undefined && time.dt > limit) {
    return `; time.dt = ${time.dt} is ${(time.dt / limit).toPrecision(3)}× the explicit limit ${limit.toPrecision(4)} on this grid: lower time.dt below it, or use integrator auto`;
  }
  return '';
}

function defaultDelta(problem: Problem): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of problem.f) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo + 1e-3 * (hi - lo);
}

/** Runs a scenario to its end time, measuring at every report time. */
export async function runScenario(loaded: LoadedScenario, opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const setup = setUp(loaded, { memoryLimit: opts.memoryLimit, memoryEstimate: { gap: opts.gap !== false, snapshots: opts.snapshots?.length ?? 0 } });
  const { scenario, grid, problem, op } = setup;
  const rho = initialDensityFor(loaded, grid);
  const time = scenario.time;
  checkStepBudget(loaded, op.explicitLimit());
  let resolved: ResolvedBackend;
  try {
    resolved = await resolveBackend(opts.backend ?? 'auto', op, { integrator: time.integrator });
  } catch (e) {
    if (e instanceof BackendUnavailable) throw new InputError(`--backend ${opts.backend ?? 'auto'}: ${e.message}`);
    throw e;
  }
  if (time.integrator === 'auto' && resolved.backend.info.precision === 'float32') checkStepBudget(loaded, op.explicitLimit(), { integrator: 'rkl2', backend: resolved.backend.info.name });
  let integrator: AsyncIntegrator;
  try {
    const req = { choice: time.integrator, dt: time.dt, tolerance: time.tolerance, reportEvery: time.reportEvery, end: time.end };
    integrator = selectIntegrator(op, req, resolved.backend);
  } catch (e) {
    resolved.backend.dispose();
    throw new InputError((e as Error).message, { file: loaded.file, field: 'time.integrator' });
  }
  const delta = scenario.diagnostics.delta ?? defaultDelta(problem);
  const tracker = new DistanceTracker(problem, delta, setup.regime.componentCells, setup.landscape.evalPoints);
  const negTol = negativeTolerance(integrator, integrator.tolerance ?? time.tolerance);
  const series: SeriesPoint[] = [tracker.measure(0, rho)];
  const mass0 = series[0].mass;
  const wanted = [...(opts.snapshots ?? [])].sort((a, b) => a - b);
  const snapshots: { t: number; density: Float64Array }[] = [];
  const keepSnapshot = (at: number): void => {
    let take = false;
    while (wanted.length > 0 && wanted[0] <= at * (1 + 1e-12)) take = wanted.shift() !== undefined;
    if (take) snapshots.push({ t: at, density: rho.slice() });
  };
  keepSnapshot(0);
  let status: RunStatus = 'ok';
  let error: string | undefined;
  let failure: ReportFailure | undefined;
  const nReports = Math.max(1, Math.round(time.end / time.reportEvery));
  const reportTimes = Array.from({ length: nReports }, (_, k) => (k + 1 === nReports ? time.end : (k + 1) * time.reportEvery));
  if (reportTimes.length > 1 && reportTimes[reportTimes.length - 2] >= time.end) reportTimes.pop();
  let t = 0;
  // The last state that passed the health check: a failed run reports it, never a NaN density.
  const good = rho.slice();
  let goodT = 0;
  let goodSteps = 0;
  const stopReason = (at: number): RunStatus | undefined => {
    if (opts.signal?.aborted) {
      error = `interrupted by a signal at t = ${at}`;
      return 'interrupted';
    }
    if (opts.maxWallSeconds !== undefined && (performance.now() - started) / 1000 > opts.maxWallSeconds) {
      error = `stopped at t = ${at} after the wall-clock limit of ${opts.maxWallSeconds} s (--max-wall)`;
      return 'incomplete';
    }
    return undefined;
  };
  // Mid-interval looks (a report interval can take minutes on a big grid) come after amounts of
  // work fixed by the problem (checkpoints.ts), never by the clock: continuing past one changes
  // no bit, and only a stop (signal, wall limit, fault) ends the run at a timing-dependent step.
  const work = new WorkCounter(integrator, grid.size);
  let yieldAt = YIELD_WORK;
  let healthAt = healthWork(grid.size);
  const lookUp = async (at: number, done: number): Promise<boolean> => {
    if (done >= healthAt) {
      healthAt = done + healthWork(grid.size);
      await integrator.peek(rho);
      checkHealth(rho, grid, at, integrator.stats.steps, negTol, mass0);
      good.set(rho);
      goodT = at;
      goodSteps = integrator.stats.steps;
    }
    // Let signal handlers and progress output run.
    await new Promise<void>((r) => setImmediate(r));
    const stop = stopReason(at);
    if (stop) status = stop;
    return stop !== undefined;
  };
  const checkpoint: Checkpoint = (at) => {
    const done = work.total();
    if (done < yieldAt) return false;
    yieldAt = done + YIELD_WORK;
    return lookUp(at, done);
  };
  // Set-up is synchronous (tens of seconds on 10⁷ cells): let a signal that came during it be seen before the first step.
  await new Promise<void>((r) => setImmediate(r));
  for (const tNext of reportTimes) {
    const stop = stopReason(t);
    if (stop) {
      status = stop;
      break;
    }
    let reached: number;
    try {
      const r = await integrator.advance(rho, t, tNext, checkpoint);
      reached = r < tNext ? r : tNext;
      checkHealth(rho, grid, reached, integrator.stats.steps, negTol, mass0);
    } catch (e) {
      status = 'failed';
      const f = describeStepFailure(e, Math.max(t, goodT), tNext);
      failure = f.failure;
      error =
        f.message +
        (f.failure.kind === 'numerical' ? faultHint(integrator, time, op.explicitLimit()) : '') +
        ` (last healthy state: step ${goodSteps}, t = ${goodT}; the report stops there)`;
      rho.set(good);
      if (goodT > t) series.push(tracker.measure(goodT, rho));
      break;
    }
    if (reached < tNext) {
      // Stopped at a checkpoint inside the interval (status set there): the state reached is healthy, the last point.
      if (reached > t) series.push(tracker.measure(reached, rho));
      break;
    }
    good.set(rho);
    goodT = reached;
    goodSteps = integrator.stats.steps;
    t = tNext;
    const point = tracker.measure(t, rho);
    series.push(point);
    keepSnapshot(t);
    opts.onProgress?.({ t, end: time.end, steps: integrator.stats.steps, point });
    const done = work.total();
    yieldAt = done + YIELD_WORK;
    healthAt = done + healthWork(grid.size);
    // Let signal handlers and progress output run between report intervals.
    await new Promise<void>((r) => setImmediate(r));
  }
  const report = buildReport({ loaded, setup, integrator, series, status, error, delta, tracker, wallSeconds: (performance.now() - started) / 1000, backend: resolved });
  if (failure) report.failure = failure;
  attachWalls(report, setup, rho);
  integrator.dispose();
  // A stopped run's budget is spent: the gap estimate (seconds to minutes on big grids) is skipped.
  if (opts.gap !== false && status !== 'interrupted' && status !== 'incomplete') await attachEstimates(report, setup, opts.signal);
  return { report, density: rho, setup, ...(opts.snapshots ? { snapshots } : {}) };
}

interface ReportInput {
  loaded: LoadedScenario;
  setup: Setup;
  integrator: AsyncIntegrator;
  series: SeriesPoint[];
  status: RunStatus;
  error?: string;
  delta: number;
  tracker: DistanceTracker;
  wallSeconds: number;
  backend: ResolvedBackend;
}

function buildReport(r: ReportInput): RunReport {
  const { setup, integrator, series } = r;
  const { grid, regime, op } = setup;
  // 'undecided': π may not exist, so it is read like 'collapsing' wherever the grid π would mislead.
  const collapsing = regime.regime !== 'converging';
  const meanLossPi = r.tracker.meanLossPi;
  const fitted = reportRates(series, { collapsing, meanLossPi, stepping: { integrator: integrator.name, dtMax: integrator.stats.dtMax > 0 ? integrator.stats.dtMax : null } });
  const { chi, kl, meanLoss } = fitted.rates;
  const notes: string[] = [];
  if (collapsing) {
    notes.push(
      `${regime.regime === 'undecided' ? 'π may not be integrable (regime "undecided" on this grid)' : 'π is not integrable (regime "collapsing")'}: l1, kl and chi2 are distances to the grid\'s π, an artifact that concentrates on the cells nearest the minimizers; read meanLoss, its rate, massBelowDelta, meanLogLoss and massNearZero instead.`,
    );
  }
  notes.push(...fitted.notes);
  const collapse = collapseReport(series);
  notes.push(...collapse.notes);
  notes.push(...exponentialNotes(integrator));
  const s = integrator.stats;
  const final = series[series.length - 1];
  // Only float32 states are renormalized (float64 mass is restored to round-off inside the steps).
  const massFix = r.backend.info.precision === 'float32' ? integrator.massCorrection : undefined;
  if (massFix && massFix.count > 0) {
    notes.push(
      `backend ${r.backend.info.name} is float32: each step's mass round-off (at most ${massFix.maxStepDrift.toExponential(2)} relative) was rescaled on the device by a float64-computed factor, and the remaining drift (at most ${massFix.maxRelativeDrift.toExponential(2)}) in float64 on the host at ${massFix.count} report times (docs/gpu.md).`,
    );
  }
  return {
    fpsolve: packageVersion(),
    createdAt: new Date().toISOString(),
    status: r.status,
    ...(r.error ? { error: r.error } : {}),
    scenarioFile: r.loaded.file,
    scenario: setup.scenario,
    landscape: { source: setup.landscape.source, ...(setup.landscape.doc ? { doc: setup.landscape.doc } : {}) },
    regime: regime.regime,
    regimeReason: regime.reason,
    regimeDetails: {
      infF: regime.infF,
      argminF: regime.argminF,
      alpha: regime.alpha ?? null,
      codimension: regime.codimension ?? null,
      sublevelExponent: regime.sublevelExponent ?? null,
      components: regime.components ?? [],
    },
    collapse,
    backend: r.backend.info.name,
    backendReason: r.backend.reason,
    device: r.backend.info.device,
    precision: r.backend.info.precision,
    ...(massFix ? { massRenormalization: { ...massFix } } : {}),
    cells: grid.n.slice(),
    grid: { bounds: grid.lo.map((lo, k) => [lo, grid.hi[k]] as [number, number]), cells: grid.n.slice(), h: grid.h.slice(), size: grid.size },
    integrator: {
      name: integrator.name,
      description: integrator.describe(),
      steps: s.steps,
      rejectedSteps: s.rejected,
      dtMin: Number.isFinite(s.dtMin) ? s.dtMin : null,
      dtMax: s.dtMax > 0 ? s.dtMax : null,
      explicitLimit: op.explicitLimit(),
      linearSolver: integrator.solver?.name ?? null,
      linearSolves: integrator.solver?.solves ?? 0,
      linearIterations: integrator.solver?.iterations ?? 0,
    },
    steps: s.steps,
    wallSeconds: r.wallSeconds,
    delta: r.delta,
    equilibrium: {
      meanLoss: meanLossPi,
      note: collapsing ? 'E_π[f] of the grid π (a grid artifact in the collapsing regime)' : 'E_π[f] of the discrete invariant density',
    },
    series,
    final,
    rates: { chi, kl, meanLoss },
    rateRefusals: fitted.refusals,
    notes,
  };
}
