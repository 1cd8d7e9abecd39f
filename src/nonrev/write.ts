/**
 * The outputs of a diffusion-matrix run (docs/nonreversible.md): the --out layout of a reversible
 * run (report.json, series.csv, density.npy + axes, figures/, report.html) with steady.npy (the
 * computed steady state, in place of pi.npy) and current.npy (its current, shape [...cells, d]);
 * written through the same staging and swap as a reversible run's (src/report/write.ts).
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { writeCsv } from '../io/csv.js';
import { writeFieldBundle, writeNpy } from '../io/npy.js';
import { seriesTable } from '../diagnostics/distances.js';
import { reportJson, writeFigures, writeStaged } from '../report/write.js';
import { escapeHtml, scopeSvgIds } from '../report/html.js';
import type { Figure } from '../plot/common.js';
import type { MatrixRunReport, MatrixRunResult } from './types.js';

export interface MatrixOutputOptions {
  figures?: readonly Figure[];
  html?: string;
}

export async function writeMatrixOutputs(outDir: string, result: MatrixRunResult, opts: MatrixOutputOptions = {}): Promise<string[]> {
  return writeStaged(outDir, async (stage) => writeMatrixFiles(stage, result, opts));
}

function writeMatrixFiles(dir: string, result: MatrixRunResult, opts: MatrixOutputOptions): string[] {
  const { report, grid } = result;
  const written: string[] = [];
  const table = seriesTable(report.series);
  const csv = join(dir, 'series.csv');
  writeCsv(csv, table.columns, table.rows);
  written.push(csv);
  const axes = grid.n.map((_, k) => grid.centres(k));
  const shape = grid.n.slice();
  const meta = { t: report.final.t, scenario: report.scenario.name, status: report.status, kind: report.kind };
  written.push(...writeFieldBundle(dir, 'density', result.density, shape, axes, { ...meta, quantity: 'rho(t_final)' }));
  written.push(...writeFieldBundle(dir, 'steady', result.steady, shape, axes, { ...meta, quantity: 'computed steady state rho_ss (A rho = 0, normalized on the grid)' }));
  const cur = join(dir, 'current.npy');
  writeNpy(cur, result.current, [...shape, grid.dim]);
  written.push(cur);
  if (opts.figures) written.push(...writeFigures(dir, opts.figures));
  if (opts.html !== undefined) {
    const p = join(dir, 'report.html');
    writeFileAtomic(p, opts.html);
    written.push(p);
  }
  const rp = join(dir, 'report.json');
  writeFileAtomic(rp, reportJson(report));
  written.push(rp);
  return written;
}

const fmt = (v: number | null | undefined, p = 4): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toPrecision(p));

/** The scheme's choices that bear on accuracy: offsets, where D was relaxed onto the stencil, where drift went upwind. */
function schemeLine(r: MatrixRunReport): string {
  const s = r.scheme;
  const relax = s.relaxation && s.relaxation.cells > 0 ? `, D relaxed by up to ${fmt(s.relaxation.max, 2)}·tr D in ${s.relaxation.cells} cells` : '';
  const upwind = s.upwindCells ? `, drift partly upwind in ${s.upwindCells} cells` : '';
  return `  scheme: ${s.offsets.length} lattice offsets${relax}${upwind}`;
}

