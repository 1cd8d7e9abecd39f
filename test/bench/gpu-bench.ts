/**
 * GPU-backend benchmark of issue 4 §4 (docs/gpu.md): ms per step and ms to t = 1 at N² cells for
 * the float64 CPU path (the sync integrators of solvers/integrators.ts, the default) and the
 * gpu.js backends that can run here, all in the same process and run. Problem: the double-well-2d
 * scenario (f = 0.05 + (x² − 1)² + y², ησ = 0.5) on [−2, 2]² at N×N cells.
 *
 * ms/step is the median over 3 timed blocks after a warm-up (compile, first allocations); a block
 * ends with a read-back, as a report time does. "ms to t = 1" is (steps to reach t = 1) × ms/step:
 * running 10⁵–10⁶ explicit steps at 1024² is not feasible on a 2-core machine, and the per-step cost
 * is constant. float32 backends include the per-step mass reduction (integrators.ts restoreSum).
 *
 * Usage: npx tsc -p . && node dist/test/bench/gpu-bench.js [--sizes 256,512,1024] [--out bench/results-gpu.md]
 * Add 2048 to --sizes for the optional largest grid. A real GPU is used when select.ts probeGpu finds one.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import gpujs from 'gpu.js';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { packageRoot } from '../../src/paths.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { setUp } from '../../src/run/run.js';
import { initialDensity } from '../../src/run/initial.js';
import { GpuJsBackend, type GpuJsMode } from '../../solvers/backend/gpujs.js';
import { DeviceExplicitEuler, DeviceRkl2, type AsyncIntegrator } from '../../solvers/backend/integrators.js';
import { probeGpu } from '../../solvers/backend/select.js';
import { CpuBackend } from '../../solvers/backend/cpu.js';
import { existsSync, readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const value = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const sizes = value('--sizes', '256,512,1024').split(',').map(Number);
const out = value('--out', join(packageRoot(), 'bench', 'results-gpu.md'));
const GPU = (gpujs as unknown as { GPU: new (s: { mode: string }) => unknown }).GPU;

interface Row {
  backend: string;
  n: number;
  explicitMs: number;
  rkl2Ms: number;
  explicitSteps: number;
  rkl2Steps: number;
  stages: number;
}

function setupAt(n: number) {
  const file = join(packageRoot(), 'scenarios', 'double-well-2d.yaml');
  const loaded = parseScenarioText(readFileSync(file, 'utf8'), file, [`domain.cells=[${n},${n}]`]);
  const setup = setUp(loaded, { memoryLimit: { bytes: 64 * 2 ** 30, source: 'bench' } });
  return { op: setup.op, rho: initialDensity(setup.grid, setup.scenario.initial, loaded) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median ms per step over 3 blocks of `k` steps, after one warm-up block. */
async function timeSteps(advance: (t0: number, t1: number) => Promise<unknown> | unknown, dt: number, k: number): Promise<number> {
  let t = 0;
  await advance(t, t + k * dt);
  t += k * dt;
  const ms: number[] = [];
  for (let b = 0; b < 3; b++) {
    const s = performance.now();
    await advance(t, t + k * dt);
    ms.push((performance.now() - s) / k);
    t += k * dt;
  }
  return median(ms);
}

async function benchAt(n: number, modes: { label: string; mode?: GpuJsMode; device?: string }[]): Promise<Row[]> {
  const { op, rho } = setupAt(n);
  const limit = op.explicitLimit();
  const dtE = 0.9 * limit;
  const dtR = ((20 * 20 + 20 - 2) / 4) * limit;
  const kE = Math.max(3, Math.round(2e6 / (n * n)));
  const kR = Math.max(1, Math.round(kE / 20));
  const rows: Row[] = [];
  for (const m of modes) {
    let explicitMs: number;
    let rkl2Ms: number;
    let stages: number;
    if (!m.mode) {
      // the float64 CPU path: the same generic integrators on the CpuBackend
      const e = new DeviceExplicitEuler(new CpuBackend(op), op, dtE);
      const x = rho.slice();
      explicitMs = await timeSteps((a, b) => e.advance(x, a, b), dtE, kE);
      const r = new DeviceRkl2(new CpuBackend(op), op, dtR);
      const y = rho.slice();
      rkl2Ms = await timeSteps((a, b) => r.advance(y, a, b), dtR, kR);
      stages = r.stages;
    } else {
      const run = async (make: (b: GpuJsBackend) => AsyncIntegrator, dt: number, k: number): Promise<[number, number]> => {
        const b = await GpuJsBackend.create(GPU, op, m.mode!, m.device ? { device: m.device } : {});
        const integ = make(b);
        const x = rho.slice();
        const ms = await timeSteps((a, c) => integ.advance(x, a, c), dt, k);
        const stagesOf = integ instanceof DeviceRkl2 ? integ.stages : 1;
        integ.dispose();
        return [ms, stagesOf];
      };
      [explicitMs] = await run((b) => new DeviceExplicitEuler(b, op, dtE), dtE, kE);
      [rkl2Ms, stages] = await run((b) => new DeviceRkl2(b, op, dtR), dtR, kR);
    }
    rows.push({ backend: m.label, n, explicitMs, rkl2Ms, explicitSteps: Math.ceil(1 / dtE), rkl2Steps: Math.ceil(1 / dtR), stages });
    process.stderr.write(`${m.label} ${n}²: explicit ${explicitMs.toFixed(2)} ms/step, RKL2 ${rkl2Ms.toFixed(1)} ms/step\n`);
  }
  return rows;
}

