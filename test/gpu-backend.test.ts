/**
 * The gpu.js backend's primitives and resources under mode 'webasm' (tier 1, docs/gpujs.md §5), and
 * backend selection. References: the float64 CpuBackend on the same operator (float32 agreement
 * ~1e-6 relative, docs/gpujs.md §2 "Accuracy"), exact invariants (Σ Aρ = 0), and the leak bound of
 * issue 4 §3 (1000 steps, RSS growth < 100 MB).
 */
import { describe, expect, it } from 'vitest';
import gpujs from 'gpu.js';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { GpuJsBackend } from '../solvers/backend/gpujs.js';
import { DeviceBackwardEuler, DeviceTrBdf2, FLOAT32_STEP_TOL } from '../solvers/backend/implicit.js';
import { cgSettings, selectIntegrator } from '../solvers/backend/choose.js';
import { AUTO_GPU_MIN_CELLS, resolveBackend } from '../solvers/backend/select.js';
import { fpsolve } from './helpers/cli.js';
import { leakRun, relDiff, setupOf } from './gpu-helpers.js';

const GPU = (gpujs as unknown as { GPU: new (s: { mode: string }) => unknown }).GPU;

let webgpuImportable = false;
try {
  await import('webgpu' as string);
  webgpuImportable = true;
} catch {
  webgpuImportable = false;
}


/** Largest |b|, largest |a − b| and how far b moved from the start (max norms). */
function compare(a: Float64Array, b: Float64Array, start: Float64Array): { scale: number; err: number; moved: number } {
  let scale = 0;
  let err = 0;
  let moved = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, b[i]);
    err = Math.max(err, Math.abs(a[i] - b[i]));
    moved = Math.max(moved, Math.abs(b[i] - start[i]));
  }
  return { scale, err, moved };
}

describe('gpu.js webasm primitives against the float64 backend', () => {
  it('apply, sums and dots agree to float32 accuracy; Σ Aρ vanishes; the WebAssemblyKernel ran', async () => {
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[40,24]']);
    const op = setup.op;
    const gpu = await GpuJsBackend.create(GPU, op, 'webasm');
    const cpu = new CpuBackend(op);
    expect(gpu.info.executor).toBe('WebAssemblyKernel');
    try {
      const [xg, yg, xc, yc] = [gpu.field(), gpu.field(), cpu.field(), cpu.field()];
      await gpu.upload(xg, rho);
      await cpu.upload(xc, rho);
      await gpu.apply(xg, yg);
      await cpu.apply(xc, yc);
      const a = new Float64Array(rho.length);
      const b = new Float64Array(rho.length);
      await gpu.download(yg, a);
      await cpu.download(yc, b);
      let scale = 0;
      let err = 0;
      for (let i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(b[i]));
        err = Math.max(err, Math.abs(a[i] - b[i]));
      }
      expect(scale).toBeGreaterThan(1);
      expect(err / scale).toBeLessThan(1e-5);
      // mass conservation of the generator: Σ (Aρ)_i = 0 up to float32 rounding of O(scale) terms
      expect(Math.abs(await gpu.sum(yg)) / (scale * Math.sqrt(rho.length))).toBeLessThan(1e-5);
      expect(relDiff(await gpu.sum(xg), await cpu.sum(xc))).toBeLessThan(1e-6);
      expect(relDiff(await gpu.dot(xg, yg), await cpu.dot(xc, yc))).toBeLessThan(1e-4);
      expect(relDiff(await gpu.dot(xg, xg), await cpu.dot(xc, xc))).toBeLessThan(1e-6);
      // the reductions TR-BDF2's error control reads: ‖·‖₁ finished in float64, extrema exact up to float32 rounding
      expect(relDiff(await gpu.norm1(yg), await cpu.norm1(yc))).toBeLessThan(1e-5);
      expect(Math.abs((await gpu.min(yg)) - (await cpu.min(yc))) / scale).toBeLessThan(1e-5);
      expect(Math.abs((await gpu.max(yg)) - (await cpu.max(yc))) / scale).toBeLessThan(1e-5);
      await gpu.zero(yg);
      expect(await gpu.norm1(yg)).toBe(0);
    } finally {
      gpu.dispose();
    }
  });

  it('backward Euler (PCG on the symmetric form) on webasm agrees with float64 within the float32 CG tolerance', async () => {
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[32,32]']);
    const op = setup.op;
    const gb = await GpuJsBackend.create(GPU, op, 'webasm');
    const g = new DeviceBackwardEuler(gb, op, 0.01, { tol: 1e-5, maxIterations: 5000 });
    const c = new DeviceBackwardEuler(new CpuBackend(op), op, 0.01, { tol: 1e-10, maxIterations: 5000 });
    const a = rho.slice();
    const b = rho.slice();
    await g.advance(a, 0, 0.05);
    await c.advance(b, 0, 0.05);
    g.dispose();
    const { scale, err, moved } = compare(a, b, rho);
    expect(moved / scale).toBeGreaterThan(1e-2);
    expect(err / scale).toBeLessThan(1e-4);
    expect(g.massCorrection.maxRelativeDrift).toBeLessThan(1e-6);
  });

  it('TR-BDF2 on webasm without refinement raises its tolerances for float32, says so, and agrees with float64 at the raised step tolerance', async () => {
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[32,32]']);
    const op = setup.op;
    const req = { choice: 'trbdf2' as const, reportEvery: 0.1, end: 0.5 };
    // The float32-only path (selectIntegrator refines on float32 backends: test/gpu-refine.test.ts).
    const g = new DeviceTrBdf2(await GpuJsBackend.create(GPU, op, 'webasm'), op, { tolerance: 1e-6, dtMax: req.reportEvery }, cgSettings(1e-6));
    const c = selectIntegrator(op, { ...req, tolerance: FLOAT32_STEP_TOL });
    const a = rho.slice();
    const b = rho.slice();
    try {
      for (let t = 0; t < 0.5 - 1e-12; t += 0.1) {
        await g.advance(a, t, t + 0.1);
        await c.advance(b, t, t + 0.1);
      }
    } finally {
      g.dispose();
    }
    expect(g.describe()).toContain(`tolerance ${FLOAT32_STEP_TOL}, raised from 0.000001 for float32`);
    // A 2-D grid: CG runs with the device multigrid (solvers/backend/gpu-multigrid.ts).
    expect(g.describe()).toMatch(/PCG \(multigrid \(device, float32; .*Gauss–Seidel.*\)\), tolerance 0\.00001 \(raised from 1e-9/);
    const { scale, err, moved } = compare(a, b, rho);
    expect(moved / scale).toBeGreaterThan(1e-2);
    expect(err / scale).toBeLessThan(3e-4);
    expect(Math.abs(g.stats.steps - c.stats.steps)).toBeLessThanOrEqual(0.3 * c.stats.steps);
    expect(g.massCorrection.maxRelativeDrift).toBeLessThan(1e-6);
  });

  it('1000 explicit steps at 256² on webasm grow RSS by less than 100 MB (device fields are freed)', async () => {
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[256,256]']);
    const op = setup.op;
    const { steps, grownBytes, x } = await leakRun(await GpuJsBackend.create(GPU, op, 'webasm'), op, rho);
    expect(steps).toBe(1010);
    expect(grownBytes).toBeLessThan(100 * 1024 * 1024);
    let m = 0;
    for (const v of x) m += v;
    let m0 = 0;
    for (const v of rho) m0 += v;
    expect(Math.abs(m - m0) / m0).toBeLessThan(1e-12);
  });
});

