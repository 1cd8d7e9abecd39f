/**
 * The run controller (docs/design.md §5): advances the time stepper from report time to
 * report time and calls the trackers when they are due. It owns only the order of events; what
 * happens at them is the trackers' (trackers.ts). Mid-interval looks come after amounts of work
 * fixed by the problem (checkpoints.ts), never by the clock: continuing past one changes no bit,
 * and only a stop (signal, wall limit, a tracker's request, a fault) ends the run at a
 * timing-dependent step.
 */
import type { AsyncIntegrator, Checkpoint } from '../../solvers/backend/integrators.js';
import { describeStepFailure, type ReportFailure } from '../failure-report.js';
import type { RunStatus } from '../report/types.js';
import { WorkCounter, YIELD_WORK } from './checkpoints.js';
import type { HealthTracker, SeriesTracker } from './trackers.js';
import type { Setup, StopRequest, Tracker, TrackerAnswer, TrackerContext } from './types.js';

export interface ControllerInput {
  setup: Setup;
  integrator: AsyncIntegrator;
  /** The state, advanced in place. */
  rho: Float64Array;
  /** Where stepping starts (0, or a resumed run's checkpoint time). */
  t0: number;
  /** The report times still ahead, increasing, the end time last. */
  reportTimes: readonly number[];
  end: number;
  /** All trackers, in the order they are called; `series` among them (`health` is called first, apart). */
  trackers: readonly Tracker[];
  series: SeriesTracker;
  health: HealthTracker;
  /** A pointed cause appended to a fault's message. */
  faultHint: () => string;
}

export interface ControllerOutcome {
  status: RunStatus;
  error?: string;
  /** Why a failed run failed (kind, reason, where): src/failure-report.ts. */
  failure?: ReportFailure;
  /** The time the state reached (the last report time, or where a stop or the last healthy state was). */
  t: number;
}

/** Report times of a scenario's time block: every reportEvery, the end time last. */
export function reportTimesOf(time: { end: number; reportEvery: number }): number[] {
  const nReports = Math.max(1, Math.round(time.end / time.reportEvery));
  const reportTimes = Array.from({ length: nReports }, (_, k) => (k + 1 === nReports ? time.end : (k + 1) * time.reportEvery));
  if (reportTimes.length > 1 && reportTimes[reportTimes.length - 2] >= time.end) reportTimes.pop();
  return reportTimes;
}

const yieldToEventLoop = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

/** When a tracker with a simulated-time interval is next due after `t`: the first multiple of it above t. */
function nextDue(interval: number, t: number): number {
  return (Math.floor((t / interval) * (1 + 1e-12)) + 1) * interval;
}

export async function runController(c: ControllerInput): Promise<ControllerOutcome> {
  const { integrator, rho, setup, trackers, series, health } = c;
  const cells = setup.grid.size;
  let t = c.t0;
  let stop: StopRequest | undefined;
  const ctxAt = (at: number): TrackerContext => ({ t: at, end: c.end, steps: integrator.stats.steps, rho, setup, integrator, series: series.series });
  const due = trackers.map((k) => (k.interval !== undefined && k.interval > 0 ? nextDue(k.interval, c.t0) : 0));
  const take = (a: TrackerAnswer): void => {
    if (a && !stop) stop = a;
  };
  const poll = (at: number): StopRequest | undefined => {
    for (const k of trackers) {
      const s = k.poll?.(at);
      if (s) return s;
    }
    return undefined;
  };
  for (const k of trackers) take(await k.start?.(ctxAt(t)));

  const work = new WorkCounter(integrator, cells);
  const lookers = trackers.filter((k) => k.look && k.work !== undefined && k.work > 0);
  let yieldAt = YIELD_WORK;
  const lookAt = lookers.map((k) => k.work ?? Infinity);
  const rearm = (): void => {
    const done = work.total();
    yieldAt = done + YIELD_WORK;
    lookers.forEach((k, i) => (lookAt[i] = done + (k.work ?? Infinity)));
  };
  rearm();
  const checkpoint: Checkpoint = async (at) => {
    const done = work.total();
    if (done < yieldAt) return false;
    yieldAt = done + YIELD_WORK;
    for (let i = 0; i < lookers.length; i++) {
      if (done < lookAt[i]) continue;
      lookAt[i] = done + (lookers[i].work ?? Infinity);
      take(await lookers[i].look?.({ t: at, steps: integrator.stats.steps, integrator, work: done }));
    }
    // Let signal handlers and progress output run.
    await yieldToEventLoop();
    if (!stop) stop = poll(at);
    return stop !== undefined;
  };

  // Set-up is synchronous (tens of seconds on 10⁷ cells): let a signal that came during it be seen before the first step.
  await yieldToEventLoop();
  for (const tNext of c.reportTimes) {
    if (!stop) stop = poll(t);
    if (stop) break;
    let reached: number;
    try {
      const r = await integrator.advance(rho, t, tNext, checkpoint);
      reached = r < tNext ? r : tNext;
      // Health first, inside the fault handling: a state that fails it is not measured, kept or written.
      health.report(ctxAt(reached));
    } catch (e) {
      const f = describeStepFailure(e, Math.max(t, health.goodT), tNext);
      const error =
        f.message +
        (f.failure.kind === 'numerical' ? c.faultHint() : '') +
        ` (last healthy state: step ${health.goodSteps}, t = ${health.goodT}; the report stops there)`;
      rho.set(health.good);
      if (health.goodT > t) series.measure(health.goodT, rho);
      return { status: 'failed', error, failure: f.failure, t: health.goodT };
    }
    if (reached < tNext) {
      // Stopped at a checkpoint inside the interval (stop set there): the state reached is healthy, the last point.
      if (reached > t) series.measure(reached, rho);
      t = reached;
      break;
    }
    t = tNext;
    const ctx = ctxAt(t);
    for (let i = 0; i < trackers.length; i++) {
      const k = trackers[i];
      if (!k.report || k === health) continue;
      if (due[i] > 0) {
        if (t < due[i] * (1 - 1e-12)) continue;
        due[i] = nextDue(k.interval as number, t);
      }
      take(await k.report(ctx));
    }
    rearm();
    // Let signal handlers and progress output run between report intervals.
    await yieldToEventLoop();
  }
  return stop ? { status: stop.status, error: stop.error, t } : { status: 'ok', t };
}
