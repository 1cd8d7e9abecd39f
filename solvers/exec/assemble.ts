/**
 * A small WebAssembly assembler: just what the generated grid kernels (solvers/kernels/emit-wasm.ts),
 * the set-up loops (solvers/kernels/wasm-module.ts) and the landscape compiler (src/landscape/expr-wasm.ts) need
 * (i32 index arithmetic, f64 loads, stores and arithmetic, one loop per kernel), so that they are
 * written as expressions in TypeScript instead of as bytes, and the module is built at start-up
 * with no toolchain. Encoding: WebAssembly Core Specification 2.0, §5 (binary format).
 */

export type Code = number[];

function uleb(n: number): Code {
  const out: Code = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): Code {
  const out: Code = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const I32 = 0x7f;
const F64 = 0x7c;
export type ValType = 'i32' | 'f64';
const typeByte = (t: ValType): number => (t === 'i32' ? I32 : F64);

/** Instructions, each returning its bytes with its operands' bytes before it (stack order). */
export const op = {
  get: (l: number): Code => [0x20, ...uleb(l)],
  set: (l: number, v: Code): Code => [...v, 0x21, ...uleb(l)],
  tee: (l: number, v: Code): Code => [...v, 0x22, ...uleb(l)],
  i32: (n: number): Code => [0x41, ...sleb(n | 0)],
  add: (a: Code, b: Code): Code => [...a, ...b, 0x6a],
  sub: (a: Code, b: Code): Code => [...a, ...b, 0x6b],
  shl: (a: Code, b: Code): Code => [...a, ...b, 0x74],
  ltS: (a: Code, b: Code): Code => [...a, ...b, 0x48],
  eq: (a: Code, b: Code): Code => [...a, ...b, 0x46],
  ne: (a: Code, b: Code): Code => [...a, ...b, 0x47],
  divU: (a: Code, b: Code): Code => [...a, ...b, 0x6e],
  remU: (a: Code, b: Code): Code => [...a, ...b, 0x70],
  flt: (a: Code, b: Code): Code => [...a, ...b, 0x63],
  fge: (a: Code, b: Code): Code => [...a, ...b, 0x66],
  mul: (a: Code, b: Code): Code => [...a, ...b, 0x6c],
  shrU: (a: Code, b: Code): Code => [...a, ...b, 0x76],
  fgt: (a: Code, b: Code): Code => [...a, ...b, 0x64],
  fne: (a: Code, b: Code): Code => [...a, ...b, 0x62],
  /** if (cond) then [else otherwise]; both arms leave nothing on the stack. */
  when: (cond: Code, then: Code, otherwise?: Code): Code => [...cond, 0x04, 0x40, ...then, ...(otherwise ? [0x05, ...otherwise] : []), 0x0b],
  /** cond ? a : b for f64 values (both evaluated, as `select` does). */
  select: (a: Code, b: Code, cond: Code): Code => [...a, ...b, ...cond, 0x1b],
  geS: (a: Code, b: Code): Code => [...a, ...b, 0x4e],
  /** f64 at byte address `addr` + `offset` (offset ≥ 0). */
  load: (addr: Code, offset = 0): Code => [...addr, 0x2b, 3, ...uleb(offset)],
  loadI32: (addr: Code): Code => [...addr, 0x28, 2, 0],
  store: (addr: Code, v: Code): Code => [...addr, ...v, 0x39, 3, 0],
  storeI32: (addr: Code, v: Code): Code => [...addr, ...v, 0x36, 2, 0],
  fneg: (a: Code): Code => [...a, 0x9a],
  fabs: (a: Code): Code => [...a, 0x99],
  fsqrt: (a: Code): Code => [...a, 0x9f],
  ffloor: (a: Code): Code => [...a, 0x9c],
  fceil: (a: Code): Code => [...a, 0x9b],
  fdiv: (a: Code, b: Code): Code => [...a, ...b, 0xa3],
  /** Call function `index` (imports first) with its operands' code before it. */
  call: (index: number, ...args: Code[]): Code => [...args.flat(), 0x10, ...uleb(index)],
  fadd: (a: Code, b: Code): Code => [...a, ...b, 0xa0],
  fsub: (a: Code, b: Code): Code => [...a, ...b, 0xa1],
  fmul: (a: Code, b: Code): Code => [...a, ...b, 0xa2],
  f64: (x: number): Code => {
    const b = new Uint8Array(new Float64Array([x]).buffer);
    return [0x44, ...b];
  },
};

/** Left-to-right sum and product, exactly as JavaScript evaluates `a + b + c` (rounding order matters). */
export const sum = (...xs: Code[]): Code => xs.slice(1).reduce((acc, x) => op.fadd(acc, x), xs[0]);
export const prod = (...xs: Code[]): Code => xs.slice(1).reduce((acc, x) => op.fmul(acc, x), xs[0]);

/**
 * `for (i = lo; i < hi; i++) body` (or from hi − 1 down to lo when `down`), i in local `i`.
 * The body leaves nothing on the stack.
 */
export function loop(i: number, lo: Code, hi: Code, body: Code, down = false): Code {
  if (!down) {
    return [
      ...op.set(i, lo),
      0x02, 0x40, // block
      ...op.geS(op.get(i), hi), 0x0d, 0, // br_if 0 (empty range)
      0x03, 0x40, // loop
      ...body,
      ...op.ltS(op.tee(i, op.add(op.get(i), op.i32(1))), hi), 0x0d, 0, // br_if 0 (next)
      0x0b, 0x0b,
    ];
  }
  return [
    ...op.set(i, hi),
    0x02, 0x40,
    ...op.geS(lo, op.get(i)), 0x0d, 0, // empty when hi ≤ lo
    0x03, 0x40,
    ...op.set(i, op.sub(op.get(i), op.i32(1))),
    ...body,
    ...op.ltS(lo, op.get(i)), 0x0d, 0, // continue while i > lo
    0x0b, 0x0b,
  ];
}

export interface FunctionDef {
  name: string;
  params: ValType[];
  /** Extra locals after the params. */
  locals: ValType[];
  result?: ValType;
  body: Code;
}

/** A function the module imports from `env` (they take the first function indices). */
export interface ImportDef {
  name: string;
  params: ValType[];
  result?: ValType;
}

/**
 * A module that imports one shared memory (env.mem, up to `maxPages`) and the functions in
 * `imports`, and exports the functions in `fns` (function i of fns has index imports.length + i).
 */
export function assemble(fns: readonly FunctionDef[], maxPages: number, imports: readonly ImportDef[] = []): Uint8Array {
  const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
  const str = (s: string): Code => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];
  const sig = (f: { params: ValType[]; result?: ValType }): Code => [0x60, ...vec(f.params.map((p) => [typeByte(p)])), ...(f.result ? [1, typeByte(f.result)] : [0])];
  const types = [...imports.map(sig), ...fns.map(sig)];
  // limits 0x03: shared, with a maximum (threads proposal, in V8 since 2019)
  const memImport = [...str('env'), ...str('mem'), 0x02, 0x03, ...uleb(1), ...uleb(maxPages)];
  const fnImports = imports.map((f, i) => [...str('env'), ...str(f.name), 0x00, ...uleb(i)]);
  const m = imports.length;
  const bodies = fns.map((f) => {
    // One run per local (simple and valid: runs of 1).
    const decl = vec(f.locals.map((t) => [1, typeByte(t)]));
    const code = [...decl, ...f.body, 0x0b];
    return [...uleb(code.length), ...code];
  });
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec(types)),
    ...section(2, vec([memImport, ...fnImports])),
    ...section(3, vec(fns.map((_, i) => uleb(m + i)))),
    ...section(7, vec(fns.map((f, i) => [...str(f.name), 0x00, ...uleb(m + i)]))),
    ...section(10, vec(bodies)),
  ];
  return new Uint8Array(bytes);
}
