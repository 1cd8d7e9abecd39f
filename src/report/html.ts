/**
 * report.html: one self-contained page (summary table + inline SVG figures) that works offline.
 * Nothing is fetched: no scripts, no external style sheets or fonts, and a Content-Security-Policy
 * that forbids loading anything, so the file shows the same on an air-gapped machine.
 */
import type { Figure } from '../plot/common.js';
import type { RateFit } from '../diagnostics/rates.js';
import type { RunReport } from './types.js';
import { reportNotes } from './html-notes.js';
import { formatSummary } from './summary.js';
import { criticalLimitRows } from '../estimators/critical-limit.js';
import { basinSummaryLines } from '../diagnostics/basins.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number | null | undefined, p = 4): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toPrecision(p));

/**
 * Makes a figure's ids unique in the page. vega numbers clip paths from 1 in every SVG it
 * renders, and ids are global in an HTML document: two inline figures would clip each other.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/<\?xml[^>]*\?>\s*/, '')
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

function rateCell(r: RateFit | null, refusal: string | undefined): string {
  if (!r) return `– no rate: ${refusal ?? 'too few points above round-off'}`;
  return `${fmt(r.value, 6)} over t ∈ [${fmt(r.window[0], 3)}, ${fmt(r.window[1], 3)}], r² = ${r.r2.toFixed(6)}${r.note ? ` (${r.note})` : ''}`;
}

/** λ₁ with the bound the text summary prints, or NOT CONVERGED (never a bare residual as an accuracy). */
function gapCell(g: NonNullable<RunReport['gap']>): string {
  const accuracy =
    g.converged === false ? 'NOT CONVERGED' : g.errorBounds?.[0] !== undefined ? `error ≤ ${fmt(g.errorBounds[0], 2)}` : `residual ${fmt(g.residuals[0], 2)}`;
  return `${fmt(g.value, 6)} (${accuracy}; ${g.method})`;
}

/** Rows of the summary table: [label, value] as plain text (escaped on output). */
export function summaryRows(r: RunReport): [string, string][] {
  const f = r.final;
  const rows: [string, string][] = [
    ['scenario', `${r.scenario.name} (${r.scenarioFile})`],
    ['status', r.status + (r.error ? ` — ${r.error}` : '')],
    ['regime', `${r.regime}: ${r.regimeReason}`],
    ['landscape', r.landscape.source],
    ['grid', `${r.cells.join(' × ')} (${r.grid.size} cells), h = ${r.grid.h.map((h) => fmt(h, 3)).join(', ')}`],
    ['integrator', `${r.integrator.description}; ${r.steps} steps${r.integrator.rejectedSteps ? ` (+${r.integrator.rejectedSteps} rejected)` : ''}`],
    ['backend', `${r.backend} ${r.precision}, ${r.device}${r.backendReason ? ` (${r.backendReason})` : ''}`],
    ['wall time', `${r.wallSeconds.toFixed(2)} s`],
    ['final time', fmt(f.t)],
    ['l1 (= 2·TV)', fmt(f.l1, 3)],
    ['KL(ρ|π)', fmt(f.kl, 3)],
    ['χ²', f.chi2 === null ? `1e${f.log10Chi2.toFixed(0)}` : fmt(f.chi2, 3)],
    ['E[f]', `${fmt(f.meanLoss, 6)} (E_π[f] = ${fmt(r.equilibrium.meanLoss, 6)})`],
    ['mass', f.mass.toPrecision(15)],
    ['rate, sqrt(χ²)', rateCell(r.rates.chi, r.rateRefusals?.chi)],
    ['rate, KL', rateCell(r.rates.kl, r.rateRefusals?.kl)],
    ['rate, E[f]', rateCell(r.rates.meanLoss, r.rateRefusals?.meanLoss)],
  ];
  if (r.regime !== 'converging') rows.push([`mass in {f < ${fmt(r.delta, 3)}}`, fmt(f.massBelowDelta, 4)]);
  if (r.walls) rows.push(['walls: mass in the outer cells', `π ${fmt(r.walls.piOuterMass, 3)}, beyond the box ≈ ${fmt(r.walls.piBeyondBox, 3)}; final ρ ${fmt(r.walls.rhoOuterMass, 3)}`]);
  for (const line of basinSummaryLines(r.basins)) {
    const [k, ...v] = line.trim().split(': ');
    rows.push([k, v.join(': ')]);
  }
  if (r.gap) rows.push([r.gap.label === 'spectral gap' ? 'spectral gap λ₁' : 'λ₁ (grid value)', gapCell(r.gap)]);
  if (r.gap?.doubt) rows.push(['λ₁ IN DOUBT', r.gap.doubt]);
  if (r.bounds?.muckenhoupt) rows.push(['Muckenhoupt bracket', `${fmt(r.bounds.muckenhoupt.lower, 4)} ≤ λ₁ ≤ ${fmt(r.bounds.muckenhoupt.upper, 4)}`]);
  if (r.criticalLimit) rows.push(...criticalLimitRows(r.criticalLimit));
  rows.push(['fpsolve', `${r.fpsolve}, ${r.createdAt}`]);
  return rows;
}

const STYLE = `
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1280px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { text-align: left; vertical-align: top; padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; }
th { white-space: nowrap; color: #555; font-weight: normal; }
.status-ok { color: #176b2c; } .status-bad { color: #a11; font-weight: bold; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
figure svg { max-width: 100%; height: auto; }
ul.notes { font-size: 0.9em; color: #444; }
pre.console { font-size: 0.8em; background: #f6f6f6; padding: 0.6em; overflow-x: auto; }`;

/**
 * The whole page. Figures appear in the order given. `extraNotes`: what the command printed
 * beside the report (e.g. why figures are missing), shown first among the notes.
 */
export function renderHtmlReport(report: RunReport, figures: readonly Figure[], extraNotes: readonly string[] = []): string {
  const title = `fpsolve: ${report.scenario.name}`;
  const rows = summaryRows(report)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td${k === 'status' ? ` class="${report.status === 'ok' ? 'status-ok' : 'status-bad'}"` : ''}>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  const noteList = [...extraNotes, ...reportNotes(report)];
  const notes = noteList.length ? `<h2 id="notes">Notes</h2>\n<ul class="notes">${noteList.map((n) => `<li>${escapeHtml(n)}</li>`).join('\n')}</ul>` : '';
  // The console summary verbatim: the page then holds every line the terminal showed.
  const consoleText = `<details><summary>Console summary (as <code>fpsolve run</code> prints it)</summary>\n<pre class="console">${escapeHtml(formatSummary(report))}</pre></details>`;
  const figs = figures
    .map((f) => `<figure id="figure-${escapeHtml(f.name)}">\n${scopeSvgIds(f.svg, `fig-${f.name}`)}\n<figcaption>${escapeHtml(f.title)} (figures/${escapeHtml(f.name)}.svg)</figcaption>\n</figure>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${report.scenario.description ? `<p>${escapeHtml(report.scenario.description)}</p>` : ''}
<h2>Summary</h2>
<table>
${rows}
</table>
${notes}
${consoleText}
${figures.length ? `<h2>Figures</h2>\n${figs}` : ''}
</body>
</html>
`;
}
