/**
 * A run's set-up evaluates f once per quadrature node (issue #19 item 1): the cell averages of
 * ln f behind E log f come from π's 3^d Gauss nodes where ln f is smooth on the cell, the centre
 * values of the regime classification from π's centre node. Checked here: (1) the cell averages
 * of ln f against a high-order tensor Gauss–Legendre quadrature written in this file — the shared
 * 3^d rule is at least as accurate as the 2^d rule it replaces, cell by cell; (2) where a node of
 * f hits a zero (f = x² + y², a zero at a cell centre) the cells fall back to the 2^d rule, bit for
 * bit what it gives alone; (3) the number of evaluations of f (15 per cell in 2-D instead of 20);
 * (4) the regime from the shared centre values equals the regime from its own evaluation.
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { Problem, isFault, type NoiseModel } from '../solvers/problem.js';
import type { PointFunction } from '../solvers/quadrature.js';
import { classifyRegime } from '../src/diagnostics/regime.js';
import { DistanceTracker } from '../src/diagnostics/distances.js';
import { setUp } from '../src/run/setup.js';
import { INLINE_FILE, parseScenarioText } from '../src/scenario/load.js';
import { pointFn } from './helpers/problems.js';
import { gaussLegendre as gaussLegendreUnit } from './helpers/gauss-legendre.js';

const mult = (etaSigma: number, eps = 0): NoiseModel => ({ kind: 'multiplicative', etaSigma, eps });
const reference = (x: number, y: number): number => 0.05 + (x * x - 1) ** 2 + y * y;

/** Gauss–Legendre nodes and weights on [−1/2, 1/2] (the shared helper's rule on [−1, 1], halved). */
function gaussLegendre(n: number): { x: number[]; w: number[] } {
  const g = gaussLegendreUnit(n);
  return { x: g.x.map((z) => z / 2), w: g.w.map((v) => v / 2) };
}

/** Cell average of ln f over cell c by an m×m Gauss–Legendre rule (2-D). */
function cellLogAverage(grid: Grid, fn: (x: number, y: number) => number, c: number, rule: { x: number[]; w: number[] }): number {
  const i = Math.floor(c / grid.strides[0]);
  const j = c % grid.n[1];
  let s = 0;
  for (let a = 0; a < rule.x.length; a++) {
    for (let b = 0; b < rule.x.length; b++) {
      const x = grid.lo[0] + (i + 0.5 + rule.x[a]) * grid.h[0];
      const y = grid.lo[1] + (j + 0.5 + rule.x[b]) * grid.h[1];
      s += rule.w[a] * rule.w[b] * Math.log(fn(x, y));
    }
  }
  return s;
}

/** The tracker's ln f average of cell c: E log f of all the mass in that cell. */
function trackedLogF(tracker: DistanceTracker, grid: Grid, c: number): number {
  const rho = new Float64Array(grid.size);
  rho[c] = 1 / grid.cellVolume;
  return tracker.measure(0, rho).meanLogLoss as number;
}

function counted(fn: (...x: number[]) => number): { f: PointFunction; evals: () => number } {
  const inner = pointFn(fn);
  let n = 0;
  return {
    f: (coords, out) => {
      n += out.length;
      inner(coords, out);
    },
    evals: () => n,
  };
}

/** What setUp does for a run: π, the flux coefficients, the centre values and ln f from one set of evaluations. */
function sharedSetUp(grid: Grid, f: PointFunction, noise: NoiseModel): { problem: Problem; centre: Float64Array; logF: Float64Array } {
  const keep = { centre: new Float64Array(grid.size), logF: new Float64Array(grid.size) };
  const problem = Problem.build(grid, f, noise, keep);
  if (isFault(problem)) throw new Error(problem.reason);
  return { problem, ...keep };
}

