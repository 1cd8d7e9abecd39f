/**
 * Landscape expressions: scenario text → a small IR → closures that evaluate over Float64Array
 * chunks.
 *
 * Scenario files are data, so mathjs is used only to *parse*; its evaluate/compile would hand the
 * scenario a large function set (and a history of sandbox escapes). We accept a closed grammar,
 * translate it to our own IR and build closures from that, which also lets us evaluate a whole chunk
 * per node (the solver asks for f at ~10^7 Gauss points, so per-point tree walking is too slow).
 *
 * Derivatives are taken on the IR rather than with mathjs `derivative`: mathjs does not know
 * sign, floor, ceil, min, max, atan2, log2, log1p, expm1 or sigmoid, all of which we allow, and
 * staying on the IR means derivatives never go back through text.
 */
import { parse } from './expr-parse.js';
import { compileWasmPoints, type WasmPointFunction } from './expr-wasm.js';
import type { ConstantNode, FunctionNode, MathNode, OperatorNode, ParenthesisNode, SymbolNode } from 'mathjs';
import { InputError } from '../errors.js';
import { countParents, type BinaryOp, type IR, type UnaryFn } from './ir.js';
import { irBounds, type Interval } from './interval.js';
import { reuseKey, reuseLast } from '../resources/reuse.js';
import { wasmKernelsEnabled } from '../../solvers/exec/arena.js';

export interface CompiledExpr {
  /** Expression text (after builtin expansion). Derivatives print theirs from the IR, or say "d/dx of ..." when that text would be huge. */
  readonly source: string;
  /** Number of variables, 1..3 (x; x, y; x, y, z). */
  readonly dim: number;
  /** f at n points; coords[k] holds coordinate k (axis 0 = x) of every point; writes into out (length n). */
  evalPoints(coords: readonly Float64Array[], out: Float64Array): void;
  /** f at one point (slow path, for Newton iterations etc). */
  at(p: readonly number[]): number;
  /** Gradient by symbolic differentiation, compiled the same way; entry k is ∂f/∂(axis k). */
  gradient(): CompiledExpr[];
  /** Hessian by symbolic differentiation; entry [i][j] is ∂²f/∂i∂j (the same object as [j][i]). */
  hessian(): CompiledExpr[][];
  /** An enclosure of f over the box lo ≤ x ≤ hi (interval.ts), or null where none is derived. */
  bounds?(lo: readonly number[], hi: readonly number[]): Interval | null;
}

/** Points per chunk: small enough that every node's buffer stays in cache, large enough to amortize the calls. */
export const CHUNK = 4096;

/** Longest expression we accept; the parser recurses per nesting level, so unbounded text could overflow the stack. */
export const MAX_EXPR_LENGTH = 10000;

/**
 * Deepest nesting we accept. A level is a function call, an operator (+ − * / ^, unary −) or a
 * whole flat sum or product, whatever its length; parentheses alone add none. Parsing handles
 * any parenthesis depth (deep groups are parsed bottom-up, see parseNested), and long sums and
 * products become balanced trees, so the IR stays within MAX_IR_DEPTH, which translation,
 * differentiation and the closures handle far from the stack limit.
 */
export const MAX_EXPR_DEPTH = 500;
/** Depth of the IR tree itself (a level may add a few IR nodes, e.g. log(u, b) = log u / log b). */
export const MAX_IR_DEPTH = 6000;
/** Parenthesis depth that mathjs's recursive-descent parser takes at once (it overflows the stack near 250). */
const PARSE_PAREN_DEPTH = 32;
/** Sums and products up to this many terms keep their left-to-right order (and so their exact rounding). */
const SHORT_CHAIN = 64;
/** Names given to parenthesized groups parsed on their own; a name users cannot write (params start with a letter). */
const HOLE = '_fpsolve_group';

export const VARIABLES = ['x', 'y', 'z'] as const;
export const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E };

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

const UNARY: Readonly<Record<UnaryFn, (v: number) => number>> = {
  sin: Math.sin, cos: Math.cos, tan: Math.tan, asin: Math.asin, acos: Math.acos, atan: Math.atan,
  sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh, exp: Math.exp, log: Math.log, log10: Math.log10,
  log2: Math.log2, log1p: Math.log1p, expm1: Math.expm1, sqrt: Math.sqrt, cbrt: Math.cbrt, abs: Math.abs,
  sign: Math.sign, floor: Math.floor, ceil: Math.ceil, sigmoid,
};

/** Function names a scenario may call, with their arity ([min, max]; max Infinity = variadic). */
const FUNCTIONS: Readonly<Record<string, readonly [number, number]>> = {
  ...Object.fromEntries(Object.keys(UNARY).map((f) => [f, [1, 1] as const])),
  log: [1, 2], // log(x, base)
  atan2: [2, 2],
  pow: [2, 2],
  min: [1, Infinity],
  max: [1, Infinity],
};

/**
 * Names a parameter may not take: they already mean something as a bare symbol. Function names
 * stay free (calls and symbols are distinct nodes), since builtins use `floor` as a param.
 */
export function isReservedName(name: string): boolean {
  return (VARIABLES as readonly string[]).includes(name) || Object.hasOwn(CONSTANTS, name);
}

const OPERATORS: Readonly<Record<string, BinaryOp | 'neg' | 'plus'>> = {
  add: 'add', subtract: 'sub', multiply: 'mul', divide: 'div', pow: 'pow', unaryMinus: 'neg', unaryPlus: 'plus',
};

