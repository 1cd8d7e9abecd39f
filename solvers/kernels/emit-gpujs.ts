/**
 * gpu.js kernel sources from a kernel description (solvers/kernels/describe.ts): a map kernel
 * (one store per cell) becomes `function (args) { const i = this.thread.x; return value; }`, a
 * reduction becomes partial results over rows of L contiguous cells (the host adds the rows in
 * float64). A GPU thread per cell has no interior loop to split off, so every read that may leave
 * the array is guarded (a ternary giving 0.0); faces on upper walls carry zero weights, so these
 * are the only checks.
 *
 * `Binding` says where each named array and parameter lives on the device: the gpu.js backend
 * packs the operator's coefficients per cell, so that no kernel binds more than 6 buffers
 * (solvers/backend/gpujs.ts).
 */
import type { Expr, KernelDesc, Offset } from './describe.js';

export interface Binding {
  /** The kernel function's argument list, in the order the backend passes them. */
  args: string[];
  /** Per array: the source reading element `idx` (an integer expression). */
  arrays: Record<string, (idx: string) => string>;
  /** Per parameter: its source (an argument or this.constants.*). */
  params: Record<string, string>;
}

const offText = (off: Offset, params: Record<string, string>): string => {
  if (typeof off === 'number') return off === 0 ? '' : off > 0 ? ` + ${off}` : ` - ${-off}`;
  const p = params[off.slice(1)];
  if (!p) throw new Error(`gpu.js kernel: no binding for stride ${off.slice(1)}`);
  return ` ${off[0]} ${p}`;
};

/** gpu.js types literals by their text: 1.0 is a float, 1 an integer. */
const float = (v: number): string => (Number.isInteger(v) ? v.toFixed(1) : String(v));

function expr(e: Expr, b: Binding, at: string, size: string): string {
  switch (e.k) {
    case 'read': {
      const read = b.arrays[e.arr];
      if (!read) throw new Error(`gpu.js kernel: no binding for array ${e.arr}`);
      const idx = `${at}${offText(e.off, b.params)}`;
      if (e.off === 0) return read(at);
      const neg = typeof e.off === 'number' ? e.off < 0 : e.off[0] === '-';
      return `(${neg ? `${idx} >= 0` : `${idx} < ${size}`} ? ${read(idx)} : 0.0)`;
    }
    case 'param': {
      const p = b.params[e.name];
      if (!p) throw new Error(`gpu.js kernel: no binding for parameter ${e.name}`);
      return p;
    }
    case 'lit':
      return float(e.v);
    case 'abs':
      return `Math.abs(${expr(e.a, b, at, size)})`;
    case 'bin': {
      const x = expr(e.a, b, at, size);
      const y = expr(e.b, b, at, size);
      return e.op === 'min' || e.op === 'max' ? `Math.${e.op}(${x}, ${y})` : `(${x} ${e.op} ${y})`;
    }
    case 'gather': {
      // The index array is bound like any array (the multigrid packs it as float32, exact below
      // 2^24 cells); gpu.js indexes with the value read, so the gather needs no cast.
      const read = b.arrays[e.arr];
      const idx = b.arrays[e.idx];
      if (!read || !idx) throw new Error(`gpu.js kernel: no binding for gather ${e.arr}[${e.idx}]`);
      return read(idx(at));
    }
    case 'local':
      throw new Error(`gpu.js kernel: ${e.k} is not supported`);
  }
}

/** out[i] = the description's one stored value. */
export function gpuMap(d: KernelDesc, b: Binding): string {
  if (d.body.length !== 1 || d.body[0].k !== 'store' || d.reduce) throw new Error(`gpu.js kernel ${d.name}: a map needs exactly one store`);
  return `function (${b.args.join(', ')}) {\nconst i = this.thread.x;\nreturn ${expr(d.body[0].v, b, 'i', 'this.constants.size')};\n}`;
}

/** Row i's partial reduction over cells i·L … i·L + L − 1 (a constant-bounded loop, never truncated). */
export function gpuRowReduce(d: KernelDesc, b: Binding): string {
  if (!d.reduce || d.body.length) throw new Error(`gpu.js kernel ${d.name}: a row reduction needs a reduce and no stores`);
  const v = expr(d.reduce.v, b, 'j', 'this.constants.size');
  // Every row's first cell i·L exists (rows = ⌈size/L⌉), so it seeds a row's extremum.
  const init = d.reduce.op === 'sum' ? '0.0' : expr(d.reduce.v, b, '(i * this.constants.L)', 'this.constants.size');
  const step = d.reduce.op === 'sum' ? `s += ${v};` : `s = Math.${d.reduce.op}(s, ${v});`;
  return `function (${b.args.join(', ')}) {\nconst i = this.thread.x;\nlet s = ${init};\nfor (let k = 0; k < this.constants.L; k++) {\nconst j = i * this.constants.L + k;\nif (j < this.constants.size) { ${step} }\n}\nreturn s;\n}`;
}
