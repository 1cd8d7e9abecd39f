import { assemble, loop, op, prod, type Code, type FunctionDef, type ValType } from '../exec/assemble.js';
import { MAX_PAGES, provideKernelModule, wasmFor } from '../exec/arena.js';
import { ALL_KERNELS } from './stencils.js';
import { emitWasm } from './emit-wasm.js';
import { EXP_COEFFS, EXP_SERIES_D, LOG_COEFFS, LOG_SERIES_U } from './series.js';
import { kernelModuleBytes, recordStartup } from './wasm-prebuilt.js';

/**
 * The WebAssembly module of the arena: the stencil and vector kernels generated from their
 * descriptions (solvers/kernels/stencils.ts, emit-wasm.ts), and, written here with the small
 * helper below, the set-up loops that run once per problem (operator faces, √π, the multigrid
 * hierarchy's coarsening, the quadrature's nodes), which have branches and calls the kernel
 * description does not need. Each set-up loop is its JavaScript twin's expressions in the same
 * order, so both paths give the same bits (test/wasm-kernels.test.ts).
 */

/** Kernel signatures: i32 names are addresses or integers, f64 names scalars. */
interface Sig {
  i32: string[];
  f64: string[];
  /** Extra f64 locals (accumulators). */
  acc?: string[];
  /** Extra i32 locals. */
  ints?: string[];
  result?: ValType;
}

/** `+s` or `-s`: one stride away, s an i32 parameter holding the stride in cells. */
type StrideShift = `+${string}` | `-${string}`;

/** What a kernel body sees: its locals by name, the loop index i and the byte offset P = 8i. */
interface Ctx {
  l: Record<string, number>;
  /** f64 element k cells away from i (k a literal, or a stride parameter's name with a sign). */
  at: (arr: string, k?: number | StrideShift) => Code;
  /** Address of element i of arr, or of i ± a stride (for stores). */
  addr: (arr: string, k?: StrideShift) => Code;
  /** i32 element i of an Int32 array. */
  int: (arr: string) => Code;
  /** f64 element j of arr, j an i32 expression (a gathered index). */
  gather: (arr: string, j: Code) => Code;
  get: (name: string) => Code;
}

/** Set-up kernels defined in this thread: none unless the module is generated (test/startup-work.test.ts). */
let defined = 0;

function kernel(name: string, sig: Sig, body: (c: Ctx) => Code): FunctionDef {
  recordStartup('setupKernelsDefined', ++defined);
  const names = [...sig.i32, ...sig.f64];
  const l: Record<string, number> = {};
  names.forEach((n, k) => (l[n] = k));
  const extra: ValType[] = [];
  const addLocal = (n: string, t: ValType): void => {
    l[n] = names.length + extra.length;
    extra.push(t);
  };
  addLocal('i', 'i32');
  addLocal('P', 'i32');
  for (const a of sig.acc ?? []) addLocal(a, 'f64');
  for (const a of sig.ints ?? []) addLocal(a, 'i32');
  // Strides arrive in cells; the body's first use of one gives it a local with its size in bytes.
  const strides: string[] = [];
  const strideBytes = (s: string): Code => {
    if (!strides.includes(s)) {
      if (!sig.i32.includes(s)) throw new Error(`kernel ${name}: no stride parameter ${s}`);
      strides.push(s);
      addLocal(`S_${s}`, 'i32');
    }
    return op.get(l[`S_${s}`]);
  };
  const base = (arr: string): Code => op.add(op.get(l[arr]), op.get(l.P));
  const shifted = (arr: string, k: StrideShift): Code => (k[0] === '+' ? op.add : op.sub)(base(arr), strideBytes(k.slice(1)));
  const ctx: Ctx = {
    l,
    get: (n) => op.get(l[n]),
    addr: (arr, k) => (k === undefined ? base(arr) : shifted(arr, k)),
    at: (arr, k = 0) => {
      if (typeof k === 'number') return k >= 0 ? op.load(base(arr), 8 * k) : op.load(op.sub(base(arr), op.i32(-8 * k)));
      return op.load(shifted(arr, k));
    },
    int: (arr) => op.loadI32(op.add(op.get(l[arr]), op.shl(op.get(l.i), op.i32(2)))),
    gather: (arr, j) => op.load(op.add(op.get(l[arr]), op.shl(j, op.i32(3)))),
  };
  const main = body(ctx);
  const prologue = strides.flatMap((s) => op.set(l[`S_${s}`], op.shl(op.get(l[s]), op.i32(3))));
  const accInit = (sig.acc ?? []).flatMap((a) => op.set(l[a], op.f64(0)));
  const code = [...prologue, ...accInit, ...main];
  return {
    name,
    params: [...sig.i32.map((): ValType => 'i32'), ...sig.f64.map((): ValType => 'f64')],
    locals: extra,
    result: sig.result,
    body: sig.result ? [...code, ...op.get(l[(sig.acc ?? [])[0]])] : code,
  };
}

