/**
 * Typed failures through whole processes (issue #21 item 5, docs/reliability.md "Exit codes" and
 * "Sweeps and retries"): a kernel thread that dies ends `fpsolve run` with exit 75; a sweep point
 * that meets an infrastructure failure or loses its worker process is run once more, and a
 * numerical fault is recorded and never retried. These run dist/: build first (`npx tsc -p .`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweep, type SweepSpec } from '../src/sweep/runner.js';
import { parseSetArg } from '../src/sweep/points.js';
import { parseScenarioText } from '../src/scenario/load.js';
import { runScenario } from '../src/run/run.js';
import { fpsolve, ROOT } from './helpers/cli.js';
import { EXIT } from '../src/errors.js';
import { withFault } from './failure-helpers.js';

let dir: string;
beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('build first: npx tsc -p . (sweeps run dist/ in worker processes)');
  dir = mkdtempSync(join(tmpdir(), 'fps-failures-sweep-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a kernel thread lost in a whole run', () => {
  const BIG = `name: thread-lost
landscape: { expr: "(x^2 + y^2)/2" }
domain: { bounds: [[-2, 2], [-2, 2]], cells: [512, 512] }
noise: { model: additive, D: 0.1 }
initial: { gaussian: { mean: [0.5, 0], std: [0.3, 0.3] } }
time: { end: 0.001, reportEvery: 0.001, integrator: explicit }
`;

  it('fpsolve run whose kernel thread dies: exit 75, report.json status failed with failure.kind infrastructure, one line on stderr', () => {
    // 512² is the smallest grid the CPU backend splits across threads (solvers/backend/cpu.ts).
    const file = join(dir, 'big.yaml');
    writeFileSync(file, BIG);
    const out = join(dir, 'thread-lost');
    const r = fpsolve(['run', file, '--no-gap', '-q', '--json', '--out', out], { env: { FPSOLVE_THREADS: '2', FPSOLVE_TEST_FAULT: 'thread-exit' } });
    expect(r.code, r.stderr).toBe(EXIT.infrastructure);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { status: string; failure: unknown; error: string };
    expect(rep.status).toBe('failed');
    expect(rep.failure).toMatchObject({ kind: 'infrastructure', reason: 'thread-lost' });
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^fpsolve: failed: infrastructure failure \(thread-lost\) between t = 0 and 0\.001: .*\(exit 75\)/);
    expect(lines[0]).not.toMatch(/\bat .*\.js:\d+/);
  }, 60_000);

});

describe('sweeps retry infrastructure failures once and numerical faults never', () => {
  const SCENARIO = 'name: sweep-fail\nlandscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }\ndomain: { bounds: [[-5, 5]], cells: [200] }\nnoise: { model: multiplicative, eta: 0.1, sigma: 10 }\ninitial: { gaussian: { mean: [1], std: [0.3] } }\ntime: { end: 0.2, reportEvery: 0.05 }\n';

  async function sweepWith(fault: string | undefined, name: string, sets: string[]): Promise<Awaited<ReturnType<typeof runSweep>>> {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, SCENARIO);
    const spec: SweepSpec = { scenarioFile: file, axes: sets.map(parseSetArg), zip: false };
    // The pool's worker processes inherit the environment when they start, inside runSweep.
    return withFault(fault, () => runSweep(spec, { out: join(dir, `${name}-out`), jobs: 1, shard: null, plots: false, runArgs: ['--no-gap'] }));
  }

  it('a point whose run hits an infrastructure failure once is retried and succeeds, with the same numbers as a clean sweep', async () => {
    const marker = join(dir, 'sweep-device-once');
    const faulty = await sweepWith(`infrastructure-once:${marker}`, 'infra', ['noise.eta=0.1']);
    expect(existsSync(marker)).toBe(true);
    expect(faulty.retried).toBe(1);
    expect(faulty.failed).toBe(0);
    expect(faulty.records.map((r) => r.status)).toEqual(['ok']);
    // The retried point is the run itself: the same numbers as the run in this process.
    const { report } = await runScenario(parseScenarioText(SCENARIO, 'p.yaml', ['noise.eta=0.1']), { gap: false });
    const f = report.final;
    expect(faulty.records[0]!.final).toEqual({ l1: f.l1, kl: f.kl, chi2: f.chi2, meanLoss: f.meanLoss, massBelowDelta: f.massBelowDelta });
  }, 60_000);

  it('a point whose worker process is killed is retried and succeeds', async () => {
    const marker = join(dir, 'worker-once');
    const res = await sweepWith(`worker-exit-once:${marker}`, 'killed', ['noise.eta=0.1']);
    expect(existsSync(marker)).toBe(true);
    expect(res.retried).toBe(1);
    expect(res.records.map((r) => r.status)).toEqual(['ok']);
  }, 60_000);

  it('a point with a numerical fault is recorded as numerical and not retried', async () => {
    // time.dt = 0.01: ~100× the explicit limit on this grid, a fault that repeats bit for bit.
    const res = await sweepWith(undefined, 'numerical', ['time.integrator=explicit', 'time.dt=0.01']);
    expect(res.retried).toBe(0);
    expect(res.records).toHaveLength(1);
    expect(res.records[0]).toMatchObject({ status: 'failed', errorKind: 'numerical' });
  }, 60_000);
});
