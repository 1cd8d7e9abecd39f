/**
 * Exit rate of a basin (issue #17 item 3): the principal Dirichlet eigenvalue of the generator
 * killed outside the basin, its QSD, and the Kramers/Mori prediction beside it.
 * Independent checks: a dense eigen-solve of the killed matrix assembled here from the
 * Scharfetter–Gummel formula; the exact 1-D mean exit time (docs/oracles.md §6 "Mean exit time")
 * averaged over the QSD, which must be 1/λ (oracles.md §9 "Quasi-stationary distribution"); the
 * asymptotic laws (oracles.md §5 "Kramers' law", §9 "Escape over a pass into an absorbing set")
 * whose ratio to the computed rate must tend to 1 as the noise decreases.
 */
import { describe, expect, it } from 'vitest';
import { exitRate } from '../src/estimators/exit-prediction.js';
import { compileExpr } from '../src/landscape/expr.js';
import { Grid } from '../solvers/grid.js';
import { Problem, isFault, type NoiseModel } from '../solvers/problem.js';
import { symmetricEigen } from '../solvers/dense.js';
import { SolverFailure } from '../solvers/base/failures.js';

function problemOf(expr: string, bounds: [number, number][], cells: number[], noise: NoiseModel) {
  const e = compileExpr(expr, {}, bounds.length);
  const p = Problem.build(new Grid(bounds, cells), (c, o) => e.evalPoints(c, o), noise);
  if (isFault(p)) throw new Error(`landscape fault ${JSON.stringify(p)}`);
  return { problem: p, expr: e };
}

function maskWhere(grid: Grid, keep: (x: number[]) => boolean): Uint8Array {
  const m = new Uint8Array(grid.size);
  for (let i = 0; i < grid.size; i++) m[i] = keep(grid.centre(i)) ? 1 : 0;
  return m;
}

/** B(z) = z/(e^z − 1), written here rather than imported. */
function bern(z: number): number {
  return Math.abs(z) < 1e-8 ? 1 - z / 2 : z / Math.expm1(z);
}

/**
 * −S restricted to the inside cells of a 1-D problem, assembled densely from ψ and the face D:
 * flux coefficient c = D/h², out-flow of i across the face to j c·B(ψ_j − ψ_i), symmetric
 * off-diagonal −c·(z/2)/sinh(z/2). Faces to absorbed cells keep their out-flow (the killing).
 */
function denseKilled1d(p: Problem, inside: Uint8Array): { matrix: number[][]; cells: number[] } {
  const n = p.grid.size;
  const h = p.grid.h[0];
  const cells = [...Array(n).keys()].filter((i) => inside[i]);
  const pos = new Map(cells.map((c, k) => [c, k]));
  const M = cells.map(() => new Array<number>(cells.length).fill(0));
  for (let i = 0; i + 1 < n; i++) {
    const c = p.faceD[0][i] / (h * h);
    const z = p.psi[i + 1] - p.psi[i];
    const a = pos.get(i);
    const b = pos.get(i + 1);
    if (a !== undefined) M[a][a] += c * bern(z);
    if (b !== undefined) M[b][b] += c * bern(-z);
    if (a !== undefined && b !== undefined) {
      const off = Math.abs(z) < 1e-8 ? c : (c * (z / 2)) / Math.sinh(z / 2);
      M[a][b] -= off;
      M[b][a] -= off;
    }
  }
  return { matrix: M, cells };
}

/** Exact mean exit time through b from x₀, reflecting at a (oracles.md §6), midpoint rule with a running inner sum. */
function exactExitTimes(D: number, f: (x: number) => number, a: number, b: number, xs: number[], n = 200000): number[] {
  // T(x) = ∫_x^b e^{f(y)/D}/D ∫_a^y e^{−f(z)/D} dz dy; tabulate the outer integrand's primitive from b.
  const h = (b - a) / n;
  const ys = Array.from({ length: n }, (_, i) => a + (i + 0.5) * h);
  const g = new Float64Array(n);
  let inner = 0;
  for (let i = 0; i < n; i++) {
    const w = Math.exp(-f(ys[i]) / D);
    inner += w * h * 0.5;
    g[i] = (inner * Math.exp(f(ys[i]) / D)) / D;
    inner += w * h * 0.5;
  }
  const tail = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--) tail[i] = tail[i + 1] + g[i] * h;
  return xs.map((x) => {
    const t = (x - a) / h;
    const i = Math.min(n, Math.max(0, Math.floor(t)));
    return tail[i] - (t - i) * h * (i < n ? g[i] : 0);
  });
}

