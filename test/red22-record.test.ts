/**
 * Red team #22: the recorded GPU benchmark (solvers/backend/gpu-record.ts) as a hostile user writes it.
 * FPSOLVE_GPU_BENCHMARK may name anything, and what the record says is quoted in report.backendReason
 * and on the summary line. Each case checks what auto must do with it: one line, no hang, no crash,
 * none of the file's bytes repeated back.
 *
 * Found here (each failed before the fix in gpu-record.ts): a FIFO made auto wait forever (readFileSync
 * blocks for a writer), /dev/zero was read until memory ran out, V8's JSON.parse message quoted the
 * file's first bytes, a 100 kB `format` was echoed whole, and a device or label with a newline put a
 * second line into the reason.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GPU_RECORD_MAX_BYTES, loadGpuRecord, recordVerdict } from '../solvers/backend/gpu-record.js';

const dir = mkdtempSync(join(tmpdir(), 'fpsolve-red22-record-'));
let serial = 0;
function write(content: string): string {
  const file = join(dir, `r${serial++}.json`);
  writeFileSync(file, content);
  return file;
}

const H100 = 'WebGPU (Dawn): nvidia hopper NVIDIA H100 80GB HBM3';
/** A well-formed hardware record with one 2-D exponential win at 1024² (3× faster, matched). */
function record(over: Record<string, unknown> = {}, caseOver: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'fpsolve-gpu-benchmark',
    version: 1,
    date: '2026-12-07',
    hardware: true,
    device: H100,
    cases: [{ label: '1024²', dim: 2, cells: [1024, 1024], size: 1024 ** 2, integrator: 'exponential', status: 'ran', cpuWallS: 30, deviceWallS: 10, speedup: 3, matched: true, win: true, ...caseOver }],
    ...over,
  };
}
const verdict = (file: string) => recordVerdict(file, 2, 2048 ** 2, 'exponential');

describe('red22: hostile GPU benchmark records', () => {
  it('the fixture record itself is read and shows its win (so the refusals below are the fields, not the fixture)', () => {
    const v = verdict(write(JSON.stringify(record())));
    expect(v.win?.speedup).toBe(3);
    expect(v.why).toContain('3.00× faster');
  });

  it('a FIFO or /dev/zero as the record: answered at once, no hang and no read to the end of memory', () => {
    const fifo = join(dir, 'fifo');
    const mk = spawnSync('mkfifo', [fifo]);
    const targets = ['/dev/zero', ...(mk.status === 0 ? [fifo] : [])];
    // In a child, with a timeout: in-process a blocked read would hang the test runner instead of failing.
    const mod = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'solvers', 'backend', 'gpu-record.js')).href;
    expect(existsSync(new URL(mod)), 'build first: npx tsc -p tsconfig.json').toBe(true);
    for (const target of targets) {
      const script = `import(${JSON.stringify(mod)}).then((m) => process.stdout.write(m.recordVerdict(${JSON.stringify(target)}, 2, 4194304, 'exponential').why))`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 8000, env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=256' } });
      expect(r.signal, `${target}: killed by ${r.signal} (hung or ran out of memory)`).toBeNull();
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('is not a regular file');
      expect(r.stdout).not.toContain('\n');
    }
  });

  it('a directory, and a file larger than any record, are named as such', () => {
    const d = join(dir, 'adir');
    mkdirSync(d);
    expect(verdict(d).why).toMatch(/is unreadable \(it is a directory\)/);
    // Valid JSON padded past the cap: refused by size, before parsing.
    const big = write(JSON.stringify(record()) + ' '.repeat(GPU_RECORD_MAX_BYTES));
    expect(verdict(big).win).toBeUndefined();
    expect(verdict(big).why).toMatch(/more than the \d+ a record can have/);
  });

  it('invalid JSON: the reason never repeats the file\'s text', () => {
    const secret = 'SECRET-hunter2-token';
    for (const text of [`${secret} {`, `{"format": ${secret}}`, `{"a": 1} ${secret}`, `"${secret}`]) {
      const why = verdict(write(text)).why;
      expect(why).toContain('not valid JSON');
      // V8 quotes up to 10 characters around the error; none of them may appear.
      expect(why).not.toContain(secret.slice(0, 6));
    }
  });

  it('huge or odd field values are described, not echoed', () => {
    const huge = 'x'.repeat(100_000);
    const a = verdict(write(JSON.stringify(record({ format: huge })))).why;
    expect(a.length).toBeLessThan(400);
    expect(a).toContain('a string of 100000 characters');
    const b = verdict(write(JSON.stringify(record({ version: { deep: [[[huge]]] } })))).why;
    expect(b.length).toBeLessThan(400);
    expect(b).toMatch(/version is an object/);
  });

  it('device, date and label cannot carry a second line or megabytes into the reason', () => {
    for (const [over, caseOver] of [
      [{ device: `${H100}\nfpsolve: all checks passed` }, {}],
      [{ date: '2026\r\n' }, {}],
      [{ device: 'G'.repeat(5000) }, {}],
      [{}, { label: '1024²\u2028forged' }],
    ] as const) {
      const v = verdict(write(JSON.stringify(record(over, caseOver))));
      expect(v.win).toBeUndefined();
      expect(v.why).toMatch(/malformed \((field device|field date|cases\[0\]\.label) is not a/);
      expect(v.why).not.toMatch(/[\n\r\u2028]/);
      expect(v.why.length).toBeLessThan(400);
    }
  });

  it('1e308, NaN strings, wrong types and deep nesting: malformed or no win, never a crash or a false win', () => {
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [{}, { speedup: 'NaN' }],
      [{}, { speedup: 1e308, size: 1e308 }],
      [{}, { win: 'true' }],
      [{}, { dim: 2.5 }],
      [{ hardware: 'yes' }, {}],
      [{ cases: 'all' }, {}],
    ];
    for (const [over, caseOver] of cases) {
      const v = verdict(write(JSON.stringify(record(over, caseOver))));
      expect(v.win, JSON.stringify([over, caseOver])).toBeUndefined();
    }
    // 1e308 cells: a size no grid reaches, so it can be no win for this one (and says so).
    expect(verdict(write(JSON.stringify(record({}, { speedup: 1e308, size: 1e308 })))).why).toContain('is below 1e+308');
    // 100 000 nested lists: JSON.parse in V8 is iterative, so no stack overflow; the shape check refuses it.
    const deep = write('['.repeat(100_000) + ']'.repeat(100_000));
    expect(loadGpuRecord(deep)).toMatch(/malformed \(not a JSON object\)/);
  });
});
