/**
 * The default 2-D/3-D preconditioner picks Jacobi or multigrid per solve by the conditioning of
 * I − θS; either way PCG must return the solution of (I − θA)x = b, here a band-LU solve of the
 * generator written in the test (test/helpers/generator.ts), and for ill-conditioned systems the
 * switch must actually engage multigrid (iteration counts, not timings).
 */
import { describe, expect, it } from 'vitest';
import { buildOperator, gaussianBump } from './helpers/problems.js';
import { HostPcg } from './helpers/host-pcg.js';
import { Generator, maxAbs, maxAbsDiff } from './helpers/generator.js';
import { cgSettings, preconditioner } from '../solvers/backend/choose.js';
import { ConditionedPreconditioner } from '../solvers/preconditioner.js';

describe('ConditionedPreconditioner', () => {
  const op = buildOperator([[-2, 2], [-2, 2]], [96, 96], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
  const maxOut = Math.max(...op.outflow);
  const b = gaussianBump(op.grid, [1, 0], 0.2);
  const gen = new Generator(op.problem);

  it.each([
    ['well conditioned (Jacobi)', 2 / maxOut],
    ['ill conditioned (multigrid)', 2000 / maxOut],
  ])('%s: the band-LU solution, as with Jacobi-PCG and multigrid-PCG', async (_name, theta) => {
    const solve = async (pre: 'auto' | 'jacobi' | 'multigrid') => {
      const s = new HostPcg(op, preconditioner(op, pre), cgSettings(1e-9));
      const x = b.slice();
      await s.solve(theta, b, x);
      return { x, iterations: s.iterations };
    };
    const auto = await solve('auto');
    const jac = await solve('jacobi');
    const mg = await solve('multigrid');
    const exact = gen.shiftedLu(theta).solve(b);
    const top = maxAbs(exact);
    expect(maxAbsDiff(exact, b)).toBeGreaterThan(1e-3 * top);
    for (const x of [auto.x, jac.x, mg.x]) expect(maxAbsDiff(x, exact)).toBeLessThan(1e-7 * top);
    // the switch: θ·max(−S_ii) below the threshold behaves as Jacobi, above as multigrid
    if (theta * maxOut > ConditionedPreconditioner.SWITCH) {
      expect(auto.iterations).toBe(mg.iterations);
      expect(auto.iterations).toBeLessThan(jac.iterations / 3);
    } else {
      expect(auto.iterations).toBe(jac.iterations);
    }
  });
});
