/**
 * The device multigrid preconditioner of the gpu.js backend (solvers/backend/gpu-multigrid.ts,
 * issue 22 item 1) under mode 'webasm' (float32 WebAssembly, the repo's stand-in for GPU numerics:
 * docs/gpujs.md §0). References: the same cycle in float64 (HostRedBlackMultigrid: the JavaScript
 * emission of the same kernel descriptions), the symmetry a CG preconditioner needs (oracles.md §17
 * "A symmetric multigrid cycle"), a band LU of I − θA built from the problem's data alone
 * (test/helpers/generator.ts), and CG iteration counts against Jacobi's and the float64 CPU path's
 * multigrid (oracles.md §17, the counts that grow with the grid and those that do not).
 */
import { describe, expect, it } from 'vitest';
import gpujs from 'gpu.js';
import { GpuJsBackend } from '../solvers/backend/gpujs.js';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { Pcg } from '../solvers/backend/pcg.js';
import { DeviceMultigrid, HostRedBlackMultigrid, type DeviceOps } from '../solvers/backend/gpu-multigrid.js';
import { MultigridPreconditioner } from '../solvers/multigrid.js';
import { Generator, maxAbs, maxAbsDiff } from './helpers/generator.js';
import { cgIterations, preconditionOnce, pseudoRandom, setupOf, symmetryOf } from './gpu-helpers.js';

const GPU = (gpujs as unknown as { GPU: new (s: { mode: string }) => unknown }).GPU;
const EPS32 = 2 ** -24;
/** A TR-BDF2 stage's θ = γ·dt/2 (γ = 2 − √2) at dt = 1: large enough that θ/h² dominates from 32² on. */
const THETA = (2 - Math.SQRT2) / 2;

/** Deterministic values in [−1, 1) (a linear congruential generator), so the test sees no luck. */

