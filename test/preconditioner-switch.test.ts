/**
 * The default 2-D/3-D preconditioner picks Jacobi or multigrid per solve by the conditioning of
 * I − θS; either way PCG must return the same solution, and for ill-conditioned systems the
 * switch must actually engage multigrid (iteration counts, not timings).
 */
import { describe, expect, it } from 'vitest';
import { buildOperator, gaussianBump } from './helpers/problems.js';
import { HostPcg } from './helpers/host-pcg.js';
import { cgSettings, preconditioner } from '../solvers/select.js';
import { ConditionedPreconditioner } from '../solvers/preconditioner.js';

describe('ConditionedPreconditioner', () => {
  const op = buildOperator([[-2, 2], [-2, 2]], [96, 96], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
  const maxOut = Math.max(...op.outflow);
  const b = gaussianBump(op.grid, [1, 0], 0.2);

  it.each([
    ['well conditioned (Jacobi)', 2 / maxOut],
    ['ill conditioned (multigrid)', 2000 / maxOut],
  ])('%s: same solution as Jacobi-PCG and multigrid-PCG', async (_name, theta) => {
    const solve = async (pre: 'auto' | 'jacobi' | 'multigrid') => {
      const s = new HostPcg(op, preconditioner(op, pre), cgSettings(1e-9));
      const x = b.slice();
      await s.solve(theta, b, x);
      return { x, iterations: s.iterations };
    };
    const auto = await solve('auto');
    const jac = await solve('jacobi');
    const mg = await solve('multigrid');
    let dj = 0;
    let dm = 0;
    let top = 0;
    for (let i = 0; i < b.length; i++) {
      dj = Math.max(dj, Math.abs(auto.x[i] - jac.x[i]));
      dm = Math.max(dm, Math.abs(auto.x[i] - mg.x[i]));
      top = Math.max(top, Math.abs(jac.x[i]));
    }
    expect(dj).toBeLessThan(1e-8 * top);
    expect(dm).toBeLessThan(1e-8 * top);
    // the switch: θ·max(−S_ii) below the threshold behaves as Jacobi, above as multigrid
    if (theta * maxOut > ConditionedPreconditioner.SWITCH) {
      expect(auto.iterations).toBe(mg.iterations);
      expect(auto.iterations).toBeLessThan(jac.iterations / 3);
    } else {
      expect(auto.iterations).toBe(jac.iterations);
    }
  });
});
