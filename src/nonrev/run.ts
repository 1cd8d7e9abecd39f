/**
 * `fpsolve run` for a scenario whose noise is a diffusion matrix (issue #18, docs/nonreversible.md).
 * There π is unknown and the dynamics need not be reversible, so the run differs from
 * runScenario (src/run/run.ts) in what it measures against: the steady state is SOLVED first
 * (Aρ = 0, Σ|K|ρ = 1), and every distance, rate and mass is taken against it; the reversible
 * path's regime verdict, π masses, critical limit, walls of π and Poincaré bounds are not computed
 * (they are statements about π ∝ f^−α or e^{−f/D}, which is not this process's law).
 */
import { Grid } from '../../solvers/grid.js';
import { cellAverages } from '../../solvers/quadrature.js';
import { Problem, isFault } from '../../solvers/problem.js';
import { classifyRegime } from '../diagnostics/regime.js';
import { reportRates } from '../diagnostics/rates.js';
import type { SeriesPoint } from '../diagnostics/distances.js';
import { resolveLandscape } from '../landscape/builtins.js';
import { FpsolveError, InputError, NumericalFault } from '../errors.js';
import { describeFailure, describeStepFailure } from '../failure-report.js';
import { packageVersion } from '../paths.js';
import type { LoadedScenario } from '../scenario/types.js';
import { reportTimesOf } from '../run/controller.js';
import { initialDensityFor } from '../run/setup.js';
import { checkHealth, SignalTracker, WallLimitTracker } from '../run/trackers.js';
import type { PhaseInfo, ProgressInfo, Snapshot, StopRequest } from '../run/types.js';
import { cellCurrent, currentStats, densityDistances, entropyProduction, gibbsFit, stationaryResidual } from './diagnostics.js';
import { SteadyDistances, whereMax } from './distances.js';
import { closedClasses } from './classes.js';
import { discretizationClause } from './accuracy.js';
import { estimateMatrixRunMemory } from './memory.js';
import { checkMemory, type MemoryLimit } from '../resources/memory.js';
import type { MatrixRunReport, MatrixRunResult, NonReversibleReport, NonrevEngine, NonsymGapReport, SteadyStateReport } from './types.js';

export interface MatrixRunOptions {
  onProgress?: (p: ProgressInfo) => void;
  onPhase?: (p: PhaseInfo) => void;
  signal?: AbortSignal;
  maxWallSeconds?: number;
  /** Times at which to keep ρ (figures), each at the first report time ≥ it. */
  snapshots?: readonly number[];
  /** The gap of the non-symmetric generator (default true). */
  gap?: boolean;
  /** Relative residual the steady-state solve must reach (default 1e-10). */
  steadyTolerance?: number;
  /** Refuse (exit 2) before allocating when the estimate exceeds it (default: 80 % of the machine, or FPSOLVE_MAX_MEMORY). */
  memoryLimit?: MemoryLimit;
}

/** The steady-state solve's target: far below the distances the series resolves (KL of 1e-13 is still read). */
const STEADY_TOLERANCE = 1e-10;
/** The gap's tolerance: a decay rate to 6 digits is more than any comparison uses. */
const GAP_TOLERANCE = 1e-8;

const yieldToEventLoop = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