describe('set-up: f once per quadrature node (issue #19 item 1)', () => {
  it('ln f cell averages from π’s 3×3 nodes are at least as accurate as the 2×2 rule, against a 10×10 Gauss–Legendre reference', () => {
    const grid = new Grid(
      [
        [-2, 2],
        [-2, 2],
      ],
      [64, 64],
    );
    const f = pointFn(reference);
    const { problem, logF } = sharedSetUp(grid, f, mult(0.5));
    const shared = new DistanceTracker(problem, 0, [], f, logF);
    const own = new DistanceTracker(problem, 0, [], f);
    const high = gaussLegendre(10);
    const two = gaussLegendre(2);
    let worstShared = 0;
    let worstOwn = 0;
    // Every 7th cell and the cells around the minima (±1, 0), where ln f curves most.
    const cells = new Set<number>();
    for (let c = 0; c < grid.size; c += 13) cells.add(c);
    for (let i = 44; i < 52; i++) for (let j = 28; j < 36; j++) cells.add(i * grid.strides[0] + j);
    for (const c of cells) {
      const ref = cellLogAverage(grid, reference, c, high);
      const eShared = Math.abs(trackedLogF(shared, grid, c) - ref);
      const eOwn = Math.abs(trackedLogF(own, grid, c) - ref);
      // The 2×2 rule written here: the tracker's own rule is what it says.
      expect(Math.abs(trackedLogF(own, grid, c) - cellLogAverage(grid, reference, c, two))).toBeLessThan(1e-13);
      expect(eShared, `cell ${c}`).toBeLessThanOrEqual(eOwn + 1e-15);
      worstShared = Math.max(worstShared, eShared);
      worstOwn = Math.max(worstOwn, eOwn);
    }
    // O(h⁶) against O(h⁴): at h = 1/16 the shared rule's worst cell is far better (at h = 1/8: ~11×).
    expect(worstShared).toBeLessThan(0.05 * worstOwn);
    expect(worstOwn).toBeGreaterThan(1e-6);
  });

  it('cells with a node at a zero of f keep the 2×2 rule, bit for bit; the shared averages elsewhere, no worse than the 2×2 rule also beside the zero', () => {
    // 33² on [−1, 1]²: the zero of f = x² + y² is the centre of the middle cell.
    const grid = new Grid(
      [
        [-1, 1],
        [-1, 1],
      ],
      [33, 33],
    );
    const fn = (x: number, y: number): number => x * x + y * y;
    const f = pointFn(fn);
    const { problem, logF } = sharedSetUp(grid, f, mult(4));
    const middle = 16 * grid.strides[0] + 16;
    expect(Number.isNaN(logF[middle])).toBe(true);
    const shared = new DistanceTracker(problem, 0, [], f, logF.slice());
    const own = new DistanceTracker(problem, 0, [], f);
    let fallbacks = 0;
    for (let c = 0; c < grid.size; c++) {
      if (!Number.isNaN(logF[c])) continue;
      fallbacks++;
      expect(trackedLogF(shared, grid, c)).toBe(trackedLogF(own, grid, c));
    }
    // The middle cell and its neighbours, where f varies by more than half its average: a few cells, not the grid.
    expect(fallbacks).toBeGreaterThanOrEqual(1);
    expect(fallbacks).toBeLessThan(30);
    // Every cell the shared rule keeps, also those a few cells from the zero (ln f nearly singular
    // beside them): no worse than the 2×2 rule, against a composite reference (10×10
    // Gauss–Legendre on each of 4×4 sub-cells).
    const high = gaussLegendre(10);
    const composite = (c: number): number => {
      const sub = new Grid(
        [
          [grid.lo[0] + Math.floor(c / grid.strides[0]) * grid.h[0], grid.lo[0] + (Math.floor(c / grid.strides[0]) + 1) * grid.h[0]],
          [grid.lo[1] + (c % grid.n[1]) * grid.h[1], grid.lo[1] + ((c % grid.n[1]) + 1) * grid.h[1]],
        ],
        [4, 4],
      );
      let sum = 0;
      for (let q = 0; q < 16; q++) sum += cellLogAverage(sub, fn, q, high) / 16;
      return sum;
    };
    let checked = 0;
    for (let c = 0; c < grid.size; c++) {
      if (Number.isNaN(logF[c])) continue;
      const i = Math.floor(c / grid.strides[0]);
      const j = c % grid.n[1];
      // The 7×7 block around the zero and a sample of the rest.
      if (Math.max(Math.abs(i - 16), Math.abs(j - 16)) > 3 && c % 11 !== 0) continue;
      const ref = composite(c);
      expect(Math.abs(trackedLogF(shared, grid, c) - ref), `cell ${c}`).toBeLessThanOrEqual(Math.abs(trackedLogF(own, grid, c) - ref) + 1e-15);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('π, the flux coefficients, the regime’s centre values and ln f: 15 evaluations of f per cell in 2-D (was 20), the same regime', () => {
    const grid = new Grid(
      [
        [-2, 2],
        [-2, 2],
      ],
      [48, 48],
    );
    const noise = mult(0.5);
    // Shared: the run's set-up.
    const a = counted(reference);
    const { problem, centre, logF } = sharedSetUp(grid, a.f, noise);
    // 9 cell nodes and 3 nodes per face on each of the 2 axes: π and the flux coefficients.
    expect(a.evals()).toBe(15 * grid.size);
    const regimeShared = classifyRegime(grid, a.f, noise, undefined, undefined, centre);
    new DistanceTracker(problem, 0, [], a.f, logF);
    // Each part on its own (as before): the regime's centre pass and the tracker's 2×2 nodes again.
    const b = counted(reference);
    const own = Problem.build(grid, b.f, noise);
    if (isFault(own)) throw new Error(own.reason);
    expect(b.evals()).toBe(15 * grid.size);
    const regimeOwn = classifyRegime(grid, b.f, noise);
    new DistanceTracker(own, 0, [], b.f);
    expect(b.evals() - a.evals()).toBe(5 * grid.size);
    expect(regimeShared).toEqual(regimeOwn);
    expect(Array.from(problem.psi)).toEqual(Array.from(own.psi));
    expect(Array.from(problem.f)).toEqual(Array.from(own.f));
  });

  it('3-D, and f beyond the range a product of node values holds: the 3^d rule’s ln f where the products fit, the 2^d rule elsewhere', () => {
    const grid = new Grid(
      [
        [-1, 1],
        [-1, 1],
        [-1, 1],
      ],
      [10, 10, 10],
    );
    // 1e60 × a smooth f for x > 0 (a cell face): a product of 8 corner values reaches 1e480 there (fallback); O(1) for x < 0.
    const fn = (x: number, y: number, z: number): number => (1 + y * y + 0.5 * z * z + 0.1 * x) * (x > 0 ? 1e60 : 1);
    const f = pointFn(fn);
    const keep = { logF: new Float64Array(grid.size) };
    const problem = Problem.build(grid, f, mult(2), keep);
    if (isFault(problem)) throw new Error(problem.reason);
    const g = [-Math.sqrt(3 / 5) / 2, 0, Math.sqrt(3 / 5) / 2];
    const w = [5 / 18, 8 / 18, 5 / 18];
    let kept = 0;
    let fallback = 0;
    for (let c = 0; c < grid.size; c++) {
      const [i, j, k] = [Math.floor(c / 100), Math.floor(c / 10) % 10, c % 10];
      if (Number.isNaN(keep.logF[c])) {
        fallback++;
        expect(i).toBeGreaterThanOrEqual(5);
        continue;
      }
      kept++;
      let ref = 0;
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++)
          for (let e = 0; e < 3; e++) ref += w[a] * w[b] * w[e] * Math.log(fn(-1 + (i + 0.5 + g[a]) * 0.2, -1 + (j + 0.5 + g[b]) * 0.2, -1 + (k + 0.5 + g[e]) * 0.2));
      expect(Math.abs(keep.logF[c] - ref), `cell ${c}`).toBeLessThan(1e-12 * Math.max(1, Math.abs(ref)));
    }
    expect(kept).toBe(500);
    expect(fallback).toBe(500);
    // The tracker fills the NaN cells with the 2×2×2 rule: E log f of the mass in one of them.
    const tracker = new DistanceTracker(problem, 0, [], f, keep.logF.slice());
    const own = new DistanceTracker(problem, 0, [], f);
    const rho = new Float64Array(grid.size);
    rho[grid.size - 1] = 1 / grid.cellVolume;
    expect(tracker.measure(0, rho).meanLogLoss).toBe(own.measure(0, rho).meanLogLoss);
  });

  it('setUp keeps the ln f averages for a run (cellLogF) and not otherwise', () => {
    const text = `name: logf
landscape: { expr: "0.05 + (x^2 - 1)^2 + y^2" }
domain: { bounds: [[-2, 2], [-2, 2]], cells: [24, 24] }
noise: { model: multiplicative, eta: 0.05, sigma: 10 }
initial: { gaussian: { mean: [1, 0], std: [0.2, 0.2] } }
time: { end: 0.1, reportEvery: 0.1 }
`;
    const loaded = parseScenarioText(text, INLINE_FILE);
    const run = setUp(loaded, { cellLogF: true });
    const plain = setUp(loaded);
    expect(run.cellLogF?.length).toBe(576);
    expect(plain.cellLogF).toBeUndefined();
    expect(run.regime).toEqual(plain.regime);
    expect(Array.from(run.problem.psi)).toEqual(Array.from(plain.problem.psi));
  });
});
