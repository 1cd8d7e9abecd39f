/**
 * The run controller and its trackers (issue #21.4): schedules in simulated time and in counted
 * work, custom trackers from the library API, and stops requested by a tracker. Checked against
 * the report times computed here from the scenario's time block, masses summed here from ρ, and
 * a run to the stopping time made without any tracker.
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/run/run.js';
import { reportTimesOf } from '../src/run/controller.js';
import { negativeTolerance } from '../src/run/trackers.js';
import { YIELD_WORK } from '../src/run/checkpoints.js';
import type { LookContext, PhaseInfo, Tracker, TrackerContext } from '../src/run/types.js';
import { loadBundled } from './helpers/run-inline.js';

// 200 cells to t = 1 in reports of 0.1: ten report times, under a second in-process.
const SMALL = ['domain.cells=[200]', 'time.end=1', 'time.reportEvery=0.1'];

/** The first report time at or after each multiple of `every` up to the end, written out plainly. */
function expectedFirings(times: number[], every: number, end: number): number[] {
  const out: number[] = [];
  for (let k = 1; k * every <= end * (1 + 1e-12); k++) {
    const m = k * every;
    const first = times.find((r) => r >= m * (1 - 1e-12));
    if (first !== undefined && !out.includes(first)) out.push(first);
  }
  return out;
}

