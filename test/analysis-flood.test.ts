/**
 * The flood of f behind the Kramers prediction (critical-points.ts floodMerges) and the order it
 * floods in (value-order.ts orderByValue), rewritten for speed (issue #19): checked against a
 * direct comparison sort, the previous union–find written out here, and properties of the merge
 * tree found by brute force (mountain-pass heights by threshold search, basin count by local minima).
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { floodMerges, type BasinMerge } from '../src/estimators/critical-points.js';
import { orderByValue } from '../src/estimators/value-order.js';
import { rng } from './nonsym-helpers.js';


/** The flood as it was written before the rewrite (comparison sort, root lists per cell): its output is the contract. */
function previousFloodMerges(grid: Grid, fc: Float64Array): BasinMerge[] {
  const n = grid.size;
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => fc[a] - fc[b]);
  const parent = new Int32Array(n).fill(-1);
  const lowest = new Int32Array(n).fill(-1);
  const find = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r];
    return r;
  };
  const merges: BasinMerge[] = [];
  const idx = new Array<number>(grid.dim);
  for (const c of order) {
    parent[c] = c;
    lowest[c] = c;
    for (let k = 0; k < grid.dim; k++) idx[k] = Math.floor(c / grid.strides[k]) % grid.n[k];
    const roots: number[] = [];
    for (let k = 0; k < grid.dim; k++) {
      for (const dir of [-1, 1]) {
        const j = idx[k] + dir;
        if (j < 0 || j >= grid.n[k]) continue;
        const nb = c + dir * grid.strides[k];
        if (parent[nb] < 0) continue;
        const r = find(nb);
        if (!roots.includes(r)) roots.push(r);
      }
    }
    if (roots.length === 0) continue;
    roots.sort((a, b) => fc[lowest[a]] - fc[lowest[b]]);
    const deep = roots[0];
    for (let t = 1; t < roots.length; t++) {
      merges.push({ deepCell: lowest[deep], shallowCell: lowest[roots[t]], saddleCell: c });
      parent[roots[t]] = deep;
    }
    parent[c] = deep;
  }
  return merges;
}

function axisNeighbours(grid: Grid, c: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < grid.dim; k++) {
    const j = Math.floor(c / grid.strides[k]) % grid.n[k];
    if (j > 0) out.push(c - grid.strides[k]);
    if (j < grid.n[k] - 1) out.push(c + grid.strides[k]);
  }
  return out;
}

/** (f, index) lexicographic: the order the flood visits cells in. */
const before = (fc: Float64Array, a: number, b: number): boolean => fc[a] < fc[b] || (fc[a] === fc[b] && a < b);

/** Lowest level L such that a and b are joined by a path of axis neighbours inside {f ≤ L}: breadth-first search per level. */
function minimaxHeight(grid: Grid, fc: Float64Array, a: number, b: number): number {
  const levels = [...new Set(Array.from(fc))].sort((x, y) => x - y);
  for (const L of levels) {
    if (fc[a] > L || fc[b] > L) continue;
    const seen = new Uint8Array(grid.size);
    const queue = [a];
    seen[a] = 1;
    while (queue.length > 0) {
      const c = queue.pop()!;
      if (c === b) return L;
      for (const nb of axisNeighbours(grid, c)) {
        if (!seen[nb] && fc[nb] <= L) {
          seen[nb] = 1;
          queue.push(nb);
        }
      }
    }
  }
  return NaN;
}

/** Landscapes with many ties: a few levels (plateaus, equal minima, equal passes), or smooth noise. */
function landscape(grid: Grid, seed: number, levels: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: grid.size }, () => (levels > 0 ? Math.floor(r() * levels) - 1 : r() * 2 - 1));
}

const shapes: number[][] = [[1], [2], [17], [64], [5, 7], [12, 9], [1, 13], [4, 3, 5], [6, 6, 6]];

