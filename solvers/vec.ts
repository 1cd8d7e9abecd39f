/**
 * Small float64 vector kernels shared by the integrators and solvers. The sums are the registry's
 * generated reductions (solvers/kernels/stencils.ts: dot, sum, norm1) over the whole range: one
 * sequential accumulation, as WebAssembly when the arrays lie in the arena, with the same bits as
 * the JavaScript loop.
 */
import { rangeKernel } from './kernels/registry.js';

const NO_INTS: readonly Int32Array[] = [];
const NONE: readonly number[] = [];

export function dot(a: Float64Array, b: Float64Array): number {
  return rangeKernel('dot')([a, b], NO_INTS, NONE, 0, a.length);
}

export function sum(a: Float64Array): number {
  return rangeKernel('sum')([a], NO_INTS, NONE, 0, a.length);
}

export function norm1(a: Float64Array): number {
  return rangeKernel('norm1')([a], NO_INTS, NONE, 0, a.length);
}

/**
 * min and max skip NaN (a NaN entry never compares smaller): the generated minimum/maximum
 * propagate it (Math.min, f64.min), which the callers' health checks do not expect, so these stay
 * as written here.
 */
export function min(a: Float64Array): number {
  let m = Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] < m) m = a[i];
  return m;
}

export function max(a: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}

/**
 * Rescales a to the given sum. Every integrator conserves Σρ exactly in exact arithmetic; this
 * removes the O(ε) round-off each step adds so that it cannot accumulate over 10⁴ steps.
 * The factor differs from 1 by round-off only, so positivity and accuracy are untouched.
 */
export function restoreSum(a: Float64Array, target: number): void {
  const s = sum(a);
  if (s === 0 || !Number.isFinite(s) || s === target) return;
  const k = target / s;
  if (Math.abs(k - 1) > 1e-8) return; // not round-off: leave it for the health check to report
  for (let i = 0; i < a.length; i++) a[i] *= k;
}
