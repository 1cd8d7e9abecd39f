/**
 * WorkerPool against runInChild: the same request gives the same result through a persistent
 * `fpsolve worker` as through a fresh `fpsolve run --json` process, and a worker's death or
 * timeout costs only its request. Needs `npx tsc -p .` first (workers and children run dist/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerPool } from '../src/parallel/worker-pool.js';
import { runInChild } from './helpers/child-run.js';
import type { ChildRunRequest, ChildRunResult } from '../src/parallel/run-request.js';

// Pearson diffusion f = c + b x², ησ = 1 (docs/oracles.md §1): spectral gap 2b = 1 on the whole line.
const SCENARIO = `
name: pool-test
landscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }
domain: { bounds: [[-10, 10]], cells: [200] }
noise: { model: multiplicative, eta: 0.1, sigma: 10 }
initial: { gaussian: { mean: [1.5], std: [0.5] } }
time: { end: 1, reportEvery: 0.1 }
`;
/** Overrides that make the same scenario run for minutes (t = 10⁵ on 4000 cells, 10⁴ report times): a run to kill. */
const LONG = ['time.end=100000', 'time.reportEvery=10', 'domain.cells=[4000]'];

let dir: string;
let scenario: string;
let pool: WorkerPool;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fps-pool-'));
  scenario = join(dir, 'pool-test.yaml');
  writeFileSync(scenario, SCENARIO);
  pool = new WorkerPool(2);
});
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The result without what legitimately differs between two runs of one request: wall times and the creation stamp. */
function untimed(r: ChildRunResult): unknown {
  const { wallSeconds: _w, ...rest } = r;
  if (!rest.ok) return rest;
  const { wallSeconds: _rw, createdAt: _c, ...report } = rest.report as unknown as Record<string, unknown>;
  return { ...rest, report };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('WorkerPool', () => {
  it('gives the result runInChild gives, with and without extra run arguments', async () => {
    const reqs: ChildRunRequest[] = [
      { scenarioFile: scenario, overrides: ['noise.eta=0.1', 'initial.gaussian.std=[0.3]'] },
      { scenarioFile: scenario, overrides: ['noise.sigma=20'], extraArgs: ['--no-gap'] },
    ];
    for (const req of reqs) {
      const [viaPool, viaChild] = await Promise.all([pool.run(req), runInChild(req)]);
      expect(viaPool.ok && viaPool.exitCode).toBe(0);
      expect(untimed(viaPool)).toEqual(untimed(viaChild));
    }
    // The gap run is a real solve: ησ = 1, gap 2b = 1 on the whole line (docs/oracles.md §1), lowered a few % by the reflecting box [−10, 10].
    const r = await pool.run(reqs[0]!);
    expect(r.ok && r.report.gap?.value).toBeGreaterThan(0.95);
    expect(r.ok && r.report.gap?.value).toBeLessThan(1.01);
    // --no-gap was parsed as `fpsolve run` parses it: no gap in the report.
    const n = await pool.run(reqs[1]!);
    expect(n.ok && n.report.gap).toBeUndefined();
  });

  it('answers bad input with exit 2 and the one-line message of fpsolve run', async () => {
    for (const req of [
      { scenarioFile: scenario, overrides: ['noise.eta=-1'] },
      { scenarioFile: scenario, overrides: [], extraArgs: ['--max-wall', '-1'] },
      { scenarioFile: join(dir, 'missing.yaml'), overrides: [] },
    ]) {
      const [viaPool, viaChild] = await Promise.all([pool.run(req), runInChild(req)]);
      expect(viaPool.ok).toBe(false);
      expect(viaPool.exitCode).toBe(2);
      expect(!viaPool.ok && viaPool.error.split('\n')).toHaveLength(1);
      expect(untimed(viaPool)).toEqual(untimed(viaChild));
    }
  });

  it('resolves a request whose worker is SIGKILLed as a crash, and runs the next on a fresh worker', async () => {
    const solo = new WorkerPool(1);
    try {
      // Warm the worker so the kill lands mid-solve, not mid-start-up.
      expect((await solo.run({ scenarioFile: scenario, overrides: [] })).exitCode).toBe(0);
      const [pid] = solo.pids;
      const pending = solo.run({ scenarioFile: scenario, overrides: LONG, extraArgs: ['--no-gap'] });
      await sleep(1000);
      process.kill(pid!, 'SIGKILL');
      const crashed = await pending;
      expect(crashed.ok).toBe(false);
      expect(crashed.exitCode).toBeNull();
      expect(!crashed.ok && crashed.error).toMatch(/SIGKILL/);
      const next = await solo.run({ scenarioFile: scenario, overrides: [] });
      expect(next.ok && next.report.status).toBe('ok');
      expect(solo.pids).toHaveLength(1);
      expect(solo.pids[0]).not.toBe(pid);
    } finally {
      await solo.close();
    }
  });

  it('stops a run past its timeout like fpsolve run stops on SIGTERM, and replaces the worker', async () => {
    const solo = new WorkerPool(1);
    try {
      expect((await solo.run({ scenarioFile: scenario, overrides: [] })).exitCode).toBe(0);
      const [pid] = solo.pids;
      const r = await solo.run({ scenarioFile: scenario, overrides: LONG, extraArgs: ['--no-gap'], timeoutSeconds: 1, killGraceSeconds: 10 });
      // 143: interrupted by SIGTERM, report kept (exit codes of `fpsolve run --help`).
      expect(r.exitCode).toBe(143);
      expect(r.ok && r.report.status).toBe('interrupted');
      expect(r.wallSeconds).toBeGreaterThanOrEqual(1);
      const ts = r.ok ? r.report.series.map((p) => p.t) : [];
      expect(ts.length).toBeGreaterThan(0);
      expect(Math.max(...ts)).toBeLessThan(100000);
      const next = await solo.run({ scenarioFile: scenario, overrides: [] });
      expect(next.exitCode).toBe(0);
      expect(solo.pids[0]).not.toBe(pid);
    } finally {
      await solo.close();
    }
  });

  it('after close, runs nothing and keeps no worker', async () => {
    const p = new WorkerPool(1);
    expect((await p.run({ scenarioFile: scenario, overrides: ['noise.eta=0.2'] })).exitCode).toBe(0);
    const [pid] = p.pids;
    await p.close();
    expect(p.pids).toHaveLength(0);
    // The process is gone: signal 0 probes for it.
    expect(() => process.kill(pid!, 0)).toThrow();
    const r = await p.run({ scenarioFile: scenario, overrides: [] });
    expect(r.ok).toBe(false);
  });
});
