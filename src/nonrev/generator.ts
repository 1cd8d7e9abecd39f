/**
 * Walking the pairs of a generator given by lattice offsets (solvers/anisotropic/types.ts
 * OffsetRates): which cell j = i + e each cell i is paired with, and the forward matrix built from
 * the rates. The diagnostics (diagnostics.ts) and the tests read generators only through these,
 * so a hand-built generator and the scheme's are treated alike.
 */
import type { OffsetRates } from '../../solvers/anisotropic/types.js';
import { csrFromTriplets, type Csr } from '../../solvers/sparse/csr.js';

/** What the diagnostics need of a grid (solvers/grid.ts Grid has it). */
export interface GridLike {
  readonly dim: number;
  readonly n: readonly number[];
  readonly h: readonly number[];
  readonly strides: readonly number[];
  readonly size: number;
  readonly cellVolume: number;
}

/** What the diagnostics need of a generator (the scheme's AnisotropicGenerator has it). */
export interface PairGenerator {
  readonly grid: GridLike;
  readonly pairs: readonly OffsetRates[];
}

/**
 * Calls fn(i, j) for every cell i whose neighbour j = i + e lies in the box, in increasing i
 * (a fixed order: sums over pairs give the same bits run to run).
 */
export function forEachPair(grid: GridLike, offset: readonly number[], fn: (i: number, j: number) => void): void {
  const d = grid.dim;
  if (offset.length !== d) throw new RangeError(`offset ${JSON.stringify(offset)} has ${offset.length} components, the grid ${d} axes`);
  let shift = 0;
  for (let k = 0; k < d; k++) shift += offset[k] * grid.strides[k];
  const idx = new Array<number>(d).fill(0);
  for (let i = 0; i < grid.size; i++) {
    let inside = true;
    for (let k = 0; k < d; k++) {
      const m = idx[k] + offset[k];
      if (m < 0 || m >= grid.n[k]) {
        inside = false;
        break;
      }
    }
    if (inside) fn(i, i + shift);
    // Advance the multi-index (axis 0 slowest, as the flat index).
    for (let k = d - 1; k >= 0; k--) {
      if (++idx[k] < grid.n[k]) break;
      idx[k] = 0;
    }
  }
}

/** The forward matrix A of dρ/dt = Aρ (cell densities): column i loses ρ_i q_ij, row j gains it. */
export function forwardMatrix(gen: PairGenerator): Csr {
  const ri: number[] = [];
  const ci: number[] = [];
  const v: number[] = [];
  const push = (r: number, c: number, x: number): void => {
    if (x === 0) return;
    ri.push(r);
    ci.push(c);
    v.push(x);
  };
  for (const p of gen.pairs) {
    forEachPair(gen.grid, p.offset, (i, j) => {
      push(j, i, p.up[i]);
      push(i, i, -p.up[i]);
      push(i, j, p.down[i]);
      push(j, j, -p.down[i]);
    });
  }
  const n = gen.grid.size;
  return csrFromTriplets(n, n, ri, ci, v);
}
