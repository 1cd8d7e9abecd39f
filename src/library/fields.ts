import type { NdArray } from 'ndarray';
import { AXIS_NAMES, fieldView as gridView } from '../field/field.js';
import type { Grid } from '../../solvers/grid.js';
import { InputError } from '../errors.js';

export { AXIS_NAMES };

/**
 * A cell field on the scenario grid as an ndarray of shape `domain.cells`, with the cell-centre
 * coordinates along each axis. Values are densities (integrate as Σ value · cellVolume).
 */
export interface FieldView {
  /** Shares memory with `values`: the last axis varies fastest, as on the solver's grid. */
  array: NdArray<Float64Array>;
  /** The flat cell values (same buffer as `array.data`). */
  values: Float64Array;
  /** Cell-centre coordinates, one array per axis. */
  coords: Float64Array[];
  /** 'x', 'y', 'z' for the axes present. */
  axes: string[];
  /** Volume of one cell (product of the spacings). */
  cellVolume: number;
}

/**
 * Wraps `values` (one per cell, the solver's order) as an ndarray view; no copy. The length must
 * be the grid's cell count: a density from another grid would otherwise be read with wrong axes.
 */
export function fieldView(grid: Grid, values: Float64Array): FieldView {
  if (values.length !== grid.size) {
    throw new InputError(`fieldView: values has ${values.length} entries but the ${grid.n.join('×')} grid has ${grid.size} cells`);
  }
  const coords = grid.n.map((_, k) => grid.centres(k));
  return {
    array: gridView(grid, values),
    values,
    coords,
    axes: AXIS_NAMES.slice(0, grid.dim),
    cellVolume: grid.cellVolume,
  };
}
