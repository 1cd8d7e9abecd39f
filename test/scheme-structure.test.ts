/**
 * Structural properties of the finite-volume scheme (docs/design.md §2): each is a property the
 * scheme guarantees on every grid, so each test would fail on a wrong coefficient or sign. The first
 * test checks the operator's kernels against the generator written out in the test from the flux
 * formula (test/helpers/generator.ts), in 1-D, 2-D and 3-D.
 */
import { describe, expect, it } from 'vitest';
import { buildOperator, gaussianBump, mass } from './helpers/problems.js';
import { DeviceExplicitEuler, DeviceRkl2 } from '../solvers/backend/integrators.js';
import { DeviceBackwardEuler, DeviceTrBdf2 } from '../solvers/backend/implicit.js';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { cgSettings } from '../solvers/backend/choose.js';
import { DistanceTracker } from '../src/diagnostics/distances.js';
import type { FvOperator } from '../solvers/operator.js';
import { Generator } from './helpers/generator.js';
import { applyA, applyS } from '../solvers/kernels/operator-kernels.js';

const mult = (etaSigma: number, eps = 0) => ({ kind: 'multiplicative' as const, etaSigma, eps });
const cases: { name: string; op: () => FvOperator; start: number[] }[] = [
  { name: '1-D Pearson, ησ = 0.1 (α = 21)', op: () => buildOperator([[-10, 10]], [400], (x) => 0.1 + 0.5 * x * x, mult(0.1)), start: [1.5] },
  { name: '1-D GBM (inf f = 0)', op: () => buildOperator([[-1, 3]], [400], (x) => 0.5 * x * x, mult(1)), start: [1] },
  { name: '2-D double well, ησ = 0.5', op: () => buildOperator([[-2, 2], [-2, 2]], [48, 40], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, mult(0.5)), start: [1, 0] },
  { name: '3-D quadratic with floor, additive', op: () => buildOperator([[-2, 2], [-2, 2], [-2, 2]], [14, 12, 10], (x, y, z) => 0.5 * (x * x + 2 * y * y + 3 * z * z), { kind: 'additive', D: 0.3 }), start: [0.5, 0, 0] },
];

