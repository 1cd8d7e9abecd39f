/**
 * Typed failures (issue #21 item 5, docs/reliability.md "Exit codes"): each reason produced by a
 * real solver situation, classified the same way by the solvers, the run and the CLI (whole
 * processes and sweeps: failures-e2e.test.ts). Kernel threads run dist/: build first (`npx tsc -p .`).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Grid } from '../solvers/grid.js';
import { Problem, isFault } from '../solvers/problem.js';
import { FvOperator } from '../solvers/operator.js';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { Pcg } from '../solvers/backend/pcg.js';
import { ThreadTeam } from '../solvers/exec/team.js';
import '../solvers/range-kernels.js'; // registers the kernel table the threads run
import { InfrastructureFailure, SolverFailure, asInfrastructureFailure } from '../solvers/failures.js';
import { describeFailure, describeStepFailure } from '../src/failure-report.js';
import { EXIT, NumericalFault } from '../src/errors.js';
import { parseScenarioText } from '../src/scenario/load.js';
import { runScenario, setUp } from '../src/run/run.js';
import { ROOT } from './helpers/cli.js';
import { isFinal, isRetryable, recordFromChild } from '../src/sweep/record.js';
import type { ChildRunResult } from '../src/parallel/run-request.js';
import type { RunReport } from '../src/report/types.js';
import { runCli } from '../src/cli/main.js';
import { withFault } from './failure-helpers.js';

let dir: string;
beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'solvers', 'exec', 'team-worker.js'))) throw new Error('build first: npx tsc -p . (kernel threads run dist/)');
  dir = mkdtempSync(join(tmpdir(), 'fps-failures-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 2-D Ornstein–Uhlenbeck operator (additive noise), small enough for a dense solve in the test. */
function ou2d(n: number): FvOperator {
  const grid = new Grid([[-2, 2], [-2, 2]], [n, n]);
  const built = Problem.build(grid, (c, out) => { for (let i = 0; i < out.length; i++) out[i] = (c[0]![i]! ** 2 + 2 * c[1]![i]! ** 2) / 2; }, { kind: 'additive', D: 0.3 });
  if (isFault(built)) throw new Error('landscape fault');
  return new FvOperator(built);
}

