/**
 * The CPU backend's grid-sized kernels, each over a range [lo, hi) of cells, so that one source
 * serves the single-threaded path (the whole range) and the kernel threads (a range each,
 * solvers/backend/team.ts). Every kernel has the same shape, (arrays, ints, params, lo, hi) →
 * partial result, so that a thread can run any of them by name from shared memory.
 *
 * Stencil kernels rely on zero weights on upper-wall faces: only cells within the largest stride
 * of either end of the array need bounds checks.
 */
import { interiorSweep } from './multigrid-kernels.js';
import { wasmFor } from './wasm/arena.js';

export type RangeKernel = (a: readonly Float64Array[], ints: readonly Int32Array[], p: readonly number[], lo: number, hi: number) => number;

/** 2-D symmetric stencil value at a cell near an end of the array (bounds checked). */
function symCell2(w0: Float64Array, w1: Float64Array, d: Float64Array, s: number, size: number, v: Float64Array, i: number): number {
  let a = -d[i] * v[i];
  if (i + 1 < size) a += w1[i] * v[i + 1];
  if (i + s < size) a += w0[i] * v[i + s];
  if (i >= 1) a += w1[i - 1] * v[i - 1];
  if (i >= s) a += w0[i - s] * v[i - s];
  return a;
}

/** out = S v on [lo, hi), 2-D; a: [w0, w1, d, v, out], p: [s (axis-0 stride), size]. */
export const symmetric2: RangeKernel = (a, _i, p, lo, hi) => {
  const [w0, w1, d, v, out] = a;
  const s = p[0];
  const size = p[1];
  const i0 = Math.min(Math.max(lo, s), hi);
  const i1 = Math.max(Math.min(hi, size - s), i0);
  for (let i = lo; i < i0; i++) out[i] = symCell2(w0, w1, d, s, size, v, i);
  const k = wasmFor(w0, w1, d, v, out);
  if (k) k.sym2(w0.byteOffset, w1.byteOffset, d.byteOffset, v.byteOffset, out.byteOffset, s, i0, i1);
  else for (let i = i0; i < i1; i++) out[i] = w1[i] * v[i + 1] + w1[i - 1] * v[i - 1] + w0[i] * v[i + s] + w0[i - s] * v[i - s] - d[i] * v[i];
  for (let i = i1; i < hi; i++) out[i] = symCell2(w0, w1, d, s, size, v, i);
  return 0;
};

/** out = (I − θS) v on [lo, hi), 2-D; a: [w0, w1, d, v, out], p: [θ, s, size]. */
export const shifted2: RangeKernel = (a, _i, p, lo, hi) => {
  const [w0, w1, d, v, out] = a;
  const th = p[0];
  const s = p[1];
  const size = p[2];
  const i0 = Math.min(Math.max(lo, s), hi);
  const i1 = Math.max(Math.min(hi, size - s), i0);
  for (let i = lo; i < i0; i++) out[i] = v[i] - th * symCell2(w0, w1, d, s, size, v, i);
  const k = wasmFor(w0, w1, d, v, out);
  if (k) k.shifted2(w0.byteOffset, w1.byteOffset, d.byteOffset, v.byteOffset, out.byteOffset, s, i0, i1, th);
  else {
    for (let i = i0; i < i1; i++) {
      out[i] = v[i] - th * (w1[i] * v[i + 1] + w1[i - 1] * v[i - 1] + w0[i] * v[i + s] + w0[i - s] * v[i - s] - d[i] * v[i]);
    }
  }
  for (let i = i1; i < hi; i++) out[i] = v[i] - th * symCell2(w0, w1, d, s, size, v, i);
  return 0;
};

/** 3-D symmetric stencil value at a cell near an end of the array (bounds checked). */
function symCell3(w0: Float64Array, w1: Float64Array, w2: Float64Array, d: Float64Array, s0: number, s1: number, size: number, v: Float64Array, i: number): number {
  let a = -d[i] * v[i];
  if (i + 1 < size) a += w2[i] * v[i + 1];
  if (i + s1 < size) a += w1[i] * v[i + s1];
  if (i + s0 < size) a += w0[i] * v[i + s0];
  if (i >= 1) a += w2[i - 1] * v[i - 1];
  if (i >= s1) a += w1[i - s1] * v[i - s1];
  if (i >= s0) a += w0[i - s0] * v[i - s0];
  return a;
}

