/**
 * A field is an ndarray view (shape, strides) over the flat Float64Array the solvers work on, so
 * code that cares about the grid's shape (slices, marginals, transposes for file formats) indexes
 * by axis instead of recomputing flat offsets by hand (docs/design.md §2: C order, axis 0 slowest).
 */
import ndarray from 'ndarray';

export type Field = ndarray.NdArray<Float64Array>;

/** What a view needs of a grid: cells per axis (solvers/grid.ts's Grid has it). */
export interface Shaped {
  readonly n: readonly number[];
}

/** Names of the grid axes in array-axis order (scenario domain.bounds, .npy axes, Zarr dimensions). */
export const AXIS_NAMES = ['x', 'y', 'z'] as const;

/** C-order strides of `shape` (last axis fastest), as solvers/grid.ts lays fields out. */
export function cStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let step = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = step;
    step *= shape[k]!;
  }
  return s;
}

/**
 * The grid-shaped view of `data` (no copy: writes through the view change `data`).
 * @throws RangeError when `data` does not hold one value per cell.
 */
export function fieldView(grid: Shaped, data: Float64Array): Field {
  const shape = grid.n.slice();
  const cells = shape.reduce((a, b) => a * b, 1);
  if (data.length !== cells) throw new RangeError(`fieldView: a ${shape.join('×')} grid has ${cells} cells, the field holds ${data.length} values`);
  return ndarray(data, shape, cStrides(shape));
}

/** A fresh C-order field of `shape`, zero-filled. */
export function zeroField(shape: readonly number[]): Field {
  const n = shape.slice();
  return ndarray(new Float64Array(n.reduce((a, b) => a * b, 1)), n, cStrides(n));
}