// ---------------------------------------------------------------------------------------------
// IR and its smart constructors. Folding keeps derivative trees small (d/dy of an x-only term is
// 0, not 0*stuff). The rewrites are exact in floating point except two: 0*u → 0, which is the
// right answer for a derivative even where u is infinite, and c*(d*u) → (c*d)*u, off by an ulp.

const num = (v: number): IR => ({ k: 'num', v });
const ZERO = num(0);
const ONE = num(1);
const isNum = (e: IR, v?: number): e is { k: 'num'; v: number } => e.k === 'num' && (v === undefined || e.v === v);

function scalarBinary(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    case 'pow': return Math.pow(a, b);
    case 'atan2': return Math.atan2(a, b);
    case 'min': return Math.min(a, b);
    case 'max': return Math.max(a, b);
  }
}

function neg(a: IR): IR {
  if (isNum(a)) return num(-a.v);
  if (a.k === 'neg') return a.a;
  if (a.k === 'bin' && a.op === 'mul' && isNum(a.a)) return bin('mul', num(-a.a.v), a.b);
  return { k: 'neg', a };
}

function un(f: UnaryFn, a: IR): IR {
  if (isNum(a)) return num(UNARY[f](a.v));
  return { k: 'un', f, a };
}

function bin(op: BinaryOp, a: IR, b: IR): IR {
  if (isNum(a) && isNum(b)) return num(scalarBinary(op, a.v, b.v));
  switch (op) {
    case 'add':
      if (isNum(a, 0)) return b;
      if (isNum(b, 0)) return a;
      if (b.k === 'neg') return bin('sub', a, b.a);
      break;
    case 'sub':
      if (isNum(b, 0)) return a;
      if (isNum(a, 0)) return neg(b);
      if (b.k === 'neg') return bin('add', a, b.a);
      break;
    case 'mul':
      if (isNum(a, 0) || isNum(b, 0)) return ZERO;
      if (isNum(a, 1)) return b;
      if (isNum(b, 1)) return a;
      if (isNum(a, -1)) return neg(b);
      if (isNum(b, -1)) return neg(a);
      // Constants first and merged, signs pulled out: derivative trees come out as `6 * x`, not `x * 2 * 3`.
      if (isNum(b)) return bin('mul', b, a);
      if (isNum(a) && b.k === 'bin' && b.op === 'mul' && isNum(b.a)) return bin('mul', num(a.v * b.a.v), b.b);
      if (isNum(a) && b.k === 'neg') return bin('mul', num(-a.v), b.a);
      if (a.k === 'neg') return neg(bin('mul', a.a, b));
      if (b.k === 'neg') return neg(bin('mul', a, b.a));
      break;
    case 'div':
      if (isNum(b, 1)) return a;
      if (isNum(a, 0)) return ZERO;
      if (a.k === 'neg') return neg(bin('div', a.a, b));
      break;
    case 'pow':
      if (isNum(b, 1)) return a;
      if (isNum(b, 0)) return ONE;
      // `e^u` means exp(u); Math.pow(Math.E, u) carries the rounding of Math.E, amplified by |u|.
      if (isNum(a, Math.E)) return un('exp', b);
      break;
    default:
      break;
  }
  return { k: 'bin', op, a, b };
}

const add = (a: IR, b: IR): IR => bin('add', a, b);
const sub = (a: IR, b: IR): IR => bin('sub', a, b);
const mul = (a: IR, b: IR): IR => bin('mul', a, b);
const div = (a: IR, b: IR): IR => bin('div', a, b);
const pow = (a: IR, b: IR): IR => bin('pow', a, b);
const sq = (a: IR): IR => pow(a, num(2));

// ---------------------------------------------------------------------------------------------
// mathjs AST → IR, rejecting everything outside the grammar.

interface TranslateCtx {
  readonly dim: number;
  readonly params: Readonly<Record<string, number>>;
  readonly used: Set<string>;
  readonly fail: (message: string) => never;
  /** Groups parsed separately by parseNested, by placeholder name. */
  readonly holes: ReadonlyMap<string, MathNode>;
}

/** Human names for node types we refuse, so the message says what the user wrote. */
const REFUSED_NODES: Readonly<Record<string, string>> = {
  AccessorNode: 'property access and indexing (a.b, a[1])',
  ArrayNode: 'matrices and lists ([...])',
  AssignmentNode: 'assignment (a = ...)',
  BlockNode: 'several statements (;)',
  ConditionalNode: 'conditionals (a ? b : c)',
  FunctionAssignmentNode: 'function definitions (f(x) = ...)',
  IndexNode: 'indexing',
  ObjectNode: 'objects ({...})',
  RangeNode: 'ranges (a:b)',
  RelationalNode: 'comparisons',
};

function describeAllowedNames(ctx: TranslateCtx): string {
  const vars = VARIABLES.slice(0, ctx.dim).join(', ');
  const params = Object.keys(ctx.params);
  return `variables ${vars}${params.length ? `, params ${params.join(', ')}` : ''}, constants pi, e`;
}

const tooDeep = (ctx: TranslateCtx): never => ctx.fail(`is nested too deeply (more than ${MAX_EXPR_DEPTH} levels of function calls and operators)`);

/** Signed terms of a flat chain a ± b ± c (or a × b ÷ c), in order; mathjs builds it left-deep. */
function chainTerms(node: OperatorNode<never, never>, plus: string, minus: string): { inv: boolean; node: MathNode }[] {
  const terms: { inv: boolean; node: MathNode }[] = [];
  let cur: MathNode = node;
  while (cur.type === 'OperatorNode' && (cur as OperatorNode<never, never>).args.length === 2 && [plus, minus].includes((cur as OperatorNode<never, never>).fn)) {
    const op = cur as OperatorNode<never, never>;
    terms.push({ inv: op.fn === minus, node: op.args[1] as MathNode });
    cur = op.args[0] as MathNode;
  }
  terms.push({ inv: false, node: cur });
  return terms.reverse();
}

