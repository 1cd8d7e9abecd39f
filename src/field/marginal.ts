/**
 * Marginals and slices of a field along grid axes: what plots of 2-D/3-D densities, the Monte
 * Carlo comparison and basin masses need, on the ndarray view of the flat field.
 */
import ops from 'ndarray-ops';
import { fieldView, type Field } from './field.js';

/** What a marginal needs of a grid (solvers/grid.ts's Grid has it). */
export interface MarginalGrid {
  readonly n: readonly number[];
  readonly h: readonly number[];
  readonly cellVolume: number;
}

/**
 * Marginal density along `axis`: ρ integrated over the other axes, one value per cell of `axis`
 * (Σ over the slab at index j, times the cell volume of the other axes). Each slab is summed in
 * memory order, the order a flat loop over the field visits its cells, so the value does not
 * depend on how the field is traversed.
 */
export function marginal(grid: MarginalGrid, rho: Float64Array, axis: number): Float64Array {
  checkAxis(grid.n.length, axis);
  const view = fieldView(grid, rho);
  const n = grid.n[axis]!;
  const out = new Float64Array(n);
  const w = grid.cellVolume / grid.h[axis]!;
  for (let j = 0; j < n; j++) out[j] = ops.sum(slice(view, axis, j)) * w;
  return out;
}

/** The (d−1)-dimensional view of the cells with index `index` along `axis` (no copy). A 1-D field's slice is one cell. */
export function slice(field: Field, axis: number, index: number): Field {
  checkAxis(field.dimension, axis);
  if (!Number.isInteger(index) || index < 0 || index >= field.shape[axis]!) {
    throw new RangeError(`slice: index ${index} is outside 0..${field.shape[axis]! - 1} along axis ${axis}`);
  }
  const at: (number | null)[] = field.shape.map(() => null);
  at[axis] = index;
  if (field.dimension === 1) return field.lo(index).hi(1);
  return field.pick(...at);
}

/** The planes through the middle cell of each axis, named by the axis held fixed (3-D figures show these). */
export function midSlices(field: Field): { axis: number; index: number; plane: Field }[] {
  return field.shape.map((n, axis) => {
    const index = Math.floor(n / 2);
    return { axis, index, plane: slice(field, axis, index) };
  });
}

/** A C-order copy of a view (a slice, a transpose), e.g. for writing it to a file. */
export function contiguous(view: Field): Float64Array {
  const out = new Float64Array(view.size);
  ops.assign(fieldView({ n: view.shape }, out), view);
  return out;
}

function checkAxis(dim: number, axis: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= dim) throw new RangeError(`axis ${axis} is outside 0..${dim - 1}`);
}
