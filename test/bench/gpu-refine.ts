/**
 * Iterative refinement on a float32 backend (solvers/backend/refine.ts, issue #22 item 1): for each
 * case, one whole run on the float64 CPU path, one on webasm with refinement and one on webasm with
 * FPSOLVE_REFINE=0 (float32 state and CG), interleaved in one process. Reported: the largest
 * relative difference from the CPU run over the final distances (l1, kl, chi2, meanLoss) and the
 * fitted rates, the deterministic counts (steps, solves, device CG iterations, refinement steps,
 * the CPU path's CG iterations), and CPU seconds (user + system of this process, threads included)
 * and wall seconds as a rough guide only: webasm runs the GPU kernels as WebAssembly on the CPU, so
 * its times say nothing about a GPU.
 *
 * Usage: npx tsc -p . && node dist/test/bench/gpu-refine.js [--out bench/results-gpu-refine.md]
 */
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { packageRoot } from '../../src/paths.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/run/run.js';
import type { RunReport } from '../../src/report/types.js';

const argv = process.argv.slice(2);
const outAt = argv.indexOf('--out');
const out = outAt >= 0 ? argv[outAt + 1] : join(packageRoot(), 'bench', 'results-gpu-refine.md');

const cases: { name: string; set: string[] }[] = [
  { name: 'ou-2d', set: ['domain.cells=[64,64]', 'time.end=3', 'time.reportEvery=0.1', 'time.integrator=trbdf2'] },
  { name: 'ou-2d', set: ['domain.cells=[64,64]', 'time.end=3', 'time.reportEvery=0.1', 'time.integrator=exponential'] },
  { name: 'ou-2d', set: ['domain.cells=[128,128]', 'time.end=3', 'time.reportEvery=0.1', 'time.integrator=trbdf2'] },
  { name: 'ou-2d', set: ['domain.cells=[128,128]', 'time.end=3', 'time.reportEvery=0.1', 'time.integrator=exponential'] },
  { name: 'double-well-2d', set: ['domain.cells=[128,128]', 'time.integrator=trbdf2'] },
  { name: 'double-well-2d', set: ['domain.cells=[128,128]', 'time.integrator=exponential'] },
];

function readings(r: RunReport): Record<string, number> {
  const o: Record<string, number> = {};
  for (const k of ['l1', 'kl', 'chi2', 'meanLoss'] as const) if (typeof r.final[k] === 'number') o[k] = r.final[k] as number;
  for (const k of ['chi', 'kl', 'meanLoss'] as const) if (r.rates[k]) o[`rate ${k}`] = r.rates[k]!.value;
  return o;
}

function worst(a: RunReport, ref: RunReport): string {
  const x = readings(a);
  const y = readings(ref);
  let key = '';
  let d = 0;
  for (const k of Object.keys(y)) {
    const v = Math.abs(x[k] - y[k]) / Math.max(Math.abs(y[k]), 1e-300);
    if (!(v <= d)) {
      d = v;
      key = k;
    }
  }
  return `${d.toExponential(1)} (${key})`;
}

async function run(name: string, set: string[], backend: 'cpu' | 'webasm', refine: boolean): Promise<{ r: RunReport; cpu: number; wall: number }> {
  const file = join(packageRoot(), 'scenarios', `${name}.yaml`);
  const loaded = parseScenarioText(readFileSync(file, 'utf8'), file, set);
  const saved = process.env.FPSOLVE_REFINE;
  if (!refine) process.env.FPSOLVE_REFINE = '0';
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const { report } = await runScenario(loaded, { backend, gap: false });
    const c = process.cpuUsage(c0);
    return { r: report, cpu: (c.user + c.system) / 1e6, wall: (performance.now() - t0) / 1000 };
  } finally {
    if (saved === undefined) delete process.env.FPSOLVE_REFINE;
    else process.env.FPSOLVE_REFINE = saved;
  }
}

const lines: string[] = [];
lines.push('| case | path | steps | solves | CG iterations | refinements | worst rel. diff from float64 | CPU s | wall s |');
lines.push('|---|---|---|---|---|---|---|---|---|');
const load0 = loadavg()[0];
for (const c of cases) {
  const label = `${c.name} ${c.set.find((s) => s.startsWith('domain'))!.slice(13)} ${c.set.find((s) => s.startsWith('time.integrator'))!.slice(16)}`;
  const cpu = await run(c.name, c.set, 'cpu', true);
  const refined = await run(c.name, c.set, 'webasm', true);
  const plain = await run(c.name, c.set, 'webasm', false);
  for (const [path, x] of [['float64 CPU', cpu], ['webasm refined', refined], ['webasm float32 only', plain]] as const) {
    const i = x.r.integrator;
    lines.push(`| ${label} | ${path} | ${i.steps} | ${i.linearSolves} | ${i.linearIterations} | ${i.linearRefinements ?? '–'} | ${x === cpu ? '–' : worst(x.r, cpu.r)} | ${x.cpu.toFixed(1)} | ${x.wall.toFixed(1)} |`);
  }
  console.log(lines.slice(-3).join('\n'));
}
const md = [
  '# Iterative refinement on float32 backends (test/bench/gpu-refine.ts)',
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, Node.js ${process.version}; ${new Date().toISOString()}; load average ${load0.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at the end.`,
  'webasm is gpu.js running the GPU kernels as WebAssembly f32 on this CPU: its times are no GPU figure.',
  'CG iterations: the device CG\'s (refined and float32-only rows) or the CPU path\'s (multigrid/Jacobi switch).',
  '',
  ...lines,
  '',
];
writeFileAtomic(out, md.join('\n'));
console.log(`written ${out}`);
