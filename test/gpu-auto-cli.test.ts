/**
 * `--backend auto` through the built CLI: the reason a malformed GPU benchmark record (named by
 * FPSOLVE_GPU_BENCHMARK) kept the run on the CPU reaches report.json (gpu-auto.test.ts has the rule).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GPU_RECORD_ENV } from '../solvers/backend/gpu-record.js';
import { fpsolve } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fpsolve-gpu-auto-cli-'));
const writeRecord = (content: string): string => {
  const file = join(dir, 'record.json');
  writeFileSync(file, content);
  return file;
};

describe('--backend auto with a malformed record, through the CLI', () => {
  it('the CLI writes that reason into report.json (record named by FPSOLVE_GPU_BENCHMARK)', () => {
    const out = mkdtempSync(join(dir, 'run-'));
    const file = writeRecord('not json at all');
    const r = fpsolve(['run', 'scenarios/ou-2d.yaml', '-q', '--no-gap', '--set', 'domain.cells=[512,512]', '--set', 'time.end=0.001', '--set', 'time.reportEvery=0.001', '-o', out], { env: { [GPU_RECORD_ENV]: file } });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { backend: string; precision: string; backendReason: string };
    expect(report.backend).toBe('cpu');
    expect(report.precision).toBe('float64');
    expect(report.backendReason).toContain(`the recorded GPU benchmark ${file} is unreadable`);
    expect(report.backendReason).toMatch(/so float64 on the CPU$/);
  });
});
