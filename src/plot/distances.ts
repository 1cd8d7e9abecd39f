/**
 * Convergence figure: l1, KL, sqrt(χ²) and E[f] against t on a log axis, with the fitted rate
 * lines over their fit windows and, when the spectral gap is known, the line e^{−λ₁ t} that
 * sqrt(χ²) = ‖ρ/π − 1‖_{L²(π)} must eventually follow.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { SeriesPoint } from '../diagnostics/distances.js';
import type { RateFit } from '../diagnostics/rates.js';
import type { GapReport } from '../report/types.js';
import { BASE_CONFIG, MARK, PLOT_HEIGHT, PLOT_WIDTH, fmtNum, logPlottable } from './common.js';

/** The part of a run report this figure reads. */
export interface DistancesInput {
  series: readonly SeriesPoint[];
  rates: { chi: RateFit | null; kl: RateFit | null; meanLoss: RateFit | null };
  gap?: Pick<GapReport, 'value' | 'label'> | null;
  regime: string;
  equilibrium: { meanLoss: number };
  title?: string;
}

interface Row {
  t: number;
  y: number;
  series: string;
  kind: 'measured' | 'fit';
}

/** sqrt(χ²), also when χ² itself overflowed (then from log10Chi2). */
function sqrtChi2(p: SeriesPoint): number | null {
  if (p.chi2 !== null) return Math.sqrt(p.chi2);
  return p.log10Chi2 / 2 < 307 ? 10 ** (p.log10Chi2 / 2) : null;
}

/** Least-squares intercept of ln q + λt over the fit window, so the line sits on the data it was fitted to. */
function fitLine(ts: readonly number[], q: readonly (number | null)[], fit: RateFit, label: string): Row[] {
  let s = 0;
  let c = 0;
  for (let k = 0; k < ts.length; k++) {
    const v = logPlottable(q[k]);
    if (v === null || ts[k] < fit.window[0] || ts[k] > fit.window[1]) continue;
    s += Math.log(v) + fit.value * ts[k];
    c++;
  }
  if (c === 0) return [];
  const b = s / c;
  return fit.window.map((t) => ({ t, y: Math.exp(b - fit.value * t), series: label, kind: 'fit' as const })).filter((r) => logPlottable(r.y) !== null);
}

/** The curves this figure draws, in legend order: measured quantities, then fitted lines. */
export function distanceRows(input: DistancesInput): Row[] {
  const collapsing = input.regime !== 'converging';
  const ts = input.series.map((p) => p.t);
  const sq = input.series.map(sqrtChi2);
  const eq = input.equilibrium.meanLoss;
  const loss = input.series.map((p) => (collapsing ? p.meanLoss : Math.abs(p.meanLoss - eq)));
  const lossLabel = collapsing ? 'E[f]' : '|E[f] − E_π[f]|';
  const measured: [string, (number | null)[]][] = [
    ['l1', input.series.map((p) => p.l1)],
    ['kl', input.series.map((p) => p.kl)],
    ['sqrt(chi2)', sq],
    [lossLabel, loss],
  ];
  const rows: Row[] = [];
  for (const [label, q] of measured) {
    q.forEach((v, k) => {
      const y = logPlottable(v);
      if (y !== null) rows.push({ t: ts[k], y, series: label, kind: 'measured' });
    });
  }
  const { chi, kl, meanLoss } = input.rates;
  if (chi) rows.push(...fitLine(ts, sq, chi, `fit sqrt(chi2): rate ${fmtNum(chi.value, 4)}`));
  if (kl) rows.push(...fitLine(ts, input.series.map((p) => p.kl), kl, `fit kl: rate ${fmtNum(kl.value, 4)}`));
  if (meanLoss) rows.push(...fitLine(ts, loss, meanLoss, `fit ${lossLabel}: rate ${fmtNum(meanLoss.value, 4)}`));
  const gap = input.gap;
  if (gap && Number.isFinite(gap.value) && gap.value > 0) {
    // Anchored where the chi fit starts (the exponential tail), else at the first measured point.
    const tA = chi ? chi.window[0] : ts[0];
    const kA = ts.findIndex((t, k) => t >= tA && logPlottable(sq[k]) !== null);
    if (kA >= 0) {
      const yA = sq[kA]!;
      const tEnd = ts[ts.length - 1];
      const label = `${gap.label === 'spectral gap' ? 'gap' : 'grid λ₁'}: e^(−${fmtNum(gap.value, 4)} t)`;
      for (const t of [ts[kA], tEnd]) {
        const y = logPlottable(yA * Math.exp(-gap.value * (t - ts[kA])));
        if (y !== null) rows.push({ t, y, series: label, kind: 'fit' });
      }
    }
  }
  return rows;
}

export function distancesSpec(input: DistancesInput): TopLevelSpec {
  const rows = distanceRows(input);
  const labels = [...new Set(rows.map((r) => r.series))];
  return {
    title: input.title ?? `distance to π and E[f] against t (regime: ${input.regime})`,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    config: BASE_CONFIG,
    data: { values: rows },
    name: MARK.series,
    mark: { type: 'line', strokeWidth: 1.6, clip: true },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 't' },
      y: { field: 'y', type: 'quantitative', title: 'value (log scale)', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: labels, scheme: 'tableau10' }, sort: labels },
      strokeDash: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['measured', 'fit'], range: [[1, 0], [6, 3]] } },
    },
  } as unknown as TopLevelSpec;
}
