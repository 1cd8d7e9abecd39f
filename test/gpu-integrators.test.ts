/**
 * The generic async integrators (solvers/backend/integrators.ts, implicit.ts) on the float64 CPU
 * backend against the synchronous integrators fpsolve shipped before them (test/helpers/
 * reference-*.ts). The CPU backend evaluates the same expressions in the same order, so explicit
 * Euler, RKL2, backward Euler and TR-BDF2 (with their CG) must agree bit for bit, also when the
 * run loop's checkpoints (yield, read the state) come after every step: any difference means the
 * Backend abstraction or the checkpoints changed the arithmetic. Backward Euler (PCG, Jacobi) is also
 * compared with the sync BackwardEuler at the CG tolerance, as before the CG was unified.
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { DeviceExplicitEuler, DeviceRkl2 } from '../solvers/backend/integrators.js';
import { DeviceBackwardEuler, DeviceTrBdf2 } from '../solvers/backend/implicit.js';
import { ExplicitEuler, Rkl2 } from './helpers/reference-integrators.js';
import { BackwardEuler, CgSolver, TrBdf2, referenceSolver } from './helpers/reference-implicit.js';
import { JacobiPreconditioner } from '../solvers/linear.js';
import { ConditionedPreconditioner } from '../solvers/preconditioner.js';
import { cgSettings } from '../solvers/select.js';
import { setupOf } from './gpu-helpers.js';

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const cases: [string, string[]][] = [
  ['pearson-1d', ['domain.cells=[400]']],
  ['double-well-2d', ['domain.cells=[32,32]']],
];

describe('generic integrators on the float64 CPU backend reproduce the sync CPU integrators', () => {
  for (const [name, overrides] of cases) {
    it(`explicit Euler and RKL2 are bit-identical on ${name} over several report intervals (with checkpoints)`, async () => {
      const { setup, rho } = setupOf(name, overrides);
      const op = setup.op;
      const limit = op.explicitLimit();
      const dtR = 30 * limit;
      const mk = (): [Float64Array, Float64Array] => [rho.slice(), rho.slice()];
      const [e1, e2] = mk();
      const [r1, r2] = mk();
      const syncE = new ExplicitEuler(op);
      const devE = new DeviceExplicitEuler(new CpuBackend(op), op);
      const syncR = new Rkl2(op, dtR);
      const devR = new DeviceRkl2(new CpuBackend(op), op, dtR);
      // A checkpoint after every step that yields to the event loop and reads the state, as the
      // run loop's do: continuing past it must leave the arithmetic of the plain loops unchanged.
      let calls = 0;
      const look = (dev: DeviceExplicitEuler | DeviceRkl2, into: Float64Array) => async (): Promise<boolean> => {
        calls++;
        await new Promise<void>((r) => setImmediate(r));
        await dev.peek(into);
        return false;
      };
      const seen = rho.slice();
      const times = [0, 100 * limit, 250 * limit, 400 * limit];
      for (let k = 1; k < times.length; k++) {
        syncE.advance(e1, times[k - 1], times[k]);
        expect(await devE.advance(e2, times[k - 1], times[k], look(devE, seen))).toBe(times[k]);
        syncR.advance(r1, times[k - 1], times[k]);
        expect(await devR.advance(r2, times[k - 1], times[k], look(devR, seen))).toBe(times[k]);
      }
      expect(calls).toBeGreaterThan(300);
      expect(devE.stats.steps).toBe(syncE.stats.steps);
      expect(devR.stages).toBe(syncR.stages);
      expect(devR.stats.steps).toBe(syncR.stats.steps);
      // the states moved (not a vacuous comparison) …
      expect(maxAbsDiff(e1, rho)).toBeGreaterThan(1e-3 * Math.max(...rho));
      expect(maxAbsDiff(r1, rho)).toBeGreaterThan(1e-3 * Math.max(...rho));
      // … and the generic integrators took exactly the same arithmetic path
      expect(maxAbsDiff(e1, e2)).toBe(0);
      expect(maxAbsDiff(r1, r2)).toBe(0);
    });
  }

  it('backward Euler with PCG (Jacobi) agrees with the sync BackwardEuler to the CG tolerance and conserves mass', async () => {
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[32,32]']);
    const op = setup.op;
    const tol = 1e-10;
    const dt = 0.01;
    const sync = new BackwardEuler(op, new CgSolver(op, new JacobiPreconditioner(op), { tol, maxIterations: 20000 }), dt);
    const dev = new DeviceBackwardEuler(new CpuBackend(op, new JacobiPreconditioner(op)), op, dt, { tol, maxIterations: 20000 });
    const a = rho.slice();
    const b = rho.slice();
    sync.advance(a, 0, 0.1);
    await dev.advance(b, 0, 0.1);
    expect(dev.stats.steps).toBe(10);
    expect(dev.solver.iterations).toBeGreaterThan(0);
    // same Krylov method on the same operator: iteration counts match to within a couple
    expect(Math.abs(dev.solver.iterations - (sync.solver as CgSolver).iterations)).toBeLessThanOrEqual(2 * 10);
    const scale = Math.max(...a);
    expect(maxAbsDiff(a, b) / scale).toBeLessThan(1e-8);
    expect(maxAbsDiff(a, rho) / scale).toBeGreaterThan(1e-2);
    const m0 = rho.reduce((s, v) => s + v, 0);
    expect(Math.abs(b.reduce((s, v) => s + v, 0) - m0) / m0).toBeLessThan(1e-13);
  });

  for (const [name, overrides] of cases) {
    it(`TR-BDF2 and backward Euler (Thomas in 1-D, PCG with the Jacobi/multigrid switch in 2-D) are bit-identical on ${name} (with checkpoints)`, async () => {
      const { setup, rho } = setupOf(name, overrides);
      const op = setup.op;
      const tolerance = 1e-6;
      const cg = cgSettings(tolerance);
      const ref = () => referenceSolver(op, new ConditionedPreconditioner(op), cg);
      const syncT = new TrBdf2(op, ref(), { tolerance, dtMax: 0.05 });
      const devT = new DeviceTrBdf2(new CpuBackend(op, new ConditionedPreconditioner(op)), op, { tolerance, dtMax: 0.05 }, cg);
      const syncB = new BackwardEuler(op, ref(), 0.02);
      const devB = new DeviceBackwardEuler(new CpuBackend(op, new ConditionedPreconditioner(op)), op, 0.02, cg);
      const [t1, t2, b1, b2] = [rho.slice(), rho.slice(), rho.slice(), rho.slice()];
      let calls = 0;
      const seen = rho.slice();
      const look = (dev: DeviceTrBdf2 | DeviceBackwardEuler) => async (): Promise<boolean> => {
        calls++;
        await new Promise<void>((r) => setImmediate(r));
        await dev.peek(seen);
        return false;
      };
      for (const [from, to] of [[0, 0.1], [0.1, 0.3]]) {
        syncT.advance(t1, from, to);
        expect(await devT.advance(t2, from, to, look(devT))).toBe(to);
        syncB.advance(b1, from, to);
        expect(await devB.advance(b2, from, to, look(devB))).toBe(to);
      }
      expect(calls).toBeGreaterThan(10);
      expect(devT.stats).toEqual(syncT.stats);
      expect(devT.solver.iterations).toBe(syncT.solver.iterations);
      expect(devT.solver.solves).toBe(syncT.solver.solves);
      expect(devB.solver.iterations).toBe(syncB.solver.iterations);
      expect(devT.stats.steps).toBeGreaterThan(3);
      expect(maxAbsDiff(t1, rho)).toBeGreaterThan(1e-3 * Math.max(...rho));
      expect(maxAbsDiff(t1, t2)).toBe(0);
      expect(maxAbsDiff(b1, b2)).toBe(0);
    });
  }
});
