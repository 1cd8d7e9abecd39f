/**
 * The device multigrid's default cycle (a full W: solvers/backend/gpu-multigrid.ts) keeps the CG
 * iteration count flat in the grid where the V-cycle's grows (issue 22 items 1 and 3), under
 * gpu.js mode 'webasm' (float32 WebAssembly, the repo's stand-in for GPU numerics). References:
 * the same cycle in float64 (HostRedBlackMultigrid, the JavaScript emission of the same kernel
 * descriptions), the symmetry a CG preconditioner needs (oracles.md §17 "A symmetric multigrid
 * cycle"), and the counts' scaling (oracles.md §17 "Iteration counts": bounded for a W-cycle of
 * aggregation with over-correction, growing with the levels for its V-cycle).
 */
import { describe, expect, it } from 'vitest';
import gpujs from 'gpu.js';
import { GpuJsBackend } from '../solvers/backend/gpujs.js';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { DEFAULT_DEVICE_MULTIGRID, HostRedBlackMultigrid, type DeviceMultigridOptions } from '../solvers/backend/gpu-multigrid.js';
import { maxAbs, maxAbsDiff } from './helpers/generator.js';
import { cgIterations, preconditionOnce, pseudoRandom, setupOf, symmetryOf } from './gpu-helpers.js';

const GPU = (gpujs as unknown as { GPU: new (s: { mode: string }) => unknown }).GPU;
const EPS32 = 2 ** -24;
/** A TR-BDF2 stage's θ = γ·dt/2 (γ = 2 − √2). */
const thetaAt = (dt: number): number => ((2 - Math.SQRT2) * dt) / 2;
const OLD_V: Partial<DeviceMultigridOptions> = { cycle: 'V' };


interface Counts {
  device: number;
  twin: number;
  oldV: number;
}

/** Device default cycle, its float64 twin, and the float64 V-cycle (the device's old default) on one grid. */
async function countsAt(scenario: string, cells: number[], theta: number, overrides: string[] = []): Promise<Counts> {
  const { setup, rho } = setupOf(scenario, [`domain.cells=[${cells.join(',')}]`, ...overrides]);
  const op = setup.op;
  const dev = await GpuJsBackend.create(GPU, op, 'webasm');
  const twin = new CpuBackend(op, new HostRedBlackMultigrid(op));
  const oldV = new CpuBackend(op, new HostRedBlackMultigrid(op, OLD_V));
  try {
    expect(dev.preconditionerName).toContain('W(1,1) red–black Gauss–Seidel');
    return { device: await cgIterations(dev, op, rho, theta), twin: await cgIterations(twin, op, rho, theta), oldV: await cgIterations(oldV, op, rho, theta) };
  } finally {
    for (const b of [dev, twin, oldV]) b.dispose();
  }
}

/** max/min of a list of counts: the spread the ±30 % bound is on. */
const spread = (xs: number[]): number => Math.max(...xs) / Math.min(...xs);

