/**
 * The generic async integrators (solvers/backend/integrators.ts) on the float64 CPU backend
 * against the synchronous integrators of solvers/integrators.ts. The CPU backend evaluates the
 * same expressions in the same order, so explicit Euler and RKL2 must agree bit for bit: any
 * difference means the Backend abstraction changed the arithmetic. Backward Euler (PCG, Jacobi)
 * is compared with the sync BackwardEuler on the same CG solver at the CG tolerance.
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { DeviceBackwardEuler, DeviceExplicitEuler, DeviceRkl2 } from '../solvers/backend/integrators.js';
import { BackwardEuler } from '../solvers/integrators.js';
import { ExplicitEuler, Rkl2 } from './helpers/reference-integrators.js';
import { CgSolver, JacobiPreconditioner } from '../solvers/linear.js';
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
    it(`explicit Euler and RKL2 are bit-identical on ${name} over several report intervals (with a pause)`, async () => {
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
      // Pause after the 7th step of the first interval: both must resume to the same states.
      let n1 = 0;
      let n2 = 0;
      const times = [0, 100 * limit, 250 * limit, 400 * limit];
      for (let k = 1; k < times.length; k++) {
        let a = times[k - 1];
        while (a < times[k]) a = syncE.advance(e1, a, times[k], () => ++n1 === 7);
        let b = times[k - 1];
        while (b < times[k]) b = await devE.advance(e2, b, times[k], () => ++n2 === 7);
        syncR.advance(r1, times[k - 1], times[k]);
        await devR.advance(r2, times[k - 1], times[k]);
      }
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
    const dev = new DeviceBackwardEuler(new CpuBackend(op), op, dt, { tol, maxIterations: 20000 });
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
});