describe('run controller and trackers', () => {
  it('report times are every reportEvery with the end time last (also when end is not a multiple)', () => {
    expect(reportTimesOf({ end: 1, reportEvery: 0.25 })).toEqual([0.25, 0.5, 0.75, 1]);
    const odd = reportTimesOf({ end: 1.05, reportEvery: 0.1 });
    expect(odd[odd.length - 1]).toBe(1.05);
    expect(odd.length).toBe(11);
    for (let i = 1; i < odd.length; i++) expect(odd[i]).toBeGreaterThan(odd[i - 1]);
  });

  it('a tracker without interval sees t = 0 at start and every report time, with ρ the state there (its mass is the series point’s)', async () => {
    const loaded = loadBundled('pearson-1d', SMALL);
    const seen: number[] = [];
    const starts: number[] = [];
    const massErrors: number[] = [];
    const tracker: Tracker = {
      name: 'watch',
      start: (ctx) => void starts.push(ctx.t),
      report: (ctx: TrackerContext) => {
        seen.push(ctx.t);
        const h = ctx.setup.grid.h[0];
        let m = 0;
        for (const v of ctx.rho) m += v * h;
        const point = ctx.series[ctx.series.length - 1];
        expect(point.t).toBe(ctx.t);
        massErrors.push(Math.abs(m - point.mass));
        // ρ must not be the point's copy: a density no more negative than the health check allows
        // its integrator (auto runs this one with the exponential integrator, not positive by construction).
        const negTol = negativeTolerance(ctx.integrator, ctx.integrator.tolerance ?? loaded.scenario.time.tolerance);
        expect(Math.min(...ctx.rho)).toBeGreaterThanOrEqual(-negTol * Math.max(...ctx.rho));
      },
    };
    const r = await runScenario(loaded, { gap: false, trackers: [tracker] });
    expect(r.report.status).toBe('ok');
    expect(starts).toEqual([0]);
    expect(seen).toEqual(reportTimesOf(loaded.scenario.time));
    expect(seen).toEqual(r.report.series.slice(1).map((p) => p.t));
    expect(Math.max(...massErrors)).toBeLessThan(1e-12);
  });

  it('trackers with an interval in simulated time fire at the first report time at or after each multiple of it', async () => {
    const loaded = loadBundled('pearson-1d', SMALL);
    const times = reportTimesOf(loaded.scenario.time);
    const fired: Record<string, number[]> = { a: [], b: [], c: [] };
    const mk = (name: string, interval: number): Tracker => ({ name, interval, report: (ctx) => void fired[name].push(ctx.t) });
    await runScenario(loaded, { gap: false, trackers: [mk('a', 0.25), mk('b', 0.3), mk('c', 0.5)] });
    expect(fired.a).toEqual(expectedFirings(times, 0.25, 1));
    expect(fired.b).toEqual(expectedFirings(times, 0.3, 1));
    expect(fired.c).toEqual(expectedFirings(times, 0.5, 1));
    // Spot values: 0.25 → 0.3, 0.5, 0.8, 1 (no report time at 0.25 or 0.75).
    expect(fired.a.map((t) => +t.toFixed(12))).toEqual([0.3, 0.5, 0.8, 1]);
  });

  it('a tracker that asks to stop ends the run "incomplete" at that report time, on the numbers of a run that ends there', async () => {
    const stopAt = 0.45;
    const tracker: Tracker = {
      name: 'stopper',
      report: (ctx) => (ctx.t >= stopAt ? { status: 'incomplete', error: `custom stop at ${ctx.t}` } : undefined),
    };
    const after: number[] = [];
    const late: Tracker = { name: 'after-stopper', report: (ctx) => void after.push(ctx.t) };
    const stopped = await runScenario(loadBundled('pearson-1d', SMALL), { gap: false, trackers: [tracker, late] });
    expect(stopped.report.status).toBe('incomplete');
    expect(stopped.report.error).toMatch(/^custom stop at 0\.5/);
    expect(stopped.report.final.t).toBeCloseTo(0.5, 12);
    // Trackers after the one that stopped still see the last report time.
    expect(after[after.length - 1]).toBe(stopped.report.final.t);
    // The steps of [0, 0.5] are planned per report interval: a run with end 0.5 takes the same ones.
    const short = await runScenario(loadBundled('pearson-1d', [...SMALL, 'time.end=0.5']), { gap: false });
    expect(Buffer.from(stopped.density.buffer).equals(Buffer.from(short.density.buffer))).toBe(true);
    expect(stopped.report.series.map((p) => p.l1)).toEqual(short.report.series.map((p) => p.l1));
    expect(stopped.report.steps).toBe(short.report.steps);
  });

  it('stopAfter stops at the first report time at or after it, status "incomplete"; at the end time it is a normal end', async () => {
    const r = await runScenario(loadBundled('pearson-1d', SMALL), { gap: false, stopAfter: 0.31 });
    expect(r.report.status).toBe('incomplete');
    expect(r.report.final.t).toBeCloseTo(0.4, 12);
    expect(r.report.error).toMatch(/--stop-after 0\.31/);
    const full = await runScenario(loadBundled('pearson-1d', SMALL), { gap: false, stopAfter: 1 });
    expect(full.report.status).toBe('ok');
  });

  it('a tracker with a work interval looks inside report intervals, at least that much counted work apart', async () => {
    // Explicit Euler on 2000 cells: thousands of steps per report interval, several yields.
    const loaded = loadBundled('pearson-1d', ['time.end=0.02', 'time.reportEvery=0.01', 'time.integrator=explicit']);
    const looks: LookContext[] = [];
    const every = 2 * YIELD_WORK;
    const r = await runScenario(loaded, { gap: false, trackers: [{ name: 'looker', work: every, look: (ctx) => void looks.push({ ...ctx }) }] });
    const cells = loaded.scenario.domain.cells[0];
    // Work per interval = steps × cells for explicit Euler (one pass per step).
    const perInterval = (r.report.steps / 2) * cells;
    expect(perInterval).toBeGreaterThan(2 * every);
    expect(looks.length).toBeGreaterThan(0);
    for (let i = 1; i < looks.length; i++) {
      if (looks[i].t > looks[i - 1].t && Math.floor(looks[i].t / 0.01 + 1e-9) === Math.floor(looks[i - 1].t / 0.01 + 1e-9)) {
        expect(looks[i].work - looks[i - 1].work).toBeGreaterThanOrEqual(every);
      }
    }
    // Looks are strictly inside intervals, never at a report time.
    for (const l of looks) expect([0.01, 0.02].some((t) => Math.abs(l.t - t) < 1e-15)).toBe(false);
    // And looking changes no bit: the same run without the tracker.
    const plain = await runScenario(loadBundled('pearson-1d', ['time.end=0.02', 'time.reportEvery=0.01', 'time.integrator=explicit']), { gap: false });
    expect(Buffer.from(plain.density.buffer).equals(Buffer.from(r.density.buffer))).toBe(true);
  });

  it('a stop asked for mid-interval by a look ends the run there with the state reached as the last point', async () => {
    const loaded = loadBundled('pearson-1d', ['time.end=0.02', 'time.reportEvery=0.01', 'time.integrator=explicit']);
    let first: number | undefined;
    const r = await runScenario(loaded, {
      gap: false,
      trackers: [{ name: 'stop-inside', work: YIELD_WORK, look: (ctx) => ((first ??= ctx.t), { status: 'interrupted', error: `stopped inside at ${ctx.t}` }) }],
    });
    expect(r.report.status).toBe('interrupted');
    expect(first).toBeDefined();
    expect(r.report.final.t).toBe(first);
    expect(r.report.final.t).toBeLessThan(0.01);
  });

  it('set-up phases and the gap are reported through onPhase, in order', async () => {
    const phases: PhaseInfo[] = [];
    await runScenario(loadBundled('pearson-1d', SMALL), { onPhase: (p) => phases.push(p) });
    const steps = phases.filter((p) => p.phase === 'setup').map((p) => p.step);
    expect(steps).toEqual(['landscape on the grid', 'π and the flux coefficients', 'regime classification', 'initial density', 'backend and integrator', 'done, stepping to the first report time']);
    const gap = phases.filter((p) => p.phase === 'gap');
    expect(gap.length).toBeGreaterThan(0);
    const counts = gap.map((p) => (p.phase === 'gap' ? (p.iterations ?? 0) : 0));
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]);
  });
});
