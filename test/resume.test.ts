/**
 * Restart (issue #20.3): `run --stop-after` then `run --resume` must end on the numbers of one
 * uninterrupted run — report.json (all but createdAt and wallSeconds), series.csv and
 * density.npy — in 1-D and 2-D and with each integrator family, because a resumed run restores
 * the integrator's counters and step proposal and takes the same steps. The uninterrupted run is
 * made in-process here and written with the same writer; the stopped and resumed runs are
 * whole `fpsolve` processes. Bad resume inputs are one-line exit-2 errors naming the file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../src/run/run.js';
import { loadScenario } from '../src/scenario/load.js';
import { reportJson, writeRunOutputs } from '../src/report/write.js';
import { readCheckpoint } from '../src/run/restart.js';
import { InputError } from '../src/errors.js';
import { fpsolve, ROOT, signalWhenStepping } from './helpers/cli.js';
import { executeRun } from '../src/cli/commands/run.js';

const dir = mkdtempSync(join(tmpdir(), 'fpsolve-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PEARSON = join(ROOT, 'scenarios', 'pearson-1d.yaml');
const OU = join(ROOT, 'scenarios', 'ou-2d.yaml');

interface Case {
  name: string;
  file: string;
  set: string[];
  stopAfter: number;
  /** float32 states keep their initial mass across a resume (webasm runs on any CPU). */
  backend?: 'webasm';
}

const ONE_D = ['domain.cells=[200]', 'time.end=1', 'time.reportEvery=0.1'];
const TWO_D = ['domain.cells=[20,20]', 'time.end=0.6', 'time.reportEvery=0.1'];
// Whole processes for one case per dimension (2-D below, stopped twice); the integrator families
// through the library API, which is the CLI's code path without the spawn (seconds each here).
const CLI_CASE: Case = { name: '1-D auto', file: PEARSON, set: ONE_D, stopAfter: 0.45 };
const CASES: Case[] = [
  { name: '1-D explicit', file: PEARSON, set: [...ONE_D, 'time.integrator=explicit', 'time.end=0.3'], stopAfter: 0.1 },
  { name: '2-D trbdf2', file: OU, set: [...TWO_D, 'time.integrator=trbdf2'], stopAfter: 0.25 },
  { name: '2-D backward-euler', file: OU, set: [...TWO_D, 'time.integrator=backward-euler'], stopAfter: 0.25 },
  { name: '2-D rkl2', file: OU, set: [...TWO_D, 'time.integrator=rkl2'], stopAfter: 0.25 },
  { name: '2-D exponential', file: OU, set: [...TWO_D, 'time.integrator=exponential'], stopAfter: 0.25 },
  { name: '2-D trbdf2 on float32 webasm', file: OU, set: [...TWO_D, 'time.integrator=trbdf2'], stopAfter: 0.25, backend: 'webasm' },
];

const setArgs = (set: string[]): string[] => set.flatMap((s) => ['--set', s]);
const withoutClock = (json: string): Record<string, unknown> => {
  const r = JSON.parse(json) as Record<string, unknown>;
  delete r.createdAt;
  delete r.wallSeconds;
  return r;
};

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

