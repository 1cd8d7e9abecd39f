/** Multigrid- and Jacobi-PCG iteration counts for one backward-Euler-type solve on the reference problem. */
import { buildOperator, gaussianBump } from '../helpers/problems.js';
import { JacobiPreconditioner } from '../../solvers/linear.js';
import { MultigridPreconditioner } from '../../solvers/multigrid.js';
import { HostPcg } from '../helpers/host-pcg.js';

export interface CountResult {
  n: number;
  levels: number;
  mgIterations: number;
  jacobiIterations: number | null;
}

export async function iterationCounts(sizes: number[], theta = 0.02, tol = 1e-8): Promise<CountResult[]> {
  const out: CountResult[] = [];
  for (const n of sizes) {
    const op = buildOperator([[-2, 2], [-2, 2]], [n, n], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
    const b = gaussianBump(op.grid, [1, 0], 0.2);
    const mg = new MultigridPreconditioner(op);
    const cg = new HostPcg(op, mg, { tol, maxIterations: 5000 });
    await cg.solve(theta, b, b.slice());
    let jac: number | null = null;
    if (n <= 256) {
      const cj = new HostPcg(op, new JacobiPreconditioner(op), { tol, maxIterations: 50000 });
      await cj.solve(theta, b, b.slice());
      jac = cj.iterations;
    }
    out.push({ n, levels: mg.levels.length, mgIterations: cg.iterations, jacobiIterations: jac });
  }
  return out;
}
