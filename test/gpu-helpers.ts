import { loadBundled } from './helpers/run-inline.js';
import { runScenario, setUp, type RunResult, type Setup } from '../src/run/run.js';
import type { BackendChoice } from '../solvers/backend/select.js';
import { initialDensity } from '../src/run/initial.js';
import type { Backend } from '../solvers/backend/types.js';
import type { FvOperator } from '../solvers/operator.js';
import { DeviceExplicitEuler } from '../solvers/backend/integrators.js';


/** A bundled scenario run in-process on one backend, without the gap estimate (not under test here). */
export async function runOn(name: string, overrides: string[], backend: BackendChoice): Promise<RunResult> {
  return runScenario(loadBundled(name, overrides), { backend, gap: false });
}

/** Setup and initial density of a bundled scenario (for driving integrators directly). */
export function setupOf(name: string, overrides: string[]): { setup: Setup; rho: Float64Array } {
  const loaded = loadBundled(name, overrides);
  const setup = setUp(loaded);
  return { setup, rho: initialDensity(setup.grid, setup.scenario.initial, loaded) };
}

export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
}

/**
 * The leak measurement of issue 4 §3: RSS growth over 1000 explicit steps on a backend, after a
 * 10-step warm-up (kernel compilation and first allocations). Disposes the backend.
 */
export async function leakRun(backend: Backend, op: FvOperator, rho: Float64Array): Promise<{ steps: number; grownBytes: number; x: Float64Array }> {
  const e = new DeviceExplicitEuler(backend, op);
  const x = rho.slice();
  await e.advance(x, 0, 10 * e.dt);
  const before = process.memoryUsage().rss;
  await e.advance(x, 10 * e.dt, 1010 * e.dt);
  const grownBytes = process.memoryUsage().rss - before;
  backend.dispose();
  return { steps: e.stats.steps, grownBytes, x };
}
