/**
 * Figures of `fpsolve simulate`: PDE densities as lines with the Monte-Carlo histograms as points
 * of the same colour, one colour per report time (1-D), or the marginals along each axis (2-D, 3-D).
 */
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from '../plot/vega.js';
import type { SimulateResult } from './compare.js';

/** Report times a figure shows at most (evenly picked, always the last). */
const MAX_CURVES = 5;

function pickTimes(n: number): number[] {
  if (n <= MAX_CURVES) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: MAX_CURVES }, (_, j) => Math.round(((j + 1) * n) / MAX_CURVES) - 1);
}

interface Row {
  axis: number;
  x: number;
  density: number;
  t: string;
  source: string;
}

function layerSpec(axis: number, xTitle: string, title: string): Record<string, unknown> {
  return {
    title,
    width: 520,
    height: 300,
    // One data set for all panels, filtered per axis: vega-lite merges inline data sets of
    // sibling panels whose shape it thinks equal, which drew one panel's rows in both.
    transform: [{ filter: `datum.axis === ${axis}` }],
    layer: [
      {
        name: `pde_${axis}`,
        transform: [{ filter: "datum.source === 'PDE'" }],
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: xTitle },
          y: { field: 'density', type: 'quantitative', title: 'density' },
          color: { field: 't', type: 'nominal', title: 't', sort: null },
        },
      },
      {
        name: `mc_${axis}`,
        transform: [{ filter: "datum.source !== 'PDE'" }],
        mark: { type: 'point', size: 8, filled: true, opacity: 0.6 },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'density', type: 'quantitative' },
          color: { field: 't', type: 'nominal', sort: null },
          shape: { field: 'source', type: 'nominal', title: 'Monte Carlo' },
        },
      },
    ],
  };
}

/** One SVG: 1-D densities, or marginals side by side. */
export async function comparisonFigure(result: SimulateResult): Promise<string> {
  const { grid, report, pde, histograms } = result;
  const picks = pickTimes(report.times.length);
  const axisNames = 'data' in report.scenario.landscape ? report.scenario.landscape.data.grid : ['x', 'y', 'z'];
  const panels: Record<string, unknown>[] = [];
  const rows: Row[] = [];
  for (let k = 0; k < grid.dim; k++) {
    const centres = grid.centres(k);
    for (const r of picks) {
      const label = String(+report.times[r]!.toPrecision(4));
      if (grid.dim === 1) {
        const slice = pde.subarray(r * grid.size, (r + 1) * grid.size);
        centres.forEach((x, i) => rows.push({ axis: k, x, density: slice[i]!, t: label, source: 'PDE' }));
        for (const m of report.methods) {
          const h = histograms[m.method]!.subarray(r * grid.size, (r + 1) * grid.size);
          centres.forEach((x, i) => rows.push({ axis: k, x, density: h[i]!, t: label, source: m.method.toUpperCase() }));
        }
      } else {
        for (const m of report.methods) {
          const mg = m.comparisons[r]!.marginals![k]!;
          if (m === report.methods[0]) centres.forEach((x, i) => rows.push({ axis: k, x, density: mg.pde[i]!, t: label, source: 'PDE' }));
          centres.forEach((x, i) => rows.push({ axis: k, x, density: mg.mc[i]!, t: label, source: m.method.toUpperCase() }));
        }
      }
    }
    const name = String(axisNames[k] ?? `axis ${k}`);
    panels.push(layerSpec(k, name, grid.dim === 1 ? `${report.scenario.name}: PDE (lines) and Monte Carlo (points)` : `marginal along ${name}`));
  }
  const spec = { data: { values: rows }, ...(panels.length === 1 ? panels[0] : { hconcat: panels }) } as unknown as TopLevelSpec;
  return renderSvg({ ...spec, config: { aria: false } } as TopLevelSpec);
}
