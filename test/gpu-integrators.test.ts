/**
 * The generic integrators (solvers/backend/integrators.ts, implicit.ts) on the float64 CPU backend,
 * checked against the generator written out in the test from the flux formula (test/helpers/
 * generator.ts, docs/design.md §2) and against the methods' own definitions in closed form:
 * - explicit Euler: m steps are (I + dt·A)^m ρ0;
 * - RKL2: one step is the stability polynomial R_s(z) = a_s + b_s P_s(1 + w1 z) of Meyer, Balsara &
 *   Aslam (2014) applied to dt·A, P_s the Legendre polynomial (three-term recurrence here, not the
 *   product's stage recursion);
 * - backward Euler: (I − dt·A)^−m ρ0 by a band LU;
 * - TR-BDF2 at a fixed step: the two stages of Bank et al. (1985) by band LU; adaptive TR-BDF2 against
 *   exp(tA)ρ0 (Taylor series on substeps) within a bound set by its local error tolerance.
 * Bit-identity is asserted only where it is a promise: a run with the run loop's checkpoints (yield,
 * read the state) after every step equals the same run without them.
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { DeviceExplicitEuler, DeviceRkl2 } from '../solvers/backend/integrators.js';
import { DeviceBackwardEuler, DeviceTrBdf2 } from '../solvers/backend/implicit.js';
import { ConditionedPreconditioner } from '../solvers/preconditioner.js';
import { JacobiPreconditioner } from '../solvers/linear.js';
import type { FvOperator } from '../solvers/operator.js';
import { setupOf } from './gpu-helpers.js';
import { Generator, maxAbs, maxAbsDiff } from './helpers/generator.js';

const cases: [string, string[]][] = [
  ['pearson-1d', ['domain.cells=[400]']],
  ['double-well-2d', ['domain.cells=[32,32]']],
];

const TIGHT_CG = { tol: 1e-13, maxIterations: 20000 };

function sumOf(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

function norm1(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}

/** R_s(dt·A) v for RKL2 with s stages: a_s v + b_s P_s(I + w1·dt·A) v. */
function rkl2Step(gen: Generator, s: number, dt: number, v: Float64Array): Float64Array {
  const w1 = 4 / (s * s + s - 2);
  const bs = (s * s + s - 2) / (2 * s * (s + 1));
  const x = (p: Float64Array): Float64Array => {
    const ap = gen.apply(p);
    for (let i = 0; i < p.length; i++) ap[i] = p[i] + w1 * dt * ap[i];
    return ap;
  };
  let prev: Float64Array = v.slice(); // P_0
  let cur = x(v); // P_1
  for (let k = 1; k < s; k++) {
    const xp = x(cur);
    const next = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) next[i] = ((2 * k + 1) * xp[i] - k * prev[i]) / (k + 1);
    prev = cur;
    cur = next;
  }
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (1 - bs) * v[i] + bs * cur[i];
  return out;
}

/** One TR-BDF2 step of size h, stage by stage (γ = 2 − √2; both stages solve with I − (γ/2)·h·A). */
function trbdf2Step(gen: Generator, h: number, y: Float64Array): Float64Array {
  const gamma = 2 - Math.SQRT2;
  const lu = gen.shiftedLu((gamma / 2) * h);
  const ay = gen.apply(y);
  // trapezoidal rule to t + γh
  const ys = lu.solve(y.map((v, i) => v + (gamma / 2) * h * ay[i]));
  // BDF2 through y, ys, y1
  const a = 1 / (gamma * (2 - gamma));
  const c = ((1 - gamma) * (1 - gamma)) / (gamma * (2 - gamma));
  return lu.solve(ys.map((v, i) => a * v - c * y[i]));
}

function generatorOf(op: FvOperator): Generator {
  return new Generator(op.problem);
}