/** The text summary `fpsolve run` prints for a matrix run. */
export function formatMatrixSummary(r: MatrixRunReport): string {
  const f = r.final;
  const ss = r.steadyState;
  const nr = r.nonReversible;
  const rate = (name: string, x: MatrixRunReport['rates']['chi'], why?: string): string =>
    x ? `  ${name.padEnd(9)} ${fmt(x.value, 6)}  over t ∈ [${fmt(x.window[0], 3)}, ${fmt(x.window[1], 3)}], r² = ${x.r2.toFixed(6)}` : `  ${name.padEnd(9)} –  no rate: ${why ?? 'too few points above round-off'}`;
  const iso = nr.isotropic;
  const lines = [
    `${r.scenario.name}: ${r.status === 'ok' ? 'done' : r.status.toUpperCase()}${r.error ? ` — ${r.error}` : ''}`,
    `  grid ${r.cells.join('×')} (${r.grid.size} cells), noise ${r.noise.model}: ${r.noise.description}`,
    `  ${r.integrator.description}; ${r.steps} steps${r.integrator.linearIterations ? `, ${r.integrator.linearIterations} Krylov iterations` : ''}, wall ${r.wallSeconds.toFixed(2)} s`,
    schemeLine(r),
    `steady state: ${ss.method}, ${ss.iterations} iterations, residual ${fmt(ss.residual, 2)} (balance ${fmt(ss.balance, 2)}), E[f] ${fmt(ss.meanLoss, 6)}`,
    ss.massNearZero.length > 0 ? `  mass near each zero of f: ${ss.massNearZero.map((m) => fmt(m, 4)).join(', ')}` : '',
    `non-reversible: max |J| ${fmt(nr.currentMax, 4)}${nr.currentMaxAt ? ` at (${nr.currentMaxAt.map((v) => +v.toPrecision(4)).join(', ')})` : ''}, ∫|J| ${fmt(nr.currentL1, 4)}, entropy production ${fmt(nr.entropyProduction, 4)}`,
    iso ? `  vs isotropic π (ησ = ${iso.etaSigma}): ${iso.integrable ? `L1 ${fmt(iso.l1, 3)}, KL ${fmt(iso.kl, 3)}` : iso.note}` : '',
    `  vs best e^{−f/T}: ${nr.gibbs.T !== null ? `T = ${fmt(nr.gibbs.T, 4)}, L1 ${fmt(nr.gibbs.l1, 3)}, KL ${fmt(nr.gibbs.kl, 3)}` : (nr.gibbs.note ?? 'no fit')}`,
    `final (t = ${fmt(f.t)}), against the steady state: l1 ${fmt(f.l1, 3)}, kl ${fmt(f.kl, 3)}, chi2 ${f.chi2 === null ? `1e${f.log10Chi2.toFixed(0)}` : fmt(f.chi2, 3)}, E[f] ${fmt(f.meanLoss, 6)}, mass ${f.mass.toPrecision(15)}`,
    'rates (decay per unit time):',
    rate('chi', r.rates.chi, r.rateRefusals?.chi),
    rate('kl', r.rates.kl, r.rateRefusals?.kl),
    rate('meanLoss', r.rates.meanLoss, r.rateRefusals?.meanLoss),
    r.gap ? `gap: μ₁ = ${fmt(r.gap.re, 6)}${r.gap.im !== 0 ? ` ± ${fmt(Math.abs(r.gap.im), 6)}i` : ''} (decay rate ${fmt(r.gap.value, 6)}), residual ${fmt(r.gap.residual, 2)}` : '',
    ...(r.gap?.notes ?? []).map((n) => `note: ${n}`),
    ...nr.notes.map((n) => `note: ${n}`),
    ...r.notes.map((n) => `note: ${n}`),
  ];
  return lines.filter((l) => l !== '').join('\n');
}

/** report.html of a matrix run: the summary and the figures, offline (no scripts, nothing fetched). */
export function renderMatrixHtml(r: MatrixRunReport, figures: readonly Figure[], notes: readonly string[] = []): string {
  const figs = figures.map((f, k) => `<figure><figcaption>${escapeHtml(f.title)}</figcaption>${scopeSvgIds(f.svg, `f${k}`)}</figure>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(r.scenario.name)}: fpsolve run (diffusion matrix)</title>
<style>body{font-family:sans-serif;max-width:1280px;margin:1em auto;padding:0 1em}pre{white-space:pre-wrap}figure{margin:1em 0}</style></head>
<body><h1>${escapeHtml(r.scenario.name)}</h1>
<pre>${escapeHtml(formatMatrixSummary(r))}</pre>
${notes.map((n) => `<p>${escapeHtml(n)}</p>`).join('\n')}
${figs}
</body></html>
`;
}
