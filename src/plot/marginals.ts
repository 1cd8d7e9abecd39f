/**
 * Marginal densities of a 2-D or 3-D field along each axis (∫ρ over the other axes), drawn as 1-D
 * density panels side by side: where the mass sits along each axis, against π's marginal. They show
 * what a heatmap hides, e.g. the mass drifting along a valley or the tails of a collapse.
 */
import { AXIS_NAMES } from '../field/field.js';
import type { TopLevelSpec } from 'vega-lite';
import type { NdArray } from 'ndarray';
import { BASE_CONFIG, FIGURE_MAX_WIDTH, MARK } from './common.js';
import { densitySpec, type DensitySnapshot } from './density.js';
import type { GridShape } from './heatmap.js';


/**
 * The marginal density along `axis`: m[i] = Σ over the other axes of field(…, i, …) · Π h_other,
 * so Σ m[i] h_axis is the field's mass. Reads the view through its strides.
 */
export function marginal(field: NdArray<Float64Array>, grid: GridShape, axis: number): Float64Array {
  const d = field.shape.length;
  if (axis < 0 || axis >= d) throw new RangeError(`marginal: axis ${axis} of a ${d}-D field`);
  let cell = 1;
  for (let k = 0; k < d; k++) if (k !== axis) cell *= grid.h[k];
  const out = new Float64Array(field.shape[axis]);
  const at: (number | null)[] = new Array<number | null>(d).fill(null);
  for (let i = 0; i < out.length; i++) {
    at[axis] = i;
    const slab = field.pick(...at);
    let s = 0;
    if (slab.shape.length === 1) for (let a = 0; a < slab.shape[0]; a++) s += slab.get(a);
    else for (let a = 0; a < slab.shape[0]; a++) for (let b = 0; b < slab.shape[1]; b++) s += slab.get(a, b);
    out[i] = s * cell;
  }
  return out;
}

export interface MarginalsInput {
  grid: GridShape;
  /** π on the grid (normalized: Σ π Π h = 1), as a view shaped like the grid. */
  pi: NdArray<Float64Array>;
  /** ρ at increasing times, each a view shaped like the grid. */
  snapshots: readonly { t: number; density: NdArray<Float64Array> }[];
  title: string;
}

/** One 1-D density panel per axis (ρ at each snapshot, π dashed), one legend for all. */
export function marginalsSpec(input: MarginalsInput): TopLevelSpec {
  const { grid } = input;
  const d = grid.n.length;
  // Within FIGURE_MAX_WIDTH: ~70 px per panel for its y axis, ~160 for the shared legend.
  const width = Math.floor((FIGURE_MAX_WIDTH - 160) / d) - 70;
  const panels = grid.n.map((n, axis) => {
    const x = Float64Array.from({ length: n }, (_, i) => grid.lo[axis] + (i + 0.5) * grid.h[axis]);
    const snapshots: DensitySnapshot[] = input.snapshots.map((s) => ({ t: s.t, density: marginal(s.density, grid, axis) }));
    const spec = densitySpec({ x, pi: marginal(input.pi, grid, axis), snapshots, title: `marginal along ${AXIS_NAMES[axis]}` }) as unknown as Record<string, unknown>;
    const { config: _config, ...panel } = spec;
    const enc = panel.encoding as { x: { title: string } };
    // Names are scale names in vega: each panel needs its own (series_<axis>).
    return { ...panel, name: `${MARK.series}_${axis}`, width, height: 260, encoding: { ...enc, x: { ...enc.x, title: AXIS_NAMES[axis] } } };
  });
  return {
    title: input.title,
    config: BASE_CONFIG,
    hconcat: panels,
    resolve: { scale: { color: 'shared', strokeDash: 'shared' } },
  } as unknown as TopLevelSpec;
}
