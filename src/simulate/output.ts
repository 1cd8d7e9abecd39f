/** Writes the outputs of `fpsolve simulate`; every file atomically, report.json last. */
import { mkdirSync, rmSync } from 'node:fs';
import { asOutputError } from '../errors.js';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { writeNpy } from '../io/npy.js';
import { reportJson } from '../report/write.js';
import type { SimulateResult } from './compare.js';
import { comparisonFigure } from './plot.js';

/**
 * report.json; pde.npy and <method>.npy (densities at the report times, shape (times, ...cells));
 * times.npy; compare.svg (unless plots are off). Returns the paths written.
 */
export async function writeSimulateOutputs(outDir: string, result: SimulateResult, opts: { plots?: boolean } = {}): Promise<string[]> {
  try {
    mkdirSync(outDir, { recursive: true });
    // report.json vouches for the files beside it: remove an earlier run's before writing any new
    // file, so a write that fails part way (disk full) never leaves it beside this run's files.
    rmSync(join(outDir, 'report.json'), { force: true });
  } catch (e) {
    throw asOutputError(e, join(outDir, 'report.json'));
  }
  const { grid, report } = result;
  const shape = [report.times.length, ...grid.n];
  const written: string[] = [];
  const npy = (name: string, data: Float64Array, sh: readonly number[]): void => {
    const path = join(outDir, name);
    writeNpy(path, data, sh);
    written.push(path);
  };
  npy('times.npy', Float64Array.from(report.times), [report.times.length]);
  npy('pde.npy', result.pde, shape);
  for (const m of report.methods) npy(`${m.method}.npy`, result.histograms[m.method]!, shape);
  if (opts.plots !== false) {
    const path = join(outDir, 'compare.svg');
    writeFileAtomic(path, await comparisonFigure(result));
    written.push(path);
  }
  const path = join(outDir, 'report.json');
  writeFileAtomic(path, reportJson(report));
  written.push(path);
  return written;
}
