/**
 * Benchmark (issue #18 item 3, not a unit test): the steady state Aρ = 0 of a 9-point non-reversible
 * generator at 64²…512² (flexible GMRES(30) + the aggregation K-cycle of solvers/nonsym/), target
 * 512² in < 5 s. The generator is the 2-D Ornstein–Uhlenbeck test scheme of test/nonsym-helpers.ts
 * (H and D not commuting, so the steady state carries a rotating current), in two regimes:
 * 'moderate' (H = 0.3·H₀ on [−3, 3]²) and 'drift' (H₀ on [−6, 6]²: π spans 16 decades, upwinded tails).
 *
 *   npx tsc -p . && node dist/test/bench/steady-bench.js [--cells 64,128,256,512] [--cases scheme,feng-tu]
 *     [--hierarchy adapt,plain,redisc] [--out bench/results-steady.md]
 *
 * Writes bench/results-steady.md (machine, Node, date, load average at start and end).
 */
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execSync } from 'node:child_process';
import { steadyState } from '../../solvers/nonsym/steady.js';
import { box, ouGenerator } from '../nonsym-helpers.js';
import { assembleGenerator } from '../../solvers/anisotropic/assemble.js';
import type { Csr } from '../../solvers/sparse/csr.js';
import { Grid } from '../../solvers/grid.js';
import { fengTuHessianField, ouField } from '../nonsym-fields.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const arg = (name: string, d: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : d;
};
const cells = arg('--cells', '64,128,256,512').split(',').map(Number);
/** Hierarchies: 'adapt' (Galerkin, rebuilt with the first solution as weights), 'plain' (Galerkin), 'redisc' (re-discretised coarse levels, where the case has a field). */
const hierarchies = arg('--hierarchy', 'adapt,plain,redisc').split(',');
const H0 = [[2, 0.8], [0.8, 1]];
const D = [[0.5, 0.2], [0.2, 0.3]];
/** The real monotone scheme (solvers/anisotropic) for an OU process with D far from diagonal. */
function schemeOu(grid: Grid): Csr {
  const Hs = [2, 0.8, 0.8, 1];
  const Ds = [0.5, 0.4, 0.4, 0.45];
  const field = { dim: 2, evalD: (_x: ArrayLike<number>, o: Float64Array) => o.set(Ds), evalDivD: (_x: ArrayLike<number>, o: Float64Array) => o.fill(0) };
  const grad = (x: ArrayLike<number>, o: Float64Array): void => {
    o[0] = Hs[0] * x[0] + Hs[1] * x[1];
    o[1] = Hs[2] * x[0] + Hs[3] * x[1];
  };
  return assembleGenerator(grid, field, grad).forward;
}
const ftField = fengTuHessianField({ l0: 1, g: 2, floor: 0.2, c: 1 });
const ouF = ouField([2, 0.8, 0.8, 1], [0.5, 0.4, 0.4, 0.45]);
/** scenarios/anisotropic-ou.yaml: f = (x² + 3y²)/2, D = [[0.15, 0.08], [0.08, 0.1]] on [−2, 2]². */
const scenOu = ouField([1, 0, 0, 3], [0.15, 0.08, 0.08, 0.1]);
/** Coarse levels re-discretised: the same field assembled on the coarser grid. */
const rediscretise: Record<string, (g: Grid) => Csr> = {
  scheme: (g) => assembleGenerator(g, ouF.field, ouF.grad).forward,
  'anisotropic-ou': (g) => assembleGenerator(g, scenOu.field, scenOu.grad).forward,
  'feng-tu': (g) => assembleGenerator(g, ftField.field, ftField.grad).forward,
};
const cases = [
  { name: 'moderate', L: 3, build: (g: Grid): Csr => ouGenerator(g, H0.map((r) => r.map((v) => 0.3 * v)), D) },
  { name: 'drift', L: 6, build: (g: Grid): Csr => ouGenerator(g, H0, D) },
  { name: 'scheme', L: 4, build: schemeOu },
  { name: 'anisotropic-ou', L: 2, build: (g: Grid): Csr => assembleGenerator(g, scenOu.field, scenOu.grad).forward },
  // Feng–Tu's valley with Hessian-aligned noise on [−1, 1]×[−2, 2] with n×2n cells (the 'cells' entry is n).
  { name: 'feng-tu', L: 0, build: (g: Grid): Csr => assembleGenerator(g, ftField.field, ftField.grad).forward },
].filter((c) => arg('--cases', 'moderate,drift,scheme').split(',').includes(c.name));
const load0 = loadavg();
const t0 = new Date();
const rows: string[] = [];
for (const c of cases) {
  for (const hier of hierarchies) {
    const coarseOperator = rediscretise[c.name];
    if (hier === 'redisc' && !coarseOperator) continue;
    for (const n of cells) {
      const grid = c.name === 'feng-tu' ? new Grid([[-1, 1], [-2, 2]], [n, 2 * n]) : box(c.L, n);
      const a = c.build(grid);
      const cpu0 = process.cpuUsage();
      const w0 = performance.now();
      // The coarse assemblies are part of the solve's cost here (they are built inside the multigrid).
      const st = steadyState(a, grid, { tol: 1e-10, adapt: hier === 'adapt', ...(hier === 'redisc' ? { multigrid: { coarseOperator } } : {}) });
      const wall = (performance.now() - w0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const cpuS = (cpu.user + cpu.system) / 1e6;
      const row = `| ${c.name} | ${c.name === 'feng-tu' ? `${n}×${2 * n}` : `${n}²`} | ${hier} | ${st.iterations} (${st.krylov.map((k) => k.iterations).join('+')}) | ${st.residual.toExponential(2)} | ${st.clipped.toExponential(1)} | ${wall.toFixed(2)} | ${cpuS.toFixed(2)} |`;
      console.log(row);
      rows.push(row);
    }
  }
}
const load1 = loadavg();
let model = cpus()[0]?.model ?? 'unknown';
try {
  model = execSync("lscpu | grep 'Model name'", { encoding: 'utf8' }).replace(/Model name:\s*/, '').trim();
} catch {
  /* lscpu missing: keep os.cpus() */
}
const md = `# Steady state of a non-symmetric generator (issue #18 item 3)

Written by \`test/bench/steady-bench.ts\`. Machine: ${model}, ${cpus().length} cores (shared by eight
engineers while this ran: compare rows of one run, not absolute times across runs); Node ${process.version};
${t0.toISOString()}; load average at start ${load0.map((v) => v.toFixed(2)).join(' ')}, at end ${load1.map((v) => v.toFixed(2)).join(' ')}.

Method: flexible GMRES(30) on Aρ = 0 from the uniform density, right-preconditioned by one aggregation
K-cycle (2×2 aggregates, Gauss–Seidel forward/backward, two GCR steps per coarse level, dense LU at ≤ 300
cells); hierarchy "adapt": after a first pass to 1e-5 the hierarchy is rebuilt with that solution as prolongation
weights; "plain": Galerkin coarse operators PᵀAP; "redisc": the coarse operators are the same scheme assembled on
the coarser grid (same box, half the cells per axis; V-cycle; the coarse assemblies are counted in the time). Stop: ‖Aρ‖₁/(‖A‖₁‖ρ‖₁) ≤ 1e-10. Generator: the 9-point OU test scheme (test/nonsym-helpers.ts),
H₀ = [[2, 0.8], [0.8, 1]], D = [[0.5, 0.2], [0.2, 0.3]]; moderate: 0.3·H₀ on [−3, 3]²; drift: H₀ on [−6, 6]²;
scheme: the assembled monotone scheme (solvers/anisotropic, from h/scheme) for H₀ and D = [[0.5, 0.4], [0.4, 0.45]]
on [−4, 4]² (a 5×5 stencil); feng-tu: the assembled scheme for Feng & Tu's valley f = e^(2x)·y²/2 + 0.2 with
D = f·H₊ (Hessian-aligned, rank one, relaxed by the scheme; test/nonsym-fields.ts) on [−1, 1]×[−2, 2], n×2n cells;
anisotropic-ou: scenarios/anisotropic-ou.yaml's field (f = (x² + 3y²)/2, D = [[0.15, 0.08], [0.08, 0.1]], [−2, 2]²).

| case | cells | hierarchy | GMRES iterations (per pass) | residual | clipped mass | wall s | CPU s |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
const out = resolve(root, arg('--out', 'bench/results-steady.md'));
writeFileSync(out, md);
console.log(`wrote ${out}`);
