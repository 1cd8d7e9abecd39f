/**
 * Red team #22: the device check (bench/gpu-device.sh → test/bench/gpu-device.ts) where it cannot
 * finish. It runs on a borrowed machine for minutes, so a failure must say what is wrong in one line
 * and leave no results file that disagrees with the other: bench/results-gpu.json is what
 * `--backend auto` reads, results-gpu.md is what people read.
 *
 * Found here (each failed before the fix in test/bench/gpu-device.ts): results that could not be
 * written ended the check with an OutputError stack trace and exit 1, after all the runs, with the JSON
 * record already replaced and the Markdown not; a bad --sizes was a stack trace too.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGpuRecord, recordVerdict } from '../solvers/backend/gpu-record.js';

const ROOT = join(import.meta.dirname, '..');
const DRIVER = join(ROOT, 'dist', 'test', 'bench', 'gpu-device.js');
const dir = mkdtempSync(join(tmpdir(), 'fpsolve-red22-device-'));
const TINY = ['--software', '--sizes', '8', '--sizes3d', '4', '--cap', '60', '--budget', '120'];

function driver(args: string[]) {
  expect(existsSync(DRIVER), 'build first: npx tsc -p tsconfig.json').toBe(true);
  return spawnSync(process.execPath, [DRIVER, ...args, ...TINY, '--work', mkdtempSync(join(dir, 'work-'))], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
}
/** stderr lines that are not the per-run progress lines. */
const complaints = (stderr: string): string[] => stderr.split('\n').filter((l) => l && !/^gpu-device: \S+: --backend /.test(l));
const noStack = (stderr: string): void => {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/Error:|Node\.js v/);
};

describe('red22: the device-check script when it cannot finish', () => {
  it('both scripts parse (bash -n)', () => {
    for (const s of ['gpu-device.sh', 'gpu-device-kit.sh']) {
      const r = spawnSync('bash', ['-n', join(ROOT, 'bench', s)], { encoding: 'utf8' });
      expect(r.status, `${s}: ${r.stderr}`).toBe(0);
    }
  });

  it('a checkout without the kit, Node modules or build: exit 2, one line naming what is missing', () => {
    // The script works from the folder above its own: a bare copy of it is a checkout with nothing carried.
    const bare = mkdtempSync(join(dir, 'bare-'));
    mkdirSync(join(bare, 'bench'));
    copyFileSync(join(ROOT, 'bench', 'gpu-device.sh'), join(bare, 'bench', 'gpu-device.sh'));
    const r = spawnSync('bash', [join(bare, 'bench', 'gpu-device.sh'), '--software'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/node_modules\/gpu\.js is missing/);
    expect(readdirSync(join(bare, 'bench'))).toEqual(['gpu-device.sh']);
  });

  it('results that cannot be written (a path through a file, as a read-only checkout would be): exit 74 before any run, one line', () => {
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const json = join(blocker, 'results-gpu.json');
    const md = join(dir, 'unused.md');
    const r = driver(['--json', json, '--md', md]);
    expect(r.status).toBe(74);
    noStack(r.stderr);
    // Nothing ran: the check would otherwise spend its minutes first and fail at the end.
    expect(r.stderr).not.toMatch(/--backend cpu/);
    expect(complaints(r.stderr)).toEqual([expect.stringMatching(/^gpu-device: cannot write the results .*not-a-folder\/results-gpu\.json: .*nothing was run$/)]);
    expect(existsSync(md)).toBe(false);
  });

  it('bad --sizes: exit 2, one line', () => {
    const r = driver(['--sizes', 'abc', '--json', join(dir, 'never.json'), '--md', join(dir, 'never.md')]);
    expect(r.status).toBe(2);
    noStack(r.stderr);
    expect(complaints(r.stderr)).toEqual([expect.stringMatching(/^gpu-device: --sizes.*integers ≥ 4/)]);
  });

  it('the Markdown cannot be replaced after the runs: the earlier record is left byte for byte, exit 74, one line', () => {
    const json = join(dir, 'kept.json');
    const before = `${JSON.stringify({ format: 'fpsolve-gpu-benchmark', version: 1, date: 'before', hardware: false, device: 'earlier run', cases: [] })}\n`;
    writeFileSync(json, before);
    // A folder where the Markdown file should be: its folder is writable (the probe passes), the file itself is not.
    const md = join(dir, 'md-is-a-folder');
    mkdirSync(md);
    const r = driver(['--json', json, '--md', md]);
    expect(r.status).toBe(74);
    noStack(r.stderr);
    // The last line says it; no stack trace before it.
    expect(complaints(r.stderr).at(-1)).toMatch(/^gpu-device: the results were not written: .*md-is-a-folder/);
    expect(readFileSync(json, 'utf8')).toBe(before);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a --software run writes both files; auto reads the record and, truly, refuses it as not hardware', () => {
    const json = join(dir, 'soft.json');
    const md = join(dir, 'soft.md');
    const r = driver(['--json', json, '--md', md]);
    expect(r.status, r.stderr).toBe(0);
    const rec = loadGpuRecord(json);
    expect(typeof rec).toBe('object');
    if (typeof rec === 'string') return;
    expect(rec.hardware).toBe(false);
    // Whatever its cases say, a software record is no win; the reason names the file and why.
    for (const c of rec.cases) {
      const v = recordVerdict(json, c.dim, c.size, c.integrator);
      expect(v.win).toBeUndefined();
      expect(v.why).toContain('not a hardware GPU');
    }
    expect(readFileSync(md, 'utf8')).toContain('**No hardware GPU figure exists.**');
  });
});
