/** Small float64 vector kernels shared by the integrators and solvers. */

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function sum(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

export function norm1(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}

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