/** The loop over [lo, hi) with P = 8i set first. */
function cells(c: Ctx, body: Code, down = false): Code {
  return loop(c.l.i, c.get('lo'), c.get('hi'), [...op.set(c.l.P, op.shl(op.get(c.l.i), op.i32(3))), ...body], down);
}

/** Address of element j (an i32 expression) of an f64 array. */
const elem = (c: Ctx, arr: string, j: Code): Code => op.add(c.get(arr), op.shl(j, op.i32(3)));

/**
 * The multigrid hierarchy's set-up (solvers/multigrid.ts: coarsen, setup), which runs once per
 * problem and per θ and so mostly as not-yet-optimized JavaScript: the same loops, same order.
 */
const setupDefs = (): FunctionDef[] => [
  // agg[i] = aggregate of cell i (odometer over the n0×n1×n2 box), mx[I] = max over it of rt
  kernel('coarsenAgg', { i32: ['rt', 'agg', 'mx', 'n1', 'n2', 'c1', 'c2', 'f0', 'f1', 'f2', 'lo', 'hi'], f64: [], acc: ['v'], ints: ['i0', 'i1', 'i2', 'I'] }, (c) =>
    cells(c, [
      ...op.set(c.l.I, op.add(op.mul(op.add(op.mul(op.shrU(c.get('i0'), c.get('f0')), c.get('c1')), op.shrU(c.get('i1'), c.get('f1'))), c.get('c2')), op.shrU(c.get('i2'), c.get('f2')))),
      ...op.storeI32(op.add(c.get('agg'), op.shl(c.get('i'), op.i32(2))), c.get('I')),
      ...op.set(c.l.v, c.at('rt')),
      ...op.when(op.fgt(c.get('v'), op.load(elem(c, 'mx', c.get('I')))), op.store(elem(c, 'mx', c.get('I')), c.get('v'))),
      ...op.set(c.l.i2, op.add(c.get('i2'), op.i32(1))),
      ...op.when(op.eq(c.get('i2'), c.get('n2')), [
        ...op.set(c.l.i2, op.i32(0)),
        ...op.set(c.l.i1, op.add(c.get('i1'), op.i32(1))),
        ...op.when(op.eq(c.get('i1'), c.get('n1')), [...op.set(c.l.i1, op.i32(0)), ...op.set(c.l.i0, op.add(c.get('i0'), op.i32(1)))]),
      ]),
    ]),
  ),
  // qq[agg] += (rt / mx[agg])² where mx[agg] > 0
  kernel('coarsenSS', { i32: ['rt', 'agg', 'mx', 'qq', 'lo', 'hi'], f64: [], acc: ['m', 'q'] }, (c) =>
    cells(c, [
      ...op.set(c.l.m, op.load(elem(c, 'mx', c.int('agg')))),
      ...op.when(op.fgt(c.get('m'), op.f64(0)), [
        ...op.set(c.l.q, op.fdiv(c.at('rt'), c.get('m'))),
        ...op.store(elem(c, 'qq', c.int('agg')), op.fadd(op.load(elem(c, 'qq', c.int('agg'))), op.fmul(c.get('q'), c.get('q')))),
      ]),
    ]),
  ),
  // cc = mx √qq (coarse cells)
  kernel('coarsenSC', { i32: ['mx', 'qq', 'cc', 'lo', 'hi'], f64: [] }, (c) => cells(c, op.store(c.addr('cc'), op.fmul(c.at('mx'), op.fsqrt(c.at('qq')))))),
  // pw = rt / cc[agg] where cc[agg] > 0, else 0
  kernel('coarsenPW', { i32: ['rt', 'agg', 'cc', 'pw', 'lo', 'hi'], f64: [], acc: ['m'] }, (c) =>
    cells(c, [...op.set(c.l.m, op.load(elem(c, 'cc', c.int('agg')))), ...op.store(c.addr('pw'), op.select(op.fdiv(c.at('rt'), c.get('m')), op.f64(0), op.fgt(c.get('m'), op.f64(0))))]),
  ),
  // cd[agg] += d pw pw
  kernel('coarsenDiag', { i32: ['d', 'pw', 'agg', 'cd', 'lo', 'hi'], f64: [], acc: ['p'] }, (c) =>
    cells(c, [...op.set(c.l.p, c.at('pw')), ...op.store(elem(c, 'cd', c.int('agg')), op.fadd(op.load(elem(c, 'cd', c.int('agg'))), prod(c.at('d'), c.get('p'), c.get('p'))))]),
  ),
  // faces along one axis: t = w pw_i pw_j; inside an aggregate cd −= 2t, between two ck += t
  kernel('coarsenFaces', { i32: ['w', 'pw', 'agg', 'cd', 'ck', 'st', 'lo', 'hi'], f64: [], acc: ['v', 't'], ints: ['I', 'J'] }, (c) =>
    cells(c, [
      ...op.set(c.l.v, c.at('w')),
      ...op.when(op.fne(c.get('v'), op.f64(0)), [
        ...op.set(c.l.I, c.int('agg')),
        ...op.set(c.l.J, op.loadI32(op.add(op.add(c.get('agg'), op.shl(c.get('i'), op.i32(2))), op.shl(c.get('st'), op.i32(2))))),
        ...op.set(c.l.t, prod(c.get('v'), c.at('pw'), c.at('pw', '+st'))),
        ...op.when(
          op.eq(c.get('I'), c.get('J')),
          op.store(elem(c, 'cd', c.get('I')), op.fsub(op.load(elem(c, 'cd', c.get('I'))), op.fmul(op.f64(2), c.get('t')))),
          op.store(elem(c, 'ck', c.get('I')), op.fadd(op.load(elem(c, 'ck', c.get('I'))), c.get('t'))),
        ),
      ]),
    ]),
  ),
  // diag = 1 + θ d, inv = 1 / diag
  kernel('shiftDiag', { i32: ['d', 'diag', 'inv', 'lo', 'hi'], f64: ['th'], acc: ['g'] }, (c) =>
    cells(c, [...op.store(c.addr('diag'), op.tee(c.l.g, op.fadd(op.f64(1), op.fmul(c.get('th'), c.at('d'))))), ...op.store(c.addr('inv'), op.fdiv(op.f64(1), c.get('g')))]),
  ),
];

