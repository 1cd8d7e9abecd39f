/**
 * Benchmark (issue 3, not a unit test): λ₁ of the 2-D double well 0.05 + (x²−1)² + y² on [−2, 2]²,
 * ησ = 0.5 (scenarios/double-well-2d.yaml), at 256² and 512². Targets: < 5 s and < 30 s.
 * Build with `npx tsc -p .`, run `node dist/test/bench/gap-bench.js [--mg]`; writes bench/results-gap.md.
 */
import { execSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync } from 'node:fs';
import { buildOperator } from '../helpers/problems.js';
import { generatorModes } from '../../solvers/eigen/index.js';
import { JacobiPreconditioner, type Preconditioner } from '../../solvers/linear.js';
import { MultigridPreconditioner } from '../../solvers/multigrid.js';
import type { FvOperator } from '../../solvers/operator.js';
import { writeFileAtomic } from '../../src/io/atomic.js';

interface Row {
  n: number;
  preconditioner: string;
  lambda1: number;
  residual: number;
  outer: number;
  cg: number;
  setupSeconds: number;
  solveSeconds: number;
  target: number;
}

const pres: Record<string, (op: FvOperator) => Preconditioner> = {
  Jacobi: (op) => new JacobiPreconditioner(op),
  multigrid: (op) => new MultigridPreconditioner(op),
};
const which = process.argv.includes('--mg') ? ['Jacobi', 'multigrid'] : ['Jacobi'];
const rows: Row[] = [];
for (const [n, target] of [
  [256, 5],
  [512, 30],
] as const) {
  for (const name of which) {
    const t0 = performance.now();
    const op = buildOperator([[-2, 2], [-2, 2]], [n, n], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
    const t1 = performance.now();
    const r = generatorModes(op, { modes: 1, preconditioner: pres[name](op) });
    const t2 = performance.now();
    const row = { n, preconditioner: name, lambda1: r.values[0], residual: r.residuals[0], outer: r.iterations, cg: r.innerIterations, setupSeconds: (t1 - t0) / 1000, solveSeconds: (t2 - t1) / 1000, target };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
let model = cpus()[0]?.model ?? 'unknown';
try {
  model = execSync("lscpu | sed -n 's/^Model name: *//p'", { encoding: 'utf8' }).trim() || model;
} catch {
  // lscpu missing: keep os.cpus()
}
const lines = [
  '# Spectral-gap benchmark (issue 3)',
  '',
  `Date: ${new Date().toISOString()}  `,
  `Machine: ${model}, ${cpus().length} cores (as seen by Node), Node.js ${process.version}  `,
  'Problem: f = 0.05 + (x²−1)² + y² on [−2, 2]², multiplicative noise ησ = 0.5 (scenarios/double-well-2d.yaml), λ₁ only.  ',
  'Method: shift-invert subspace iteration, PCG on the deflated singular system (solvers/eigen).  ',
  'Command: `npx tsc -p . && node dist/test/bench/gap-bench.js [--mg]`',
  '',
  '| grid | preconditioner | λ₁ | residual | outer | CG iterations | operator setup (s) | eigen-solve (s) | target (s) |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.n}² | ${r.preconditioner} | ${r.lambda1.toPrecision(10)} | ${r.residual.toExponential(2)} | ${r.outer} | ${r.cg} | ${r.setupSeconds.toFixed(2)} | ${r.solveSeconds.toFixed(2)} | ${r.target} |`,
  ),
  '',
  'The timings are wall-clock on a shared machine; the load average at the time is part of the record:',
  `load average ${execSafe('cat /proc/loadavg')}`,
  '',
];
mkdirSync('bench', { recursive: true });
writeFileAtomic('bench/results-gap.md', lines.join('\n'));
console.log('wrote bench/results-gap.md');

function execSafe(cmd: string): string {
  try {
    return execSync(cmd, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