/**
 * Combines signed terms pairwise into a balanced tree (depth log₂ n instead of n), so that a flat
 * sum of thousands of terms is one nesting level. a − b stays a − b; (−a) + (−b) becomes −(a + b).
 */
function balance(items: { inv: boolean; ir: IR }[], plus: BinaryOp, minus: BinaryOp): IR {
  let level = items;
  while (level.length > 1) {
    const next: { inv: boolean; ir: IR }[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      const a = level[i]!;
      const b = level[i + 1]!;
      if (!a.inv) next.push({ inv: false, ir: bin(b.inv ? minus : plus, a.ir, b.ir) });
      else next.push(b.inv ? { inv: true, ir: bin(plus, a.ir, b.ir) } : { inv: false, ir: bin(minus, b.ir, a.ir) });
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  // The first term is never inverted, and it is in the group that ends up first.
  return level[0]!.ir;
}

function translate(node: MathNode, ctx: TranslateCtx, depth = 0): IR {
  if (depth > MAX_EXPR_DEPTH) return tooDeep(ctx);
  // Parentheses and placeholders of separately parsed groups are unwrapped in a loop: ((((x)))) may nest thousands deep.
  for (;;) {
    if (node.type === 'ParenthesisNode') node = (node as ParenthesisNode).content;
    else if (node.type === 'SymbolNode' && ctx.holes.has((node as SymbolNode).name)) node = ctx.holes.get((node as SymbolNode).name)!;
    else break;
  }
  const child = (c: MathNode): IR => translate(c, ctx, depth + 1);
  switch (node.type) {
    case 'ConstantNode': {
      const value: unknown = (node as ConstantNode<unknown & number>).value;
      if (typeof value === 'string') return ctx.fail(`strings are not allowed in an expression (found "${value}")`);
      if (typeof value !== 'number') return ctx.fail(`only numbers are allowed as constants (found ${String(value)})`);
      if (!Number.isFinite(value)) return ctx.fail(`constants must be finite numbers (found ${String(value)})`);
      return num(value);
    }
    case 'SymbolNode': {
      const name = (node as SymbolNode).name;
      const axis = (VARIABLES as readonly string[]).indexOf(name);
      if (axis >= 0) {
        if (axis >= ctx.dim) {
          return ctx.fail(
            `variable '${name}' does not exist in a ${ctx.dim}-D scenario (allowed variables: ${VARIABLES.slice(0, ctx.dim).join(', ')})`,
          );
        }
        return { k: 'var', i: axis };
      }
      if (Object.hasOwn(ctx.params, name)) {
        ctx.used.add(name);
        return num(ctx.params[name]!);
      }
      if (Object.hasOwn(CONSTANTS, name)) return num(CONSTANTS[name]!);
      if (Object.hasOwn(FUNCTIONS, name)) return ctx.fail(`function '${name}' must be called, e.g. ${name}(x)`);
      return ctx.fail(`unknown name '${name}' (allowed: ${describeAllowedNames(ctx)})`);
    }
    case 'OperatorNode': {
      const op = node as OperatorNode<never, never>;
      const fn: string = op.fn;
      const mapped = Object.hasOwn(OPERATORS, fn) ? OPERATORS[fn] : undefined;
      if (mapped === undefined) return ctx.fail(`operator '${op.op}' is not allowed (allowed: + - * / ^ and unary -)`);
      if ((mapped === 'add' || mapped === 'sub' || mapped === 'mul' || mapped === 'div') && op.args.length === 2) {
        const [plus, minus]: [BinaryOp, BinaryOp] = mapped === 'add' || mapped === 'sub' ? ['add', 'sub'] : ['mul', 'div'];
        const terms = chainTerms(op, plus === 'add' ? 'add' : 'multiply', plus === 'add' ? 'subtract' : 'divide');
        const items = terms.map((t) => ({ inv: t.inv, ir: child(t.node) }));
        if (terms.length > SHORT_CHAIN) return balance(items, plus, minus);
        // Short chains keep mathjs's left-to-right association, so their rounding is what it always was.
        return items.slice(1).reduce((acc, t) => bin(t.inv ? minus : plus, acc, t.ir), items[0]!.ir);
      }
      const args = op.args.map(child);
      if (mapped === 'neg') return neg(args[0]!);
      if (mapped === 'plus') return args[0]!;
      return bin(mapped, args[0]!, args[1]!);
    }
    case 'FunctionNode': {
      const fnNode = (node as FunctionNode<MathNode>).fn;
      if (fnNode.type !== 'SymbolNode') return ctx.fail('only calls of the named math functions are allowed');
      const name = (fnNode as SymbolNode).name;
      const arity = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
      if (arity === undefined) {
        return ctx.fail(`unknown function '${name}' (allowed: ${Object.keys(FUNCTIONS).join(', ')})`);
      }
      const rawArgs = (node as FunctionNode<MathNode>).args;
      if (rawArgs.length < arity[0] || rawArgs.length > arity[1]) {
        const want = arity[0] === arity[1] ? `${arity[0]}` : arity[1] === Infinity ? `at least ${arity[0]}` : `${arity[0]} or ${arity[1]}`;
        return ctx.fail(`function '${name}' takes ${want} argument(s), not ${rawArgs.length}`);
      }
      const args = rawArgs.map(child);
      switch (name) {
        case 'log':
          return args.length === 2 ? div(un('log', args[0]!), un('log', args[1]!)) : un('log', args[0]!);
        case 'pow':
        case 'atan2':
          return bin(name, args[0]!, args[1]!);
        case 'min':
        case 'max':
          // Balanced, like long sums: min/max of many arguments is one level.
          return args.length > SHORT_CHAIN ? balance(args.map((ir) => ({ inv: false, ir })), name, name) : args.reduce((acc, a) => bin(name, acc, a));
        default:
          return un(name as UnaryFn, args[0]!);
      }
    }
    default: {
      const what = REFUSED_NODES[node.type] ?? node.type;
      return ctx.fail(`${what} are not allowed in an expression`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Symbolic differentiation on the IR.

/**
 * ∂e/∂(axis). IR nodes are shared (a derivative reuses its operands, e.g. d exp(u) = exp(u)·u'),
 * so the memo keeps the result's size linear in the DAG's size instead of its unfolded tree's,
 * which grows exponentially with nesting depth for second derivatives.
 */
function derivative(root: IR, axis: number): IR {
  const memo = new Map<IR, IR>();
  const d = (e: IR): IR => {
    let r = memo.get(e);
    if (r === undefined) {
      r = derivativeNode(e, axis, d);
      memo.set(e, r);
    }
    return r;
  };
  return d(root);
}

function derivativeNode(e: IR, axis: number, derivative: (e: IR) => IR): IR {
  switch (e.k) {
    case 'num':
      return ZERO;
    case 'var':
      return e.i === axis ? ONE : ZERO;
    case 'neg':
      return neg(derivative(e.a));
    case 'un': {
      const da = derivative(e.a);
      if (isNum(da, 0)) return ZERO;
      return mul(unaryDerivative(e.f, e.a), da);
    }
    case 'bin': {
      const { a, b } = e;
      const da = derivative(a);
      const db = derivative(b);
      switch (e.op) {
        case 'add': return add(da, db);
        case 'sub': return sub(da, db);
        case 'mul': return add(mul(da, b), mul(a, db));
        case 'div':
          return isNum(db, 0) ? div(da, b) : sub(div(da, b), div(mul(a, db), sq(b)));
        case 'pow':
          if (isNum(b)) return mul(mul(b, pow(a, num(b.v - 1))), da);
          if (isNum(da, 0)) return mul(mul(e, un('log', a)), db);
          return mul(e, add(mul(db, un('log', a)), div(mul(b, da), a)));
        case 'atan2': // atan2(a, b) = angle of the point (b, a)
          return div(sub(mul(b, da), mul(a, db)), add(sq(a), sq(b)));
        case 'min':
        case 'max': {
          // Weight 1 on the selected argument, 1/2 each at a tie (the average of the one-sided derivatives).
          const gap = e.op === 'max' ? sub(a, b) : sub(b, a);
          const w = mul(num(0.5), add(ONE, un('sign', gap)));
          return add(mul(w, da), mul(sub(ONE, w), db));
        }
      }
    }
  }
}

function unaryDerivative(f: UnaryFn, a: IR): IR {
  switch (f) {
    case 'sin': return un('cos', a);
    case 'cos': return neg(un('sin', a));
    case 'tan': return add(ONE, sq(un('tan', a)));
    case 'asin': return div(ONE, un('sqrt', sub(ONE, sq(a))));
    case 'acos': return neg(div(ONE, un('sqrt', sub(ONE, sq(a)))));
    case 'atan': return div(ONE, add(ONE, sq(a)));
    case 'sinh': return un('cosh', a);
    case 'cosh': return un('sinh', a);
    case 'tanh': return sub(ONE, sq(un('tanh', a)));
    case 'exp': return un('exp', a);
    case 'log': return div(ONE, a);
    case 'log10': return div(ONE, mul(a, num(Math.LN10)));
    case 'log2': return div(ONE, mul(a, num(Math.LN2)));
    case 'log1p': return div(ONE, add(ONE, a));
    case 'expm1': return un('exp', a);
    case 'sqrt': return div(num(0.5), un('sqrt', a));
    case 'cbrt': return div(ONE, mul(num(3), sq(un('cbrt', a))));
    case 'abs': return un('sign', a);
    case 'sign':
    case 'floor':
    case 'ceil':
      return ZERO; // piecewise constant; the jumps have no classical derivative
    case 'sigmoid': {
      const s = un('sigmoid', a);
      return mul(s, sub(ONE, s));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// IR → text (for `source` of derivatives and for messages).

const PREC: Readonly<Record<'add' | 'sub' | 'mul' | 'div' | 'neg' | 'pow', number>> = {
  add: 1, sub: 1, mul: 2, div: 2, neg: 3, pow: 4,
};
const SYMBOL: Readonly<Record<'add' | 'sub' | 'mul' | 'div' | 'pow', string>> = { add: '+', sub: '-', mul: '*', div: '/', pow: '^' };

/** Printed text longer than this many nodes is replaced by a description (shared nodes print once per use). */
const MAX_PRINTED_NODES = 20000;

/** Size of the IR as a tree, i.e. what printing it costs; saturates at Infinity rather than overflowing. */
function treeSize(root: IR): number {
  const memo = new Map<IR, number>();
  const size = (e: IR): number => {
    let n = memo.get(e);
    if (n === undefined) {
      n = 1 + (e.k === 'neg' || e.k === 'un' ? size(e.a) : e.k === 'bin' ? size(e.a) + size(e.b) : 0);
      memo.set(e, n);
    }
    return n;
  };
  return size(root);
}

/** The IR as expression text in the accepted grammar, or undefined when the text would be unreasonably long. */
export function printIR(e: IR): string | undefined {
  return treeSize(e) <= MAX_PRINTED_NODES ? print(e, 0) : undefined;
}

function print(e: IR, outer: number): string {
  const wrap = (s: string, p: number): string => (p < outer ? `(${s})` : s);
  switch (e.k) {
    case 'num':
      return e.v < 0 || Object.is(e.v, -0) ? wrap(`-${String(-e.v)}`, PREC.neg) : String(e.v);
    case 'var':
      return VARIABLES[e.i]!;
    case 'neg':
      return wrap(`-${print(e.a, PREC.neg)}`, PREC.neg);
    case 'un':
      return `${e.f}(${print(e.a, 0)})`;
    case 'bin': {
      if (e.op === 'atan2' || e.op === 'min' || e.op === 'max') return `${e.op}(${print(e.a, 0)}, ${print(e.b, 0)})`;
      const p = PREC[e.op];
      if (e.op === 'pow') return wrap(`${print(e.a, p + 1)} ^ ${print(e.b, p)}`, p); // right-associative
      // Left-associative: the right operand of - and / needs parentheses at equal precedence.
      const right = e.op === 'sub' || e.op === 'div' ? p + 1 : p;
      return wrap(`${print(e.a, p)} ${SYMBOL[e.op]} ${print(e.b, right)}`, p);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Closures. A vector node returns a buffer whose first n entries hold its value on points
// [start, start + n). Buffers a node allocates are "owned": its parent may overwrite them, since
// each node's result is read once, by its parent; variable nodes return views of the caller's
// coordinates, which must not be written.

type Kernel = (start: number, n: number) => Float64Array;
interface VecNode { readonly run: Kernel; readonly owned: boolean }
type Built = VecNode | number;

interface EvalCtx {
  coords: readonly Float64Array[];
  /** Bumped per chunk (and per at() call); shared nodes recompute when it changes. */
  epoch: number;
}

type UnaryLoop = (a: Float64Array, o: Float64Array, n: number) => void;
// One function literal per math function, so that each loop is monomorphic and V8 inlines the call.
const UNARY_LOOPS: Readonly<Record<UnaryFn, UnaryLoop>> = {
  sin: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.sin(a[i]!); },
  cos: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.cos(a[i]!); },
  tan: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.tan(a[i]!); },
  asin: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.asin(a[i]!); },
  acos: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.acos(a[i]!); },
  atan: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.atan(a[i]!); },
  sinh: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.sinh(a[i]!); },
  cosh: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.cosh(a[i]!); },
  tanh: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.tanh(a[i]!); },
  exp: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.exp(a[i]!); },
  log: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.log(a[i]!); },
  log10: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.log10(a[i]!); },
  log2: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.log2(a[i]!); },
  log1p: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.log1p(a[i]!); },
  expm1: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.expm1(a[i]!); },
  sqrt: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.sqrt(a[i]!); },
  cbrt: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.cbrt(a[i]!); },
  abs: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.abs(a[i]!); },
  sign: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.sign(a[i]!); },
  floor: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.floor(a[i]!); },
  ceil: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.ceil(a[i]!); },
  sigmoid: (a, o, n) => { for (let i = 0; i < n; i++) o[i] = 1 / (1 + Math.exp(-a[i]!)); },
};