/**
 * The eigen-solver's and Krylov bases' sweeps over four basis vectors (solvers/basis-kernels.ts,
 * whose JavaScript loops are their twins: the same sums in the same order). As JavaScript these
 * ran at a third of the copy bandwidth at 512² (five and six streams per cell).
 */
const basisDefs = (): FunctionDef[] => [
  // out[0..3] += Σ x_i q_k[i] (starting from out's values), returns xx0 + Σ x_i²
  kernel('basisDots4', { i32: ['x', 'q0', 'q1', 'q2', 'q3', 'out', 'lo', 'hi'], f64: ['xx0'], acc: ['xx', 's0', 's1', 's2', 's3', 'xi'], result: 'f64' }, (c) => {
    const s = ['s0', 's1', 's2', 's3'];
    const q = ['q0', 'q1', 'q2', 'q3'];
    return [
      ...op.set(c.l.xx, c.get('xx0')),
      ...s.flatMap((n, k) => op.set(c.l[n], op.load(c.get('out'), 8 * k))),
      ...cells(c, [
        ...op.set(c.l.xi, c.at('x')),
        ...op.set(c.l.xx, op.fadd(c.get('xx'), op.fmul(c.get('xi'), c.get('xi')))),
        ...s.flatMap((n, k) => op.set(c.l[n], op.fadd(c.get(n), op.fmul(c.get('xi'), c.at(q[k]))))),
      ]),
      ...s.flatMap((n, k) => op.store(op.add(c.get('out'), op.i32(8 * k)), c.get(n))),
    ];
  }),
  // o[i] += ((c0 q0[i] + c1 q1[i]) + c2 q2[i]) + c3 q3[i]
  kernel('basisCombine4', { i32: ['o', 'q0', 'q1', 'q2', 'q3', 'lo', 'hi'], f64: ['c0', 'c1', 'c2', 'c3'] }, (c) =>
    cells(
      c,
      op.store(
        c.addr('o'),
        op.fadd(c.at('o'), op.fadd(op.fadd(op.fadd(op.fmul(c.get('c0'), c.at('q0')), op.fmul(c.get('c1'), c.at('q1'))), op.fmul(c.get('c2'), c.at('q2'))), op.fmul(c.get('c3'), c.at('q3')))),
      ),
    ),
  ),
];

