/**
 * results.jsonl's group commit (src/sweep/record-log.ts): every record is in the file the moment
 * it is appended (a reader, or the rerun after `kill -9`, sees it), while fsyncs come at most once
 * per syncEvery seconds and at the end. The fsyncs are counted at node:fs itself (every fsyncSync
 * on a descriptor opened on the log), not by the class's own counter, and the clock is injected,
 * so the counts are exact whatever the machine's load.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { RecordLog } from '../src/sweep/record-log.js';
import { appendLine } from '../src/io/atomic.js';

const seen = vi.hoisted(() => ({ fdPath: new Map<number, string>(), fsyncs: [] as string[] }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    openSync: (...args: Parameters<typeof real.openSync>): number => {
      const fd = real.openSync(...args);
      seen.fdPath.set(fd, String(args[0]));
      return fd;
    },
    fsyncSync: (fd: number): void => {
      seen.fsyncs.push(seen.fdPath.get(fd) ?? '?');
      real.fsyncSync(fd);
    },
  };
});

afterEach(() => {
  seen.fdPath.clear();
  seen.fsyncs = [];
});

function tempLog(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fps-record-log-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'results.jsonl');
}

const lines = (path: string): string[] => readFileSync(path, 'utf8').trim().split('\n');

describe('RecordLog (results.jsonl group commit)', () => {
  it('one fsync per elapsed syncEvery, not one per record; each record readable at once', () => {
    const path = tempLog();
    let t = 0;
    const log = new RecordLog(path, { syncEvery: 1, now: () => t });
    // 128 records 0.03 s apart (a 1-D point's time): 3.84 s in all.
    for (let i = 0; i < 128; i++) {
      t = 0.03 * (i + 1);
      log.append(JSON.stringify({ i }));
      expect(lines(path)).toHaveLength(i + 1);
    }
    // Independent count: the first record at or past each whole second since the last sync syncs.
    let expected = 0;
    let last = 0;
    for (let i = 0; i < 128; i++) {
      const ti = 0.03 * (i + 1);
      if (ti - last >= 1) {
        expected++;
        last = ti;
      }
    }
    expect(expected).toBe(3);
    expect(seen.fsyncs.filter((p) => p === path)).toHaveLength(expected);
    log.sync();
    expect(seen.fsyncs.filter((p) => p === path)).toHaveLength(expected + 1);
    expect(log.syncs).toBe(expected + 1);
    // Nothing new: closing twice costs no second fsync.
    log.sync();
    expect(seen.fsyncs.filter((p) => p === path)).toHaveLength(expected + 1);
    expect(lines(path).map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(Array.from({ length: 128 }, (_, i) => i));
  });

  it('syncEvery 0 syncs every record, as appendLine alone does (the behaviour before group commit)', () => {
    const path = tempLog();
    const log = new RecordLog(path, { syncEvery: 0, now: () => 0 });
    for (let i = 0; i < 5; i++) log.append(`{"i":${i}}`);
    const plain = tempLog();
    for (let i = 0; i < 5; i++) appendLine(plain, `{"i":${i}}`);
    expect(seen.fsyncs.filter((p) => p === path)).toHaveLength(5);
    expect(seen.fsyncs.filter((p) => p === plain)).toHaveLength(5);
    expect(readFileSync(path, 'utf8')).toBe(readFileSync(plain, 'utf8'));
  });

  it('a torn last line (a writer killed mid-append) is not glued to the next record', () => {
    const path = tempLog();
    appendLine(path, '{"i":0}');
    const log = new RecordLog(path, { now: () => 0 });
    // A fragment without its newline, as kill -9 mid-write leaves.
    appendFileSync(path, '{"i":1');
    log.append('{"i":2}');
    expect(readFileSync(path, 'utf8')).toBe('{"i":0}\n{"i":1\n{"i":2}\n');
  });
});