describe('generic integrators on the float64 CPU backend against the generator written in the test', () => {
  for (const [name, overrides] of cases) {
    it(`explicit Euler is (I + dt·A)^m and RKL2 is a_s + b_s·P_s(1 + w1·dt·A) per step on ${name}`, async () => {
      const { setup, rho } = setupOf(name, overrides);
      const op = setup.op;
      const gen = generatorOf(op);
      expect(op.explicitLimit() / gen.explicitLimit() - 1).toBeLessThan(1e-12);
      const limit = gen.explicitLimit();
      const scale = maxAbs(rho);

      const e = rho.slice();
      const devE = new DeviceExplicitEuler(new CpuBackend(op), op);
      const tE = 100 * limit;
      await devE.advance(e, 0, tE);
      const m = devE.stats.steps;
      // the product's choice of step (0.9 of the limit) covers [0, tE] in equal steps
      expect(m).toBe(Math.ceil(tE / (0.9 * limit) - 1e-9));
      const dtE = tE / m;
      let ref: Float64Array = rho.slice();
      for (let k = 0; k < m; k++) {
        const ar = gen.apply(ref);
        ref = ref.map((v, i) => v + dtE * ar[i]);
      }
      expect(maxAbsDiff(ref, rho)).toBeGreaterThan(1e-3 * scale);
      expect(maxAbsDiff(e, ref)).toBeLessThan(1e-11 * scale);

      const dtR = 30 * limit;
      const r = rho.slice();
      // The step formula alone: a negativity margin of max ρ turns the positivity cut off
      // (test/rkl2-positivity.test.ts tests the cut).
      const devR = new DeviceRkl2(new CpuBackend(op), op, dtR, 1);
      // smallest s with (s² + s − 2)/4 · limit ≥ dt: the stability interval of RKL2
      let s = 2;
      while (((s * s + s - 2) / 4) * limit < dtR) s++;
      expect(devR.stages).toBe(s);
      const steps = 4;
      await devR.advance(r, 0, steps * dtR);
      expect(devR.stats.steps).toBe(steps);
      expect(devR.stats.rejected).toBe(0);
      let refR: Float64Array = rho.slice();
      for (let k = 0; k < steps; k++) refR = rkl2Step(gen, s, dtR, refR);
      expect(maxAbsDiff(refR, rho)).toBeGreaterThan(1e-3 * scale);
      expect(maxAbsDiff(r, refR)).toBeLessThan(1e-11 * scale);
      // both stay within their second/first-order distance of the exact flow
      const exact = gen.expmv(steps * dtR, rho);
      expect(maxAbsDiff(r, exact)).toBeLessThan(0.05 * maxAbsDiff(exact, rho));
    });

    it(`backward Euler is (I − dt·A)^−m and TR-BDF2 at a fixed step is its two stages on ${name}`, async () => {
      const { setup, rho } = setupOf(name, overrides);
      const op = setup.op;
      const gen = generatorOf(op);
      const scale = maxAbs(rho);
      const dt = 0.02;
      const steps = 5;

      const b = rho.slice();
      const devB = new DeviceBackwardEuler(new CpuBackend(op, new ConditionedPreconditioner(op)), op, dt, TIGHT_CG);
      await devB.advance(b, 0, steps * dt);
      expect(devB.stats.steps).toBe(steps);
      const lu = gen.shiftedLu(dt);
      let refB: Float64Array = rho.slice();
      for (let k = 0; k < steps; k++) refB = lu.solve(refB);
      expect(maxAbsDiff(refB, rho)).toBeGreaterThan(1e-3 * scale);
      expect(maxAbsDiff(b, refB)).toBeLessThan(1e-9 * scale);

      // A tolerance no estimate reaches and dt0 = dtMax: every attempt is accepted at the fixed step.
      const t = rho.slice();
      const devT = new DeviceTrBdf2(new CpuBackend(op, new ConditionedPreconditioner(op)), op, { tolerance: 1e6, dt0: dt, dtMax: dt }, TIGHT_CG);
      for (let k = 0; k < steps; k++) await devT.advance(t, k * dt, (k + 1) * dt);
      expect(devT.stats.steps).toBe(steps);
      expect(devT.stats.rejected).toBe(0);
      let refT: Float64Array = rho.slice();
      for (let k = 0; k < steps; k++) refT = trbdf2Step(gen, dt, refT);
      expect(maxAbsDiff(t, refT)).toBeLessThan(1e-9 * scale);
      // second order against first: TR-BDF2 lands much nearer the exact flow than backward Euler
      const exact = gen.expmv(steps * dt, rho);
      expect(maxAbsDiff(t, exact)).toBeLessThan(0.1 * maxAbsDiff(b, exact));
    });

    it(`adaptive TR-BDF2 follows exp(tA)ρ0 to its tolerance and conserves mass on ${name}`, async () => {
      const { setup, rho } = setupOf(name, overrides);
      const op = setup.op;
      const gen = generatorOf(op);
      const tolerance = 1e-6;
      const x = rho.slice();
      const dev = new DeviceTrBdf2(new CpuBackend(op, new ConditionedPreconditioner(op)), op, { tolerance, dtMax: 0.05 }, TIGHT_CG);
      await dev.advance(x, 0, 0.3);
      const exact = gen.expmv(0.3, rho);
      expect(norm1(exact.map((v, i) => v - rho[i]))).toBeGreaterThan(1e-2 * norm1(rho));
      // the local tolerance is relative L1 per step; the global error stays within a few steps' worth
      const err = norm1(exact.map((v, i) => v - x[i])) / norm1(exact);
      expect(err).toBeLessThan(5 * dev.stats.steps * tolerance);
      expect(dev.stats.steps).toBeGreaterThan(3);
      // and the steps grow: a controller that never accepted a larger step would take ≥ 0.3/dtMin
      expect(dev.stats.dtMax).toBeGreaterThan(2 * dev.stats.dtMin);
      expect(Math.abs(sumOf(x) - sumOf(rho)) / sumOf(rho)).toBeLessThan(1e-13);
    });

    it(`checkpoints after every step (yield, read the state) leave the arithmetic unchanged on ${name}`, async () => {
      const { setup, rho } = setupOf(name, overrides);
      const op = setup.op;
      const limit = op.explicitLimit();
      const cg = { tol: 1e-9, maxIterations: 20000 };
      const make = [
        () => new DeviceExplicitEuler(new CpuBackend(op), op),
        () => new DeviceRkl2(new CpuBackend(op), op, 30 * limit),
        () => new DeviceBackwardEuler(new CpuBackend(op, new ConditionedPreconditioner(op)), op, 0.02, cg),
        () => new DeviceTrBdf2(new CpuBackend(op, new ConditionedPreconditioner(op)), op, { tolerance: 1e-6, dtMax: 0.05 }, cg),
      ];
      const spans = [[0, 100 * limit, 400 * limit], [0, 100 * limit, 400 * limit], [0, 0.1, 0.3], [0, 0.1, 0.3]];
      for (let w = 0; w < make.length; w++) {
        const plain = make[w]();
        const looked = make[w]();
        const a = rho.slice();
        const b = rho.slice();
        const seen = rho.slice();
        let calls = 0;
        const look = async (): Promise<boolean> => {
          calls++;
          await new Promise<void>((r) => setImmediate(r));
          await looked.peek(seen);
          return false;
        };
        const ts = spans[w];
        for (let k = 1; k < ts.length; k++) {
          await plain.advance(a, ts[k - 1], ts[k]);
          expect(await looked.advance(b, ts[k - 1], ts[k], look)).toBe(ts[k]);
        }
        expect(calls).toBeGreaterThan(3);
        expect(looked.stats).toEqual(plain.stats);
        expect(maxAbsDiff(a, rho)).toBeGreaterThan(1e-3 * maxAbs(rho));
        expect(maxAbsDiff(a, b)).toBe(0);
      }
    });
  }

  it('backward Euler with PCG (Jacobi) matches the band-LU step to the CG tolerance and conserves mass', async () => {
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[32,32]']);
    const op = setup.op;
    const gen = generatorOf(op);
    const dt = 0.01;
    const dev = new DeviceBackwardEuler(new CpuBackend(op, new JacobiPreconditioner(op)), op, dt, { tol: 1e-10, maxIterations: 20000 });
    const b = rho.slice();
    await dev.advance(b, 0, 0.1);
    expect(dev.stats.steps).toBe(10);
    expect(dev.solver.iterations).toBeGreaterThan(0);
    const lu = gen.shiftedLu(dt);
    let ref: Float64Array = rho.slice();
    for (let k = 0; k < 10; k++) ref = lu.solve(ref);
    const scale = maxAbs(ref);
    expect(maxAbsDiff(ref, b) / scale).toBeLessThan(1e-8);
    expect(maxAbsDiff(ref, rho) / scale).toBeGreaterThan(1e-2);
    expect(Math.abs(sumOf(b) - sumOf(rho)) / sumOf(rho)).toBeLessThan(1e-13);
  });
});