/** Math functions the operator's set-up calls (import index = position). */
const MATH_IMPORTS: { name: string; fn: (v: number) => number }[] = [
  { name: 'expm1', fn: Math.expm1 },
  { name: 'sinh', fn: Math.sinh },
  { name: 'exp', fn: Math.exp },
  { name: 'log', fn: Math.log },
];
const EXPM1 = 0;
const SINH = 1;
const EXP = 2;
const LOG = 3;

/**
 * The operator's face coefficients (solvers/operator.ts, FvOperator), once per problem: for the
 * faces along one axis (i's index on it below n − 1), with B the Bernoulli function of
 * solvers/bernoulli.ts evaluated in the same branches and order.
 */
const operatorDefs = (): FunctionDef[] => [
  kernel(
    'operatorFaces',
    { i32: ['dd', 'psi', 'fw', 'bw', 'sy', 'od', 'st', 'n', 'lo', 'hi'], f64: ['inv'], acc: ['c', 'z', 'a', 'ba', 'up', 'down', 'h', 'sw'], ints: ['J'] },
    (c) =>
      cells(
        c,
        op.when(op.ne(op.remU(op.divU(c.get('i'), c.get('st')), c.get('n')), op.sub(c.get('n'), op.i32(1))), [
          ...op.set(c.l.c, op.fmul(c.at('dd'), c.get('inv'))),
          ...op.set(c.l.z, op.fsub(c.at('psi', '+st'), c.at('psi'))),
          ...op.set(c.l.a, op.fabs(c.get('z'))),
          // bernoulli(a), a ≥ 0: 1 − a/2 + a²/12 below 1e-5, 0 above 745, else a / expm1(a)
          ...op.when(
            op.flt(c.get('a'), op.f64(1e-5)),
            op.set(c.l.ba, op.fadd(op.fsub(op.f64(1), op.fdiv(c.get('a'), op.f64(2))), op.fdiv(op.fmul(c.get('a'), c.get('a')), op.f64(12)))),
            op.when(op.fgt(c.get('a'), op.f64(745)), op.set(c.l.ba, op.f64(0)), op.set(c.l.ba, op.fdiv(c.get('a'), op.call(EXPM1, c.get('a'))))),
          ),
          ...op.set(c.l.up, op.fmul(c.get('c'), c.get('ba'))),
          ...op.set(c.l.down, op.fmul(c.get('c'), op.fadd(c.get('a'), c.get('ba')))),
          ...op.store(c.addr('fw'), op.select(c.get('up'), c.get('down'), op.fge(c.get('z'), op.f64(0)))),
          ...op.store(c.addr('bw'), op.select(c.get('down'), c.get('up'), op.fge(c.get('z'), op.f64(0)))),
          // a < 600: c √(B(a)(a + B(a))); else c · symmetricWeight(z) with h = |z|/2 (never < 1e-5 here)
          ...op.when(
            op.flt(c.get('a'), op.f64(600)),
            op.set(c.l.sw, op.fmul(c.get('c'), op.fsqrt(op.fmul(c.get('ba'), op.fadd(c.get('a'), c.get('ba')))))),
            [
              ...op.set(c.l.h, op.fdiv(op.fabs(c.get('z')), op.f64(2))),
              ...op.when(op.fgt(c.get('h'), op.f64(745)), op.set(c.l.sw, op.fmul(c.get('c'), op.f64(0))), op.set(c.l.sw, op.fmul(c.get('c'), op.fdiv(c.get('h'), op.call(SINH, c.get('h')))))),
            ],
          ),
          ...op.store(c.addr('sy'), c.get('sw')),
          ...op.store(c.addr('od'), op.fadd(c.at('od'), c.at('fw'))),
          ...op.store(c.addr('od', '+st'), op.fadd(c.at('od', '+st'), c.at('bw'))),
        ]),
      ),
  ),
  // One Gauss node of the cell averages of π = (f + e)^−a (solvers/quadrature.ts, logMeanNode
  // there: the same operations in the same order). m holds the cell's smallest y = f + e so far,
  // s = Σ w (m/y)^a; P = z^a for z = min/max of (y, m) by the series there when z is close to 1.
  kernel('logMeanNode', { i32: ['m', 's', 'x', 'lo', 'hi'], f64: ['w', 'a', 'e'], acc: ['y', 'mc', 'z', 'u', 'u2', 'd', 'p'] }, (c) =>
    cells(c, [
      ...op.set(c.l.y, op.fadd(c.at('x'), c.get('e'))),
      ...op.set(c.l.mc, c.at('m')),
      ...op.set(c.l.z, op.select(op.fdiv(c.get('y'), c.get('mc')), op.fdiv(c.get('mc'), c.get('y')), op.flt(c.get('y'), c.get('mc')))),
      ...op.set(c.l.u, op.fdiv(op.fsub(c.get('z'), op.f64(1)), op.fadd(c.get('z'), op.f64(1)))),
      ...op.when(
        op.fgt(c.get('u'), op.f64(-LOG_SERIES_U)),
        [
          ...op.set(c.l.u2, op.fmul(c.get('u'), c.get('u'))),
          ...op.set(c.l.d, op.fmul(c.get('a'), op.fmul(op.fmul(op.f64(2), c.get('u')), estrin(c.get('u2'), LOG_COEFFS)))),
          ...op.when(
            op.fgt(c.get('d'), op.f64(-EXP_SERIES_D)),
            op.set(c.l.p, estrin(c.get('d'), EXP_COEFFS)),
            op.set(c.l.p, op.call(EXP, c.get('d'))),
          ),
        ],
        op.set(c.l.p, op.call(EXP, op.fmul(c.get('a'), op.call(LOG, c.get('z'))))),
      ),
      ...op.when(
        op.flt(c.get('y'), c.get('mc')),
        [...op.store(c.addr('s'), op.fadd(op.fmul(c.at('s'), c.get('p')), c.get('w'))), ...op.store(c.addr('m'), c.get('y'))],
        op.store(c.addr('s'), op.fadd(c.at('s'), op.fmul(c.get('w'), c.get('p')))),
      ),
    ]),
  ),
  // √π = exp(−ψ/2)
  kernel('sqrtPi', { i32: ['psi', 'out', 'lo', 'hi'], f64: [] }, (c) => cells(c, op.store(c.addr('out'), op.call(EXP, op.fmul(op.f64(-0.5), c.at('psi')))))),
];

