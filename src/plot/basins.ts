/**
 * Basin figures (issue #17 item 1): the mass in each basin of attraction against t (with π's
 * masses as dashed levels when π is integrable), and, for each valley of minimizers, the
 * marginal of the final ρ along it against π's.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { SeriesPoint } from '../diagnostics/distances.js';
import type { BasinsReport } from '../diagnostics/basins.js';
import { BASE_CONFIG, MARK, PLOT_HEIGHT, PLOT_WIDTH, fmtNum } from './common.js';

const label = (b: BasinsReport['basins'][number]): string => `basin ${b.id} at (${b.x.map((v) => fmtNum(v, 3)).join(', ')})`;

/** Rows of the basin-mass figure: ρ's mass per basin at every report time, π's as a level over the run. */
export function basinMassRows(series: readonly SeriesPoint[], basins: BasinsReport): { t: number; mass: number; basin: string; kind: 'ρ' | 'π' }[] {
  const rows: { t: number; mass: number; basin: string; kind: 'ρ' | 'π' }[] = [];
  basins.basins.forEach((b, k) => {
    for (const p of series) {
      const m = p.massBasin?.[k];
      if (typeof m === 'number' && Number.isFinite(m)) rows.push({ t: p.t, mass: m, basin: label(b), kind: 'ρ' });
    }
    if (b.piMass !== null && series.length > 0) {
      for (const t of [series[0].t, series[series.length - 1].t]) rows.push({ t, mass: b.piMass, basin: label(b), kind: 'π' });
    }
  });
  return rows;
}

export function basinMassSpec(series: readonly SeriesPoint[], basins: BasinsReport, title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    config: BASE_CONFIG,
    data: { values: basinMassRows(series, basins) },
    mark: { type: 'line', name: MARK.series, point: false },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 't' },
      y: { field: 'mass', type: 'quantitative', title: 'mass in basin', scale: { domain: [0, 1] } },
      color: { field: 'basin', type: 'nominal', title: 'basin' },
      strokeDash: { field: 'kind', type: 'nominal', title: 'density', scale: { domain: ['ρ', 'π'], range: [[1, 0], [6, 4]] } },
    },
  } as TopLevelSpec;
}

/** Rows of a valley's marginal: mass per unit arc length of the final ρ and of π. */
export function valleyRows(v: BasinsReport['valleys'][number]): { s: number; density: number; kind: string }[] {
  if (!v.binCentres || !v.finalMass || !v.binWidth) return [];
  const w = v.binWidth;
  const rows = v.binCentres.map((s, k) => ({ s, density: v.finalMass![k] / w, kind: 'final ρ' }));
  if (v.piMass) rows.push(...v.binCentres.map((s, k) => ({ s, density: v.piMass![k] / w, kind: 'π' })));
  return rows;
}

export function valleySpec(v: BasinsReport['valleys'][number], title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    config: BASE_CONFIG,
    data: { values: valleyRows(v) },
    mark: { type: 'line', name: MARK.series },
    encoding: {
      x: { field: 's', type: 'quantitative', title: `arc length along the valley from (${(v.ends?.[0] ?? []).map((x) => fmtNum(x, 3)).join(', ')})` },
      y: { field: 'density', type: 'quantitative', title: 'mass per unit length' },
      color: { field: 'kind', type: 'nominal', title: 'density' },
    },
  } as TopLevelSpec;
}

/** The basin figures of a run: 'basins' (when there are two or more basins) and 'valley-<k>' per valley with a marginal. */
export function basinFigureSpecs(name: string, series: readonly SeriesPoint[], basins: BasinsReport | undefined): { name: string; title: string; spec: TopLevelSpec }[] {
  if (!basins) return [];
  const out: { name: string; title: string; spec: TopLevelSpec }[] = [];
  if (basins.basins.length >= 2) {
    const title = `${name}: mass per basin of attraction against t${basins.basins.some((b) => b.piMass !== null) ? " (dashed: π's)" : ''}`;
    out.push({ name: 'basins', title, spec: basinMassSpec(series, basins, title) });
  }
  basins.valleys.forEach((v, k) => {
    if (!v.binCentres) return;
    const title = `${name}: marginal along the valley of basin ${v.basin} (length ${fmtNum(v.length ?? NaN, 3)}), final ρ${v.piMass ? " and π's" : ''}`;
    out.push({ name: `valley-${k + 1}`, title, spec: valleySpec(v, title) });
  });
  return out;
}
