/**
 * The cluster examples and the CI check around them (docs/sweep.md, "Clusters" and "What CI checks").
 * The real runs (a single-node Slurm, GNU parallel, the comparison with an unsharded sweep) are
 * .ci/cluster-check.sh's job in CI; here: what the Slurm example submits and in which order, with
 * stand-ins for sbatch and npx that record what a real Slurm would see, and the comparison script
 * against sweeps whose differences the test made itself.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync as mkdtempRaw, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packageRoot } from '../src/paths.js';

const ROOT = packageRoot();
const SLURM_EXAMPLE = join(ROOT, 'examples', 'slurm-sweep.sh');
const COMPARE = join(ROOT, '.ci', 'compare-sweeps.mjs');
const CHECK = join(ROOT, '.ci', 'cluster-check.sh');

const made: string[] = [];
function mkdtempSync(prefix: string): string {
  const d = mkdtempRaw(prefix);
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

interface Call {
  tool: string;
  args: string[];
  /** For sbatch: whether each --output's folder existed when sbatch ran (Slurm opens it at task start). */
  outputDirs: Record<string, boolean>;
  logsExists: boolean;
}

/**
 * A folder that looks like a fresh clone for the example (scenarios/ but no logs/), and a bin/ of
 * stand-ins: `sbatch` prints job ids 41, 42;cluster, …; `npx` exits $NPX_RC for --version. Both
 * append one JSON line per call to calls.jsonl.
 */
function fakeClone(): { dir: string; bin: string; calls: () => Call[] } {
  const dir = mkdtempSync(join(tmpdir(), 'fpsolve-cluster-'));
  mkdirSync(join(dir, 'scenarios'));
  const bin = join(dir, '.bin');
  mkdirSync(bin);
  const log = join(dir, 'calls.jsonl');
  const recorder = (tool: string, after: string): string => `#!/usr/bin/env node
const fs = require('node:fs'), path = require('node:path');
const args = process.argv.slice(2);
const outputDirs = {};
args.forEach((a, i) => {
  const m = /^--output=(.*)$/.exec(a) ?? (a === '--output' ? [a, args[i + 1]] : null);
  if (m) outputDirs[m[1]] = fs.existsSync(path.dirname(m[1]));
});
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ tool: ${JSON.stringify(tool)}, args, outputDirs, logsExists: fs.existsSync('logs') }) + '\\n');
${after}
`;
  const sbatch = recorder(
    'sbatch',
    `const n = fs.readFileSync(${JSON.stringify(log)}, 'utf8').split('\\n').filter((l) => l.includes('"tool":"sbatch"')).length;
process.stdout.write(n === 1 ? '41\\n' : String(40 + n) + ';cluster\\n');`,
  );
  const npx = recorder('npx', `if (args.includes('--version')) process.exit(Number(process.env.NPX_RC ?? 0));`);
  writeFileSync(join(bin, 'sbatch'), sbatch.replace('#!/usr/bin/env node', `#!${process.execPath}`));
  writeFileSync(join(bin, 'npx'), npx.replace('#!/usr/bin/env node', `#!${process.execPath}`));
  chmodSync(join(bin, 'sbatch'), 0o755);
  chmodSync(join(bin, 'npx'), 0o755);
  mkdirSync(join(dir, 'examples'));
  symlinkSync(SLURM_EXAMPLE, join(dir, 'examples', 'slurm-sweep.sh'));
  const calls = (): Call[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Call)
      : [];
  return { dir, bin, calls };
}

function runExample(clone: { dir: string; bin: string }, env: Record<string, string>): ReturnType<typeof spawnSync> {
  const base = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith('SLURM_')) delete base[k];
  return spawnSync('bash', ['examples/slurm-sweep.sh'], {
    cwd: clone.dir,
    env: { ...base, PATH: `${clone.bin}:${process.env.PATH ?? ''}`, ...env },
    encoding: 'utf8',
  });
}

