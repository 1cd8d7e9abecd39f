// The zero-set analysis (src/diagnostics/zero-set.ts) runs a compass search on the widened box of
// up to 2000 cells (issue #19: most of `validate`'s regime classification). cellMinimum was made
// allocation-free for speed; the classification must not change, so its end point must be the one
// the plain array-per-trial-point compass search reaches, bit for bit. The independent method is
// that plain search, written out here as it stood before, run on many landscapes (smooth wells,
// cusps, oscillating and narrow-basin functions, minima of two landscapes) and grids (1-D to 3-D,
// anisotropic cells, cells on the walls), and the components findZeroComponents reports on the
// landscapes of docs/oracles.md §1 Pearson (no zero) and of the regime tests (zeros, valleys).
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { cellMinimum, findZeroComponents, type LandscapeDerivatives } from '../src/diagnostics/zero-set.js';
import { compileExpr, type CompiledExpr } from '../src/landscape/expr.js';
import { centreValues } from '../solvers/quadrature.js';

type F = (p: readonly number[]) => number;

/** The compass search on a cell's box widened by a quarter cell, as written before the rewrite. */
function referenceCellMinimum(grid: Grid, f: F, c: number): number[] | null {
  const centre = grid.centre(c);
  const lo = centre.map((x, k) => Math.max(grid.lo[k], x - 0.75 * grid.h[k]));
  const hi = centre.map((x, k) => Math.min(grid.hi[k], x + 0.75 * grid.h[k]));
  let x = centre;
  let v = f(x);
  let step = grid.h.map((h) => h / 4);
  for (let iter = 0; iter < 400 && step.some((s, k) => s > 1e-3 * grid.h[k]); iter++) {
    let improved = false;
    for (let k = 0; k < grid.dim && !improved; k++) {
      for (const sgn of [1, -1]) {
        const y = x.slice();
        y[k] = Math.min(hi[k], Math.max(lo[k], y[k] + sgn * step[k]));
        const w = f(y);
        if (w < v) {
          x = y;
          v = w;
          improved = true;
          break;
        }
      }
    }
    if (!improved) step = step.map((s) => s / 2);
  }
  const onInnerFace = x.some(
    (xk, k) => (xk - lo[k] <= 2e-3 * grid.h[k] && lo[k] > grid.lo[k]) || (hi[k] - xk <= 2e-3 * grid.h[k] && hi[k] < grid.hi[k]),
  );
  return onInnerFace ? null : x;
}

/** A deterministic generator (mulberry32): the test must not depend on Math.random. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const r2 = (p: readonly number[], c: readonly number[]): number => p.reduce((a, pk, k) => a + (pk - c[k]) ** 2, 0);

/** Landscapes of every kind the search meets, with random centres inside [-1, 1]^d. */
function landscapes(d: number, r: () => number): { name: string; f: F }[] {
  const c = (): number[] => Array.from({ length: d }, () => 2 * r() - 1);
  const a = c();
  const b = c();
  const w = Array.from({ length: d }, () => 1 + 9 * r());
  return [
    { name: 'quadratic well', f: (p) => r2(p, a) },
    { name: 'anisotropic well', f: (p) => p.reduce((s, pk, k) => s + w[k] * (pk - a[k]) ** 2, 0) },
    { name: 'quartic zero', f: (p) => r2(p, a) ** 2 },
    { name: 'cusp', f: (p) => Math.sqrt(Math.sqrt(r2(p, a))) },
    { name: 'narrow basin (min of two landscapes)', f: (p) => Math.min(0.3 + r2(p, a), 1e4 * r2(p, b)) },
    { name: 'oscillating', f: (p) => 1.5 + p.reduce((s, pk, k) => s + Math.sin(7 * w[k] * pk + a[k]), 0) },
    { name: 'valley', f: (p) => (d === 1 ? (p[0] - a[0]) ** 2 : (p[0] - a[0] - 0.3 * p[1]) ** 2) },
    { name: 'plateau with a dent', f: (p) => (r2(p, a) < 0.05 ? r2(p, a) : 0.05) },
    { name: 'linear tilt (minimum on a wall)', f: (p) => 3 + p.reduce((s, pk, k) => s + w[k] * pk, 0) },
  ];
}

