/**
 * Red team of issue #20 (restart): hand-edited or damaged checkpoints must be refused up front as
 * one-line exit-2 errors naming state.json, never run. Found by editing a real checkpoint:
 * `integrator.dtNext = 0` made `run --resume` spin forever (the step never grows from 0), a negative
 * step proposal or a non-finite density came out as a "numerical fault" (exit 3) blaming the solver,
 * a float32 density was silently widened (then failed on mass drift), and a time before 0 or after
 * time.end was resumed from. Each case edits one field of a checkpoint that reads back cleanly
 * (the control), so a refusal is caused by that field alone.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../src/run/run.js';
import { loadScenario } from '../src/scenario/load.js';
import { readCheckpoint } from '../src/run/restart.js';
import { decodeNpy, encodeNpy } from '../src/io/npy.js';
import { InputError } from '../src/errors.js';
import { writeZarr } from '../src/io/zarr.js';
import { STAGING_PREFIX, writeRunOutputs } from '../src/report/write.js';
import { fpsolve, ROOT } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fpsolve-red20-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PEARSON = join(ROOT, 'scenarios', 'pearson-1d.yaml');
// TR-BDF2 named: its checkpoint carries a step proposal (dtNext) whose refusals are tested below.
const SET = ['domain.cells=[100]', 'time.end=1', 'time.reportEvery=0.1', 'time.integrator=trbdf2'];
const pristine = join(dir, 'pristine');

type State = Record<string, unknown> & { integrator: Record<string, unknown>; series: Array<Record<string, unknown>>; density: { file: string; sha256: string; cells: number } };

beforeAll(async () => {
  mkdirSync(pristine);
  await runScenario(loadScenario(PEARSON, SET), { gap: false, checkpointDir: pristine, stopAfter: 0.3 });
});

let n = 0;
/** A copy of the pristine checkpoint with `edit` applied to state.json (and to the density file). */
function edited(edit: (s: State, densityPath: string) => void): string {
  const d = join(dir, `case-${n++}`);
  mkdirSync(d);
  const s = JSON.parse(readFileSync(join(pristine, 'state.json'), 'utf8')) as State;
  copyFileSync(join(pristine, s.density.file), join(d, s.density.file));
  edit(s, join(d, s.density.file));
  writeFileSync(join(d, 'state.json'), JSON.stringify(s));
  return d;
}

/** Rewrites the density file and its hash in state.json, as someone who knows the format would. */
function rewriteDensity(s: State, path: string, bytes: Uint8Array): void {
  writeFileSync(path, bytes);
  s.density.sha256 = createHash('sha256').update(bytes).digest('hex');
}

function refusal(d: string): InputError {
  try {
    readCheckpoint(d);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const err = e as InputError;
    expect(err.message.split('\n')).toHaveLength(1);
    expect(err.file?.startsWith(d)).toBe(true);
    return err;
  }
  throw new Error(`readCheckpoint(${d}) accepted it`);
}

describe('checkpoint state that cannot be resumed from is refused before the run', () => {
  it('control: the unedited checkpoint reads back at t = 0.3 with a positive step proposal', () => {
    const cp = readCheckpoint(edited(() => {}));
    expect(cp.state.t).toBeCloseTo(0.3, 12);
    expect(cp.state.integrator.dtNext).toBeGreaterThan(0);
    expect(cp.state.density).toHaveLength(100);
  });

  for (const [what, v] of [
    ['zero', 0],
    ['negative', -0.1],
    ['a string', 'x'],
  ] as const) {
    it(`integrator.dtNext ${what}`, () => {
      expect(refusal(edited((s) => (s.integrator.dtNext = v))).message).toMatch(/dtNext/);
    });
  }

  it('a time before 0', () => {
    const err = refusal(
      edited((s) => {
        s.t = -1;
        s.series[s.series.length - 1].t = -1;
      }),
    );
    expect(err.message).toMatch(/\bt\b.*time\.end/);
  });

  it('a time after time.end', () => {
    refusal(
      edited((s) => {
        s.t = 1e308;
        s.series[s.series.length - 1].t = 1e308;
      }),
    );
  });

  it('a float32 density (checkpoints are float64; widening changes the bits the run continues from)', () => {
    const err = refusal(
      edited((s, p) => {
        const a = decodeNpy(readFileSync(p)).data;
        rewriteDensity(s, p, encodeNpy(a, [a.length], { dtype: '<f4' }));
      }),
    );
    expect(err.message).toMatch(/float64/);
  });

  it('a density holding NaN', () => {
    const err = refusal(
      edited((s, p) => {
        const a = decodeNpy(readFileSync(p)).data;
        a[7] = Number.NaN;
        rewriteDensity(s, p, encodeNpy(a, [a.length]));
      }),
    );
    expect(err.message).toMatch(/finite/);
  });
});

