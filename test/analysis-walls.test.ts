/**
 * The walls diagnostic's passes (src/diagnostics/walls.ts), rewritten to walk the outer layer and
 * the wall slabs without a division per cell (issue #19): compared bit for bit with direct sums
 * from the definitions written here (a cell is outer when any axis index is first or last; a
 * wall's power-law tail from the two outermost cells of each line), on 1-D/2-D/3-D grids with
 * axes of one and two cells.
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { outerLayerFraction, tailBeyond } from '../src/diagnostics/walls.js';
import { rng } from './nonsym-helpers.js';


const shapes: number[][] = [[1], [2], [3], [17], [1, 5], [5, 1], [2, 2], [6, 9], [3, 3, 3], [4, 1, 6], [2, 5, 3], [7, 6, 5]];

function directOuterFraction(grid: Grid, field: Float64Array): number {
  let outer = 0;
  let total = 0;
  for (let i = 0; i < grid.size; i++) {
    total += field[i];
    if (grid.index(i).some((m, k) => m === 0 || m === grid.n[k] - 1)) outer += field[i];
  }
  return total > 0 ? outer / total : 0;
}

/** π ~ r^−k continued beyond each wall from its two outermost cells, summed in logs (WallsReport.piBeyondBox). */
function directTail(grid: Grid, logPi: Float64Array, centre: number[]): { mass: number | null; exponent: number | null } {
  const parts: number[] = [];
  let minK = Infinity;
  for (let k = 0; k < grid.dim; k++) {
    if (grid.n[k] < 2) continue;
    for (const side of [0, 1]) {
      const wall = side === 0 ? grid.lo[k] : grid.hi[k];
      const bIdx = side === 0 ? 0 : grid.n[k] - 1;
      const cIdx = side === 0 ? 1 : grid.n[k] - 2;
      const rB = Math.abs(grid.lo[k] + (bIdx + 0.5) * grid.h[k] - centre[k]);
      const rC = Math.abs(grid.lo[k] + (cIdx + 0.5) * grid.h[k] - centre[k]);
      if (!(rB > rC && rC > 0)) continue;
      for (let i = 0; i < grid.size; i++) {
        if (grid.index(i)[k] !== bIdx) continue;
        const lb = logPi[i];
        if (lb === -Infinity) continue;
        const kExp = (logPi[i + (cIdx - bIdx) * grid.strides[k]] - lb) / Math.log(rB / rC);
        minK = Math.min(minK, kExp);
        if (!(kExp > 1)) return { mass: null, exponent: kExp };
        const rWall = Math.abs(wall - centre[k]);
        parts.push(lb - kExp * Math.log(rWall / rB) + Math.log(rWall / (kExp - 1)) + Math.log(grid.cellVolume / grid.h[k]));
      }
    }
  }
  let m = -Infinity;
  for (const v of parts) if (v > m) m = v;
  let s = 0;
  for (const v of parts) s += Math.exp(v - m);
  return { mass: m === -Infinity ? Math.exp(-Infinity) : Math.exp(m + Math.log(s)), exponent: Number.isFinite(minK) ? minK : null };
}

describe('walls diagnostic passes', () => {
  it('outer-layer fraction equals the direct sum, bit for bit', () => {
    for (const shape of shapes) {
      const grid = new Grid(shape.map(() => [-1, 1] as [number, number]), shape);
      const r = rng(shape.length * 1000 + grid.size);
      const field = Float64Array.from({ length: grid.size }, () => r());
      expect(outerLayerFraction(grid, field)).toBe(directOuterFraction(grid, field));
      // A field living only on one cell: 1 or 0 depending on where that cell is.
      for (const c of [0, grid.size >> 1, grid.size - 1]) {
        const spike = new Float64Array(grid.size);
        spike[c] = 2;
        expect(outerLayerFraction(grid, spike)).toBe(grid.index(c).some((m, k) => m === 0 || m === grid.n[k] - 1) ? 1 : 0);
      }
    }
  });

  it('tail beyond the box equals the direct per-wall sum: decaying, non-decaying and −∞ cells', () => {
    for (const shape of shapes) {
      const grid = new Grid(shape.map((_, k) => [-1 - k, 2 + k] as [number, number]), shape);
      const r = rng(grid.size * 7 + shape.length);
      const xs = Array.from({ length: grid.size }, (_, i) => grid.centre(i));
      // ln π = −β ln(1 + |x|²): power-law tails (decaying fast enough), some cells −∞ (π = 0 there).
      for (const beta of [0.2, 3]) {
        const logPi = Float64Array.from(xs, (x) => (r() < 0.1 ? -Infinity : -beta * Math.log(1 + x.reduce((a, v) => a + v * v, 0))));
        const got = tailBeyond(grid, logPi, new Array<number>(grid.dim).fill(0));
        const want = directTail(grid, logPi, new Array<number>(grid.dim).fill(0));
        expect(got.mass).toBe(want.mass);
        expect(got.exponent).toBe(want.exponent);
      }
    }
  });
});
