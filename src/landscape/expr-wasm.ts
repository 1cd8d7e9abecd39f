import { assemble, loop, op, type Code, type ImportDef } from '../../solvers/exec/assemble.js';
import { arenaAddress, arenaMemory, MAX_PAGES, wasmKernelsEnabled } from '../../solvers/exec/arena.js';
import { countParents, type IR } from './ir.js';

/**
 * A landscape expression's IR compiled to one WebAssembly loop over points, for evalPoints on
 * arrays in the arena (solvers/exec/arena.ts). The vectorized closures of expr.ts evaluate the
 * same operations per point, and each is the same IEEE operation here (+ − × ÷, negation,
 * √, |·|, floor, ceil natively; every other function through the very Math function the closures
 * call), so both give the same bits (test/expr-wasm.test.ts). Why: the problem's cell and face
 * quadrature evaluates f 15 times per cell once per run, and the closures spend most of that
 * waiting for V8 to optimize them; this loop is fast at once. The IR is the validated grammar of
 * expr.ts (numbers, variables, whitelisted functions): nothing of the scenario runs as code.
 */

/** Math functions the closures call, imported under the same names. */
const IMPORTED_UNARY: Readonly<Record<string, (v: number) => number>> = {
  sin: Math.sin, cos: Math.cos, tan: Math.tan, asin: Math.asin, acos: Math.acos, atan: Math.atan,
  sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh, exp: Math.exp, log: Math.log, log10: Math.log10,
  log2: Math.log2, log1p: Math.log1p, expm1: Math.expm1, cbrt: Math.cbrt, sign: Math.sign,
};
const IMPORTED_BINARY: Readonly<Record<string, (a: number, b: number) => number>> = { pow: Math.pow, atan2: Math.atan2, min: Math.min, max: Math.max };

export type WasmPointFunction = (coords: readonly Float64Array[], out: Float64Array) => boolean;

/**
 * evalPoints as WebAssembly, or null where it cannot run (no arena, kernels disabled). The
 * returned function answers false when its arrays are not in the arena: the caller then runs
 * the closures.
 */
export function compileWasmPoints(ir: IR, dim: number): WasmPointFunction | null {
  const memory = arenaMemory();
  if (!memory || !wasmKernelsEnabled() || ir.k === 'num') return null;
  const imports: ImportDef[] = [];
  const importFns: Record<string, (...a: number[]) => number> = {};
  const importIndex = new Map<string, number>();
  const callee = (name: string, arity: 1 | 2): number => {
    let i = importIndex.get(name);
    if (i === undefined) {
      i = imports.length;
      imports.push({ name, params: arity === 1 ? ['f64'] : ['f64', 'f64'], result: 'f64' });
      importFns[name] = arity === 1 ? IMPORTED_UNARY[name] : IMPORTED_BINARY[name];
      importIndex.set(name, i);
    }
    return i;
  };
  // params: c0, c1, c2 (addresses), out, n; locals: i, P, then one f64 per shared node
  const L = { out: 3, n: 4, i: 5, P: 6 };
  const locals: ('i32' | 'f64')[] = ['i32', 'i32'];
  const parents = countParents(ir); // a node used twice is computed once per point, in a local
  const sharedLocal = new Map<IR, number>();
  const gen = (e: IR): Code => {
    const known = sharedLocal.get(e);
    if (known !== undefined) return op.get(known);
    const code = genNode(e);
    if ((parents.get(e) ?? 0) > 1 && e.k !== 'num' && e.k !== 'var') {
      const l = 5 + locals.length;
      locals.push('f64');
      sharedLocal.set(e, l);
      return op.tee(l, code);
    }
    return code;
  };
  const genNode = (e: IR): Code => {
    switch (e.k) {
      case 'num':
        return op.f64(e.v);
      case 'var':
        return op.load(op.add(op.get(e.i), op.get(L.P)));
      case 'neg':
        return op.fneg(gen(e.a));
      case 'un': {
        const a = gen(e.a);
        switch (e.f) {
          case 'sqrt':
            return op.fsqrt(a);
          case 'abs':
            return op.fabs(a);
          case 'floor':
            return op.ffloor(a);
          case 'ceil':
            return op.fceil(a);
          case 'sigmoid': // 1 / (1 + exp(−v)), as the closure computes it
            return op.fdiv(op.f64(1), op.fadd(op.f64(1), op.call(callee('exp', 1), op.fneg(a))));
          default:
            return op.call(callee(e.f, 1), a);
        }
      }
      case 'bin': {
        if (e.op === 'pow' && e.b.k === 'num' && (e.b.v === 2 || e.b.v === 3) && e.a.k !== 'num') {
          // the closures' SQUARE and CUBE: v·v and v·v·v through a local
          const l = 5 + locals.length;
          locals.push('f64');
          const v = op.tee(l, gen(e.a));
          return e.b.v === 2 ? op.fmul(v, op.get(l)) : op.fmul(op.fmul(v, op.get(l)), op.get(l));
        }
        const a = gen(e.a);
        const b = gen(e.b);
        switch (e.op) {
          case 'add':
            return op.fadd(a, b);
          case 'sub':
            return op.fsub(a, b);
          case 'mul':
            return op.fmul(a, b);
          case 'div':
            return op.fdiv(a, b);
          default:
            return op.call(callee(e.op, 2), a, b);
        }
      }
    }
  };
  const expr = gen(ir);
  const body = loop(L.i, op.i32(0), op.get(L.n), [...op.set(L.P, op.shl(op.get(L.i), op.i32(3))), ...op.store(op.add(op.get(L.out), op.get(L.P)), expr)]);
  let run: (c0: number, c1: number, c2: number, out: number, n: number) => void;
  try {
    const bytes = assemble([{ name: 'points', params: ['i32', 'i32', 'i32', 'i32', 'i32'], locals, body }], MAX_PAGES, imports);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: memory, ...importFns } });
    run = inst.exports.points as typeof run;
  } catch {
    return null;
  }
  return (coords, out) => {
    const o = arenaAddress(out);
    if (o === null) return false;
    const addr = [0, 0, 0];
    for (let k = 0; k < dim; k++) {
      const a = arenaAddress(coords[k]!);
      if (a === null) return false;
      addr[k] = a;
    }
    run(addr[0], addr[1], addr[2], o, out.length);
    return true;
  };
}
