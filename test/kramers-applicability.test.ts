/**
 * Kramers / Mori predictions only where the formulas apply (issue #15 item 6): non-degenerate
 * minima and index-1 saddles inside the box. Elsewhere "not applicable" with the reason; where
 * they apply, the prediction agrees with the exact 1-D mean transition time (docs/oracles.md §6,
 * quadrature written here) and with λ₁ (Sturm bisection written here) to within the asymptotic
 * error, which shrinks with the noise (docs/oracles.md §5 Kramers' law).
 */
import { describe, expect, it } from 'vitest';
import { kramersPrediction } from '../src/estimators/kramers.js';
import { compileExpr } from '../src/landscape/expr.js';
import { Grid } from '../solvers/grid.js';
import type { NoiseModel } from '../solvers/problem.js';
import { buildOperator } from './helpers/problems.js';
import { sturmEigenvalue } from './helpers/sturm.js';
import { loadBundled } from './helpers/run-inline.js';
import { setUp } from '../src/run/run.js';
import { computeBounds } from '../src/estimators/index.js';

function predict(expr: string, bounds: [number, number][], cells: number[], noise: NoiseModel) {
  return kramersPrediction(new Grid(bounds, cells), compileExpr(expr, {}, bounds.length), noise, null);
}

describe('Kramers: not applicable, with the reason', () => {
  const D = { kind: 'additive', D: 0.05 } as const;
  it.each([
    // f − f(±1) = 16(x ∓ 1)⁴ + …: f''(±1) = 0, and ∫ e^{−f/D} over the well scales as D^{1/4}, not D^{1/2}.
    ['quartic minima (x²−1)⁴', '(x^2-1)^4', [[-2, 2]], [800], /minimum near \(-?1\) is degenerate/],
    // f ≈ 1 − 2x⁴ at 0: the pass is flat, f''(0) = 0.
    ['a flat saddle (x⁴−1)²', '(x^4-1)^2', [[-2, 2]], [800], /saddle near \(0\) is degenerate/],
    // |z³ − 1|² = 1 − 2 Re z³ + |z|⁶: three wells meeting at a monkey saddle, Hessian 0 at z = 0.
    ['a monkey saddle |z³ − 1|²', '(x^3 - 3*x*y^2 - 1)^2 + (3*x^2*y - y^3)^2', [[-2, 2], [-2, 2]], [80, 80], /saddle near \(0, 0\) is degenerate/],
    // The left well's bottom x = −1 is the wall.
    ['a minimum at the wall', '(x^2-1)^2/4', [[-1, 2.5]], [700], /minimum near \(-1\) lies at a wall/],
    // f independent of y: the minima are the lines x = ±1.
    ['valleys of minimizers', '(x^2-1)^2/4', [[-2, 2], [-2, 2]], [60, 60], /minimum near .* is degenerate: its Hessian eigenvalues \(0\.00/],
  ] as const)('%s', (_name, expr, bounds, cells, why) => {
    const r = predict(expr, bounds as unknown as [number, number][], [...cells], D);
    expect(r.report).toBeNull();
    expect(r.notApplicable).toMatch(why);
    expect(r.notes.join(' ')).toMatch(/kramers: not applicable: /);
  });

  it('the run report keeps the reason in bounds.notes and has no prediction', () => {
    const s = setUp(loadBundled('double-well-1d', ['landscape={expr: "(x^2-1)^4 + 0.05"}', 'domain.bounds=[[-2, 2]]', 'domain.cells=[400]']));
    const b = computeBounds({ op: s.op, regime: s.regime, landscape: s.landscape.evalPoints, compiled: s.landscape.compiled }, null);
    expect(b.kramers).toBeNull();
    expect(b.notes.join(' ')).toMatch(/kramers: not applicable: the minimum near .* is degenerate/);
  });
});

/**
 * Mean time to reach b from x₀ with a reflecting end at a (docs/oracles.md §6):
 * T = ∫_{x₀}^{b} dy/(A π)(y) ∫_a^y π(z) dz, midpoint rule in y with a running inner sum.
 */
function meanExitTime(A: (x: number) => number, logPi: (x: number) => number, a: number, x0: number, b: number, n = 400000): number {
  const h = (b - a) / n;
  const shift = logPi(x0);
  let inner = 0;
  let T = 0;
  for (let i = 0; i < n; i++) {
    const y = a + (i + 0.5) * h;
    const w = Math.exp(logPi(y) - shift);
    inner += w * h;
    if (y > x0) T += (h * inner) / (A(y) * w);
  }
  return T;
}

describe('Kramers: a wall within 3 thermal widths of a minimum', () => {
  it('(x²−1)²/4, D = 0.05 on [a, 2.5]: refused for a = −1.3 (the wall moves the exact exit time by > 1%), given for a = −1.6 (< 0.1%)', () => {
    const D = 0.05;
    const f = (x: number): number => (x * x - 1) ** 2 / 4;
    const T = (a: number): number => meanExitTime(() => D, (x) => -f(x) / D, a, -1, 1);
    const far = T(-2.5);
    // width sqrt(D/f''(−1)) = 0.158: the wall at −1.3 is 1.9 widths away, at −1.6 3.8 widths.
    expect(Math.abs(T(-1.3) / far - 1)).toBeGreaterThan(0.01);
    expect(Math.abs(T(-1.6) / far - 1)).toBeLessThan(1e-3);
    const near = predict('(x^2-1)^2/4', [[-1.3, 2.5]], [800], { kind: 'additive', D });
    expect(near.report).toBeNull();
    expect(near.notApplicable).toMatch(/minimum at \(-1\) is 0\.300 from a wall, within 3 thermal widths/);
    expect(predict('(x^2-1)^2/4', [[-1.6, 2.5]], [800], { kind: 'additive', D }).report).not.toBeNull();
  });
});

describe('Kramers: non-degenerate double well against exact 1-D results', () => {
  const L = 2.5;
  it('additive (x²−1)²/4, D = 0.1, 0.05, 0.025: 2κ → 2/T and λ₁ with error O(D)', () => {
    const f = (x: number): number => (x * x - 1) ** 2 / 4;
    const rows = [0.1, 0.05, 0.025].map((D) => {
      const noise: NoiseModel = { kind: 'additive', D };
      const k = predict('(x^2-1)^2/4', [[-L, L]], [800], noise).report!.predictedGap;
      const exact = 2 / meanExitTime(() => D, (x) => -f(x) / D, -L, -1, 1);
      const lambda1 = sturmEigenvalue(buildOperator([[-L, L]], [800], f, noise), 1);
      return { D, byT: k / exact - 1, byGap: k / lambda1 - 1 };
    });
    // Measured k·T/2 − 1: 0.224, 0.107, 0.043 (≈ 2D); k/λ₁ − 1 likewise shrinks.
    for (const r of rows) {
      expect(Math.abs(r.byT)).toBeLessThan(3 * r.D);
      expect(Math.abs(r.byGap)).toBeLessThan(3 * r.D);
    }
    expect(Math.abs(rows[2].byT)).toBeLessThan(Math.abs(rows[1].byT));
    expect(Math.abs(rows[1].byT)).toBeLessThan(Math.abs(rows[0].byT));
    expect(Math.abs(rows[2].byGap)).toBeLessThan(Math.abs(rows[1].byGap));
  });

  it('multiplicative (x²−1)²/4 + 0.05, ησ = 1, 0.5, 0.25 (Mori et al.): 2κ → 2/T and λ₁ with error O(ησ)', () => {
    const f = (x: number): number => (x * x - 1) ** 2 / 4 + 0.05;
    const rows = [1, 0.5, 0.25].map((es) => {
      const noise: NoiseModel = { kind: 'multiplicative', etaSigma: es, eps: 0 };
      const alpha = 1 + 2 / es;
      const k = predict('(x^2-1)^2/4 + 0.05', [[-L, L]], [800], noise).report!.predictedGap;
      const exact = 2 / meanExitTime((x) => (es * f(x)) / 2, (x) => -alpha * Math.log(f(x)), -L, -1, 1);
      const lambda1 = sturmEigenvalue(buildOperator([[-L, L]], [800], f, noise), 1);
      return { es, byT: k / exact - 1, byGap: k / lambda1 - 1 };
    });
    // Measured k·T/2 − 1: −0.087, −0.051, −0.028 (≈ −0.1 ησ, the temperature of log f being ησ/2).
    for (const r of rows) {
      expect(Math.abs(r.byT)).toBeLessThan(0.15 * r.es);
      expect(Math.abs(r.byGap)).toBeLessThan(0.15 * r.es);
    }
    expect(Math.abs(rows[2].byT)).toBeLessThan(Math.abs(rows[1].byT));
    expect(Math.abs(rows[1].byT)).toBeLessThan(Math.abs(rows[0].byT));
    expect(Math.abs(rows[2].byGap)).toBeLessThan(Math.abs(rows[1].byGap));
  });
});
