/**
 * Vectorized landscape evaluation speed (a benchmark, not a test: timings are never asserted).
 *   npx tsc -p . && node dist/test/bench/expr-bench.js
 * The solver evaluates f at every Gauss point of every cell (9 per cell in 2-D, 27 in 3-D), so
 * this is part of every run's set-up cost.
 */
import { cpus, loadavg } from 'node:os';
import { compileExpr } from '../../src/landscape/expr.js';

function bestMs(run: () => void, times = 5): number {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const n = 1_000_000;
const x = Float64Array.from({ length: n }, (_, i) => -10 + (20 * ((i * 7919) % n)) / n);
const y = Float64Array.from({ length: n }, (_, i) => -10 + (20 * ((i * 104729) % n)) / n);
const out = new Float64Array(n);
const cases: [string, Record<string, number>][] = [
  ['c + b*x^2 + a*y^2 - x*y', { a: 2, b: 0.5, c: 0.1 }],
  ['(1 - x)^2 + 100*(y - x^2)^2', {}],
  ['exp(-x^2/8) * cos(y) + log(1 + x^2)', {}],
];
console.log(`# expression evaluation over 10^6 points (best of 5), ${cpus()[0]?.model ?? '?'} × ${cpus().length}, load ${loadavg().map((v) => v.toFixed(2)).join(' ')}, ${new Date().toISOString()}`);
for (const [src, params] of cases) {
  const f = compileExpr(src, params, 2);
  console.log(`${src.padEnd(40)} ${bestMs(() => f.evalPoints([x, y], out)).toFixed(1)} ms`);
}
