import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenarioText } from '../src/scenario/load.js';
import { runScenario, setUp, type RunResult, type Setup } from '../src/run/run.js';
import type { BackendChoice } from '../solvers/backend/select.js';
import { initialDensity } from '../src/run/initial.js';

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios');

function load(name: string, overrides: string[]) {
  const file = join(SCENARIOS, `${name}.yaml`);
  return parseScenarioText(readFileSync(file, 'utf8'), file, overrides);
}

/** A bundled scenario run in-process on one backend, without the gap estimate (not under test here). */
export async function runOn(name: string, overrides: string[], backend: BackendChoice): Promise<RunResult> {
  return runScenario(load(name, overrides), { backend, gap: false });
}

/** Setup and initial density of a bundled scenario (for driving integrators directly). */
export function setupOf(name: string, overrides: string[]): { setup: Setup; rho: Float64Array } {
  const loaded = load(name, overrides);
  const setup = setUp(loaded);
  return { setup, rho: initialDensity(setup.grid, setup.scenario.initial, loaded) };
}

export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
}
