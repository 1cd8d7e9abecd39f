/**
 * `fpsolve simulate`: particles against the PDE. Runs the scenario's PDE (runScenario, keeping ρ at
 * every report time), then Euler–Maruyama for its SDE and/or real mini-batch SGD for a data
 * landscape from the same initial law, and compares histograms on the scenario grid with the PDE
 * density: L1 with its Monte-Carlo noise floor, E[f] and the mass on each axis's lower half.
 */
import { checkParticleBudget } from '../run/budget.js';
import { Grid } from '../../solvers/grid.js';
import { noiseModel, runScenario } from '../run/run.js';
import { initialDensity } from '../run/initial.js';
import { resolveLandscape } from '../landscape/builtins.js';
import { resolveDataLandscape } from '../data/landscape.js';
import { InputError, NumericalFault } from '../errors.js';
import { packageVersion } from '../paths.js';
import type { LoadedScenario } from '../scenario/types.js';
import type { PointFunction } from '../../solvers/quadrature.js';
import type { CompiledExpr } from '../landscape/expr.js';
import { Xoshiro128 } from '../data/rng.js';
import { advanceSde, advanceSdeMatrix, type MatrixSdeSystem, type SdeSystem } from './em.js';
import { buildDiffusion } from '../noise/index.js';
import { isMatrixNoise } from '../scenario/types.js';
import { matrixPdeForSimulate } from '../nonrev/simulate-pde.js';
import { sgdSteps } from './sgd.js';
import { sampleInitial } from './initial.js';
import { countsToDensity, histogramCounts, l1NoiseFloor, marginal } from './histogram.js';
import type { Comparison, HalfMass, MethodReport, SimMethod, SimulateReport } from './types.js';

export interface SimulateOptions {
  particles: number;
  seed: number;
  /** Default: sgd for data landscapes with noise from data, sde otherwise. */
  methods?: readonly SimMethod[];
  /** Euler–Maruyama step; default min(reportEvery/50, 0.02/L) with L the largest curvature on the grid. */
  dt?: number;
  onProgress?: (message: string) => void;
}

export interface SimulateResult {
  report: SimulateReport;
  grid: Grid;
  /** PDE densities at the report times, stacked (times × cells). */
  pde: Float64Array;
  /** Histogram densities per method at the report times, stacked like `pde`. */
  histograms: Partial<Record<SimMethod, Float64Array>>;
}

/** Particle-count bounds: below 100 the floor formula is meaningless, above 10^7 memory and time run away. */
export const MIN_PARTICLES = 100;
export const MAX_PARTICLES = 10_000_000;

const pf = (e: CompiledExpr): PointFunction => (coords, out) => e.evalPoints(coords, out);

/** Largest |∂²f/∂θ_k²| over the cell centres of a grid of at most 128 cells per axis (sets the explicit step). */
export function maxCurvature(compiled: CompiledExpr, grid: Grid): number {
  const coarse = new Grid(
    grid.lo.map((lo, k) => [lo, grid.hi[k]!] as [number, number]),
    grid.n.map((n) => Math.min(n, 128)),
  );
  const coords = Array.from({ length: coarse.dim }, (_, k) => coarse.coordinateField(k));
  const out = new Float64Array(coarse.size);
  const h = compiled.hessian();
  let L = 0;
  for (let k = 0; k < coarse.dim; k++) {
    h[k]![k]!.evalPoints(coords, out);
    for (const v of out) if (Number.isFinite(v)) L = Math.max(L, Math.abs(v));
  }
  return L;
}

function centreValues(grid: Grid, e: CompiledExpr): Float64Array {
  const out = new Float64Array(grid.size);
  e.evalPoints(Array.from({ length: grid.dim }, (_, k) => grid.coordinateField(k)), out);
  return out;
}

/** Report times exactly as runScenario makes them. */
export function reportTimes(end: number, every: number): number[] {
  const n = Math.max(1, Math.round(end / every));
  const ts = Array.from({ length: n }, (_, k) => (k + 1 === n ? end : (k + 1) * every));
  if (ts.length > 1 && ts[ts.length - 2]! >= end) ts.pop();
  return ts;
}

