/**
 * Fields as ndarray views (src/field): the view indexes like solvers/grid.ts's flat C order,
 * marginals and slices against definitions written here with multi-indices from Grid.index, and
 * initial densities (src/run/initial.ts, now on ndarray-ops) against exact cell integrals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { fieldView, zeroField } from '../src/field/field.js';
import { contiguous, marginal, midSlices, slice } from '../src/field/marginal.js';
import { initialDensity } from '../src/run/initial.js';
import { writeNpy } from '../src/io/npy.js';

const dir = mkdtempSync(join(tmpdir(), 'fps-field-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic values with no structure (a linear congruential sequence in (0, 1)). */
function values(n: number, seed = 7): Float64Array {
  const out = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s + 1) / 2147483649;
  }
  return out;
}

const grid3 = new Grid([[-1, 2], [0, 1], [-3, -1]], [5, 4, 3]);

describe('fieldView', () => {
  it('view.get(i, j, k) is the cell whose Grid.index is (i, j, k); writes go through to the flat array', () => {
    const data = values(grid3.size);
    const view = fieldView(grid3, data);
    expect(view.shape).toEqual([5, 4, 3]);
    for (let f = 0; f < grid3.size; f++) expect(view.get(...grid3.index(f))).toBe(data[f]);
    view.set(4, 3, 2, -1);
    expect(data[grid3.size - 1]).toBe(-1);
    expect(() => fieldView(grid3, new Float64Array(grid3.size - 1))).toThrow(/5×4×3 grid has 60 cells, the field holds 59/);
  });
});

describe('marginal', () => {
  it('equals the sum over the other axes of a flat loop, bit for bit, and the exact factor of a separable density', () => {
    const per = grid3.n.map((n, k) => values(n, 11 + k));
    const rho = new Float64Array(grid3.size);
    for (let f = 0; f < grid3.size; f++) {
      const [i, j, k] = grid3.index(f);
      rho[f] = per[0]![i!]! * per[1]![j!]! * per[2]![k!]!;
    }
    for (let axis = 0; axis < 3; axis++) {
      const m = marginal(grid3, rho, axis);
      // Definition: Σ over cells with index j along axis, in flat order, times the other axes' cell widths.
      const direct = new Float64Array(grid3.n[axis]!);
      for (let f = 0; f < grid3.size; f++) direct[grid3.index(f)[axis]!] += rho[f]!;
      // The other axes' cell volume, formed as the module forms it (a product in another order can differ in the last bit).
      const w = grid3.cellVolume / grid3.h[axis]!;
      for (let j = 0; j < direct.length; j++) {
        expect(m[j]).toBe(direct[j]! * w);
        // Separable: the marginal is the axis factor times the integrals of the other factors.
        const others = [0, 1, 2].filter((k) => k !== axis).reduce((a, k) => a * per[k]!.reduce((s, v) => s + v, 0) * grid3.h[k]!, 1);
        expect(Math.abs(m[j]! - per[axis]![j]! * others)).toBeLessThan(1e-14 * others);
      }
      // The marginal integrates to the total mass.
      const total = rho.reduce((a, b) => a + b, 0) * grid3.cellVolume;
      expect(m.reduce((a, b) => a + b, 0) * grid3.h[axis]!).toBeCloseTo(total, 13);
    }
    expect(() => marginal(grid3, rho, 3)).toThrow(/axis 3 is outside 0..2/);
  });

  it('1-D: the marginal is the density itself', () => {
    const g = new Grid([[0, 1]], [7]);
    const rho = values(7);
    expect(Array.from(marginal(g, rho, 0))).toEqual(Array.from(rho));
  });
});

