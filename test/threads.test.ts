/**
 * Kernel threads of the float64 CPU backend (solvers/exec/team.ts): each range kernel split
 * into the team's fixed blocks must equal the single-threaded kernel (elementwise kernels to the
 * bit, dot products to round-off of the block sums) and give the same bits for any number of
 * threads (issue #15 item 5: sweeps with --jobs 1 and 2 hand their runs different thread counts);
 * on partitioned grids the large multigrid levels are smoothed by block-hybrid Gauss–Seidel,
 * which must keep the cycle symmetric and, like the whole TR-BDF2 run, not depend on the thread
 * count; a process that never disposes its backend must still exit.
 * The worker script is the compiled one (dist/), which `npm test` builds first.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { KERNEL_BLOCKS, ThreadTeam, splitRanges } from '../solvers/exec/team.js';
import { RANGE_KERNELS } from '../solvers/range-kernels.js';
import { sharedFloat64, sharedInt32 } from '../solvers/shared-memory.js';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { DeviceTrBdf2 } from '../solvers/backend/implicit.js';
import { MultigridPreconditioner } from '../solvers/multigrid.js';
import { buildOperator, gaussianBump } from './helpers/problems.js';
import { packageRoot } from '../src/paths.js';
import { applyS } from '../solvers/kernels/operator-kernels.js';

const fill = (n: number, seed: number): Float64Array => {
  const a = sharedFloat64(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(0.37 * i + seed) + 0.3;
  return a;
};

describe('ThreadTeam', () => {
  const team = ThreadTeam.create(2);

  it('starts (the compiled worker script exists)', async () => {
    expect(team).not.toBeNull();
    expect(team?.threads).toBe(2);
    await vi.waitFor(() => expect(team?.ready()).toBe(true), { timeout: 10000 });
  });

  it('splits elementwise and stencil kernels without changing a bit, and dot products to round-off, the same for 1, 2 and 3 threads', async () => {
    if (!team) throw new Error('no team');
    const [n0, n1] = [37, 29];
    const size = n0 * n1;
    const [w0, w1, d, v] = [fill(size, 1), fill(size, 2), fill(size, 3), fill(size, 4)];
    for (let i = 0; i < size; i++) {
      if (i % n1 === n1 - 1) w1[i] = 0;
      if (Math.floor(i / n1) === n0 - 1) w0[i] = 0;
    }
    const [a, b] = [sharedFloat64(size), sharedFloat64(size)];
    team.run('shifted2', [w0, w1, d, v, a], [], [0.3, n1, size], size);
    RANGE_KERNELS.shifted2([w0, w1, d, v, b], [], [0.3, n1, size], 0, size);
    expect(a).toEqual(b);
    team.run('lincomb', [v, d, a], [], [0.5, -2], size);
    RANGE_KERNELS.lincomb([v, d, b], [], [0.5, -2], 0, size);
    expect(a).toEqual(b);
    const serial = RANGE_KERNELS.dot([v, d], [], [], 0, size);
    const split = team.run('dot', [v, d], [], [], size);
    expect(Math.abs(split - serial)).toBeLessThan(1e-13 * size);
    // The blocks' partial sums, added in block order here: the same bits for any thread count.
    const edges = splitRanges(size, 1, KERNEL_BLOCKS);
    let byBlock = 0;
    for (let k = 0; k < KERNEL_BLOCKS; k++) byBlock += RANGE_KERNELS.dot([v, d], [], [], edges[k], edges[k + 1]);
    expect(split).toBe(byBlock);
    const one = ThreadTeam.create(1);
    expect(one.threads).toBe(1);
    expect(one.run('dot', [v, d], [], [], size)).toBe(split);
    const three = ThreadTeam.create(3);
    await vi.waitFor(() => expect(three.ready()).toBe(true), { timeout: 10000 });
    expect(three.run('dot', [v, d], [], [], size)).toBe(split);
    three.close();
    // The multigrid restriction writes aggregates: ranges must hold whole ones (align 2·n1).
    const agg = sharedInt32(size);
    const c1 = Math.ceil(n1 / 2);
    for (let i = 0; i < size; i++) agg[i] = (Math.floor(i / n1) >> 1) * c1 + ((i % n1) >> 1);
    const nc = Math.ceil(n0 / 2) * c1;
    const [bc1, bc2] = [sharedFloat64(nc), sharedFloat64(nc)];
    const pw = fill(size, 5);
    team.run('restrictAfterFirstSweep', [pw, v, bc1, w0, w1], [agg], [0.7, size, n1, 1, 0], size, 2 * n1);
    RANGE_KERNELS.restrictAfterFirstSweep([pw, v, bc2, w0, w1], [agg], [0.7, size, n1, 1, 0], 0, size);
    expect(bc1).toEqual(bc2);
  });

  it('runs the 3-D shifted stencil split across threads as FvOperator.applySymmetric does face by face', () => {
    if (!team) throw new Error('no team');
    const op = buildOperator([[-2, 2], [-2, 2], [-2, 2]], [13, 11, 9], (x, y, z) => 0.2 + 0.5 * (x * x + 2 * y * y + 3 * z * z), { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
    const N = op.grid.size;
    const v = fill(N, 3);
    const [split, whole] = [sharedFloat64(N), sharedFloat64(N)];
    const args = (out: Float64Array): Float64Array[] => [op.sym[0], op.sym[1], op.sym[2], op.outflow, v, out];
    const p = [0.3, op.grid.strides[0], op.grid.strides[1], N];
    team.run('shifted3', args(split), [], p, N);
    RANGE_KERNELS.shifted3(args(whole), [], p, 0, N);
    expect(split).toEqual(whole);
    const sv = new Float64Array(N);
    applyS(op, v, sv);
    let diff = 0;
    for (let i = 0; i < N; i++) diff = Math.max(diff, Math.abs(whole[i] - (v[i] - 0.3 * sv[i])));
    expect(diff).toBeLessThan(1e-12 * Math.max(...sv.map(Math.abs)));
  });

  it('keeps the multigrid cycle symmetric with block-hybrid smoothing', () => {
    if (!team) throw new Error('no team');
    const op = buildOperator([[-2, 2], [-2, 2]], [300, 256], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
    const N = op.grid.size;
    const mg = new MultigridPreconditioner(op);
    mg.useTeam(team);
    mg.setup(0.05);
    const x = fill(N, 1);
    const y = fill(N, 2);
    const [bx, by] = [sharedFloat64(N), sharedFloat64(N)];
    mg.apply(x, bx);
    mg.apply(y, by);
    const d = (u: Float64Array, v: Float64Array): number => RANGE_KERNELS.dot([u, v], [], [], 0, N);
    expect(Math.abs(d(bx, y) - d(x, by))).toBeLessThan(1e-12 * Math.sqrt(d(bx, bx) * d(y, y)));
    expect(d(bx, x)).toBeGreaterThan(0);
    // A different smoother from the serial cycle's, yet a preconditioner of the same quality.
    const serial = new MultigridPreconditioner(op);
    serial.setup(0.05);
    const sx = sharedFloat64(N);
    serial.apply(x, sx);
    let diff = 0;
    for (let i = 0; i < N; i++) diff = Math.max(diff, Math.abs(sx[i] - bx[i]));
    expect(diff).toBeGreaterThan(0);
  });

  it('runs TR-BDF2 with multigrid-PCG on 1 and 2 threads to the same bits; the plain loops agree to the solver tolerance', async () => {
    const op = buildOperator([[-2, 2], [-2, 2]], [300, 256], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
    const rho0 = gaussianBump(op.grid, [1, 0], 0.2);
    const results: Float64Array[] = [];
    const iterations: number[] = [];
    // blocks: 8 asks for the partition that grids of 512² cells and more get by default.
    for (const opts of [{ threads: 1, blocks: KERNEL_BLOCKS }, { threads: 2, blocks: KERNEL_BLOCKS }, {}]) {
      const backend = new CpuBackend(op, new MultigridPreconditioner(op), opts);
      const threads = 'threads' in opts ? (opts.threads ?? 1) : 1;
      expect(backend.info.device.includes(`${threads} kernel threads`)).toBe(threads > 1);
      await vi.waitFor(() => expect(backend.runningThreads).toBe(threads), { timeout: 10000 });
      const integ = new DeviceTrBdf2(backend, op, { tolerance: 1e-4, dtMax: 0.05 }, { tol: 1e-8, maxIterations: 2000 });
      const rho = rho0.slice();
      await integ.advance(rho, 0, 0.2);
      results.push(rho);
      iterations.push(integ.solver.iterations);
      integ.dispose();
    }
    expect(iterations[0]).toBeGreaterThan(10);
    const hex = (a: Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
    expect(iterations[1]).toBe(iterations[0]);
    expect(hex(results[1])).toBe(hex(results[0]));
    // Unpartitioned (this grid's default: plain loops, whole-grid Gauss–Seidel): another smoother
    // and summation order, the same solution to the CG tolerance (1e-8, relative to the deviation from π).
    expect(Math.abs(iterations[2] - iterations[0])).toBeLessThanOrEqual(0.1 * iterations[0]);
    let diff = 0;
    let top = 0;
    for (let i = 0; i < results[0].length; i++) {
      diff = Math.max(diff, Math.abs(results[0][i] - results[2][i]));
      top = Math.max(top, Math.abs(results[0][i]));
    }
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(1e-6 * top);
  });

  it('gives the same bits while its threads are still starting (ranges run in turn) as once they run', async () => {
    const t = ThreadTeam.create(2);
    if (!t) throw new Error('no team');
    const N = 5000;
    const [u, v] = [fill(N, 1), fill(N, 2)];
    // Called at once, before the worker can have started (~30 ms): the ranges run in turn here.
    const early = t.run('dot', [u, v], [], [], N);
    await vi.waitFor(() => expect(t.ready()).toBe(true), { timeout: 10000 });
    expect(t.run('dot', [u, v], [], [], N)).toBe(early);
    t.close();
  });

  it('reports a kernel that fails in a thread instead of hanging, then refuses further work', async () => {
    const t = ThreadTeam.create(2);
    if (!t) throw new Error('no team');
    await vi.waitFor(() => expect(t.ready()).toBe(true), { timeout: 10000 });
    const x = fill(1000, 1);
    // lincomb needs three arrays: with one, both ranges throw.
    expect(() => t.run('lincomb', [x], [], [1, 2], 1000)).toThrow(/kernel thread failed/);
    expect(() => t.run('dot', [x, x], [], [], 1000)).toThrow(/closed/);
  });

  it('does not keep a process alive that never disposes its backend', () => {
    const script = `
      import { CpuBackend } from ${JSON.stringify(join(packageRoot(), 'dist/solvers/backend/cpu.js'))};
      import { buildOperator } from ${JSON.stringify(join(packageRoot(), 'dist/test/helpers/problems.js'))};
      const op = buildOperator([[-1, 1], [-1, 1]], [32, 32], (x, y) => 1 + x * x + y * y, { kind: 'additive', D: 1 });
      const b = new CpuBackend(op, undefined, { threads: 2, blocks: 8 });
      const f = b.field(); const g = b.field();
      await b.upload(f, new Float64Array(op.grid.size).fill(1));
      console.log(await b.dot(f, f), b.info.device.includes('2 kernel threads'));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('1024 true');
  });
});
