import type { RunReport } from './types.js';
import type { RateFit } from '../diagnostics/rates.js';
import { formatBoundsLines, formatGapLines } from '../estimators/format.js';
import { formatCriticalLimitLines } from '../estimators/critical-limit.js';
import { basinSummaryLines } from '../diagnostics/basins.js';

const fmt = (v: number | null | undefined, p = 4): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toPrecision(p));

function rateLine(name: string, r: RateFit | null, refusal: string | undefined): string {
  if (!r) return `  ${name.padEnd(9)} –  no rate: ${refusal ?? 'too few points above round-off'}`;
  return `  ${name.padEnd(9)} ${fmt(r.value, 6)}  over t ∈ [${fmt(r.window[0], 3)}, ${fmt(r.window[1], 3)}], r² = ${r.r2.toFixed(6)}${r.note ? '  (see note)' : ''}`;
}

function wallsLine(r: RunReport): string {
  const w = r.walls;
  if (!w) return '';
  const e = (v: number | null): string => (v === null ? '–' : v.toExponential(2));
  const flag = [w.piOuterMass, w.piBeyondBox, w.rhoOuterMass].some((v) => v !== null && v > w.threshold) || w.tailNote ? '  (above ' + w.threshold + ': see note)' : '';
  const beyond = w.piBeyondBox !== null ? `, beyond the box ≈ ${e(w.piBeyondBox)}${w.tailExponent !== null ? ` (tail ~ r^−${w.tailExponent.toPrecision(3)})` : ''}` : '';
  const pi = w.piOuterMass !== null ? `π ${e(w.piOuterMass)}${beyond}; ` : '';
  return `walls: mass in the outer cells: ${pi}final ρ ${e(w.rhoOuterMass)}${flag}`;
}

/** The short text summary `fpsolve run` prints. */
export function formatSummary(r: RunReport): string {
  const f = r.final;
  const lines = [
    `${r.scenario.name}: ${r.status === 'ok' ? 'done' : r.status.toUpperCase()}${r.error ? ` — ${r.error}` : ''}`,
    `  grid ${r.cells.join('×')} (${r.grid.size} cells), ${r.backend} ${r.precision}, ${r.integrator.description}`,
    `  ${r.steps} steps${r.integrator.rejectedSteps ? ` (+${r.integrator.rejectedSteps} rejected)` : ''}${r.integrator.linearIterations ? `, ${r.integrator.linearIterations} CG iterations` : ''}, wall ${r.wallSeconds.toFixed(2)} s`,
    `regime: ${r.regime}`,
    `  ${r.regimeReason}`,
    `final (t = ${fmt(f.t)}): l1 ${fmt(f.l1, 3)}, kl ${fmt(f.kl, 3)}, chi2 ${f.chi2 === null ? `1e${f.log10Chi2.toFixed(0)}` : fmt(f.chi2, 3)}, E[f] ${fmt(f.meanLoss, 6)} (E_π[f] ${fmt(r.equilibrium.meanLoss, 6)}), mass ${f.mass.toPrecision(15)}`,
    r.regime !== 'converging' ? `  mass in {f < ${fmt(r.delta, 3)}}: ${fmt(f.massBelowDelta, 4)}` : '',
    'rates (decay per unit time):',
    rateLine('chi', r.rates.chi, r.rateRefusals?.chi),
    rateLine('kl', r.rates.kl, r.rateRefusals?.kl),
    rateLine('meanLoss', r.rates.meanLoss, r.rateRefusals?.meanLoss),
    wallsLine(r),
    ...(r.criticalLimit ? formatCriticalLimitLines(r.criticalLimit) : []),
    ...basinSummaryLines(r.basins),
    ...(r.gap ? formatGapLines(r.gap) : []),
    ...(r.bounds ? formatBoundsLines(r.bounds, r.gap?.value ?? null) : []),
    ...[...(r.gap?.notes ?? []), ...(r.bounds?.notes ?? []), ...(r.criticalLimit?.notes ?? [])].map((n) => `note: ${n}`),
    ...r.notes.map((n) => `note: ${n}`),
  ];
  return lines.filter((l) => l !== '').join('\n');
}