describe('cellMinimum: the allocation-free compass search equals the plain one bit for bit', () => {
  const grids: { label: string; grid: Grid }[] = [
    { label: '1-D, 97 cells', grid: new Grid([[-1.3, 1.1]], [97]) },
    { label: '1-D, 2000 cells (the Pearson grid)', grid: new Grid([[-10, 10]], [2000]) },
    { label: '2-D, 23×31 anisotropic', grid: new Grid([[-1, 1.4], [-1.2, 0.9]], [23, 31]) },
    { label: '3-D, 9×7×11', grid: new Grid([[-1, 1], [-1.1, 1], [-0.9, 1.2]], [9, 7, 11]) },
  ];
  for (const { label, grid } of grids) {
    it(`on ${label}`, () => {
      const r = rng(grid.size * 7 + grid.dim);
      let compared = 0;
      let interior = 0;
      for (let round = 0; round < 3; round++) {
        for (const { name, f } of landscapes(grid.dim, r)) {
          // Every cell of the small grids; on the fine 1-D grid a spread sample plus both walls.
          const cells = grid.size <= 1000 ? Array.from({ length: grid.size }, (_, i) => i) : [0, grid.size - 1, ...Array.from({ length: 300 }, () => Math.floor(r() * grid.size))];
          for (const cell of cells) {
            const want = referenceCellMinimum(grid, f, cell);
            const got = cellMinimum(grid, { dim: grid.dim, f }, cell);
            if (want !== null) interior++;
            // toEqual on numbers is Object.is: same bits (and -0 ≠ 0).
            if (got === null || want === null ? got !== want : got.some((g, k) => !Object.is(g, want[k]))) {
              expect({ landscape: name, cell, got }).toEqual({ landscape: name, cell, got: want });
            }
            compared++;
          }
        }
      }
      // The comparison covered both outcomes: searches that end inside their box and ones that leave it.
      expect(interior).toBeGreaterThan(0);
      expect(compared - interior).toBeGreaterThan(0);
    });
  }
});

describe('findZeroComponents with the rewritten search: the components the regime tests expect', () => {
  it('Pearson f = c + b x² (oracles.md §1 Pearson): no zero on the 2000-cell grid, inf f = c at 0', () => {
    const grid = new Grid([[-10, 10]], [2000]);
    const e = compileExpr('0.1 + 0.5*x^2', {}, 1);
    const ev = (c: readonly Float64Array[], o: Float64Array): void => e.evalPoints(c, o);
    const fc = Float64Array.from(centreValues(grid, ev));
    const zs = findZeroComponents(grid, ev, fc, 1, e);
    expect(zs.components).toEqual([]);
    expect(zs.unanalysed).toBe(0);
  });

  it('two quadratic zeros and a quartic one, each found where the formula puts it', () => {
    // f = (x² − 1)² (x − 0.3)⁴ + y²: zeros at x = ±1 (quadratic) and x = 0.3 (quartic along x), y = 0.
    const grid = new Grid([[-2, 2], [-1, 1]], [80, 40]);
    const e = compileExpr('(x^2 - 1)^2 * (x - 0.3)^4 + y^2', {}, 2);
    const ev = (c: readonly Float64Array[], o: Float64Array): void => e.evalPoints(c, o);
    const fc = Float64Array.from(centreValues(grid, ev));
    const zs = findZeroComponents(grid, ev, fc, 1, e);
    const xs = zs.components.map((z) => z.location[0]).sort((a, b) => a - b);
    expect(xs).toHaveLength(3);
    [-1, 0.3, 1].forEach((want, i) => expect(Math.abs(xs[i] - want)).toBeLessThan(1e-3));
    for (const z of zs.components) expect(Math.abs(z.location[1])).toBeLessThan(1e-6);
    const types = zs.components.map((z) => [Math.round(z.location[0] * 10) / 10, z.type]).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(types).toEqual([
      [-1, 'isolated quadratic'],
      [0.3, 'degenerate'],
      [1, 'isolated quadratic'],
    ]);
  });
});

/** The landscape without its interval bounds: findZeroComponents then searches every fallback cell, as before. */
const exhaustive = (e: CompiledExpr): LandscapeDerivatives => ({ at: (p) => e.at(p), gradient: () => e.gradient(), hessian: () => e.hessian() });

/** What the regime verdict is made of, per component, in a stable order. */
function summary(zs: ReturnType<typeof findZeroComponents>): unknown {
  return {
    unanalysed: zs.unanalysed,
    components: zs.components
      .map((z) => ({
        at: z.location.map((v) => Math.round(v * 1e4) / 1e4 + 0),
        type: z.type,
        codimension: z.codimension,
        zeroSetDimension: z.zeroSetDimension,
        walls: z.walls,
        exactExponent: z.exactExponent,
        unresolved: z.unresolved ?? false,
        cells: z.cells.length,
      }))
      .sort((a, b) => JSON.stringify(a.at).localeCompare(JSON.stringify(b.at))),
  };
}