function meanAndStdErr(v: Float64Array): { mean: number; se: number } {
  let s = 0;
  for (const x of v) s += x;
  const m = s / v.length;
  let q = 0;
  for (const x of v) q += (x - m) ** 2;
  return { mean: m, se: Math.sqrt(q / Math.max(1, v.length - 1) / v.length) };
}

/** Mass of a grid density below the midpoint of `axis` (the straddling cell of an odd axis counts half). */
function lowerHalfOfDensity(grid: Grid, rho: Float64Array, axis: number): number {
  const m = marginal(grid, rho, axis);
  const n = grid.n[axis]!;
  let s = 0;
  for (let j = 0; j < Math.floor(n / 2); j++) s += m[j]!;
  if (n % 2) s += 0.5 * m[(n - 1) / 2]!;
  return s * grid.h[axis]!;
}

function compare(
  grid: Grid,
  t: number,
  tSim: number,
  x: Float64Array[],
  rhoPde: Float64Array,
  fCells: Float64Array,
  fAt: PointFunction,
  histOut: Float64Array,
): Comparison {
  const N = x[0]!.length;
  const vol = grid.cellVolume;
  const counts = histogramCounts(grid, x);
  const rho = countsToDensity(grid, counts, N);
  histOut.set(rho);
  let mass = 0;
  for (const v of rhoPde) mass += v;
  mass *= vol;
  const p = new Float64Array(grid.size);
  let l1 = 0;
  let ePde = 0;
  for (let i = 0; i < grid.size; i++) {
    p[i] = (rhoPde[i]! * vol) / mass;
    l1 += Math.abs(counts[i]! / N - p[i]!);
    ePde += p[i]! * fCells[i]!;
  }
  const fv = new Float64Array(N);
  fAt(x, fv);
  const { mean, se } = meanAndStdErr(fv);
  const lowerHalfMass: HalfMass[] = grid.lo.map((lo, k) => {
    const mid = 0.5 * (lo + grid.hi[k]!);
    let below = 0;
    for (const v of x[k]!) if (v < mid) below++;
    const pde = lowerHalfOfDensity(grid, rhoPde, k) / mass;
    return { axis: k, mid, pde, mc: below / N, mcStdErr: Math.sqrt(Math.max(pde * (1 - pde), 0) / N) };
  });
  const floor = l1NoiseFloor(p, N);
  const c: Comparison = {
    t,
    tSimulated: tSim,
    l1,
    l1Floor: floor,
    l1OverFloor: floor > 0 ? l1 / floor : Infinity,
    meanLoss: { mc: mean, mcStdErr: se, pde: ePde, ratio: mean / ePde },
    lowerHalfMass,
  };
  if (grid.dim > 1) {
    c.marginals = grid.lo.map((_, k) => ({
      axis: k,
      pde: Array.from(marginal(grid, rhoPde, k), (v) => v / mass),
      mc: Array.from(marginal(grid, rho, k)),
    }));
  }
  return c;
}