describe('exit rate: principal Dirichlet eigenvalue', () => {
  const f = (x: number): number => (x * x - 1) ** 2 / 4;
  const noise: NoiseModel = { kind: 'additive', D: 0.08 };

  it('1-D double well killed at x > 0.4: rate and QSD equal a dense eigen-solve of the killed matrix', () => {
    const { problem } = problemOf('(x^2-1)^2/4', [[-2, 2]], [90], noise);
    const inside = maskWhere(problem.grid, ([x]) => x < 0.4);
    const r = exitRate(problem, inside);
    const { matrix, cells } = denseKilled1d(problem, inside);
    const e = symmetricEigen(matrix);
    expect(r.converged).toBe(true);
    expect(Math.abs(r.rate / e.values[0] - 1)).toBeLessThan(1e-9);
    // QSD ∝ √π·v, v the dense eigenvector: compare shapes after normalizing both to mass 1.
    const v = e.vectors[0];
    const sgn = Math.sign(v.reduce((s, x) => s + x, 0));
    const dense = cells.map((c, k) => sgn * v[k] * Math.exp(-problem.psi[c] / 2));
    const m = dense.reduce((s, x) => s + x, 0) * problem.grid.cellVolume;
    let err = 0;
    let top = 0;
    cells.forEach((c, k) => {
      err = Math.max(err, Math.abs(r.qsd[c] - dense[k] / m));
      top = Math.max(top, dense[k] / m);
    });
    expect(err / top).toBeLessThan(1e-8);
    for (let i = 0; i < problem.grid.size; i++) if (!inside[i]) expect(r.qsd[i]).toBe(0);
  });

  it('1-D: the mean exit time from the QSD is 1/rate, and the exact double-integral T averaged over the QSD agrees to O(h²)', () => {
    const rows = [200, 400].map((N) => {
      const { problem } = problemOf('(x^2-1)^2/4', [[-2, 2]], [N], noise);
      const g = problem.grid;
      // Absorbed: cells with centre ≥ 0.5, so the discrete ρ = 0 sits at the first absorbed centre.
      const inside = maskWhere(g, ([x]) => x < 0.5);
      let b = Infinity;
      for (let i = 0; i < g.size; i++) if (!inside[i]) b = Math.min(b, g.centre(i)[0]);
      const r = exitRate(problem, inside);
      expect(Math.abs(r.meanExitFromQsd * r.rate - 1)).toBeLessThan(1e-8);
      const xs = [...Array(g.size).keys()].filter((i) => inside[i]).map((i) => g.centre(i)[0]);
      const T = exactExitTimes(noise.kind === 'additive' ? noise.D : 0, f, -2, b, xs);
      let avg = 0;
      let k = 0;
      for (let i = 0; i < g.size; i++) if (inside[i]) avg += r.qsd[i] * g.cellVolume * T[k++];
      return avg * r.rate - 1;
    });
    expect(Math.abs(rows[0])).toBeLessThan(2e-3);
    // Second order: doubling N divides the error by about 4.
    expect(Math.abs(rows[1])).toBeLessThan(Math.abs(rows[0]) / 3);
  });

  it('2-D: the rate of a well in a tilted double well equals its mean exit time from the QSD', () => {
    const { problem } = problemOf('(x^2-1)^2/4 + 0.1*x + y^2/2', [[-2, 2], [-1.5, 1.5]], [48, 36], noise);
    const inside = maskWhere(problem.grid, ([x]) => x < 0.6);
    const r = exitRate(problem, inside);
    expect(r.converged).toBe(true);
    expect(Math.abs(r.meanExitFromQsd * r.rate - 1)).toBeLessThan(1e-7);
    expect(r.qsd.every((v) => v >= 0)).toBe(true);
    // The default multigrid-preconditioned solves and plain Jacobi reach the same eigenpair.
    const j = exitRate(problem, inside, { preconditioner: 'jacobi' });
    expect(Math.abs(j.rate / r.rate - 1)).toBeLessThan(1e-10);
  });
});

