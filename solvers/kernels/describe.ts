/**
 * The kernel description: every grid-sized loop of the CPU backend written once, as data, from
 * which solvers/kernels/emit-js.ts and emit-wasm.ts generate the JavaScript and WebAssembly
 * loops (docs/design.md §2 for the stencils themselves).
 *
 * A kernel runs its statements for each cell i of a range [lo, hi), in index order (or backwards).
 * Expressions read named f64 arrays at i + offset (a literal, or ± a named stride parameter),
 * gather through an i32 index array, and combine scalars with + − × ÷, min, max, |·|. The tree
 * fixes the order of evaluation, so every emitter rounds the same way: same bits.
 *
 * Walls: faces on upper walls carry zero weights, so a read across a row's end contributes
 * 0 · (finite value). Only the cells within one largest offset of either end of the array can
 * read outside it; the emitters give those cells a checked variant whose out-of-range reads are 0,
 * and the interior an unchecked one with no branches.
 */

/** An offset from the cell: a literal number of cells, or `+name` / `-name` for a stride parameter. */
export type Offset = number | `+${string}` | `-${string}`;

export type Expr =
  | { k: 'read'; arr: string; off: Offset }
  | { k: 'gather'; arr: string; idx: string }
  | { k: 'param'; name: string }
  | { k: 'local'; name: string }
  | { k: 'lit'; v: number }
  | { k: 'bin'; op: '+' | '-' | '*' | '/' | 'min' | 'max'; a: Expr; b: Expr }
  | { k: 'abs'; a: Expr };

export type Stmt =
  /** A local scalar for the rest of this cell's statements. */
  | { k: 'let'; name: string; v: Expr }
  /** arr[i] = v (later reads of arr[i] in the cell see it). */
  | { k: 'store'; arr: string; v: Expr }
  /** arr[idx[i]] += v (restriction onto coarse cells). */
  | { k: 'scatterAdd'; arr: string; idx: string; v: Expr };

export interface KernelDesc {
  /** Unique name: the WebAssembly export and the thread-table key. */
  name: string;
  /** f64 arrays, in the order callers pass them. */
  arrays: string[];
  /** i32 index arrays, in the order callers pass them. */
  ints?: string[];
  /** Scalar parameters in the order callers pass them; strides and `size` are among them. */
  params: string[];
  /** Parameters that are strides (cell counts, i32 in WebAssembly). */
  strides?: string[];
  /** The parameter holding the array length, needed when any read has an offset. */
  size?: string;
  body: Stmt[];
  /** A reduction over the range, returned as the kernel's partial result (else 0); min/max start at ±∞. */
  reduce?: { op: 'sum' | 'min' | 'max'; v: Expr };
  /** Cells in decreasing order (a backward Gauss–Seidel sweep). */
  backward?: boolean;
}

// Builders, so that descriptions read like the formulas.
export const rd = (arr: string, off: Offset = 0): Expr => ({ k: 'read', arr, off });
export const gather = (arr: string, idx: string): Expr => ({ k: 'gather', arr, idx });
export const par = (name: string): Expr => ({ k: 'param', name });
export const loc = (name: string): Expr => ({ k: 'local', name });
export const lit = (v: number): Expr => ({ k: 'lit', v });
const bin = (op: '+' | '-' | '*' | '/' | 'min' | 'max') => (a: Expr, b: Expr): Expr => ({ k: 'bin', op, a, b });
export const add = bin('+');
export const sub = bin('-');
export const mul = bin('*');
export const div = bin('/');
export const min = bin('min');
export const max = bin('max');
export const abs = (a: Expr): Expr => ({ k: 'abs', a });
/** Left to right, as JavaScript evaluates a + b + c (rounding order matters). */
export const sum = (...xs: Expr[]): Expr => xs.slice(1).reduce(add, xs[0]);
export const prod = (...xs: Expr[]): Expr => xs.slice(1).reduce(mul, xs[0]);
export const store = (arr: string, v: Expr): Stmt => ({ k: 'store', arr, v });
export const scatterAdd = (arr: string, idx: string, v: Expr): Stmt => ({ k: 'scatterAdd', arr, idx, v });
export const let_ = (name: string, v: Expr): Stmt => ({ k: 'let', name, v });