describe('device multigrid default cycle: CG counts flat in the grid (webasm)', () => {
  it('the default is a full W-cycle; one cycle on 64² equals its float64 twin to float32 round-off, and the twin is symmetric positive definite', async () => {
    expect(DEFAULT_DEVICE_MULTIGRID.cycle).toBe('W');
    expect(DEFAULT_DEVICE_MULTIGRID.fineW).toBe(true);
    // 64² → 32² → 16² → 8²: four levels, so the finest level's second correction is exercised.
    const { setup } = setupOf('double-well-2d', ['domain.cells=[64,64]']);
    const op = setup.op;
    const theta = thetaAt(1);
    const host = new HostRedBlackMultigrid(op);
    expect(host.h.levels.length).toBe(4);
    host.setup(theta);
    const v = pseudoRandom(op.grid.size, 7);
    const zh = new Float64Array(v.length);
    host.apply(v, zh);
    const gpu = await GpuJsBackend.create(GPU, op, 'webasm');
    try {
      const zd = await preconditionOnce(gpu, theta, v);
      const rel = maxAbsDiff(zd, zh) / maxAbs(zh);
      // As the V-cycle's bound (test/gpu-multigrid.test.ts): each pass rounds once and contracts.
      expect(rel).toBeLessThan(16 * EPS32);
      expect(rel).toBeGreaterThan(0);
      // Passes of one cycle, counted from the cycle's definition: level l is entered v_l times
      // (v_0 = 1), takes 2 coarse corrections unless its next level is the coarsest, and each
      // entry runs 4 smoothing passes and 3 per correction (residual, restriction, prolongation);
      // each coarsest entry is one pass.
      const L = gpu.multigrid?.levelCount ?? 0;
      expect(L).toBe(4);
      let visits = 1;
      let passes = 0;
      for (let l = 0; l + 1 < L; l++) {
        const reps = l + 2 < L ? 2 : 1;
        passes += visits * (4 + 3 * reps);
        visits *= reps;
      }
      passes += visits;
      expect(gpu.multigrid?.passes).toBe(passes);
      expect(gpu.multigrid?.coarseSolves).toBe(4); // 2 × 2: a V-cycle would solve it once
    } finally {
      gpu.dispose();
    }
    // oracles.md §17 "Symmetry": ⟨Mu, w⟩ = ⟨u, Mw⟩ to float64 round-off, and ⟨Mu, u⟩ > 0.
    const sym = symmetryOf((x, out) => host.apply(x, out), v.length);
    expect(sym.asymmetry).toBeLessThan(1e-12 * sym.scale);
    expect(sym.energy).toBeGreaterThan(0);
  });

  it('2-D double well (θ = γ/2, dt 1): 64² → 256² the device count stays within 30 %, the V-cycle’s grows by more', async () => {
    const counts: Counts[] = [];
    for (const n of [64, 128, 256]) counts.push(await countsAt('double-well-2d', [n, n], thetaAt(1)));
    // Measured (device, twin, V): 64²: 8, 8, 8; 128²: 8, 8, 11; 256²: 9, 9, 13.
    for (const c of counts) expect(Math.abs(c.device - c.twin)).toBeLessThanOrEqual(1);
    expect(spread(counts.map((c) => c.device))).toBeLessThanOrEqual(1.3);
    expect(counts[2].oldV / counts[0].oldV).toBeGreaterThan(1.3);
    expect(counts[2].device).toBeLessThan(counts[2].oldV);
  });

  it('2-D bowl (ou-2d with D = 1, dt 1): 64² → 256² the device count stays within 30 %, the V-cycle’s grows by more', async () => {
    // D = 1 rather than the scenario's 0.1: θD/h² ≫ 1 from 64² on (≈ 75), so the counts measure the
    // cycle, not the operator turning from near-identity to elliptic as h falls.
    const counts: Counts[] = [];
    for (const n of [64, 128, 256]) counts.push(await countsAt('ou-2d', [n, n], thetaAt(1), ['noise.D=1']));
    // Measured (device, twin, V): 64²: 12, 11, 11; 128²: 12, 11, 12; 256²: 14, 12, 16.
    // float32 costs the device up to two iterations here: κ(I − θS) ≈ 8θD/h² ≈ 10⁴ at 256², so
    // κ·ε₃₂ ≈ 6·10⁻⁴ exceeds the tolerance 10⁻⁵ and CG's last digits come from its recursive
    // residual, which rounding slows (the V-cycle's device count drifts the same way: 17 against 16).
    for (const c of counts) expect(Math.abs(c.device - c.twin)).toBeLessThanOrEqual(2);
    expect(spread(counts.map((c) => c.twin))).toBeLessThanOrEqual(1.3);
    expect(spread(counts.map((c) => c.device))).toBeLessThanOrEqual(1.3);
    expect(counts[2].oldV / counts[0].oldV).toBeGreaterThan(1.3);
  });

  it('3-D bowl (quadratic-floor-3d, dt 1): 16³ → 32³ the device count grows by less than the V-cycle’s, which exceeds 30 %', async () => {
    const counts: Counts[] = [];
    for (const n of [16, 32]) counts.push(await countsAt('quadratic-floor-3d', [n, n, n], thetaAt(1)));
    // Measured (device, twin, V): 16³: 6, 6, 6; 32³: 7, 7, 8.
    for (const c of counts) expect(Math.abs(c.device - c.twin)).toBeLessThanOrEqual(1);
    expect(spread(counts.map((c) => c.device))).toBeLessThanOrEqual(1.3);
    expect(counts[1].oldV / counts[0].oldV).toBeGreaterThan(1.3);
  });
});