describe.each(cases)('$name', ({ op: makeOp, start }) => {
  const op = makeOp();
  const g = op.grid;

  it('A and S are the Scharfetter–Gummel generator assembled from ψ and D_σ in the test', () => {
    const gen = new Generator(op.problem);
    // √π from ψ here, so a wrong similarity scaling in the operator shows too
    const root = Float64Array.from(op.problem.psi, (p) => Math.exp(-0.5 * p));
    for (let i = 0; i < g.size; i++) expect(Math.abs(op.outflow[i] - gen.outflow[i])).toBeLessThanOrEqual(1e-13 * gen.outflow[i]);
    for (const [k, v] of [
      [0, Float64Array.from({ length: g.size }, (_, i) => 1 + Math.sin(1.3 * i) ** 2)],
      [1, Float64Array.from({ length: g.size }, (_, i) => Math.cos(0.37 * i * i) + 0.1 * (i % 7))],
    ] as const) {
      const a = new Float64Array(g.size);
      applyA(op, v, a);
      const ref = gen.apply(v);
      const sv = new Float64Array(g.size);
      applyS(op, v, sv);
      const sref = gen.apply(Float64Array.from(v, (x, i) => x * root[i])).map((x, i) => x / root[i]);
      let errA = 0;
      let errS = 0;
      let scale = 0;
      let scaleS = 0;
      for (let i = 0; i < g.size; i++) {
        errA = Math.max(errA, Math.abs(a[i] - ref[i]));
        errS = Math.max(errS, Math.abs(sv[i] - sref[i]));
        scale = Math.max(scale, gen.outflow[i] * Math.abs(v[i]));
        scaleS = Math.max(scaleS, Math.abs(sref[i]));
      }
      expect(errA, `A, vector ${k}`).toBeLessThan(1e-13 * scale);
      // S through √π divides by e^(−ψ/2): compare where that stays in range, relative to S's own size
      expect(errS, `S, vector ${k}`).toBeLessThan(1e-12 * Math.max(scaleS, scale));
    }
  });

  it('S is symmetric: ⟨Sv, w⟩ = ⟨v, Sw⟩', () => {
    const v = Float64Array.from({ length: g.size }, (_, i) => Math.sin(1.3 * i) + 0.2);
    const w = Float64Array.from({ length: g.size }, (_, i) => Math.cos(0.7 * i * i));
    const sv = new Float64Array(g.size);
    const sw = new Float64Array(g.size);
    applyS(op, v, sv);
    applyS(op, w, sw);
    let a = 0;
    let b = 0;
    let scale = 0;
    for (let i = 0; i < g.size; i++) {
      a += sv[i] * w[i];
      b += v[i] * sw[i];
      scale += Math.abs(sv[i] * w[i]);
    }
    expect(Math.abs(a - b)).toBeLessThan(1e-13 * scale);
  });

  it('the discrete π is stationary: A π = 0 to round-off, and it stays put under every integrator', async () => {
    const pi = op.problem.pi();
    const out = new Float64Array(g.size);
    applyA(op, pi, out);
    let maxFlux = 0;
    let maxTerm = 0;
    for (let i = 0; i < g.size; i++) {
      maxFlux = Math.max(maxFlux, Math.abs(out[i]));
      maxTerm = Math.max(maxTerm, op.outflow[i] * pi[i]);
    }
    expect(maxFlux).toBeLessThan(1e-13 * maxTerm);
    const rho = pi.slice();
    await new DeviceTrBdf2(new CpuBackend(op), op, { tolerance: 1e-8, dtMax: 1 }, cgSettings(1e-8)).advance(rho, 0, 3);
    let dev = 0;
    let top = 0;
    for (let i = 0; i < g.size; i++) {
      dev = Math.max(dev, Math.abs(rho[i] - pi[i]));
      top = Math.max(top, pi[i]);
    }
    expect(dev).toBeLessThan(1e-11 * top);
  });

  it('backward Euler keeps mass to 1e-12 and positivity for any step, and KL, χ² never increase', async () => {
    const rho = gaussianBump(g, start, 0.15);
    const m0 = mass(g, rho);
    const tracker = new DistanceTracker(op.problem, 1e-3);
    let prev = tracker.measure(0, rho);
    for (const dt of [1e-4, 1e-2, 1, 100]) {
      const be = new DeviceBackwardEuler(new CpuBackend(op), op, dt, cgSettings(1e-10));
      await be.advance(rho, 0, dt);
      expect(Math.abs(mass(g, rho) - m0)).toBeLessThan(1e-12 * m0);
      let lo = Infinity;
      for (const v of rho) lo = Math.min(lo, v);
      expect(lo).toBeGreaterThanOrEqual(-1e-14 * Math.max(...rho));
      const cur = tracker.measure(0, rho);
      expect(cur.kl).toBeLessThanOrEqual(prev.kl * (1 + 1e-12) + 1e-15);
      expect(cur.log10Chi2).toBeLessThanOrEqual(prev.log10Chi2 + 1e-9);
      prev = cur;
    }
  });

  it('explicit Euler at its computed limit stays positive and keeps mass', async () => {
    const rho = gaussianBump(g, start, 0.15);
    const ex = new DeviceExplicitEuler(new CpuBackend(op), op, op.explicitLimit());
    await ex.advance(rho, 0, 200 * op.explicitLimit());
    expect(Math.min(...rho)).toBeGreaterThanOrEqual(0);
    expect(Math.abs(mass(g, rho) - 1)).toBeLessThan(1e-12);
  });

  it('RKL2 and TR-BDF2 keep mass to 1e-12', async () => {
    const a = gaussianBump(g, start, 0.15);
    await new DeviceRkl2(new CpuBackend(op), op, 30 * op.explicitLimit()).advance(a, 0, 0.05);
    expect(Math.abs(mass(g, a) - 1)).toBeLessThan(1e-12);
    const b = gaussianBump(g, start, 0.15);
    await new DeviceTrBdf2(new CpuBackend(op), op, { tolerance: 1e-6, dtMax: 0.1 }, cgSettings(1e-6)).advance(b, 0, 0.5);
    expect(Math.abs(mass(g, b) - 1)).toBeLessThan(1e-12);
  });
});
