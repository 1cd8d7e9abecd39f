/**
 * solvers/vec.ts: dot, sum and norm1 are the registry's generated reductions. They must be one
 * sequential accumulation (the eigen-solvers' PCG and shift-invert relied on the plain loop's
 * order), in the arena (WebAssembly) and outside it (JavaScript) alike, and agree with a
 * compensated (Neumaier) sum to round-off. min and max skip NaN.
 */
import { describe, expect, it } from 'vitest';
import { dot, max, min, norm1, sum } from '../solvers/vec.js';
import { sharedFloat64 } from '../solvers/shared-memory.js';
import { inArena } from '../solvers/exec/arena.js';

function neumaier(xs: readonly number[]): number {
  let s = 0;
  let c = 0;
  for (const x of xs) {
    const t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + c;
}

function sequential(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}

describe('vec reductions', () => {
  const n = 10007; // odd, not a multiple of any block
  const fill = (a: Float64Array, k: number): Float64Array => {
    for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * k + 0.3) * 10 ** ((i % 7) - 3);
    return a;
  };
  for (const where of ['arena', 'plain'] as const) {
    it(`dot, sum, norm1 on ${where} arrays: the sequential sum's bits, within round-off of a compensated sum`, () => {
      const make = (): Float64Array => (where === 'arena' ? sharedFloat64(n) : new Float64Array(n));
      const a = fill(make(), 1.3);
      const b = fill(make(), 0.7);
      if (where === 'arena') expect(inArena(a)).toBe(true);
      const prods = Array.from(a, (v, i) => v * b[i]);
      expect(dot(a, b)).toBe(sequential(prods));
      expect(sum(a)).toBe(sequential(a));
      expect(norm1(a)).toBe(sequential(Array.from(a, Math.abs)));
      const scale = norm1(a) + Array.from(prods, Math.abs).reduce((s, v) => s + v, 0);
      expect(Math.abs(dot(a, b) - neumaier(prods))).toBeLessThan(1e-13 * scale);
      expect(Math.abs(sum(a) - neumaier(Array.from(a)))).toBeLessThan(1e-13 * scale);
    });
  }
  it('min and max skip NaN entries', () => {
    const a = Float64Array.from([3, NaN, -2, 5, NaN]);
    expect(min(a)).toBe(-2);
    expect(max(a)).toBe(5);
  });
});