export async function runMatrixScenario(loaded: LoadedScenario, engine: NonrevEngine, opts: MatrixRunOptions = {}): Promise<MatrixRunResult> {
  const started = performance.now();
  const wallSeconds = (): number => (performance.now() - started) / 1000;
  const { scenario, file } = loaded;
  const time = scenario.time;
  const phase = (step: string): void => opts.onPhase?.({ phase: 'setup', step });
  checkMemory(estimateMatrixRunMemory(scenario.domain.cells, reportTimesOf(time).length + 1), opts.memoryLimit, file);
  phase('landscape on the grid');
  const grid = new Grid(scenario.domain.bounds, scenario.domain.cells);
  const land = resolveLandscape(scenario.landscape, grid.dim, file);
  const evalPoints = (coords: readonly Float64Array[], out: Float64Array): void => land.compiled.evalPoints(coords, out);
  const f = Float64Array.from(cellAverages(grid, evalPoints));
  for (let i = 0; i < f.length; i++) {
    if (!Number.isFinite(f[i])) throw new InputError(`f is not finite (${f[i]}) near x = (${grid.centre(i).map((v) => +v.toPrecision(6)).join(', ')}); check the expression and domain.bounds`, { file, field: 'landscape' });
  }
  phase('diffusion matrix');
  const diffusion = engine.buildDiffusion(loaded, grid);
  phase('monotone scheme');
  const gen = assembleOrRefuse(engine, grid, diffusion, file);
  const notes: string[] = [];

  phase('zero set of f');
  const iso = diffusion.isotropicReference;
  // Only the components are used (mass near each zero): the regime verdict below is the isotropic model's, reported as such.
  const regime = classifyRegime(grid, evalPoints, iso ? { kind: 'multiplicative', etaSigma: iso.etaSigma, eps: iso.eps } : { kind: 'additive', D: 1 }, land.compiled);
  const componentCells = regime.componentCells ?? [];
  const zeroComponents = (regime.components ?? []).map((c) => ({ location: c.location, type: c.type }));

  phase('steady state');
  refuseSplitChain(gen.forward, grid, file);
  const ss = engine.steadyState(gen.forward, grid, { tolerance: opts.steadyTolerance ?? STEADY_TOLERANCE });
  const steady = ss.rho;
  const balance = stationaryResidual(gen.forward, steady);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of f) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const delta = scenario.diagnostics.delta ?? lo + 1e-3 * (hi - lo);
  const dist = new SteadyDistances(grid, f, steady, delta, componentCells);
  if (dist.clipped > 0) notes.push(`steadyState: ${dist.clipped} cell(s) of the solved steady state were ≤ 0 (solver round-off) and read as its least positive value in the distances.`);

  phase('initial density');
  const rho = initialDensityFor(loaded, grid);
  const stepper = engine.stepper(gen.forward, grid, { integrator: time.integrator, dt: time.dt, tolerance: time.tolerance, reportEvery: time.reportEvery });
  const pollers = [...(opts.signal ? [new SignalTracker(opts.signal)] : []), ...(opts.maxWallSeconds !== undefined ? [new WallLimitTracker(opts.maxWallSeconds, started)] : [])];
  let stop: StopRequest | undefined;
  const poll = (t: number): StopRequest | undefined => {
    for (const p of pollers) {
      const s = p.poll(t);
      if (s) return s;
    }
    return undefined;
  };
  const series: SeriesPoint[] = [dist.measure(0, rho)];
  const mass0 = series[0].mass;
  const wanted = [...(opts.snapshots ?? [])].sort((a, b) => a - b);
  const snapshots: Snapshot[] = [];
  const keep = (t: number): void => {
    let take = false;
    while (wanted.length > 0 && wanted[0] <= t * (1 + 1e-12)) take = wanted.shift() !== undefined;
    if (take) snapshots.push({ t, density: rho.slice() });
  };
  keep(0);
  const good = rho.slice();
  let goodT = 0;
  let status: MatrixRunReport['status'] = 'ok';
  let error: string | undefined;
  let failure: MatrixRunReport['failure'];
  // A Krylov solve per implicit step leaves its error in ρ: tolerate negatives at its level, as the reversible PCG path does (trackers.ts negativeTolerance).
  const negTol = Math.max(10 * time.tolerance, 1e-9);
  let t = 0;
  phase('done, stepping to the first report time');
  await yieldToEventLoop();
  for (const tNext of reportTimesOf(time)) {
    stop ??= poll(t);
    if (stop) break;
    let reached: number;
    try {
      reached = await stepper.advance(rho, t, tNext, async (at) => {
        await yieldToEventLoop();
        stop ??= poll(at);
        return stop !== undefined;
      });
      reached = Math.min(reached, tNext);
      checkHealth(rho, grid, reached, stepper.stats.steps, negTol, mass0);
    } catch (e) {
      const fd = describeStepFailure(e, goodT, tNext);
      status = 'failed';
      error = `${fd.message} (last healthy state: t = ${goodT}; the report stops there)`;
      failure = fd.failure;
      rho.set(good);
      break;
    }
    good.set(rho);
    goodT = reached;
    if (reached > t) series.push(dist.measure(reached, rho));
    t = reached;
    if (reached < tNext) break;
    keep(t);
    opts.onProgress?.({ t, end: time.end, steps: stepper.stats.steps, point: series[series.length - 1] });
    await yieldToEventLoop();
  }
  if (stop && status === 'ok') {
    status = stop.status;
    error = stop.error;
  }

  phase('non-reversible diagnostics');
  const current = cellCurrent(gen, steady);
  const cs = currentStats(grid, current);
  const ep = entropyProduction(gen, steady);
  const nonReversible: NonReversibleReport = {
    currentMax: cs.max,
    currentMaxAt: whereMax(grid, cs),
    currentL1: cs.l1,
    entropyProduction: ep.rate,
    oneWayPairs: ep.oneWayPairs,
    oneWayFlux: ep.oneWayFlux,
    isotropic: iso ? isotropicComparison(grid, evalPoints, iso, regime.regime, steady) : null,
    gibbs: gibbsFit(f, steady, grid.cellVolume),
    notes: [],
  };
  if (ep.oneWayPairs > 0) {
    nonReversible.notes.push(
      `${ep.oneWayPairs} pair(s) of cells have a rate in one direction only (the scheme's upwind remainder where D is singular), carrying ${ep.oneWayFlux.toExponential(3)} of probability per unit time: the chain's entropy production is infinite there; entropyProduction sums the two-way pairs only.`,
    );
  }
  const steadyReport: SteadyStateReport = {
    method: ss.method,
    iterations: ss.iterations,
    residual: ss.residual,
    balance,
    minRelative: minOverMax(steady),
    ...(ss.clipped !== undefined ? { clippedMass: ss.clipped } : {}),
    meanLoss: dist.meanLossSteady,
    massNearZero: componentCells.length > 0 ? dist.measure(0, steady).massNearZero ?? [] : [],
    zeroComponents,
  };

  const fitted = reportRates(series, { collapsing: false, meanLossPi: dist.meanLossSteady, stepping: { integrator: stepper.name, dtMax: stepper.stats.dtMax > 0 ? stepper.stats.dtMax : null } });
  // The rate fits speak of π; here the reference is the computed steady state.
  notes.push(...fitted.notes.map((n) => n.replace(/E_π/g, 'E_ss')));

  let gap: NonsymGapReport | null | undefined;
  if (opts.gap !== false && status !== 'interrupted' && status !== 'incomplete') {
    opts.onPhase?.({ phase: 'gap', step: 'first non-zero eigenvalue of the generator' });
    try {
      const g = engine.gap(gen.forward, grid, steady, { tolerance: GAP_TOLERANCE });
      gap = {
        re: g.re,
        im: g.im,
        value: -g.re,
        residual: g.residual,
        estimate: g.estimate ?? null,
        method: g.method ?? 'shift-invert Arnoldi',
        ritz: g.ritz,
        notes: [
          `μ₁ = ${g.re.toPrecision(6)}${g.im !== 0 ? ` ${g.im < 0 ? '−' : '+'} ${Math.abs(g.im).toPrecision(6)}i` : ''}: the eigenvalue of the discrete generator with the largest non-zero real part; ρ(t) − ρ_ss decays like e^{−${(-g.re).toPrecision(4)} t}${g.im !== 0 ? `, rotating with angular frequency ${Math.abs(g.im).toPrecision(4)}` : ''}. relative residual ‖Av − μv‖/(|μ|‖v‖) = ${g.residual.toExponential(2)}${g.estimate !== undefined ? `, change between the last two Krylov sizes ${g.estimate.toExponential(2)}` : ''}; for a non-normal A a small residual bounds μ's error only through the eigenvector's conditioning, so read it as a backward error. This is the eigenvalue of the discrete generator: ${discretizationClause(gen.stats)}`,
        ],
      };
    } catch (e) {
      gap = null;
      notes.push(`gap: not computed (${e instanceof FpsolveError && !(e instanceof NumericalFault) ? e.message : describeFailure(e).message})`);
    }
  }

  const s = stepper.stats;
  const report: MatrixRunReport = {
    fpsolve: packageVersion(),
    createdAt: new Date().toISOString(),
    kind: 'diffusion-matrix',
    status,
    ...(error !== undefined ? { error } : {}),
    ...(failure ? { failure } : {}),
    scenarioFile: file,
    scenario,
    landscape: { source: land.source, ...(land.doc ? { doc: land.doc } : {}) },
    noise: { model: scenario.noise.model, description: diffusion.description },
    backend: 'cpu',
    device: 'cpu',
    precision: 'float64',
    cells: grid.n.slice(),
    grid: { bounds: grid.lo.map((l, k) => [l, grid.hi[k]] as [number, number]), cells: grid.n.slice(), h: grid.h.slice(), size: grid.size },
    scheme: gen.stats,
    integrator: {
      name: stepper.name,
      description: stepper.describe(),
      steps: s.steps,
      rejectedSteps: s.rejected,
      dtMin: Number.isFinite(s.dtMin) && s.dtMin > 0 ? s.dtMin : null,
      dtMax: s.dtMax > 0 ? s.dtMax : null,
      linearSolver: stepper.solver?.name ?? null,
      linearSolves: stepper.solver?.solves ?? 0,
      linearIterations: stepper.solver?.iterations ?? 0,
    },
    steps: s.steps,
    wallSeconds: wallSeconds(),
    delta,
    zeroComponents,
    equilibrium: { meanLoss: dist.meanLossSteady, note: 'E[f] under the computed steady state (not under a π: the noise is a diffusion matrix)' },
    series,
    final: series[series.length - 1],
    rates: fitted.rates,
    rateRefusals: Object.fromEntries(Object.entries(fitted.refusals).map(([k, v]) => [k, v.replace(/E_π/g, 'E_ss')])),
    steadyState: steadyReport,
    nonReversible,
    ...(gap !== undefined ? { gap } : {}),
    notes: [
      'diffusion-matrix noise: l1, kl, chi2 and the rates are measured against the computed steady state (report.steadyState); the reversible blocks (regime verdict, basins and π masses, critical limit, Poincaré bounds) are not computed, since this process has no π of the form f^−α or e^{−f/D}.',
      ...notes,
    ],
  };
  return { kind: 'diffusion-matrix', report, density: rho, steady, current, grid, f, ...(opts.snapshots ? { snapshots } : {}) };
}

