/**
 * The figures of one run: ρ(t) against π (1-D), heatmaps of ρ, π, log(ρ/π) (2-D; 3-D as
 * mid-slices), the marginals of ρ along each axis against π's (2-D, 3-D), ρ at the kept report
 * times as small multiples (2-D; 3-D as the z mid-slice), and the distances against t (any dimension).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { RunResult } from '../run/types.js';
import { fmtNum, renderFigure, type Figure } from './common.js';
import { densitySpec, type DensitySnapshot } from './density.js';
import { coarsenPlane, extractPlane, heatmapSpec, planeMax, wantsLogColour, SMALL_PANEL_SIZE, type GridShape, type HeatmapPanel, type Plane } from './heatmap.js';
import { fieldView } from '../field/field.js';
import { distancesSpec } from './distances.js';
import { marginalsSpec } from './marginals.js';
import { basinFigureSpecs } from './basins.js';

/** Heatmaps are block-averaged to at most this many cells per axis (SVG size stays ~1 MB). */
export const MAX_HEATMAP_CELLS = 80;
/** The same for each panel of the small multiples over time (there are up to five of them). */
export const MAX_SMALL_MULTIPLE_CELLS = 60;

/** Report times at which `fpsolve run --plots` keeps ρ for the figures over time, as fractions of the end time. */
export const SNAPSHOT_FRACTIONS = [0, 0.02, 0.1, 0.3, 1] as const;

export function snapshotTimes(end: number): number[] {
  return SNAPSHOT_FRACTIONS.map((f) => f * end);
}

/** ρ, π and log(ρ/π) panels for one plane; π is carried as ln π so that it never underflows before averaging. */
function panels(rho: Plane, logPi: Plane, where: string, row: number, regime: string): HeatmapPanel[] {
  const r = coarsenPlane(rho, MAX_HEATMAP_CELLS, 'mean');
  const lp = coarsenPlane(logPi, MAX_HEATMAP_CELLS, 'logmeanexp');
  const pi = { ...lp, values: lp.values.map(Math.exp) };
  const ratio = { ...lp, values: lp.values.map((l, i) => (r.values[i] > 0 ? Math.log(r.values[i]) - l : NaN)) };
  return [
    { title: `ρ${where}`, plane: r, scale: 'sequential', legend: 'ρ', log: wantsLogColour(r.values, regime), id: `${row}_0` },
    { title: `π${where}`, plane: pi, scale: 'sequential', legend: 'π', log: wantsLogColour(pi.values, regime), id: `${row}_1` },
    { title: `log(ρ/π)${where}`, plane: ratio, scale: 'diverging', legend: 'log(ρ/π)', id: `${row}_2` },
  ];
}

/** The plane the small multiples show: the field itself in 2-D, the mid-slice across z in 3-D. */
function timePlane(density: Float64Array, grid: GridShape): Plane {
  const view = fieldView(grid, density);
  return grid.n.length === 2 ? extractPlane(view, grid) : extractPlane(view, grid, { axis: 2, at: Math.floor(grid.n[2] / 2) });
}

/**
 * One panel per snapshot on one colour scale (its top the largest value of any panel), so that
 * panels compare by colour; logarithmic for all when any panel asks for it (wantsLogColour).
 */
export function timePanels(snapshots: readonly DensitySnapshot[], grid: GridShape, regime: string): HeatmapPanel[] {
  const planes = snapshots.map((s) => coarsenPlane(timePlane(s.density, grid), MAX_SMALL_MULTIPLE_CELLS, 'mean'));
  const log = planes.some((p) => wantsLogColour(p.values, regime));
  const max = Math.max(...planes.map((p) => planeMax(p.values)));
  return planes.map((plane, k) => ({ title: `t = ${fmtNum(snapshots[k].t, 4)}`, plane, scale: 'sequential', legend: 'ρ', log, max, id: `t${k}` }));
}

