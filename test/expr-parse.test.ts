// src/landscape/expr-parse.ts builds mathjs's parser from mathjs's own factory files instead of
// importing all of mathjs (start-up, issue #19.4). The expression language must not change: the
// trees must be the ones full mathjs (`mathjs/number`) builds, the errors its errors, and the
// values fpsolve computes from them the values mathjs `evaluate` gives, for every expression the
// repository ships (scenarios, examples, builtins, test files) and for random ones.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate as mathEvaluate, parse as fullParse } from 'mathjs/number';
import { parse as yamlParse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parse as subsetParse } from '../src/landscape/expr-parse.js';
import { compileExpr } from '../src/landscape/expr.js';
import { listBuiltins, resolveLandscape } from '../src/landscape/builtins.js';
import { rng } from './scenario-helpers.js';

const ROOT = join(import.meta.dirname, '..');

/** A parse as comparable data: the tree's JSON, or the error's class and message. */
function outcome(parse: (s: string) => unknown, text: string): string {
  try {
    return JSON.stringify(parse(text));
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));
}

/** Every string under an `expr` key of a YAML document (scenario landscapes, sweep axes, …). */
function exprStrings(doc: unknown, out: string[] = []): string[] {
  if (Array.isArray(doc)) doc.forEach((d) => exprStrings(d, out));
  else if (doc !== null && typeof doc === 'object') {
    for (const [k, v] of Object.entries(doc)) {
      if (k === 'expr' && typeof v === 'string') out.push(v);
      else exprStrings(v, out);
    }
  }
  return out;
}

/** The expressions the repository ships or tests: scenario and example files, builtins in every dimension, string literals handed to compileExpr in tests. */
function shippedExpressions(): string[] {
  const found = new Set<string>();
  for (const file of [...yamlFiles(join(ROOT, 'scenarios')), ...yamlFiles(join(ROOT, 'examples')), ...yamlFiles(join(ROOT, 'test'))]) {
    let doc: unknown;
    try {
      doc = yamlParse(readFileSync(file, 'utf8'));
    } catch {
      continue; // deliberately broken fixtures
    }
    exprStrings(doc).forEach((e) => found.add(e));
  }
  for (const b of listBuiltins()) for (const dim of b.dims) found.add(resolveLandscape({ builtin: b.name }, dim).source);
  for (const f of readdirSync(join(ROOT, 'test')).filter((f) => f.endsWith('.test.ts'))) {
    const text = readFileSync(join(ROOT, 'test', f), 'utf8');
    for (const m of text.matchAll(/(?:compileExpr\(\s*|expr:\s*|src:\s*)'((?:[^'\\\n]|\\.)*)'/g)) found.add(m[1]!.replace(/\\'/g, "'"));
  }
  return [...found];
}

/** Syntax at the edges of the grammar, where a parser built differently would show. */
const EDGE_CASES = [
  '-x^2', '2^-3', '2^x^2', '1/2x', '2x^2', '(1/2)x', '2 (x+1)', '(x+1)(x-1)', 'x y', 'sin(x)cos(y)', 'sin x', '3e-2 * x', '1E+2x',
  '.5x', '0.5e', '1e400 * x', '0x1F + x', '0b101', '0o17', '5%', '50% * x', 'x!', 'x mod 3', 'x % 3', 'x ? 1 : 2', 'x > 1', 'x == y',
  'a.b', '[1, 2]', 'x = 1', 'f(x) = x^2', '{a: 1}', '1:3', 'x; y', 'x\ny', '"text"', 'x\'', 'not x', 'x and y', 'x ?? 1', 'x?.y',
  'log(x, 2)', 'max(x, y, 1)', 'e^x', 'pi x', 'x^', '(x', 'x)', '', '   ', '+x', '--x', 'x--y', '2^(-x)', '-2^-x', 'x!^2',
  '1 / 2 / 3 x', '2x / 3y', 'x ^ -y ^ 2', 'sqrt(-1)', '1e', '1e-', '1.2.3', 'x @ y', 'Infinity', 'NaN', 'undefined', 'null', 'true',
];