/** x = (I − θA)⁻¹ b by Gaussian elimination with partial pivoting on the matrix assembled column by column from op.apply. */
function denseSolve(op: FvOperator, theta: number, b: Float64Array): Float64Array {
  const n = b.length;
  const m = Array.from({ length: n }, () => new Float64Array(n + 1));
  const e = new Float64Array(n);
  const col = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    op.apply(e, col);
    for (let i = 0; i < n; i++) m[i]![j] = (i === j ? 1 : 0) - theta * col[i]!;
  }
  for (let i = 0; i < n; i++) m[i]![n] = b[i]!;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[piv]![c]!)) piv = r;
    [m[c], m[piv]] = [m[piv]!, m[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      if (f !== 0) for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * x[k]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}

/** A right-hand side far from π: a bump in one corner. */
function bump(op: FvOperator): Float64Array {
  const b = new Float64Array(op.grid.size);
  for (let i = 0; i < b.length; i++) {
    const [x, y] = op.grid.centre(i);
    b[i] = Math.exp(-((x! - 1) ** 2 + (y! + 1) ** 2) / 0.1);
  }
  return b;
}

async function pcgSolve(op: FvOperator, theta: number, b: Float64Array, maxIterations: number): Promise<{ x: Float64Array; error?: unknown }> {
  const backend = new CpuBackend(op);
  const pcg = new Pcg(backend, op, { tol: 1e-10, maxIterations });
  const bf = backend.field();
  const xf = backend.field();
  await backend.upload(bf, b);
  await backend.upload(xf, b);
  let error: unknown;
  try {
    await pcg.solve(theta, bf, xf);
  } catch (e) {
    error = e;
  }
  const x = new Float64Array(b.length);
  await backend.download(xf, x);
  backend.dispose();
  return { x, error };
}

const maxAbsDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const maxAbs = (a: Float64Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('solver failures carry their reason', () => {
  it('PCG stopped by its iteration cap: iteration-limit with the count; given room it meets a dense solve', async () => {
    const op = ou2d(12);
    const theta = 0.5;
    const b = bump(op);
    const exact = denseSolve(op, theta, b);
    const capped = await pcgSolve(op, theta, b, 2);
    expect(capped.error).toBeInstanceOf(SolverFailure);
    const f = capped.error as SolverFailure;
    expect(f.reason).toBe('iteration-limit');
    expect(f.context.iterations).toBe(2);
    expect(f.context.residual!).toBeGreaterThan(1e-10);
    // The cap, not the problem: two iterations leave the iterate visibly off the dense solution…
    expect(maxAbsDiff(capped.x, exact) / maxAbs(exact)).toBeGreaterThan(1e-4);
    // …and with room the same solve converges to it.
    const free = await pcgSolve(op, theta, b, 500);
    expect(free.error).toBeUndefined();
    expect(maxAbsDiff(free.x, exact) / maxAbs(exact)).toBeLessThan(1e-7);
    const d = describeFailure(f);
    expect(d.exitCode).toBe(EXIT.numericalFault);
    expect(d.failure).toMatchObject({ kind: 'numerical', reason: 'iteration-limit', iterations: 2 });
  });

  it('PCG on a right-hand side with a non-finite value: non-finite, not an iteration limit', async () => {
    const op = ou2d(8);
    const b = bump(op);
    b[17] = Infinity;
    const r = await pcgSolve(op, 0.5, b, 500);
    expect(r.error).toBeInstanceOf(SolverFailure);
    expect((r.error as SolverFailure).reason).toBe('non-finite');
    // report.json never carries a non-finite number: the residual is left out of the failure object.
    const d = describeFailure(r.error);
    expect(Object.values(d.failure).every((v) => typeof v !== 'number' || Number.isFinite(v))).toBe(true);
  });

  it('TR-BDF2 forced below its smallest step: step-underflow, with step, time, dt and the cell of the largest error', async () => {
    // The scenario schema stops tolerances below 1e-14; at 1e-17 no step passes whatever its size.
    const loaded = parseScenarioText(
      'name: uf\nlandscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }\ndomain: { bounds: [[-5, 5]], cells: [300] }\nnoise: { model: multiplicative, eta: 0.1, sigma: 10 }\ninitial: { gaussian: { mean: [1], std: [0.3] } }\ntime: { end: 0.1, reportEvery: 0.1, integrator: trbdf2, tolerance: 1.0e-14 }\n',
      'uf.yaml',
    );
    loaded.scenario.time.tolerance = 1e-17;
    const { report } = await runScenario(loaded, { gap: false });
    expect(report.status).toBe('failed');
    const f = report.failure!;
    expect(f).toMatchObject({ kind: 'numerical', reason: 'step-underflow', step: 0, time: 0 });
    if (f.kind !== 'numerical') throw new Error('unreachable');
    expect(f.dt!).toBeGreaterThan(0);
    expect(f.dt!).toBeLessThan(1e-14);
    // The cell named in the failure object is the one the message names, and it sits on the Gaussian (mean 1, std 0.3).
    expect(report.error).toContain(`in cell ${f.cell} at x = (`);
    const x = -5 + (f.cell! + 0.5) * (10 / 300);
    expect(Math.abs(x - 1)).toBeLessThan(3 * 0.3);
    expect(report.error).toMatch(/^numerical fault \(step-underflow\) between t = 0 and 0\.1: adaptive step size underflow/);
  });

  it("the run's health check names its reason: a blow-up is non-finite, a negative density diverged, as the message says", async () => {
    const text = (time: string): string => `name: blow\nlandscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }\ndomain: { bounds: [[-5, 5]], cells: [100] }\nnoise: { model: multiplicative, eta: 0.1, sigma: 10 }\ninitial: { gaussian: { mean: [1], std: [0.3] } }\ntime: ${time}\n`;
    const lim = setUp(parseScenarioText(text('{ end: 1, reportEvery: 1 }'), 'b.yaml'), { memoryEstimate: { gap: false } }).op.explicitLimit();
    for (const factor of [3, 1.5]) {
      const { report } = await runScenario(parseScenarioText(text(`{ end: ${2e4 * lim}, reportEvery: ${2e4 * lim}, integrator: explicit, dt: ${factor * lim} }`), 'b.yaml'), { gap: false });
      expect(report.status).toBe('failed');
      const reason = /density became (NaN|Infinity|-Infinity)/.test(report.error!) ? 'non-finite' : /negative density/.test(report.error!) ? 'diverged' : 'none';
      expect(report.failure).toEqual({ kind: 'numerical', reason });
      expect(report.error!.startsWith(`numerical fault (${reason}): `)).toBe(true);
    }
  });

  it('a NumericalFault without a reason and an untyped error stay numerical faults (exit 3), as before', () => {
    expect(describeFailure(new NumericalFault('mass drifted')).failure).toEqual({ kind: 'numerical', reason: 'unclassified' });
    const d = describeStepFailure(new Error('something else'), 0.5, 1);
    expect(d.exitCode).toBe(EXIT.numericalFault);
    expect(d.message).toBe('numerical failure between t = 0.5 and 1: something else');
  });
});

describe('infrastructure failures', () => {
  it("the platform's allocation failures are out-of-memory (exit 75); an impossible length is not", () => {
    const thrown = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error('did not throw');
    };
    // Real errors from V8: an ArrayBuffer beyond any machine's memory, a WebAssembly memory grown past its maximum.
    const big = thrown(() => new ArrayBuffer(2 ** 52));
    const grow = thrown(() => new WebAssembly.Memory({ initial: 1, maximum: 2 }).grow(4));
    for (const e of [big, grow]) {
      const f = asInfrastructureFailure(e);
      expect(f?.reason, String(e)).toBe('out-of-memory');
      expect(describeFailure(e)).toMatchObject({ exitCode: 75, failure: { kind: 'infrastructure', reason: 'out-of-memory' } });
    }
    expect(asInfrastructureFailure(thrown(() => new Float64Array(-1)))).toBeUndefined();
    expect(asInfrastructureFailure(new Error('Array buffer allocation failed'))).toBeUndefined();
  });

  it('a kernel thread that ends itself at its first kernel: the next kernel throws thread-lost instead of hanging', async () => {
    const saved = process.env.FPSOLVE_TEST_FAULT;
    process.env.FPSOLVE_TEST_FAULT = 'thread-exit';
    let t: ThreadTeam;
    try {
      // The thread reads its environment when it starts.
      t = ThreadTeam.create(2);
    } finally {
      if (saved === undefined) delete process.env.FPSOLVE_TEST_FAULT;
      else process.env.FPSOLVE_TEST_FAULT = saved;
    }
    expect(t.threads).toBe(2);
    await vi.waitFor(() => expect(t.ready()).toBe(true), { timeout: 10000 });
    const x = new Float64Array(new SharedArrayBuffer(8 * 1000)).fill(1);
    let err: unknown;
    try {
      t.run('dot', [x, x], [], [], 1000);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InfrastructureFailure);
    expect((err as InfrastructureFailure).reason).toBe('thread-lost');
  });

  it("a kernel thread terminated from outside: its 'exit' event makes the next kernel throw thread-lost", async () => {
    const t = ThreadTeam.create(2);
    await vi.waitFor(() => expect(t.ready()).toBe(true), { timeout: 10000 });
    const x = new Float64Array(new SharedArrayBuffer(8 * 1000)).fill(2);
    // Healthy first: the threads compute Σ x·x = 4000.
    expect(t.run('dot', [x, x], [], [], 1000)).toBe(4000);
    const worker = (t as unknown as { workers: import('node:worker_threads').Worker[] }).workers[0]!;
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      void worker.terminate();
    });
    expect(() => t.run('dot', [x, x], [], [], 1000)).toThrow(InfrastructureFailure);
  });

  it('fpsolve run with an injected device loss exits 75; the same run again (marker left) succeeds', async () => {
    const file = join(dir, 'small.yaml');
    writeFileSync(file, 'name: small\nlandscape: { expr: "x^2/2" }\ndomain: { bounds: [[-3, 3]], cells: [100] }\nnoise: { model: additive, D: 0.5 }\ninitial: { gaussian: { mean: [1], std: [0.3] } }\ntime: { end: 0.2, reportEvery: 0.1 }\n');
    const marker = join(dir, 'device-once');
    const first = await withFault(`infrastructure-once:${marker}`, () => runCli(['run', file, '--no-gap', '-q', '--json']));
    expect(first.exitCode, first.stderr).toBe(EXIT.infrastructure);
    expect(JSON.parse(first.stdout)).toMatchObject({ status: 'failed', failure: { kind: 'infrastructure', reason: 'device-lost' } });
    expect(first.stderr).toMatch(/^fpsolve: failed: infrastructure failure \(device-lost\) between t = 0 and 0\.1: /);
    const again = await withFault(`infrastructure-once:${marker}`, () => runCli(['run', file, '--no-gap', '-q', '--json']));
    expect(again.exitCode, again.stderr).toBe(EXIT.ok);
    expect(JSON.parse(again.stdout).failure).toBeUndefined();
  });

  it('fpsolve run with a numerical fault exits 3 with its reason in the line and in report.json', async () => {
    const file = join(dir, 'explicit.yaml');
    // dt = 0.01 on 200 cells is ~100× the explicit limit (test/reliability-faults.test.ts).
    writeFileSync(file, 'name: fault\nlandscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }\ndomain: { bounds: [[-5, 5]], cells: [200] }\nnoise: { model: multiplicative, eta: 0.1, sigma: 10 }\ninitial: { gaussian: { mean: [1], std: [0.3] } }\ntime: { end: 1, reportEvery: 0.05, integrator: explicit, dt: 0.01 }\n');
    const r = await runCli(['run', file, '--no-gap', '-q', '--json']);
    expect(r.exitCode).toBe(EXIT.numericalFault);
    const rep = JSON.parse(r.stdout) as { failure: { kind: string; reason: string } };
    expect(rep.failure.kind).toBe('numerical');
    expect(['non-finite', 'diverged']).toContain(rep.failure.reason);
    expect(r.stderr).toContain(`numerical fault (${rep.failure.reason})`);
  });
});

