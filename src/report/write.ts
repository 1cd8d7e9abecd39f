import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { asOutputError, OutputError } from '../errors.js';
import { fsyncDir, writeFileAtomic } from '../io/atomic.js';
import { writeCsv } from '../io/csv.js';
import { writeFieldBundle } from '../io/npy.js';
import type { RunResult } from '../run/types.js';
import { seriesTable, type SeriesPoint } from '../diagnostics/distances.js';
import { writeVti } from '../io/vti.js';
import { writeRunZarr } from '../io/density-zarr.js';
import type { Figure } from '../plot/common.js';

export const SERIES_COLUMNS: readonly (keyof SeriesPoint)[] = ['t', 'mass', 'minDensity', 'meanLoss', 'l1', 'kl', 'chi2', 'log10Chi2', 'massBelowDelta'];

/** report.json text; non-finite numbers are written as null (JSON has no NaN). */
export function reportJson(report: unknown): string {
  return JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

export interface RunOutputOptions {
  /** Also write density.vti and pi.vti (VTK ImageData, cell data) for ParaView. */
  vti?: boolean;
  /** Figures to write as figures/<name>.svg. */
  figures?: readonly Figure[];
  /** report.html text to write. */
  html?: string;
  /** Also write density.zarr (docs/outputs.md); snapshots: ρ at every snapshot the run kept, not only the final one. */
  zarr?: { snapshots: boolean };
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
  // writeFileAtomic creates figures/ (and reports a failure as an OutputError).
  const dir = join(outDir, 'figures');
  return figures.map((f) => {
    const path = join(dir, `${f.name}.svg`);
    writeFileAtomic(path, f.svg);
    return path;
  });
}

/** Names of files an earlier run may have left in an output directory (figures/ aside). */
const RUN_OUTPUT = /^(series\.csv|report\.json|report\.html|density\.zarr|current\.npy|(density|pi|steady)(\.npy|\.json|\.vti|-axis\d+\.npy))$/;

/** Prefix of the staging directory inside --out; starts with a dot so that globs skip it. */
export const STAGING_PREFIX = '.fpsolve-staging-';

/**
 * Writes the run's outputs into `outDir` so that they are never mixed with an earlier run's:
 * every file is first written into a staging directory inside `outDir` (same filesystem, so the
 * moves below are renames). If that fails (disk full), the staging directory is removed and the
 * earlier run's outputs are left as they were, complete. Only when everything is staged is the
 * old report.json removed, the old outputs the new run does not produce removed, and the new
 * files renamed into place, report.json last: at every moment either no report.json exists or
 * the files beside it are its run's.
 * @throws OutputError (exit 74) naming the file that could not be written.
 */
export async function writeRunOutputs(outDir: string, result: RunResult, opts: RunOutputOptions = {}): Promise<string[]> {
  return writeStaged(outDir, (stage) => writeRunFiles(stage, result, opts));
}

/** writeRunOutputs for any run's files (a diffusion-matrix run's, src/nonrev/write.ts): `write` fills the staging directory, report.json among them. */
export async function writeStaged(outDir: string, write: (stage: string) => Promise<string[]>): Promise<string[]> {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw asOutputError(e, outDir);
  }
  removeDeadStaging(outDir);
  let stage: string;
  try {
    // Host and pid in the name: a later run can tell a killed run's staging from a live one's.
    stage = mkdtempSync(join(outDir, `${STAGING_PREFIX}${hostname()}-${process.pid}-`));
  } catch (e) {
    throw asOutputError(e, outDir);
  }
  try {
    const staged = (await write(stage)).map((p) => relative(stage, p));
    return swapInto(outDir, stage, staged);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * A run killed (kill -9, OOM) while writing leaves its staging directory, possibly large; the next
 * run into the same directory removes those of processes on this host that no longer exist.
 * Another host's, or a live process's, are left alone: that run may still be writing.
 */
function removeDeadStaging(outDir: string): void {
  const mine = `${STAGING_PREFIX}${hostname()}-`;
  for (const name of readdirSync(outDir)) {
    if (!name.startsWith(mine)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(mine.length))?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue;
    } catch (e) {
      // EPERM: alive, someone else's.
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    rmSync(join(outDir, name), { recursive: true, force: true });
  }
}

/** Moves the staged files (paths relative to `stage`, report.json among them) into `outDir`. */
function swapInto(outDir: string, stage: string, staged: readonly string[]): string[] {
  const fresh = new Set(staged);
  const move = (rel: string): string => {
    const to = join(outDir, rel);
    try {
      mkdirSync(dirname(to), { recursive: true });
      renameSync(join(stage, rel), to);
    } catch (e) {
      throw asOutputError(e, to);
    }
    return to;
  };
  // Only a store is removed as a tree: a directory the user named like a file output is refused, not emptied.
  const drop = (path: string, tree = false): void => {
    try {
      if (tree) rmSync(path, { recursive: true });
      else unlinkSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw asOutputError(e, path);
    }
  };
  // Nothing is removed before every destination is known to be movable into: a sub-directory the
  // run writes into (figures/) that exists as a file, a link (into /proc, say) or a device would fail
  // part way and leave the earlier run's outputs half replaced.
  for (const rel of staged) {
    for (let dir = dirname(rel); dir !== '.' && dir !== ''; dir = dirname(dir)) {
      const at = join(outDir, dir);
      let st;
      try {
        st = lstatSync(at);
      } catch {
        continue; // absent: created by the move
      }
      if (!st.isDirectory()) throw new OutputError(at, `exists and is not a directory (${st.isSymbolicLink() ? 'a symbolic link' : 'a file or device'}); the earlier outputs were left as they were`);
    }
  }
  drop(join(outDir, 'report.json'));
  // A directory (density.zarr) cannot be renamed over an earlier one: that goes first, fresh or not.
  for (const name of readdirSync(outDir)) if (RUN_OUTPUT.test(name) && (!fresh.has(name) || name.endsWith('.zarr'))) drop(join(outDir, name), name.endsWith('.zarr'));
  const figDir = join(outDir, 'figures');
  if (existsSync(figDir) && statSync(figDir).isDirectory()) {
    for (const name of readdirSync(figDir)) if (name.endsWith('.svg') && !fresh.has(`figures/${name}`)) drop(join(figDir, name));
  }
  const written = staged.filter((r) => r !== 'report.json').map(move);
  written.push(move('report.json'));
  fsyncDir(outDir);
  return written;
}


async function writeRunFiles(outDir: string, result: RunResult, opts: RunOutputOptions): Promise<string[]> {
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
  if (opts.zarr) written.push(await writeRunZarr(outDir, result, opts.zarr));
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
