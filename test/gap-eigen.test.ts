/**
 * Spectral gap of the discrete generator (issue 3 §1): the 1-D bisection on the bidiagonal factor
 * and the n-D shift-invert solver, each against an independent method or an exact spectrum.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { buildOperator } from './helpers/problems.js';
import { denseNegS, jacobiEigenvalues } from './gap-helpers.js';
import { generatorModes, tridiagonalGap, shiftInvertModes, DirichletForm } from '../solvers/eigen/index.js';
import { computeGap } from '../src/estimators/gap.js';
import { pointFn } from './helpers/problems.js';
import type { Regime } from '../src/diagnostics/regime.js';
import { applyS } from '../solvers/kernels/operator-kernels.js';

const mult = (etaSigma: number) => ({ kind: 'multiplicative' as const, etaSigma, eps: 0 });
const add = (D: number) => ({ kind: 'additive' as const, D });
const converging: Regime = { regime: 'converging', reason: 'test', infF: 0, argminF: [0] };

describe('1-D: bisection on the bidiagonal factor', () => {
  it('matches a dense Jacobi eigen-solve of −S (first three modes, relative 1e-10)', () => {
    const op = buildOperator([[-6, 6]], [80], (x) => 1 + x * x, mult(0.5));
    const dense = jacobiEigenvalues(denseNegS(op));
    // dense[0] is the null eigenvalue 0 (√π), to round-off
    expect(Math.abs(dense[0])).toBeLessThan(1e-10 * dense[dense.length - 1]);
    const r = tridiagonalGap(op, 3);
    for (let j = 0; j < 3; j++) expect(Math.abs(r.values[j] - dense[j + 1]) / dense[j + 1]).toBeLessThan(1e-10);
    // eigen-residuals ‖(−S)v − λv‖, ‖v‖ = 1, at round-off relative to ‖S‖
    for (const res of r.residuals) expect(res).toBeLessThan(1e-11 * dense[dense.length - 1]);
  });

  it('Pearson f = 1 + x², ησ = 0.5: λ₁ → 2b, λ₂ → 3.5b as the box grows (docs/oracles.md §1)', () => {
    // docs/oracles.md §1, check values (b, c, ησ) = (1, 1, 0.5): spectrum {0, 2, 3.5, 4.5, 5} ∪ [5.0625, ∞).
    // At fixed h = 1/40, Richardson over h and h/2 leaves ~3e-6; the box shift is bounded by
    // comparing boxes L and 2L and must shrink as L grows.
    const ext = (L: number): number[] => {
      const a = tridiagonalGap(buildOperator([[-L, L]], [40 * L], (x) => 1 + x * x, mult(0.5)), 2).values;
      const b = tridiagonalGap(buildOperator([[-L, L]], [80 * L], (x) => 1 + x * x, mult(0.5)), 2).values;
      return a.map((v, j) => (4 * b[j] - v) / 3);
    };
    const e5 = ext(5);
    const e10 = ext(10);
    const e20 = ext(20);
    const shift5 = Math.abs(e5[1] - e10[1]);
    const shift10 = Math.abs(e10[1] - e20[1]);
    expect(shift10).toBeLessThan(shift5 / 10);
    expect(Math.abs(e20[0] - 2)).toBeLessThan(1e-5);
    expect(Math.abs(e20[1] - 3.5)).toBeLessThan(1e-5 + shift10);
    expect(Math.abs(e10[1] - 3.5)).toBeLessThan(2e-4);
  });

  it('on a fixed box the extrapolated λ₁ equals the dense-solve extrapolation to 1e-8', () => {
    // docs/oracles.md §1 (box caveat): compare with an independent eigen-solve on the same box.
    const f = (x: number): number => 1 + x * x;
    const coarse = buildOperator([[-4, 4]], [60], f, mult(0.5));
    const fine = buildOperator([[-4, 4]], [120], f, mult(0.5));
    const dense = [coarse, fine].map((op) => jacobiEigenvalues(denseNegS(op))[1]);
    const denseExt = (4 * dense[1] - dense[0]) / 3;
    const r = computeGap({ op: coarse, regime: converging, landscape: pointFn(f) }, { refine: true });
    expect(r.report.extrapolated).not.toBeNull();
    expect(Math.abs(r.report.extrapolated!.value - denseExt) / denseExt).toBeLessThan(1e-8);
    expect(r.report.extrapolated!.errorEstimate).toBeGreaterThan(0);
    // the extrapolation moves λ₁ towards the whole-line value 2 (docs/oracles.md §1)
    expect(Math.abs(r.report.extrapolated!.value - 2)).toBeLessThan(Math.abs(r.report.value - 2));
  });

  const hasMpmath = spawnSync('python3', ['-c', 'import mpmath'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasMpmath)('a gap of ~1e-14·‖S‖ (additive double well, D = 0.01) matches a 60-digit eigen-solve', () => {
    // Independent check in 60-digit arithmetic (mpmath) of the same matrix GᵀG built from the
    // float64 face coefficients: λ₁ must come out to high relative accuracy, which Lanczos/QR
    // on −S in double precision cannot deliver (their error is ~ε‖S‖ ≫ λ₁).
    const op = buildOperator([[-2, 2]], [60], (x) => (x * x - 1) ** 2 / 4, add(0.01));
    const r = tridiagonalGap(op, 1);
    const norm = new DirichletForm(op).normBound;
    expect(r.values[0] / norm).toBeLessThan(1e-12);
    const py = `
import json, sys, mpmath
mpmath.mp.dps = 60
d = json.load(sys.stdin); fw, bw = d['fw'], d['bw']; n = len(fw)
A = mpmath.zeros(n, n)
for i in range(n - 1):
    a, b = mpmath.mpf(fw[i]), mpmath.mpf(bw[i])
    A[i, i] += a; A[i + 1, i + 1] += b
    w = mpmath.sqrt(a * b); A[i, i + 1] -= w; A[i + 1, i] -= w
ev = sorted(mpmath.eigsy(A, eigvals_only=True))
print(mpmath.nstr(ev[1], 30))
`;
    const out = spawnSync('python3', ['-c', py], { input: JSON.stringify({ fw: Array.from(op.fwd[0]), bw: Array.from(op.bwd[0]) }), encoding: 'utf8' });
    expect(out.status).toBe(0);
    const ref = Number(out.stdout.trim());
    expect(Math.abs(r.values[0] - ref) / ref).toBeLessThan(1e-11);
  });
});

describe('n-D: shift-invert subspace iteration', () => {
  it('agrees with the 1-D bisection on a small-noise double well (gap ~6e-12), an independent method', () => {
    const op = buildOperator([[-2.5, 2.5]], [400], (x) => (x * x - 1) ** 2 / 4, add(0.01));
    const exact = tridiagonalGap(op, 2).values;
    const it = shiftInvertModes(op, { modes: 2 });
    expect(it.converged).toBe(true);
    expect(exact[0]).toBeLessThan(1e-10);
    expect(Math.abs(it.values[0] - exact[0]) / exact[0]).toBeLessThan(1e-10);
    expect(Math.abs(it.values[1] - exact[1]) / exact[1]).toBeLessThan(1e-9);
  });

  it('2-D: λ₁..λ₄ match a dense Jacobi eigen-solve, residuals reported', () => {
    const op = buildOperator([[-2, 2], [-2, 2]], [14, 12], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, mult(0.5));
    const dense = jacobiEigenvalues(denseNegS(op));
    const r = generatorModes(op, { modes: 4 });
    expect(r.converged).toBe(true);
    for (let j = 0; j < 4; j++) expect(Math.abs(r.values[j] - dense[j + 1]) / dense[j + 1]).toBeLessThan(1e-8);
    // the reported residual is ‖(−S)v − λv‖ with ‖v‖ = 1, recomputed here with op.applySymmetric
    const out = new Float64Array(op.grid.size);
    applyS(op, r.vectors[0], out);
    let res = 0;
    let nv = 0;
    for (let i = 0; i < out.length; i++) {
      res += (-out[i] - r.values[0] * r.vectors[0][i]) ** 2;
      nv += r.vectors[0][i] ** 2;
    }
    expect(Math.abs(Math.sqrt(nv) - 1)).toBeLessThan(1e-12);
    expect(Math.abs(Math.sqrt(res) - r.residuals[0])).toBeLessThan(1e-9 + 1e-3 * r.residuals[0]);
  });

  it('2-D additive OU f = (x² + 2y²)/2: extrapolated λ₁ = min(k₁, k₂) = 1 within 1e-4 (docs/oracles.md §3)', () => {
    // docs/oracles.md §3: spectrum {n κ}; anisotropic: {n k₁ + m k₂}, gap min(k₁, k₂) = 1 for any D.
    const f = (x: number, y: number): number => (x * x + 2 * y * y) / 2;
    const op = buildOperator([[-2, 2], [-2, 2]], [48, 48], f, add(0.1));
    const r = computeGap({ op, regime: converging, landscape: pointFn(f) }, { refine: true, modes: 2 });
    const e = r.report.extrapolated!;
    expect(Math.abs(e.value - 1)).toBeLessThan(1e-4);
    expect(Math.abs(r.report.value - 1)).toBeGreaterThan(Math.abs(e.value - 1));
    // λ₂ = 2 (twice: 2k₁ and k₂), unextrapolated: its O(h²) error at 48² is a few percent
    expect(Math.abs(r.report.modes[1] - 2)).toBeLessThan(6e-2);
    expect(r.report.residuals[0]).toBeLessThan(1e-5);
  });
});