const probe = await probeGpu();
const modes: { label: string; mode?: GpuJsMode; device?: string }[] = [{ label: 'CPU float64' }, { label: 'gpu.js webasm (float32)', mode: 'webasm' }];
if (probe.mode) modes.push({ label: `gpu.js ${probe.mode}: ${probe.device}${probe.software ? ' (software)' : ''}`, mode: probe.mode, device: probe.device });
const load0 = loadavg()[0];
const rows: Row[] = [];
for (const n of sizes) rows.push(...(await benchAt(n, modes)));
const load1 = loadavg()[0];

const fmtS = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 1e5 ? 0 : 1)} s` : `${ms.toFixed(0)} ms`);
const lines = [
  '## Per-step benchmark (issue 4): explicit Euler and RKL2, test/bench/gpu-bench.ts',
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}, ${process.platform}. Date: ${new Date().toISOString()}.`,
  `Load average ${load0.toFixed(1)} at the start and ${load1.toFixed(1)} at the end${Math.max(load0, load1) > cpus().length ? ': **above the core count, so the machine was shared and timings are noisy**' : ''} (differences under ~1.5× are not significant).`,
  '',
  `Problem: scenarios/double-well-2d.yaml (f = 0.05 + (x² − 1)² + y² on [−2, 2]², multiplicative noise ησ = 0.5) at N×N cells. Explicit Euler at 0.9 × the positivity limit; RKL2 with ${rows[0]?.stages ?? 20} stages at 104.5 × the limit (the default rkl2 step). ms/step: median of 3 blocks after a warm-up, each block ending in a read-back; float32 backends include the per-step mass reduction. ms to t = 1 = (steps to t = 1) × ms/step (a full run at 1024² is 10⁵–10⁶ explicit steps).`,
  '',
  '| backend | N² | explicit ms/step | explicit to t = 1 | RKL2 ms/step | RKL2 to t = 1 |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.backend} | ${r.n}² | ${r.explicitMs.toFixed(2)} | ${fmtS(r.explicitMs * r.explicitSteps)} (${r.explicitSteps} steps) | ${r.rkl2Ms.toFixed(1)} | ${fmtS(r.rkl2Ms * r.rkl2Steps)} (${r.rkl2Steps} steps) |`),
  ...(probe.mode && !probe.software ? [] : sizes.map((n) => `| real GPU (gpu.js webgpu/headlessgl) | ${n}² | no GPU was available on this machine: no GPU numbers | – | – | – |`)),
  '',
  probe.mode && !probe.software
    ? `GPU found: ${probe.device}.`
    : probe.mode
      ? `No GPU was available on this machine: no GPU numbers. The gpu.js webgpu rows ran the real WGSL shaders through Dawn on Mesa's software renderer (${probe.device}, CI_SOFT_GPU=1): they show the shader path works, not GPU speed.`
      : `No GPU was available on this machine: no GPU numbers. What the probe found: ${probe.missing.join('; ')}. gpu.js webgpu on Mesa's software renderer was not measured here (no loadable webgpu package: it needs webgpu@^0.6.2; see docs/gpu.md).`,
  '',
  'Speed-up of webasm over CPU float64 (explicit step): ' +
    sizes
      .map((n) => {
        const c = rows.find((r) => r.n === n && !r.backend.startsWith('gpu.js'));
        const w = rows.find((r) => r.n === n && r.backend.startsWith('gpu.js webasm'));
        return c && w ? `${n}²: ${(c.explicitMs / w.explicitMs).toFixed(2)}×` : '';
      })
      .join(', ') +
    ' (below 1 means webasm is slower; gpu.js webasm is a correctness stand-in for the GPU kernels, not an accelerator).',
  '',
  'Reproduce: `npx tsc -p . && node dist/test/bench/gpu-bench.js --sizes 256,512,1024` (add 2048 for the largest grid).',
  '',
];
// Keeps what precedes this section (the device check's generated section, bench/gpu-device.sh).
const before = existsSync(out) ? readFileSync(out, 'utf8') : '# GPU benchmarks\n\n';
const at = before.indexOf('## Per-step benchmark (issue 4)');
writeFileAtomic(out, (at >= 0 ? before.slice(0, at) : before.replace(/\n*$/, '\n\n')) + lines.join('\n'));
process.stderr.write(`wrote ${out}\n`);
