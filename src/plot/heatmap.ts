/**
 * 2-D figures: heatmaps of ρ, π and log(ρ/π) on the grid; a 3-D field is shown as its three
 * mid-slices (the planes through the middle cell of each axis).
 */
import type { TopLevelSpec } from 'vega-lite';
import { BASE_CONFIG, MARK } from './common.js';

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

const AXIS_NAMES = ['x', 'y', 'z'];

function edges(lo: number, h: number, n: number): Float64Array {
  return Float64Array.from({ length: n + 1 }, (_, i) => lo + i * h);
}

/**
 * The plane of a 2-D or 3-D C-order field with axis `fixed` held at index `at` (3-D only; a 2-D
 * field is its own plane). The two remaining axes keep their order.
 */
export function extractPlane(field: Float64Array, grid: GridShape, fixed?: { axis: number; at: number }): Plane {
  const d = grid.n.length;
  if (d === 2) {
    return { edgesA: edges(grid.lo[0], grid.h[0], grid.n[0]), edgesB: edges(grid.lo[1], grid.h[1], grid.n[1]), values: field, labelA: 'x', labelB: 'y' };
  }
  if (d !== 3 || !fixed) throw new RangeError(`extractPlane: needs a 2-D field, or a 3-D field and the axis to hold fixed (got ${d}-D)`);
  const [a, b] = [0, 1, 2].filter((k) => k !== fixed.axis);
  const strides = [grid.n[1] * grid.n[2], grid.n[2], 1];
  const na = grid.n[a];
  const nb = grid.n[b];
  const out = new Float64Array(na * nb);
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < nb; j++) out[i * nb + j] = field[i * strides[a] + j * strides[b] + fixed.at * strides[fixed.axis]];
  }
  return { edgesA: edges(grid.lo[a], grid.h[a], na), edgesB: edges(grid.lo[b], grid.h[b], nb), values: out, labelA: AXIS_NAMES[a], labelB: AXIS_NAMES[b] };
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

export interface HeatmapPanel {
  title: string;
  plane: Plane;
  /** 'sequential' for densities; 'diverging' (centred on 0) for log(ρ/π). */
  scale: 'sequential' | 'diverging';
  /** Colour legend title. */
  legend: string;
  /** For 'diverging': colours saturate beyond ±clip (default: the largest |value|, at most 20). */
  clip?: number;
}

/** One heatmap: rect marks spanning each cell; non-finite values are left out (background shows). */
function panelSpec(p: HeatmapPanel, size: number, id: string): Record<string, unknown> {
  const { edgesA, edgesB, values } = p.plane;
  const nb = edgesB.length - 1;
  const rows: { a0: number; a1: number; b0: number; b1: number; v: number }[] = [];
  let maxAbs = 0;
  const height = Math.min(2 * size, Math.max(60, Math.round((size * (edgesB[nb] - edgesB[0])) / (edgesA[edgesA.length - 1] - edgesA[0]))));
  // Each rect reaches one pixel into its neighbour: abutting anti-aliased edges would otherwise
  // let the background show through as a faint grid.
  const padA = (edgesA[edgesA.length - 1] - edgesA[0]) / size;
  const padB = (edgesB[nb] - edgesB[0]) / height;
  for (let i = 0; i < edgesA.length - 1; i++) {
    for (let j = 0; j < nb; j++) {
      const v = values[i * nb + j];
      if (!Number.isFinite(v)) continue;
      rows.push({ a0: edgesA[i], a1: edgesA[i + 1] + padA, b0: edgesB[j], b1: edgesB[j + 1] + padB, v });
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
  }
  const clip = p.clip ?? Math.min(Math.max(maxAbs, 1e-12), 20);
  const colour =
    p.scale === 'diverging'
      ? { field: 'v', type: 'quantitative', title: p.legend, scale: { scheme: 'redblue', reverse: true, domain: [-clip, clip], domainMid: 0, clamp: true } }
      : { field: 'v', type: 'quantitative', title: p.legend, scale: { scheme: 'viridis', zero: true } };
  // The plane's first axis goes horizontally, like imshow(field.T, origin='lower').
  return {
    title: p.title,
    width: size,
    height,
    data: { values: rows },
    name: `${MARK.heatmap}_${id}`,
    mark: { type: 'rect', stroke: null, clip: true },
    encoding: {
      x: { field: 'a0', type: 'quantitative', title: p.plane.labelA, scale: { domain: [edgesA[0], edgesA[edgesA.length - 1]], nice: false, zero: false, padding: 0 }, axis: { grid: false } },
      x2: { field: 'a1' },
      y: { field: 'b0', type: 'quantitative', title: p.plane.labelB, scale: { domain: [edgesB[0], edgesB[nb]], nice: false, zero: false, padding: 0 }, axis: { grid: false } },
      y2: { field: 'b1' },
      color: colour,
    },
  };
}

/** Rows of panels; each panel has its own colour scale and legend. */
export function heatmapSpec(rows: readonly (readonly HeatmapPanel[])[], title: string, panelSize = 220): TopLevelSpec {
  return {
    title,
    config: BASE_CONFIG,
    vconcat: rows.map((r, i) => ({ hconcat: r.map((p, j) => panelSpec(p, panelSize, `${i}_${j}`)), resolve: { scale: { color: 'independent' } } })),
    resolve: { scale: { color: 'independent' } },
  } as unknown as TopLevelSpec;
}
