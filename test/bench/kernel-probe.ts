import { buildOperator } from '../helpers/problems.js';
import { MultigridPreconditioner } from '../../solvers/multigrid.js';
const n = Number(process.argv[2] ?? 512);
const op = buildOperator([[-2, 2], [-2, 2]], [n, n], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
const N = op.grid.size;
const a = new Float64Array(N).map((_, i) => Math.sin(i));
const b = new Float64Array(N);
function time(name: string, f: () => void, reps = 50) {
  for (let i = 0; i < 5; i++) f();
  const t = performance.now();
  for (let i = 0; i < reps; i++) f();
  console.log(name, ((performance.now() - t) / reps).toFixed(3), 'ms');
}
time('apply', () => op.apply(a, b));
time('applySym', () => op.applySymmetric(a, b));
time('copy-scale', () => { for (let i = 0; i < N; i++) b[i] = 1.0001 * a[i]; });
const mg = new MultigridPreconditioner(op, { cycle: 'V', overCorrection: 1.5 });
mg.setup(0.01);
time('mg V', () => mg.apply(a, b), 20);
const mgw = new MultigridPreconditioner(op, { cycle: 'W', overCorrection: 1.5 });
mgw.setup(0.01);
time('mg W', () => mgw.apply(a, b), 20);
