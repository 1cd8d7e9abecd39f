/**
 * Basins of attraction (src/diagnostics/basins.ts basinLabels), whose steepest-descent pass and
 * path labelling were rewritten for speed (issue #19): every cell must share the basin of the
 * neighbour that a brute-force steepest descent written here picks (3^d neighbours from the
 * multi-index, distances from the cell widths, ties to the lowest index), on 1-D/2-D/3-D grids
 * with thin axes, plateaus, equal slopes and seeds.
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { basinLabels } from '../src/diagnostics/basins.js';
import { rng } from './nonsym-helpers.js';


/** The steepest strictly lower neighbour of cell i (beyond round-off of f), or −1. */
function bruteDescent(grid: Grid, fc: Float64Array, i: number): number {
  const idx = grid.index(i);
  let best = -1;
  let bestSlope = 0;
  const total = 3 ** grid.dim;
  for (let m = 0; m < total; m++) {
    let q = 0;
    let j = 0;
    let inside = true;
    let rest = m;
    for (let k = 0; k < grid.dim; k++) {
      const o = (rest % 3) - 1;
      rest = Math.floor(rest / 3);
      const mk = idx[k] + o;
      if (mk < 0 || mk >= grid.n[k]) inside = false;
      j += mk * grid.strides[k];
      q += (o * grid.h[k]) ** 2;
    }
    if (!inside || q === 0) continue;
    const drop = fc[i] - fc[j];
    if (!(drop > 1e-12 * Math.max(Math.abs(fc[i]), Math.abs(fc[j])))) continue;
    const slope = drop / Math.sqrt(q);
    if (slope > bestSlope || (slope === bestSlope && j < best)) {
      bestSlope = slope;
      best = j;
    }
  }
  return best;
}

const shapes: number[][] = [[1], [2], [30], [5, 7], [1, 9], [9, 1], [12, 9], [4, 3, 5], [3, 1, 4], [6, 6, 6]];

describe('basinLabels: steepest descent over the 3^d neighbours', () => {
  it('labels each cell as the neighbour its brute-force steepest descent picks, seeds as themselves', () => {
    let checked = 0;
    let differentNeighbourBasins = 0;
    for (const shape of shapes) {
      // Unequal widths, so that diagonal and axis slopes differ and equal drops give different slopes.
      const grid = new Grid(shape.map((_, k) => [0, 1 + k] as [number, number]), shape);
      for (let seed = 1; seed <= 10; seed++) {
        for (const levels of [0, 3, 6]) {
          const r = rng(seed * 101 + levels);
          const fc = Float64Array.from({ length: grid.size }, () => (levels > 0 ? Math.floor(r() * levels) : r()));
          const seeds = seed % 3 === 0 && grid.size > 3 ? [{ cells: [0, 1] }, { cells: [grid.size - 1] }] : [];
          const { label, basins } = basinLabels(grid, fc, seeds);
          seeds.forEach((s, b) => s.cells.forEach((c) => expect(label[c]).toBe(b)));
          const seeded = new Set(seeds.flatMap((s) => s.cells));
          for (let i = 0; i < grid.size; i++) {
            expect(label[i]).toBeGreaterThanOrEqual(0);
            if (seeded.has(i)) continue;
            const j = bruteDescent(grid, fc, i);
            if (j < 0) continue;
            expect(label[i]).toBe(label[j]);
            checked++;
            // Would another lower neighbour have given another basin? Then the choice was tested, not just the set.
            if (grid.index(i).length > 0) {
              for (let c = 0; c < grid.size; c++) {
                if (c !== j && fc[c] < fc[i] && label[c] !== label[j] && grid.index(c).every((m, k) => Math.abs(m - grid.index(i)[k]) <= 1)) {
                  differentNeighbourBasins++;
                  break;
                }
              }
            }
          }
          const counts = new Array<number>(basins.length).fill(0);
          for (const b of label) counts[b]++;
          expect(basins.map((b) => b.cells)).toEqual(counts);
        }
      }
    }
    expect(checked).toBeGreaterThan(3000);
    expect(differentNeighbourBasins).toBeGreaterThan(100);
  });
});
