/**
 * 2-D figures: heatmaps of ρ, π and log(ρ/π) on the grid; a 3-D field is shown as its three
 * mid-slices (the planes through the middle cell of each axis).
 */
import { AXIS_NAMES } from '../field/field.js';
import type { TopLevelSpec } from 'vega-lite';
import type { NdArray } from 'ndarray';
import { BASE_CONFIG, FIGURE_MAX_WIDTH, MARK } from './common.js';

/** A field on a 2-D plane of cells, row-major with axis `a` slowest: value(i, j) = values[i*nb + j]. */
export interface Plane {
  /** Cell edges along the two plane axes (length n + 1 each). */
  edgesA: Float64Array;
  edgesB: Float64Array;
  values: Float64Array;
  /** Axis labels, e.g. 'x', 'y'. */
  labelA: string;
  labelB: string;
}

export interface GridShape {
  n: readonly number[];
  lo: readonly number[];
  h: readonly number[];
}


function edges(lo: number, h: number, n: number): Float64Array {
  return Float64Array.from({ length: n + 1 }, (_, i) => lo + i * h);
}

/**
 * The plane of a 2-D or 3-D field (an ndarray view shaped like the grid) with axis `fixed` held at
 * index `at` (3-D only; a 2-D field is its own plane). The two remaining axes keep their order.
 * Strides come from the view, so a transposed or sliced view is read as it is laid out.
 */
export function extractPlane(field: NdArray<Float64Array>, grid: GridShape, fixed?: { axis: number; at: number }): Plane {
  const d = grid.n.length;
  if (field.shape.length !== d || field.shape.some((s, k) => s !== grid.n[k])) {
    throw new RangeError(`extractPlane: field of shape ${field.shape.join('×')} on a grid of ${grid.n.join('×')} cells`);
  }
  let plane: NdArray<Float64Array>;
  let a = 0;
  let b = 1;
  if (d === 2) plane = field;
  else if (d === 3 && fixed) {
    [a, b] = [0, 1, 2].filter((k) => k !== fixed.axis);
    const at: (number | null)[] = [null, null, null];
    at[fixed.axis] = fixed.at;
    plane = field.pick(...at);
  } else throw new RangeError(`extractPlane: needs a 2-D field, or a 3-D field and the axis to hold fixed (got ${d}-D)`);
  const [na, nb] = plane.shape;
  const out = new Float64Array(na * nb);
  for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) out[i * nb + j] = plane.get(i, j);
  return { edgesA: edges(grid.lo[a], grid.h[a], na), edgesB: edges(grid.lo[b], grid.h[b], nb), values: out, labelA: AXIS_NAMES[a], labelB: AXIS_NAMES[b] };
}

/**
 * When a density is shown on a log colour scale: the regime is "collapsing" (mass piles onto the
 * minimizers), or the peak exceeds the plane's mean by more than LOG_COLOUR_RATIO, i.e. on a
 * linear scale all but a few cells would show the bottom colour. Zeros and negatives count as 0
 * in the mean (underflow and round-off, not mass).
 */
export const LOG_COLOUR_RATIO = 1e3;
/** On a log colour scale, values below this fraction of the maximum (zeros, negatives too) show as the floor. */
export const LOG_COLOUR_FLOOR = 1e-6;

export function wantsLogColour(values: ArrayLike<number>, regime?: string): boolean {
  let max = 0;
  let sum = 0;
  let n = 0;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (!Number.isFinite(v)) continue;
    n++;
    if (v > 0) {
      sum += v;
      if (v > max) max = v;
    }
  }
  if (max === 0) return false; // nothing positive: no log scale can show it
  return regime === 'collapsing' || max > LOG_COLOUR_RATIO * (sum / n);
}

/**
 * Block-reduces a plane to at most `max` cells per axis. `mode` 'mean' averages the values,
 * 'logmeanexp' averages exp(values) and returns its log (for log-densities that underflow).
 */
export function coarsenPlane(p: Plane, max: number, mode: 'mean' | 'logmeanexp'): Plane {
  const na = p.edgesA.length - 1;
  const nb = p.edgesB.length - 1;
  const ka = Math.max(1, Math.ceil(na / max));
  const kb = Math.max(1, Math.ceil(nb / max));
  if (ka === 1 && kb === 1) return p;
  const ma = Math.ceil(na / ka);
  const mb = Math.ceil(nb / kb);
  const out = new Float64Array(ma * mb);
  for (let I = 0; I < ma; I++) {
    for (let J = 0; J < mb; J++) {
      const i1 = Math.min(na, (I + 1) * ka);
      const j1 = Math.min(nb, (J + 1) * kb);
      let top = -Infinity;
      if (mode === 'logmeanexp') for (let i = I * ka; i < i1; i++) for (let j = J * kb; j < j1; j++) top = Math.max(top, p.values[i * nb + j]);
      let s = 0;
      let c = 0;
      for (let i = I * ka; i < i1; i++) {
        for (let j = J * kb; j < j1; j++) {
          const v = p.values[i * nb + j];
          s += mode === 'mean' ? v : Math.exp(v - top);
          c++;
        }
      }
      out[I * mb + J] = mode === 'mean' ? s / c : top + Math.log(s / c);
    }
  }
  const pick = (e: Float64Array, k: number, m: number): Float64Array => Float64Array.from({ length: m + 1 }, (_, i) => e[Math.min(e.length - 1, i * k)]);
  return { ...p, edgesA: pick(p.edgesA, ka, ma), edgesB: pick(p.edgesB, kb, mb), values: out };
}

