/**
 * Walking the cells in flat-index order with their multi-index (last axis fastest), without a
 * division per cell and axis: the diagnostics that ask "is this cell on the box's outer layer?"
 * over every cell of a large grid (basins' steepest descent, the walls' outer-layer mass).
 */

/**
 * Moves idx to the next cell and returns the updated count of axes at their first or last cell
 * (`atEdge`, d at cell 0: a cell is interior when it is 0). Past the last cell idx wraps to 0.
 */
export function nextCell(idx: Int32Array, sizes: Int32Array, atEdge: number): number {
  let e = atEdge;
  for (let k = idx.length - 1; k >= 0; k--) {
    const m = sizes[k];
    const was = idx[k];
    if (was === 0 || was === m - 1) e--;
    if (was + 1 < m) {
      idx[k] = was + 1;
      if (was + 1 === m - 1) e++;
      return e;
    }
    idx[k] = 0;
    e++;
  }
  return e;
}