type VV = (a: Float64Array, b: Float64Array, o: Float64Array, n: number) => void;
type VS = (a: Float64Array, c: number, o: Float64Array, n: number) => void;
interface BinaryLoops { readonly vv: VV; readonly vs: VS; readonly sv: VS }

const BINARY_LOOPS: Readonly<Record<BinaryOp, BinaryLoops>> = {
  add: {
    vv: (a, b, o, n) => { for (let i = 0; i < n; i++) o[i] = a[i]! + b[i]!; },
    vs: (a, c, o, n) => { for (let i = 0; i < n; i++) o[i] = a[i]! + c; },
    sv: (b, c, o, n) => { for (let i = 0; i < n; i++) o[i] = c + b[i]!; },
  },
  sub: {
    vv: (a, b, o, n) => { for (let i = 0; i < n; i++) o[i] = a[i]! - b[i]!; },
    vs: (a, c, o, n) => { for (let i = 0; i < n; i++) o[i] = a[i]! - c; },
    sv: (b, c, o, n) => { for (let i = 0; i < n; i++) o[i] = c - b[i]!; },
  },
  mul: {
    vv: (a, b, o, n) => { for (let i = 0; i < n; i++) o[i] = a[i]! * b[i]!; },
    vs: (a, c, o, n) => { for (let i = 0; i < n; i++) o[i] = a[i]! * c; },
    sv: (b, c, o, n) => { for (let i = 0; i < n; i++) o[i] = c * b[i]!; },
  },
  div: {
    vv: (a, b, o, n) => { for (let i = 0; i < n; i++) o[i] = a[i]! / b[i]!; },
    vs: (a, c, o, n) => { for (let i = 0; i < n; i++) o[i] = a[i]! / c; },
    sv: (b, c, o, n) => { for (let i = 0; i < n; i++) o[i] = c / b[i]!; },
  },
  pow: {
    vv: (a, b, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.pow(a[i]!, b[i]!); },
    vs: (a, c, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.pow(a[i]!, c); },
    sv: (b, c, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.pow(c, b[i]!); },
  },
  atan2: {
    vv: (a, b, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.atan2(a[i]!, b[i]!); },
    vs: (a, c, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.atan2(a[i]!, c); },
    sv: (b, c, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.atan2(c, b[i]!); },
  },
  min: {
    vv: (a, b, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.min(a[i]!, b[i]!); },
    vs: (a, c, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.min(a[i]!, c); },
    sv: (b, c, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.min(c, b[i]!); },
  },
  max: {
    vv: (a, b, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.max(a[i]!, b[i]!); },
    vs: (a, c, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.max(a[i]!, c); },
    sv: (b, c, o, n) => { for (let i = 0; i < n; i++) o[i] = Math.max(c, b[i]!); },
  },
};

