/**
 * `fpsolve sweep --in-process` (src/parallel/in-process.ts): points run in the sweep's own process
 * (as one of --jobs, the others in worker processes) and give the records that worker processes
 * give, bit for bit. Needs `npx tsc -p .` first (the worker processes and the CLI run dist/).
 * Points are 1-D Pearson runs on 200 cells to t = 1 (docs/oracles.md §1 Pearson), well under a second each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/paths.js';
import { runSweep, type SweepSpec } from '../src/sweep/runner.js';
import { parseSetArg } from '../src/sweep/points.js';
import type { SweepRecord } from '../src/sweep/record.js';
import { loadScenario, scenarioLoadCount } from '../src/scenario/load.js';
import { runScenario } from '../src/run/run.js';
import { WorkerPool } from '../src/parallel/worker-pool.js';

const ROOT = packageRoot();
const BIN = join(ROOT, 'bin', 'fpsolve.js');
let dir: string;
let scenario: string;

const SCENARIO = `
name: sweep-in-process-test
landscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }
domain: { bounds: [[-10, 10]], cells: [200] }
noise: { model: multiplicative, eta: 0.1, sigma: 10 }
initial: { gaussian: { mean: [1.5], std: [0.5] } }
time: { end: 1, reportEvery: 0.1 }
`;

// 3 × 2 = 6 points; eta = -1 is invalid (2 points, recorded without running).
const SETS = ['noise.eta=[-1,0.05,0.2]', 'noise.sigma=5,10'];
const spec = (): SweepSpec => ({ scenarioFile: scenario, axes: SETS.map(parseSetArg), zip: false });
const RUN_ARGS = ['--no-gap'];

const strip = (r: SweepRecord): Omit<SweepRecord, 'wallSeconds'> => {
  const { wallSeconds: _w, ...rest } = r;
  return rest;
};

let byProcesses: SweepRecord[];

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('build first: npx tsc -p . (sweeps run dist/ in child processes)');
  dir = mkdtempSync(join(tmpdir(), 'fps-sweep-inproc-'));
  scenario = join(dir, 'pearson.yaml');
  writeFileSync(scenario, SCENARIO);
  byProcesses = (await runSweep(spec(), { out: join(dir, 'processes'), jobs: 2, shard: null, runArgs: RUN_ARGS, plots: false })).records;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sweep --in-process', () => {
  it('gives the worker processes’ records bit for bit, with --jobs 1 (this process only) and --jobs 2 (this process and a worker)', async () => {
    expect(byProcesses).toHaveLength(6);
    for (const jobs of [1, 2]) {
      const res = await runSweep(spec(), { out: join(dir, `in-process-${jobs}`), jobs, shard: null, runArgs: RUN_ARGS, plots: false, inProcess: true });
      expect(res.records.map(strip)).toEqual(byProcesses.map(strip));
    }
    expect(byProcesses.filter((r) => r.status === 'ok')).toHaveLength(4);
    expect(byProcesses.filter((r) => r.errorKind === 'input')).toHaveLength(2);
  });

  it('reads each point’s scenario once (for its key; its run uses a copy of that), not a second time to run it', async () => {
    const before = scenarioLoadCount.files;
    const res = await runSweep(spec(), { out: join(dir, 'loads'), jobs: 1, shard: null, runArgs: RUN_ARGS, plots: false, inProcess: true });
    // The base once (the manifest), then each of the 6 points once; the 4 valid ones used to be read again by their runs (11).
    expect(scenarioLoadCount.files - before).toBe(1 + 6);
    // The runs of those copies are the worker processes' runs, which read the file themselves.
    expect(res.records.map(strip)).toEqual(byProcesses.map(strip));
  });

  it('a point equals the same scenario run directly (runScenario: no worker, no request, no JSON)', async () => {
    const rec = (await runSweep(spec(), { out: join(dir, 'direct'), jobs: 1, shard: null, runArgs: RUN_ARGS, plots: false, inProcess: true })).records.find(
      (r) => r.params['noise.eta'] === 0.2 && r.params['noise.sigma'] === 10,
    )!;
    const { report } = await runScenario(loadScenario(scenario, ['noise.eta=0.2', 'noise.sigma=10']), { gap: false });
    expect(rec.status).toBe('ok');
    expect(rec.final).toEqual({ l1: report.final.l1, kl: report.final.kl, chi2: report.final.chi2, meanLoss: report.final.meanLoss, massBelowDelta: report.final.massBelowDelta });
    expect(rec.rates.chi?.value).toBe(report.rates.chi?.value);
    expect(rec.regime).toBe(report.regime);
  });

  it('with --jobs 1 no worker process runs: a fault that kills the first worker never fires', async () => {
    const prev = process.env.FPSOLVE_TEST_FAULT;
    try {
      const inProc = join(dir, 'marker-in-process');
      process.env.FPSOLVE_TEST_FAULT = `worker-exit-once:${inProc}`;
      const a = await runSweep(spec(), { out: join(dir, 'fault-in-process'), jobs: 1, shard: null, runArgs: RUN_ARGS, plots: false, inProcess: true });
      expect(a.retried).toBe(0);
      expect(existsSync(inProc)).toBe(false);
      // The same sweep in worker processes meets the fault (the control: the fault is live), retries the point and ends with the same records.
      const inWorkers = join(dir, 'marker-workers');
      process.env.FPSOLVE_TEST_FAULT = `worker-exit-once:${inWorkers}`;
      const b = await runSweep(spec(), { out: join(dir, 'fault-workers'), jobs: 1, shard: null, runArgs: RUN_ARGS, plots: false });
      expect(b.retried).toBe(1);
      expect(existsSync(inWorkers)).toBe(true);
      expect(a.records.map(strip)).toEqual(b.records.map(strip));
    } finally {
      if (prev === undefined) delete process.env.FPSOLVE_TEST_FAULT;
      else process.env.FPSOLVE_TEST_FAULT = prev;
    }
  });

  it('an infrastructure failure of an in-process point is retried once in this process, like a worker’s', async () => {
    const prev = process.env.FPSOLVE_TEST_FAULT;
    try {
      process.env.FPSOLVE_TEST_FAULT = `infrastructure-once:${join(dir, 'marker-infra')}`;
      const res = await runSweep(spec(), { out: join(dir, 'infra'), jobs: 1, shard: null, runArgs: RUN_ARGS, plots: false, inProcess: true });
      expect(res.retried).toBe(1);
      expect(res.records.map(strip)).toEqual(byProcesses.map(strip));
    } finally {
      if (prev === undefined) delete process.env.FPSOLVE_TEST_FAULT;
      else process.env.FPSOLVE_TEST_FAULT = prev;
    }
  });

  it('an abort keeps the finished points and records no interrupted one; the rerun runs only the rest', async () => {
    const out = join(dir, 'abort');
    const ctl = new AbortController();
    let done = 0;
    const progress = { start: () => {}, stop: () => {}, pointDone: () => void (++done === 3 && ctl.abort()) };
    const first = await runSweep(spec(), { out, jobs: 1, shard: null, runArgs: RUN_ARGS, plots: false, inProcess: true, signal: ctl.signal, progress });
    expect(first.interrupted).toBe(true);
    // The 2 invalid points are recorded first, then one run point finishes before the abort.
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    const second = await runSweep(spec(), { out, jobs: 1, shard: null, runArgs: RUN_ARGS, plots: false, inProcess: true });
    expect(second.skipped).toBe(3);
    expect(second.finished).toBe(3);
    expect(second.records.map(strip)).toEqual(byProcesses.map(strip));
  });

  it('the CLI flag runs the sweep in process (exit 0, one record per point)', () => {
    const out = join(dir, 'cli');
    const r = spawnSync(process.execPath, [BIN, 'sweep', scenario, '--set', 'noise.eta=0.05,0.2', '--in-process', '--jobs', '1', '--no-plots', '-q', '--run-arg=--no-gap', '--out', out], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});

describe('sweep --in-process and signals', () => {
  it('SIGTERM mid-point: exit 143, the point in flight is not recorded, the finished ones are; the same command finishes the rest', async () => {
    const out = join(dir, 'sigterm');
    const results = join(out, 'results.jsonl');
    // Points of ~0.5 s (8000 cells to t = 10) so that the signal lands inside one.
    const N = 6;
    const args = [BIN, 'sweep', scenario, '--set', `noise.eta=linspace(0.02,0.3,${N})`, '--set', 'time.end=10', '--set', 'domain.cells=[[8000]]', '--in-process', '--jobs', '1', '--quiet', '--no-plots', '--run-arg=--no-gap', '--out', out];
    const first = spawn(process.execPath, args, { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => first.on('exit', (c) => r(c)));
    const t0 = Date.now();
    while (!(existsSync(results) && readFileSync(results, 'utf8').includes('\n'))) {
      if (Date.now() - t0 > 60_000) throw new Error('no point finished within 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    first.kill('SIGTERM');
    expect(await exited).toBe(143);
    const kept = readFileSync(results, 'utf8');
    expect(kept.endsWith('\n')).toBe(true);
    const done = kept.trim().split('\n').map((l) => JSON.parse(l) as SweepRecord);
    expect(done.length).toBeLessThan(N);
    expect(done.every((r) => r.status === 'ok')).toBe(true);
    const second = spawnSync(process.execPath, args, { encoding: 'utf8' });
    expect(second.status).toBe(0);
    const all = readFileSync(results, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as SweepRecord);
    expect(all.map((r) => r.index).sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
    expect(all.every((r) => r.status === 'ok')).toBe(true);
  });
});

describe('WorkerPool.prestart', () => {
  it('starts the workers before any request, and they answer as lazily started ones do', async () => {
    const pool = new WorkerPool(2);
    try {
      pool.prestart(2);
      expect(pool.pids).toHaveLength(2);
      const started = [...pool.pids].sort();
      const req = { scenarioFile: scenario, overrides: ['noise.eta=0.2', 'noise.sigma=10'], extraArgs: RUN_ARGS };
      const [a, b] = await Promise.all([pool.run(req), pool.run(req)]);
      // Both requests went to the prestarted workers: no third process.
      expect([...pool.pids].sort()).toEqual(started);
      expect(a.ok && b.ok).toBe(true);
      const ref = byProcesses.find((r) => r.params['noise.eta'] === 0.2 && r.params['noise.sigma'] === 10)!;
      if (a.ok && b.ok) {
        expect(a.report.final.l1).toBe(ref.final!.l1);
        expect(b.report.final).toEqual(a.report.final);
      }
    } finally {
      await pool.close();
    }
    expect(pool.pids).toHaveLength(0);
  });
});