/** A random expression over x, y, z, params a and b, in the syntax users write (spacing, implicit products, calls). */
function randomExpression(r: (lo?: number, hi?: number) => number, depth = 0): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const sp = (): string => pick(['', '', ' ']);
  const leaf = (): string =>
    pick([
      () => pick(['x', 'y', 'z', 'a', 'b', 'pi', 'e']),
      () => String(Math.floor(r(0, 20))),
      () => r(0, 10).toFixed(Math.floor(r(0, 4))),
      () => `${Math.floor(r(1, 9))}e${pick(['', '-', '+'])}${Math.floor(r(0, 3))}`,
      () => `.${Math.floor(r(1, 99))}`,
    ])();
  if (depth > 3 || r() < 0.3) return leaf();
  const sub = (): string => randomExpression(r, depth + 1);
  return pick([
    () => `${sub()}${sp()}${pick(['+', '-', '*', '/', '^'])}${sp()}${sub()}`,
    () => `(${sub()})`,
    () => `${pick(['-', '+'])}${sub()}`,
    () => `${Math.floor(r(1, 9))}${pick(['x', 'y', ' x', '(x + 1)', ' (y)'])}`,
    () => `(${sub()})${sp()}(${sub()})`,
    () => `${pick(['sin', 'cos', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'atan', 'cbrt', 'log1p', 'expm1', 'floor', 'sign'])}(${sub()})`,
    // Two-argument log is left out: at base 0 mathjs evaluate answers ln u, fpsolve ln u / ln 0
    // (a difference of evaluation, not of parsing; the trees are compared above with log(u, b) in).
    () => `${pick(['atan2', 'pow', 'min', 'max'])}(${sub()},${sp()}${sub()})`,
    () => `log(${sub()},${sp()}${Math.floor(r(2, 11))})`,
  ])();
}

describe('the start-up parser is mathjs/number\'s parser', () => {
  it('gives the same tree or the same error for every shipped and tested expression', () => {
    const shipped = shippedExpressions();
    // The corpus is what the repository holds: it must have found the scenarios' expressions.
    expect(shipped).toContain('c + b*x^2');
    expect(shipped.length).toBeGreaterThan(100);
    const differ = [...shipped, ...EDGE_CASES].filter((s) => outcome(subsetParse, s) !== outcome(fullParse, s));
    expect(differ).toEqual([]);
  });

  it('gives the same tree or the same error for 3000 random expressions', () => {
    const r = rng(19);
    const differ: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const s = randomExpression(r);
      if (outcome(subsetParse, s) !== outcome(fullParse, s)) differ.push(s);
    }
    expect(differ).toEqual([]);
  });

  it('fpsolve\'s values equal mathjs evaluate on random points, for random expressions it accepts', () => {
    // mathjs evaluate is the independent method: it walks mathjs's own tree with mathjs's functions.
    // sign, cbrt, log1p, expm1 and min/max are the same IEEE operations there; the IR's constant
    // folding may move a product by an ulp, hence the relative tolerance.
    const r = rng(7);
    const params = { a: 0.7, b: -1.3 };
    let compared = 0;
    const worst: string[] = [];
    for (let i = 0; i < 600; i++) {
      const s = randomExpression(r);
      let f;
      // Params are given only where used: fpsolve refuses an unused one.
      const used = Object.fromEntries(Object.entries(params).filter(([k]) => new RegExp(`(^|[^A-Za-z_])${k}([^A-Za-z0-9_(]|$)`).test(s)));
      try {
        f = compileExpr(s, used, 3);
      } catch {
        continue; // outside fpsolve's grammar (refused with an InputError): nothing to compare
      }
      for (let k = 0; k < 5; k++) {
        const p = [r(-2, 2), r(-2, 2), r(-2, 2)] as const;
        const want = mathEvaluate(s, { x: p[0], y: p[1], z: p[2], ...params }) as unknown;
        if (typeof want !== 'number' || !Number.isFinite(want)) continue; // complex results, infinities: not fpsolve's domain
        const got = f.at(p);
        compared++;
        if (!(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)))) worst.push(`${s} at ${p.join(',')}: ${got} vs ${want}`);
      }
    }
    expect(compared).toBeGreaterThan(1000);
    expect(worst).toEqual([]);
  });

  it('cannot evaluate its trees: it holds no math functions', () => {
    // Structural: the parse never needs math functions, so any compile of its nodes must fail loudly.
    const node = subsetParse('sin(x)') as unknown as { compile(): { evaluate(scope: object): unknown } };
    expect(() => node.compile().evaluate({ x: 1 })).toThrow();
  });
});