// Small integer powers as products: several times faster than Math.pow and at least as accurate.
const SQUARE: VS = (a, _c, o, n) => { for (let i = 0; i < n; i++) { const v = a[i]!; o[i] = v * v; } };
const CUBE: VS = (a, _c, o, n) => { for (let i = 0; i < n; i++) { const v = a[i]!; o[i] = v * v * v; } };
const NEG: UnaryLoop = (a, o, n) => { for (let i = 0; i < n; i++) o[i] = -a[i]!; };

/** A buffer of our own, or null when the child's owned buffer can be overwritten instead. */
const ownBuffer = (childOwned: boolean): Float64Array | null => (childOwned ? null : new Float64Array(CHUNK));

/**
 * Closures for a DAG: nodes with several parents compute once per chunk (keyed by ctx.epoch) and
 * hand out a buffer nobody may overwrite (owned: false); all others follow the in-place rules.
 */
function buildVec(root: IR, ctx: EvalCtx): Built {
  const parents = countParents(root);
  const built = new Map<IR, Built>();
  const build = (e: IR): Built => {
    let b = built.get(e);
    if (b === undefined) {
      b = buildVecNode(e, ctx, build);
      if (typeof b !== 'number' && b.owned && (parents.get(e) ?? 0) > 1) {
        const inner = b.run;
        let epoch = -1;
        let value: Float64Array = new Float64Array(0);
        b = {
          run: (start, n) => {
            if (epoch !== ctx.epoch) {
              value = inner(start, n);
              epoch = ctx.epoch;
            }
            return value;
          },
          owned: false,
        };
      }
      built.set(e, b);
    }
    return b;
  };
  return build(root);
}

