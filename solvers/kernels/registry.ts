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
const byName = new Map(ALL_KERNELS.map((d) => [d.name, d]));

/**
 * The kernel of an operation (`shifted`, `apply`, …; `dot`, `lincomb`, … with dim null), emitted on
 * first use: emitting and compiling all of them cost ~40–100 ms of every process's start-up, and a
 * 1-D run uses a handful (#19.4). Emission is deterministic, so when it happens changes no bit.
 */
export function kernel(op: string, dim: number | null = null, backend: KernelBackend = 'wasm'): JsKernel {
  const name = dim === null ? op : `${op}${dim}`;
  const t = tables[backend];
  let k = t.get(name);
  if (!k) {
    const d = byName.get(name);
    if (!d) throw new Error(`no kernel ${name}`);
    k = emitJs(d, backend === 'wasm' ? wasmLookup : undefined);
    t.set(name, k);
  }
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
