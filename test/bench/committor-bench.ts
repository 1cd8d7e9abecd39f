/**
 * Committor and mean-first-passage-time solves at 512² and 128³ (issue #17 speed targets: under
 * 2 s and under 10 s on the 2-core machine), for bench/results-committor.md:
 *
 *   npx tsc -p tsconfig.json && node dist/test/bench/committor-bench.js [--repeat 3]
 *
 * Each line: grid, problem, wall and CPU seconds of the set-up (cell averages of f, ψ, face
 * coefficients) and of the solve (cut operator, multigrid hierarchy, PCG), CG iterations and the
 * final relative residual. Wall time moves with the machine's load (shared by several users):
 * the CPU time of this single-threaded process is printed beside it, and the load average at start
 * and end.
 */
import { cpus, loadavg } from 'node:os';
import { Grid } from '../../solvers/grid.js';
import { Problem, isFault, type NoiseModel } from '../../solvers/problem.js';
import { FvOperator } from '../../solvers/operator.js';
import { committor, meanFirstPassage, type AbsorbingResult } from '../../solvers/absorbing.js';
import type { PointFunction } from '../../solvers/quadrature.js';

interface Case {
  name: string;
  bounds: [number, number][];
  cells: number[];
  f: PointFunction;
  noise: NoiseModel;
  /** The two wells' centres. */
  a: number[];
  b: number[];
  r: number;
}

/** The 2-D reference double well of docs/peers.md, and its 3-D extension with a z² term. */
const dw: PointFunction = (c, out) => {
  const d = c.length;
  for (let i = 0; i < out.length; i++) {
    const x = c[0][i];
    let v = 0.05 + (x * x - 1) ** 2;
    for (let k = 1; k < d; k++) v += c[k][i] * c[k][i];
    out[i] = v;
  }
};
const noise: NoiseModel = { kind: 'multiplicative', etaSigma: 0.5, eps: 0 };

const CASES: Case[] = [
  { name: 'double well 2-D', bounds: [[-2, 2], [-2, 2]], cells: [512, 512], f: dw, noise, a: [-1, 0], b: [1, 0], r: 0.1 },
  { name: 'double well 3-D', bounds: [[-2, 2], [-2, 2], [-2, 2]], cells: [128, 128, 128], f: dw, noise, a: [-1, 0, 0], b: [1, 0, 0], r: 0.15 },
];

function ball(grid: Grid, p: number[], r: number): Uint8Array {
  const m = new Uint8Array(grid.size);
  for (let i = 0; i < grid.size; i++) {
    const c = grid.centre(i);
    let d2 = 0;
    for (let k = 0; k < grid.dim; k++) d2 += (c[k] - p[k]) ** 2;
    if (d2 <= r * r) m[i] = 1;
  }
  return m;
}

function timed<T>(fn: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

function line(c: Case, what: string, setup: { wall: number; cpu: number }, s: { value: AbsorbingResult; wall: number; cpu: number }): string {
  return `| ${c.cells.join('×')} | ${what} | ${setup.wall.toFixed(2)} / ${setup.cpu.toFixed(2)} | ${s.wall.toFixed(2)} / ${s.cpu.toFixed(2)} | ${s.value.iterations} | ${s.value.residual.toExponential(1)} |`;
}

function main(): void {
  const repeat = Number(process.argv[process.argv.indexOf('--repeat') + 1]) || 1;
  const only = process.argv.includes('--3d') ? CASES.slice(1) : process.argv.includes('--2d') ? CASES.slice(0, 1) : CASES;
  console.log(`machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores; node ${process.version}; ${new Date().toISOString()}; load average at start ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log('| grid | solve | set-up wall / CPU s | solve wall / CPU s | CG iterations | residual |');
  console.log('|---|---|---|---|---|---|');
  for (const c of only) {
    for (let rep = 0; rep < repeat; rep++) {
      const setup = timed(() => {
        const grid = new Grid(c.bounds, c.cells);
        const p = Problem.build(grid, c.f, c.noise);
        if (isFault(p)) throw new Error('landscape fault');
        return new FvOperator(p);
      });
      const op = setup.value;
      const A = ball(op.grid, c.a, c.r);
      const B = ball(op.grid, c.b, c.r);
      const q = timed(() => committor(op, A, B));
      console.log(line(c, 'committor', setup, q));
      const t = timed(() => meanFirstPassage(op, B));
      console.log(line(c, 'mean first-passage time', setup, t));
      op.dispose();
      op.problem.dispose();
    }
  }
  console.log(`load average at end ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
}

main();