/** Width of a heatmap panel in the report (px): cells of an 80-cell plane are 6 px wide. */
export const PANEL_SIZE = 480;
/** Width of one panel of the small multiples over time. */
export const SMALL_PANEL_SIZE = 240;

export interface HeatmapPanel {
  title: string;
  plane: Plane;
  /** 'sequential' for densities; 'diverging' (centred on 0) for log(ρ/π). */
  scale: 'sequential' | 'diverging';
  /** Colour legend title. */
  legend: string;
  /** For 'diverging': colours saturate beyond ±clip (default: the largest |value|, at most 20). */
  clip?: number;
  /** 'sequential' only: a log colour scale from LOG_COLOUR_FLOOR·max to max (see wantsLogColour). */
  log?: boolean;
  /** 'sequential' only: the top of the colour scale, shared by panels that are compared (default: this panel's max). */
  max?: number;
  /** The mark is named heatmap_<id> (default: the panel's index). */
  id?: string;
}

/** Largest finite value of a plane (0 when none is positive). */
export function planeMax(values: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < values.length; k++) if (values[k] > m && Number.isFinite(values[k])) m = values[k];
  return m;
}

/** The value a cell is drawn with: on a log scale, at least the floor (zeros and negatives included). */
export function colourValue(v: number, log: boolean, max: number): number {
  return log ? Math.max(v, LOG_COLOUR_FLOOR * max) : v;
}

/** Rows the rect marks draw: one per cell with a finite value; `v` is colourValue of the cell. */
export function heatmapRows(p: HeatmapPanel, width: number, height: number): { a0: number; a1: number; b0: number; b1: number; v: number }[] {
  const { edgesA, edgesB, values } = p.plane;
  const nb = edgesB.length - 1;
  const log = p.scale === 'sequential' && p.log === true;
  const max = p.max ?? planeMax(values);
  // Each rect reaches one pixel into its neighbour: abutting anti-aliased edges would otherwise
  // let the background show through as a faint grid.
  const padA = (edgesA[edgesA.length - 1] - edgesA[0]) / width;
  const padB = (edgesB[nb] - edgesB[0]) / height;
  const rows: { a0: number; a1: number; b0: number; b1: number; v: number }[] = [];
  for (let i = 0; i < edgesA.length - 1; i++) {
    for (let j = 0; j < nb; j++) {
      const v = values[i * nb + j];
      if (!Number.isFinite(v)) continue;
      rows.push({ a0: edgesA[i], a1: edgesA[i + 1] + padA, b0: edgesB[j], b1: edgesB[j + 1] + padB, v: colourValue(v, log, max) });
    }
  }
  return rows;
}

/**
 * Panel size in px: the longer side of the box gets `size`, the other side its share of it (the
 * box's aspect kept, but at least 60 px).
 */
export function panelDims(plane: Plane, size: number): { width: number; height: number } {
  const { edgesA, edgesB } = plane;
  const ea = edgesA[edgesA.length - 1] - edgesA[0];
  const eb = edgesB[edgesB.length - 1] - edgesB[0];
  return ea >= eb ? { width: size, height: Math.max(60, Math.round((size * eb) / ea)) } : { width: Math.max(60, Math.round((size * ea) / eb)), height: size };
}

/** What a figure with a log colour scale says about it, once, as its subtitle. */
export const LOG_COLOUR_NOTE = `log colour scale: values below ${LOG_COLOUR_FLOOR.toExponential()}·max (zeros too) are shown at ${LOG_COLOUR_FLOOR.toExponential()}·max`;

