/**
 * Fault injection for writeFileAtomic: node:fs is wrapped so that a chosen call fails after the
 * temp file exists and holds data. Kept apart from io-atomic.test.ts because vi.mock applies to
 * the whole file (the CLI run below included: its outputs go through the same node:fs).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { writeFileAtomic } from '../src/io/atomic.js';
import { EXIT, OutputError } from '../src/errors.js';
import { runCli } from '../src/cli/main.js';

const fault = vi.hoisted(() => ({
  call: '' as '' | 'writeSync' | 'fsyncSync' | 'renameSync',
  seen: [] as string[],
  code: 'EIO',
  /** Let this many calls of `call` through before failing (a disk that fills part way through the outputs). */
  after: 0,
}));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const wrap =
    <A extends unknown[], R>(name: 'writeSync' | 'fsyncSync' | 'renameSync', fn: (...args: A) => R) =>
    (...args: A): R => {
      fault.seen.push(name);
      if (fault.call === name && fault.after-- <= 0) {
        if (name === 'writeSync') {
          // Land some bytes first, so the temp file really is partial when the failure hits.
          (real.writeSync as (fd: number, b: Uint8Array, o: number, l: number) => number)(args[0] as number, args[1] as Uint8Array, 0, 3);
        }
        throw Object.assign(new Error(`injected ${name} failure`), { code: fault.code });
      }
      return fn(...args);
    };
  return {
    ...real,
    writeSync: wrap('writeSync', real.writeSync as (...a: unknown[]) => number),
    fsyncSync: wrap('fsyncSync', real.fsyncSync as (...a: unknown[]) => void),
    renameSync: wrap('renameSync', real.renameSync as (...a: unknown[]) => void),
  };
});

afterEach(() => {
  fault.call = '';
  fault.seen = [];
  fault.code = 'EIO';
  fault.after = 0;
});

describe('writeFileAtomic under injected faults', () => {
  it.each(['writeSync', 'fsyncSync', 'renameSync'] as const)('a failing %s keeps the old target and removes the temp file', (call) => {
    const dir = mkdtempSync(join(tmpdir(), 'fpsolve-fault-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'result.json');
    writeFileSync(path, '{"old":true}');
    fault.call = call;
    let thrown: unknown;
    try {
      writeFileAtomic(path, '{"new":true, "padding":"' + 'z'.repeat(10_000) + '"}');
    } catch (e) {
      thrown = e;
    }
    // A storage failure is exit 74 naming the file, not an internal error (70).
    expect(thrown).toBeInstanceOf(OutputError);
    expect((thrown as OutputError).exitCode).toBe(EXIT.ioError);
    expect((thrown as OutputError).message).toBe(`${path}: cannot write: input/output error (EIO)`);
    // The wrapper really was on the path taken.
    expect(fault.seen).toContain(call);
    expect(readFileSync(path, 'utf8')).toBe('{"old":true}');
    expect(readdirSync(dir)).toEqual(['result.json']);

    fault.call = '';
    writeFileAtomic(path, '{"new":true}');
    expect(readFileSync(path, 'utf8')).toBe('{"new":true}');
    expect(readdirSync(dir)).toEqual(['result.json']);
  });
});

describe('fpsolve run --out on a disk that fills up (issue #16 items 4 and 6)', () => {
  const SCENARIO = join(import.meta.dirname, '..', 'scenarios', 'pearson-1d.yaml');
  const args = (out: string, cells: number, extra: string[] = []): string[] => ['run', SCENARIO, '--quiet', '--no-gap', '--set', `domain.cells=[${cells}]`, '--set', 'time.end=1', '--out', out, ...extra];
  const snapshot = (dir: string): Record<string, string> =>
    Object.fromEntries(readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort().map((f) => [f, statSafe(join(dir, f))]));
  const statSafe = (p: string): string => {
    try {
      return readFileSync(p).toString('base64');
    } catch {
      return '<dir>';
    }
  };

  it.each([1, 3, 6])('ENOSPC on write %i of the second run: exit 74, one line naming the file, the first run intact and unmixed', async (after) => {
    const dir = mkdtempSync(join(tmpdir(), 'fpsolve-enospc-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'out');
    const first = await runCli(args(out, 200, ['--vti']));
    expect(first.exitCode, first.stderr).toBe(0);
    const before = snapshot(out);
    expect(Object.keys(before)).toContain('report.json');

    // Another grid, so that every output of the second run differs from the first's.
    fault.call = 'writeSync';
    fault.code = 'ENOSPC';
    fault.after = after;
    const second = await runCli(args(out, 120));
    expect(fault.seen).toContain('writeSync');
    expect(second.exitCode, second.stderr).toBe(EXIT.ioError);
    const lines = second.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^fpsolve: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\S+: cannot write: no space left on the device \\(ENOSPC\\)$`));
    // Byte for byte the first run's directory: nothing of the second run, no staging debris.
    expect(snapshot(out)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['out']);

    // Space again: the same command now replaces everything, including the first run's .vti files it does not write.
    fault.call = '';
    const third = await runCli(args(out, 120));
    expect(third.exitCode, third.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['density-axis0.npy', 'density.json', 'density.npy', 'pi-axis0.npy', 'pi.json', 'pi.npy', 'report.json', 'series.csv']);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { grid?: { cells?: number[] }; series: { t: number }[] };
    const csvRows = readFileSync(join(out, 'series.csv'), 'utf8').trim().split('\n').length - 1;
    expect(csvRows).toBe(report.series.length);
    expect(JSON.parse(readFileSync(join(out, 'density.json'), 'utf8')).shape).toEqual([120]);
  });
});
