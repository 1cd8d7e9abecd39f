import { Grid } from '../../solvers/grid.js';
import { Problem, isFault, type NoiseModel } from '../../solvers/problem.js';
import { FvOperator } from '../../solvers/operator.js';
import { classifyRegime } from '../diagnostics/regime.js';
import { resolveLandscape } from '../landscape/builtins.js';
import { InputError } from '../errors.js';
import { reversibleNoise } from '../noise/guard.js';
import type { LoadedScenario, NoiseSpec } from '../scenario/types.js';
import { initialDensity, reuseInitialDensity } from './initial.js';
import { reportCount } from './budget.js';
import { checkLandscapeScale } from '../landscape/check.js';
import { checkMemory, defaultMemoryLimit, estimateRunMemory } from '../resources/memory.js';
import type { AutoContext } from '../../solvers/backend/choose.js';
import { reportTimesOf } from './controller.js';
import type { PhaseInfo, RunOptions, Setup, SetupOptions } from './types.js';

export function noiseModel(given: NoiseSpec, file?: string): NoiseModel {
  const spec = reversibleNoise(given, file);
  return spec.model === 'multiplicative'
    ? { kind: 'multiplicative', etaSigma: spec.eta * spec.sigma, eps: spec.eps ?? 0 }
    : { kind: 'additive', D: spec.D };
}

/**
 * Scenario → grid, landscape, problem, operator, regime. Bad landscapes are input errors (exit 2),
 * and so are grids whose estimated memory exceeds the limit: that is checked before the first
 * grid-sized array exists. `onPhase` hears each phase as it starts (set-up is synchronous and
 * takes tens of seconds on 10⁷ cells; progress output says which part).
 */
export function setUp(loaded: LoadedScenario, opts: SetupOptions & { onPhase?: (p: PhaseInfo) => void } = {}): Setup {
  const { scenario, file } = loaded;
  const phase = (step: string): void => opts.onPhase?.({ phase: 'setup', step });
  checkMemory(estimateRunMemory(scenario.domain.cells, scenario.time.integrator, { reports: reportCount(scenario.time), ...opts.memoryEstimate }), opts.memoryLimit, file);
  phase('landscape on the grid');
  const grid = new Grid(scenario.domain.bounds, scenario.domain.cells);
  const land = resolveLandscape(scenario.landscape, grid.dim, file);
  const evalPoints = (coords: readonly Float64Array[], out: Float64Array): void => land.compiled.evalPoints(coords, out);
  const noise = noiseModel(scenario.noise, file);
  phase('π and the flux coefficients');
  // f at the centre and ln f at π's nodes come from the same evaluations (no pass of its own each).
  const keep = noise.kind === 'multiplicative' ? { centre: new Float64Array(grid.size), logF: opts.cellLogF ? new Float64Array(grid.size) : undefined } : {};
  const built = Problem.build(grid, evalPoints, noise, keep);
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
  phase('regime classification');
  const regime = classifyRegime(grid, evalPoints, noise, land.compiled, zeroSetKey(scenario), keep.centre);
  return {
    scenario,
    file,
    grid,
    problem: built,
    op,
    regime,
    landscape: { source: land.source, doc: land.doc, evalPoints, compiled: land.compiled },
    ...(keep.logF ? { cellLogF: keep.logF } : {}),
  };
}

/**
 * What determines the zero-set analysis (classifyRegime): the landscape and the grid. A data
 * landscape's file may change between runs of one process, so it gets no key (no reuse).
 */
function zeroSetKey(scenario: LoadedScenario['scenario']): string | undefined {
  const l = scenario.landscape;
  return 'data' in l ? undefined : JSON.stringify([l, scenario.domain.bounds, scenario.domain.cells]);
}

/** Errors of the .npy reader name only the .npy file; the user needs the scenario and field that pointed there. */
export function initialDensityFor(loaded: LoadedScenario, grid: Grid): Float64Array {
  try {
    return reuseInitialDensity(grid, loaded.scenario.initial, () => initialDensity(grid, loaded.scenario.initial, loaded));
  } catch (e) {
    if (e instanceof InputError && e.field === undefined) throw new InputError(e.message, { file: loaded.file, field: 'initial.file' });
    throw e;
  }
}

/** δ of the collapse diagnostic when the scenario gives none: 1e-3 of the range of f above its minimum. */
export function defaultDelta(problem: Problem): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of problem.f) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo + 1e-3 * (hi - lo);
}

/**
 * What `time.integrator: auto` decides from (solvers/backend/choose.ts autoIntegrator). The memory
 * check that setUp made counted auto as TR-BDF2, the smaller of the two: the exponential
 * integrator's Krylov vectors are checked here against the same limit.
 */
/** `rho0`: the scenario's initial density (also when resuming: the choice must be the uninterrupted run's). */
export function autoContext(setup: Setup, opts: RunOptions, rho0?: Float64Array): AutoContext {
  const { scenario } = setup;
  const estimate = estimateRunMemory(scenario.domain.cells, 'exponential', { gap: opts.gap !== false, snapshots: opts.snapshots?.length ?? 0, reports: reportCount(scenario.time) });
  const resumed = opts.resume?.integrator.name;
  let startFits = true;
  if (rho0) {
    // ‖ρ₀/√π‖², the norm the exponential integrator's first Krylov vector is scaled by.
    const s = setup.op.sqrtPi;
    let norm2 = 0;
    for (let i = 0; i < rho0.length; i++) norm2 += (rho0[i] / s[i]) ** 2;
    startFits = Number.isFinite(norm2);
  }
  return {
    // All of them, also when resuming: the choice must not depend on where a run was stopped.
    intervals: reportTimesOf(scenario.time).length,
    // Landscapes are functions of x, y, z and the noise parameters are constants (schema/scenario.schema.json).
    linearTimeIndependent: true,
    collapsing: setup.regime.regime === 'collapsing',
    startFits,
    exponentialFits: estimate.bytes <= (opts.memoryLimit ?? defaultMemoryLimit()).bytes,
    ...(typeof resumed === 'string' ? { resumedWith: resumed } : {}),
  };
}