describe('run --stop-after then --resume equals one uninterrupted run', () => {
  for (const c of [CLI_CASE]) {
    it(c.name, async () => {
      const whole = join(dir, `${c.name.replace(/\W+/g, '-')}-whole`);
      const parts = join(dir, `${c.name.replace(/\W+/g, '-')}-parts`);
      const result = await runScenario(loadScenario(c.file, c.set), { gap: false });
      expect(result.report.status).toBe('ok');
      await writeRunOutputs(whole, result);

      // --progress on a pipe: phase lines on stderr, stdout still report.json alone (parsed below).
      const first = fpsolve(['run', c.file, ...setArgs(c.set), '--no-gap', '--progress', '--json', '--out', parts, '--stop-after', String(c.stopAfter)]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain('set-up: π and the flux coefficients\n');
      expect(first.stderr).not.toContain('\x1b');
      const stopped = JSON.parse(first.stdout) as { status: string; final: { t: number } };
      expect(stopped.status).toBe('incomplete');
      expect(stopped.final.t).toBeGreaterThanOrEqual(c.stopAfter);
      expect(stopped.final.t).toBeLessThan(c.stopAfter + 0.1 + 1e-9);

      const second = fpsolve(['run', '--resume', parts, '--no-gap', '--quiet', '--json']);
      expect(second.code, second.stderr).toBe(0);
      expect(withoutClock(second.stdout)).toEqual(withoutClock(reportJson(result.report)));
      for (const f of ['report.json', 'series.csv', 'density.npy']) {
        const a = readFileSync(join(whole, f));
        const b = readFileSync(join(parts, f));
        if (f === 'report.json') expect(withoutClock(b.toString())).toEqual(withoutClock(a.toString()));
        else expect(b.equals(a), f).toBe(true);
      }
    });
  }

  for (const c of CASES) {
    it(`${c.name} (library API: checkpointDir, stopAfter, resume)`, async () => {
      const backend = c.backend ? { backend: c.backend } : {};
      const result = await runScenario(loadScenario(c.file, c.set), { gap: false, ...backend });
      const cdir = join(dir, `${c.name.replace(/\W+/g, '-')}-lib`, 'checkpoint');
      const stopped = await runScenario(loadScenario(c.file, c.set), { gap: false, checkpointDir: cdir, stopAfter: c.stopAfter, ...backend });
      expect(stopped.report.status).toBe('incomplete');
      const cp = readCheckpoint(cdir);
      expect(cp.state.t).toBe(stopped.report.final.t);
      expect(Buffer.from(cp.state.density.buffer).equals(Buffer.from(stopped.density.buffer))).toBe(true);
      if (c.backend) {
        // Another backend's arithmetic would not give the same numbers: refused.
        await expect(runScenario(cp.loaded, { gap: false, resume: cp.state })).rejects.toThrow(/on backend gpu.js webasm, this one would run on cpu: pass --backend/);
      }
      const resumed = await runScenario(cp.loaded, { gap: false, resume: cp.state, ...backend });
      expect(resumed.report.status).toBe('ok');
      expect(withoutClock(reportJson(resumed.report))).toEqual(withoutClock(reportJson(result.report)));
      expect(Buffer.from(resumed.density.buffer).equals(Buffer.from(result.density.buffer))).toBe(true);
      // Not vacuous: the stop came before the end, with steps left to take.
      expect(stopped.report.steps).toBeLessThan(result.report.steps);
    });
  }

  it('1-D figures: the snapshots taken before the stop travel in the checkpoint, so the resumed run has them all', async () => {
    const set = ['domain.cells=[200]', 'time.end=1', 'time.reportEvery=0.05'];
    const wanted = [0, 0.02, 0.1, 0.3, 1];
    const whole = await runScenario(loadScenario(PEARSON, set), { gap: false, snapshots: wanted });
    const cdir = join(dir, 'snapshots-lib', 'checkpoint');
    await runScenario(loadScenario(PEARSON, set), { gap: false, snapshots: wanted, checkpointDir: cdir, stopAfter: 0.2 });
    const cp = readCheckpoint(cdir);
    expect(cp.state.snapshots.map((s) => s.t)).toEqual(whole.snapshots?.filter((s) => s.t <= 0.2).map((s) => s.t));
    const resumed = await runScenario(cp.loaded, { gap: false, snapshots: wanted, resume: cp.state });
    expect(resumed.snapshots?.map((s) => s.t)).toEqual(whole.snapshots?.map((s) => s.t));
    resumed.snapshots?.forEach((s, k) => expect(Buffer.from(s.density.buffer).equals(Buffer.from((whole.snapshots ?? [])[k].density.buffer))).toBe(true));
  });

  it('2-D: two stops and two resumes (the resumed run checkpoints too), with the scenario file given again', async () => {
    const c = CASES.find((k) => k.name === '2-D trbdf2') as Case;
    const parts = join(dir, 'twice');
    const result = await runScenario(loadScenario(c.file, c.set), { gap: false });
    const a = fpsolve(['run', c.file, ...setArgs(c.set), '--no-gap', '--quiet', '--out', parts, '--stop-after', '0.15']);
    expect(a.code, a.stderr).toBe(0);
    const b = fpsolve(['run', c.file, ...setArgs(c.set), '--no-gap', '--quiet', '--resume', parts, '--stop-after', '0.35']);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(parts, 'report.json'), 'utf8')).final.t).toBeCloseTo(0.4, 12);
    // The checkpoint folder itself names the run too (outputs still go to the run's directory).
    const d = fpsolve(['run', '--resume', join(parts, 'checkpoint'), '--no-gap', '--quiet', '--json']);
    expect(d.code, d.stderr).toBe(0);
    expect(withoutClock(d.stdout)).toEqual(withoutClock(reportJson(result.report)));
    expect(withoutClock(readFileSync(join(parts, 'report.json'), 'utf8'))).toEqual(withoutClock(reportJson(result.report)));
    // Resuming the finished run: says so, exit 0, outputs untouched.
    const before = readFileSync(join(parts, 'report.json'));
    const e = fpsolve(['run', '--resume', parts, '--quiet']);
    expect(e.code, e.stderr).toBe(0);
    expect(oneLine(e.stderr)).toMatch(/is finished .*nothing to resume/);
    expect(readFileSync(join(parts, 'report.json')).equals(before)).toBe(true);
  });
});