describe('the retry rule of sweeps (docs/reliability.md "Typed failures and retries")', () => {
  const id = { key: 'k', index: 0, params: {}, fpsolve: '0', scenario: 's' };
  const report = (failure: unknown): RunReport => ({ status: 'failed', error: 'x', failure, regime: 'converging', rates: {}, final: { l1: 0, kl: 0, chi2: 0, meanLoss: 0, massBelowDelta: 0 } }) as unknown as RunReport;

  it('retries infrastructure failures and dead workers, never numerical faults, input errors or our own abort', () => {
    const cases: [ChildRunResult, boolean, boolean][] = [
      [{ ok: true, report: report({ kind: 'infrastructure', reason: 'thread-lost', detail: 'd' }), exitCode: 75, wallSeconds: 1 }, false, true],
      [{ ok: true, report: report({ kind: 'numerical', reason: 'non-finite' }), exitCode: 3, wallSeconds: 1 }, false, false],
      [{ ok: false, error: 'out of memory', exitCode: 75, wallSeconds: 1 }, false, true],
      [{ ok: false, error: 'f must be ≥ 0', exitCode: 2, wallSeconds: 1 }, false, false],
      [{ ok: false, error: 'numerical', exitCode: 3, wallSeconds: 1 }, false, false],
      [{ ok: false, error: 'killed by SIGKILL', exitCode: null, wallSeconds: 1 }, false, true],
      [{ ok: false, error: 'killed by SIGKILL', exitCode: null, wallSeconds: 1 }, true, false],
      [{ ok: true, report: report({ kind: 'infrastructure', reason: 'thread-lost', detail: 'd' }), exitCode: 75, wallSeconds: 1 }, true, false],
    ];
    for (const [res, aborted, retry] of cases) expect(isRetryable(res, aborted), JSON.stringify(res)).toBe(retry);
  });

  it('records an infrastructure failure as such, and a rerun of the sweep tries it again', () => {
    const fromReport = recordFromChild(id, { ok: true, report: report({ kind: 'infrastructure', reason: 'out-of-memory', detail: 'd' }), exitCode: 75, wallSeconds: 1 }, false)!;
    const fromExit = recordFromChild(id, { ok: false, error: 'fpsolve: infrastructure failure (out-of-memory): …', exitCode: 75, wallSeconds: 1 }, false)!;
    for (const r of [fromReport, fromExit]) {
      expect(r.errorKind).toBe('infrastructure');
      expect(isFinal(r)).toBe(false);
    }
    const numerical = recordFromChild(id, { ok: true, report: report({ kind: 'numerical', reason: 'diverged' }), exitCode: 3, wallSeconds: 1 }, false)!;
    expect(numerical.errorKind).toBe('numerical');
    expect(isFinal(numerical)).toBe(true);
  });
});
