/**
 * Benchmark (issue #18 part 2, not a unit test): assembly of the monotone generator
 * (solvers/anisotropic/assemble.ts) at 512² for three fields on [−2, 2]² with f = 0.05 + (x²−1)² + y²:
 * isotropic D = (ησ/2) f·I (axis offsets only), a smooth full-rank anisotropic D (rotating
 * principal axes, condition ≤ 6), and a rank-1 D = (ησ/2) f·u uᵀ along a rotating unit vector u (every
 * cell relaxed: the worst case of the bisection). Wall and CPU time (user + system) per assembly,
 * median of --reps; CPU time is the steadier number on a shared machine.
 *
 *   npx tsc -p . && node dist/test/bench/anisotropic-assembly.js [--cells 512] [--reps 3]
 */
import { cpuUsage } from 'node:process';
import { Grid } from '../../solvers/grid.js';
import { assembleGenerator } from '../../solvers/anisotropic/assemble.js';
import type { DiffusionField, GradientField } from '../../solvers/anisotropic/types.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const n = arg('--cells', 512);
const reps = arg('--reps', 3);
const es = 0.5;
const f = (x: number, y: number): number => 0.05 + (x * x - 1) ** 2 + y * y;
const gf = (x: number, y: number): [number, number] => [4 * x * (x * x - 1), 2 * y];
const gradF: GradientField = (x, o) => {
  const g = gf(x[0], x[1]);
  o[0] = g[0];
  o[1] = g[1];
};
// ∇·D is any smooth vector for timing purposes; the assembly's cost does not depend on it.
const divD: DiffusionField['evalDivD'] = (x, o) => {
  const g = gf(x[0], x[1]);
  o[0] = 0.5 * es * g[0];
  o[1] = 0.5 * es * g[1];
};
const fields: Record<string, DiffusionField> = {
  isotropic: { dim: 2, evalD: (x, o) => { const v = 0.5 * es * f(x[0], x[1]); o[0] = v; o[1] = 0; o[2] = 0; o[3] = v; }, evalDivD: divD },
  anisotropic: {
    dim: 2,
    evalD: (x, o) => {
      const v = 0.5 * es * f(x[0], x[1]);
      const t = 0.7 * x[0] + 0.4 * x[1];
      const c = Math.cos(t);
      const s = Math.sin(t);
      const l0 = v;
      const l1 = v / 6;
      o[0] = c * c * l0 + s * s * l1;
      o[1] = o[2] = c * s * (l0 - l1);
      o[3] = s * s * l0 + c * c * l1;
    },
    evalDivD: divD,
  },
  'rank-1': {
    dim: 2,
    evalD: (x, o) => {
      const v = 0.5 * es * f(x[0], x[1]);
      const t = 0.7 * x[0] + 0.4 * x[1];
      const c = Math.cos(t);
      const s = Math.sin(t);
      o[0] = v * c * c;
      o[1] = o[2] = v * c * s;
      o[3] = v * s * s;
    },
    evalDivD: divD,
  },
};
const grid = new Grid([[-2, 2], [-2, 2]], [n, n]);
for (const [name, field] of Object.entries(fields)) {
  const wall: number[] = [];
  const cpu: number[] = [];
  let stats;
  for (let r = 0; r < reps; r++) {
    const c0 = cpuUsage();
    const t0 = performance.now();
    const gen = assembleGenerator(grid, field, gradF);
    wall.push(performance.now() - t0);
    const c1 = cpuUsage(c0);
    cpu.push((c1.user + c1.system) / 1000);
    stats = gen.stats;
  }
  const med = (a: number[]): number => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)];
  console.log(`${name} ${n}²: wall ${med(wall).toFixed(0)} ms, CPU ${med(cpu).toFixed(0)} ms; offsets ${JSON.stringify(stats!.offsets)}; relaxation ${JSON.stringify(stats!.relaxation)}; upwind cells ${stats!.upwindCells}`);
}