describe('slices', () => {
  it('slice(axis, i) holds the cells with index i along axis; midSlices go through the middle cells', () => {
    const data = values(grid3.size, 3);
    const view = fieldView(grid3, data);
    for (let axis = 0; axis < 3; axis++) {
      const at = grid3.n[axis]! - 1;
      const plane = slice(view, axis, at);
      const want = Array.from(data).filter((_, f) => grid3.index(f)[axis] === at);
      // contiguous copies the view in C order of the remaining axes, which is the flat order of the cells kept.
      expect(Array.from(contiguous(plane))).toEqual(want);
    }
    expect(midSlices(view).map((s) => [s.axis, s.index, s.plane.shape])).toEqual([
      [0, 2, [4, 3]],
      [1, 2, [5, 3]],
      [2, 1, [5, 4]],
    ]);
    expect(() => slice(view, 1, 4)).toThrow(/index 4 is outside 0..3 along axis 1/);
    const line = fieldView({ n: [6] }, values(6));
    expect(Array.from(contiguous(slice(line, 0, 5)))).toEqual([line.get(5)]);
  });

  it('contiguous of a transposed view is the transpose', () => {
    const f = zeroField([3, 4]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) f.set(i, j, 10 * i + j);
    const t = contiguous(f.transpose(1, 0));
    const want: number[] = [];
    for (let j = 0; j < 4; j++) for (let i = 0; i < 3; i++) want.push(10 * i + j);
    expect(Array.from(t)).toEqual(want);
  });
});

describe('initial densities on ndarray views', () => {
  const ctx = { file: 'scenario.yaml', baseDir: dir };

  it('uniform on a box that cuts cells: each cell holds its overlap area over the box area', () => {
    const g = new Grid([[0, 1], [0, 2]], [4, 5]);
    const box: [number, number][] = [[0.1, 0.65], [0.3, 1.5]];
    const rho = initialDensity(g, { uniform: { bounds: box } }, ctx);
    const area = (box[0][1] - box[0][0]) * (box[1][1] - box[1][0]);
    for (let f = 0; f < g.size; f++) {
      const [i, j] = g.index(f);
      const ox = Math.max(0, Math.min((i! + 1) * 0.25, 0.65) - Math.max(i! * 0.25, 0.1));
      const oy = Math.max(0, Math.min((j! + 1) * 0.4, 1.5) - Math.max(j! * 0.4, 0.3));
      // Cell average = (overlap / box area) / cell volume.
      expect(rho[f]).toBeCloseTo((ox * oy) / area / g.cellVolume, 12);
    }
  });

  it('a Gaussian: cell averages equal Simpson quadrature of the normal density over each cell', () => {
    const g = new Grid([[-1, 1], [-1, 1]], [6, 8]);
    const mean = [0.2, -0.1];
    const std = [0.3, 0.5];
    const rho = initialDensity(g, { gaussian: { mean, std } }, ctx);
    const pdf = (x: number, k: number): number => Math.exp(-0.5 * ((x - mean[k]!) / std[k]!) ** 2) / (std[k]! * Math.sqrt(2 * Math.PI));
    const simpson = (a: number, b: number, k: number): number => {
      const n = 200;
      const h = (b - a) / n;
      let s = pdf(a, k) + pdf(b, k);
      for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * pdf(a + i * h, k);
      return (s * h) / 3;
    };
    const cellMass = new Float64Array(g.size);
    let total = 0;
    for (let f = 0; f < g.size; f++) {
      const idx = g.index(f);
      cellMass[f] = idx.reduce((p, i, k) => p * simpson(g.lo[k]! + i * g.h[k]!, g.lo[k]! + (i + 1) * g.h[k]!, k), 1);
      total += cellMass[f]!;
    }
    for (let f = 0; f < g.size; f++) expect(rho[f]).toBeCloseTo(cellMass[f]! / total / g.cellVolume, 9);
  });

  it('a file of values near 1e300 (whose plain sum overflows) is normalized to mass 1 with its shape kept', () => {
    const g = new Grid([[0, 1], [0, 1]], [3, 4]);
    const raw = values(g.size, 5).map((v) => v * 1e300);
    writeNpy(join(dir, 'big.npy'), raw, [3, 4]);
    const rho = initialDensity(g, { file: 'big.npy' }, ctx);
    expect(rho.reduce((a, b) => a + b, 0) * g.cellVolume).toBeCloseTo(1, 14);
    for (let f = 1; f < g.size; f++) expect(rho[f]! / rho[0]!).toBeCloseTo(raw[f]! / raw[0]!, 12);
  });
});
