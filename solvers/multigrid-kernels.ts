/**
 * The inner loops of the multigrid cycle (solvers/multigrid.ts) on one level's stencil of
 * I − θS: Gauss–Seidel sweeps, the restricted residual and the block drivers the kernel threads
 * run, for 2-D and 3-D boxes. The per-cell arithmetic is generated (solvers/kernels/stencils.ts:
 * gaussSeidel, restrictResidual, restrictSweep); this file only says which cells run where.
 */
import { kernel, rangeKernel, type RangeKernel } from './kernels/registry.js';

/** The stencil of one level: weights per axis (outermost first) with their strides, −S_ii. */
export interface LevelStencil {
  size: number;
  /** 2 or 3 axes; an axis of one cell has an all-zero weight array (never EMPTY). */
  w: Float64Array[];
  /** Innermost last, and 1. */
  strides: number[];
  /** 1 + θ(−S_ii) and its inverse, for the current θ. */
  diag: Float64Array;
  inv: Float64Array;
}

/** Parameters of the generated level kernels: [θ, outer strides…, size]. */
const levelParams = (st: LevelStencil, th: number): number[] => [th, ...st.strides.slice(0, -1), st.size];
const sweepName = (forward: boolean): string => (forward ? 'gsForward' : 'gsBackward');

/** One lexicographic Gauss–Seidel sweep on (I − θS) x = b, forward or backward. */
export function gaussSeidel(st: LevelStencil, th: number, b: Float64Array, x: Float64Array, forward: boolean): void {
  rangeKernel(sweepName(forward), st.w.length)([b, x, st.inv, ...st.w], [], levelParams(st, th), 0, st.size);
}

/** The sweep over [lo, hi), whose reads (within the outermost stride) must all stay in the array. */
export function interiorSweep(st: LevelStencil, th: number, b: Float64Array, x: Float64Array, lo: number, hi: number, forward: boolean): void {
  kernel(sweepName(forward), st.w.length).unchecked([b, x, st.inv, ...st.w], [], levelParams(st, th), lo, hi);
}

/** bc = Pᵀ(b − (I − θS) x), P given by aggregate index and weight per fine cell. */
export function restrictResidual(st: LevelStencil, th: number, b: Float64Array, x: Float64Array, agg: Int32Array, pw: Float64Array, bc: Float64Array): void {
  bc.fill(0);
  rangeKernel('restrictResidual', st.w.length)([b, x, st.diag, pw, bc, ...st.w], [agg], levelParams(st, th), 0, st.size);
}

/**
 * bc = Pᵀ r right after one forward Gauss–Seidel sweep from x = 0, where r_i = θ Σ_{j>i} w_ij x_j.
 * a: [pw, x, bc, w_outer, …, w_inner], ints: [agg], p: [θ, size, stride_outer, …, stride_inner,
 * blocks] with blocks = 1 after a block-hybrid sweep split at these ranges. A range must hold
 * whole aggregates (callers split at multiples of twice the outermost stride), so it owns
 * bc[agg[lo] … agg[hi − 1]] and zeroes them.
 */
export const restrictAfterFirstSweep: RangeKernel = (a, ints, p, lo, hi) => {
  if (hi <= lo) return 0;
  const [pw, x, bc] = a;
  const agg = ints[0];
  const th = p[0];
  const size = p[1];
  const axes = a.length - 3;
  const strides = p.slice(2, 2 + axes);
  bc.fill(0, agg[lo], agg[hi - 1] + 1);
  rangeKernel('restrictSweep', axes)(a, ints, [th, ...strides.slice(0, -1), size], lo, hi);
  // After a block-hybrid sweep (gaussSeidelBlock), a block's first slab was updated with the
  // slab below it still 0: its residual also holds that lower neighbour.
  if (p[2 + axes] === 1 && lo > 0) {
    const so = strides[0];
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
  // The first and last slab of a block read the ghosts: the one sweep here with a different
  // source for its neighbours (the slabs between run the generated interior sweep).
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
  const st: LevelStencil = { size, w, strides, diag: inv, inv };
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
