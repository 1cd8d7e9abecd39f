/**
 * Landscape expressions compiled to WebAssembly (src/landscape/expr-wasm.ts) against the
 * vectorized closures of src/landscape/expr.ts: evalPoints on arrays in the arena runs the
 * WebAssembly loop, on ordinary arrays the closures. Every operation is the same IEEE operation
 * or the same Math function, so the values must agree to the last bit, NaN and ±Infinity and −0
 * included; the bundled scenarios then keep their cell averages (and every result) exactly.
 */
import { describe, expect, it } from 'vitest';
import { compileExpr } from '../src/landscape/expr.js';
import { sharedFloat64 } from '../solvers/shared-memory.js';
import { arenaAddress } from '../solvers/exec/arena.js';
import { rng } from './scenario-helpers.js';

const bits = (a: Float64Array): string => Buffer.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).toString('hex');

/** The same points twice: in the arena (WebAssembly) and in plain arrays (closures). */
function bothPaths(source: string, dim: number, params: Record<string, number> = {}, n = 5000, lo = -3, hi = 3): { wasm: Float64Array; js: Float64Array } {
  const f = compileExpr(source, params, dim);
  const r = rng(7);
  const plain = Array.from({ length: dim }, () => Float64Array.from({ length: n }, () => r(lo, hi)));
  // special points: zeros of both signs, the origin, large values
  const specials = [0, -0, 1, -1, 1e300, -1e300, 0.5];
  for (let k = 0; k < dim; k++) specials.forEach((v, j) => (plain[k][j * dim + k] = v));
  const arena = plain.map((p) => {
    const a = sharedFloat64(n);
    a.set(p);
    return a;
  });
  const js = new Float64Array(n);
  f.evalPoints(plain, js);
  const wasm = sharedFloat64(n);
  expect(arenaAddress(wasm)).not.toBeNull();
  f.evalPoints(arena, wasm);
  return { wasm, js };
}

describe('landscape expressions as WebAssembly give the closures\' bits', () => {
  const cases: [string, number, Record<string, number>?][] = [
    ['0.05 + (x^2 - 1)^2 + y^2', 2], // the bundled double well (squares)
    ['x^3 - 2*x*y + y^3 / 7 - z', 3], // cubes, division
    ['sin(x) + cos(y) * tan(x / 5) - asin(x / 4) + acos(y / 4) + atan(x * y)', 2],
    ['sinh(x) - cosh(y) + tanh(x * y) + exp(-x^2) + log(1 + x^2) + log10(2 + y^2) + log2(3 + x^2)', 2],
    ['log1p(x^2) + expm1(-y^2) + sqrt(x^2 + y^2) + cbrt(x - y) + abs(x) * sign(y)', 2],
    ['floor(3 * x) - ceil(2 * y) + sigmoid(a * x - b)', 2, { a: 1.5, b: 0.25 }],
    ['x^y + pow(abs(x), 0.3) + atan2(y, x) + min(x, y, 0.5) + max(x, -y)', 2],
    ['log(x^2 + 1, 3) + (x + y)^2 * (x + y)^2 - 1 / x', 2], // shared subexpressions, a pole at 0
    ['sqrt(x)', 1], // NaN for x < 0
    ['-x', 1],
  ];
  for (const [src, dim, params] of cases) {
    it(src, () => {
      const { wasm, js } = bothPaths(src, dim, params ?? {});
      expect(bits(wasm)).toBe(bits(js));
      // not trivially equal: the values vary
      expect(new Set(Array.from(js.slice(0, 100)).map(String)).size).toBeGreaterThan(10);
    });
  }

  it('a subarray of an arena array (the last partial chunk of a quadrature) runs too, with the same bits', () => {
    const f = compileExpr('x * y + 1', {}, 2);
    const a = sharedFloat64(100);
    const b = sharedFloat64(100);
    for (let i = 0; i < 100; i++) {
      a[i] = i / 7;
      b[i] = 3 - i / 11;
    }
    const out = sharedFloat64(100).subarray(0, 60);
    f.evalPoints([a.subarray(0, 60), b.subarray(0, 60)], out);
    const ref = new Float64Array(60);
    f.evalPoints([Float64Array.from(a.subarray(0, 60)), Float64Array.from(b.subarray(0, 60))], ref);
    expect(bits(out)).toBe(bits(ref));
  });
});
