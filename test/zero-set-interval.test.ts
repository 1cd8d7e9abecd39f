// Interval bounds of landscape expressions (src/landscape/interval.ts) let the zero-set search
// skip cells where f provably stays away from 0 (issue #19). A bound that is too tight would skip
// a cell holding a zero, so each enclosure is checked against the values themselves: f at a
// deterministic sample of points of random boxes (and at their corners, where monotone pieces
// peak) must lie inside it. Not tight either: on a box holding a zero of f the bound must reach 0.
import { describe, expect, it } from 'vitest';
import { compileExpr } from '../src/landscape/expr.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EXPRS = [
  'x - y',
  'x*y - z',
  '(x - y)^2 + 0.1',
  'x^3 - 2*x*y',
  'x^2 - y^2',
  'sin(3*x) + cos(2*y)',
  'sin(x)^2 + cos(y)^2',
  'exp(x - y) - 1',
  'log(1 + x^2) - sqrt(abs(y))',
  'cosh(x) - sinh(y)',
  'tanh(x*y) + atan(x - z)',
  'min(x^2, (y - 0.5)^2) - max(x, z)',
  '1/(2 + x) - 1/(3 - y)',
  'x/(1 + y^2)',
  '(1.5 + x)^y',
  'abs(x)^0.5 * sign(y)',
  'floor(3*x) + ceil(2*y)',
  'expm1(x) + log1p(y^2)',
  '(x^2 - 1)^2 * (y - 0.3)^4 - z^3',
  '1/(1 + exp(-x)) - cbrt(y)',
];

describe('interval bounds enclose every value of f on the box', () => {
  for (const src of EXPRS) {
    it(src, () => {
      const e = compileExpr(src, {}, 3);
      const r = rng(src.length * 131 + src.charCodeAt(0));
      let bounded = 0;
      for (let box = 0; box < 60; box++) {
        // Boxes from a hundredth of a unit to two units wide, some across 0.
        const w = 10 ** (-2 + 2.3 * r());
        const lo = [0, 1, 2].map(() => -1 + 2 * r() - w / 2);
        const hi = lo.map((l) => l + w);
        const b = e.bounds!(lo, hi);
        if (!b) continue;
        bounded++;
        const pts: number[][] = [];
        for (let c = 0; c < 8; c++) pts.push([0, 1, 2].map((k) => ((c >> k) & 1 ? hi[k] : lo[k])));
        for (let s = 0; s < 200; s++) pts.push([0, 1, 2].map((k) => lo[k] + r() * (hi[k] - lo[k])));
        for (const p of pts) {
          const v = e.at(p);
          if (!Number.isFinite(v)) continue;
          if (!(v >= b.lo && v <= b.hi)) expect({ src, p, v }).toEqual({ src, p, v: `within [${b.lo}, ${b.hi}]` });
        }
      }
      // Every expression here is bounded on most boxes (a pole or a negative base only on some).
      expect(bounded).toBeGreaterThan(20);
    });
  }

  it('reaches 0 on a box holding a zero, and stays above the floor of a floored well', () => {
    const e = compileExpr('(x^2 - 1)^2 + y^2', {}, 2);
    expect(e.bounds!([0.9, -0.1], [1.1, 0.1])!.lo).toBeLessThanOrEqual(0);
    const g = compileExpr('0.05 + (x^2 - 1)^2 + y^2', {}, 2);
    // The floor 0.05 is the exact minimum (reached at (±1, 0)): the enclosure is within its widening of it.
    const b = g.bounds!([-2, -2], [2, 2])!;
    expect(b.lo).toBeGreaterThan(0.049);
    expect(b.lo).toBeLessThanOrEqual(0.05);
  });
});
