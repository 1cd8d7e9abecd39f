/**
 * The figures of one run: ρ(t) against π (1-D), heatmaps of ρ, π, log(ρ/π) (2-D; 3-D as
 * mid-slices), and the distances against t (any dimension).
 */
import type { RunResult } from '../run/types.js';
import { renderFigure, type Figure } from './common.js';
import { densitySpec, type DensitySnapshot } from './density.js';
import { coarsenPlane, extractPlane, heatmapSpec, type HeatmapPanel, type Plane } from './heatmap.js';
import { distancesSpec } from './distances.js';

/** Heatmaps are block-averaged to at most this many cells per axis (SVG size stays ~1 MB). */
const MAX_HEATMAP_CELLS = 80;

/** Report times at which `fpsolve run --plots` keeps ρ for the 1-D figure, as fractions of the end time. */
export const SNAPSHOT_FRACTIONS = [0, 0.02, 0.1, 0.3, 1] as const;

export function snapshotTimes(end: number): number[] {
  return SNAPSHOT_FRACTIONS.map((f) => f * end);
}

/** ρ, π and log(ρ/π) panels for one plane; π is carried as ln π so that it never underflows before averaging. */
function panels(rho: Plane, logPi: Plane, where: string): HeatmapPanel[] {
  const r = coarsenPlane(rho, MAX_HEATMAP_CELLS, 'mean');
  const lp = coarsenPlane(logPi, MAX_HEATMAP_CELLS, 'logmeanexp');
  const pi = { ...lp, values: lp.values.map(Math.exp) };
  const ratio = { ...lp, values: lp.values.map((l, i) => (r.values[i] > 0 ? Math.log(r.values[i]) - l : NaN)) };
  return [
    { title: `ρ${where}`, plane: r, scale: 'sequential', legend: 'ρ' },
    { title: `π${where}`, plane: pi, scale: 'sequential', legend: 'π' },
    { title: `log(ρ/π)${where}`, plane: ratio, scale: 'diverging', legend: 'log(ρ/π)' },
  ];
}

export interface RunFigureOptions {
  /** ρ at several times for the 1-D figure; defaults to the final density only. */
  snapshots?: readonly DensitySnapshot[];
}

export async function buildRunFigures(result: RunResult, opts: RunFigureOptions = {}): Promise<Figure[]> {
  const { report, density, setup } = result;
  const grid = setup.grid;
  const name = report.scenario.name;
  const figures: Figure[] = [];
  if (grid.dim === 1) {
    const snaps = opts.snapshots && opts.snapshots.length > 0 ? opts.snapshots : [{ t: report.final.t, density }];
    const input = { x: grid.centres(0), pi: setup.problem.pi(), snapshots: snaps };
    const title = `${name}: ρ(t) against π`;
    figures.push(await renderFigure('density', title, densitySpec({ ...input, title })));
    const logTitle = `${title}, log scale`;
    figures.push(await renderFigure('density-log', logTitle, densitySpec({ ...input, title: logTitle, logScale: true })));
  } else {
    const logPi = setup.problem.logPi();
    const rows: HeatmapPanel[][] = [];
    if (grid.dim === 2) {
      rows.push(panels(extractPlane(density, grid), extractPlane(logPi, grid), ''));
    } else {
      const axes = ['x', 'y', 'z'];
      for (const axis of [2, 1, 0]) {
        const at = Math.floor(grid.n[axis] / 2);
        const c = grid.lo[axis] + (at + 0.5) * grid.h[axis];
        const where = ` at ${axes[axis]} = ${+c.toPrecision(4)}`;
        rows.push(panels(extractPlane(density, grid, { axis, at }), extractPlane(logPi, grid, { axis, at }), where));
      }
    }
    const title = `${name}: ρ at t = ${+report.final.t.toPrecision(4)}, π and log(ρ/π)${grid.dim === 3 ? ' (mid-slices)' : ''}`;
    figures.push(await renderFigure('fields', title, heatmapSpec(rows, title)));
  }
  const dTitle = `${name}: distances to π and E[f] against t`;
  figures.push(await renderFigure('distances', dTitle, distancesSpec({ ...report, title: dTitle })));
  return figures;
}
