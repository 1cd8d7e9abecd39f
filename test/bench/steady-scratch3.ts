import { steadyState } from '../../solvers/nonsym/steady.js';
import { ouGenerator, box } from '../nonsym-helpers.js';
const hs = Number(process.env.HS ?? 1);
const H = [[2*hs, 0.8*hs], [0.8*hs, 1*hs]];
const D = [[0.5, 0.2], [0.2, 0.3]];
const L = Number(process.argv[2] ?? 6);
const adapt = process.argv[3] === 'a';
const cycle = (process.argv[4] ?? 'K') as 'K' | 'V';
for (const n of [64, 128, 256, 512]) {
  const g = box(L, n);
  const a = ouGenerator(g, H, D);
  const t = performance.now();
  const s = steadyState(a, g, { adapt, multigrid: { cycle } });
  console.log(n, L, adapt, cycle, 'solve ms', (performance.now() - t).toFixed(0), 'it', s.iterations, s.krylov.map((k) => k.iterations).join('+'), 'res', s.residual.toExponential(2), 'clip', s.clipped.toExponential(1));
}
