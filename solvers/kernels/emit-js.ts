/**
 * JavaScript from a kernel description (solvers/kernels/describe.ts): source text compiled once
 * with `new Function`, so V8 optimizes it like a hand-written loop. Each kernel becomes
 *  - `interior(a, ints, p, lo, hi)`: the branch-free loop, valid where no read leaves the array;
 *  - `range(a, ints, p, lo, hi)`: any range, the cells within one reach of either end of the
 *    array checked (an out-of-range read is 0), the rest through `interior` or its WebAssembly
 *    twin when the arrays are in the arena.
 * Expressions are printed fully parenthesized in the tree's order, so JavaScript rounds exactly
 * as the WebAssembly emitter does (emit-wasm.ts).
 */
import { carried, reads, scatterCarried, wasmSignature, type Expr, type KernelDesc, type Offset, type Stmt } from './describe.js';

/** What every CPU kernel looks like to its callers and to the kernel threads. */
export type RangeKernel = (a: readonly Float64Array[], ints: readonly Int32Array[], p: readonly number[], lo: number, hi: number) => number;

/** The generated WebAssembly export of a kernel, when all its arrays are in the arena; else null. */
export type WasmLookup = (name: string, arrays: readonly (Float64Array | Int32Array)[]) => ((...args: number[]) => number) | null;

export interface JsKernel {
  /** The branch-free JavaScript loop. */
  interior: RangeKernel;
  /** The same over a range whose reads all stay in the array: WebAssembly when it can, else `interior`. */
  unchecked: RangeKernel;
  /** Any range of the array. */
  range: RangeKernel;
  source: string;
}

const ident = (s: string): string => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new Error(`kernel description: bad name ${s}`);
  return `$${s}`;
};

const offText = (off: Offset): string => (typeof off === 'number' ? (off === 0 ? '' : off > 0 ? ` + ${off}` : ` - ${-off}`) : ` ${off[0]} ${ident(off.slice(1))}`);

/** The read's index relative to the array ends, for the checked variant. */
function guard(off: Offset): string | null {
  if (off === 0) return null;
  const neg = typeof off === 'number' ? off < 0 : off[0] === '-';
  return neg ? `i${offText(off)} >= 0` : `i${offText(off)} < $$size`;
}

function expr(e: Expr, checked: boolean, carry: { arr: string; off: number } | null): string {
  switch (e.k) {
    case 'read': {
      if (carry && e.arr === carry.arr && e.off === carry.off) return '$$prev';
      const r = `${ident(e.arr)}[i${offText(e.off)}]`;
      const g = checked ? guard(e.off) : null;
      return g ? `(${g} ? ${r} : 0)` : r;
    }
    case 'gather':
      return `${ident(e.arr)}[${ident(e.idx)}[i]]`;
    case 'param':
    case 'local':
      return ident(e.name);
    case 'lit':
      return Object.is(e.v, -0) ? '-0' : String(e.v);
    case 'abs':
      return `Math.abs(${expr(e.a, checked, carry)})`;
    case 'bin': {
      const a = expr(e.a, checked, carry);
      const b = expr(e.b, checked, carry);
      return e.op === 'min' || e.op === 'max' ? `Math.${e.op}(${a}, ${b})` : `(${a} ${e.op} ${b})`;
    }
  }
}

function stmt(s: Stmt, checked: boolean, carry: { arr: string; off: number } | null, scatter = false): string {
  const v = expr(s.v, checked, carry);
  if (s.k === 'let') return `const ${ident(s.name)} = ${v};`;
  // The running sum of the target stays in $$S while the index repeats (describe.ts, scatterCarried).
  if (s.k === 'scatterAdd' && scatter) return `{ const $$j = ${ident(s.idx)}[i]; if ($$j !== $$J) { if ($$J >= 0) ${ident(s.arr)}[$$J] = $$S; $$J = $$j; $$S = ${ident(s.arr)}[$$j]; } $$S = $$S + ${v}; }`;
  if (s.k === 'scatterAdd') return `{ const $$j = ${ident(s.idx)}[i]; ${ident(s.arr)}[$$j] = ${ident(s.arr)}[$$j] + ${v}; }`;
  if (carry && s.arr === carry.arr) return `$$prev = ${v}; ${ident(s.arr)}[i] = $$prev;`;
  return `${ident(s.arr)}[i] = ${v};`;
}

function cell(d: KernelDesc, checked: boolean, carry: { arr: string; off: number } | null, scatter = false): string {
  const body = d.body.map((s) => stmt(s, checked, carry, scatter));
  if (d.reduce) {
    const v = expr(d.reduce.v, checked, carry);
    body.push(d.reduce.op === 'sum' ? `$$acc = $$acc + ${v};` : `$$acc = Math.${d.reduce.op}($$acc, ${v});`);
  }
  return body.join(' ');
}

