/**
 * `fpsolve simulate --first-passage --from A --to B`: the Monte-Carlo counterpart of `fpsolve
 * committor` and `fpsolve escape` (issue #17: committors checked against simulate with many
 * particles, within its error bars). Particles start from the scenario's ρ₀ and run the SDE by
 * src/simulate/first-passage.ts until they enter A or B; the sets are the committor's, resolved
 * from the same specs (src/sets/), so the fraction hitting B first estimates the committor's
 * ∫ q ρ₀ / ∫ ρ₀ and the mean hitting time the escape's E T from ρ₀ (with A ∪ B absorbing).
 */
import { InputError } from '../errors.js';
import { MAX_PARTICLE_STEPS } from '../run/budget.js';
import type { Setup } from '../run/types.js';
import { Xoshiro128 } from '../data/rng.js';
import type { SdeSystem } from '../simulate/em.js';
import { sampleFromCells } from '../simulate/initial.js';
import { maxCurvature } from '../simulate/compare.js';
import { firstPassage, type Interval } from '../simulate/first-passage.js';
import { checkDisjoint, namedSets, parseSetSpec, resolveSet } from '../sets/sets.js';
import type { EscapeInput, SetInfo } from './compute.js';

export interface FirstPassageCliOptions {
  from: string;
  to: string;
  particles: number;
  seed: number;
  /** Euler–Maruyama step (default: 0.02 / the largest curvature, at most maxTime/100). */
  dt?: number;
  /** Paths still outside A ∪ B then stop (default: the scenario's time.end). */
  maxTime?: number;
  /** Of the Wilson interval (default 0.95). */
  confidence?: number;
}

/** report.json of `fpsolve simulate --first-passage`. */
export interface FirstPassageReport {
  command: 'simulate --first-passage';
  scenario: string;
  from: SetInfo;
  to: SetInfo;
  particles: number;
  seed: number;
  dt: number;
  maxTime: number;
  hitFrom: number;
  hitTo: number;
  unfinished: number;
  /** P(reach --to before --from) among the finished paths, with its Wilson interval. */
  probabilityTo: Interval | null;
  /** Mean time to reach --from ∪ --to over the finished paths, ± standard error. */
  meanTime: { estimate: number; stdErr: number; count: number } | null;
  description: string;
  notes: string[];
}

export function simulateFirstPassage(setup: Setup, input: EscapeInput, o: FirstPassageCliOptions): FirstPassageReport {
  const grid = setup.grid;
  const f = setup.problem.f;
  const all = namedSets(grid, f, input.zeros);
  const A = resolveSet('--from', parseSetSpec('--from', o.from, grid.dim), grid, f, all);
  const B = resolveSet('--to', parseSetSpec('--to', o.to, grid.dim), grid, f, all);
  checkDisjoint(grid, { option: '--from', set: A }, { option: '--to', set: B });
  const maxTime = o.maxTime ?? setup.scenario.time.end;
  let L = 0;
  try {
    // The step rule of `simulate`: 0.02 over the drift's stiffness.
    L = maxCurvature(setup.landscape.compiled, grid);
  } catch {
    // No symbolic Hessian: the maxTime/100 cap alone sets the step.
  }
  const dt = o.dt ?? Math.min(maxTime / 100, L > 0 ? 0.02 / L : Infinity);
  const steps = Math.ceil(maxTime / dt);
  if (!(steps * o.particles <= MAX_PARTICLE_STEPS)) {
    throw new InputError(
      `--max-time = ${maxTime} with step ${dt} needs ${steps} steps × ${o.particles} particles = ${(steps * o.particles).toExponential(2)} particle steps, at most ${MAX_PARTICLE_STEPS.toExponential(0)}: use a shorter --max-time, a larger --dt or fewer --particles`,
    );
  }
  let gradient;
  try {
    gradient = setup.landscape.compiled.gradient();
  } catch {
    throw new InputError('--first-passage: the landscape has no symbolic gradient (a data landscape?), which the Euler–Maruyama paths need', { field: 'landscape' });
  }
  const sys: SdeSystem = {
    lo: grid.lo.slice(),
    hi: grid.hi.slice(),
    f: (c, out) => setup.landscape.evalPoints(c, out),
    gradient: gradient.map((gk) => (c: readonly Float64Array[], out: Float64Array) => gk.evalPoints(c, out)),
    noise: setup.problem.noise,
  };
  // Start points from ρ₀ on a stream 2^64 draws ahead of the paths', so the two never share draws.
  const rng = new Xoshiro128(o.seed);
  rng.jump();
  const start = sampleFromCells(
    grid,
    input.rho0.map((v) => v * grid.cellVolume),
    o.particles,
    rng,
  );
  const r = firstPassage(sys, start, { grid, a: A.mask, b: B.mask, dt, maxTime, seed: o.seed, confidence: o.confidence ?? 0.95 });
  const notes: string[] = [];
  if (r.unfinished > 0) {
    notes.push(
      `${r.unfinished} of ${r.particles} paths reached neither set by t = ${maxTime}: the probability and mean time are over the finished paths only (biased towards fast passages); raise --max-time`,
    );
  }
  const info = (option: '--from' | '--to', s: typeof A): SetInfo => ({ option, label: s.label, cells: s.cells, point: s.point });
  return {
    command: 'simulate --first-passage',
    scenario: setup.scenario.name,
    from: info('--from', A),
    to: info('--to', B),
    particles: r.particles,
    seed: o.seed,
    dt,
    maxTime,
    hitFrom: r.hitA,
    hitTo: r.hitB,
    unfinished: r.unfinished,
    probabilityTo: r.probabilityB,
    meanTime: r.meanTime,
    description: `${r.description}; start points drawn from ρ₀`,
    notes,
  };
}

const p = (v: number): string => (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? String(+v.toPrecision(4)) : v.toExponential(3));

export function formatFirstPassage(r: FirstPassageReport): string {
  const lines = [`${r.scenario}: first passage of ${r.particles} particles from ρ₀, seed ${r.seed}; ${r.description}`];
  lines.push(`from: ${r.from.label} (${r.from.cells} cells), to: ${r.to.label} (${r.to.cells} cells)`);
  lines.push(`reached ${r.to.label} first: ${r.hitTo}, ${r.from.label} first: ${r.hitFrom}, neither by t = ${p(r.maxTime)}: ${r.unfinished}`);
  if (r.probabilityTo) {
    const q = r.probabilityTo;
    lines.push(`P(reach ${r.to.label} before ${r.from.label} | start from ρ₀) = ${p(q.estimate)}  (Wilson ${Math.round(q.confidence * 1000) / 10}% interval [${p(q.low)}, ${p(q.high)}])`);
  }
  if (r.meanTime) lines.push(`mean time to reach either set = ${p(r.meanTime.estimate)} ± ${p(r.meanTime.stdErr)} (standard error, ${r.meanTime.count} paths)`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