/** out = (I − θS) v on [lo, hi), 3-D; a: [w0, w1, w2, d, v, out], p: [θ, s0, s1, size]. */
export const shifted3: RangeKernel = (a, _i, p, lo, hi) => {
  const [w0, w1, w2, d, v, out] = a;
  const th = p[0];
  const s0 = p[1];
  const s1 = p[2];
  const size = p[3];
  const i0 = Math.min(Math.max(lo, s0), hi);
  const i1 = Math.max(Math.min(hi, size - s0), i0);
  for (let i = lo; i < i0; i++) out[i] = v[i] - th * symCell3(w0, w1, w2, d, s0, s1, size, v, i);
  const k = wasmFor(w0, w1, w2, d, v, out);
  if (k) k.shifted3(w0.byteOffset, w1.byteOffset, w2.byteOffset, d.byteOffset, v.byteOffset, out.byteOffset, s0, s1, i0, i1, th);
  else for (let i = i0; i < i1; i++) {
    const sv = w2[i] * v[i + 1] + w2[i - 1] * v[i - 1] + w1[i] * v[i + s1] + w1[i - s1] * v[i - s1] + w0[i] * v[i + s0] + w0[i - s0] * v[i - s0] - d[i] * v[i];
    out[i] = v[i] - th * sv;
  }
  for (let i = i1; i < hi; i++) out[i] = v[i] - th * symCell3(w0, w1, w2, d, s0, s1, size, v, i);
  return 0;
};

/** 2-D ρ-form generator value at a cell near an end of the array (bounds checked). */
function applyCell2(f0: Float64Array, b0: Float64Array, f1: Float64Array, b1: Float64Array, s: number, size: number, r: Float64Array, i: number): number {
  const ri = r[i];
  let a = -(f0[i] + f1[i]) * ri;
  if (i + 1 < size) a += b1[i] * r[i + 1];
  if (i + s < size) a += b0[i] * r[i + s];
  if (i >= 1) a += f1[i - 1] * r[i - 1] - b1[i - 1] * ri;
  if (i >= s) a += f0[i - s] * r[i - s] - b0[i - s] * ri;
  return a;
}

/** out = A ρ on [lo, hi), 2-D ρ-form; a: [f0, b0, f1, b1, od, r, out], p: [s, size]. */
export const apply2: RangeKernel = (a, _i, p, lo, hi) => {
  const [f0, b0, f1, b1, od, r, out] = a;
  const s = p[0];
  const size = p[1];
  const i0 = Math.min(Math.max(lo, s), hi);
  const i1 = Math.max(Math.min(hi, size - s), i0);
  for (let i = lo; i < i0; i++) out[i] = applyCell2(f0, b0, f1, b1, s, size, r, i);
  // The out-flow sum od = −A_ii is stored: 5 coefficient loads per cell instead of 8.
  const k = wasmFor(f0, b0, f1, b1, od, r, out);
  if (k) k.apply2(f0.byteOffset, b0.byteOffset, f1.byteOffset, b1.byteOffset, od.byteOffset, r.byteOffset, out.byteOffset, s, i0, i1);
  else for (let i = i0; i < i1; i++) out[i] = b1[i] * r[i + 1] + f1[i - 1] * r[i - 1] + b0[i] * r[i + s] + f0[i - s] * r[i - s] - od[i] * r[i];
  for (let i = i1; i < hi; i++) out[i] = applyCell2(f0, b0, f1, b1, s, size, r, i);
  return 0;
};

/** Σ x_i y_i over the range; a: [x, y]. */
export const dotRange: RangeKernel = (a, _i, _p, lo, hi) => {
  const [x, y] = a;
  const k = wasmFor(x, y);
  if (k) return k.dot(x.byteOffset, y.byteOffset, lo, hi);
  let s = 0;
  for (let i = lo; i < hi; i++) s += x[i] * y[i];
  return s;
};

