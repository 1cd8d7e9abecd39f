import { describe, expect, it } from 'vitest';
import { compileExpr } from '../src/landscape/expr.js';
import { rng } from './scenario-helpers.js';

/** Best of a few runs: the bound is about our code, not about a busy CI machine's worst moment. */
function bestMs(run: () => void, times = 5): number {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

describe('vectorized evaluation speed', () => {
  const n = 1_000_000;
  const r = rng(3);
  const x = Float64Array.from({ length: n }, () => r(-10, 10));
  const y = Float64Array.from({ length: n }, () => r(-10, 10));
  const out = new Float64Array(n);

  it('a 10-node polynomial over 10^6 points in well under 100 ms', () => {
    // c + b*x^2 + a*y^2 - x*y: 5 operators, 5 leaves after substitution.
    const f = compileExpr('c + b*x^2 + a*y^2 - x*y', { a: 2, b: 0.5, c: 0.1 }, 2);
    const ms = bestMs(() => f.evalPoints([x, y], out));
    expect(out[12345]).toBeCloseTo(0.1 + 0.5 * x[12345]! ** 2 + 2 * y[12345]! ** 2 - x[12345]! * y[12345]!, 10);
    expect(ms).toBeLessThan(50);
  });

  it('a 10-node expression with transcendental functions over 10^6 points under 100 ms', () => {
    const f = compileExpr('exp(-x^2/8) * cos(y) + log(1 + x^2)', {}, 2);
    const ms = bestMs(() => f.evalPoints([x, y], out));
    expect(out[7]).toBeCloseTo(Math.exp(-(x[7]! ** 2) / 8) * Math.cos(y[7]!) + Math.log(1 + x[7]! ** 2), 12);
    expect(ms).toBeLessThan(100);
  });
});