describe('through the CLI', () => {
  it('--resume of a checkpoint with dtNext = 0 is one line, exit 2, within the timeout (it used to spin)', () => {
    const out = join(dir, 'cli-run');
    mkdirSync(out);
    const cdir = join(out, 'checkpoint');
    const src = edited((s) => (s.integrator.dtNext = 0));
    mkdirSync(cdir);
    const s = JSON.parse(readFileSync(join(src, 'state.json'), 'utf8')) as State;
    copyFileSync(join(src, 'state.json'), join(cdir, 'state.json'));
    copyFileSync(join(src, s.density.file), join(cdir, s.density.file));
    const r = fpsolve(['run', '--resume', out], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/state\.json.*dtNext/);
  });

  it('--resume naming a file says it is not a directory', () => {
    const r = fpsolve(['run', '--resume', PEARSON]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not a directory/);
    expect(r.stderr).not.toMatch(/not started with --checkpoints/);
  });
});

describe('density.zarr is as readable as the other outputs', () => {
  // The store was staged with mkdtemp (mode 0700) and renamed into place as is: on a shared
  // cluster directory a group member could read density.npy but not density.zarr.
  it('the store directory gets the mode a plain mkdir gets under this umask', async () => {
    const out = join(dir, 'zarr-mode');
    mkdirSync(out);
    const plain = join(out, 'plain');
    mkdirSync(plain);
    const store = await writeZarr(join(out, 'density.zarr'), [{ name: 'a', dims: ['x'], shape: [2], data: new Float64Array([1, 2]) }]);
    expect((statSync(store).mode & 0o777).toString(8)).toBe((statSync(plain).mode & 0o777).toString(8));
  });
});

describe('library RunOptions from plain JavaScript are checked before the run', () => {
  // Each used to be accepted: stopAfter NaN stopped at the first report time as if asked to,
  // backend 'bogus' ran on the CPU, a tracker with interval 0 was called at every report time.
  const small = (): ReturnType<typeof loadScenario> => loadScenario(PEARSON, ['domain.cells=[40]', 'time.end=0.3', 'time.reportEvery=0.1']);
  const cases: Array<[string, Record<string, unknown>]> = [
    ['stopAfter', { stopAfter: Number.NaN }],
    ['stopAfter', { stopAfter: -1 }],
    ['maxWallSeconds', { maxWallSeconds: Number.NaN }],
    ['backend', { backend: 'bogus' }],
    ['snapshots.1', { snapshots: [0, Number.NaN] }],
    ['trackers.0.interval', { trackers: [{ name: 'x', interval: 0, report: () => undefined }] }],
    ['trackers.0.work', { trackers: [{ name: 'x', work: -1, look: () => undefined }] }],
  ];
  for (const [field, opts] of cases) {
    it(`${field} = ${String(Object.values(opts)[0])}`, async () => {
      const err = await runScenario(small(), { gap: false, ...(opts as object) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).field).toBe(field);
      expect((err as InputError).message.split('\n')).toHaveLength(1);
    });
  }

  it('control: valid values of the same options run, stopAfter at the first report time at or after it', async () => {
    let calls = 0;
    const r = await runScenario(small(), { gap: false, stopAfter: 0.15, maxWallSeconds: 600, backend: 'cpu', snapshots: [0], trackers: [{ name: 'x', interval: 0.1, report: () => void calls++ }] });
    expect(r.report.status).toBe('incomplete');
    expect(r.report.final.t).toBeCloseTo(0.2, 12);
    expect(calls).toBe(2);
  });
});

describe('a run killed while writing its outputs leaves no staging directory behind for good', () => {
  // kill -9 during the (minutes-long, with --snapshots over 1e5 report times) output writing left
  // <out>/.fpsolve-staging-* with every chunk in it, and later runs into the same --out kept it.
  it("the next run into the same --out removes a dead process's staging, and keeps a live one's", async () => {
    const out = join(dir, 'stale-stage');
    mkdirSync(out);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const deadStage = join(out, `${STAGING_PREFIX}${hostname()}-${dead}-abc123`);
    const liveStage = join(out, `${STAGING_PREFIX}${hostname()}-${process.pid}-def456`);
    mkdirSync(deadStage);
    writeFileSync(join(deadStage, 'density.npy'), 'partial');
    mkdirSync(liveStage);
    const r = await runScenario(loadScenario(PEARSON, ['domain.cells=[30]', 'time.end=0.1', 'time.reportEvery=0.1']), { gap: false });
    await writeRunOutputs(out, r);
    expect(existsSync(deadStage)).toBe(false);
    expect(existsSync(liveStage)).toBe(true);
    expect(readdirSync(out).filter((n) => n.startsWith(STAGING_PREFIX))).toEqual([`${STAGING_PREFIX}${hostname()}-${process.pid}-def456`]);
  });
});
