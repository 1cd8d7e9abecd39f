/**
 * Issue #16 items 4, 6, 8, 9 and 11: output locations, runs that never mix, locked sweep
 * directories and strict merges. Commands run in-process through runCli (the CLI's own entry
 * point, same parser and exit codes as bin/fpsolve.js) except where two processes must race.
 * Runs are the 1-D Pearson diffusion f = c + b x² (docs/oracles.md §1 Pearson) on ≤ 200 cells.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { EXIT, OutputError } from '../src/errors.js';
import { appendLine } from '../src/io/atomic.js';
import { packageRoot } from '../src/paths.js';
import { LOCK_FILE, lockDirectory } from '../src/sweep/lock.js';
import type { SweepRecord } from '../src/sweep/record.js';

const ROOT = packageRoot();
const BIN = join(ROOT, 'bin', 'fpsolve.js');
const PEARSON = join(ROOT, 'scenarios', 'pearson-1d.yaml');
let dir: string;

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('build first: npx tsc -p . (sweeps run dist/ in worker processes)');
  dir = mkdtempSync(join(tmpdir(), 'fps-outputs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One line on stderr, no stack frame: the exit-code table's promise for codes 2 and 74. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at \S+|internal error/);
  return lines[0]!;
}

// A long run (t = 2000 on 200 cells, many seconds) so that a check made after the solve would blow the test's timeout.
const LONG = ['--set', 'domain.cells=[200]', '--set', 'time.end=2000', '--set', 'time.reportEvery=1', '--quiet'];

describe('run --out / check --junit: an unusable location is exit 2 before any work (item 4, 11)', () => {
  const cases: [string, () => string, RegExp][] = [
    ['an existing file', () => (writeFileSync(join(dir, 'afile'), 'x'), join(dir, 'afile')), /exists and is not a directory \(a regular file\)/],
    ['/dev/null', () => '/dev/null', /is not a directory \(a character device\)/],
    ['a directory under /sys', () => '/sys/fpsolve-test', /pseudo-filesystem/],
    ['a directory under /proc (used to hang)', () => '/proc/foo', /pseudo-filesystem/],
    ['a dangling symbolic link', () => (symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling')), join(dir, 'dangling')), /dangling symbolic link/],
    ['a symbolic-link loop', () => (symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a')), symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b')), join(dir, 'loop-a')), /symbolic-link loop/],
    ['a path below a regular file', () => (writeFileSync(join(dir, 'bfile'), 'x'), join(dir, 'bfile', 'sub', 'out')), /not a directory/],
    ['an empty path (used to mean no --out)', () => '', /is empty/],
  ];
  it.each(cases)('--out %s', async (_label, make, why) => {
    const out = make();
    const r = await runCli(['run', PEARSON, ...LONG, '--out', out]);
    expect(r.exitCode, r.stderr).toBe(EXIT.badInput);
    const line = oneLine(r.stderr);
    expect(line).toContain(`--out ${JSON.stringify(out)}`);
    expect(line).toMatch(why);
    // Refused before the solve, not after it: no wall-clock bound here (a loaded machine is not a defect); a check
    // made after the long solve shows as the test's timeout, and the refusal line is the --out one, not a report.
    expect(r.stdout).not.toMatch(/report\.json|wrote/);
  });

  it.skipIf(process.getuid?.() === 0)('--out in a read-only directory (not as root, whom permissions do not stop)', async () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro, { mode: 0o555 });
    const r = await runCli(['run', PEARSON, ...LONG, '--out', join(ro, 'x')]);
    expect(r.exitCode).toBe(EXIT.badInput);
    expect(oneLine(r.stderr)).toMatch(/not writable: permission denied/);
  });

  it.each([
    ['a directory', () => dir, /is a directory; give a file name/],
    ['the filesystem root (its temp file went to /)', () => '/', /is a directory/],
    ['a file under /proc (used to hang)', () => '/proc/x/y.xml', /pseudo-filesystem/],
    ['/dev/null', () => '/dev/null', /not a regular file \(a character device\)/],
    ['an empty path', () => '', /is empty/],
  ] as [string, () => string, RegExp][])('check --junit %s', async (_label, make, why) => {
    const junit = make();
    const r = await runCli(['check', join(ROOT, 'baselines', 'rates.yaml'), '--junit', junit, '--quiet']);
    expect(r.exitCode, r.stderr).toBe(EXIT.badInput);
    const line = oneLine(r.stderr);
    expect(line).toContain(`--junit ${JSON.stringify(junit)}`);
    expect(line).toMatch(why);
  });

  it('a failed write is exit 74 naming the file: appendLine into /dev/full (a real ENOSPC from the kernel)', () => {
    let thrown: unknown;
    try {
      appendLine('/dev/full', '{"a":1}');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(OutputError);
    expect((thrown as OutputError).exitCode).toBe(EXIT.ioError);
    expect((thrown as OutputError).message).toBe('/dev/full: cannot write: no space left on the device (ENOSPC)');
  });
});

describe('a run never mixes its outputs with an earlier run in the same --out (item 6)', () => {
  it('a 200-cell run with --vti (and a figure), then a 120-cell run without: only the second run’s files remain, each consistent with report.json', async () => {
    const out = join(dir, 'mixed');
    mkdirSync(join(out, 'figures'), { recursive: true });
    writeFileSync(join(out, 'notes.txt'), 'mine');
    // What --plots of the first run leaves (rendering real figures takes seconds).
    writeFileSync(join(out, 'figures', 'density.svg'), '<svg/>');
    const a = await runCli(['run', PEARSON, '--quiet', '--no-gap', '--set', 'domain.cells=[200]', '--set', 'time.end=1', '--out', out, '--vti']);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['density.vti', 'pi.vti', 'figures']));
    const b = await runCli(['run', PEARSON, '--quiet', '--no-gap', '--set', 'domain.cells=[120]', '--set', 'time.end=1', '--out', out]);
    expect(b.exitCode, b.stderr).toBe(0);
    // The user's own file stays; nothing of run a does; no staging directory is left.
    expect(readdirSync(out).sort()).toEqual(['density-axis0.npy', 'density.json', 'density.npy', 'figures', 'notes.txt', 'pi-axis0.npy', 'pi.json', 'pi.npy', 'report.json', 'series.csv']);
    expect(readdirSync(join(out, 'figures'))).toEqual([]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { series: { t: number; l1: number }[] };
    const rows = readFileSync(join(out, 'series.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    expect(rows.map((r) => r[0])).toEqual(report.series.map((p) => p.t));
    expect(JSON.parse(readFileSync(join(out, 'density.json'), 'utf8')).shape).toEqual([120]);
    // density.npy holds 120 float64 after its header: the size says which run wrote it.
    expect(readFileSync(join(out, 'density.npy')).length % 8).toBe(0);
    expect(readFileSync(join(out, 'density.npy')).length).toBeLessThan(120 * 8 + 256);
  });
});

/** A tiny sweep (4 points of the Pearson case, 60 cells to t = 0.5). */
const sweepArgs = (out: string, extra: string[] = []): string[] => [
  'sweep', PEARSON, '--set', 'noise.eta=linspace(0.05,0.2,4)', '--set', 'domain.cells=[[60]]', '--set', 'time.end=0.5', '--jobs', '1', '--quiet', '--no-plots', '--run-arg=--no-gap', '--out', out, ...extra,
];