/** y += α p, r −= α q, returns the range's Σ r_i²; a: [p, q, y, r], p: [α]. */
export const cgUpdate: RangeKernel = (a, _i, p, lo, hi) => {
  const [ps, qs, ys, rs] = a;
  const alpha = p[0];
  const k = wasmFor(ps, qs, ys, rs);
  if (k) return k.cgUpdate(ps.byteOffset, qs.byteOffset, ys.byteOffset, rs.byteOffset, lo, hi, alpha);
  let rr = 0;
  for (let i = lo; i < hi; i++) {
    ys[i] += alpha * ps[i];
    rs[i] -= alpha * qs[i];
    rr += rs[i] * rs[i];
  }
  return rr;
};

/** out = a x + b y; a: [x, y, out], p: [a, b]. */
export const lincomb: RangeKernel = (a, _i, p, lo, hi) => {
  const [x, y, out] = a;
  const ca = p[0];
  const cb = p[1];
  const k = wasmFor(x, y, out);
  if (k) k.lincomb(x.byteOffset, y.byteOffset, out.byteOffset, lo, hi, ca, cb);
  else for (let i = lo; i < hi; i++) out[i] = ca * x[i] + cb * y[i];
  return 0;
};

/** out = inv ⊙ r (Jacobi); a: [inv, r, out]. */
export const scaleBy: RangeKernel = (a, _i, _p, lo, hi) => {
  const [inv, r, out] = a;
  const k = wasmFor(inv, r, out);
  if (k) k.scaleBy(inv.byteOffset, r.byteOffset, out.byteOffset, lo, hi);
  else for (let i = lo; i < hi; i++) out[i] = inv[i] * r[i];
  return 0;
};

/** x = 0; a: [x]. */
export const zero: RangeKernel = (a, _i, _p, lo, hi) => {
  a[0].fill(0, lo, hi);
  return 0;
};

/** x += c · P xc (multigrid prolongation); a: [pw, xc, x], ints: [agg], p: [c]. */
export const prolongAdd: RangeKernel = (a, ints, p, lo, hi) => {
  const [pw, xc, x] = a;
  const agg = ints[0];
  const c = p[0];
  const k = wasmFor(pw, xc, x, agg);
  if (k) k.prolongAdd(pw.byteOffset, xc.byteOffset, x.byteOffset, agg.byteOffset, lo, hi, c);
  else for (let i = lo; i < hi; i++) x[i] += c * pw[i] * xc[agg[i]];
  return 0;
};

/**
 * bc = Pᵀ r right after one forward Gauss–Seidel sweep from x = 0, where r_i = θ Σ_{j>i} w_ij x_j
 * (solvers/multigrid-kernels.ts). a: [pw, x, bc, w_outer, …, w_inner], ints: [agg],
 * p: [θ, size, stride_outer, …, stride_inner, blocks] with blocks = 1 after a block-hybrid sweep
 * split at these ranges. A range must hold whole aggregates (callers split at multiples of twice
 * the outermost stride), so it owns bc[agg[lo] … agg[hi − 1]] and zeroes them.
 */
export const restrictAfterFirstSweep: RangeKernel = (a, ints, p, lo, hi) => {
  if (hi <= lo) return 0;
  const pw = a[0];
  const x = a[1];
  const bc = a[2];
  const agg = ints[0];
  const th = p[0];
  const size = p[1];
  const axes = a.length - 3;
  bc.fill(0, agg[lo], agg[hi - 1] + 1);
  const so = p[2];
  const end = Math.max(lo, Math.min(hi, size - so));
  if (axes === 2) {
    const wa = a[3];
    const wb = a[4];
    const k = wasmFor(pw, x, bc, wa, wb, agg);
    if (k) k.restrictSweep2(pw.byteOffset, x.byteOffset, bc.byteOffset, wa.byteOffset, wb.byteOffset, agg.byteOffset, so, lo, end, th);
    else for (let i = lo; i < end; i++) bc[agg[i]] += th * pw[i] * (wb[i] * x[i + 1] + wa[i] * x[i + so]);
  } else {
    const wa = a[3];
    const wb = a[4];
    const wc = a[5];
    const sb = p[3];
    const k = wasmFor(pw, x, bc, wa, wb, wc, agg);
    if (k) k.restrictSweep3(pw.byteOffset, x.byteOffset, bc.byteOffset, wa.byteOffset, wb.byteOffset, wc.byteOffset, agg.byteOffset, so, sb, lo, end, th);
    else for (let i = lo; i < end; i++) bc[agg[i]] += th * pw[i] * (wc[i] * x[i + 1] + wb[i] * x[i + sb] + wa[i] * x[i + so]);
  }
  for (let i = end; i < hi; i++) {
    let acc = 0;
    for (let k = 0; k < axes; k++) {
      const s = p[2 + k];
      if (i + s < size) acc += a[3 + k][i] * x[i + s];
    }
    bc[agg[i]] += th * pw[i] * acc;
  }
  // After a block-hybrid sweep (gaussSeidelBlock), a block's first slab was updated with the
  // slab below it still 0: its residual also holds that lower neighbour.
  if (p[2 + axes] === 1 && lo > 0) {
    const wa = a[3];
    for (let i = lo; i < Math.min(lo + so, hi); i++) bc[agg[i]] += th * pw[i] * wa[i - so] * x[i - so];
  }
  return 0;
};

