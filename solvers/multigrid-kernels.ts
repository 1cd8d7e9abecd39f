/**
 * The inner loops of the multigrid cycle (solvers/multigrid.ts) on one level's stencil of
 * I − θS: Gauss–Seidel sweeps and the restricted residual, for 2-D and 3-D boxes.
 *
 * Cells are numbered row-major; the outermost present axis has the largest stride `so`. Faces
 * on upper walls carry zero weight, so a neighbour reached across a row's end contributes
 * 0 · (finite value): only the first and last `so` cells, whose neighbours may fall outside the
 * array, need bounds checks. The interior loops are branch-free, which is what makes them fast
 * (a generic loop with per-cell wall tests ran ~3× slower).
 */
import { wasmFor } from './wasm/arena.js';

/** The stencil of one level: weights per axis (outermost first) with their strides, −S_ii. */
export interface LevelStencil {
  size: number;
  /** 2 or 3 axes; an axis of one cell has an all-zero weight array (never EMPTY). */
  w: Float64Array[];
  strides: number[];
  /** 1 + θ(−S_ii) and its inverse, for the current θ. */
  diag: Float64Array;
  inv: Float64Array;
}

/** θ·Σ_j w_ij x_j at cell i with bounds checks (the cells within `so` of either end). */
function offDiagChecked(st: LevelStencil, x: Float64Array, i: number): number {
  let acc = 0;
  const size = st.size;
  for (let k = 0; k < st.w.length; k++) {
    const w = st.w[k];
    const s = st.strides[k];
    if (i + s < size) acc += w[i] * x[i + s];
    if (i >= s) acc += w[i - s] * x[i - s];
  }
  return acc;
}

/** One lexicographic Gauss–Seidel sweep on (I − θS) x = b, forward or backward. */
export function gaussSeidel(st: LevelStencil, th: number, b: Float64Array, x: Float64Array, forward: boolean): void {
  const size = st.size;
  const so = st.strides[0];
  const lo = Math.min(so, size);
  const hi = Math.max(lo, size - so);
  const inv = st.inv;
  if (forward) {
    for (let i = 0; i < lo; i++) x[i] = (b[i] + th * offDiagChecked(st, x, i)) * inv[i];
    interiorSweep(st, th, b, x, lo, hi, true);
    for (let i = hi; i < size; i++) x[i] = (b[i] + th * offDiagChecked(st, x, i)) * inv[i];
  } else {
    for (let i = size - 1; i >= hi; i--) x[i] = (b[i] + th * offDiagChecked(st, x, i)) * inv[i];
    interiorSweep(st, th, b, x, lo, hi, false);
    for (let i = lo - 1; i >= 0; i--) x[i] = (b[i] + th * offDiagChecked(st, x, i)) * inv[i];
  }
}

/*
 * The just-computed neighbour x_{i∓1} is carried in a local and enters the update last, so the
 * chain from one cell to the next is one multiply-add. (Sweeping two rows interleaved, to break
 * even that chain, measured no faster: the loop is bound by its loads, like the stencil apply.)
 */