const loop = (d: KernelDesc, lo: string, hi: string, body: string): string =>
  d.backward ? `for (let i = ${hi} - 1; i >= ${lo}; i--) { ${body} }` : `for (let i = ${lo}; i < ${hi}; i++) { ${body} }`;

/** How far below / above the cell the kernel reads: expressions in its parameters. */
function reach(d: KernelDesc): { low: string; high: string } {
  const low = ['0'];
  const high = ['0'];
  for (const r of reads(d)) {
    if (typeof r.off === 'number') (r.off < 0 ? low : high).push(String(Math.abs(r.off)));
    else (r.off[0] === '-' ? low : high).push(ident(r.off.slice(1)));
  }
  const m = (xs: string[]): string => (new Set(xs).size === 1 ? xs[0] : `Math.max(${[...new Set(xs)].join(', ')})`);
  return { low: m(low), high: m(high) };
}

function unpack(d: KernelDesc): string {
  const lines: string[] = [];
  d.arrays.forEach((n, k) => lines.push(`const ${ident(n)} = a[${k}];`));
  (d.ints ?? []).forEach((n, k) => lines.push(`const ${ident(n)} = ints[${k}];`));
  d.params.forEach((n, k) => lines.push(`const ${ident(n)} = p[${k}];`));
  return lines.join('\n');
}

export function emitJs(d: KernelDesc, wasm?: WasmLookup): JsKernel {
  const hasOffsets = reads(d).some((r) => r.off !== 0);
  if (hasOffsets && !d.size) throw new Error(`kernel ${d.name}: reads at offsets need a size parameter`);
  const c = carried(d);
  const carry = c ? { arr: c, off: d.backward ? 1 : -1 } : null;
  const red = d.reduce ? `let $$acc = ${d.reduce.op === 'sum' ? '0' : d.reduce.op === 'min' ? 'Infinity' : '-Infinity'};` : '';
  const join = d.reduce?.op === 'min' || d.reduce?.op === 'max' ? `$$acc = Math.${d.reduce.op}($$acc, $$part);` : '$$acc = $$acc + $$part;';
  const ret = d.reduce ? 'return $$acc;' : 'return 0;';
  const prevInit = carry ? `let $$prev = ${ident(carry.arr)}[${d.backward ? 'hi' : 'lo - 1'}];` : '';
  const sc = scatterCarried(d);
  const scInit = sc ? 'let $$J = -1; let $$S = 0;' : '';
  const scFlush = sc ? `if ($$J >= 0) ${ident(sc)}[$$J] = $$S;` : '';
  const interiorSrc = `${unpack(d)}\nif (hi <= lo) return 0;\n${red}\n${prevInit}\n${scInit}\n${loop(d, 'lo', 'hi', cell(d, false, carry, sc !== null))}\n${scFlush}\n${ret}`;
  const interior = new Function('a', 'ints', 'p', 'lo', 'hi', interiorSrc) as RangeKernel;
  const { low, high } = reach(d);
  const size = d.size ? ident(d.size) : 'hi';
  const sig = wasmSignature(d);
  const wasmArgs = sig.i32.map((n) => (n === 'lo' ? '$$i0' : n === 'hi' ? '$$i1' : (d.strides ?? []).includes(n) ? ident(n) : `${ident(n)}.byteOffset`)).concat(sig.f64.map(ident));
  const allArrays = [...d.arrays, ...(d.ints ?? [])].map(ident).join(', ');
  const checkedCell = cell(d, true, null);
  const head = hasOffsets ? loop(d, 'lo', '$$i0', checkedCell) : '';
  const tail = hasOffsets ? loop(d, '$$i1', 'hi', checkedCell) : '';
  const dispatch = `const $$k = $$wasm ? $$wasm(${JSON.stringify(d.name)}, [${allArrays}]) : null;
  return $$k ? $$k(${wasmArgs.join(', ')}) : $$interior(a, ints, p, $$i0, $$i1);`;
  const uncheckedSrc = `${unpack(d)}\nconst $$i0 = lo;\nconst $$i1 = hi;\n${dispatch}`;
  const unchecked = new Function('$$interior', '$$wasm', `return function ${d.name}Unchecked(a, ints, p, lo, hi) {\n${uncheckedSrc}\n};`)(interior, wasm ?? null) as RangeKernel;
  const mid = `{ const $$part = $$unchecked(a, ints, p, $$i0, $$i1); ${d.reduce ? join : ''} }`;
  const rangeSrc = `${unpack(d)}
const $$size = ${size};
const $$i0 = Math.min(Math.max(lo, ${low}), hi);
const $$i1 = Math.max(Math.min(hi, $$size - ${high}), $$i0);
${red}
${d.backward ? tail : head}
${mid}
${d.backward ? head : tail}
${ret}`;
  const range = new Function('$$unchecked', `return function ${d.name}(a, ints, p, lo, hi) {\n${rangeSrc}\n};`)(unchecked) as RangeKernel;
  return { interior, unchecked, range, source: `${interiorSrc}\n---\n${uncheckedSrc}\n---\n${rangeSrc}` };
}
