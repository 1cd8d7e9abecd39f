import { describe, expect, it } from 'vitest';
import { CHUNK, compileExpr, type CompiledExpr } from '../src/landscape/expr.js';
import { rng } from './scenario-helpers.js';

/** Central difference of g along axis k at p, with a step scaled to |p_k|. */
function centralDiff(g: (p: number[]) => number, p: readonly number[], k: number): number {
  const h = 1e-5 * Math.max(1, Math.abs(p[k]!));
  const plus = [...p];
  const minus = [...p];
  plus[k]! += h;
  minus[k]! -= h;
  return (g(plus) - g(minus)) / (plus[k]! - minus[k]!);
}

function expectClose(got: number, want: number, rel: number): void {
  expect(Math.abs(got - want), `got ${got}, want ${want}`).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));
}

const cases: { src: string; params?: Record<string, number>; dim: number; lo: number; hi: number }[] = [
  { src: '(a - x)^2 + b*(y - x^2)^2', params: { a: 1, b: 100 }, dim: 2, lo: -2, hi: 2 },
  { src: 'c + b*x^2', params: { c: 0.1, b: 0.5 }, dim: 1, lo: -5, hi: 5 },
  {
    src: 'x^3 - 2*x + log1p(x^2) + expm1(x/2) + log10(x^2 + 1) + log2(x^2 + 2) + sqrt(x^2 + 1) + asin(x/10) + acos(x/11) + atan(x) + tan(x/7) + sinh(x/3) + cosh(x/4) + 2^x + e^(-x)',
    dim: 1,
    lo: -3,
    hi: 3,
  },
  { src: 'sigmoid(x*y) + log(x^2 + y^2 + 1, 2) + atan2(y, x + 3) + x^y + cbrt(x + 5) - -y/x', dim: 2, lo: 0.5, hi: 2 },
  { src: 'exp(-x^2 - y^2)*cos(z) + tanh(x*y*z) + pow(x, 3)/(1 + z^2) + sin(x)*cos(y)*sin(z)', dim: 3, lo: -1.5, hi: 1.5 },
  { src: 'l0*exp(g*x)*y^2/2 + floor', params: { l0: 1, g: 0.7, floor: 0.01 }, dim: 2, lo: -1, hi: 1 },
];

describe('gradient and Hessian by symbolic differentiation', () => {
  for (const c of cases) {
    it(`match finite differences for ${c.src}`, () => {
      const f = compileExpr(c.src, c.params ?? {}, c.dim);
      const grad = f.gradient();
      const hess = f.hessian();
      expect(grad).toHaveLength(c.dim);
      expect(hess).toHaveLength(c.dim);
      const r = rng(42);
      for (let trial = 0; trial < 25; trial++) {
        const p = Array.from({ length: c.dim }, () => r(c.lo, c.hi));
        for (let i = 0; i < c.dim; i++) {
          expectClose(grad[i]!.at(p), centralDiff((q) => f.at(q), p, i), 1e-6);
          for (let j = 0; j < c.dim; j++) {
            expectClose(hess[i]![j]!.at(p), centralDiff((q) => grad[i]!.at(q), p, j), 1e-6);
          }
        }
      }
    });
  }

  it('gives exact values for polynomials, vectorized the same as at()', () => {
    const f = compileExpr('(1 - x)^2 + 100*(y - x^2)^2', {}, 2);
    const [gx, gy] = f.gradient();
    // ∂x = -2(1-x) - 400x(y-x²), ∂y = 200(y-x²)
    expect(gx!.at([2, 3])).toBe(-2 * (1 - 2) - 400 * 2 * (3 - 4));
    expect(gy!.at([2, 3])).toBe(200 * (3 - 4));
    const h = f.hessian();
    expect(h[1]![1]!.at([0.3, -7])).toBe(200);
    expect(h[0]![1]!.at([2, 3])).toBe(-800);
    expect(h[0]![1]).toBe(h[1]![0]); // one object for the symmetric pair
    const xs = Float64Array.from([0, 0.5, 2, -1.5]);
    const ys = Float64Array.from([1, -1, 3, 0.25]);
    const out = new Float64Array(4);
    gx!.evalPoints([xs, ys], out);
    for (let i = 0; i < 4; i++) expect(out[i]).toBe(gx!.at([xs[i]!, ys[i]!]));
  });

  it('treats piecewise functions by their one-sided pieces', () => {
    const g = (src: string): CompiledExpr => compileExpr(src, {}, 2).gradient()[0]!;
    expect(g('abs(x)').at([-2, 0])).toBe(-1);
    expect(g('abs(x)').at([3, 0])).toBe(1);
    expect(g('floor(x) + ceil(x) + sign(x)').at([0.3, 0])).toBe(0);
    expect(g('max(x^2, y)').at([2, 1])).toBe(4); // x² selected
    expect(g('max(x^2, y)').at([0.5, 1])).toBe(0); // y selected
    expect(g('min(x^2, y)').at([0.5, 1])).toBe(1);
  });

  it('prints derivative sources that compile back to the same function', () => {
    const f = compileExpr('sigmoid(x)*log(y, 3) + atan2(y, x) - x^-2 + max(x, y)', {}, 2);
    const r = rng(5);
    for (const d of [...f.gradient(), ...f.hessian().flat()]) {
      const again = compileExpr(d.source, {}, 2, 'derived');
      for (let t = 0; t < 10; t++) {
        const p = [r(0.5, 3), r(0.5, 3)];
        expectClose(again.at(p), d.at(p), 1e-12);
      }
    }
  });

  it('vectorized derivatives equal at() across chunks (shared subexpressions are recomputed per chunk)', () => {
    // sigmoid, exp and tanh derivatives reuse their own value, so these trees share nodes.
    const f = compileExpr('sigmoid(x*y) + exp(-x^2)*tanh(y) + x^y', {}, 2);
    const n = 2 * CHUNK + 123;
    const r = rng(17);
    const xs = Float64Array.from({ length: n }, () => r(0.2, 2));
    const ys = Float64Array.from({ length: n }, () => r(-2, 2));
    const out = new Float64Array(n);
    for (const d of [...f.gradient(), ...f.hessian().flat()]) {
      d.evalPoints([xs, ys], out);
      for (let i = 0; i < n; i += 97) expect(out[i]).toBe(d.at([xs[i]!, ys[i]!]));
      expect(out[n - 1]).toBe(d.at([xs[n - 1]!, ys[n - 1]!]));
    }
  });

  it('caches derivatives', () => {
    const f = compileExpr('x^2*y', {}, 2);
    expect(f.gradient()).toBe(f.gradient());
    expect(f.hessian()).toBe(f.hessian());
  });
});