export function interiorSweep(st: LevelStencil, th: number, b: Float64Array, x: Float64Array, lo: number, hi: number, forward: boolean): void {
  if (hi <= lo) return;
  const inv = st.inv;
  if (st.w.length === 2) {
    const [wa, wb] = st.w;
    const sa = st.strides[0];
    const k = wasmFor(b, x, inv, wa, wb);
    if (k) {
      (forward ? k.gsForward2 : k.gsBackward2)(b.byteOffset, x.byteOffset, inv.byteOffset, wa.byteOffset, wb.byteOffset, sa, lo, hi, th);
      return;
    }
    if (forward) {
      let prev = x[lo - 1];
      for (let i = lo; i < hi; i++) {
        const q = th * inv[i];
        prev = b[i] * inv[i] + q * (wb[i] * x[i + 1] + wa[i] * x[i + sa] + wa[i - sa] * x[i - sa]) + q * wb[i - 1] * prev;
        x[i] = prev;
      }
    } else {
      let prev = x[hi];
      for (let i = hi - 1; i >= lo; i--) {
        const q = th * inv[i];
        prev = b[i] * inv[i] + q * (wb[i - 1] * x[i - 1] + wa[i] * x[i + sa] + wa[i - sa] * x[i - sa]) + q * wb[i] * prev;
        x[i] = prev;
      }
    }
    return;
  }
  const [wa, wb, wc] = st.w;
  const sa = st.strides[0];
  const sb = st.strides[1];
  const k = wasmFor(b, x, inv, wa, wb, wc);
  if (k) {
    (forward ? k.gsForward3 : k.gsBackward3)(b.byteOffset, x.byteOffset, inv.byteOffset, wa.byteOffset, wb.byteOffset, wc.byteOffset, sa, sb, lo, hi, th);
    return;
  }
  if (forward) {
    let prev = x[lo - 1];
    for (let i = lo; i < hi; i++) {
      const q = th * inv[i];
      const rest = b[i] * inv[i] + q * (wc[i] * x[i + 1] + wb[i] * x[i + sb] + wb[i - sb] * x[i - sb] + wa[i] * x[i + sa] + wa[i - sa] * x[i - sa]);
      prev = rest + q * wc[i - 1] * prev;
      x[i] = prev;
    }
  } else {
    let prev = x[hi];
    for (let i = hi - 1; i >= lo; i--) {
      const q = th * inv[i];
      const rest = b[i] * inv[i] + q * (wc[i - 1] * x[i - 1] + wb[i] * x[i + sb] + wb[i - sb] * x[i - sb] + wa[i] * x[i + sa] + wa[i - sa] * x[i - sa]);
      prev = rest + q * wc[i] * prev;
      x[i] = prev;
    }
  }
}

/** bc = Pᵀ(b − (I − θS) x), P given by aggregate index and weight per fine cell. */
export function restrictResidual(st: LevelStencil, th: number, b: Float64Array, x: Float64Array, agg: Int32Array, pw: Float64Array, bc: Float64Array): void {
  const size = st.size;
  const so = st.strides[0];
  const lo = Math.min(so, size);
  const hi = Math.max(lo, size - so);
  const diag = st.diag;
  bc.fill(0);
  for (let i = 0; i < lo; i++) bc[agg[i]] += pw[i] * (b[i] - diag[i] * x[i] + th * offDiagChecked(st, x, i));
  if (st.w.length === 2) {
    const [wa, wb] = st.w;
    const sa = st.strides[0];
    const k = wasmFor(b, x, diag, pw, bc, wa, wb, agg);
    if (k) k.restrictResidual2(b.byteOffset, x.byteOffset, diag.byteOffset, pw.byteOffset, bc.byteOffset, wa.byteOffset, wb.byteOffset, agg.byteOffset, sa, lo, hi, th);
    else for (let i = lo; i < hi; i++) {
      const acc = wb[i] * x[i + 1] + wb[i - 1] * x[i - 1] + wa[i] * x[i + sa] + wa[i - sa] * x[i - sa];
      bc[agg[i]] += pw[i] * (b[i] - diag[i] * x[i] + th * acc);
    }
  } else {
    const [wa, wb, wc] = st.w;
    const sa = st.strides[0];
    const sb = st.strides[1];
    for (let i = lo; i < hi; i++) {
      const acc = wc[i] * x[i + 1] + wc[i - 1] * x[i - 1] + wb[i] * x[i + sb] + wb[i - sb] * x[i - sb] + wa[i] * x[i + sa] + wa[i - sa] * x[i - sa];
      bc[agg[i]] += pw[i] * (b[i] - diag[i] * x[i] + th * acc);
    }
  }
  for (let i = hi; i < size; i++) bc[agg[i]] += pw[i] * (b[i] - diag[i] * x[i] + th * offDiagChecked(st, x, i));
}
