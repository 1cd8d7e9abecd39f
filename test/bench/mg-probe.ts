import { buildOperator } from '../helpers/problems.js';
import { CgSolver, JacobiPreconditioner } from '../../solvers/linear.js';
import { MultigridPreconditioner } from '../../solvers/multigrid.js';

const n = Number(process.argv[2] ?? 128);
const oc = Number(process.argv[3] ?? 1.7);
const cyc = (process.argv[4] ?? 'V') as 'V' | 'W';
const theta = Number(process.argv[5] ?? 0.01);
let t = performance.now();
const op = buildOperator([[-2, 2], [-2, 2]], [n, n], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
console.log('setup', (performance.now() - t).toFixed(0), 'ms');
t = performance.now();
const mg = new MultigridPreconditioner(op, { overCorrection: oc, cycle: cyc });
console.log('mg build', (performance.now() - t).toFixed(0), 'ms', mg.name);
const b = new Float64Array(op.grid.size);
for (let i = 0; i < b.length; i++) b[i] = Math.max(0, Math.sin(0.37 * i) + Math.cos(i * 0.013)) ;
for (const pre of [mg, ...(n <= 256 ? [new JacobiPreconditioner(op)] : [])]) {
  const cg = new CgSolver(op, pre, { tol: 1e-9, maxIterations: 50000 });
  const x = b.slice();
  t = performance.now();
  cg.solve(theta, b, x);
  console.log(pre.name.slice(0, 20), 'iters', cg.iterations, 'time', (performance.now() - t).toFixed(0), 'ms');
}
