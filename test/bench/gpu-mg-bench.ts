/**
 * Device multigrid against Jacobi for CG on (I − θS) x = b (issue 22 item 1): CG iterations per
 * solve and CPU time per solve, gpu.js mode 'webasm' (WebAssembly f32 on the CPU: NOT a GPU
 * figure), with the float64 host references (the same red–black cycle as float64 JavaScript, and
 * the CPU path's own multigrid) for the counts. Problem: double-well-2d (f = 0.05 + (x² − 1)² + y²,
 * ησ = 0.5) at N×N cells, or quadratic-floor-3d at N³ with --dim 3; b = the initial density, the
 * guess x = b (as an implicit step starts), θ a TR-BDF2 stage's γ·dt/2 with dt = --dt (default
 * 0.02: γ = 2 − √2, θ ≈ 5.9e-3). Modes are interleaved solve by solve, so that machine load
 * hits them alike.
 *
 * Usage: npx tsc -p . && node dist/test/bench/gpu-mg-bench.js [--sizes 256,512] [--dim 2] [--dt 0.02] [--solves 3] [--float64]
 *   [--cycle V|W] [--fine-w 0|1] [--sweeps 1] [--a 1.5] [--w-min-cells 0] [--also-w] [--also-v] [--no-jacobi] [--host-only] [--coarse device|host]
 *
 * Flat counts (bench/results-gpu.md): --sizes 128,256,512,1024 --no-jacobi --also-v --float64 --solves 1,
 * and --sizes 2048 --host-only --no-jacobi --also-v --float64 --solves 1 for the float64 twins alone.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import gpujs from 'gpu.js';
import { packageRoot } from '../../src/paths.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { setUp } from '../../src/run/run.js';
import { initialDensity } from '../../src/run/initial.js';
import { GpuJsBackend } from '../../solvers/backend/gpujs.js';
import { CpuBackend } from '../../solvers/backend/cpu.js';
import { Pcg } from '../../solvers/backend/pcg.js';
import { HostRedBlackMultigrid, type DeviceMultigridOptions } from '../../solvers/backend/gpu-multigrid.js';
import { MultigridPreconditioner } from '../../solvers/multigrid.js';
import { JacobiPreconditioner } from '../../solvers/linear.js';
import type { Backend } from '../../solvers/backend/types.js';

const argv = process.argv.slice(2);
const value = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const dim = Number(value('--dim', '2'));
const sizes = value('--sizes', dim === 3 ? '16,32' : '256,512').split(',').map(Number);
const dt = Number(value('--dt', '0.02'));
const solves = Number(value('--solves', '3'));
const float64 = argv.includes('--float64');
const cycle = value('--cycle', 'W') as 'V' | 'W';
const mgOpts: Partial<DeviceMultigridOptions> = { coarseSolve: value('--coarse', 'device') as 'device' | 'host', cycle, sweeps: Number(value('--sweeps', '1')), overCorrection: Number(value('--a', '1.5')), wMinCells: Number(value('--w-min-cells', '0')), fineW: value('--fine-w', '1') === '1' };
const theta = ((2 - Math.SQRT2) * dt) / 2;
const GPU = (gpujs as unknown as { GPU: new (s: { mode: string }) => unknown }).GPU;

function setupAt(n: number) {
  const name = dim === 3 ? 'quadratic-floor-3d' : 'double-well-2d';
  const file = join(packageRoot(), 'scenarios', `${name}.yaml`);
  const cells = Array.from({ length: dim }, () => n).join(',');
  const loaded = parseScenarioText(readFileSync(file, 'utf8'), file, [`domain.cells=[${cells}]`]);
  const setup = setUp(loaded, { memoryLimit: { bytes: 64 * 2 ** 30, source: 'bench' } });
  return { op: setup.op, rho: initialDensity(setup.grid, setup.scenario.initial, loaded) };
}

interface Mode {
  label: string;
  backend: Backend;
  pcg: Pcg;
  its: number[];
  cpuMs: number[];
}

console.log(`# ${new Date().toISOString()} ${cpus()[0]?.model} ×${cpus().length}, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}; dim ${dim}, θ = ${theta.toExponential(3)} (dt ${dt}), cycle ${JSON.stringify(mgOpts)}`);
for (const n of sizes) {
  const { op, rho } = setupAt(n);
  const modes: Mode[] = [];
  const add = (label: string, backend: Backend): void => {
    modes.push({ label, backend, pcg: new Pcg(backend, op, { tol: 1e-5, maxIterations: 5000 }), its: [], cpuMs: [] });
  };
  // --host-only: the float64 rows alone (grids where webasm is too slow on a shared machine).
  const device = !argv.includes('--host-only');
  if (device && !argv.includes('--no-jacobi')) add('webasm Jacobi', await GpuJsBackend.create(GPU, op, 'webasm', { preconditioner: 'jacobi' }));
  if (device) add('webasm multigrid', await GpuJsBackend.create(GPU, op, 'webasm', { preconditioner: 'multigrid', multigrid: mgOpts }));
  // The W-cycle below the finest level (as the CPU path's), for the flops-against-launches trade-off.
  if (device && argv.includes('--also-w')) add('webasm multigrid W', await GpuJsBackend.create(GPU, op, 'webasm', { preconditioner: 'multigrid', multigrid: { ...mgOpts, cycle: 'W', fineW: false } }));
  // The V-cycle (the default before the full W), for its count's growth with the levels.
  if (device && argv.includes('--also-v')) add('webasm multigrid V', await GpuJsBackend.create(GPU, op, 'webasm', { preconditioner: 'multigrid', multigrid: { ...mgOpts, cycle: 'V' } }));
  if (float64) {
    if (!argv.includes('--no-jacobi')) add('float64 Jacobi', new CpuBackend(op, new JacobiPreconditioner(op)));
    add('float64 red–black reference', new CpuBackend(op, new HostRedBlackMultigrid(op, mgOpts)));
    if (argv.includes('--also-v')) add('float64 red–black reference V', new CpuBackend(op, new HostRedBlackMultigrid(op, { ...mgOpts, cycle: 'V' })));
    add('float64 CPU multigrid', new CpuBackend(op, new MultigridPreconditioner(op)));
  }
  // One untimed solve each: kernel compilation, hierarchy build and upload.
  for (let s = -1; s < solves; s++) {
    for (const m of modes) {
      const B = m.backend;
      const b = B.field();
      const x = B.field();
      await B.upload(b, rho);
      await B.upload(x, rho);
      const before = m.pcg.iterations;
      const c0 = process.cpuUsage();
      await m.pcg.solve(theta, b, x);
      const c = process.cpuUsage(c0);
      if (s >= 0) {
        m.its.push(m.pcg.iterations - before);
        m.cpuMs.push((c.user + c.system) / 1000);
      }
    }
  }
  for (const m of modes) {
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const mg = (m.backend as GpuJsBackend).multigrid;
    // Kernel passes of the multigrid, coarsest solves and read-backs per cycle, over all solves (warm-up included).
    const cycles = m.pcg.iterations;
    const mgText = mg ? `  levels ${mg.levelCount}, ${(mg.passes / cycles).toFixed(0)} passes, ${(mg.coarseSolves / cycles).toFixed(0)} coarsest solves and ${(mg.readBacks / cycles).toFixed(0)} read-backs per cycle` : '';
    console.log(`N=${n}${dim === 3 ? '³' : '²'}  ${m.label.padEnd(30)} iterations ${m.its.join(',')}  CPU ms/solve ${med(m.cpuMs).toFixed(0)}${mgText}  [${m.pcg.describe()}]`);
    m.backend.dispose();
  }
}
