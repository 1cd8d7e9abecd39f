/**
 * The PDE side of `fpsolve simulate` for diffusion-matrix noise: the reversible runner refuses those
 * models (no closed-form π), so the densities at the report times come from the non-reversible run
 * (runMatrixScenario), in the shape simulate's comparison reads.
 */
import type { Grid } from '../../solvers/grid.js';
import { NumericalFault } from '../errors.js';
import type { LoadedScenario } from '../scenario/types.js';
import type { Snapshot } from '../run/types.js';
import { defaultEngine } from './engine.js';
import { runMatrixScenario } from './run.js';

export interface PdeForSimulate {
  grid: Grid;
  snapshots: Snapshot[];
  /** The reversible regime verdict; null for matrix noise, which has none. */
  regime: string | null;
  report: { integrator: { name: string }; steps: number; wallSeconds: number; status: string };
}

export async function matrixPdeForSimulate(loaded: LoadedScenario, times: readonly number[]): Promise<PdeForSimulate> {
  const run = await runMatrixScenario(loaded, defaultEngine(), { snapshots: times, gap: false });
  if (run.report.status !== 'ok') throw new NumericalFault(`the PDE run did not finish (status ${run.report.status}): ${run.report.error ?? ''}`);
  return { grid: run.grid, snapshots: run.snapshots ?? [], regime: null, report: run.report };
}