describe('skipping the cells where interval bounds keep f away from 0: the components of the exhaustive search', () => {
  // Zeros of every kind the regime tests name (isolated, several, on a wall, valleys, degenerate,
  // narrow basins under a min, cusps, critical points of floors), each on grids whose fallback
  // list holds every cell (≤ 2000 searches) so the exhaustive search visits them all.
  const cases: { src: string; bounds: [number, number][]; cells: number[] }[] = [
    { src: '0.1 + 0.5*x^2', bounds: [[-10, 10]], cells: [2000] },
    { src: 'x^2', bounds: [[-1, 2]], cells: [301] },
    { src: '(x^2 - 1)^2', bounds: [[-2, 2]], cells: [400] },
    { src: 'x', bounds: [[0, 1]], cells: [200] },
    { src: 'min(0.01*(x - 1)^2 + 0.001, 400*(x + 0.5)^2)', bounds: [[-2, 2]], cells: [50] },
    { src: 'min(0.5 + (x-1)^2, 1e4*(x - 0.0137)^2)', bounds: [[-2, 2]], cells: [40] },
    { src: 'sqrt(abs(x - 0.3))', bounds: [[-1, 1]], cells: [101] },
    { src: 'sin(3*x)^2 + 0.001', bounds: [[-3, 3]], cells: [300] },
    { src: 'sin(3*x)^2', bounds: [[-3, 3]], cells: [300] },
    { src: '0.05 + (x^2 - 1)^2 + y^2', bounds: [[-2, 2], [-2, 2]], cells: [40, 40] },
    { src: '(x^2 - 1)^2 + y^2', bounds: [[-2, 2], [-2, 2]], cells: [40, 40] },
    { src: '(x^2 - 1)^2 * (x - 0.3)^4 + y^2', bounds: [[-2, 2], [-1, 1]], cells: [40, 30] },
    { src: 'y^2 + exp(x)*0', bounds: [[-1, 1], [-1, 1]], cells: [20, 20] },
    { src: 'exp(x)*y^2/2 + 0.2*x^2*(x-0.5)^2', bounds: [[-1, 1], [-1, 1]], cells: [30, 30] },
    { src: 'min(0.01*((x-1)^2 + y^2) + 0.001, (x+0.5)^2 + y^2)', bounds: [[-2, 2], [-2, 2]], cells: [16, 16] },
    { src: 'x*(1 + y^2)', bounds: [[0, 1], [-1, 1]], cells: [20, 20] },
    { src: 'cosh(x) - 1 + log(1 + y^2)', bounds: [[-1, 1], [-1, 1]], cells: [25, 25] },
    { src: '((x-0.5)^2 + y^2 + z^2) * ((x+0.5)^2 + 2*y^2 + z^2)', bounds: [[-1, 1], [-1, 1], [-1, 1]], cells: [8, 8, 8] },
    { src: '0.3 + x^2 + y^2 + z^4', bounds: [[-1, 1], [-1, 1], [-1, 1]], cells: [10, 10, 10] },
    { src: 'min(0.01*((x-1)^2 + y^2 + z^2) + 0.001, (x+0.5)^2 + y^2 + z^2)', bounds: [[-2, 2], [-2, 2], [-2, 2]], cells: [12, 12, 12] },
  ];
  for (const c of cases) {
    it(`${c.src} on ${c.cells.join('×')}`, () => {
      const grid = new Grid(c.bounds, c.cells);
      const e = compileExpr(c.src, {}, grid.dim);
      const ev = (co: readonly Float64Array[], o: Float64Array): void => e.evalPoints(co, o);
      const fc = Float64Array.from(centreValues(grid, ev));
      const sorted = Float64Array.from(fc, Math.abs).sort();
      const fScale = Math.max(sorted[Math.floor(sorted.length / 2)], 1e-300);
      expect(summary(findZeroComponents(grid, ev, fc, fScale, e))).toEqual(summary(findZeroComponents(grid, ev, fc, fScale, exhaustive(e))));
    });
  }

  it('the bounds really skip searches: on the Pearson grid none of the 2000 runs, on a double well most do not', () => {
    let calls = 0;
    const counted = (e: CompiledExpr): LandscapeDerivatives => ({ ...exhaustive(e), at: (p) => (calls++, e.at(p)), bounds: (lo, hi) => e.bounds!(lo, hi) });
    const run = (src: string, b: [number, number][], n: number[], withBounds: boolean): number => {
      const grid = new Grid(b, n);
      const e = compileExpr(src, {}, grid.dim);
      const ev = (co: readonly Float64Array[], o: Float64Array): void => e.evalPoints(co, o);
      const fc = Float64Array.from(centreValues(grid, ev));
      calls = 0;
      findZeroComponents(grid, ev, fc, 1, withBounds ? counted(e) : { ...counted(e), bounds: undefined });
      return calls;
    };
    const pearson = [run('0.1 + 0.5*x^2', [[-10, 10]], [2000], false), run('0.1 + 0.5*x^2', [[-10, 10]], [2000], true)];
    // ~20 evaluations per cell searched before; with the bounds only the one discrete minimum's search remains.
    expect(pearson[0]).toBeGreaterThan(2000 * 10);
    expect(pearson[1]).toBeLessThan(pearson[0] / 20);
    const well = [run('(x^2 - 1)^2', [[-2, 2]], [400], false), run('(x^2 - 1)^2', [[-2, 2]], [400], true)];
    expect(well[1]).toBeLessThan(well[0] / 3);
  });
});
