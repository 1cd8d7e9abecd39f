/**
 * `fpsolve run` on a diffusion-matrix scenario: what executeRun (src/cli/commands/run.ts) hands a
 * matrix scenario to, and what the command does with the result (figures, outputs, stdout).
 */
import { InputError } from '../errors.js';
import { isMatrixNoise, type LoadedScenario } from '../scenario/types.js';
import type { PhaseInfo, ProgressInfo } from '../run/types.js';
import { reportJson } from '../report/write.js';
import { buildMatrixFigures } from '../plot/current.js';
import type { Figure } from '../plot/common.js';
import { runMatrixScenario } from './run.js';
import { defaultEngine } from './engine.js';
import { formatMatrixSummary, renderMatrixHtml, writeMatrixOutputs } from './write.js';
import type { MatrixRunResult } from './types.js';
import type { MemoryLimit } from '../resources/memory.js';

/** Diffusion-matrix noise (src/noise/): no closed-form π, solved by this path. */
export function isMatrixScenario(loaded: LoadedScenario): boolean {
  return isMatrixNoise(loaded.scenario.noise);
}

export function isMatrixResult(r: unknown): r is MatrixRunResult {
  return typeof r === 'object' && r !== null && (r as { kind?: unknown }).kind === 'diffusion-matrix';
}

/** The run flags a matrix run honours; the others are refused before any work (exit 2), never ignored. */
export interface MatrixCliFlags {
  gap?: boolean;
  maxWall?: number;
  vti?: boolean;
  zarr?: boolean;
  snapshots?: boolean;
  checkpoints?: boolean;
  stopAfter?: number;
  resume?: string;
  backend?: string;
  maxMemory?: MemoryLimit;
}

export async function executeMatrixRun(
  loaded: LoadedScenario,
  o: MatrixCliFlags,
  ctl: { signal?: AbortSignal; onProgress?: (p: ProgressInfo) => void; onPhase?: (p: PhaseInfo) => void },
): Promise<MatrixRunResult> {
  const unsupported: [boolean, string][] = [
    [Boolean(o.vti), '--vti'],
    [Boolean(o.zarr || o.snapshots), '--zarr/--snapshots'],
    [Boolean(o.checkpoints) || o.stopAfter !== undefined || o.resume !== undefined, '--checkpoints/--stop-after/--resume'],
    [o.backend !== undefined && o.backend !== 'auto' && o.backend !== 'cpu', `--backend ${o.backend ?? ''}`],
  ];
  for (const [bad, flag] of unsupported) {
    if (bad) throw new InputError(`${flag} is not available for diffusion-matrix noise (noise.model ${loaded.scenario.noise.model}); see docs/nonreversible.md`, { file: loaded.file, field: 'noise.model' });
  }
  return runMatrixScenario(loaded, defaultEngine(), { signal: ctl.signal, onProgress: ctl.onProgress, onPhase: ctl.onPhase, maxWallSeconds: o.maxWall, gap: o.gap !== false, ...(o.maxMemory ? { memoryLimit: o.maxMemory } : {}) });
}

/** Figures, files and stdout of a finished matrix run (the reversible branch of the run command does the same with its own). */
export async function finishMatrixRun(result: MatrixRunResult, o: { json?: boolean; quiet?: boolean; plots?: boolean; html?: boolean }, out: string | undefined): Promise<void> {
  let figures: Figure[] = [];
  const figureNotes: string[] = [];
  if (o.plots || o.html) {
    try {
      figures = await buildMatrixFigures(result);
    } catch (e) {
      // A plotting failure must not cost the run's numbers.
      figureNotes.push(`figures not written: ${(e as Error).message}`);
      process.stderr.write(`fpsolve: ${figureNotes[0]}\n`);
    }
  }
  const written = out !== undefined ? await writeMatrixOutputs(out, result, { figures, ...(o.html ? { html: renderMatrixHtml(result.report, figures, figureNotes) } : {}) }) : [];
  const wrote = written.length ? `wrote:\n${written.map((p) => `  ${p}`).join('\n')}\n` : '';
  if (o.json) {
    process.stdout.write(reportJson(result.report));
    if (!o.quiet) process.stderr.write(wrote);
  } else {
    process.stdout.write(formatMatrixSummary(result.report) + '\n' + wrote);
  }
  const r = result.report;
  if (r.status !== 'ok' && r.error) process.stderr.write(`fpsolve: ${r.status}: ${r.error}\n`);
}
