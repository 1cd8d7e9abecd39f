/**
 * The eigen-solve's basis sweeps as kernels of the thread team (solvers/exec/team.ts), registered
 * in solvers/range-kernels.ts: at 512² the Gram–Schmidt passes, the Ritz matrix's rows and the Ritz
 * combinations took as much of the main thread as the CG iterations, while the team's other
 * threads waited. Each has the team's kernel shape (arrays, ints, params, lo, hi) over a range of
 * cells (or faces).
 *
 * Bits: a combination updates each entry with the groups of four in the order of the sequential
 * addCombinationRange (solvers/eigen/shift-invert.ts), so any split gives its bits. A dot product is
 * summed per block in index order and the blocks are added in block order: the team's blocks are
 * fixed (KERNEL_BLOCKS whatever the thread count), so 1 and 2 threads give the same bits, which
 * differ from the sequential sweep's in the last place.
 */

import { wasmKernels } from './kernels/wasm-module.js';

/** Basis vectors per dot-product dispatch (arrays: x, out and these; the team passes at most 16). */
export const DOTS_PER_DISPATCH = 8;
/** Basis vectors per combination dispatch (params: the count and one coefficient each; at most 16). */
export const COMBINE_PER_DISPATCH = 12;
/** Slots per block in the partial-sum array: DOTS_PER_DISPATCH sums and ‖x‖². */
export const DOT_SLOTS = DOTS_PER_DISPATCH + 1;

/**
 * arrays [x, out, q_0 … q_{g−1}], params [g, withNorm, e_0 … e_B] (the team's block edges):
 * out[b·DOT_SLOTS + l] = Σ_{lo ≤ i < hi} x_i q_l[i] for the block b that starts at lo, and with
 * withNorm also out[b·DOT_SLOTS + DOTS_PER_DISPATCH] = Σ x_i². Returns 0 (the sums are in out).
 */
export function eigenDots(a: readonly Float64Array[], _ints: readonly Int32Array[], p: readonly number[], lo: number, hi: number): number {
  const g = p[0];
  // Empty blocks (fewer cells than blocks) share their edges: they have nothing to add, and the
  // caller zeroes the sums before each dispatch.
  if (hi <= lo) return 0;
  const blocks = p.length - 3;
  let b = 0;
  while (b < blocks && !(p[2 + b] === lo && p[3 + b] === hi)) b++;
  if (b === blocks) throw new Error(`eigenDots: [${lo}, ${hi}) is not one of the team's blocks`);
  const out = a[1];
  const base = b * DOT_SLOTS;
  const qs = a.slice(2, 2 + g);
  out.fill(0, base, base + g);
  const xx = dotsInto(a[0], qs, out, base, lo, hi);
  if (p[1]) out[base + DOTS_PER_DISPATCH] = xx;
  return 0;
}

/**
 * out[at + l] += Σ_{lo ≤ i < hi} x_i q_l[i] for every l; returns Σ x_i². WebAssembly (basisDots4)
 * for each whole group of four when every array is an arena view, else accumulateCoefficients:
 * the same sums in the same order, so the same bits.
 */
export function dotsInto(x: Float64Array, qs: readonly Float64Array[], out: Float64Array, at: number, lo: number, hi: number): number {
  const m = qs.length;
  const w = m >= 4 ? wasmKernels(x, out, ...qs) : null;
  if (!w) return accumulateCoefficients(x, qs, out.subarray(at, at + m), lo, hi, 0);
  let xx = 0;
  for (let l = 0; l < m; l += 4) {
    if (l + 4 <= m) {
      const r = w.basisDots4(x.byteOffset, qs[l].byteOffset, qs[l + 1].byteOffset, qs[l + 2].byteOffset, qs[l + 3].byteOffset, out.byteOffset + 8 * (at + l), lo, hi, 0);
      if (l === 0) xx = r;
    } else {
      accumulateCoefficients(x, qs.slice(l), out.subarray(at + l, at + m), lo, hi, 0);
    }
  }
  return xx;
}

/**
 * arrays [out, q_0 … q_{g−1}], params [g, c_0 … c_{g−1}]: out += Σ c_l q_l, four per pass in the
 * grouping of the sequential addCombinationRange (a missing slot repeats the last vector with
 * coefficient 0, as there). Returns 0.
 */
export function eigenCombine(a: readonly Float64Array[], _ints: readonly Int32Array[], p: readonly number[], lo: number, hi: number): number {
  const g = p[0];
  addCombinationRange(a[0], a.slice(1, 1 + g), p.slice(1, 1 + g), 1, lo, hi);
  return 0;
}

