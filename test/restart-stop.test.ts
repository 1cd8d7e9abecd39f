/**
 * A run with --out that stops early (SIGTERM/SIGINT → interrupted, --max-wall → incomplete, a
 * tracker's request) writes a checkpoint of the last report time's state, so `run --resume`
 * continues it to the end on the numbers of one uninterrupted run (issue #20.3, docs/outputs.md
 * "Checkpoints and restart"). The uninterrupted run is made in-process, independently of any
 * checkpoint; the stops come from work-counted looks or report-time answers of a test tracker
 * (library API), or from a signal sent once the CLI says it is stepping (whatever step the signal
 * lands on, the resumed numbers must be the same). A failed run leaves no checkpoint.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../src/run/run.js';
import type { StopRequest, Tracker } from '../src/run/types.js';
import { loadScenario } from '../src/scenario/load.js';
import { reportJson, writeRunOutputs } from '../src/report/write.js';
import { readCheckpoint } from '../src/run/restart.js';
import { NumericalFault } from '../src/errors.js';
import { BIN, fpsolve, ROOT } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fpsolve-restart-stop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PEARSON = join(ROOT, 'scenarios', 'pearson-1d.yaml');
const OU = join(ROOT, 'scenarios', 'ou-2d.yaml');
const setArgs = (set: string[]): string[] => set.flatMap((s) => ['--set', s]);
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

// Adaptive TR-BDF2 (its step proposal must survive the roll-back) and the 1-D default.
const TWO_D = { file: OU, set: ['domain.cells=[64,64]', 'time.end=0.8', 'time.reportEvery=0.2', 'time.integrator=trbdf2'] };
const ONE_D = { file: PEARSON, set: ['domain.cells=[20000]', 'time.end=0.5', 'time.reportEvery=0.1'] };

describe('library: a stop writes the last report time’s state to stopCheckpointDir; resume equals one uninterrupted run', () => {
  // Which look: one inside the second report interval for these grids (about t = 0.28 and 0.27;
  // asserted below, so the test cannot pass on a stop before the first report time).
  for (const [name, c, look] of [
    ['2-D trbdf2', TWO_D, 16],
    ['1-D auto', ONE_D, 8],
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

  it('2-D trbdf2: a stop at a report time saves that time; with --checkpoints-style periodic writes too', async () => {
    const c = TWO_D;
    const whole = await runScenario(loadScenario(c.file, c.set), { gap: false });
    for (const periodic of [false, true]) {
      const cdir = join(dir, `report-stop-${periodic}`);
      const opts = periodic ? { checkpointDir: cdir } : { stopCheckpointDir: cdir };
      const stopped = await runScenario(loadScenario(c.file, c.set), { gap: false, ...opts, trackers: [stopAtReport(2)] });
      expect(stopped.report.status).toBe('incomplete');
      const cp = readCheckpoint(cdir);
      expect(cp.state.t).toBeCloseTo(0.4, 12);
      expect(stopped.report.final.t).toBe(cp.state.t);
      expect(sameBits(cp.state.density, stopped.density)).toBe(true);
      const resumed = await runScenario(cp.loaded, { gap: false, resume: cp.state });
      expect(withoutClock(reportJson(resumed.report))).toEqual(withoutClock(reportJson(whole.report)));
      expect(sameBits(resumed.density, whole.density)).toBe(true);
    }
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

describe('CLI: SIGTERM and --max-wall with --out leave a resumable run', () => {
  // Long enough (seconds) that a signal sent when stepping starts lands well before the end.
  const SET = ['domain.cells=[80,80]', 'time.end=2.5', 'time.reportEvery=0.25', 'time.integrator=trbdf2'];

  it('SIGTERM once stepping: exit 143, the stderr line says how to resume, and the resumed outputs equal an uninterrupted run’s', async () => {
    const out = join(dir, 'term');
    const child = spawn(process.execPath, [BIN, 'run', OU, ...setArgs(SET), '--no-gap', '--progress', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // The phase line is written when set-up is over and the stepping begins (not on a timer).
      if (!sent && stderr.includes('set-up: done, stepping')) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(sent, stderr).toBe(true);
    expect(code, stderr).toBe(143);
    const line = stderr.split('\n').find((l) => l.startsWith('fpsolve: interrupted:'));
    expect(line, stderr).toMatch(/state at (the last report time, )?t = [\d.e-]+ saved, resume with: fpsolve run --resume /);
    expect(line!.endsWith(`--resume ${out}`), line).toBe(true);
    const stopped = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { status: string; final: { t: number } };
    expect(stopped.status).toBe('interrupted');
    const cp = readCheckpoint(out);
    // Not vacuous: the signal came before the end.
    expect(cp.state.t).toBeLessThan(2.5);

    const resumed = fpsolve(['run', '--resume', out, '--no-gap', '-q']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const whole = join(dir, 'term-whole');
    const result = await runScenario(loadScenario(OU, SET), { gap: false });
    await writeRunOutputs(whole, result);
    expect(withoutClock(readFileSync(join(out, 'report.json'), 'utf8'))).toEqual(withoutClock(readFileSync(join(whole, 'report.json'), 'utf8')));
    for (const f of ['series.csv', 'density.npy']) expect(readFileSync(join(out, f)).equals(readFileSync(join(whole, f))), f).toBe(true);
  });

  it('--max-wall: exit 0 "incomplete", resumable; a fresh run into the same --out clears the old checkpoint', async () => {
    const set = ['domain.cells=[300]', 'time.end=0.5', 'time.reportEvery=0.1'];
    const out = join(dir, 'wall');
    // 1 µs: past at the first look, before any report time (the checkpoint is the initial state).
    const first = fpsolve(['run', PEARSON, ...setArgs(set), '--no-gap', '-q', '--max-wall', '0.000001', '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/^fpsolve: incomplete: .*--max-wall\); state at t = 0 saved, resume with: fpsolve run --resume \S+$/m);
    const resumed = fpsolve(['run', '--resume', out, '--no-gap', '-q', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const whole = await runScenario(loadScenario(PEARSON, set), { gap: false });
    expect(withoutClock(resumed.stdout)).toEqual(withoutClock(reportJson(whole.report)));

    // The resumed run kept checkpointing; a fresh run to the end in the same directory must clear that checkpoint.
    expect(existsSync(join(out, 'checkpoint', 'state.json'))).toBe(true);
    const fresh = fpsolve(['run', PEARSON, ...setArgs(set), '--no-gap', '-q', '--out', out]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(existsSync(join(out, 'checkpoint'))).toBe(false);
    const none = fpsolve(['run', '--resume', out]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no checkpoint to resume from/);
  });
});
