/**
 * `gap --refine` (issue 15 items 1 and 6): Richardson of the same mode on h and h/2, honesty near a
 * zero of f, and the χ rate of fixed-step backward Euler against λ₁.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildOperator, pointFn } from './helpers/problems.js';
import { fpsolve } from './helpers/cli.js';
import { classLowest } from './gap-helpers.js';
import { computeGap } from '../src/estimators/gap.js';
import { formatGapLines } from '../src/estimators/format.js';
import { loadScenario } from '../src/scenario/load.js';
import { runScenario, setUp } from '../src/run/run.js';
import type { Regime } from '../src/diagnostics/regime.js';

const mult = (etaSigma: number) => ({ kind: 'multiplicative' as const, etaSigma, eps: 0 });
const noZero: Regime = { regime: 'converging', reason: 'test: inf f > 0', infF: 0.1, argminF: [0, 0], components: [] };

const dir = mkdtempSync(join(tmpdir(), 'fpsolve-gap-refine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function scenarioFile(name: string, yaml: string): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, yaml);
  return p;
}

describe('--refine extrapolates the same mode on both grids', () => {
  it('2-D c + b(x²+y²) on [-6,6]², 32² → 64², ησ = 1.5: λ₁ is the odd pair on h and the even mode on h/2', () => {
    const f = (x: number, y: number): number => 0.1 + 0.5 * (x * x + y * y);
    const coarse = buildOperator([[-6, 6], [-6, 6]], [32, 32], f, mult(1.5));
    const fine = buildOperator([[-6, 6], [-6, 6]], [64, 64], f, mult(1.5));
    // Independent: the lowest eigenvalue of each reflection class by a dense solve of its block.
    // Classes 1 (odd in x) and 2 (odd in y) are one degenerate pair by the x ↔ y symmetry.
    const classes = [0, 1, 3];
    const c = classes.map((cls) => classLowest(coarse, cls));
    const h2 = classes.map((cls) => classLowest(fine, cls));
    const argmin = (v: number[]): number => v.reduce((b, x, i) => (x < v[b] ? i : b), 0);
    // The premise of the check: the lowest class differs between the grids.
    expect(classes[argmin(c)]).toBe(1);
    expect(classes[argmin(h2)]).toBe(0);
    const ext = classes.map((_, j) => (4 * h2[j] - c[j]) / 3);
    const want = Math.min(...ext);
    const r = computeGap({ op: coarse, regime: noZero, landscape: pointFn(f) }, { refine: true }).report;
    const e = r.extrapolated!;
    expect(Math.abs(r.value - c[1]) / c[1]).toBeLessThan(1e-8);
    // the old λ₁-with-λ₁ extrapolation (4·h2[even] − c[odd])/3 is 0.04 away from this
    expect(Math.abs(e.value - want) / want).toBeLessThan(1e-7);
    expect(Math.abs(e.coarse - c[0]) / c[0]).toBeLessThan(1e-7);
    expect(Math.abs(e.fine - h2[0]) / h2[0]).toBeLessThan(1e-7);
    expect(e.mode).toBe('even in x, even in y');
    expect(e.identityChanged).toBe(true);
    expect(e.errorEstimate).toBeCloseTo(Math.abs(e.value - e.fine), 14);
    expect(r.notes.join(' ')).toMatch(/λ₁ changes identity between the grids/);
    const odd = e.pairs!.find((p) => /odd in x/.test(p.mode))!;
    expect(Math.abs(odd.value - ext[1]) / ext[1]).toBeLessThan(1e-7);
    expect(formatGapLines(r).join('\n')).toMatch(/CHANGES IDENTITY/);
  });

  it('where λ₁ keeps its identity the extrapolation is λ₁ with λ₁ and says so (2-D, 16² → 32²)', () => {
    const f = (x: number, y: number): number => 0.1 + 0.5 * (x * x + y * y);
    const coarse = buildOperator([[-6, 6], [-6, 6]], [16, 16], f, mult(1.5));
    const fine = buildOperator([[-6, 6], [-6, 6]], [32, 32], f, mult(1.5));
    const c = classLowest(coarse, 1);
    const h2 = classLowest(fine, 1);
    const e = computeGap({ op: coarse, regime: noZero, landscape: pointFn(f) }, { refine: true }).report.extrapolated!;
    expect(e.identityChanged).toBe(false);
    expect(e.mode).toBe('odd in x, even in y | even in x, odd in y (2-fold)');
    expect(Math.abs(e.value - (4 * h2 - c) / 3) / e.value).toBeLessThan(1e-7);
  });
});

describe('a zero of f in the box: the gap is a grid value and the extrapolation has no ±', () => {
  it('3-D |x|² on [-2,2]³, ησ = 6 (8³ → 16³): label "grid value", errorEstimate null, continuum bottom from docs/oracles.md §4', () => {
    const file = scenarioFile(
      'zero3d',
      `name: zero3d
landscape: { expr: "x^2+y^2+z^2" }
domain: { bounds: [[-2, 2], [-2, 2], [-2, 2]], cells: [8, 8, 8] }
noise: { model: multiplicative, eta: 0.6, sigma: 10 }
initial: { gaussian: { mean: [0.5, 0.5, 0.5], std: [0.3, 0.3, 0.3] } }
time: { end: 1, reportEvery: 0.1 }
`,
    );
    const s = setUp(loadScenario(file, []));
    expect(s.regime.regime).toBe('converging');
    const r = computeGap({ op: s.op, regime: s.regime, landscape: s.landscape.evalPoints }, { refine: true }).report;
    // docs/oracles.md §4 (critical slowing down): f = h|x|²/2 with h = 2, codimension k = 3, ησ = 6 gives the
    // bottom of the continuum spectrum h(ησ(k − 2) − 4)²/(16ησ) = 1/12.
    const bottom = (2 * (6 * (3 - 2) - 4) ** 2) / (16 * 6);
    const e = r.extrapolated!;
    // What the old "± |λ_ext − λ_{h/2}|" would have claimed is off by far more than itself.
    expect(Math.abs(e.value - bottom)).toBeGreaterThan(1.5 * Math.abs(e.value - e.fine));
    expect(r.label).toBe('grid value');
    expect(e.errorEstimate).toBeNull();
    expect(e.secondOrder).toBe(false);
    const notes = r.notes.join(' ');
    expect(notes).toMatch(/not second order near the zero of f; no error bound/);
    expect(notes).toContain(bottom.toPrecision(4));
    const text = formatGapLines(r).join('\n');
    expect(text).not.toMatch(/±/);
    expect(text).toMatch(/^grid value of λ₁/);
    expect(text).toMatch(/no error bound/);
    // The same through the built CLI: gap.json and the text summary.
    const j = fpsolve(['gap', file, '--refine', '--json']);
    expect(j.code).toBe(0);
    const gj = JSON.parse(j.stdout).gap;
    expect(gj.label).toBe('grid value');
    expect(gj.extrapolated.errorEstimate).toBeNull();
    expect(Math.abs(gj.extrapolated.value - e.value)).toBeLessThan(1e-9 * e.value);
    const t = fpsolve(['gap', file, '--refine']);
    expect(t.code).toBe(0);
    expect(t.stdout).not.toMatch(/±/);
    expect(t.stdout).toMatch(/not second order near the zero of f; no error bound/);
  });
});

describe('χ rate of fixed-step backward Euler against λ₁', () => {
  it('1 + x² on [-5,5], 400 cells, ησ = 1, dt 0.5: the rate is ln(1 + λ₁Δt)/Δt, mapped back to λ₁ (not "too short")', async () => {
    const file = scenarioFile(
      'be1d',
      `name: be1d
landscape: { expr: "1 + x^2" }
domain: { bounds: [[-5, 5]], cells: [400] }
noise: { model: multiplicative, eta: 0.1, sigma: 10 }
initial: { gaussian: { mean: [1], std: [0.3] } }
time: { end: 10, reportEvery: 0.5, integrator: backward-euler, dt: 0.5 }
`,
    );
    const loaded = loadScenario(file, []);
    // Independent λ₁: dense solves of the even and odd blocks of −S on the same grid (f is even).
    const op = setUp(loaded).op;
    const lambda1 = Math.min(classLowest(op, 0), classLowest(op, 1));
    const { report } = await runScenario(loaded);
    const g = report.gap!;
    expect(Math.abs(g.value - lambda1) / lambda1).toBeLessThan(1e-9);
    const r = report.rates.chi!.value;
    // Backward Euler damps the λ₁ mode by (1 + λ₁Δt) per step exactly.
    expect(Math.abs(r - Math.log1p(lambda1 * 0.5) / 0.5) / r).toBeLessThan(5e-3);
    expect(Math.abs(g.rateRatio! - Math.expm1(r * 0.5) / 0.5 / lambda1)).toBeLessThan(1e-12);
    expect(Math.abs(g.rateRatio! - 1)).toBeLessThan(5e-3);
    const notes = g.notes.join(' ');
    expect(notes).not.toMatch(/too short/);
    expect(notes).toMatch(/\(1 \+ λΔt\)\^−n decay/);
    expect(g.doubt ?? null).toBeNull();
  });
});