/** One heatmap: rect marks spanning each cell; non-finite values are left out (background shows). */
function panelSpec(p: HeatmapPanel, size: number, id: string, sayLog: boolean, legendBelow: boolean): Record<string, unknown> {
  const { edgesA, edgesB } = p.plane;
  const nb = edgesB.length - 1;
  const { width, height } = panelDims(p.plane, size);
  const rows = heatmapRows(p, width, height);
  const maxAbs = rows.reduce((m, r) => Math.max(m, Math.abs(r.v)), 0);
  const clip = p.clip ?? Math.min(Math.max(maxAbs, 1e-12), 20);
  const max = p.max ?? planeMax(p.plane.values);
  const log = p.scale === 'sequential' && p.log === true && max > 0;
  const colour =
    p.scale === 'diverging'
      ? { field: 'v', type: 'quantitative', title: p.legend, scale: { scheme: 'redblue', reverse: true, domain: [-clip, clip], domainMid: 0, clamp: true } }
      : log
        ? { field: 'v', type: 'quantitative', title: `${p.legend} (log)`, scale: { type: 'log', scheme: 'viridis', domain: [LOG_COLOUR_FLOOR * max, max], clamp: true } }
        : { field: 'v', type: 'quantitative', title: p.legend, scale: { scheme: 'viridis', ...(p.max !== undefined ? { domain: [0, p.max], clamp: true } : { zero: true }) } };
  // A legend beside each panel made two 480-px panels wider than the page (the second one's
  // legend cut off, a horizontal scrollbar); below the panel it costs height, not width. Its
  // gradient stays within the panel so a narrow (tall-box) panel is not widened by it.
  const legend = legendBelow ? { legend: { orient: 'bottom', direction: 'horizontal', gradientLength: Math.max(60, Math.min(200, width - 20)) } } : {};
  // The plane's first axis goes horizontally, like imshow(field.T, origin='lower').
  return {
    // The figure itself says that the scale is logarithmic and where it is cut off.
    title: log && sayLog ? `${p.title} (log colour scale)` : p.title,
    width,
    height,
    data: { values: rows },
    name: `${MARK.heatmap}_${id}`,
    mark: { type: 'rect', stroke: null, clip: true },
    encoding: {
      x: { field: 'a0', type: 'quantitative', title: p.plane.labelA, scale: { domain: [edgesA[0], edgesA[edgesA.length - 1]], nice: false, zero: false, padding: 0 }, axis: { grid: false } },
      x2: { field: 'a1' },
      y: { field: 'b0', type: 'quantitative', title: p.plane.labelB, scale: { domain: [edgesB[0], edgesB[nb]], nice: false, zero: false, padding: 0 }, axis: { grid: false } },
      y2: { field: 'b1' },
      color: { ...colour, ...legend },
    },
  };
}

export interface HeatmapLayout {
  /** Longer side of a panel in px (default PANEL_SIZE). */
  size?: number;
  /** Panels per row (default: as many as fit in about 1200 px, 1 to 5, rows as even as that allows). */
  columns?: number;
  /**
   * One colour scale and legend for all panels (small multiples; give each panel the same `max`
   * and `log`). A figure with any log colour scale says so in its subtitle.
   */
  sharedColour?: boolean;
}

/**
 * Groups of panels (e.g. ρ, π, log(ρ/π) of one plane), each group starting a new row and wrapped
 * at `columns`; each panel has its own colour scale unless sharedColour.
 */
export function heatmapSpec(groups: readonly (readonly HeatmapPanel[])[], title: string, layout: HeatmapLayout = {}): TopLevelSpec {
  const size = layout.size ?? PANEL_SIZE;
  const widest = Math.max(size / 2, ...groups.flat().map((p) => panelDims(p.plane, size).width));
  // Figures must fit FIGURE_MAX_WIDTH; each panel needs about 60 px more for its y axis (and
  // the gap to the next), and its own legend goes below it. A shared legend sits right of the
  // last column: 60 px more per panel than needed, which leaves room for it.
  const fit = Math.max(1, layout.columns ?? Math.min(5, Math.floor(FIGURE_MAX_WIDTH / (widest + (layout.sharedColour ? 60 : 80)))));
  // Rows as even as the fit allows: five panels four to a row would leave one alone below.
  const columnsFor = (n: number): number => (layout.columns !== undefined ? fit : Math.ceil(n / Math.ceil(n / fit)));
  const colour = layout.sharedColour ? 'shared' : 'independent';
  const rows: Record<string, unknown>[] = [];
  for (const g of groups) {
    const columns = columnsFor(g.length);
    for (let k = 0; k < g.length; k += columns) {
      const row = g.slice(k, k + columns).map((p, j) => panelSpec(p, size, p.id ?? `${rows.length}_${j}`, !layout.sharedColour, !layout.sharedColour));
      rows.push({ hconcat: row, resolve: { scale: { color: colour } } });
    }
  }
  const anyLog = groups.some((g) => g.some((p) => p.scale === 'sequential' && p.log === true));
  return {
    title: anyLog ? { text: title, subtitle: LOG_COLOUR_NOTE } : title,
    config: BASE_CONFIG,
    vconcat: rows,
    resolve: { scale: { color: colour } },
  } as unknown as TopLevelSpec;
}
