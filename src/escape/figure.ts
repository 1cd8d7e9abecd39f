/**
 * The figure of `fpsolve committor` / `fpsolve escape`: the solved field as a line (1-D), a
 * heatmap (2-D) or three axis slices (3-D) through a set's point.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Grid } from '../../solvers/grid.js';
import { AXIS_NAMES, fieldView } from '../field/field.js';
import { BASE_CONFIG, MARK, PLOT_HEIGHT, PLOT_WIDTH, renderFigure, type Figure } from '../plot/common.js';
import { coarsenPlane, extractPlane, heatmapSpec, wantsLogColour, type HeatmapPanel } from '../plot/heatmap.js';
import { MAX_HEATMAP_CELLS } from '../plot/run-figures.js';

export interface FieldFigureInput {
  /** File stem, e.g. 'committor-zero2'. */
  name: string;
  title: string;
  /** Legend / axis title of the value, e.g. 'q' or 'T'. */
  label: string;
  grid: Grid;
  values: Float64Array;
  /** Log colour for a field spanning decades (mean exit times). */
  logScale?: boolean;
  /** 3-D: the slices pass through this point (a set's point), else through the middle cells. */
  through?: number[];
}

function lineSpec(input: FieldFigureInput): TopLevelSpec {
  const xs = input.grid.centres(0);
  const rows = Array.from(xs, (x, i) => ({ x, v: input.values[i] }));
  const positive = input.logScale === true && rows.some((r) => r.v > 0);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: BASE_CONFIG,
    title: input.title,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    data: { values: positive ? rows.filter((r) => r.v > 0) : rows },
    mark: { type: 'line', name: MARK.series },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: AXIS_NAMES[0] },
      y: { field: 'v', type: 'quantitative', title: input.label, scale: positive ? { type: 'log' } : {} },
    },
  } as TopLevelSpec;
}

function panelsOf(input: FieldFigureInput): HeatmapPanel[] {
  const g = input.grid;
  const view = fieldView(g, input.values);
  const planes =
    g.dim === 2
      ? [{ plane: extractPlane(view, g), where: '' }]
      : [0, 1, 2].map((axis) => {
          const p = input.through?.[axis];
          const at = p === undefined ? Math.floor(g.n[axis] / 2) : Math.min(g.n[axis] - 1, Math.max(0, Math.floor((p - g.lo[axis]) / g.h[axis])));
          const x = g.lo[axis] + (at + 0.5) * g.h[axis];
          return { plane: extractPlane(view, g, { axis, at }), where: ` at ${AXIS_NAMES[axis]} = ${+x.toPrecision(4)}` };
        });
  return planes.map((p, k) => {
    const plane = coarsenPlane(p.plane, MAX_HEATMAP_CELLS, 'mean');
    return { title: `${input.label}${p.where}`, plane, scale: 'sequential', legend: input.label, log: input.logScale === true && wantsLogColour(plane.values), id: `${k}` };
  });
}

export async function fieldFigure(input: FieldFigureInput): Promise<Figure> {
  const spec = input.grid.dim === 1 ? lineSpec(input) : heatmapSpec([panelsOf(input)], input.title);
  return renderFigure(input.name, input.title, spec);
}
