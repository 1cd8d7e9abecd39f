/**
 * A run with --out that stops early (SIGTERM/SIGINT → interrupted, --max-wall → incomplete, a
 * tracker's request) writes a checkpoint of the last report time's state, so `run --resume`
 * continues it to the end on the numbers of one uninterrupted run (issue #20.3, docs/outputs.md
 * "Checkpoints and restart"). The uninterrupted run is made in-process, independently of any
 * checkpoint; the stops come from work-counted looks or report-time answers of a test tracker
 * (library API). A failed run leaves no checkpoint. The same through whole processes (SIGTERM,
 * --max-wall) is in test/resume.test.ts, with the other CLI restart tests (the e2e project).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../src/run/run.js';
import type { StopRequest, Tracker } from '../src/run/types.js';
import { loadScenario } from '../src/scenario/load.js';
import { reportJson } from '../src/report/write.js';
import { readCheckpoint } from '../src/run/restart.js';
import { NumericalFault } from '../src/errors.js';
import { ROOT } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fpsolve-restart-stop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PEARSON = join(ROOT, 'scenarios', 'pearson-1d.yaml');
const OU = join(ROOT, 'scenarios', 'ou-2d.yaml');
const withoutClock = (json: string): Record<string, unknown> => {
  const r = JSON.parse(json) as Record<string, unknown>;
  delete r.createdAt;
  delete r.wallSeconds;
  return r;
};
const sameBits = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Asks to stop at its `k`-th mid-interval look (work-counted, so at the same step on any machine). */
function stopAtLook(k: number): Tracker {
  let n = 0;
  return { name: 'test-stop-look', work: 1, look: (): StopRequest | undefined => (++n === k ? { status: 'interrupted', error: `test stop at look ${k}` } : undefined) };
}

/** Asks to stop at its `k`-th report time. */
function stopAtReport(k: number): Tracker {
  let n = 0;
  return { name: 'test-stop-report', report: (): StopRequest | undefined => (++n === k ? { status: 'incomplete', error: `test stop at report ${k}` } : undefined) };
}

// Adaptive TR-BDF2 (its step proposal must survive the roll-back), in 2-D and on 1-D's tridiagonal path.
// (auto picks the exponential integrator for these few report intervals, which looks only at report
// times: its stop is tested at a report time below.)
const TWO_D = { file: OU, set: ['domain.cells=[64,64]', 'time.end=0.8', 'time.reportEvery=0.2', 'time.integrator=trbdf2'] };
const ONE_D = { file: PEARSON, set: ['domain.cells=[20000]', 'time.end=0.5', 'time.reportEvery=0.1', 'time.integrator=trbdf2'] };
const ONE_D_AUTO = { file: PEARSON, set: ['domain.cells=[20000]', 'time.end=0.5', 'time.reportEvery=0.1'] };

