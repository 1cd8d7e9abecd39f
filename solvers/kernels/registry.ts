/**
 * The one table of CPU kernels: every description of solvers/kernels/stencils.ts compiled once
 * per backend, keyed by (operation, dimension, backend). `wasm` runs each kernel's interior as
 * WebAssembly when its arrays lie in the arena (solvers/exec/arena.ts) and WebAssembly kernels
 * are on, and as the generated JavaScript otherwise; `js` always runs the JavaScript. Both give
 * the same bits (one description, one order of operations). Kernel threads look the same
 * kernels up by name (solvers/range-kernels.ts).
 */
import { wasmFor } from '../exec/arena.js';
import './wasm-module.js';
import type { KernelDesc } from './describe.js';
import { emitJs, type JsKernel, type RangeKernel, type WasmLookup } from './emit-js.js';
import { ALL_KERNELS } from './stencils.js';

export type { RangeKernel } from './emit-js.js';
export type KernelBackend = 'js' | 'wasm';

const wasmLookup: WasmLookup = (name, arrays) => {
  const k = wasmFor(...arrays);
  return k ? k[name] : null;
};

const tables: Record<KernelBackend, Map<string, JsKernel>> = { js: new Map(), wasm: new Map() };

function build(backend: KernelBackend): Map<string, JsKernel> {
  const t = tables[backend];
  if (t.size === 0) for (const d of ALL_KERNELS) t.set(d.name, emitJs(d, backend === 'wasm' ? wasmLookup : undefined));
  return t;
}

/** The kernel of an operation (`shifted`, `apply`, …; `dot`, `lincomb`, … with dim null). */
export function kernel(op: string, dim: number | null = null, backend: KernelBackend = 'wasm'): JsKernel {
  const name = dim === null ? op : `${op}${dim}`;
  const k = build(backend).get(name);
  if (!k) throw new Error(`no kernel ${name}`);
  return k;
}

/** The range kernel (checked ends, fast interior) of an operation. */
export function rangeKernel(op: string, dim: number | null = null, backend: KernelBackend = 'wasm'): RangeKernel {
  return kernel(op, dim, backend).range;
}

/** Every description by name (tests check each on every backend). */
export function descriptions(): readonly KernelDesc[] {
  return ALL_KERNELS;
}