describe('bad resume inputs', () => {
  const src = join(dir, 'src');
  const set = ['domain.cells=[60]', 'time.end=0.5', 'time.reportEvery=0.1'];
  const make = (): void => {
    rmSync(src, { recursive: true, force: true });
    const r = fpsolve(['run', PEARSON, ...setArgs(set), '--no-gap', '--quiet', '--out', src, '--stop-after', '0.2']);
    expect(r.code, r.stderr).toBe(0);
  };

  it('no checkpoint: exit 2, one line naming state.json; --stop-after without --out: refused before the run', async () => {
    const none = fpsolve(['run', '--resume', join(dir, 'nothing-here')]);
    expect(none.code).toBe(2);
    expect(oneLine(none.stderr)).toMatch(/state\.json.*no checkpoint to resume from/);
    await expect(executeRun(PEARSON, { set: [], stopAfter: 1 })).rejects.toThrow(/--stop-after .*add --out/);
  });

  it('a scenario that differs from the checkpoint’s: exit 2 naming the field and both values', () => {
    make();
    const r = fpsolve(['run', PEARSON, ...setArgs(set), '--set', 'noise.eta=0.07', '--resume', src]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/differs .*noise\.eta: checkpoint [0-9.e-]+, given 0\.07/);
  });

  it('corrupt checkpoint files are refused naming the file (read in-process: the CLI maps InputError to exit 2)', () => {
    // The run of the test above, unless this test runs alone.
    if (!existsSync(join(src, 'checkpoint', 'state.json'))) make();
    const cdir = join(src, 'checkpoint');
    const stateFile = join(cdir, 'state.json');
    const good = readFileSync(stateFile, 'utf8');
    const state = JSON.parse(good) as { density: { file: string } };
    const densityFile = join(cdir, state.density.file);
    const refuse = (what: RegExp, file: string): void => {
      let thrown: unknown;
      try {
        readCheckpoint(src);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(InputError);
      expect((thrown as InputError).message).toContain(file);
      expect((thrown as InputError).message).toMatch(what);
    };
    writeFileSync(stateFile, good.slice(0, good.length / 2));
    refuse(/not JSON/, stateFile);
    const edited = JSON.parse(good) as { scenario: { time: { end: number } } };
    edited.scenario.time.end = 5;
    writeFileSync(stateFile, JSON.stringify(edited));
    refuse(/does not match its hash/, stateFile);
    writeFileSync(stateFile, good);
    const bytes = readFileSync(densityFile);
    bytes[bytes.length - 3] ^= 0x40;
    writeFileSync(densityFile, bytes);
    refuse(/SHA-256 differs/, densityFile);
    rmSync(densityFile);
    refuse(/file missing/, densityFile);
    // And through the CLI: one line, exit 2.
    const r = fpsolve(['run', '--resume', src]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toContain(densityFile);
  });
});

const readCheckpointT = (out: string): number => readCheckpoint(out).state.t;

/**
 * A run with --out stopped early by a signal or --max-wall (no --checkpoints) writes the last
 * report time's state (test/restart-stop.test.ts checks the roll-back through the library); the
 * resumed run must end on an uninterrupted run's outputs. The signal is sent once the CLI says it
 * is stepping: whatever step it lands on, the resumed numbers must be the same.
 */
describe('CLI: SIGTERM and --max-wall with --out leave a resumable run', () => {
  // Long enough (seconds) that a signal sent when stepping starts lands well before the end.
  const SET = ['domain.cells=[80,80]', 'time.end=2.5', 'time.reportEvery=0.25', 'time.integrator=trbdf2'];

  it('SIGTERM once stepping: exit 143, the stderr line says how to resume, and the resumed outputs equal an uninterrupted run’s', async () => {
    const out = join(dir, 'term');
    // Sent when the run prints its 'set-up: done, stepping' phase line (not on a timer).
    const { code, stderr, sent } = await signalWhenStepping(['run', OU, ...setArgs(SET), '--no-gap', '--out', out], 'SIGTERM');
    expect(sent, stderr).toBe(true);
    expect(code, stderr).toBe(143);
    const line = stderr.split('\n').find((l) => l.startsWith('fpsolve: interrupted:'));
    expect(line, stderr).toMatch(/state at (the last report time, )?t = [\d.e-]+ saved, resume with: fpsolve run --resume /);
    expect(line!.endsWith(`--resume ${out}`), line).toBe(true);
    const stopped = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { status: string; final: { t: number } };
    expect(stopped.status).toBe('interrupted');
    // Not vacuous: the signal came before the end.
    expect(readCheckpointT(out)).toBeLessThan(2.5);

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
