/**
 * Fault injection for writeFileAtomic: node:fs is wrapped so that a chosen call fails after the
 * temp file exists and holds data. Kept apart from io-atomic.test.ts because vi.mock applies to
 * the whole file.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { writeFileAtomic } from '../src/io/atomic.js';

const fault = vi.hoisted(() => ({ call: '' as '' | 'writeSync' | 'fsyncSync' | 'renameSync', seen: [] as string[] }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const wrap =
    <A extends unknown[], R>(name: 'writeSync' | 'fsyncSync' | 'renameSync', fn: (...args: A) => R) =>
    (...args: A): R => {
      fault.seen.push(name);
      if (fault.call === name) {
        if (name === 'writeSync') {
          // Land some bytes first, so the temp file really is partial when the failure hits.
          (real.writeSync as (fd: number, b: Uint8Array, o: number, l: number) => number)(args[0] as number, args[1] as Uint8Array, 0, 3);
        }
        throw Object.assign(new Error(`injected ${name} failure`), { code: 'EIO' });
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
});

describe('writeFileAtomic under injected faults', () => {
  it.each(['writeSync', 'fsyncSync', 'renameSync'] as const)('a failing %s keeps the old target and removes the temp file', (call) => {
    const dir = mkdtempSync(join(tmpdir(), 'fpsolve-fault-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'result.json');
    writeFileSync(path, '{"old":true}');
    fault.call = call;
    expect(() => writeFileAtomic(path, '{"new":true, "padding":"' + 'z'.repeat(10_000) + '"}')).toThrow(`injected ${call} failure`);
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