/**
 * Σ c_k x^k by Estrin's scheme: the operations of solvers/kernels/series.ts (estrin) in the same order, so
 * the same bits. The powers x, x², x⁴, … are expressions (recomputed where used, same values).
 */
function estrin(x: Code, coeffs: readonly number[]): Code {
  let terms: Code[] = coeffs.map((v) => op.f64(v));
  let p = x;
  while (terms.length > 1) {
    const next: Code[] = [];
    for (let j = 0; j < terms.length; j += 2) next.push(j + 1 < terms.length ? op.fadd(terms[j], op.fmul(terms[j + 1], p)) : terms[j]);
    terms = next;
    p = op.fmul(p, p);
  }
  return terms[0];
}

/** The hand-written set-up exports; the generated kernels are looked up by name (solvers/kernels/registry.ts). */
export interface WasmKernels {
  accumulate(acc: number, x: number, lo: number, hi: number, w: number): void;
  coarsenAgg(rt: number, agg: number, mx: number, n1: number, n2: number, c1: number, c2: number, f0: number, f1: number, f2: number, lo: number, hi: number): void;
  coarsenSS(rt: number, agg: number, mx: number, qq: number, lo: number, hi: number): void;
  coarsenSC(mx: number, qq: number, cc: number, lo: number, hi: number): void;
  coarsenPW(rt: number, agg: number, cc: number, pw: number, lo: number, hi: number): void;
  coarsenDiag(d: number, pw: number, agg: number, cd: number, lo: number, hi: number): void;
  coarsenFaces(w: number, pw: number, agg: number, cd: number, ck: number, st: number, lo: number, hi: number): void;
  shiftDiag(d: number, diag: number, inv: number, lo: number, hi: number, th: number): void;
  operatorFaces(dd: number, psi: number, fw: number, bw: number, sy: number, od: number, st: number, n: number, lo: number, hi: number, inv: number): void;
  sqrtPi(psi: number, out: number, lo: number, hi: number): void;
  logMeanNode(m: number, s: number, x: number, lo: number, hi: number, w: number, a: number, e: number): void;
  basisDots4(x: number, q0: number, q1: number, q2: number, q3: number, out: number, lo: number, hi: number, xx0: number): number;
  basisCombine4(o: number, q0: number, q1: number, q2: number, q3: number, lo: number, hi: number, c0: number, c1: number, c2: number, c3: number): void;
}

// The arena (solvers/exec/arena.ts) instantiates this module on its memory, in every thread that
// imports this file (the kernel threads do, through the kernel table).
provideKernelModule({
  // The build stores these bytes (solvers/kernels/wasm-prebuilt.ts): generating them is most of a
  // small run's start-up.
  bytes: () => kernelModuleBytes(generateKernelModule),
  imports: Object.fromEntries(MATH_IMPORTS.map((m) => [m.name, m.fn])),
});

/** The kernel module's bytes, generated from the kernel descriptions (the build stores them). */
export function generateKernelModule(): Uint8Array {
  return assemble([...ALL_KERNELS.map(emitWasm), ...setupDefs(), ...operatorDefs(), ...basisDefs()], MAX_PAGES, MATH_IMPORTS.map((m) => ({ name: m.name, params: ['f64'], result: 'f64' })));
}

/** The set-up kernels, when every array is in this thread's arena and WebAssembly kernels are on. */
export function wasmKernels(...arrays: (Float64Array | Int32Array)[]): WasmKernels | null {
  return wasmFor(...arrays) as unknown as WasmKernels | null;
}