export interface RunFigureOptions {
  /** ρ at several times (1-D: lines of one figure; 2-D/3-D: small multiples); defaults to the final density only. */
  snapshots?: readonly DensitySnapshot[];
}

/** A figure before rendering: what buildRunFigures renders, kept apart so that tests read its data. */
export interface FigureSpec {
  name: string;
  title: string;
  spec: TopLevelSpec;
}

export function runFigureSpecs(result: RunResult, opts: RunFigureOptions = {}): FigureSpec[] {
  const { report, density, setup } = result;
  const grid = setup.grid;
  const name = report.scenario.name;
  const specs: FigureSpec[] = [];
  if (grid.dim === 1) {
    const snaps = opts.snapshots && opts.snapshots.length > 0 ? opts.snapshots : [{ t: report.final.t, density }];
    const input = { x: grid.centres(0), pi: setup.problem.pi(), snapshots: snaps };
    const title = `${name}: ρ(t) against π`;
    specs.push({ name: 'density', title, spec: densitySpec({ ...input, title }) });
    const logTitle = `${title}, log scale`;
    specs.push({ name: 'density-log', title: logTitle, spec: densitySpec({ ...input, title: logTitle, logScale: true }) });
  } else {
    const rho = fieldView(grid, density);
    const logPi = fieldView(grid, setup.problem.logPi());
    const groups: HeatmapPanel[][] = [];
    if (grid.dim === 2) {
      groups.push(panels(extractPlane(rho, grid), extractPlane(logPi, grid), '', 0, report.regime));
    } else {
      const axes = ['x', 'y', 'z'];
      [2, 1, 0].forEach((axis, row) => {
        const at = Math.floor(grid.n[axis] / 2);
        const c = grid.lo[axis] + (at + 0.5) * grid.h[axis];
        const where = ` at ${axes[axis]} = ${+c.toPrecision(4)}`;
        groups.push(panels(extractPlane(rho, grid, { axis, at }), extractPlane(logPi, grid, { axis, at }), where, row, report.regime));
      });
    }
    const title = `${name}: ρ at t = ${+report.final.t.toPrecision(4)}, π and log(ρ/π)${grid.dim === 3 ? ' (mid-slices)' : ''}`;
    specs.push({ name: 'fields', title, spec: heatmapSpec(groups, title) });
    if (opts.snapshots && opts.snapshots.length > 0) {
      const snaps = opts.snapshots;
      const where = grid.dim === 3 ? ` (mid-slice at z = ${fmtNum(grid.lo[2] + (Math.floor(grid.n[2] / 2) + 0.5) * grid.h[2], 4)})` : '';
      const tTitle = `${name}: ρ at ${snaps.length} report time${snaps.length > 1 ? 's' : ''}${where}, one colour scale`;
      specs.push({ name: 'density-time', title: tTitle, spec: heatmapSpec([timePanels(snaps, grid, report.regime)], tTitle, { size: SMALL_PANEL_SIZE, sharedColour: true }) });
    }
    const kept = opts.snapshots && opts.snapshots.length > 0 ? opts.snapshots : [{ t: report.final.t, density }];
    const mTitle = `${name}: marginal densities of ρ(t) against π's`;
    const snapshotViews = kept.map((s) => ({ t: s.t, density: fieldView(grid, s.density) }));
    specs.push({ name: 'marginals', title: mTitle, spec: marginalsSpec({ grid, pi: fieldView(grid, setup.problem.pi()), snapshots: snapshotViews, title: mTitle }) });
  }
  const dTitle = `${name}: distances to π and E[f] against t`;
  specs.push({ name: 'distances', title: dTitle, spec: distancesSpec({ ...report, title: dTitle }) });
  specs.push(...basinFigureSpecs(name, report.series, report.basins));
  return specs;
}

export async function buildRunFigures(result: RunResult, opts: RunFigureOptions = {}): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const f of runFigureSpecs(result, opts)) figures.push(await renderFigure(f.name, f.title, f.spec));
  return figures;
}