function buildVecNode(e: IR, ctx: EvalCtx, buildVec: (e: IR) => Built): Built {
  switch (e.k) {
    case 'num':
      return e.v;
    case 'var': {
      const i = e.i;
      return { run: (start, n) => ctx.coords[i]!.subarray(start, start + n), owned: false };
    }
    case 'neg':
    case 'un': {
      const a = buildVec(e.a);
      if (typeof a === 'number') return e.k === 'neg' ? -a : UNARY[e.f](a);
      const loop = e.k === 'neg' ? NEG : UNARY_LOOPS[e.f];
      const own = ownBuffer(a.owned);
      const run = a.run;
      return {
        run: (start, n) => {
          const av = run(start, n);
          const o = own ?? av;
          loop(av, o, n);
          return o;
        },
        owned: true,
      };
    }
    case 'bin': {
      const a = buildVec(e.a);
      const b = buildVec(e.b);
      const loops = BINARY_LOOPS[e.op];
      if (typeof a === 'number' && typeof b === 'number') return scalarBinary(e.op, a, b);
      if (typeof b === 'number') {
        const loop = e.op === 'pow' && b === 2 ? SQUARE : e.op === 'pow' && b === 3 ? CUBE : loops.vs;
        const own = ownBuffer((a as VecNode).owned);
        const run = (a as VecNode).run;
        return {
          run: (start, n) => {
            const av = run(start, n);
            const o = own ?? av;
            loop(av, b, o, n);
            return o;
          },
          owned: true,
        };
      }
      if (typeof a === 'number') {
        const loop = loops.sv;
        const own = ownBuffer(b.owned);
        const run = b.run;
        return {
          run: (start, n) => {
            const bv = run(start, n);
            const o = own ?? bv;
            loop(bv, a, o, n);
            return o;
          },
          owned: true,
        };
      }
      const loop = loops.vv;
      const own = ownBuffer(a.owned || b.owned);
      const intoA = a.owned;
      const runA = a.run;
      const runB = b.run;
      return {
        run: (start, n) => {
          const av = runA(start, n);
          const bv = runB(start, n);
          const o = own ?? (intoA ? av : bv);
          loop(av, bv, o, n);
          return o;
        },
        owned: true,
      };
    }
  }
}

type ScalarFn = (p: readonly number[]) => number;

/** Scalar closures for a DAG; shared nodes are cached per call of the root (keyed by ctx.epoch). */
function buildScalar(root: IR, ctx: EvalCtx): ScalarFn {
  const parents = countParents(root);
  const built = new Map<IR, ScalarFn>();
  const build = (e: IR): ScalarFn => {
    let f = built.get(e);
    if (f === undefined) {
      f = buildScalarNode(e, build);
      if ((e.k === 'un' || e.k === 'bin') && (parents.get(e) ?? 0) > 1) {
        const inner = f;
        let epoch = -1;
        let value = 0;
        f = (p) => {
          if (epoch !== ctx.epoch) {
            value = inner(p);
            epoch = ctx.epoch;
          }
          return value;
        };
      }
      built.set(e, f);
    }
    return f;
  };
  return build(root);
}

