/**
 * The 2-D reference problem of docs/peers.md (double well, ησ = 0.5, t = 1) built from
 * scenarios/double-well-2d.yaml, integrated with a chosen integrator, with the L1 distance to the
 * reference density kept in bench/data (docs/peers.md "Reference densities").
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario } from '../../src/scenario/load.js';
import { setUp, type Setup } from '../../src/run/run.js';
import { initialDensity } from '../../src/run/initial.js';
import { readNpy } from '../../src/io/npy.js';
import { packageRoot } from '../../src/paths.js';
import { DeviceExplicitEuler, DeviceRkl2, type AsyncIntegrator } from '../../solvers/backend/integrators.js';
import { DeviceBackwardEuler, DeviceTrBdf2 } from '../../solvers/backend/implicit.js';
import { DeviceExponential, exponentialCgSettings } from '../../solvers/backend/exponential.js';
import { CpuBackend } from '../../solvers/backend/cpu.js';
import { cpuBackend } from '../../solvers/backend/choose.js';

/** bench/ of the checkout: data/ holds the reference densities, baseline/ the peers' SciPy script. */
export const REFERENCE_DIR = join(packageRoot(), 'bench');

export type Method =
  | { kind: 'trbdf2'; tolerance: number; linearTol: number; pre?: 'mg' | 'jacobi' | 'auto'; dtMax?: number }
  | { kind: 'backward-euler'; dt: number; linearTol: number; pre?: 'mg' | 'jacobi' | 'auto' }
  /** The exponential integrator; linearTol defaults to the product's (exponentialCgSettings). */
  | { kind: 'exp'; tolerance: number; linearTol?: number; pre?: 'mg' | 'jacobi' | 'auto'; ratio?: number; maxBasis?: number; dtMax?: number }
  | { kind: 'rkl2'; dt: number }
  | { kind: 'explicit' };

export interface RefRun {
  n: number;
  method: string;
  wallSeconds: number;
  setupSeconds: number;
  steps: number;
  rejected: number;
  linearIterations: number;
  linearSolves: number;
  l1: number | null;
  massDrift: number;
  minDensity: number;
  /** Peak resident set of this process so far, MiB. */
  maxRssMiB: number;
}

const preName = (p: 'mg' | 'jacobi' | 'auto' | undefined): string => (p === 'auto' ? 'Jacobi/mg' : (p ?? 'mg'));

export function describeMethod(m: Method): string {
  switch (m.kind) {
    case 'trbdf2':
      return `TR-BDF2 tol ${m.tolerance}, ${preName(m.pre)}-PCG ${m.linearTol}`;
    case 'backward-euler':
      return `backward Euler dt ${m.dt}, ${preName(m.pre)}-PCG ${m.linearTol}`;
    case 'exp':
      return `exponential (shift-invert Krylov) tol ${m.tolerance}, ${preName(m.pre)}-PCG ${m.linearTol ?? exponentialCgSettings(m.tolerance).tol}`;
    case 'rkl2':
      return `RKL2 dt ${m.dt}`;
    case 'explicit':
      return 'explicit Euler (0.9 × positivity limit)';
  }
}

export function setUpReference(n: number, extra: string[] = []): Setup {
  return setUp(loadScenario(join(packageRoot(), 'scenarios', 'double-well-2d.yaml'), [`domain.cells=[${n},${n}]`, ...extra]));
}

/** The CPU backend with the method's CG preconditioner (multigrid unless `jacobi`). */
function backendFor(setup: Setup, which: 'mg' | 'jacobi' | 'auto' | undefined): CpuBackend {
  return cpuBackend(setup.op, which === 'jacobi' ? 'jacobi' : which === 'auto' ? 'auto' : 'multigrid');
}

export function buildIntegrator(setup: Setup, m: Method): AsyncIntegrator {
  const op = setup.op;
  switch (m.kind) {
    case 'trbdf2':
      return new DeviceTrBdf2(backendFor(setup, m.pre), op, { tolerance: m.tolerance, dtMax: m.dtMax ?? 1 }, { tol: m.linearTol, maxIterations: 20000 });
    case 'backward-euler':
      return new DeviceBackwardEuler(backendFor(setup, m.pre), op, m.dt, { tol: m.linearTol, maxIterations: 20000 });
    case 'exp':
      return new DeviceExponential(backendFor(setup, m.pre), op, { tolerance: m.tolerance, dtMax: m.dtMax ?? 1, shiftRatio: m.ratio, maxBasis: m.maxBasis }, m.linearTol === undefined ? exponentialCgSettings(m.tolerance) : { tol: m.linearTol, maxIterations: 20000 });
    case 'rkl2':
      return new DeviceRkl2(new CpuBackend(op), op, m.dt);
    case 'explicit':
      return new DeviceExplicitEuler(new CpuBackend(op), op);
  }
}

export function referenceDensity(n: number): Float64Array | null {
  const file = join(REFERENCE_DIR, 'data', `ref-2d-${n}-t1.npy`);
  if (!existsSync(file)) return null;
  return Float64Array.from(readNpy(file).data);
}

/** Whole run as a user would time it: scenario → operator → integrate to t = 1 (no report I/O). */
export function runReference(n: number, m: Method, ref: Float64Array | null = referenceDensity(n), end = 1): Promise<RefRun> {
  return runSetup(() => setUpReference(n), n, m, ref, end);
}

/** Same as runReference for any scenario file with overrides (scale runs); no reference density. */
export function runScenarioFile(file: string, overrides: string[], m: Method, end = 1): Promise<RefRun> {
  return runSetup(() => setUp(loadScenario(join(packageRoot(), file), overrides)), NaN, m, null, end);
}

async function runSetup(make: () => Setup, n: number, m: Method, ref: Float64Array | null, end: number): Promise<RefRun> {
  const t0 = performance.now();
  const setup = make();
  const rho = initialDensity(setup.grid, setup.scenario.initial, { file: setup.file, baseDir: packageRoot() });
  const integ = buildIntegrator(setup, m);
  const t1 = performance.now();
  await integ.advance(rho, 0, end);
  const t2 = performance.now();
  const h2 = setup.grid.cellVolume;
  let mass = 0;
  let lo = Infinity;
  let l1 = 0;
  for (let i = 0; i < rho.length; i++) {
    mass += rho[i];
    if (rho[i] < lo) lo = rho[i];
    if (ref) l1 += Math.abs(rho[i] - ref[i]);
  }
  return {
    n,
    method: describeMethod(m),
    wallSeconds: (t2 - t0) / 1000,
    setupSeconds: (t1 - t0) / 1000,
    steps: integ.stats.steps,
    rejected: integ.stats.rejected,
    linearIterations: integ.solver?.iterations ?? 0,
    linearSolves: integ.solver?.solves ?? 0,
    l1: ref ? l1 * h2 : null,
    massDrift: mass * h2 - 1,
    minDensity: lo,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}