function records(path: string): SweepRecord[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SweepRecord);
}

describe('one sweep per directory (item 8)', () => {
  it('a live lock: the second sweep exits 2 naming the lock and its owner and runs nothing', async () => {
    const out = join(dir, 'locked');
    mkdirSync(out);
    const release = lockDirectory(out, 'sweep');
    try {
      const r = await runCli(sweepArgs(out));
      expect(r.exitCode, r.stderr).toBe(EXIT.badInput);
      const line = oneLine(r.stderr);
      expect(line).toContain(`sweep pid ${process.pid} on ${hostname()}`);
      expect(line).toContain(join(out, LOCK_FILE));
      expect(existsSync(join(out, 'results.jsonl'))).toBe(false);
    } finally {
      release();
    }
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  });

  it('a stale lock (its pid has exited, same host) is taken over, and released at the end', async () => {
    const out = join(dir, 'stale');
    mkdirSync(out);
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout);
    writeFileSync(join(out, LOCK_FILE), JSON.stringify({ pid: deadPid, host: hostname(), command: 'sweep', started: 'then' }));
    const r = await runCli(sweepArgs(out));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(records(join(out, 'results.jsonl')).map((x) => x.index).sort()).toEqual([0, 1, 2, 3]);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  });

  it('a lock from another host is refused (its pid cannot be checked)', async () => {
    const out = join(dir, 'remote');
    mkdirSync(out);
    writeFileSync(join(out, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere.invalid', command: 'sweep', started: 'then' }));
    const r = await runCli(sweepArgs(out));
    expect(r.exitCode).toBe(EXIT.badInput);
    expect(oneLine(r.stderr)).toMatch(/in use by sweep pid 1 on elsewhere\.invalid/);
  });

  it('two sweep processes started together into one --out: every point once, the other exits 2', async () => {
    const out = join(dir, 'race');
    const start = (): Promise<{ code: number | null; stderr: string }> =>
      new Promise((res) => {
        const p = spawn(process.execPath, [BIN, ...sweepArgs(out)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        p.on('exit', (code) => res({ code, stderr }));
      });
    const [a, b] = await Promise.all([start(), start()]);
    const codes = [a.code, b.code].sort();
    // Before the lock: both exited 0 and results.jsonl had every point twice.
    expect(codes, a.stderr + b.stderr).toEqual([0, 2]);
    const loser = a.code === 2 ? a : b;
    expect(oneLine(loser.stderr)).toMatch(/is in use by sweep pid \d+/);
    const recs = records(join(out, 'results.jsonl'));
    expect(recs.map((x) => x.index).sort()).toEqual([0, 1, 2, 3]);
  }, 60_000);

  it('shards in their own directories run side by side and merge to the unsharded sweep', async () => {
    const [s1, s2] = await Promise.all([1, 2].map((k) => new Promise<number | null>((res) => spawn(process.execPath, [BIN, ...sweepArgs(join(dir, `shard-${k}`), ['--shard', `${k}/2`])], { stdio: 'ignore' }).on('exit', res))));
    expect([s1, s2]).toEqual([0, 0]);
    const m = await runCli(['sweep', 'merge', join(dir, 'shard-1'), join(dir, 'shard-2'), '--out', join(dir, 'merged'), '--no-plots']);
    expect(m.exitCode, m.stderr).toBe(0);
    expect(m.stderr).toBe('');
    const merged = records(join(dir, 'merged', 'results.jsonl'));
    expect(merged.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    // Independent of the merge: the shards' own records, one per point.
    const own = [...records(join(dir, 'shard-1', 'results.jsonl')), ...records(join(dir, 'shard-2', 'results.jsonl'))].sort((a, b) => a.index - b.index);
    expect(merged.map((r) => r.key)).toEqual(own.map((r) => r.key));
  }, 60_000);
});

describe('sweep merge refuses what it used to hide (item 9)', () => {
  /** A copy of shard-k's directory whose results.jsonl is rewritten by `edit`. */
  const damaged = (k: number, name: string, edit: (lines: string[]) => string): string => {
    const d = join(dir, name);
    mkdirSync(d);
    writeFileSync(join(d, 'sweep.json'), readFileSync(join(dir, `shard-${k}`, 'sweep.json')));
    const lines = readFileSync(join(dir, `shard-${k}`, 'results.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
    writeFileSync(join(d, 'results.jsonl'), edit(lines));
    return d;
  };
  const merge = (...args: string[]) => runCli(['sweep', 'merge', ...args, '--no-plots']);

  it('a garbage interior line: exit 2 naming file and line; --skip-corrupt skips it with a warning', async () => {
    const d = damaged(1, 'garbage', (l) => [l[0], '{"key": "torn', l[1], '123'].join('\n') + '\n');
    const r = await merge(d, join(dir, 'shard-2'), '--out', join(dir, 'm-garbage'));
    expect(r.exitCode).toBe(EXIT.badInput);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`${join(d, 'results.jsonl')}: line 2 is not valid JSON.*--skip-corrupt`));
    expect(existsSync(join(dir, 'm-garbage', 'results.jsonl'))).toBe(false);
    const s = await merge(d, join(dir, 'shard-2'), '--out', join(dir, 'm-garbage'), '--skip-corrupt');
    expect(s.exitCode, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/line 2 skipped: not valid JSON/);
    expect(s.stderr).toMatch(/line 4 skipped: valid JSON but not a sweep record/);
    expect(records(join(dir, 'm-garbage', 'results.jsonl')).map((x) => x.index)).toEqual([0, 1, 2, 3]);
  });

  it('the same shard twice (one directory, or a copy): exit 2', async () => {
    const r = await merge(join(dir, 'shard-1'), join(dir, 'shard-1'), '--out', join(dir, 'm-twice'));
    expect(r.exitCode).toBe(EXIT.badInput);
    expect(oneLine(r.stderr)).toMatch(/is given twice/);
    const copy = damaged(1, 'copy', (l) => l.join('\n') + '\n');
    const c = await merge(join(dir, 'shard-1'), copy, join(dir, 'shard-2'), '--out', join(dir, 'm-copy'));
    expect(c.exitCode).toBe(EXIT.badInput);
    expect(oneLine(c.stderr)).toMatch(/holds shard 1\/2, and so does/);
  });

  it('a point with results in two directories: exit 2 naming the point', async () => {
    // The unsharded sweep of the lock test overlaps both shards.
    const r = await merge(join(dir, 'shard-1'), join(dir, 'stale'), '--out', join(dir, 'm-overlap'));
    expect(r.exitCode).toBe(EXIT.badInput);
    expect(oneLine(r.stderr)).toMatch(/stale: point 0 \(noise\.eta=0\.05 domain\.cells=\[60\] time\.end=0\.5\) has results in both .*shard-1 and .*stale; merge each shard once$/);
  });

  it('a torn last line (a shard killed mid-write) is left out with a warning, and the shard’s rerun repairs it and runs that point again', async () => {
    const d = join(dir, 'torn');
    const first = await runCli(sweepArgs(d, ['--shard', '1/2']));
    expect(first.exitCode, first.stderr).toBe(0);
    // What kill -9 in the middle of the last append leaves: the last record cut short.
    const lines = readFileSync(join(d, 'results.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
    const last = lines.pop()!;
    writeFileSync(join(d, 'results.jsonl'), lines.map((l) => `${l}\n`).join('') + last.slice(0, 40));
    const m = await merge(d, join(dir, 'shard-2'), '--out', join(dir, 'm-torn'));
    expect(m.exitCode, m.stderr).toBe(0);
    expect(m.stderr).toMatch(new RegExp(`${join(d, 'results.jsonl')}: line 2 is unterminated`));
    expect(m.stderr).toMatch(/1 points have no result yet/);
    // Resume: the torn point runs again and the file has no corrupt line left behind (a strict merge would refuse one).
    const again = await runCli(sweepArgs(d, ['--shard', '1/2']));
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/1 run now, 1 already done/);
    const text = readFileSync(join(d, 'results.jsonl'), 'utf8');
    expect(text.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as SweepRecord).index)).toEqual([0, 2]);
    const m2 = await merge(d, join(dir, 'shard-2'), '--out', join(dir, 'm-torn'));
    expect(m2.exitCode, m2.stderr).toBe(0);
    expect(records(join(dir, 'm-torn', 'results.jsonl')).map((x) => x.index)).toEqual([0, 1, 2, 3]);
  }, 60_000);
});

/** Mounts a tmpfs (root only, and only where the container allows it); undefined when it cannot. */
function tmpfs(at: string, opts: string): string | undefined {
  mkdirSync(at, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', at], { encoding: 'utf8' });
  return r.status === 0 ? at : undefined;
}
const canMount = ((): boolean => {
  if (process.getuid?.() !== 0 || process.platform !== 'linux') return false;
  const probe = mkdtempSync(join(tmpdir(), 'fps-mount-probe-'));
  const ok = tmpfs(probe, 'size=64k') !== undefined;
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();

describe.skipIf(!canMount)('real filesystems: a read-only mount and a tiny full disk (root with mount rights only)', () => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const m of mounts) spawnSync('umount', [m]);
  });

  it('a read-only mount: --out in it, or below it, is exit 2 naming EROFS, before the solve', async () => {
    const ro = tmpfs(join(dir, 'ro-mount'), 'ro,size=64k')!;
    mounts.push(ro);
    for (const out of [ro, join(ro, 'a', 'b')]) {
      const r = await runCli(['run', PEARSON, ...LONG, '--out', out]);
      expect(r.exitCode, r.stderr).toBe(EXIT.badInput);
      expect(oneLine(r.stderr)).toMatch(/not writable: read-only file system \(EROFS\)/);
    }
  });

  it('a disk that fills during the second run into the same --out: exit 74, the first run intact, nothing mixed', async () => {
    const disk = tmpfs(join(dir, 'small-disk'), 'size=256k')!;
    mounts.push(disk);
    const out = join(disk, 'out');
    const args = (cells: number): string[] => ['run', PEARSON, '--quiet', '--no-gap', '--set', `domain.cells=[${cells}]`, '--set', 'time.end=1', '--out', out];
    const first = await runCli(args(200));
    expect(first.exitCode, first.stderr).toBe(0);
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f)).toString('base64')]));
    // Leave a few KiB: less than the second run's outputs (its density alone is 16 KiB).
    const free = (): number => {
      const s = statfsSync(disk);
      return s.bavail * s.bsize;
    };
    writeFileSync(join(disk, 'filler'), Buffer.alloc(Math.max(0, free() - 8 * 1024)));
    const second = await runCli(args(2000));
    expect(second.exitCode, second.stderr).toBe(EXIT.ioError);
    expect(oneLine(second.stderr)).toMatch(/cannot write: no space left on the device \(ENOSPC\)$/);
    expect(Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f)).toString('base64')]))).toEqual(before);
    expect(readdirSync(disk).sort()).toEqual(['filler', 'out']);
  });
});
