/**
 * Grid-sized arrays live on SharedArrayBuffers so that kernel threads (solvers/backend/team.ts)
 * can work on them in place. Element access costs the same as on an ordinary ArrayBuffer
 * (measured in V8 11.3), so every grid-sized array of the operator, the multigrid hierarchy and
 * the CPU backend is allocated here whether or not threads are used.
 */
export function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(8 * n));
}

export function sharedInt32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}