describe('exit rate beside the Kramers / Mori prediction (oracles.md §5)', () => {
  it('additive 1-D double well: computed/Kramers → 1 as D decreases (3 noise levels)', () => {
    const ratios = [0.1, 0.06, 0.035].map((D) => {
      const { problem, expr } = problemOf('(x^2-1)^2/4', [[-2.5, 2.5]], [500], { kind: 'additive', D });
      const r = exitRate(problem, maskWhere(problem.grid, ([x]) => x < 1), { expr });
      expect(r.converged).toBe(true);
      expect(r.prediction.law, r.prediction.note).toBe('kramers');
      return r.prediction.ratio!;
    });
    const err = ratios.map((q) => Math.abs(q - 1));
    expect(err[1]).toBeLessThan(err[0]);
    expect(err[2]).toBeLessThan(err[1]);
    expect(err[2]).toBeLessThan(0.1);
  });

  it('multiplicative 1-D double well: computed/Mori → 1 as ησ decreases (3 noise levels)', () => {
    const ratios = [0.5, 0.3, 0.18].map((etaSigma) => {
      const { problem, expr } = problemOf('(x^2-1)^2/4 + 0.1', [[-2.5, 2.5]], [500], { kind: 'multiplicative', etaSigma, eps: 0 });
      const r = exitRate(problem, maskWhere(problem.grid, ([x]) => x < 1), { expr });
      expect(r.converged).toBe(true);
      expect(r.prediction.law, r.prediction.note).toBe('mori');
      return r.prediction.ratio!;
    });
    const err = ratios.map((q) => Math.abs(q - 1));
    expect(err[1]).toBeLessThan(err[0]);
    expect(err[2]).toBeLessThan(err[1]);
    expect(err[2]).toBeLessThan(0.15);
  });

  it('additive 2-D double well with different curvatures across the pass: computed/Kramers → 1 as D decreases (3 noise levels)', () => {
    // f = (x²−1)²/4 + (1 + x²)y²/2: H = diag(2, 2) at the minima (±1, 0), diag(−1, 1) at the saddle, so
    // the n-D prefactor |λ₋|/(2π)·sqrt(det H_m/|det H_s|) = 2/(2π) differs from the 1-D one.
    const ratios = [0.1, 0.06, 0.035].map((D) => {
      const { problem, expr } = problemOf('(x^2-1)^2/4 + (1 + x^2)*y^2/2', [[-2.5, 2.5], [-1.5, 1.5]], [100, 60], { kind: 'additive', D });
      const r = exitRate(problem, maskWhere(problem.grid, ([x]) => x < 1), { expr });
      expect(r.converged).toBe(true);
      expect(r.prediction.law, r.prediction.note).toBe('kramers');
      expect(r.prediction.saddle!.x[0]).toBeCloseTo(0, 8);
      return r.prediction.ratio!;
    });
    const err = ratios.map((q) => Math.abs(q - 1));
    expect(err[1]).toBeLessThan(err[0]);
    expect(err[2]).toBeLessThan(err[1]);
    expect(err[2]).toBeLessThan(0.12);
  });

  it.each([
    ['a quartic minimum', '(x^2-1)^4', (x: number) => x < 0.8, /asymptotic law not applicable: the minimum near .* is degenerate/],
    ['a boundary on the slope of the well', '(x^2-1)^2/4', (x: number) => x < -0.6, /asymptotic law not applicable: the absorbing set is reached on the well's slope/],
    ['a boundary on the pass', '(x^2-1)^2/4', (x: number) => x < 0.02, /asymptotic law not applicable: the absorbing set comes within .* of the saddle/],
    ['a barrier too low', '(x^2-1)^2/40', (x: number) => x < 0.8, /asymptotic law not applicable: the barrier is .* below 2/],
  ] as const)('law null with the reason: %s', (_name, e, keep, why) => {
    const { problem, expr } = problemOf(e, [[-2.5, 2.5]], [300], { kind: 'additive', D: 0.05 });
    const r = exitRate(problem, maskWhere(problem.grid, ([x]) => keep(x)), { expr });
    expect(r.prediction.law).toBeNull();
    expect(r.prediction.rate).toBeNull();
    expect(r.prediction.ratio).toBeNull();
    expect(r.prediction.note).toMatch(why);
    expect(r.rate).toBeGreaterThan(0);
  });
});

describe('exit rate: refusals', () => {
  const { problem } = problemOf('(x^2-1)^2/4', [[-2, 2]], [60], { kind: 'additive', D: 0.1 });
  it('an empty basin, a basin without absorbing cells, a mask of the wrong size', () => {
    expect(() => exitRate(problem, new Uint8Array(60))).toThrow(/inside set is empty/);
    expect(() => exitRate(problem, new Uint8Array(60).fill(1))).toThrow(/nothing absorbs/);
    expect(() => exitRate(problem, new Uint8Array(59).fill(1))).toThrow(/59 entries, the grid 60 cells/);
  });
  it('CG that cannot converge in the allowed iterations is a SolverFailure, not a wrong number', () => {
    const inside = maskWhere(problem.grid, ([x]) => x < 0.5);
    let err: unknown;
    try {
      exitRate(problem, inside, { maxInner: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SolverFailure);
    expect((err as SolverFailure).reason).toBe('iteration-limit');
  });
});