describe('orderByValue: the stable order of the cells by value', () => {
  it('equals a comparison sort with index tie-break, with ties, ±0, ±∞, subnormals and the full double range', () => {
    const r = rng(7);
    const specials = [0, -0, Infinity, -Infinity, 5e-324, -5e-324, 2.2e-308, 1e308, -1e308, 1, -1, 0.5];
    for (const n of [0, 1, 2, 3, 10, 1000, 70_001]) {
      const v = Float64Array.from({ length: n }, (_, i) => {
        const u = r();
        if (u < 0.2) return specials[i % specials.length];
        if (u < 0.5) return Math.floor(r() * 7) - 3;
        return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
      });
      const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => (v[a] < v[b] ? -1 : v[a] > v[b] ? 1 : a - b));
      expect(Array.from(orderByValue(v))).toEqual(expected);
    }
  });

  it('orders values that agree in their leading bits (near-ties a packed key cannot tell apart) by value, then index', () => {
    const r = rng(11);
    for (const n of [5, 300, 5000]) {
      // 1 ± a few ulps·2^k: same sign, exponent and top mantissa bits, different values; and exact repeats.
      const v = Float64Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (1 + Math.floor(r() * 40) * 2 ** -45));
      const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => (v[a] < v[b] ? -1 : v[a] > v[b] ? 1 : a - b));
      expect(Array.from(orderByValue(v))).toEqual(expected);
    }
  });

  it('keeps the comparator order when a value is NaN', () => {
    const v = Float64Array.from([3, NaN, 1, 2, NaN, 0]);
    const expected = Array.from(Uint32Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]));
    expect(Array.from(orderByValue(v))).toEqual(expected);
  });
});

describe('floodMerges: the merge tree of the flood of f', () => {
  it('is the previous implementation, merge for merge, on 1-D/2-D/3-D landscapes with plateaus and ties', () => {
    let compared = 0;
    for (const shape of shapes) {
      const grid = new Grid(shape.map(() => [-1, 1] as [number, number]), shape);
      for (let seed = 1; seed <= 12; seed++) {
        for (const levels of [0, 2, 3, 6]) {
          const fc = landscape(grid, seed * 31 + levels, levels);
          expect(floodMerges(grid, fc)).toEqual(previousFloodMerges(grid, fc));
          compared++;
        }
      }
    }
    expect(compared).toBe(shapes.length * 48);
  });

  it('has one merge per extra basin, each at the mountain-pass height between its two minima (brute force)', () => {
    for (const shape of shapes) {
      if (shape.reduce((a, b) => a * b, 1) > 150) continue;
      const grid = new Grid(shape.map(() => [-1, 1] as [number, number]), shape);
      for (let seed = 1; seed <= 6; seed++) {
        for (const levels of [0, 3]) {
          const fc = landscape(grid, seed * 17 + levels, levels);
          const merges = floodMerges(grid, fc);
          // A basin starts at every cell that no axis neighbour precedes in the flood order.
          const starts: number[] = [];
          for (let c = 0; c < grid.size; c++) if (!axisNeighbours(grid, c).some((nb) => before(fc, nb, c))) starts.push(c);
          expect(merges.length).toBe(starts.length - 1);
          // Each basin but the last survivor is absorbed once; the survivor is a global minimum (which one, among equals, is the flood's tie rule).
          const shallow = merges.map((m) => m.shallowCell).sort((a, b) => a - b);
          const survivor = starts.filter((c) => !shallow.includes(c));
          expect(survivor.length).toBe(1);
          expect(fc[survivor[0]]).toBe(Math.min(...fc));
          expect(shallow).toEqual(starts.filter((c) => c !== survivor[0]));
          for (let t = 0; t < merges.length; t++) {
            const m = merges[t];
            expect(fc[m.deepCell]).toBeLessThanOrEqual(fc[m.shallowCell]);
            expect(fc[m.saddleCell]).toBe(minimaxHeight(grid, fc, m.deepCell, m.shallowCell));
            if (t > 0) expect(fc[m.saddleCell]).toBeGreaterThanOrEqual(fc[merges[t - 1].saddleCell]);
          }
        }
      }
    }
  });
});
