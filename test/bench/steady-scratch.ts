import { gmres, bicgstab } from '../../solvers/sparse/krylov.js';
import { csrMatVec } from '../../solvers/sparse/csr.js';
import { NonsymMultigrid } from '../../solvers/nonsym/multigrid.js';
import { ouGenerator, box, } from '../nonsym-helpers.js';
import { steadyState } from '../../solvers/nonsym/steady.js';
const useW = process.argv[8] === 'w';
const hs = Number(process.env.HS ?? 1);
const H = [[2*hs, 0.8*hs], [0.8*hs, 1*hs]];
const D = [[0.5, 0.2], [0.2, 0.3]];
const cyc = (process.argv[2] ?? 'K') as 'K' | 'V';
const om = Number(process.argv[3] ?? 1);
const kr = (process.argv[4] ?? 'gmres') as 'gmres' | 'bicgstab';
const sweeps = Number(process.argv[5] ?? 1);
const L = Number(process.argv[6] ?? 6);
const alpha = Number(process.argv[7] ?? 0);
for (const n of [64, 128, 256, 512]) {
  const g = box(L, n);
  const a = ouGenerator(g, H, D);
  let t = performance.now();
  const weights = useW ? steadyState(a, g, { tol: 1e-6 }).rho : undefined;
  t = performance.now();
  const mg = new NonsymMultigrid(a, g, { cycle: cyc, overCorrection: om, sweeps, ...(weights ? { weights } : {}) });
  if (alpha) mg.setOperator(1, -alpha);
  const tb = performance.now() - t;
  const x = new Float64Array(g.size).fill(1 / g.size);
  const b = new Float64Array(g.size);
  if (alpha) { for (let i = 0; i < g.size; i++) b[i] = Math.sin(i); x.fill(0); }
  const r = new Float64Array(g.size); csrMatVec(mg.operator, x, r);
  let r0 = 0; for (let i = 0; i < g.size; i++) r0 += (b[i]-r[i]) ** 2; r0 = Math.sqrt(r0);
  t = performance.now();
  const st = (kr === 'gmres' ? gmres : bicgstab)(mg.operator, b, x, { tol: 0, atol: 1e-8 * r0, maxIter: 300, precond: mg.apply, restart: 30 });
  const ts = performance.now() - t;
  console.log(n, cyc, om, kr, sweeps, 'setup', tb.toFixed(0), 'solve ms', ts.toFixed(0), 'it', st.iterations, st.relativeResidual.toExponential(2), mg.sizes.join(' '), mg.operatorComplexity.toFixed(2));
}
