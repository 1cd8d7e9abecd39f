import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHUNK, compileExpr, type CompiledExpr } from '../src/landscape/expr.js';
import { expectInputError, rng } from './scenario-helpers.js';

type Ref = (x: number, y: number, z: number) => number;

/** Random points in [lo, hi)^dim, as the coordinate arrays evalPoints takes. */
function randomCoords(n: number, dim: number, lo: number, hi: number, seed = 1): Float64Array[] {
  const r = rng(seed);
  return Array.from({ length: dim }, () => Float64Array.from({ length: n }, () => r(lo, hi)));
}

function maxRelError(f: CompiledExpr, ref: Ref, coords: Float64Array[]): number {
  const n = coords[0]!.length;
  const out = new Float64Array(n);
  f.evalPoints(coords, out);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const want = ref(coords[0]![i]!, coords[1]?.[i] ?? 0, coords[2]?.[i] ?? 0);
    const err = Math.abs(out[i]! - want) / Math.max(Math.abs(want), 1e-300);
    if (!(err <= worst)) worst = err; // NaN counts as worst
    if (Number.isNaN(want) !== Number.isNaN(out[i]!)) return Infinity;
  }
  return worst;
}

const sig = (v: number): number => 1 / (1 + Math.exp(-v));

describe('compileExpr agrees with hand-written JavaScript', () => {
  const cases: { src: string; params?: Record<string, number>; dim: number; ref: Ref; lo?: number; hi?: number }[] = [
    { src: 'c + b*x^2', params: { c: 0.1, b: 0.5 }, dim: 1, ref: (x) => 0.1 + 0.5 * (x * x) },
    // Unary minus binds looser than ^: -x^2 is -(x^2), never (-x)^2.
    { src: '-x^2 + 3', dim: 1, ref: (x) => -(x * x) + 3 },
    { src: '2^-x - -x', dim: 1, ref: (x) => Math.pow(2, -x) + x },
    { src: 'x^3 / (1 + y^2) - x*y', dim: 2, ref: (x, y) => (x * x * x) / (1 + y * y) - x * y },
    // ^ is right-associative: 2^x^2 = 2^(x^2).
    { src: '2^x^2', dim: 1, ref: (x) => Math.pow(2, x * x), lo: -2, hi: 2 },
    { src: 'log(x^2 + 1, 3) + log(y^2 + 2)', dim: 2, ref: (x, y) => Math.log(x * x + 1) / Math.log(3) + Math.log(y * y + 2) },
    { src: 'sigmoid(x - y) * exp(-z^2/2)', dim: 3, ref: (x, y, z) => sig(x - y) * Math.exp(-(z * z) / 2) },
    { src: 'e^x + pi*y', dim: 2, ref: (x, y) => Math.exp(x) + Math.PI * y },
    // Scalar on the left of non-commutative operators (the kernels differ from vector-scalar ones).
    { src: '3 - x/2 - 1/(y^2 + 1) + 2^x - atan2(1, y) + max(1, x)', dim: 2, ref: (x, y) => 3 - x / 2 - 1 / (y * y + 1) + Math.pow(2, x) - Math.atan2(1, y) + Math.max(1, x) },
    { src: '+x - (-(y))', dim: 2, ref: (x, y) => x + y },
    { src: '2x + 3 y', dim: 2, ref: (x, y) => 2 * x + 3 * y }, // implicit multiplication
    {
      src: 'log10(abs(x) + 1) + log2(y^2 + 2) + log1p(x^2) + expm1(y/3) + sqrt(x^2 + y^2) + cbrt(x)',
      dim: 2,
      ref: (x, y) =>
        Math.log10(Math.abs(x) + 1) + Math.log2(y * y + 2) + Math.log1p(x * x) + Math.expm1(y / 3) + Math.sqrt(x * x + y * y) + Math.cbrt(x),
    },
    {
      src: 'atan2(y, x) + max(x, y, 0.5) - min(x, -y) + sign(x - y) + floor(x) + ceil(y) + pow(abs(x), 1.5)',
      dim: 2,
      ref: (x, y) =>
        Math.atan2(y, x) + Math.max(Math.max(x, y), 0.5) - Math.min(x, -y) + Math.sign(x - y) + Math.floor(x) + Math.ceil(y) + Math.pow(Math.abs(x), 1.5),
    },
    {
      src: 'sin(x) + cos(y) + tan(z/3) + asin(x/10) + acos(y/10) + atan(z) + sinh(x/3) + cosh(y/3) + tanh(z)',
      dim: 3,
      ref: (x, y, z) =>
        Math.sin(x) + Math.cos(y) + Math.tan(z / 3) + Math.asin(x / 10) + Math.acos(y / 10) + Math.atan(z) + Math.sinh(x / 3) + Math.cosh(y / 3) + Math.tanh(z),
    },
    { src: '(a - x)^2 + b*(y - x^2)^2', params: { a: 1, b: 100 }, dim: 2, ref: (x, y) => (1 - x) * (1 - x) + 100 * ((y - x * x) * (y - x * x)) },
  ];

  for (const c of cases) {
    it(`${c.src} (${c.dim}-D) to 1e-14 relative, chunked and at()`, () => {
      const f = compileExpr(c.src, c.params ?? {}, c.dim);
      expect(f.dim).toBe(c.dim);
      expect(f.source).toBe(c.src);
      // Not a multiple of CHUNK, so the last chunk is partial.
      const coords = randomCoords(3 * CHUNK + 17, c.dim, c.lo ?? -5, c.hi ?? 5, 7);
      expect(maxRelError(f, c.ref, coords)).toBeLessThanOrEqual(1e-14);
      for (let i = 0; i < 50; i++) {
        const p = coords.map((a) => a[i]!);
        const want = c.ref(p[0]!, p[1] ?? 0, p[2] ?? 0);
        expect(Math.abs(f.at(p) - want)).toBeLessThanOrEqual(1e-14 * Math.abs(want));
      }
    });
  }

  it('-x^2 is negative (precedence), and (-x)^2 positive', () => {
    expect(compileExpr('-x^2', {}, 1).at([3])).toBe(-9);
    expect(compileExpr('(-x)^2', {}, 1).at([3])).toBe(9);
    expect(compileExpr('-2^2', {}, 1).at([0])).toBe(-4);
  });

  it('log with a base and sigmoid give the textbook values', () => {
    expect(compileExpr('log(x, 2)', {}, 1).at([8])).toBeCloseTo(3, 14);
    expect(compileExpr('log(x)', {}, 1).at([Math.E])).toBeCloseTo(1, 15);
    expect(compileExpr('sigmoid(x)', {}, 1).at([0])).toBe(0.5);
    expect(compileExpr('sigmoid(x)', {}, 1).at([40])).toBeCloseTo(1, 15);
  });

  it('params are substituted as constants', () => {
    const f = compileExpr('a*x + b', { a: 2, b: -1 }, 1);
    expect(f.at([3])).toBe(5);
    const g = compileExpr('a*x + b', { a: 10, b: 0 }, 1);
    expect(g.at([3])).toBe(30);
  });

  it('does not write into the coordinate arrays', () => {
    for (const src of ['x', '-x', 'sin(x)', 'x*y', 'x^2 + y', '2 - y']) {
      const coords = randomCoords(CHUNK + 5, 2, -3, 3, 3);
      const copies = coords.map((a) => a.slice());
      const out = new Float64Array(CHUNK + 5);
      compileExpr(src, {}, 2).evalPoints(coords, out);
      expect(coords).toEqual(copies);
    }
  });

  it('handles constant expressions, empty and short inputs, and longer coordinate arrays', () => {
    const c = compileExpr('2*pi + 1', {}, 1);
    const out = new Float64Array(10);
    c.evalPoints([new Float64Array(10)], out);
    expect(Array.from(out)).toEqual(new Array(10).fill(2 * Math.PI + 1));

    const f = compileExpr('x + 1', {}, 1);
    f.evalPoints([new Float64Array(0)], new Float64Array(0)); // no throw, nothing to do
    const x = Float64Array.from([1, 2, 3, 4, 5]);
    const out3 = new Float64Array(3);
    f.evalPoints([x], out3);
    expect(Array.from(out3)).toEqual([2, 3, 4]);
  });

  it('rejects coordinate arrays that are too few or too short', () => {
    const f = compileExpr('x + y', {}, 2);
    expect(() => f.evalPoints([new Float64Array(4)], new Float64Array(4))).toThrow(RangeError);
    expect(() => f.evalPoints([new Float64Array(4), new Float64Array(3)], new Float64Array(4))).toThrow(RangeError);
    expect(() => f.at([1])).toThrow(RangeError);
  });

  it('is reusable: a second call gives the same values', () => {
    const f = compileExpr('exp(-x^2) * cos(3*y) + x*y', {}, 2);
    const coords = randomCoords(10000, 2, -2, 2, 11);
    const a = new Float64Array(10000);
    const b = new Float64Array(10000);
    f.evalPoints(coords, a);
    f.evalPoints(coords, b);
    expect(b).toEqual(a);
  });
});