describe('examples/slurm-sweep.sh', () => {
  it.each([
    ['from a login shell', {}],
    ['from inside an salloc session (a job, but no array task)', { SLURM_JOB_ID: '12' }],
  ])('submitted by hand %s: makes logs/ before sbatch, then the array and an afterok merge on its id', (_where, env: Record<string, string>) => {
    const clone = fakeClone();
    const r = runExample(clone, env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const calls = clone.calls();
    expect(calls.map((c) => c.tool)).toEqual(['npx', 'sbatch', 'sbatch']);
    // fpsolve is checked before anything is queued.
    expect(calls[0]!.args).toEqual(['fpsolve', '--version']);
    const [, array, merge] = calls;
    // The failure: an --output into a folder that does not exist when the task starts.
    for (const c of [array!, merge!]) {
      expect(Object.keys(c.outputDirs).length).toBe(1);
      for (const [out, existed] of Object.entries(c.outputDirs)) expect(existed, out).toBe(true);
      expect(c.logsExists).toBe(true);
    }
    expect(array!.args.at(-1)).toBe('examples/slurm-sweep.sh');
    expect(array!.args).not.toContain('--wrap');
    // The merge waits for the id sbatch printed, and is cancelled, not left pending, if a task fails.
    expect(merge!.args).toContain('--dependency=afterok:41');
    expect(merge!.args).toContain('--kill-on-invalid-dep=yes');
    const wrap = merge!.args[merge!.args.indexOf('--wrap') + 1];
    expect(wrap).toBe('npx fpsolve sweep merge sweeps/dw-*/ --out sweeps/dw');
    // .ci/cluster-check.sh reads both ids from these lines; "42;cluster" is --parsable's federated form.
    expect(r.stdout).toMatch(/^array job 41: /m);
    expect(r.stdout).toMatch(/^merge job 42: /m);
  });

  it('submitted by hand where fpsolve does not run: nothing is queued', () => {
    const clone = fakeClone();
    const r = runExample(clone, { NPX_RC: '1' });
    expect(r.status).not.toBe(0);
    expect(clone.calls().map((c) => c.tool)).toEqual(['npx']);
  });

  it('submitted with plain sbatch, its default output file needs no folder', () => {
    // Slurm opens the output file before the script runs: a path into a folder that a fresh clone
    // lacks kills every task. Each directive's folder must exist in any working directory.
    const outputs = readFileSync(SLURM_EXAMPLE, 'utf8')
      .split('\n')
      .filter((l) => /^#SBATCH\s+(--output|-o)\b/.test(l))
      .map((l) => l.replace(/^#SBATCH\s+(--output=|--output\s+|-o\s*)/, '').trim());
    expect(outputs.length).toBe(1);
    for (const o of outputs) expect(dirname(o), o).toBe('.');
  });

  it('run by Slurm as an array task: its shard of the sweep, on the CPUs Slurm gave it', () => {
    const clone = fakeClone();
    const r = runExample(clone, {
      SLURM_JOB_ID: '57',
      SLURM_ARRAY_JOB_ID: '41',
      SLURM_ARRAY_TASK_ID: '5',
      SLURM_CPUS_PER_TASK: '2',
    });
    expect(r.status).toBe(0);
    const calls = clone.calls();
    expect(calls.map((c) => c.tool)).toEqual(['npx']);
    expect(calls[0]!.args).toEqual([
      'fpsolve', 'sweep', 'scenarios/double-well-1d.yaml',
      '--set', 'noise.eta=logspace(-2,0,9)', '--set', 'noise.sigma=1,2,4',
      '--jobs', '2', '--shard', 'auto', '--out', 'sweeps/dw-5',
    ]);
  });
});

/** A sweep directory holding `records` (one JSON line each) and a manifest. */
function sweepDir(records: object[], manifest: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'fpsolve-compare-'));
  const m = {
    fpsolve: '0.1.0',
    scenarioFile: join(dir, 'scenario.yaml'),
    baseScenarioHash: 'b'.repeat(64),
    pointsHash: 'p'.repeat(64),
    points: 3,
    parameters: ['noise.eta'],
    zip: false,
    runArgs: [],
    shard: null,
    ...manifest,
  };
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(m));
  writeFileSync(join(dir, 'results.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join(''));
  return dir;
}

function record(index: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  const eta = [0.01, 0.1, 1][index]!;
  return {
    key: `k${index}`,
    index,
    params: { 'noise.eta': eta },
    fpsolve: '0.1.0',
    scenario: 'double-well-1d',
    regime: 'converging',
    rates: { chi: index === 2 ? { value: 0.0056974790545107085, window: [120, 480] } : null, kl: null, meanLoss: null },
    gap: 4.3228579220888224e-3 * (index + 1),
    final: { l1: 0.9999999999999999, kl: 0.6931471805599456, chi2: 1.0000000000000009, meanLoss: 0.05, massBelowDelta: 0 },
    wallSeconds: 2.3 + index,
    status: 'ok',
    error: null,
    errorKind: null,
    ...over,
  };
}

/** The double next above x (one unit in the last place). */
function nextUp(x: number): number {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, x);
  b.setBigUint64(0, b.getBigUint64(0) + 1n);
  return b.getFloat64(0);
}

function compare(ref: string, got: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [COMPARE, ref, got], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('.ci/compare-sweeps.mjs', () => {
  const ref = sweepDir([record(0), record(1), record(2)]);

  it('accepts the same points in another order, with other wall times and shard', () => {
    const got = sweepDir([record(2, { wallSeconds: 9 }), record(0, { wallSeconds: 0.1 }), record(1)], { shard: { k: 1, n: 1 } });
    const r = compare(ref, got);
    expect(r.out).toContain('all 3 points equal');
    expect(r.status).toBe(0);
  });

  it('finds a gap one ulp off, a changed window end, and a rate that appeared', () => {
    const gap = record(1).gap as number;
    expect(nextUp(gap)).not.toBe(gap);
    const got = sweepDir([
      record(0, { rates: { chi: { value: 1e-3, window: [0, 1] }, kl: null, meanLoss: null } }),
      record(1, { gap: nextUp(gap) }),
      record(2, { rates: { chi: { value: 0.0056974790545107085, window: [120, 480.00000000000006] }, kl: null, meanLoss: null } }),
    ]);
    const r = compare(ref, got);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/point 1 \(noise\.eta=0\.1\): gap = /);
    expect(r.out).toMatch(/point 2 .*rates\.chi\.window\.1 = 480 vs 480\.00000000000006/);
    expect(r.out).toMatch(/point 0 .*rates\.chi = null vs/);
  });

  it('finds a missing point, a point twice, and one outside the sweep', () => {
    expect(compare(ref, sweepDir([record(0), record(2)])).out).toMatch(/point 1: no result in /);
    const twice = compare(ref, sweepDir([record(0), record(1), record(1), record(2)]));
    expect(twice.status).toBe(1);
    expect(twice.out).toMatch(/point 1 appears twice/);
    const outside = compare(ref, sweepDir([record(0), record(1), record(2), record(3 as number, { params: {} })]));
    expect(outside.status).toBe(1);
    expect(outside.out).toMatch(/point 3 .* not one of the sweep's 3 points/);
  });

  it('refuses failed points even when both sides failed alike, and a different sweep', () => {
    const failed = { status: 'failed', error: 'boom', errorKind: 'numerical' };
    const bothFailed = compare(sweepDir([record(0), record(1, failed), record(2)]), sweepDir([record(0), record(1, failed), record(2)]));
    expect(bothFailed.status).toBe(1);
    expect(bothFailed.out).toMatch(/point 1 .*failed in .*boom/);
    const other = compare(ref, sweepDir([record(0), record(1), record(2)], { pointsHash: 'q'.repeat(64) }));
    expect(other.status).toBe(1);
    expect(other.out).toMatch(/sweep\.json pointsHash differs/);
  });

  it('a directory without a sweep: exit 2 naming the file', () => {
    const empty = mkdtempSync(join(tmpdir(), 'fpsolve-compare-'));
    const r = compare(ref, empty);
    expect(r.status).toBe(2);
    expect(r.out).toContain(join(empty, 'sweep.json'));
  });
});

describe('.ci/cluster-check.sh', () => {
  /** PATH holding only `dirname` (the script's first need): no Slurm, no GNU parallel. */
  function barePath(): string {
    const bin = mkdtempSync(join(tmpdir(), 'fpsolve-bare-'));
    const real = spawnSync('bash', ['-c', 'command -v dirname'], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(real, join(bin, 'dirname'));
    return bin;
  }
  const run = (what: string, ci: boolean): { status: number | null; err: string } => {
    const env: Record<string, string> = { PATH: barePath(), HOME: tmpdir() };
    if (ci) env.CI = 'true';
    const r = spawnSync('/bin/bash', [CHECK, what], { env, encoding: 'utf8' });
    return { status: r.status, err: r.stderr };
  };

  it('without GNU parallel or Slurm: skips with the reason on a workstation, fails in CI', () => {
    const skip = run('parallel', false);
    expect(skip.status).toBe(0);
    expect(skip.err).toContain('skipped: GNU parallel is not installed');
    const ci = run('parallel', true);
    expect(ci.status).toBe(1);
    expect(ci.err).toContain('FAIL: GNU parallel is not installed');
    const slurm = run('slurm', true);
    expect(slurm.status).toBe(1);
    expect(slurm.err).toMatch(/FAIL: Slurm: munged is not installed/);
  });
});