describe('device multigrid (gpu.js webasm) against float64 references', () => {
  it('one device cycle equals the float64 cycle of the same descriptions to float32 round-off, and that cycle is symmetric positive definite', async () => {
    // Odd cell counts: aggregates with one or two cells on the last row and column, padded gathers.
    const { setup } = setupOf('double-well-2d', ['domain.cells=[37,23]']);
    const op = setup.op;
    const gpu = await GpuJsBackend.create(GPU, op, 'webasm');
    try {
      expect(gpu.preconditionerName).toMatch(/^multigrid \(device, float32; .*red–black Gauss–Seidel/);
      const host = new HostRedBlackMultigrid(op);
      expect(host.h.levels.length).toBe(3); // 37×23 → 19×12 → 10×6 (60 cells, Cholesky)
      host.setup(THETA);
      const v = pseudoRandom(op.grid.size, 7);
      const zh = new Float64Array(v.length);
      host.apply(v, zh);
      const zd = await preconditionOnce(gpu, THETA, v);
      expect(gpu.info.executor).toBe('WebAssemblyKernel');
      expect(gpu.multigrid?.levelCount).toBe(3);
      // float32 storage of v and of the coefficients (≤ ε each), then passes that each round
      // once and contract the error (smoothing): 16 ε bounds it with room (measured ≈ 1 ε; 15 passes
      // in the V-cycle, 26 in the default full W).
      const rel = maxAbsDiff(zd, zh) / maxAbs(zh);
      expect(rel).toBeLessThan(16 * EPS32);
      expect(rel).toBeGreaterThan(0); // it did run in float32
      // Symmetric (oracles.md §17): ⟨Mu, w⟩ = ⟨u, Mw⟩ in float64 to round-off, and ⟨Mu, u⟩ > 0.
      const sym = symmetryOf((x, out) => host.apply(x, out), v.length);
      expect(sym.asymmetry).toBeLessThan(1e-12 * sym.scale);
      expect(sym.energy).toBeGreaterThan(0);
    } finally {
      gpu.dispose();
    }
  });

  it('PCG with the device multigrid solves (I − θA)x = b on 32² to float32 accuracy against a band LU of the problem', async () => {
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[32,32]']);
    const op = setup.op;
    const exact = new Generator(op.problem).shiftedLu(THETA).solve(rho);
    const gpu = await GpuJsBackend.create(GPU, op, 'webasm');
    try {
      const pcg = new Pcg(gpu, op, { tol: 1e-5, maxIterations: 200 });
      expect(pcg.name).toContain('multigrid (device, float32');
      const b = gpu.field();
      const x = gpu.field();
      await gpu.upload(b, rho);
      await gpu.upload(x, rho);
      await pcg.solve(THETA, b, x);
      const got = new Float64Array(rho.length);
      await gpu.download(x, got);
      // Relative residual 1e-5 of the deviation from π, in float32: measured 3.2e-6 of max |x| (7 iterations).
      expect(maxAbsDiff(got, exact) / maxAbs(exact)).toBeLessThan(2e-5);
      const mass = (a: Float64Array): number => a.reduce((s, y) => s + y, 0);
      expect(Math.abs(mass(got) - mass(rho))).toBeLessThan(1e-6 * mass(rho));
      expect(pcg.iterations).toBeLessThan(15);
    } finally {
      gpu.dispose();
    }
  });

  it('2-D: the multigrid count grows little from 32² to 128² (as the CPU path’s), Jacobi’s grows 4×', async () => {
    const counts: { n: number; mg: number; jacobi: number; ref: number; cpu: number }[] = [];
    for (const n of [32, 64, 128]) {
      const { setup, rho } = setupOf('double-well-2d', [`domain.cells=[${n},${n}]`]);
      const op = setup.op;
      const mgB = await GpuJsBackend.create(GPU, op, 'webasm');
      const jB = await GpuJsBackend.create(GPU, op, 'webasm', { preconditioner: 'jacobi' });
      expect(jB.preconditionerName).toBe('Jacobi');
      const refB = new CpuBackend(op, new HostRedBlackMultigrid(op));
      const cpuB = new CpuBackend(op, new MultigridPreconditioner(op));
      try {
        counts.push({
          n,
          mg: await cgIterations(mgB, op, rho, THETA),
          jacobi: await cgIterations(jB, op, rho, THETA),
          ref: await cgIterations(refB, op, rho, THETA),
          cpu: await cgIterations(cpuB, op, rho, THETA),
        });
      } finally {
        for (const b of [mgB, jB, refB, cpuB]) b.dispose();
      }
    }
    // Measured (mg, jacobi, float64 reference, CPU multigrid), default full W: 32²: 8, 28, 8, 6; 64²: 8, 57, 8, 8;
    // 128²: 8, 121, 8, 10 (the V-cycle's were 7, 8, 11: test/gpu-multigrid-flat.test.ts).
    for (const c of counts) {
      expect(Math.abs(c.mg - c.ref)).toBeLessThanOrEqual(1); // float32 changes the count by one at most
      expect(c.mg).toBeLessThanOrEqual(Math.ceil(1.3 * c.cpu)); // within 30 % of the float64 CPU multigrid
    }
    const [a, , c] = counts;
    // Jacobi's count follows √cond ∝ N (×4 over two doublings); the multigrid's grows like the CPU
    // path's Galerkin aggregation (×1.6 there), both per oracles.md §17.
    expect(c.jacobi / a.jacobi).toBeGreaterThan(3);
    expect(c.mg / a.mg).toBeLessThan(1.7);
  });

  it('3-D: 16³ → 32³, the multigrid count grows by a third at most, Jacobi’s about doubles', async () => {
    const counts: { mg: number; jacobi: number; ref: number }[] = [];
    for (const n of [16, 32]) {
      const { setup, rho } = setupOf('quadratic-floor-3d', [`domain.cells=[${n},${n},${n}]`]);
      const op = setup.op;
      const mgB = await GpuJsBackend.create(GPU, op, 'webasm');
      const jB = await GpuJsBackend.create(GPU, op, 'webasm', { preconditioner: 'jacobi' });
      const refB = new CpuBackend(op, new HostRedBlackMultigrid(op));
      try {
        counts.push({ mg: await cgIterations(mgB, op, rho, THETA), jacobi: await cgIterations(jB, op, rho, THETA), ref: await cgIterations(refB, op, rho, THETA) });
      } finally {
        for (const b of [mgB, jB, refB]) b.dispose();
      }
    }
    // Measured, default full W: 16³: 6, 21, 6; 32³: 7, 41, 7 (V: 6, 8).
    for (const c of counts) expect(Math.abs(c.mg - c.ref)).toBeLessThanOrEqual(1);
    expect(counts[1].jacobi / counts[0].jacobi).toBeGreaterThan(1.7);
    expect(counts[1].mg / counts[0].mg).toBeLessThanOrEqual(1.34);
    expect(counts[1].mg).toBeLessThan(counts[1].jacobi / 4);
  });

  it('1-D grids and preconditioner: jacobi keep Jacobi; one device cycle per CG iteration', async () => {
    const { setup } = setupOf('double-well-1d', ['domain.cells=[200]']);
    const g1 = await GpuJsBackend.create(GPU, setup.op, 'webasm', { preconditioner: 'multigrid' });
    expect(g1.preconditionerName).toBe('Jacobi');
    expect(g1.multigrid).toBeNull();
    g1.dispose();
    const two = setupOf('double-well-2d', ['domain.cells=[32,32]']);
    const g2 = await GpuJsBackend.create(GPU, two.setup.op, 'webasm');
    try {
      const its = await cgIterations(g2, two.setup.op, two.rho, THETA);
      const mg = g2.multigrid;
      expect(mg).not.toBeNull();
      // Pcg preconditions once before its loop and after every iteration but the last; each
      // cycle (the default full W: 32² → 16² → 8², two corrections on the finest level) solves
      // the coarsest level twice, on the device: nothing is read back.
      expect(mg?.coarseSolves).toBe(2 * its);
      expect(mg?.readBacks).toBe(0);
    } finally {
      g2.dispose();
    }
  });
});

describe('device multigrid W-cycle option', () => {
  it('W below the finest level, coarsest level on the host: one device cycle and the CG count equal those of its float64 reference', async () => {
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[64,64]']);
    const op = setup.op;
    // The host coarse solve here (the float64 reference always solves the coarsest level so).
    const w = { cycle: 'W' as const, fineW: false, coarseSolve: 'host' as const };
    const host = new HostRedBlackMultigrid(op, w);
    host.setup(THETA);
    const v = pseudoRandom(op.grid.size, 5);
    const zh = new Float64Array(v.length);
    host.apply(v, zh);
    const gW = await GpuJsBackend.create(GPU, op, 'webasm', { multigrid: w });
    try {
      expect(gW.preconditionerName).toContain('W below the finest level(1,1) red–black Gauss–Seidel, coarsest level by Cholesky on the host');
      const zd = await preconditionOnce(gW, THETA, v);
      expect(maxAbsDiff(zd, zh) / maxAbs(zh)).toBeLessThan(16 * EPS32);
      // 64² → 32² → 16² → 8²: level 1 takes two corrections (level 2's are one: its next is the coarsest), so 2 coarsest solves.
      expect(gW.multigrid?.coarseSolves).toBe(2);
      expect(gW.multigrid?.readBacks).toBe(2);
      const itW = await cgIterations(gW, op, rho, THETA);
      const ref = new CpuBackend(op, new HostRedBlackMultigrid(op, w));
      expect(Math.abs(itW - (await cgIterations(ref, op, rho, THETA)))).toBeLessThanOrEqual(1);
      ref.dispose();
    } finally {
      gW.dispose();
    }
  });
});

describe('device multigrid buffers', () => {
  it('a cycle frees every value it makes but the one it returns (no growth over many cycles on GL/WebGPU)', async () => {
    const { setup } = setupOf('double-well-2d', ['domain.cells=[40,24]']);
    const op = setup.op;
    const gpu = new GPU({ mode: 'webasm' }) as { createKernel(src: string, s: Record<string, unknown>): (...a: unknown[]) => Float32Array };
    const live = new Set<Float32Array>();
    const ops: DeviceOps<Float32Array, (...a: unknown[]) => Float32Array> = {
      kernel: (source, output, constants) => gpu.createKernel(source, { pipeline: true, immutable: true, precision: 'single', tactic: 'precision', constants, output: [output] }),
      run: async (k, ...args) => {
        const v = k(...args);
        live.add(v);
        return v;
      },
      free: (v) => {
        live.delete(v);
      },
      read: async (v) => v,
      destroy: () => undefined,
    };
    const mg = new DeviceMultigrid(ops, op);
    const r = Float32Array.from(pseudoRandom(op.grid.size, 3));
    let z = await mg.apply(0.1, r);
    ops.free(z);
    // What stays: per level its packed stencil and zeros, per transfer the two packed index
    // buffers, and the coarsest level's inverse (replaced, not added to, when θ changes below).
    const persistent = live.size;
    expect(persistent).toBe(2 * mg.levelCount + 2 * (mg.levelCount - 1) + 1);
    for (let k = 0; k < 5; k++) {
      z = await mg.apply(k % 2 ? 0.1 : 0.2, r);
      expect(live.size).toBe(persistent + 1);
      ops.free(z);
    }
    mg.dispose();
    expect(live.size).toBe(0);
  });
});