describe('compileExpr rejects what is outside the grammar', () => {
  const escapes: { src: string; says: string }[] = [
    { src: 'import({})', says: "'import'" },
    { src: 'evaluate("1")', says: "'evaluate'" },
    { src: 'x.constructor', says: 'property access' },
    { src: 'f(x)=x', says: 'function definitions' },
    { src: 'a=1', says: 'assignment' },
    { src: '"str"', says: 'strings' },
    { src: '[1,2]', says: 'matrices' },
    { src: 'x ? 1 : 2', says: 'conditionals' },
    { src: 'cos.constructor("return process")()', says: 'cos.constructor' },
    { src: 'x["constructor"]', says: 'property access' },
    { src: '{a: 1}', says: 'objects' },
    { src: '1:3', says: 'ranges' },
    { src: 'x; y', says: 'several statements' },
    { src: 'x < 1', says: "operator '<'" },
    { src: 'x mod 2', says: "operator 'mod'" },
    { src: 'x!', says: "operator '!'" },
    { src: 'true', says: 'only numbers' },
    { src: 'Infinity', says: 'finite' },
    { src: 'simplify("x")', says: "'simplify'" },
    { src: 'parse("x")', says: "'parse'" },
    { src: 'round(x)', says: "'round'" },
    { src: 'sin', says: 'must be called' },
    { src: 'atan2(x)', says: 'takes 2 argument' },
    { src: 'log(x, 2, 3)', says: 'takes 1 or 2 argument' },
    { src: 'x +', says: 'cannot parse' },
    { src: '', says: 'non-empty' },
    { src: '5 cm', says: "unknown name 'cm'" },
  ];
  for (const { src, says } of escapes) {
    it(`rejects ${JSON.stringify(src)}`, () => {
      expectInputError(() => compileExpr(src, {}, 2, 'landscape.expr', 'scen.yaml'), {
        file: 'scen.yaml',
        field: 'landscape.expr',
        includes: [says],
      });
    });
  }

  it('names the unknown variable and the allowed ones', () => {
    expectInputError(() => compileExpr('x + w', { b: 1 }, 1), { field: 'landscape.expr', includes: ["unknown name 'w'", 'x', 'params b'] });
    expectInputError(() => compileExpr('x + y', {}, 1), { field: 'landscape.expr', includes: ["variable 'y'", '1-D'] });
    expectInputError(() => compileExpr('z', {}, 2), { field: 'landscape.expr', includes: ["variable 'z'", '2-D'] });
    expectInputError(() => compileExpr('foo(x)', {}, 1), { field: 'landscape.expr', includes: ["unknown function 'foo'", 'sin'] });
  });

  it('checks params: names, reserved words, finiteness and use', () => {
    expectInputError(() => compileExpr('x', { x: 1 }, 1), { field: 'landscape.params.x', includes: ['cannot be a parameter'] });
    // Function names are free as params: a call and a bare symbol are different things.
    expect(compileExpr('floor(x) + floor', { floor: 0.5 }, 1).at([2.7])).toBe(2.5);
    expectInputError(() => compileExpr('x + pi', { pi: 3 }, 1), { field: 'landscape.params.pi' });
    expectInputError(() => compileExpr('x + b', { b: Number.NaN }, 1), { field: 'landscape.params.b', includes: ['finite'] });
    expectInputError(() => compileExpr('x', { __proto__x: 1 }, 1), { field: 'landscape.params.__proto__x', includes: ['identifiers'] });
    expectInputError(() => compileExpr('x + b', { b: 1, B: 2 }, 1), { field: 'landscape.params.B', includes: ['not used'] });
  });

  it('rejects dimensions outside 1..3 and over-long text', () => {
    expectInputError(() => compileExpr('x', {}, 4), { includes: ['1 to 3'] });
    expectInputError(() => compileExpr('x', {}, 0), { includes: ['1 to 3'] });
    expectInputError(() => compileExpr('x+'.repeat(6000) + 'x', {}, 1), { includes: ['at most'] });
  });

  it('fails cleanly on very deep nesting instead of overflowing the stack', () => {
    // Flat sums and many-argument max are one nesting level each (docs/landscapes.md), so they compile: test/hostile-input.test.ts checks their values.
    expectInputError(() => compileExpr('sin('.repeat(1500) + 'x' + ')'.repeat(1500), {}, 1), { field: 'landscape.expr', includes: ['nested too deeply'] });
    expectInputError(() => compileExpr('-'.repeat(3000) + 'x', {}, 1), { field: 'landscape.expr', includes: ['nested too deeply'] });
  });

  it('differentiates long products without blowing up (shared subexpressions)', () => {
    const f = compileExpr('x*'.repeat(299) + 'x', {}, 1); // x^300
    const h = f.hessian()[0]![0]!;
    expect(h.at([1])).toBe(300 * 299);
    const out = new Float64Array(3);
    h.evalPoints([Float64Array.from([1, 1, 1])], out);
    expect(Array.from(out)).toEqual([89700, 89700, 89700]);
    expect(h.source.length).toBeLessThan(400_000);
  });

  it('uses a custom field name for messages', () => {
    expectInputError(() => compileExpr('q', {}, 1, 'sweep.expr', 'sweep.yaml'), { file: 'sweep.yaml', field: 'sweep.expr' });
  });

  it('never hands scenario text to mathjs evaluate/compile', () => {
    // The guarantee is structural: expr.ts takes only `parse` (mathjs's, built by expr-parse.ts) and
    // no mathjs value, and neither module compiles or evaluates a node.
    const text = readFileSync(new URL('../src/landscape/expr.ts', import.meta.url), 'utf8');
    const parser = readFileSync(new URL('../src/landscape/expr-parse.ts', import.meta.url), 'utf8');
    const imports = [...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(mathjs(?:\/number)?|\.\/expr-parse\.js)'/g)].map((m) => `${m[2]}: ${m[1]!.trim()}`);
    expect(imports).toEqual(['./expr-parse.js: parse']);
    for (const t of [text, parser]) {
      expect(t).not.toMatch(/\.(compile|evaluate)\s*\(/);
      expect(t).not.toMatch(/new Function|\beval\s*\(/);
    }
  });
});
