/**
 * Up-front refusals of settings that amount to a hang: a fixed step so small that reaching
 * time.end would take days, or more report times than a report can hold. Each is an InputError
 * (exit 2) naming the field and the count, because a run that never ends is worse than no run:
 * sweeps and CI jobs sit until their own timeout and report nothing.
 */
import { InputError } from '../errors.js';
import { RKL2_DEFAULT_STEP_FACTOR } from '../../solvers/backend/choose.js';
import type { LoadedScenario, TimeSpec } from '../scenario/types.js';

/** Explicit Euler steps beyond which a run cannot finish in any useful time (each step is one stencil pass). */
export const MAX_EXPLICIT_STEPS = 1e10;
/** RKL2 stages per step beyond which the stage-count search would not end and round-off dominates. */
export const MAX_RKL2_STAGES = 1e4;
/** Stencil passes of a whole RKL2 run (steps × stages); the same work as MAX_EXPLICIT_STEPS explicit steps. */
export const MAX_RKL2_WORK = MAX_EXPLICIT_STEPS;
/** Backward Euler steps with a fixed time.dt: each is a linear solve, ≥ 10 stencil passes. */
export const MAX_IMPLICIT_STEPS = 1e9;
/**
 * Most report times a run may have (time.end / time.reportEvery). Each one is a series point in
 * memory, in report.json and in series.csv (~1 KiB together), and a look at the whole grid.
 */
export const MAX_REPORT_TIMES = 100_000;
/** Particle steps (steps × particles) of `fpsolve simulate`: ~30 ns each, so ~1 h at the cap. */
export const MAX_PARTICLE_STEPS = 1e11;

/** The number of report times a run makes (as runScenario and simulate count them). */
export function reportCount(time: Pick<TimeSpec, 'end' | 'reportEvery'>): number {
  return Math.max(1, Math.round(time.end / time.reportEvery));
}

/** Refuses more report times than MAX_REPORT_TIMES (and counts that are not finite, e.g. reportEvery 5e-324). */
export function checkReportCount(time: Pick<TimeSpec, 'end' | 'reportEvery'>, file: string): void {
  const n = time.end / time.reportEvery;
  if (!(n <= MAX_REPORT_TIMES + 0.5)) {
    throw new InputError(
      `time.end / time.reportEvery must be at most ${MAX_REPORT_TIMES} report times, not ${Number.isFinite(n) ? n.toExponential(2) : String(n)} (time.end = ${time.end}): use a larger time.reportEvery`,
      { file, field: 'time.reportEvery' },
    );
  }
}

// A count past float64's range (time.end = 1e308 over a small step) reads as a bound, never as "Infinity".
const fmt = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : 'more than 1e308');

/**
 * Refuses fixed-step settings that amount to a hang on this grid's stiffness. `limit` is the
 * explicit (positivity) step limit of the operator. TR-BDF2 and the exponential integrator adapt
 * their steps (time.dt is only the first one), so only the fixed-step integrators are bounded here.
 * `autoIs` says what `auto` became on the chosen backend (RKL2 on float32).
 */