function minOverMax(v: Float64Array): number {
  let mn = Infinity;
  let mx = -Infinity;
  for (const x of v) {
    if (x < mn) mn = x;
    if (x > mx) mx = x;
  }
  return mx > 0 ? mn / mx : 0;
}

/**
 * π of the isotropic model with the same ησ (the cell-averaged discrete π of the reversible
 * scheme, solvers/problem.ts) against the steady state; none when that π is not integrable.
 */
function isotropicComparison(
  grid: Grid,
  evalPoints: (c: readonly Float64Array[], o: Float64Array) => void,
  iso: { etaSigma: number; eps: number },
  regime: NonNullable<NonReversibleReport['isotropic']>['regime'],
  steady: Float64Array,
): NonReversibleReport['isotropic'] {
  const base = { etaSigma: iso.etaSigma, eps: iso.eps, regime };
  if (regime !== 'converging') {
    return {
      ...base,
      integrable: false,
      l1: null,
      kl: null,
      note: `π_iso ∝ (f + ε)^−(1 + 2/ησ) is ${regime === 'collapsing' ? 'not integrable' : 'not known to be integrable'} here: the isotropic model collapses onto the zeros of f, so there is no law to compare with`,
    };
  }
  const built = Problem.build(grid, evalPoints, { kind: 'multiplicative', etaSigma: iso.etaSigma, eps: iso.eps });
  if (isFault(built)) return { ...base, integrable: false, l1: null, kl: null, note: `π_iso not computed: f is ${built.reason} near x = (${built.point.join(', ')})` };
  const pi = built.pi();
  built.dispose();
  const d = densityDistances(steady, pi, grid.cellVolume);
  return { ...base, integrable: true, l1: d.l1, kl: d.kl, note: 'L1 and KL(ρ_ss | π_iso), π_iso ∝ (f + ε)^−(1 + 2/ησ) on the grid (cell averages)' };
}

