import { bernoulli, symmetricWeight } from './bernoulli.js';
import { rangeKernel } from './registry.js';
import { wasmKernels as wasmFor } from './wasm-module.js';

/**
 * The finite-volume operator's kernels: building its coefficients from ψ and D_σ, and applying
 * A (ρ-form) and S (symmetric form). The operator (solvers/operator.ts) only holds the arrays;
 * this module picks the generated kernel (WebAssembly where every array lies in the arena, else
 * the JavaScript loop: same bits), so numerics never dispatch execution themselves.
 */

/** What the kernels read of an operator: its grid's shape and its coefficient arrays (see FvOperator). */
export interface OperatorCoefficients {
  readonly grid: { readonly dim: number; readonly size: number; readonly strides: readonly number[] };
  readonly fwd: readonly Float64Array[];
  readonly bwd: readonly Float64Array[];
  readonly sym: readonly Float64Array[];
  readonly outflow: Float64Array;
}

/** The arrays of the generated A ρ kernel: [f0, b0, …, −A_ii, ρ, out]. */
export function applyArrays(op: OperatorCoefficients, rho: Float64Array, out: Float64Array): Float64Array[] {
  return [...op.fwd.flatMap((f, k) => [f, op.bwd[k]]), op.outflow, rho, out];
}

/** The generated stencils' parameters: the strides of all axes but the innermost, and the size. */
export function strideParams(op: OperatorCoefficients): number[] {
  return [...op.grid.strides.slice(0, -1), op.grid.size];
}

/**
 * out = A ρ (ρ-form): one fused pass per cell (each face's flux formed from both sides), so
 * each array moves once instead of once per axis (solvers/kernels/stencils.ts, apply).
 */
export function applyA(op: OperatorCoefficients, rho: Float64Array, out: Float64Array): void {
  rangeKernel('apply', op.grid.dim)(applyArrays(op, rho, out), [], strideParams(op), 0, op.grid.size);
}

/** out = S v (symmetric form), one fused pass (solvers/kernels/stencils.ts, symmetric). */
export function applyS(op: OperatorCoefficients, v: Float64Array, out: Float64Array): void {
  rangeKernel('sym', op.grid.dim)([...op.sym, op.outflow, v, out], [], strideParams(op), 0, op.grid.size);
}

/**
 * The face coefficients of one axis, accumulating the out-flow of both cells of each face.
 * Interior faces only: blocks of (n − 1)·stride faces, skipping each block's upper wall. Once per
 * problem, mostly before V8 optimizes it: as WebAssembly where the arrays allow
 * (solvers/kernels/wasm-module.ts, the same branches and order, so the same bits).
 */
export function faceCoefficients(D: Float64Array, psi: Float64Array, fw: Float64Array, bw: Float64Array, sy: Float64Array, outflow: Float64Array, stride: number, n: number, size: number, inv: number): void {
  const kf = wasmFor(D, psi, fw, bw, sy, outflow);
  if (kf) {
    kf.operatorFaces(D.byteOffset, psi.byteOffset, fw.byteOffset, bw.byteOffset, sy.byteOffset, outflow.byteOffset, stride, n, 0, size, inv);
    return;
  }
  for (let outer = 0; outer < size; outer += stride * n) {
    for (let i = outer; i < outer + (n - 1) * stride; i++) {
      const j = i + stride;
      const c = D[i] * inv;
      const z = psi[j] - psi[i];
      // One Bernoulli evaluation per face: B(−a) = a + B(a) is exact and cancellation-free for a ≥ 0.
      const a = Math.abs(z);
      const ba = bernoulli(a);
      const up = c * ba;
      const down = c * (a + ba);
      fw[i] = z >= 0 ? up : down;
      bw[i] = z >= 0 ? down : up;
      // (z/2)/sinh(z/2) = √(B(z)B(−z)); the product underflows only for a ≳ 700.
      sy[i] = a < 600 ? c * Math.sqrt(ba * (a + ba)) : c * symmetricWeight(z);
      outflow[i] += fw[i];
      outflow[j] += bw[i];
    }
  }
}

/** out = √π = e^(−ψ/2) (unnormalized, max 1). */
export function sqrtPiOf(psi: Float64Array, out: Float64Array): void {
  const ks = wasmFor(psi, out);
  if (ks) ks.sqrtPi(psi.byteOffset, out.byteOffset, 0, psi.length);
  else for (let i = 0; i < psi.length; i++) out[i] = Math.exp(-0.5 * psi[i]);
}
