/**
 * Basins of attraction on the grid (src/diagnostics/basins.ts) against the continuous gradient
 * flow of f, and the valley parametrization (src/diagnostics/valley.ts), independent of any run.
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { basinLabels, massPerBasin } from '../src/diagnostics/basins.js';
import { valleyCurve } from '../src/diagnostics/valley.js';

const centresOf = (grid: Grid): number[][] => Array.from({ length: grid.size }, (_, i) => grid.centre(i));

describe('basinLabels', () => {
  it('1-D coarse grid with a minimum at the wall: split at the exact local maximum x = 2/3 of f = x(x − 2)²', () => {
    // f′ = (x − 2)(3x − 2): maximum at 2/3, minima at the wall x = 0 (f′(0) = 4 > 0) and at x = 2.
    const f = (x: number): number => x * (x - 2) ** 2;
    const grid = new Grid([[0, 3]], [9]);
    const fc = Float64Array.from(centresOf(grid), (c) => f(c[0]));
    const { label, basins } = basinLabels(grid, fc);
    expect(basins.length).toBe(2);
    // Deepest first: the interior minimum's lowest cell (f(11/6) ≈ 0.051) before the wall cell (f(1/6) ≈ 0.56).
    expect(basins[0].x[0]).toBeCloseTo(11 / 6, 12);
    expect(basins[1].x[0]).toBeCloseTo(1 / 6, 12);
    centresOf(grid).forEach((c, i) => expect(label[i]).toBe(c[0] < 2 / 3 ? 1 : 0));
    expect(basins.map((b) => b.cells)).toEqual([7, 2]);
  });

  it('2-D landscape with 3 minima: labels agree with the continuous gradient flow (RK4) except beside the separatrices', () => {
    const wells = [
      { c: [-1, -0.8], a: 1, s: 0.6 },
      { c: [1.1, -0.5], a: 0.8, s: 0.5 },
      { c: [0.1, 1.2], a: 0.9, s: 0.7 },
    ];
    const f = (x: number, y: number): number => 2 + 0.05 * (x * x + y * y) - wells.reduce((acc, w) => acc + w.a * Math.exp(-((x - w.c[0]) ** 2 + (y - w.c[1]) ** 2) / (2 * w.s ** 2)), 0);
    // A weak confinement keeps ∇f away from 0 far from the wells, so the flow from every cell ends at a minimum.
    const grad = (x: number, y: number): [number, number] => {
      let gx = 0.1 * x;
      let gy = 0.1 * y;
      for (const w of wells) {
        const e = w.a * Math.exp(-((x - w.c[0]) ** 2 + (y - w.c[1]) ** 2) / (2 * w.s ** 2));
        gx += (e * (x - w.c[0])) / w.s ** 2;
        gy += (e * (y - w.c[1])) / w.s ** 2;
      }
      return [gx, gy];
    };
    const grid = new Grid(
      [
        [-2.5, 2.5],
        [-2.5, 2.5],
      ],
      [40, 40],
    );
    const fc = Float64Array.from(centresOf(grid), (c) => f(c[0], c[1]));
    const { label, basins } = basinLabels(grid, fc);
    expect(basins.length).toBe(3);
    // Each basin's minimum is the grid cell nearest a well's true minimum (within a cell diagonal).
    const flowEnd = (x0: number, y0: number): number[] => {
      let x = x0;
      let y = y0;
      const dt = 0.05;
      for (let s = 0; s < 4000; s++) {
        const k1 = grad(x, y);
        const k2 = grad(x - (dt / 2) * k1[0], y - (dt / 2) * k1[1]);
        const k3 = grad(x - (dt / 2) * k2[0], y - (dt / 2) * k2[1]);
        const k4 = grad(x - dt * k3[0], y - dt * k3[1]);
        x -= (dt / 6) * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]);
        y -= (dt / 6) * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]);
        // The box's walls stop the flow (reflecting walls: the flow is projected onto the box).
        x = Math.min(2.5, Math.max(-2.5, x));
        y = Math.min(2.5, Math.max(-2.5, y));
        if (Math.hypot(...grad(x, y)) < 1e-9) break;
      }
      return [x, y];
    };
    const minima = wells.map((w) => flowEnd(w.c[0], w.c[1]));
    const basinOfMin = minima.map((m) => basins.findIndex((b) => Math.hypot(b.x[0] - m[0], b.x[1] - m[1]) < Math.hypot(...grid.h)));
    expect(new Set(basinOfMin).size).toBe(3);
    expect(basinOfMin.every((b) => b >= 0)).toBe(true);
    let disagree = 0;
    const exact = new Int32Array(grid.size);
    centresOf(grid).forEach((c, i) => {
      const end = flowEnd(c[0], c[1]);
      const k = minima.findIndex((m) => Math.hypot(m[0] - end[0], m[1] - end[1]) < 1e-3);
      exact[i] = k >= 0 ? basinOfMin[k] : -1;
    });
    // Steepest descent over 8 directions follows the flow to within 45°: where a flow line runs beside
    // a separatrix for a long way the discrete path may cross it, so a disagreeing cell must lie
    // within a few cells of the flow's region of the grid's basin.
    const R = 4;
    for (let i = 0; i < grid.size; i++) {
      if (exact[i] === label[i]) continue;
      disagree++;
      const [ix, iy] = [Math.floor(i / grid.strides[0]) % 40, Math.floor(i / grid.strides[1]) % 40];
      let beside = false;
      for (let dx = -R; dx <= R; dx++) for (let dy = -R; dy <= R; dy++) {
        const j = (ix + dx) * grid.strides[0] + (iy + dy) * grid.strides[1];
        if (ix + dx >= 0 && ix + dx < 40 && iy + dy >= 0 && iy + dy < 40 && exact[j] === label[i]) beside = true;
      }
      expect(beside, `cell ${i} at (${grid.centre(i)}) labelled ${label[i]}, flow says ${exact[i]}`).toBe(true);
    }
    // Measured: 2.7% of the 1600 cells.
    expect(disagree / grid.size).toBeLessThan(0.04);
    // Masses of any field per basin add up to its total to round-off.
    const rho = Float64Array.from(centresOf(grid), (c) => Math.exp(-(c[0] ** 2) - 2 * c[1] ** 2));
    const m = massPerBasin(label, 3, rho, grid.cellVolume);
    const total = rho.reduce((a, b) => a + b, 0) * grid.cellVolume;
    expect(Math.abs(m.reduce((a, b) => a + b, 0) - total)).toBeLessThan(1e-14 * total * 10);
  });

  it('plateaus: a shelf drains into the well below it, and a flat floor is one basin of all its cells', () => {
    // Shelf at f = 1 on [1, 2], the well at x = 3 below it, rising to the left: one basin.
    const shelf = (x: number): number => (x < 1 ? 1 + (1 - x) ** 2 : x <= 2 ? 1 : (x - 3) ** 2);
    const g1 = new Grid([[0, 3.5]], [35]);
    const r1 = basinLabels(g1, Float64Array.from(centresOf(g1), (c) => shelf(c[0])));
    expect(r1.basins.length).toBe(1);
    expect(r1.basins[0].x[0]).toBeCloseTo(2.95, 12);
    // Flat floor f = 0 on |x| ≤ 1/2 (10 cells of h = 0.1), and a second well at x = 1.5.
    const floor = (x: number): number => Math.min(Math.max(Math.abs(x) - 0.5, 0) ** 2, 0.05 + (x - 1.5) ** 2);
    const g2 = new Grid([[-2, 2]], [40]);
    const r2 = basinLabels(g2, Float64Array.from(centresOf(g2), (c) => floor(c[0])));
    expect(r2.basins.length).toBe(2);
    expect(r2.basins[0].sinkCells).toBe(10);
    expect(r2.basins[0].f).toBe(0);
    // Cells left of the pass between the floor and the well at 1.5 belong to the floor.
    centresOf(g2).forEach((c, i) => expect(r2.label[i]).toBe(floor(c[0]) === 0.05 + (c[0] - 1.5) ** 2 && c[0] > 1 ? 1 : 0));
  });

  it('seeds: a zero component is one basin whatever the descent inside it, numbered first', () => {
    const grid = new Grid([[0, 4]], [40]);
    // Two shallow sinks inside the seed's cells (x ∈ [0.5, 1.5]) and a deeper well at x = 3.
    const f = (x: number): number => (x < 2 ? 0.2 + 0.1 * Math.sin(10 * x) + (x - 1) ** 2 : (x - 3) ** 2);
    const fc = Float64Array.from(centresOf(grid), (c) => f(c[0]));
    const seedCells = centresOf(grid).flatMap((c, i) => (c[0] > 0.5 && c[0] < 1.5 ? [i] : []));
    const free = basinLabels(grid, fc);
    expect(free.basins.length).toBeGreaterThan(2);
    const { basins, label } = basinLabels(grid, fc, [{ cells: seedCells, location: [1], f: 0.1 }]);
    expect(basins.length).toBe(2);
    expect(basins[0]).toMatchObject({ id: 1, kind: 'zero component', component: 1, x: [1], sinkCells: seedCells.length });
    for (const i of seedCells) expect(label[i]).toBe(0);
    expect(basins[0].cells + basins[1].cells).toBe(grid.size);
  });
});

describe('valleyCurve', () => {
  it('a straight band: the mid-line, its length the distance between the end cells; a ring is refused as a loop', () => {
    const grid = new Grid(
      [
        [0, 2],
        [-1, 1],
      ],
      [20, 20],
    );
    // Band of 4 rows around y = 0 (centres ±0.05, ±0.15), f rising across it.
    const cells = centresOf(grid).flatMap((c, i) => (Math.abs(c[1]) < 0.2 ? [i] : []));
    const fc = Float64Array.from(centresOf(grid), (c) => c[1] ** 2);
    const curve = valleyCurve(grid, cells, fc);
    if ('reason' in curve) throw new Error(curve.reason);
    expect(curve.length).toBeCloseTo(1.9, 12);
    for (const p of curve.points) expect(Math.abs(p[1])).toBeLessThan(1e-12);
    expect(curve.points[0][0]).toBeCloseTo(0.05, 12);
    const ring = centresOf(grid).flatMap((c, i) => (Math.abs(Math.hypot(c[0] - 1, c[1]) - 0.6) < 0.12 ? [i] : []));
    const fr = Float64Array.from(centresOf(grid), (c) => (Math.hypot(c[0] - 1, c[1]) - 0.6) ** 2);
    const r = valleyCurve(grid, ring, fr);
    expect('reason' in r && r.reason).toMatch(/not a simple open curve .*closed loop or branches/);
  });
});
