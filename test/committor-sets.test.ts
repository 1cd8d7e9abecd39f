import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { discreteMinima, namedSets, parseSetSpec, resolveSet } from '../src/sets/sets.js';
import { descentBasin } from '../src/escape/compute.js';
import { buildOperator } from './helpers/problems.js';
import { join } from 'node:path';
import { Generator } from './helpers/generator.js';
import { tempDir } from './scenario-helpers.js';
import { loadScenario } from '../src/scenario/load.js';
import { setUp } from '../src/run/run.js';
import { initialDensityFor } from '../src/run/setup.js';
import { escapeInput } from '../src/escape/cli-common.js';
import { computeEscape, type EscapeInput } from '../src/escape/compute.js';
import { InputError } from '../src/errors.js';
import { fpsolve } from './helpers/cli.js';
import { collapseGuard } from '../src/escape/collapse-guard.js';

/** Set specs resolved on the grid, against sets computed here from their definitions. */

function fOn(grid: Grid, fn: (...x: number[]) => number): Float64Array {
  return Float64Array.from({ length: grid.size }, (_, i) => fn(...grid.centre(i)));
}

describe('set specs', () => {
  const grid = new Grid([[-2, 2]], [400]);
  // Tilted double well: minima near x = −1 (deeper) and x = +1.
  const fn = (x: number): number => (x * x - 1) ** 2 + 0.3 * x + 1;
  const f = fOn(grid, fn);
  const named = namedSets(grid, f, []);

  it('minima are named lowest first', () => {
    expect(named.map((s) => s.name)).toEqual(['min1', 'min2']);
    expect(named[0].point[0]).toBeLessThan(0);
    expect(named[1].point[0]).toBeGreaterThan(0);
    expect(f[named[0].cell]).toBeLessThan(f[named[1].cell]);
  });

  it('sublevel=C is the interval around the minimum where f ≤ f(min) + C (bisection on f here)', () => {
    const c = 0.5;
    const s = resolveSet('--to', parseSetSpec('--to', `min2:sublevel=${c}`, 1), grid, f, named);
    const level = f[named[1].cell] + c;
    // The interval's ends by bisection on the continuous f from the minimum outwards.
    const end = (from: number, to: number): number => {
      let a = from;
      let b = to;
      for (let k = 0; k < 60; k++) {
        const m = (a + b) / 2;
        if (fn(m) <= level) a = m;
        else b = m;
      }
      return a;
    };
    const x0 = named[1].point[0];
    const lo = end(x0, 0);
    const hi = end(x0, 2);
    const xs = grid.centres(0);
    for (let i = 0; i < grid.size; i++) {
      // Cells whose centre is clearly inside / outside (a half-cell margin for the cell-average/centre difference).
      if (xs[i] > lo + grid.h[0] && xs[i] < hi - grid.h[0]) expect(s.mask[i]).toBe(1);
      if (xs[i] < lo - grid.h[0] || xs[i] > hi + grid.h[0]) expect(s.mask[i]).toBe(0);
    }
  });

  it('radius=R is the cells with centre within R of the point', () => {
    const s = resolveSet('--from', parseSetSpec('--from', 'x=0.3:radius=0.05', 1), grid, f, named);
    const xs = grid.centres(0);
    for (let i = 0; i < grid.size; i++) expect(s.mask[i]).toBe(Math.abs(xs[i] - 0.3) <= 0.05 ? 1 : 0);
    expect(s.cells).toBe(10);
  });

  it('a flat pair of minima on a symmetric grid is one minimum, and its descent basin is the whole well', () => {
    const g2 = new Grid([[-2, 2], [-2, 2]], [128, 128]);
    const op = buildOperator([[-2, 2], [-2, 2]], [128, 128], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
    const mins = discreteMinima(g2, op.problem.f);
    expect(mins.length).toBe(2);
    const basin = descentBasin(op, mins[0]);
    let count = 0;
    for (let i = 0; i < g2.size; i++) {
      count += basin[i];
      // The separatrix is x = 0: every cell on the minimum's side is in its basin.
      const [x] = g2.centre(i);
      expect(basin[i]).toBe(Math.sign(x) === Math.sign(g2.centre(mins[0])[0]) ? 1 : 0);
    }
    expect(count).toBe(g2.size / 2);
  });

  it('a flat shelf with a way down is no minimum (the run report\'s basins), and the one well\'s basin is the whole box', () => {
    // f = min(1, (x − 1)²) + y²: for x < 0 the x-part is the constant 1, a shelf that drains towards
    // x = 1 across x = 0; the only minimum of f is (1, 0) (exact, by inspection).
    const b: [number, number][] = [
      [-2, 2],
      [-1, 1],
    ];
    const g2 = new Grid(b, [40, 20]);
    const op = buildOperator(b, [40, 20], (x, y) => Math.min(1, (x - 1) ** 2) + y * y, { kind: 'additive', D: 0.2 });
    const mins = discreteMinima(g2, op.problem.f);
    expect(mins.length).toBe(1);
    const [x, y] = g2.centre(mins[0]);
    expect(Math.abs(x - 1)).toBeLessThanOrEqual(g2.h[0]);
    expect(Math.abs(y)).toBeLessThanOrEqual(g2.h[1]);
    const basin = descentBasin(op, mins[0]);
    expect(basin.every((v) => v === 1)).toBe(true);
  });
});

describe('mirror-image wells get mirror-image sets (oracles.md §9 "Symmetric sets")', () => {
  // f = (x² − 1)² + Σ c_k y_k² is even in x; the box is symmetric, so x → −x maps cell i_x to
  // n_x − 1 − i_x. Cell centres and values of mirror cells agree only up to round-off, and
  // radii of whole cells put centres exactly on the sphere: each case below has such ties.
  const cases: { name: string; bounds: [number, number][]; cells: number[] }[] = [
    { name: '1-D, 30 cells', bounds: [[-1.8, 1.8]], cells: [30] },
    { name: '2-D, 14×10', bounds: [[-1.8, 1.8], [-1.2, 1.2]], cells: [14, 10] },
    { name: '2-D anisotropic, 22×7', bounds: [[-1.7, 1.7], [-1.3, 1.3]], cells: [22, 7] },
    { name: '3-D, 14×9×6', bounds: [[-1.8, 1.8], [-1.1, 1.1], [-0.7, 0.7]], cells: [14, 9, 6] },
  ];
  for (const c of cases) {
    it(`${c.name}: default, radius and sublevel sets of min1 / min2 and of mirror points`, () => {
      const grid = new Grid(c.bounds, c.cells);
      const f = fOn(grid, (x, ...ys) => (x * x - 1) ** 2 + ys.reduce((a, y, k) => a + (k + 1.3) * y * y, 0));
      const named = namedSets(grid, f, []);
      expect(named.map((s) => s.name)).toEqual(['min1', 'min2']);
      const sx = grid.strides[0];
      const mirror = (i: number): number => i + (grid.n[0] - 1 - 2 * (Math.floor(i / sx) % grid.n[0])) * sx;
      const [m1, m2] = named;
      expect(m2.cell).toBe(mirror(m1.cell));
      const idx = (i: number): number[] => grid.n.map((n, k) => Math.floor(i / grid.strides[k]) % n);
      const hMax = Math.max(...grid.h);
      // Ball membership by integer cell offsets (centres differ by whole multiples of h): no
      // coordinates of centres enter, so no round-off of them.
      const inBall = (seed: number, i: number, rCells: number): boolean => {
        const a = idx(seed);
        const b = idx(i);
        const d2 = a.reduce((s, v, k) => s + ((b[k] - v) * (grid.h[k] / hMax)) ** 2, 0);
        return d2 <= rCells * rCells * (1 + 1e-12);
      };
      const pointSpec = (p: number[], r: string): string => `${p.map((v, k) => `${'xyz'[k]}=${v}`).join(',')}${r}`;
      const p1 = m1.point;
      const p2 = [-p1[0], ...p1.slice(1)];
      // A sublevel whose level is exactly the value of a cell two cells from min1 (a tie).
      const tieCell = m1.cell + 2 * sx;
      const level = f[tieCell] - f[m1.cell];
      const pairs: [string, string, number | null][] = [
        ['min1', 'min2', 2],
        ['min1:radius=' + 3 * hMax, 'min2:radius=' + 3 * hMax, 3],
        [pointSpec(p1, `:radius=${hMax}`), pointSpec(p2, `:radius=${hMax}`), 1],
        ['min1:sublevel=' + level, 'min2:sublevel=' + level, null],
      ];
      for (const [a, b, rCells] of pairs) {
        const A = resolveSet('--from', parseSetSpec('--from', a, grid.dim), grid, f, named);
        const B = resolveSet('--to', parseSetSpec('--to', b, grid.dim), grid, f, named);
        expect(B.cells, `${a} / ${b}`).toBe(A.cells);
        for (let i = 0; i < grid.size; i++) expect(B.mask[mirror(i)], `${b} at cell ${i}`).toBe(A.mask[i]);
        if (rCells !== null) for (let i = 0; i < grid.size; i++) expect(A.mask[i], `${a} at cell ${i}`).toBe(inBall(m1.cell, i, rCells) ? 1 : 0);
      }
      // The tie cell is in the sublevel set, and so is its mirror image in min2's.
      const S = resolveSet('--to', parseSetSpec('--to', 'min2:sublevel=' + level, grid.dim), grid, f, named);
      expect(S.mask[mirror(tieCell)]).toBe(1);
    });
  }
});

describe('escape in the collapse regime (oracles.md §2, §4): infinite T is refused, finite T still printed', () => {
  // f = |θ|²·|θ − 1|² on [0, 1]^d: quadratic zeros in two corners. Codimension d, so they are
  // collapsing for every ησ in 2-D and integrable in 3-D for ησ > 4 (oracles.md §4).
  const corners = (d: number, n: number, etaSigma: number): EscapeInput => {
    const ax = ['x', 'y', 'z'].slice(0, d);
    const expr = `(${ax.map((a) => `${a}^2`).join(' + ')})*(${ax.map((a) => `(${a} - 1)^2`).join(' + ')})`;
    const yaml = `name: t\nlandscape: { expr: "${expr}" }\ndomain: { bounds: [${ax.map(() => '[0, 1]').join(', ')}], cells: [${ax.map(() => n).join(', ')}] }\nnoise: { model: multiplicative, eta: ${etaSigma / 10}, sigma: 10 }\ninitial: { gaussian: { mean: [${ax.map(() => 0.5).join(', ')}], std: [${ax.map(() => 0.2).join(', ')}] } }\ntime: { end: 1, reportEvery: 0.5 }\n`;
    const loaded = loadScenario(join(tempDir({ 's.yaml': yaml }), 's.yaml'), []);
    const setup = setUp(loaded);
    return escapeInput(setup, initialDensityFor(loaded, setup.grid));
  };
  /** Mean first-passage time by plain Gaussian elimination on the dense generator (test/helpers/generator.ts rates). */
  const denseT = (input: EscapeInput, target: Uint8Array): Float64Array => {
    const gen = new Generator(input.op.problem);
    const n = gen.n;
    const L = Array.from({ length: n }, () => new Float64Array(n));
    for (const { i, j, up, down } of gen.faces) {
      L[i][j] += up;
      L[i][i] -= up;
      L[j][i] += down;
      L[j][j] -= down;
    }
    const free = [...Array(n).keys()].filter((i) => !target[i]);
    const m = free.length;
    const A = free.map((i) => Float64Array.from([...free.map((j) => L[i][j]), -1]));
    for (let k = 0; k < m; k++) {
      let p = k;
      for (let i = k + 1; i < m; i++) if (Math.abs(A[i][k]) > Math.abs(A[p][k])) p = i;
      [A[k], A[p]] = [A[p], A[k]];
      for (let i = k + 1; i < m; i++) {
        const fct = A[i][k] / A[k][k];
        if (fct !== 0) for (let j = k; j <= m; j++) A[i][j] -= fct * A[k][j];
      }
    }
    const u = new Float64Array(m);
    for (let k = m - 1; k >= 0; k--) {
      let v = A[k][m];
      for (let j = k + 1; j < m; j++) v -= A[k][j] * u[j];
      u[k] = v / A[k][k];
    }
    const T = new Float64Array(n);
    free.forEach((i, k) => (T[i] = u[k]));
    return T;
  };

  it('2-D, ησ = 1, 8² / 12² / 24²: escape from a collapsing zero, or to a target that leaves one out, is refused in one line on every grid', () => {
    for (const n of [8, 12, 24]) {
      const input = corners(2, n, 1);
      expect(input.zeros.map((z) => z.verdict)).toEqual(['not integrable', 'not integrable']);
      for (const [from, to] of [
        ['zero1', undefined],
        ['zero2', 'basin'],
        ['x=0.5,y=0.5', 'zero2'],
      ] as const) {
        let err: unknown = null;
        try {
          computeEscape(input, from, to);
        } catch (e) {
          err = e;
        }
        expect(err, `${n}², --from ${from} --to ${to}`).toBeInstanceOf(InputError);
        const msg = (err as Error).message;
        expect(msg).not.toContain('\n');
        expect(msg).toMatch(/infinite/);
        expect(msg).toMatch(/oracles\.md §2, §4/);
      }
    }
  });

  it('CLI: fpsolve escape --from zero1 exits 2 with one line and prints no T; --json prints nothing on stdout', () => {
    const dir = tempDir({
      'c.yaml': 'name: c\nlandscape: { expr: "(x^2 + y^2)*((x - 1)^2 + (y - 1)^2)" }\ndomain: { bounds: [[0, 1], [0, 1]], cells: [12, 12] }\nnoise: { model: multiplicative, eta: 0.1, sigma: 10 }\ninitial: { gaussian: { mean: [0.5, 0.5], std: [0.2, 0.2] } }\ntime: { end: 1, reportEvery: 0.5 }\n',
    });
    for (const extra of [[], ['--json']]) {
      const r = fpsolve(['escape', join(dir, 'c.yaml'), '--from', 'zero1', ...extra]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines.length).toBe(1);
      expect(lines[0]).toMatch(/--from: .*infinite \(exit rate 0\).*zero1/);
      expect(r.stderr).not.toMatch(/\bat \S+:\d+/);
    }
  });

  it('the guard by verdict: a collapsing zero inside the target is harmless, one cell of it outside is not; undecided gives a note with the suggestion', () => {
    const target = Uint8Array.from([0, 0, 1, 1, 1, 0]);
    expect(collapseGuard([{ cells: [2, 3], verdict: 'not integrable' }], target, 'A', 'B')).toBeUndefined();
    expect(() => collapseGuard([{ cells: [4, 5], verdict: 'not integrable' }], target, 'A', 'B')).toThrow(InputError);
    expect(collapseGuard([{ cells: [0], verdict: 'integrable' }], target, 'A', 'B')).toBeUndefined();
    const note = collapseGuard([{ cells: [2], verdict: 'undecided', refinement: 'x' }, { cells: [0], verdict: 'undecided', refinement: 'refine to 64 cells' }], target, 'A', 'B');
    expect(note).toMatch(/^undecided: zero2 .*refine to 64 cells$/);
  });

  it('2-D, ησ = 1, 12²: a target holding both collapsing zeros is reached in finite time (against a dense solve)', () => {
    const input = corners(2, 12, 1);
    const r = computeEscape(input, 'x=0.5,y=0.5', undefined);
    expect(r.collapseNote).toBeUndefined();
    const T = denseT(input, Uint8Array.from(r.inside, (v) => 1 - v));
    let worst = 0;
    for (let i = 0; i < T.length; i++) worst = Math.max(worst, Math.abs(r.T[i] - T[i]) / Math.max(T[i], 1e-300));
    expect(worst).toBeLessThan(1e-6);
    expect(Number.isFinite(r.meanFromSet) && r.meanFromSet > 0).toBe(true);
  });

  it('3-D, ησ = 6 > 4 (integrable zeros), 8³: escape from zero1 is finite and matches a dense solve', () => {
    const input = corners(3, 8, 6);
    expect(input.zeros.map((z) => z.verdict)).toEqual(['integrable', 'integrable']);
    const r = computeEscape(input, 'zero1', undefined);
    const T = denseT(input, Uint8Array.from(r.inside, (v) => 1 - v));
    let worst = 0;
    for (let i = 0; i < T.length; i++) if (r.inside[i]) worst = Math.max(worst, Math.abs(r.T[i] / T[i] - 1));
    expect(worst).toBeLessThan(1e-6);
  });
});
