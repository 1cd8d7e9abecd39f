/**
 * A uniform cell-centred grid on a box in 1 to 3 dimensions.
 * Fields are flat Float64Arrays in C order with axis 0 slowest (numpy's 'ij' layout, so a
 * field written as .npy with shape `n` loads with axis 0 = x).
 */
export class Grid {
  readonly dim: number;
  readonly n: readonly number[];
  readonly lo: readonly number[];
  readonly hi: readonly number[];
  readonly h: readonly number[];
  /** Flat-index step of one cell along each axis. */
  readonly strides: readonly number[];
  readonly size: number;
  readonly cellVolume: number;

  constructor(bounds: readonly (readonly [number, number])[], cells: readonly number[]) {
    if (bounds.length !== cells.length || bounds.length < 1 || bounds.length > 3) {
      throw new RangeError(`grid needs 1 to 3 axes with matching bounds and cells (got ${bounds.length} and ${cells.length})`);
    }
    this.dim = cells.length;
    this.n = cells.slice();
    this.lo = bounds.map((b) => b[0]);
    this.hi = bounds.map((b) => b[1]);
    this.h = bounds.map((b, k) => (b[1] - b[0]) / cells[k]);
    const strides = new Array<number>(this.dim);
    let s = 1;
    for (let k = this.dim - 1; k >= 0; k--) {
      strides[k] = s;
      s *= cells[k];
    }
    this.strides = strides;
    this.size = s;
    this.cellVolume = this.h.reduce((a, b) => a * b, 1);
  }

  /** Cell-centre coordinates along one axis. */
  centres(axis: number): Float64Array {
    const out = new Float64Array(this.n[axis]);
    for (let i = 0; i < out.length; i++) out[i] = this.lo[axis] + (i + 0.5) * this.h[axis];
    return out;
  }

  /** Multi-index of a flat cell index. */
  index(flat: number): number[] {
    const idx = new Array<number>(this.dim);
    for (let k = 0; k < this.dim; k++) {
      idx[k] = Math.floor(flat / this.strides[k]) % this.n[k];
    }
    return idx;
  }

  /** Centre of a cell given by flat index. */
  centre(flat: number): number[] {
    return this.index(flat).map((i, k) => this.lo[k] + (i + 0.5) * this.h[k]);
  }

  /** Coordinate of every cell centre along `axis`, as a full field (for vectorized evaluation). */
  coordinateField(axis: number): Float64Array {
    const out = new Float64Array(this.size);
    const stride = this.strides[axis];
    const n = this.n[axis];
    const lo = this.lo[axis];
    const h = this.h[axis];
    for (let i = 0; i < this.size; i++) out[i] = lo + ((Math.floor(i / stride) % n) + 0.5) * h;
    return out;
  }

  /** The same box with each axis refined by `factor` (for Richardson extrapolation and refinement studies). */
  refined(factor: number): Grid {
    return new Grid(
      this.lo.map((lo, k) => [lo, this.hi[k]] as [number, number]),
      this.n.map((n) => n * factor),
    );
  }
}