describe('backend selection', () => {
  it('auto keeps float64 on the CPU below 512² cells and says why', async () => {
    const { setup } = setupOf('double-well-2d', ['domain.cells=[64,64]']);
    const r = await resolveBackend('auto', setup.op, { integrator: 'auto' });
    expect(r.backend).toBeInstanceOf(CpuBackend);
    expect(r.info.precision).toBe('float64');
    expect(r.reason).toContain(String(64 * 64));
    expect(r.reason).toContain(String(AUTO_GPU_MIN_CELLS));
  });

  it('--backend gpu on a machine without a GPU exits 2 naming what is missing', () => {
    // Here (and in CI) there is no GPU: either `webgpu` is not importable, or Dawn finds no
    // hardware adapter (Mesa's software renderer is refused without CI_SOFT_GPU).
    const env = { ...process.env, CI_SOFT_GPU: '' };
    const r = fpsolve(['run', 'scenarios/double-well-2d.yaml', '--backend', 'gpu', '--set', 'domain.cells=[16,16]', '--no-gap', '-q'], { env });
    expect(r.code).toBe(2);
    const ours = r.stderr.split('\n').filter((l) => l.startsWith('fpsolve:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toContain('webgpu');
    expect(ours[0]).toMatch(webgpuImportable ? /adapter|software renderer/ : /cannot be imported|not installed/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no JavaScript stack trace
  });

  it('--backend rejects unknown values with exit 2, and webasm reports float32 in report.json', () => {
    const bad = fpsolve(['run', 'scenarios/double-well-2d.yaml', '--backend', 'cuda']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('auto, cpu, gpu, webasm');
    const ok = fpsolve(['run', 'scenarios/pearson-1d.yaml', '--backend', 'webasm', '--set', 'domain.cells=[200]', '--set', 'time.end=0.5', '--set', 'time.integrator=rkl2', '--no-gap', '--json', '-q']);
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout) as { backend: string; precision: string; backendReason: string; final: { mass: number } };
    expect(report.backend).toBe('gpu.js webasm');
    expect(report.precision).toBe('float32');
    expect(report.backendReason).toContain('WebAssemblyKernel');
    expect(Math.abs(report.final.mass - 1)).toBeLessThan(1e-9);
  });
});