/**
 * One Gauss–Seidel sweep of I − θS over a block [lo, hi) of whole slabs (outermost-axis layers),
 * lexicographic inside the block; neighbours in other blocks are read from `ghosts`, copies of
 * the slabs on both sides of every block edge taken before the sweep. So the blocks can be swept
 * at the same time and the result does not depend on timing: block-hybrid Gauss–Seidel, whose
 * forward and backward sweeps are transposes of each other (the multigrid cycle stays symmetric).
 * a: [b, x, inv, ghosts, w_outer, …, w_inner]; p: [θ, forward (1/0), size, axes, strides…, edges…]
 * with edges the T + 1 range edges of splitRanges; ghosts hold, for internal edge e_j (j = 1…T−1),
 * the slab below it at (2j − 2)·so and the slab above it at (2j − 1)·so.
 */
export const gaussSeidelBlock: RangeKernel = (a, _i, p, lo, hi) => {
  if (hi <= lo) return 0;
  const [b, x, inv, ghosts] = a;
  const w = a.slice(4);
  const th = p[0];
  const forward = p[1] === 1;
  const size = p[2];
  const axes = p[3];
  const strides = p.slice(4, 4 + axes);
  const edges = p.slice(4 + axes);
  const so = strides[0];
  const jLo = edges.indexOf(lo);
  const jHi = edges.indexOf(hi);
  // x_j, or its copy from before the sweep when j lies in another block.
  const at = (j: number): number => {
    if (j >= lo && j < hi) return x[j];
    if (j < lo) return ghosts[(2 * jLo - 2) * so + (j - (lo - so))];
    return ghosts[(2 * jHi - 1) * so + (j - hi)];
  };
  const update = (i: number): void => {
    let acc = 0;
    for (let k = 0; k < axes; k++) {
      const s = strides[k];
      if (i + s < size) acc += w[k][i] * at(i + s);
      if (i - s >= 0) acc += w[k][i - s] * at(i - s);
    }
    x[i] = (b[i] + th * acc) * inv[i];
  };
  const headEnd = Math.min(lo + so, hi);
  const tailStart = Math.max(headEnd, hi - so);
  const st = { size, w, strides, diag: inv, inv };
  if (forward) {
    for (let i = lo; i < headEnd; i++) update(i);
    interiorSweep(st, th, b, x, headEnd, tailStart, true);
    for (let i = tailStart; i < hi; i++) update(i);
  } else {
    for (let i = hi - 1; i >= tailStart; i--) update(i);
    interiorSweep(st, th, b, x, headEnd, tailStart, false);
    for (let i = headEnd - 1; i >= lo; i--) update(i);
  }
  return 0;
};

/** Every kernel a thread may be asked to run, by name. */
export const RANGE_KERNELS = { symmetric2, shifted2, shifted3, apply2, dotRange, cgUpdate, lincomb, scaleBy, zero, prolongAdd, restrictAfterFirstSweep, gaussSeidelBlock } as const;
export type RangeKernelName = keyof typeof RANGE_KERNELS;