/** Runs the comparison. Deterministic given (scenario, particles, seed, methods, dt). */
export async function simulateScenario(loaded: LoadedScenario, opts: SimulateOptions): Promise<SimulateResult> {
  const started = performance.now();
  const { scenario, file } = loaded;
  const N = opts.particles;
  if (!Number.isInteger(N) || N < MIN_PARTICLES || N > MAX_PARTICLES) {
    throw new InputError(`--particles must be an integer from ${MIN_PARTICLES} to ${MAX_PARTICLES} (got ${N})`);
  }
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) throw new InputError(`--seed must be an integer >= 0 (got ${opts.seed})`);
  const isData = 'data' in scenario.landscape;
  const fromData = scenario.noiseFromData;
  const methods: SimMethod[] = [...new Set<SimMethod>(opts.methods ?? [isData && fromData ? 'sgd' : 'sde'])];
  if (methods.includes('sgd') && !(isData && fromData)) {
    throw new InputError("--method sgd needs a data landscape with noise { model: from-data, eta, batch } (SGD takes η and B from there)", {
      file,
      field: 'noise.model',
    });
  }
  const times = reportTimes(scenario.time.end, scenario.time.reportEvery);

  opts.onProgress?.('solving the PDE');
  // Matrix noise has no reversible run (runScenario refuses it): its PDE is the non-reversible one.
  const matrixRun = isMatrixNoise(scenario.noise) ? await matrixPdeForSimulate(loaded, times) : undefined;
  const reversible = matrixRun ? undefined : await runScenario(loaded, { snapshots: times });
  const run = matrixRun ?? reversible!;
  if (run.report.status !== 'ok') {
    throw new NumericalFault(`the PDE run did not finish (status ${run.report.status}): ${'error' in run.report ? (run.report.error ?? '') : ''}`);
  }
  const grid = reversible ? reversible.setup.grid : matrixRun!.grid;
  const snaps = run.snapshots ?? [];
  const pde = new Float64Array(times.length * grid.size);
  times.forEach((t, r) => {
    const s = snaps.find((q) => Math.abs(q.t - t) <= 1e-12 * Math.max(1, t));
    if (s === undefined) throw new Error(`internal: no PDE snapshot at t = ${t}`);
    pde.set(s.density, r * grid.size);
  });

  const land = resolveLandscape(scenario.landscape, grid.dim, file);
  const fAt = pf(land.compiled);
  // A matrix-noise run has no reversible Problem (and its cell weights are not π's): E[f] of the PDE uses f at the cell centres there.
  const fCells = reversible ? reversible.setup.problem.f : centreValues(grid, land.compiled);
  const rho0 = initialDensity(grid, scenario.initial, loaded);
  const lo = grid.lo.slice();
  const hi = grid.hi.slice();
  const notes: string[] = [];
  const methodReports: MethodReport[] = [];
  const histograms: Partial<Record<SimMethod, Float64Array>> = {};

  for (const method of methods) {
    const t0 = performance.now();
    // One stream per method: the SGD stream is the SDE stream jumped ahead by 2^64 draws.
    const rng = new Xoshiro128(opts.seed);
    if (method === 'sgd') rng.jump();
    const x = sampleInitial(grid, scenario.initial, rho0, N, rng);
    const hist = new Float64Array(times.length * grid.size);
    const comparisons: Comparison[] = [];
    let steps = 0;
    let dt: number;
    let description: string;
    let batch: number | undefined;
    if (method === 'sde') {
      const L = maxCurvature(land.compiled, grid);
      const every = scenario.time.reportEvery;
      dt = opts.dt ?? Math.min(every / 50, L > 0 ? 0.02 / L : Infinity);
      checkParticleBudget(scenario.time.end, dt, N, opts.dt !== undefined ? { option: '--dt' } : { file, field: 'landscape' });
      let advance: (t0: number, t1: number) => number;
      if (isMatrixNoise(scenario.noise)) {
        const diffusion = buildDiffusion(loaded, grid);
        const sys: MatrixSdeSystem = { lo, hi, gradient: land.compiled.gradient().map(pf), diffusion: diffusion.field };
        description = `Euler–Maruyama for the Itô SDE dθ = −∇f dt + sqrt(2D(θ)) dW (symmetric square root per particle), ${diffusion.description}, reflecting walls`;
        advance = (t0, t1) => advanceSdeMatrix(sys, x, rng, t0, t1, dt);
      } else {
        const noise = noiseModel(scenario.noise, file);
        const sys: SdeSystem = { lo, hi, f: fAt, gradient: land.compiled.gradient().map(pf), noise };
        description =
          noise.kind === 'multiplicative'
            ? `Euler–Maruyama for dθ = −∇f dt + sqrt(ησ (f + ε)) dW, ησ = ${noise.etaSigma}, ε = ${noise.eps}, reflecting walls`
            : `Euler–Maruyama for dθ = −∇f dt + sqrt(2D) dW, D = ${noise.D}, reflecting walls`;
        advance = (t0, t1) => advanceSde(sys, x, rng, t0, t1, dt);
      }
      let t = 0;
      for (let r = 0; r < times.length; r++) {
        steps += advance(t, times[r]!);
        t = times[r]!;
        comparisons.push(compare(grid, t, t, x, pde.subarray(r * grid.size, (r + 1) * grid.size), fCells, fAt, hist.subarray(r * grid.size, (r + 1) * grid.size)));
        opts.onProgress?.(`sde: t = ${t}`);
        await new Promise<void>((res) => setImmediate(res));
      }
    } else {
      const { risk } = resolveDataLandscape(scenario.landscape as Extract<typeof scenario.landscape, { data: unknown }>, grid.dim, file);
      const { eta } = fromData!;
      batch = fromData!.batch;
      dt = eta;
      checkParticleBudget(scenario.time.end, dt, N * batch, { file, field: 'noise.eta' });
      description = `mini-batch SGD θ ← θ − η·mean of ∇ℓ over B indices drawn with replacement, η = ${eta}, B = ${batch}, t = k·η, reflecting walls`;
      let k = 0;
      for (let r = 0; r < times.length; r++) {
        const target = Math.round(times[r]! / eta);
        if (target > k) sgdSteps(risk, x, rng, { eta, batch, lo, hi }, target - k);
        steps += Math.max(0, target - k);
        k = Math.max(k, target);
        const tSim = k * eta;
        if (Math.abs(tSim - times[r]!) > 1e-9 * Math.max(1, times[r]!)) {
          notes.push(`sgd: report time ${times[r]} is not a multiple of η = ${eta}; SGD is compared after ${k} steps (t = ${tSim}).`);
        }
        comparisons.push(compare(grid, times[r]!, tSim, x, pde.subarray(r * grid.size, (r + 1) * grid.size), fCells, fAt, hist.subarray(r * grid.size, (r + 1) * grid.size)));
        opts.onProgress?.(`sgd: step ${k}`);
        await new Promise<void>((res) => setImmediate(res));
      }
    }
    histograms[method] = hist;
    methodReports.push({ method, description, dt, ...(batch !== undefined ? { batch } : {}), steps, wallSeconds: (performance.now() - t0) / 1000, comparisons });
  }

  if (fromData) {
    notes.push('noise from data: the PDE uses the isotropic multiplicative closure of the SGD noise; see noiseFromData.assumptions and .warnings.');
  }
  const regime = reversible ? reversible.report.regime : null;
  if (regime !== null && regime !== 'converging') {
    // 'undecided' may be collapsing: the same caveat applies.
    notes.push(`the PDE is in the ${regime} regime: densities pile up in the cells next to the minimizers, where histogram and PDE both resolve the collapse only to the grid spacing.`);
  }
  const report: SimulateReport = {
    fpsolve: packageVersion(),
    createdAt: new Date().toISOString(),
    status: 'ok',
    scenarioFile: file,
    scenario,
    landscape: { source: land.source, doc: land.doc },
    seed: opts.seed,
    particles: N,
    rng: 'xoshiro128** seeded by SplitMix64; normals by Marsaglia polar method; the SGD stream is the SDE stream jumped by 2^64',
    walls: 'reflecting: a step that leaves the box is mirrored back into it',
    grid: { bounds: grid.lo.map((l, k) => [l, grid.hi[k]!] as [number, number]), cells: grid.n.slice() },
    pde: { integrator: run.report.integrator.name, steps: run.report.steps, wallSeconds: run.report.wallSeconds, status: run.report.status },
    times,
    methods: methodReports,
    ...(fromData ? { noiseFromData: fromData } : {}),
    notes,
    wallSeconds: (performance.now() - started) / 1000,
  };
  return { report, grid, pde, histograms };
}
