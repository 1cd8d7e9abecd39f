import { arenaFloat64, arenaInt32, type ArenaLease } from './exec/arena.js';
export { ArenaLease } from './exec/arena.js';
// The arena instantiates the kernel module this provides: it must be known before the first array.
import './kernels/wasm-module.js';

/**
 * Grid-sized arrays live in shared memory so that kernel threads (solvers/exec/team.ts) can
 * work on them in place, and in the WebAssembly arena (solvers/exec/arena.ts) when it can hold
 * them, so that the WebAssembly kernels can too. Element access from JavaScript costs the same
 * either way (measured in V8 11.3), so every grid-sized array of the operator, the multigrid
 * hierarchy and the CPU backend is allocated here whether or not threads or WebAssembly are used.
 */
export function sharedFloat64(n: number, lease?: ArenaLease): Float64Array {
  return arenaFloat64(n, lease) ?? new Float64Array(new SharedArrayBuffer(8 * n));
}

export function sharedInt32(n: number, lease?: ArenaLease): Int32Array {
  return arenaInt32(n, lease) ?? new Int32Array(new SharedArrayBuffer(4 * n));
}
