import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario, type RunResult } from '../../src/run/run.js';
import type { LoadedScenario } from '../../src/scenario/types.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SCENARIOS = join(import.meta.dirname, '..', '..', 'scenarios');

/** A bundled scenario loaded with `--set`-style overrides. */
export function loadBundled(name: string, overrides: string[] = []): LoadedScenario {
  const file = join(SCENARIOS, `${name}.yaml`);
  return parseScenarioText(readFileSync(file, 'utf8'), file, overrides);
}

/** Runs a bundled scenario in-process with `--set`-style overrides. */
export async function runBundled(name: string, overrides: string[] = []): Promise<RunResult> {
  return runScenario(loadBundled(name, overrides));
}

/** Σ ρ_i g(x_i) |K| over a 1-D grid (cell-centre rule). */
export function moment1d(rho: Float64Array, lo: number, h: number, g: (x: number) => number): number {
  let s = 0;
  for (let i = 0; i < rho.length; i++) s += rho[i] * g(lo + (i + 0.5) * h);
  return s * h;
}
