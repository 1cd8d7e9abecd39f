import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { writeCsv } from '../io/csv.js';
import { writeFieldBundle } from '../io/npy.js';
import type { RunResult } from '../run/run.js';
import { seriesTable, type SeriesPoint } from '../diagnostics/distances.js';
import { writeVti } from '../io/vti.js';
import type { Figure } from '../plot/common.js';

export const SERIES_COLUMNS: readonly (keyof SeriesPoint)[] = ['t', 'mass', 'minDensity', 'meanLoss', 'l1', 'kl', 'chi2', 'log10Chi2', 'massBelowDelta'];

/** report.json text; non-finite numbers are written as null (JSON has no NaN). */
export function reportJson(report: unknown): string {
  return JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/**
 * Writes report.json, series.csv, the final density and π with their grid axes (.npy + manifest).
 * Each file is written atomically; report.json goes last, so its presence means the run's
 * outputs are complete.
 */
export interface RunOutputOptions {
  /** Also write density.vti and pi.vti (VTK ImageData, cell data) for ParaView. */
  vti?: boolean;
  /** Figures to write as figures/<name>.svg. */
  figures?: readonly Figure[];
  /** report.html text to write. */
  html?: string;
}

/** density.vti and pi.vti: ρ(t_final) and π as cell data on the run's grid. */
export function writeVtiFields(outDir: string, result: RunResult): string[] {
  const grid = result.setup.grid;
  const origin = grid.lo.slice();
  const spacing = grid.h.slice();
  const out: string[] = [];
  for (const [name, field] of [
    ['density', result.density],
    ['pi', result.setup.problem.pi()],
  ] as const) {
    const path = join(outDir, `${name}.vti`);
    writeVti(path, field, grid.n.slice(), origin, spacing, name);
    out.push(path);
  }
  return out;
}

/** figures/<name>.svg, each atomically. */
export function writeFigures(outDir: string, figures: readonly Figure[]): string[] {
  if (figures.length === 0) return [];
  const dir = join(outDir, 'figures');
  mkdirSync(dir, { recursive: true });
  return figures.map((f) => {
    const path = join(dir, `${f.name}.svg`);
    writeFileAtomic(path, f.svg);
    return path;
  });
}

export function writeRunOutputs(outDir: string, result: RunResult, opts: RunOutputOptions = {}): string[] {
  mkdirSync(outDir, { recursive: true });
  const { report, density, setup } = result;
  const grid = setup.grid;
  const written: string[] = [];
  const csvPath = join(outDir, 'series.csv');
  // SERIES_COLUMNS, then meanLogLoss and one massNearZero_<k> column per zero-set component.
  const table = seriesTable(report.series);
  writeCsv(csvPath, table.columns, table.rows);
  written.push(csvPath);
  const axes = grid.n.map((_, k) => grid.centres(k));
  const meta = { t: report.final.t, scenario: report.scenario.name, regime: report.regime, status: report.status };
  written.push(...writeFieldBundle(outDir, 'density', density, grid.n.slice(), axes, { ...meta, quantity: 'rho(t_final)' }));
  written.push(...writeFieldBundle(outDir, 'pi', setup.problem.pi(), grid.n.slice(), axes, { ...meta, quantity: 'discrete invariant density pi (normalized on the grid)' }));
  if (opts.vti) written.push(...writeVtiFields(outDir, result));
  if (opts.figures) written.push(...writeFigures(outDir, opts.figures));
  if (opts.html !== undefined) {
    const htmlPath = join(outDir, 'report.html');
    writeFileAtomic(htmlPath, opts.html);
    written.push(htmlPath);
  }
  const reportPath = join(outDir, 'report.json');
  writeFileAtomic(reportPath, reportJson(report));
  written.push(reportPath);
  return written;
}
