/**
 * An exploration for issue #19 item 2 (inexact Krylov, docs/performance.md "Stepping, session 8"),
 * not a shipped setting: the reference problem (bench/reference-2d.yaml) at `--n` cells per axis,
 * exponential at 3e-4, with the shift-invert solves' tolerance multiplied by a rule of the solve's
 * index j in the run (the span's vectors: one basis serves the whole run here), against the same
 * run at 1e-8. Prints CG iterations and the largest L1 distance to the tight run over the 10 report
 * times. Deterministic counts, no timing.
 *
 *   npx tsc -p tsconfig.json && node dist/test/bench/relaxed-solves.js [--n 128]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CpuBackend } from '../../solvers/backend/cpu.js';
import { DeviceExponential, exponentialCgSettings } from '../../solvers/backend/exponential.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { setUp } from '../../src/run/run.js';
import { initialDensity } from '../../src/run/initial.js';
import { packageRoot } from '../../src/paths.js';

interface Outcome {
  states: Float64Array[];
  solves: number;
  iterations: number;
}

async function run(text: string, rule: (j: number) => number, tol: number): Promise<Outcome> {
  const loaded = parseScenarioText(text, 'reference-2d.yaml', []);
  const setup = setUp(loaded);
  const rho = initialDensity(setup.grid, setup.scenario.initial, loaded);
  const backend = new CpuBackend(setup.op);
  const integ = new DeviceExponential(backend, setup.op, { tolerance: tol, dtMax: 0.1 }, exponentialCgSettings(tol));
  const solver = integ.solver;
  const solve = solver.solve.bind(solver);
  let j = 0;
  solver.solve = (theta, b, x, t) => solve(theta, b, x, t === undefined ? t : t * rule(j++));
  const states: Float64Array[] = [];
  for (let k = 0; k < 10; k++) {
    await integ.advance(rho, k * 0.1, (k + 1) * 0.1);
    states.push(Float64Array.from(rho));
  }
  const out = { states, solves: solver.solves, iterations: solver.iterations };
  integ.dispose();
  backend.dispose();
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const n = Number(args.includes('--n') ? args[args.indexOf('--n') + 1] : '128');
  const text = readFileSync(join(packageRoot(), 'bench', 'reference-2d.yaml'), 'utf8').replace(/cells: \[\d+, \d+\]/, `cells: [${n}, ${n}]`);
  const h2 = (4 / n) ** 2;
  const tight = await run(text, () => 1, 1e-8);
  const rules: [string, (j: number) => number][] = [
    ['as shipped', () => 1],
    ['×10 from the 7th solve', (j) => (j >= 6 ? 10 : 1)],
    ['×100 from the 7th solve', (j) => (j >= 6 ? 100 : 1)],
    ['×2^j, at most ×100', (j) => Math.min(100, 2 ** j)],
    ['×10 every solve', () => 10],
  ];
  console.log(`${new Date().toISOString()}, reference-2d ${n}², exponential 3e-4; tight run (1e-8): ${tight.solves} solves, ${tight.iterations} CG iterations`);
  console.log('| solve tolerance | solves | CG iterations | max L1 to the 1e-8 run |');
  console.log('|---|---|---|---|');
  for (const [name, rule] of rules) {
    const r = await run(text, rule, 3e-4);
    let worst = 0;
    r.states.forEach((s, k) => {
      let d = 0;
      for (let i = 0; i < s.length; i++) d += Math.abs(s[i] - tight.states[k][i]);
      worst = Math.max(worst, d * h2);
    });
    console.log(`| ${name} | ${r.solves} | ${r.iterations} | ${worst.toExponential(2)} |`);
  }
}

await main();
