/**
 * Tier 2 of issue 4 (docs/gpujs.md §3, §5): the real WGSL shader path through the `webgpu` package
 * (Dawn) on Mesa's software renderer, no GPU needed. Needs `npm i -D webgpu@^0.6.2` and Mesa's
 * libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri; run with
 *   CI_SOFT_GPU=1 XDG_RUNTIME_DIR=$(mktemp -d) EGL_PLATFORM=surfaceless npx vitest run test/gpu-webgpu.test.ts
 * Skipped, saying why, when `webgpu` cannot be imported or Dawn finds no adapter.
 * Same tolerances as the webasm tier (issue 4 §3): distances and rates within 1e-3 relative,
 * mass drift < 1e-6, and a leak bound of 100 MB over 1000 steps.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gpujs from 'gpu.js';
import { GpuJsBackend } from '../solvers/backend/gpujs.js';
import { installWebGpu } from '../solvers/backend/select.js';
import { leakRun, relDiff, runOn, setupOf } from './gpu-helpers.js';
import { HostRedBlackMultigrid } from '../solvers/backend/gpu-multigrid.js';
import { Pcg } from '../solvers/backend/pcg.js';

const GPU = (gpujs as unknown as { GPU: new (s: { mode: string }) => unknown }).GPU;

let skipReason = '';
// Mesa's EGL needs a platform without a display server, and Dawn a runtime dir; set them here so
// plain `npm test` runs this tier (they must be in the environment before Dawn initializes EGL).
process.env.EGL_PLATFORM ??= 'surfaceless';
process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'fpsolve-xdg-'));
try {
  await import('webgpu' as string);
  process.env.CI_SOFT_GPU ??= '1';
  const probe = await installWebGpu();
  if (!probe.mode) skipReason = probe.missing.join('; ');
} catch (e) {
  skipReason = `the npm package \`webgpu\` cannot be imported (${(e as Error).message.split('\n')[0]}): npm i -D webgpu@^0.6.2`;
}
if (skipReason) console.warn(`gpu-webgpu.test.ts skipped: ${skipReason}`);

describe.skipIf(skipReason !== '')(`gpu.js webgpu (WGSL via Dawn)${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  it('double-well-2d: --backend gpu runs WebGPUKernel and agrees with float64 within 1e-3, mass drift < 1e-6', async () => {
    const overrides = ['domain.cells=[64,64]', 'time.end=1', 'time.reportEvery=0.05', 'time.integrator=explicit'];
    const cpu = (await runOn('double-well-2d', overrides, 'cpu')).report;
    const gpu = (await runOn('double-well-2d', overrides, 'gpu')).report;
    expect(gpu.backend).toBe('gpu.js webgpu');
    expect(gpu.backendReason).toContain('WebGPUKernel');
    expect(gpu.status).toBe('ok');
    for (const k of ['l1', 'kl', 'chi2', 'meanLoss'] as const) {
      expect(relDiff(gpu.final[k] as number, cpu.final[k] as number)).toBeLessThan(1e-3);
    }
    for (const k of ['chi', 'kl', 'meanLoss'] as const) {
      if (cpu.rates[k] && gpu.rates[k]) expect(relDiff(gpu.rates[k]!.value, cpu.rates[k]!.value)).toBeLessThan(1e-3);
    }
    expect(gpu.massRenormalization!.maxRelativeDrift).toBeLessThan(1e-6);
  });

  it('device multigrid in WGSL: one cycle equals the float64 cycle of the same descriptions to float32 round-off; PCG counts as webasm', async () => {
    // Odd cell counts exercise the padded gathers (test/gpu-multigrid.test.ts has the webasm cases).
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[37,23]']);
    const op = setup.op;
    const theta = (2 - Math.SQRT2) / 2;
    const host = new HostRedBlackMultigrid(op);
    host.setup(theta);
    const v = rho.map((_, i) => Math.sin(0.37 * i));
    const zh = new Float64Array(v.length);
    host.apply(v, zh);
    const counts: number[] = [];
    for (const mode of ['webgpu', 'webasm'] as const) {
      const b = await GpuJsBackend.create(GPU, op, mode);
      try {
        expect(b.preconditionerName).toContain('multigrid (device, float32');
        const r = b.field();
        const out = b.field();
        await b.upload(r, v);
        await b.precondition(theta, r, out);
        const zd = new Float64Array(v.length);
        await b.download(out, zd);
        let err = 0;
        let scale = 0;
        for (let i = 0; i < v.length; i++) {
          err = Math.max(err, Math.abs(zd[i] - zh[i]));
          scale = Math.max(scale, Math.abs(zh[i]));
        }
        // Measured 1.35 ε on Mesa's WGSL, ≈ 1 ε on webasm: 16 ε leaves room for a GPU's fused multiply-adds.
        expect(err / scale).toBeLessThan(16 * 2 ** -24);
        const pcg = new Pcg(b, op, { tol: 1e-5, maxIterations: 200 });
        await b.upload(r, rho);
        await b.upload(out, rho);
        await pcg.solve(theta, r, out);
        counts.push(pcg.iterations);
      } finally {
        b.dispose();
      }
    }
    expect(Math.abs(counts[0] - counts[1])).toBeLessThanOrEqual(1);
  });

  it('1000 explicit steps at 256² grow RSS by less than 100 MB (buffers deleted)', async () => {
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[256,256]']);
    const b = await GpuJsBackend.create(GPU, setup.op, 'webgpu');
    expect(b.info.executor).toBe('WebGPUKernel');
    const { steps, grownBytes } = await leakRun(b, setup.op, rho);
    expect(steps).toBe(1010);
    expect(grownBytes).toBeLessThan(100 * 1024 * 1024);
  });
});