describe('library: a stop writes the last report time’s state to stopCheckpointDir; resume equals one uninterrupted run', () => {
  // Which look: one inside the second report interval for these grids (about t = 0.28 and 0.27;
  // asserted below, so the test cannot pass on a stop before the first report time).
  for (const [name, c, look] of [
    ['2-D trbdf2', TWO_D, 16],
    ['1-D trbdf2', ONE_D, 8],
  ] as const) {
    it(`${name}: stop inside an interval rolls back to the last report time`, async () => {
      const whole = await runScenario(loadScenario(c.file, c.set), { gap: false });
      expect(whole.report.status).toBe('ok');
      const cdir = join(dir, `${name.replace(/\W+/g, '-')}-mid`);
      const stopped = await runScenario(loadScenario(c.file, c.set), { gap: false, stopCheckpointDir: cdir, trackers: [stopAtLook(look)] });
      expect(stopped.report.status).toBe('interrupted');
      const cp = readCheckpoint(cdir);
      expect(stopped.checkpoint).toEqual({ dir: cdir, t: cp.state.t });
      // Mid-interval: the report's last point is past the checkpoint, which is a report time reached before it.
      expect(cp.state.t).toBeGreaterThan(0);
      expect(stopped.report.final.t).toBeGreaterThan(cp.state.t);
      const reportTimes = whole.report.series.map((p) => p.t);
      expect(reportTimes).toContain(cp.state.t);
      // The kept state is the uninterrupted run's at that time, and the series up to it.
      const k = reportTimes.indexOf(cp.state.t);
      expect(cp.state.series).toEqual(JSON.parse(reportJson(whole.report)).series.slice(0, k + 1));
      expect(cp.state.series.at(-1)!.l1).toBe(whole.report.series[k].l1);

      const resumed = await runScenario(cp.loaded, { gap: false, resume: cp.state });
      expect(resumed.report.status).toBe('ok');
      expect(withoutClock(reportJson(resumed.report))).toEqual(withoutClock(reportJson(whole.report)));
      expect(sameBits(resumed.density, whole.density)).toBe(true);
    });
  }

  for (const [name, c] of [
    ['2-D trbdf2', TWO_D],
    ['1-D auto (exponential)', ONE_D_AUTO],
  ] as const)
  it(`${name}: a stop at a report time saves that time; with --checkpoints-style periodic writes too`, async () => {
    const whole = await runScenario(loadScenario(c.file, c.set), { gap: false });
    if (c === ONE_D_AUTO) expect(whole.report.integrator?.name).toBe('exponential');
    for (const periodic of [false, true]) {
      const cdir = join(dir, `report-stop-${name.replace(/\W+/g, '-')}-${periodic}`);
      const opts = periodic ? { checkpointDir: cdir } : { stopCheckpointDir: cdir };
      const stopped = await runScenario(loadScenario(c.file, c.set), { gap: false, ...opts, trackers: [stopAtReport(2)] });
      expect(stopped.report.status).toBe('incomplete');
      const cp = readCheckpoint(cdir);
      expect(cp.state.t).toBeCloseTo(c === TWO_D ? 0.4 : 0.2, 12);
      expect(stopped.report.final.t).toBe(cp.state.t);
      expect(sameBits(cp.state.density, stopped.density)).toBe(true);
      const resumed = await runScenario(cp.loaded, { gap: false, resume: cp.state });
      expect(withoutClock(reportJson(resumed.report))).toEqual(withoutClock(reportJson(whole.report)));
      expect(sameBits(resumed.density, whole.density)).toBe(true);
    }
  });

  it('exponential: a stop between the shift-invert solves of an interval keeps the interval start; resume equals one uninterrupted run', async () => {
    // Before, the exponential integrator ran a whole report interval before a stop was seen (minutes on large grids).
    const c = { file: OU, set: ['domain.cells=[64,64]', 'time.end=0.8', 'time.reportEvery=0.2', 'time.integrator=exponential'] };
    const whole = await runScenario(loadScenario(c.file, c.set), { gap: false });
    expect(whole.report.status).toBe('ok');
    const cdir = join(dir, 'exponential-mid');
    let looks = 0;
    const stop: Tracker = { name: 'test-stop-look', work: 1, look: (): StopRequest | undefined => (++looks === 2 ? { status: 'interrupted', error: 'test stop at look 2' } : undefined) };
    const stopped = await runScenario(loadScenario(c.file, c.set), { gap: false, stopCheckpointDir: cdir, trackers: [stop] });
    expect(stopped.report.status).toBe('interrupted');
    // Stopped inside the first interval: its start is the state kept, untouched by the solves so far.
    expect(stopped.report.final.t).toBe(0);
    const cp = readCheckpoint(cdir);
    expect(cp.state.t).toBe(0);
    expect(sameBits(cp.state.density, stopped.density)).toBe(true);
    expect(cp.state.series).toEqual(JSON.parse(reportJson(whole.report)).series.slice(0, 1));
    const resumed = await runScenario(cp.loaded, { gap: false, resume: cp.state });
    expect(withoutClock(reportJson(resumed.report))).toEqual(withoutClock(reportJson(whole.report)));
    expect(sameBits(resumed.density, whole.density)).toBe(true);
  });

  it('a failed run (numerical fault) writes no checkpoint; a finished one neither', async () => {
    const cdir = join(dir, 'failed');
    let n = 0;
    const fault: Tracker = {
      name: 'test-fault',
      work: 1,
      // Inside the stepping, as a health check's fault is (report-time faults come from the health tracker alone).
      look: () => {
        if (++n === 8) throw new NumericalFault('test fault at the eighth look', 'diverged');
      },
    };
    const failed = await runScenario(loadScenario(ONE_D.file, ONE_D.set), { gap: false, stopCheckpointDir: cdir, trackers: [fault] });
    expect(failed.report.status).toBe('failed');
    expect(failed.checkpoint).toBeUndefined();
    expect(existsSync(join(cdir, 'state.json'))).toBe(false);
    const ok = await runScenario(loadScenario(ONE_D.file, ONE_D.set), { gap: false, stopCheckpointDir: cdir });
    expect(ok.report.status).toBe('ok');
    expect(existsSync(join(cdir, 'state.json'))).toBe(false);
  });
});
