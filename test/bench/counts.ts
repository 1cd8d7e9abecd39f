/** Multigrid- and Jacobi-PCG iteration counts for one backward-Euler-type solve on the reference problem. */
import { buildOperator, gaussianBump } from '../helpers/problems.js';
import { CgSolver, JacobiPreconditioner } from '../../solvers/linear.js';
import { MultigridPreconditioner } from '../../solvers/multigrid.js';

export interface CountResult {
  n: number;
  levels: number;
  mgIterations: number;
  jacobiIterations: number | null;
}

export function iterationCounts(sizes: number[], theta = 0.02, tol = 1e-8): CountResult[] {
  return sizes.map((n) => {
    const op = buildOperator([[-2, 2], [-2, 2]], [n, n], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
    const b = gaussianBump(op.grid, [1, 0], 0.2);
    const mg = new MultigridPreconditioner(op);
    const cg = new CgSolver(op, mg, { tol, maxIterations: 5000 });
    cg.solve(theta, b, b.slice());
    let jac: number | null = null;
    if (n <= 256) {
      const cj = new CgSolver(op, new JacobiPreconditioner(op), { tol, maxIterations: 50000 });
      cj.solve(theta, b, b.slice());
      jac = cj.iterations;
    }
    return { n, levels: mg.levels.length, mgIterations: cg.iterations, jacobiIterations: jac };
  });
}