export function checkStepBudget(loaded: LoadedScenario, limit: number, autoIs?: { integrator: 'rkl2'; backend: string }): void {
  const time = loaded.scenario.time;
  // `auto` on a float32 backend is RKL2 (solvers/backend/choose.ts): run passes that in once the backend is known.
  const integrator = time.integrator === 'auto' && autoIs !== undefined ? autoIs.integrator : time.integrator;
  const fail = (field: string, msg: string): never => {
    throw new InputError(msg, { file: loaded.file, field });
  };
  if (time.integrator === 'explicit') {
    const dt = time.dt ?? 0.9 * limit;
    const steps = time.end / dt;
    if (!(steps <= MAX_EXPLICIT_STEPS)) {
      fail(time.dt === undefined ? 'time.integrator' : 'time.dt', `explicit Euler would take ${fmt(steps)} steps to reach time.end = ${time.end} (step ${dt.toExponential(3)}, positivity limit ${limit.toExponential(3)} on this grid; at most ${fmt(MAX_EXPLICIT_STEPS)}): use integrator auto, fewer cells or a shorter time.end`);
    }
  } else if (integrator === 'rkl2') {
    // Without time.dt RKL2 steps min(reportEvery, RKL2_DEFAULT_STEP_FACTOR · limit) (solvers/backend/choose.ts):
    // on a stiff grid or a long time.end that is as much a hang as a tiny fixed step.
    const dt = time.dt ?? Math.min(time.reportEvery, RKL2_DEFAULT_STEP_FACTOR * limit);
    const field = time.dt !== undefined ? 'time.dt' : integrator === time.integrator ? 'time.integrator' : 'time.end';
    const given = time.dt !== undefined ? `time.dt = ${time.dt}` : `the default step ${dt.toExponential(3)} (${integrator === time.integrator ? 'rkl2' : `integrator auto, which is RKL2 on ${autoIs!.backend}`})`;
    // (s² + s − 2)/4 · limit ≥ dt  ⇒  s ≈ 2√(dt/limit)
    const stages = Math.max(2, 2 * Math.sqrt(dt / limit));
    if (!(stages <= MAX_RKL2_STAGES)) {
      fail(field, `RKL2 would need ~${fmt(stages)} stages per step for ${given} (explicit limit ${limit.toExponential(3)} on this grid; at most ${MAX_RKL2_STAGES} are useful): use a smaller time.dt or integrator auto`);
    }
    const steps = time.end / Math.min(dt, time.reportEvery);
    if (!(steps * stages <= MAX_RKL2_WORK)) {
      fail(field, `RKL2 would take ${fmt(steps)} steps of ~${Math.ceil(stages)} stages (${fmt(steps * stages)} stencil passes, at most ${fmt(MAX_RKL2_WORK)}) to reach time.end = ${time.end} with ${given}, explicit limit ${limit.toExponential(3)} on this grid: use a shorter time.end, fewer cells, or integrator auto on the CPU backend`);
    }
  } else if (integrator === 'backward-euler') {
    // Without time.dt backward Euler takes min(reportEvery, end/100): at most 100 · MAX_REPORT_TIMES steps.
    const dt = Math.min(time.dt ?? Math.min(time.reportEvery, time.end / 100), time.reportEvery);
    const steps = time.end / dt;
    if (!(steps <= MAX_IMPLICIT_STEPS)) {
      // Name what the user set: without time.dt the step comes from time.end and time.reportEvery.
      const field = time.dt !== undefined ? 'time.dt' : 'time.end';
      const given = time.dt !== undefined ? `time.dt = ${time.dt}` : `the default step min(time.reportEvery, time.end/100) = ${dt} (time.reportEvery = ${time.reportEvery})`;
      fail(field, `backward Euler would take ${fmt(steps)} steps (one linear solve each) to reach time.end = ${time.end} with ${given}; at most ${fmt(MAX_IMPLICIT_STEPS)}: use a larger time.dt (it is unconditionally stable) or integrator auto`);
    }
  }
}

/** Refuses a Monte-Carlo run whose steps × particles exceed MAX_PARTICLE_STEPS. `field` names where dt came from. */
export function checkParticleBudget(end: number, dt: number, particles: number, field: { file?: string; field?: string; option?: string }): void {
  const steps = Math.ceil(end / dt);
  const work = steps * particles;
  if (!(work <= MAX_PARTICLE_STEPS)) {
    const what = field.option ?? 'the Euler–Maruyama step';
    throw new InputError(
      `${what} = ${dt} needs ${fmt(steps)} steps × ${particles} particles = ${fmt(work)} particle steps to reach time.end = ${end}, at most ${fmt(MAX_PARTICLE_STEPS)}: use a larger --dt, fewer --particles or a shorter time.end`,
      { file: field.file, field: field.field },
    );
  }
}
