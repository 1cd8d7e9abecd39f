/**
 * Analytic estimates (issue 3 §2): the discrete Muckenhoupt bracket, Bakry–Émery, and the
 * Kramers / Mori et al. predictions with minima and saddles found on the grid.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildOperator } from './helpers/problems.js';
import { tridiagonalGap } from '../solvers/eigen/index.js';
import { Grid } from '../solvers/grid.js';
import { Problem, isFault, type NoiseModel } from '../solvers/problem.js';
import { FvOperator } from '../solvers/operator.js';
import { compileExpr } from '../src/landscape/expr.js';
import { loadScenario } from '../src/scenario/load.js';
import { setUp } from '../src/run/run.js';
import { muckenhouptBracket, kramersPrediction, computeBounds, bakryEmery, floodMerges, computeGap } from '../src/estimators/index.js';
import type { Regime } from '../src/diagnostics/regime.js';
import { isMatrixNoise } from '../src/scenario/types.js';

function setupExpr(expr: string, bounds: [number, number][], cells: number[], noise: NoiseModel) {
  const compiled = compileExpr(expr, {}, bounds.length);
  const grid = new Grid(bounds, cells);
  const p = Problem.build(grid, (c, o) => compiled.evalPoints(c, o), noise);
  if (isFault(p)) throw new Error('fault');
  const regime: Regime = { regime: 'converging', reason: 'test', infF: 0, argminF: [0] };
  return { compiled, grid, op: new FvOperator(p), regime };
}

describe('Muckenhoupt bracket 1/(4B) ≤ λ₁ ≤ 2/B (docs/oracles.md §6)', () => {
  const dir = 'scenarios';
  const oneD = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ file: join(dir, f), loaded: loadScenario(join(dir, f), []) }))
    // Diffusion-matrix scenarios have no reversible set-up (and none is 1-D).
    .filter((s) => !isMatrixNoise(s.loaded.scenario.noise))
    .map((s) => ({ file: s.file, setup: setUp(s.loaded) }))
    .filter((s) => s.setup.grid.dim === 1 && s.setup.regime.regime === 'converging');

  it('there are bundled converging 1-D scenarios to check', () => {
    expect(oneD.length).toBeGreaterThanOrEqual(2);
  });

  it.each(oneD.map((s) => [s.file, s] as const))('contains the discrete λ₁ on %s', (_f, s) => {
    const lam = tridiagonalGap(s.setup.op, 1).values[0];
    const m = muckenhouptBracket(s.setup.op)!;
    expect(m.lower).toBeLessThanOrEqual(lam);
    expect(lam).toBeLessThanOrEqual(m.upper);
    // the bracket is a factor 8 wide by construction
    expect(m.upper / m.lower).toBeCloseTo(8, 12);
  });

  it('B from the grid converges to the continuous B of docs/oracles.md §6 (Pearson, by quadrature)', () => {
    // Continuous: μ = π dx normalized, A π with A = ησf/2; B₊ = sup_x μ(x, ∞)·∫_0^x dy/(Aπ) (median 0 by symmetry).
    const c = 1, b = 1, es = 1, L = 8;
    const Bh = [1600, 3200].map((N) => muckenhouptBracket(buildOperator([[-L, L]], [N], (x) => c + b * x * x, { kind: 'multiplicative', etaSigma: es, eps: 0 }))!.B);
    const alpha = 1 + 2 / es;
    const n = 200000;
    const h = L / n;
    const pi = (x: number): number => (c + b * x * x) ** -alpha;
    let Z = 0;
    for (let i = 0; i < n; i++) Z += 2 * pi((i + 0.5) * h) * h;
    const tail = new Float64Array(n + 1);
    for (let i = n - 1; i >= 0; i--) tail[i] = tail[i + 1] + (pi((i + 0.5) * h) * h) / Z;
    let R = 0;
    let B = 0;
    for (let i = 0; i < n; i++) {
      const x = (i + 0.5) * h;
      R += h / ((0.5 * es * (c + b * x * x) * pi(x)) / Z);
      B = Math.max(B, tail[i + 1] * R);
    }
    // The discrete B is first order in h (the median cell's half-width enters R): the error halves
    // with h, and the first-order extrapolation 2B(h/2) − B(h) lands on the continuous value.
    const e = Bh.map((v) => Math.abs(v - B) / B);
    expect(e[1]).toBeLessThan(0.6 * e[0]);
    expect(Math.abs(2 * Bh[1] - Bh[0] - B) / B).toBeLessThan(2e-3);
  });
});

describe('Bakry–Émery (additive noise, convex f)', () => {
  it('OU f = (x² + 2y²)/2: λ₁ ≥ κ = min(k₁, k₂) = 1, tight (docs/oracles.md §3: gap κ)', () => {
    const s = setupExpr('(x^2 + 2*y^2)/2', [[-2, 2], [-2, 2]], [24, 24], { kind: 'additive', D: 0.2 });
    const be = bakryEmery(s.grid, s.compiled, { kind: 'additive', D: 0.2 });
    expect('lower' in be && be.lower).toBeCloseTo(1, 12);
  });
  it('is withheld for a non-convex f and for multiplicative noise', () => {
    const s = setupExpr('(x^2-1)^2/4', [[-2, 2]], [50], { kind: 'additive', D: 0.2 });
    expect('reason' in bakryEmery(s.grid, s.compiled, { kind: 'additive', D: 0.2 })).toBe(true);
    expect('reason' in bakryEmery(s.grid, s.compiled, { kind: 'multiplicative', etaSigma: 1, eps: 0 })).toBe(true);
  });
});

describe('Kramers (docs/oracles.md §5)', () => {
  const ratios = (noises: NoiseModel[], expr: string) =>
    noises.map((noise) => {
      const s = setupExpr(expr, [[-2.5, 2.5]], [800], noise);
      const lam = tridiagonalGap(s.op, 1).values[0];
      const k = kramersPrediction(s.grid, s.compiled, noise, lam).report!;
      return { lam, k, ratio: lam / k.predictedGap };
    });

  it('additive double well (x²−1)²/4, D = 0.1, 0.05, 0.025: λ₁ within 10% of 2κ, ratio → 1', () => {
    // 1-D: κ = sqrt(f''(m)|f''(s)|)/(2π) e^{−Δf/D} = sqrt(2)/(2π) e^{−1/(4D)}; two symmetric wells λ₁ ≈ 2κ.
    const r = ratios([0.1, 0.05, 0.025].map((D) => ({ kind: 'additive', D })), '(x^2 - 1)^2/4');
    const D = [0.1, 0.05, 0.025];
    r.forEach((x, i) => {
      expect(x.k.predictedGap / (2 * (Math.SQRT2 / (2 * Math.PI)) * Math.exp(-0.25 / D[i]))).toBeCloseTo(1, 8);
      expect(Math.abs(x.ratio - 1)).toBeLessThan(0.1);
    });
    expect(Math.abs(r[2].ratio - 1)).toBeLessThan(Math.abs(r[1].ratio - 1));
    expect(Math.abs(r[1].ratio - 1)).toBeLessThan(Math.abs(r[0].ratio - 1));
    // minima at ±1, saddle at 0, refined by Newton to round-off; barrier 1/4
    const k = r[0].k;
    expect(k.minima.map((m) => m.x[0]).sort((a, b) => a - b)).toEqual([expect.closeTo(-1, 12), expect.closeTo(1, 12)]);
    expect(k.saddles[0].x[0]).toBeCloseTo(0, 12);
    expect(k.barriers[0].barrier).toBeCloseTo(0.25, 12);
  });

  it('multiplicative double well (x²−1)²/4 + 0.05, ησ = 1, 0.5, 0.25: power law, ratio → 1', () => {
    // 1-D: κ = sqrt(2)/(2π) (0.3/0.05)^−(1/2 + 2/(ησ)), λ₁ ≈ 2κ (Mori et al. 2022).
    // Measured λ₁/2κ: 1.116, 1.055, 1.029: the O(ησ) correction makes ησ = 1 miss 10% (it is
    // within 12%); the asymptotic ratio → 1 is what the formula promises.
    const es = [1, 0.5, 0.25];
    const r = ratios(es.map((etaSigma) => ({ kind: 'multiplicative', etaSigma, eps: 0 })), '(x^2 - 1)^2/4 + 0.05');
    r.forEach((x, i) => {
      expect(x.k.predictedGap / (2 * (Math.SQRT2 / (2 * Math.PI)) * 6 ** -(0.5 + 2 / es[i]))).toBeCloseTo(1, 8);
    });
    expect(Math.abs(r[0].ratio - 1)).toBeLessThan(0.12);
    expect(Math.abs(r[1].ratio - 1)).toBeLessThan(0.1);
    expect(Math.abs(r[2].ratio - 1)).toBeLessThan(0.1);
    expect(Math.abs(r[2].ratio - 1)).toBeLessThan(Math.abs(r[1].ratio - 1));
    expect(Math.abs(r[1].ratio - 1)).toBeLessThan(Math.abs(r[0].ratio - 1));
  });

  it('2-D double well 0.05 + (x²−1)² + y², ησ = 0.5: saddle (0,0) of index 1, n-D power law within 10%', () => {
    // n-D: κ = |λ₋(H_s)|/(2π)·sqrt(det H_m/|det H_s|)·(f_s/f_m)^−(α−d/2): H_m = diag(8, 2), H_s = diag(−4, 2),
    // so κ = (4/2π)·sqrt(16/8)·21^−4 (α = 5, d = 2).
    const noise: NoiseModel = { kind: 'multiplicative', etaSigma: 0.5, eps: 0 };
    const s = setupExpr('0.05 + (x^2 - 1)^2 + y^2', [[-2, 2], [-2, 2]], [64, 64], noise);
    // λ₁ at 64² is 11% above its limit; Richardson over 64² and 128² removes that.
    const lam = computeGap({ op: s.op, regime: s.regime, landscape: (c, o) => s.compiled.evalPoints(c, o) }, { refine: true }).report.extrapolated!.value;
    const k = kramersPrediction(s.grid, s.compiled, noise, lam).report!;
    const kappa = (4 / (2 * Math.PI)) * Math.SQRT2 * 21 ** -4;
    expect(k.predictedGap / (2 * kappa)).toBeCloseTo(1, 8);
    expect(k.saddles[0].x[0]).toBeCloseTo(0, 10);
    expect(k.saddles[0].x[1]).toBeCloseTo(0, 10);
    expect(Math.abs(k.ratioToComputed! - 1)).toBeLessThan(0.1);
  });

  it('flooding finds one pass per pair of basins (three wells, grid only)', () => {
    // f = cos(3x) + 1.5 on [0, 2π]: wells at π/3, π, 5π/3, passes at 2π/3 and 4π/3 (the walls are maxima).
    const g = new Grid([[0, 2 * Math.PI]], [600]);
    const fc = g.centres(0).map((x) => Math.cos(3 * x) + 1.5);
    const merges = floodMerges(g, fc).filter((m) => fc[m.saddleCell] - fc[m.shallowCell] > 1);
    expect(merges.length).toBe(2);
    const passes = merges.map((m) => g.centre(m.saddleCell)[0]).sort((a, b) => a - b);
    expect(passes[0]).toBeCloseTo((2 * Math.PI) / 3, 1);
    expect(passes[1]).toBeCloseTo((4 * Math.PI) / 3, 1);
  });

  it('collapsing regime: no bracket and no prediction, with the reason', () => {
    const s = setUp(loadScenario('scenarios/gbm-collapse-1d.yaml', []));
    const b = computeBounds({ op: s.op, regime: s.regime, landscape: s.landscape.evalPoints, compiled: s.landscape.compiled }, 1);
    expect(b.muckenhoupt).toBeNull();
    expect(b.kramers).toBeNull();
    expect(b.notes.join(' ')).toMatch(/not integrable/);
  });
});