function buildScalarNode(e: IR, buildScalar: (e: IR) => ScalarFn): ScalarFn {
  switch (e.k) {
    case 'num': {
      const v = e.v;
      return () => v;
    }
    case 'var': {
      const i = e.i;
      return (p) => p[i]!;
    }
    case 'neg': {
      const a = buildScalar(e.a);
      return (p) => -a(p);
    }
    case 'un': {
      const a = buildScalar(e.a);
      const f = UNARY[e.f];
      return (p) => f(a(p));
    }
    case 'bin': {
      const a = buildScalar(e.a);
      const b = buildScalar(e.b);
      const op = e.op;
      if (op === 'pow' && e.b.k === 'num' && e.b.v === 2) return (p) => { const v = a(p); return v * v; };
      if (op === 'pow' && e.b.k === 'num' && e.b.v === 3) return (p) => { const v = a(p); return v * v * v; };
      return (p) => scalarBinary(op, a(p), b(p));
    }
  }
}

class CompiledIR implements CompiledExpr {
  readonly source: string;
  readonly dim: number;
  private readonly ir: IR;
  private readonly ctx: EvalCtx = { coords: [], epoch: 0 };
  private readonly root: Built;
  private readonly scalar: ScalarFn;
  private grad?: CompiledExpr[];
  /** evalPoints as WebAssembly (null: unavailable); compiled on first use. */
  private wasm?: WasmPointFunction | null;
  private hess?: CompiledExpr[][];

  constructor(ir: IR, dim: number, source: string) {
    this.ir = ir;
    this.dim = dim;
    this.source = source;
    this.root = buildVec(ir, this.ctx);
    this.scalar = buildScalar(ir, this.ctx);
  }

  evalPoints(coords: readonly Float64Array[], out: Float64Array): void {
    const n = out.length;
    if (coords.length < this.dim) {
      throw new RangeError(`evalPoints: expression in ${this.dim} variables got ${coords.length} coordinate arrays`);
    }
    for (let k = 0; k < this.dim; k++) {
      if (coords[k]!.length < n) throw new RangeError(`evalPoints: coords[${k}] has ${coords[k]!.length} entries, out has ${n}`);
    }
    const root = this.root;
    if (typeof root === 'number') {
      out.fill(root);
      return;
    }
    // The same values as WebAssembly when the arrays are in the arena (expr-wasm.ts).
    // Asked per call: a compiled expression outlives the setting it was first used under (compileExpr keeps it).
    if (wasmKernelsEnabled()) {
      if (this.wasm === undefined) this.wasm = compileWasmPoints(this.ir, this.dim);
      if (this.wasm?.(coords, out)) return;
    }
    this.ctx.coords = coords;
    try {
      for (let start = 0; start < n; start += CHUNK) {
        const m = Math.min(CHUNK, n - start);
        this.ctx.epoch++;
        const v = root.run(start, m);
        out.set(v.length === m ? v : v.subarray(0, m), start);
      }
    } finally {
      // Do not keep the caller's (possibly huge) arrays alive between calls.
      this.ctx.coords = [];
    }
  }

  at(p: readonly number[]): number {
    if (p.length < this.dim) throw new RangeError(`at: expression in ${this.dim} variables got a point with ${p.length} coordinates`);
    this.ctx.epoch++;
    return this.scalar(p);
  }

  bounds(lo: readonly number[], hi: readonly number[]): Interval | null {
    return irBounds(this.ir, lo, hi);
  }

  gradient(): CompiledExpr[] {
    this.grad ??= Array.from({ length: this.dim }, (_, k) =>
      fromIR(derivative(this.ir, k), this.dim, `d/d${VARIABLES[k]!} of ${shorten(this.source)}`),
    );
    return this.grad;
  }

  hessian(): CompiledExpr[][] {
    if (this.hess === undefined) {
      const g = this.gradient() as CompiledIR[]; // built by fromIR above
      const h: CompiledExpr[][] = Array.from({ length: this.dim }, () => new Array<CompiledExpr>(this.dim));
      for (let i = 0; i < this.dim; i++) {
        // Differentiate ∂f/∂i along j ≥ i only: the Hessian is symmetric and this halves the work.
        for (let j = i; j < this.dim; j++) {
          const hij = fromIR(derivative(g[i]!.ir, j), this.dim, `d/d${VARIABLES[j]!} of ${shorten(g[i]!.source)}`);
          h[i]![j] = hij;
          h[j]![i] = hij;
        }
      }
      this.hess = h;
    }
    return this.hess;
  }
}

/**
 * mathjs parses with one recursion per parenthesis level (plus a dozen frames for the precedence
 * levels), and overflows the stack near 250. Deeper text is parsed bottom-up: each innermost group
 * is parsed on its own and replaced by a placeholder name, so no single parse sees more than one
 * level of parentheses. A group right after a name is a call's argument list: its arguments are
 * parsed one by one and the call keeps its parentheses. Shallow text takes the plain path.
 */
