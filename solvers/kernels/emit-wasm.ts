/**
 * WebAssembly from a kernel description (solvers/kernels/describe.ts), through the in-house
 * assembler (solvers/exec/assemble.ts): the interior loop only, over arrays passed as byte
 * addresses in the arena's memory. Each expression node becomes the one instruction JavaScript
 * would execute for it, in the same order, so the two give the same bits
 * (test/wasm-kernels.test.ts); V8 runs these 2.5–3× faster than the JavaScript loops, whose
 * typed-array accesses each reload base and length (docs/performance.md).
 */
import { loop, op, type Code, type FunctionDef, type ValType } from '../exec/assemble.js';
import { carried, scatterCarried, wasmSignature, windows, type Expr, type KernelDesc, type Offset } from './describe.js';

const fmin = (a: Code, b: Code): Code => [...a, ...b, 0xa4];
const fmax = (a: Code, b: Code): Code => [...a, ...b, 0xa5];

export function emitWasm(d: KernelDesc): FunctionDef {
  const sig = wasmSignature(d);
  const l: Record<string, number> = {};
  const names = [...sig.i32, ...sig.f64];
  names.forEach((n, k) => (l[n] = k));
  const locals: ValType[] = [];
  const addLocal = (n: string, t: ValType): number => {
    if (n in l) throw new Error(`kernel ${d.name}: name ${n} used twice`);
    l[n] = names.length + locals.length;
    locals.push(t);
    return l[n];
  };
  const I = addLocal('$i', 'i32');
  const P = addLocal('$P', 'i32');
  const carry = carried(d);
  const prev = carry ? addLocal('$prev', 'f64') : -1;
  const acc = d.reduce ? addLocal('$acc', 'f64') : -1;
  for (const s of d.body) if (s.k === 'let') addLocal(s.name, 'f64');
  const sc = scatterCarried(d);
  const J = sc ? addLocal('$J', 'i32') : -1;
  const Jn = sc ? addLocal('$Jn', 'i32') : -1;
  const S = sc ? addLocal('$S', 'f64') : -1;
  // Sliding windows (see windows()): one local per offset, the newest loaded per cell.
  const win = new Map<string, { lo: number; hi: number; local: Map<number, number> }>();
  for (const [arr, [lo, hi]] of windows(d)) {
    const local = new Map<number, number>();
    for (let o = lo; o <= hi; o++) local.set(o, addLocal(`$W_${arr}_${o + 1}`, 'f64'));
    win.set(arr, { lo, hi, local });
  }
  // Strides arrive in cells; each gets a local holding it in bytes, set once before the loop.
  const strideLocals = new Map<string, number>();
  for (const s of d.strides ?? []) strideLocals.set(s, addLocal(`$S_${s}`, 'i32'));
  const get = (n: string): Code => {
    if (!(n in l)) throw new Error(`kernel ${d.name}: unknown name ${n}`);
    return op.get(l[n]);
  };
  const base = (arr: string): Code => op.add(get(arr), op.get(P));
  const addr = (arr: string, off: Offset): Code => {
    if (typeof off === 'number') return base(arr);
    const s = strideLocals.get(off.slice(1));
    if (s === undefined) throw new Error(`kernel ${d.name}: ${off.slice(1)} is not a stride`);
    return (off[0] === '+' ? op.add : op.sub)(base(arr), op.get(s));
  };
  const load = (arr: string, off: Offset): Code => {
    if (typeof off !== 'number') return op.load(addr(arr, off));
    return off >= 0 ? op.load(base(arr), 8 * off) : op.load(op.sub(base(arr), op.i32(-8 * off)));
  };
  const index = (idx: string): Code => op.loadI32(op.add(get(idx), op.shl(op.get(I), op.i32(2))));
  const behind = d.backward ? 1 : -1;
  const ex = (e: Expr): Code => {
    switch (e.k) {
      case 'read': {
        if (carry && e.arr === carry && e.off === behind) return op.get(prev);
        const w = typeof e.off === 'number' ? win.get(e.arr)?.local.get(e.off) : undefined;
        return w !== undefined ? op.get(w) : load(e.arr, e.off);
      }
      case 'gather':
        return op.load(op.add(get(e.arr), op.shl(index(e.idx), op.i32(3))));
      case 'param':
      case 'local':
        return get(e.name);
      case 'lit':
        return op.f64(e.v);
      case 'abs':
        return op.fabs(ex(e.a));
      case 'bin': {
        const f = { '+': op.fadd, '-': op.fsub, '*': op.fmul, '/': op.fdiv, min: fmin, max: fmax }[e.op];
        return f(ex(e.a), ex(e.b));
      }
    }
  };
  const body: Code = [...op.set(P, op.shl(op.get(I), op.i32(3)))];
  // The window's newest value enters; the others were loaded by earlier cells (or the prologue).
  for (const [arr, w] of win) {
    const o = d.backward ? w.lo : w.hi;
    body.push(...op.set(w.local.get(o) as number, load(arr, o)));
  }
  for (const s of d.body) {
    if (s.k === 'let') body.push(...op.set(l[s.name], ex(s.v)));
    else if (s.k === 'store') body.push(...op.store(base(s.arr), s.arr === carry ? op.tee(prev, ex(s.v)) : ex(s.v)));
    else if (sc) {
      // The target's running sum stays in a local while the index repeats (see scatterCarried).
      const at = (j: number): Code => op.add(get(s.arr), op.shl(op.get(j), op.i32(3)));
      body.push(...op.set(Jn, index(s.idx)));
      body.push(...op.when(op.ne(op.get(Jn), op.get(J)), [...op.when(op.geS(op.get(J), op.i32(0)), op.store(at(J), op.get(S))), ...op.set(J, op.get(Jn)), ...op.set(S, op.load(at(Jn)))]));
      body.push(...op.set(S, op.fadd(op.get(S), ex(s.v))));
    } else {
      const a = op.add(get(s.arr), op.shl(index(s.idx), op.i32(3)));
      body.push(...op.store(a, op.fadd(op.load(a), ex(s.v))));
    }
  }
  if (d.reduce) {
    const f = { sum: op.fadd, min: fmin, max: fmax }[d.reduce.op];
    body.push(...op.set(acc, f(op.get(acc), ex(d.reduce.v))));
  }
  // Slide: the next cell's offset o is this cell's o + 1 (forward) or o − 1 (backward).
  for (const w of win.values()) {
    if (d.backward) for (let o = w.hi; o > w.lo; o--) body.push(...op.set(w.local.get(o) as number, op.get(w.local.get(o - 1) as number)));
    else for (let o = w.lo; o < w.hi; o++) body.push(...op.set(w.local.get(o) as number, op.get(w.local.get(o + 1) as number)));
  }
  const prologue: Code = [];
  for (const [s, k] of strideLocals) prologue.push(...op.set(k, op.shl(get(s), op.i32(3))));
  if (d.reduce) prologue.push(...op.set(acc, op.f64(d.reduce.op === 'sum' ? 0 : d.reduce.op === 'min' ? Infinity : -Infinity)));
  if (carry) {
    const at = d.backward ? get('hi') : op.sub(get('lo'), op.i32(1));
    // Read only when the range is not empty (x[lo − 1] may not exist otherwise).
    prologue.push(...op.when(op.ltS(get('lo'), get('hi')), op.set(prev, op.load(op.add(get(carry), op.shl(at, op.i32(3)))))));
  }
  if (sc) prologue.push(...op.set(J, op.i32(-1)));
  if (win.size) {
    // The first cell's older offsets (lo, or hi − 1 going backward); only for a non-empty range,
    // whose reads the caller guarantees stay in the arrays.
    const first = d.backward ? op.sub(get('hi'), op.i32(1)) : get('lo');
    const pre: Code = [];
    for (const [arr, w] of win) {
      for (let o = w.lo; o <= w.hi; o++) {
        if (o === (d.backward ? w.lo : w.hi)) continue;
        const a = op.add(get(arr), op.shl(first, op.i32(3)));
        pre.push(...op.set(w.local.get(o) as number, o >= 0 ? op.load(a, 8 * o) : op.load(op.sub(a, op.i32(-8 * o)))));
      }
    }
    prologue.push(...op.when(op.ltS(get('lo'), get('hi')), pre));
  }
  const flush: Code = sc ? op.when(op.geS(op.get(J), op.i32(0)), op.store(op.add(get(sc), op.shl(op.get(J), op.i32(3))), op.get(S))) : [];
  const code = [...prologue, ...loop(I, get('lo'), get('hi'), body, d.backward), ...flush];
  return {
    name: d.name,
    params: [...sig.i32.map((): ValType => 'i32'), ...sig.f64.map((): ValType => 'f64')],
    locals,
    result: 'f64',
    body: [...code, ...(d.reduce ? op.get(acc) : op.f64(0))],
  };
}