/**
 * The scheme refuses a D or drift that is finite but overflows once divided by h² (e.g. entries near
 * 1e308): that is the scenario's noise out of range, an input error naming the point, not an
 * internal one.
 */
function assembleOrRefuse(engine: NonrevEngine, grid: Grid, diffusion: ReturnType<NonrevEngine['buildDiffusion']>, file: string | undefined): ReturnType<NonrevEngine['assemble']> {
  try {
    return engine.assemble(grid, diffusion.field, diffusion.gradF);
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(`the finite-volume scheme cannot be built: ${e.message}`, { file, field: 'noise' });
    throw e;
  }
}

/**
 * More than one closed class: the process started in one part of the box never reaches another, so
 * there is no unique steady state to measure against (the chain's solvers would fail with "not
 * irreducible", or pick one). The noise model makes it so: an input the run cannot answer.
 */
function refuseSplitChain(a: Parameters<typeof closedClasses>[0], grid: Grid, file: string | undefined): void {
  const cc = closedClasses(a);
  if (cc.count <= 1) return;
  const at = (c: number): string => `(${grid.centre(c).map((v) => +v.toPrecision(4)).join(', ')})`;
  const shown = cc.classes.slice(0, 4).map((c) => (c.size === 1 ? `the cell at x = ${at(c.first)}` : `${c.size} cells from x = ${at(c.first)} to ${at(c.last)}`)).join('; ');
  throw new InputError(
    `the steady state is not unique: the scheme's chain splits into ${cc.count} closed classes (${shown}${cc.count > 4 ? '; …' : ''}) that no jump leaves: D vanishes where the drift −∇f does not cross (e.g. the Hessian model's H₊ = 0 where f is concave); allowed: a noise whose chain is connected (add a floor to D with model: matrix, or change the box)`,
    { file, field: 'noise.model' },
  );
}