/**
 * arrays [v, y, √fwd_0, √bwd_0, √fwd_1, √bwd_1, …], params [n, dim, stride_0, …] over the faces
 * [lo, hi) of y = G v (axis k's faces at [k·n, (k+1)·n)): DirichletForm.grad's expression per face,
 * its bits for any split. Returns 0.
 */
export function eigenGrad(a: readonly Float64Array[], _ints: readonly Int32Array[], p: readonly number[], lo: number, hi: number): number {
  const n = p[0];
  const dim = p[1];
  const v = a[0];
  const y = a[1];
  for (let k = 0; k < dim; k++) {
    const off = k * n;
    const from = Math.max(lo, off);
    const to = Math.min(hi, off + n);
    if (from >= to) continue;
    const stride = p[2 + k];
    const sf = a[2 + 2 * k];
    const sb = a[3 + 2 * k];
    const last = off + n - stride;
    const mid = Math.min(to, last);
    for (let f = from; f < mid; f++) {
      const i = f - off;
      y[f] = sf[i] * v[i] - sb[i] * v[i + stride];
    }
    for (let f = Math.max(from, last); f < to; f++) y[f] = 0;
  }
  return 0;
}

/** c_l += Σ_{lo ≤ i < hi} x_i q_l[i], four basis vectors per pass over the range; returns xx + Σ x_i². */
export function accumulateCoefficients(x: Float64Array, qs: readonly Float64Array[], c: Float64Array, lo: number, hi: number, xx: number): number {
  const m = qs.length;
  let sxx = xx;
  for (let l = 0; l < m; l += 4) {
    const q0 = qs[l];
    const q1 = qs[Math.min(l + 1, m - 1)];
    const q2 = qs[Math.min(l + 2, m - 1)];
    const q3 = qs[Math.min(l + 3, m - 1)];
    let s0 = c[l];
    let s1 = l + 1 < m ? c[l + 1] : 0;
    let s2 = l + 2 < m ? c[l + 2] : 0;
    let s3 = l + 3 < m ? c[l + 3] : 0;
    if (l === 0) {
      for (let i = lo; i < hi; i++) {
        const xi = x[i];
        sxx += xi * xi;
        s0 += xi * q0[i];
        s1 += xi * q1[i];
        s2 += xi * q2[i];
        s3 += xi * q3[i];
      }
    } else {
      for (let i = lo; i < hi; i++) {
        const xi = x[i];
        s0 += xi * q0[i];
        s1 += xi * q1[i];
        s2 += xi * q2[i];
        s3 += xi * q3[i];
      }
    }
    c[l] = s0;
    if (l + 1 < m) c[l + 1] = s1;
    if (l + 2 < m) c[l + 2] = s2;
    if (l + 3 < m) c[l + 3] = s3;
  }
  return sxx;
}

/** out += sign·Σ c_l Q_l on the cells [lo, hi), four basis vectors per pass (the sequential sweep and eigenCombine). */
export function addCombinationRange(out: Float64Array, Q: readonly Float64Array[], c: ArrayLike<number>, sign: 1 | -1, lo: number, hi: number): void {
  const m = Q.length;
  // The same expression as WebAssembly (basisCombine4) when every array is an arena view: same bits.
  const w = m > 0 && hi > lo ? wasmKernels(out, ...Q) : null;
  for (let l = 0; l < m; l += 4) {
    if (w) {
      const q0 = Q[l];
      const q1 = Q[Math.min(l + 1, m - 1)];
      const q2 = Q[Math.min(l + 2, m - 1)];
      const q3 = Q[Math.min(l + 3, m - 1)];
      const c1 = l + 1 < m ? sign * c[l + 1] : 0;
      const c2 = l + 2 < m ? sign * c[l + 2] : 0;
      const c3 = l + 3 < m ? sign * c[l + 3] : 0;
      w.basisCombine4(out.byteOffset, q0.byteOffset, q1.byteOffset, q2.byteOffset, q3.byteOffset, lo, hi, sign * c[l], c1, c2, c3);
      continue;
    }
    const q0 = Q[l];
    const q1 = Q[Math.min(l + 1, m - 1)];
    const q2 = Q[Math.min(l + 2, m - 1)];
    const q3 = Q[Math.min(l + 3, m - 1)];
    const c0 = sign * c[l];
    const c1 = l + 1 < m ? sign * c[l + 1] : 0;
    const c2 = l + 2 < m ? sign * c[l + 2] : 0;
    const c3 = l + 3 < m ? sign * c[l + 3] : 0;
    for (let i = lo; i < hi; i++) out[i] += c0 * q0[i] + c1 * q1[i] + c2 * q2[i] + c3 * q3[i];
  }
}
