/**
 * The distances of a report point in one pass with one transcendental function per cell (the ln ρ
 * of KL) instead of four (issue #19 item 1: KL and χ² took ln, expm1, ln and exp per cell at each
 * of a run's report times). χ² = Σ π (ρ/π − 1)² |K| is checked against the identity
 * χ² = Σ ρ²/π |K| − 1 for normalized ρ and π (a different formula), and, where π underflows and
 * χ² is astronomically large, against ln χ² = ln Σ exp(2 ln ρ − ln π) + ln|K| computed here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { Problem, isFault, type NoiseModel } from '../solvers/problem.js';
import { DistanceTracker } from '../src/diagnostics/distances.js';
import { pointFn } from './helpers/problems.js';

const mult = (etaSigma: number): NoiseModel => ({ kind: 'multiplicative', etaSigma, eps: 0 });

function problemOf(etaSigma: number, n: number): Problem {
  const grid = new Grid(
    [
      [-2, 2],
      [-2, 2],
    ],
    [n, n],
  );
  const p = Problem.build(grid, pointFn((x, y) => 0.05 + (x * x - 1) ** 2 + y * y), mult(etaSigma));
  if (isFault(p)) throw new Error(p.reason);
  return p;
}

/** A Gaussian bump at (x0, y0), normalized on the grid. */
function gaussian(p: Problem, x0: number, y0: number, s: number): Float64Array {
  const g = p.grid;
  const rho = new Float64Array(g.size);
  let m = 0;
  for (let c = 0; c < g.size; c++) {
    const [x, y] = g.centre(c);
    rho[c] = Math.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * s * s));
    m += rho[c] * g.cellVolume;
  }
  for (let c = 0; c < g.size; c++) rho[c] /= m;
  return rho;
}

const original = { log: Math.log, exp: Math.exp, expm1: Math.expm1 };
afterEach(() => Object.assign(Math, original));

/** Calls of Math.log, Math.exp and Math.expm1 while `fn` runs. */
function transcendentals(fn: () => void): number {
  let n = 0;
  Math.log = (x: number) => (n++, original.log(x));
  Math.exp = (x: number) => (n++, original.exp(x));
  Math.expm1 = (x: number) => (n++, original.expm1(x));
  try {
    fn();
  } finally {
    Object.assign(Math, original);
  }
  return n;
}

describe('distances per report time: one pass, one transcendental function per cell', () => {
  it('χ² against Σ ρ²/π |K| − 1 and KL against Σ ρ ln(ρ/π) |K|, near and far from π', () => {
    const p = problemOf(0.5, 64);
    const pi = p.pi();
    const vol = p.grid.cellVolume;
    const tracker = new DistanceTracker(p, 0.1, [], undefined);
    const near = pi.map((v, i) => v * (1 + 0.01 * Math.sin(i)));
    const states = [gaussian(p, 1, 0, 0.2), gaussian(p, -0.3, 0.4, 0.5), near];
    for (const rho of states) {
      let mass = 0;
      for (const r of rho) mass += r * vol;
      let s = 0;
      let kl = 0;
      for (let i = 0; i < rho.length; i++) {
        const r = rho[i] / mass;
        s += (r * r) / pi[i];
        if (r > 0) kl += r * Math.log(r / pi[i]);
      }
      const chi2 = s * vol - 1;
      const point = tracker.measure(0, rho);
      expect(point.chi2 as number).toBeGreaterThan(0);
      // The identity cancels: its own round-off is ~1e-16 of Σ ρ²/π |K|.
      expect(Math.abs((point.chi2 as number) - chi2)).toBeLessThan(1e-12 * (chi2 + 1));
      expect(point.log10Chi2).toBeCloseTo(Math.log10(point.chi2 as number), 12);
      expect(Math.abs(point.kl - kl * vol)).toBeLessThan(1e-12 * (kl * vol + 1));
    }
  });

  it('ρ where π underflows: χ² ~ 1e300 and beyond, in logs, against ln Σ exp(2 ln ρ − ln π) + ln|K|', () => {
    // ησ = 0.02: α = 101, π spans ~(f_max/f_min)^101 ≈ 1e300 and more.
    const p = problemOf(0.02, 48);
    const lp = p.logPi();
    const vol = p.grid.cellVolume;
    const tracker = new DistanceTracker(p, 0.1, [], undefined);
    let underflowing = 0;
    for (const v of lp) if (v < Math.log(1e-100)) underflowing++;
    expect(underflowing).toBeGreaterThan(100);
    for (const rho of [gaussian(p, -1.6, 1.5, 0.3), gaussian(p, 0, 0, 0.8)]) {
      let mass = 0;
      for (const r of rho) mass += r * vol;
      let max = -Infinity;
      const terms: number[] = [];
      for (let i = 0; i < rho.length; i++) {
        if (rho[i] <= 0) continue;
        const t = 2 * Math.log(rho[i] / mass) - lp[i];
        terms.push(t);
        max = Math.max(max, t);
      }
      let s = 0;
      for (const t of terms) s += Math.exp(t - max);
      const logChi2 = max + Math.log(s) + Math.log(vol);
      const point = tracker.measure(0, rho);
      expect(logChi2).toBeGreaterThan(Math.log(1e30));
      expect(Math.abs(point.log10Chi2 * Math.LN10 - logChi2)).toBeLessThan(1e-10 * logChi2);
      if (logChi2 > 709) expect(point.chi2).toBeNull();
    }
  });

  it('ρ = π: χ² at round-off (the mass sums to 1 only to round-off), its log10 finite', () => {
    const p = problemOf(0.5, 32);
    const tracker = new DistanceTracker(p, 0.1, [], undefined);
    const point = tracker.measure(0, p.pi());
    expect(point.chi2 as number).toBeLessThan(1e-25);
    expect(Number.isFinite(point.log10Chi2)).toBe(true);
    expect(point.l1).toBeLessThan(1e-13);
  });

  it('one report point: at most one ln per cell (was four transcendental functions per cell)', () => {
    const p = problemOf(0.5, 64);
    const tracker = new DistanceTracker(p, 0.1, [], undefined);
    const rho = gaussian(p, 1, 0, 0.2);
    const n = transcendentals(() => tracker.measure(0, rho));
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(p.grid.size + 10);
  });

  it('lnπ and π once per problem: the tracker, the outputs and a second caller share them (once for all callers, not once per caller)', () => {
    const p = problemOf(0.5, 64);
    const n = p.grid.size;
    let first: Float64Array = new Float64Array(0);
    const calls = transcendentals(() => {
      new DistanceTracker(p, 0.1, [], undefined);
      first = p.pi();
      p.logPi();
      p.pi();
    });
    // ln Z (1 ln) and Σ e^{−ψ} (n exp) for lnπ, n exp for π, and the tracker's n ln of the cell
    // averages of f (no landscape given): 3n + 1, where each caller computing its own made 8n + 3.
    expect(calls).toBeLessThanOrEqual(3 * n + 2);
    // The copies are the caller's: changing one changes nothing shared, and the values are e^{lnπ}.
    const lp = p.logPi();
    first[0] = -1;
    lp[1] = 7;
    expect(p.pi()[0]).toBe(Math.exp(p.logPi()[0]));
    expect(p.logPi()[1]).not.toBe(7);
    let mass = 0;
    for (const v of p.pi()) mass += v * p.grid.cellVolume;
    expect(Math.abs(mass - 1)).toBeLessThan(1e-12);
  });
});