/** Every read of a kernel, for the emitters' reach and carry analysis. */
export function reads(d: KernelDesc): { arr: string; off: Offset }[] {
  const out: { arr: string; off: Offset }[] = [];
  const walk = (e: Expr): void => {
    if (e.k === 'read') out.push({ arr: e.arr, off: e.off });
    else if (e.k === 'bin') {
      walk(e.a);
      walk(e.b);
    } else if (e.k === 'abs') walk(e.a);
  };
  for (const s of d.body) walk(s.v);
  if (d.reduce) walk(d.reduce.v);
  return out;
}

/**
 * The arrays a kernel stores to in place and reads one cell behind the sweep (x[i − 1] going
 * forward): the value just computed, which emitters may carry in a local instead of reloading.
 */
export function carried(d: KernelDesc): string | null {
  const behind = d.backward ? 1 : -1;
  const stored = d.body.filter((s) => s.k === 'store').map((s) => s.arr);
  if (stored.length !== 1) return null;
  return reads(d).some((r) => r.arr === stored[0] && r.off === behind) ? stored[0] : null;
}

/**
 * The target of a kernel's one scatter-add when emitters may keep its running sum in a local
 * while consecutive cells hit the same index (an aggregate's cells along the innermost axis):
 * a store and a reload per cell become one per run of equal indices, and the store-to-load
 * chain through memory goes. The additions happen in the same order, so the bits do not change.
 * Null when the kernel has several scatters or reads its target.
 */
export function scatterCarried(d: KernelDesc): string | null {
  const sc = d.body.filter((s) => s.k === 'scatterAdd');
  if (sc.length !== 1 || d.body.length !== 1) return null;
  const target = sc[0].arr;
  const gathers: string[] = [];
  const walk = (e: Expr): void => {
    if (e.k === 'gather') gathers.push(e.arr);
    else if (e.k === 'bin') {
      walk(e.a);
      walk(e.b);
    } else if (e.k === 'abs') walk(e.a);
  };
  walk(sc[0].v);
  if (d.reduce) walk(d.reduce.v);
  return reads(d).some((r) => r.arr === target) || gathers.includes(target) ? null : target;
}

/**
 * Arrays a kernel reads at two or more literal offsets within −1 … 1 and never stores to: an
 * emitter may keep the values in locals that slide with the cell (the value read at i + 1 is the
 * next cell's i and the one after's i − 1), loading one value per array per cell instead of up
 * to three. The values are the same loads, so the bits do not change. Arrays the kernel writes
 * (through a store or a scatter) are left out: a slid value could be stale.
 */
export function windows(d: KernelDesc): Map<string, [number, number]> {
  const written = new Set(d.body.filter((s) => s.k !== 'let').map((s) => s.arr as string));
  const offs = new Map<string, Set<number>>();
  for (const r of reads(d)) {
    if (typeof r.off !== 'number' || r.off < -1 || r.off > 1 || written.has(r.arr)) continue;
    const set = offs.get(r.arr) ?? new Set<number>();
    set.add(r.off);
    offs.set(r.arr, set);
  }
  const out = new Map<string, [number, number]>();
  for (const [arr, set] of offs) if (set.size >= 2) out.set(arr, [Math.min(...set), Math.max(...set)]);
  return out;
}

/** The WebAssembly export's arguments: array addresses, strides, lo, hi, then the f64 scalars. */
export function wasmSignature(d: KernelDesc): { i32: string[]; f64: string[] } {
  const strides = d.strides ?? [];
  return { i32: [...d.arrays, ...(d.ints ?? []), ...strides, 'lo', 'hi'], f64: d.params.filter((p) => !strides.includes(p) && p !== d.size) };
}