function parseNested(source: string): { tree: MathNode; holes: Map<string, MathNode> } {
  const holes = new Map<string, MathNode>();
  let depth = 0;
  let deepest = 0;
  for (const c of source) {
    if (c === '(') deepest = Math.max(deepest, ++depth);
    else if (c === ')') depth--;
  }
  if (deepest <= PARSE_PAREN_DEPTH) return { tree: parse(source), holes };
  if (source.includes(HOLE)) throw new Error(`the name ${HOLE} is reserved`);
  const hole = (text: string): string => {
    const name = `${HOLE}${holes.size}`;
    holes.set(name, parse(text));
    return name;
  };
  const stack: { text: string; call: boolean }[] = [{ text: '', call: false }];
  for (const c of source) {
    if (c === '(') {
      const before = stack[stack.length - 1]!.text;
      stack.push({ text: '', call: /(^|[^A-Za-z0-9_.])[A-Za-z_][A-Za-z0-9_]*\s*$/.test(before) });
    } else if (c === ')') {
      // Unbalanced: let mathjs say where.
      if (stack.length === 1) return { tree: parse(source), holes: new Map() };
      const group = stack.pop()!;
      const inner = group.call ? splitArgs(group.text).map((a) => (a.trim() === '' ? a : hole(a))).join(', ') : hole(group.text);
      stack[stack.length - 1]!.text += `(${inner})`;
    } else {
      stack[stack.length - 1]!.text += c;
    }
  }
  if (stack.length !== 1) return { tree: parse(source), holes: new Map() };
  return { tree: parse(stack[0]!.text), holes };
}

/** Splits a call's argument text at commas outside parentheses (inner groups are already one level deep). */
function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** Depth of an IR tree, without recursion (nodes are shared, so memoized per node). */
function irDepth(root: IR): number {
  const depth = new Map<IR, number>();
  const stack: IR[] = [root];
  while (stack.length > 0) {
    const e = stack[stack.length - 1]!;
    if (depth.has(e)) {
      stack.pop();
      continue;
    }
    const kids = e.k === 'neg' || e.k === 'un' ? [e.a] : e.k === 'bin' ? [e.a, e.b] : [];
    const pending = kids.filter((k) => !depth.has(k));
    if (pending.length > 0) {
      stack.push(...pending);
      continue;
    }
    stack.pop();
    depth.set(e, 1 + Math.max(0, ...kids.map((k) => depth.get(k)!)));
  }
  return depth.get(root)!;
}

/** `fallback` names the expression when its printed form would be too long to be useful. */
function fromIR(ir: IR, dim: number, fallback: string): CompiledIR {
  return new CompiledIR(ir, dim, printIR(ir) ?? fallback);
}

const PARAM_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function shorten(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Field path of params next to an expression field: `landscape.expr` → `landscape.params`. */
function paramsField(field: string): string {
  const dot = field.lastIndexOf('.');
  return dot >= 0 ? `${field.slice(0, dot)}.params` : 'params';
}

/**
 * Compile a landscape expression. Params are substituted as constants. Every problem is an
 * InputError naming `file` and `field` (params problems name `<parent>.params.<name>`).
 */
export function compileExpr(
  source: string,
  params: Record<string, number>,
  dim: number,
  field = 'landscape.expr',
  file?: string,
): CompiledExpr {
  // Every point of a sweep that leaves f alone (an ησ sweep) compiled it again, and its
  // WebAssembly, and ran the new closures cold. What is compiled depends only on the text, the
  // params and dim (file and field only word errors), and nothing a run does changes it (the
  // lazily built WebAssembly, gradient and Hessian are functions of the IR), so the last one per
  // field is shared. Inputs that fail are never kept, so their key never matches.
  return reuseLast(`expression ${field}`, 0, reuseKey([source, dim, params]), [], () => compileFresh(source, params, dim, field, file), (c) => c);
}

function compileFresh(source: string, params: Record<string, number>, dim: number, field: string, file: string | undefined): CompiledExpr {
  const got = ` (got ${JSON.stringify(shorten(String(source)))})`;
  const fail = (message: string): never => {
    throw new InputError(`${message}${got}`, { file, field });
  };
  if (!Number.isInteger(dim) || dim < 1 || dim > 3) {
    throw new InputError(`the expression needs 1 to 3 axes (got ${dim})`, { file, field });
  }
  if (typeof source !== 'string' || source.trim() === '') fail('must be a non-empty expression in x, y, z and params');
  if (source.length > MAX_EXPR_LENGTH) fail(`must be at most ${MAX_EXPR_LENGTH} characters long, not ${source.length}`);

  const pfield = paramsField(field);
  const cleanParams: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [name, value] of Object.entries(params)) {
    if (!PARAM_NAME.test(name)) {
      throw new InputError(`parameter names must be identifiers (a letter, then letters, digits, _) (got ${JSON.stringify(name)})`, {
        file,
        field: `${pfield}.${name}`,
      });
    }
    if (isReservedName(name)) {
      throw new InputError(`'${name}' is a variable or constant name and cannot be a parameter (got ${JSON.stringify(name)})`, {
        file,
        field: `${pfield}.${name}`,
      });
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InputError(`must be a finite number (got ${String(value)})`, { file, field: `${pfield}.${name}` });
    }
    cleanParams[name] = value;
  }

  let parsed: { tree: MathNode; holes: Map<string, MathNode> };
  try {
    parsed = parseNested(source);
  } catch (err) {
    return fail(`cannot parse the expression: ${err instanceof Error ? err.message : String(err)}`);
  }
  const ctx: TranslateCtx = { dim, params: cleanParams, used: new Set(), fail, holes: parsed.holes };
  const ir = translate(parsed.tree, ctx);
  if (irDepth(ir) > MAX_IR_DEPTH) tooDeep(ctx);
  for (const name of Object.keys(cleanParams)) {
    // An unused parameter is almost always a typo (--set landscape.params.B=2 would silently do nothing).
    if (!ctx.used.has(name)) {
      throw new InputError(`parameter '${name}' is not used by the expression ${JSON.stringify(shorten(source))}`, {
        file,
        field: `${pfield}.${name}`,
      });
    }
  }
  return new CompiledIR(ir, dim, source);
}
