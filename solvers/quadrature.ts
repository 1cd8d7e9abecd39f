import { Grid } from './grid.js';
import { ArenaLease, sharedFloat64 } from './shared-memory.js';
import { wasmKernels as wasmFor } from './kernels/wasm-module.js';
import { powUnit } from './kernels/series.js';

/** Evaluates a scalar function at many points: coords[k][i] is coordinate k of point i. */
export type PointFunction = (coords: readonly Float64Array[], out: Float64Array) => void;

/**
 * 3-point Gauss–Legendre rule on [-1/2, 1/2] (exact for quintics). Cell averages of f use it so
 * that f > 0 in every cell even where f vanishes at a point, and so that the scheme stays
 * second order for smooth f.
 */
const GAUSS3_NODES = [-Math.sqrt(3 / 5) / 2, 0, Math.sqrt(3 / 5) / 2];
const GAUSS3_WEIGHTS = [5 / 18, 8 / 18, 5 / 18];

/** Tensor-product offsets (in units of h) and weights for `dims` axes. */
function tensorRule(dims: number): { offsets: number[][]; weights: number[] } {
  let offsets: number[][] = [[]];
  let weights = [1];
  for (let d = 0; d < dims; d++) {
    const o2: number[][] = [];
    const w2: number[] = [];
    for (let a = 0; a < offsets.length; a++) {
      for (let q = 0; q < 3; q++) {
        o2.push([...offsets[a], GAUSS3_NODES[q]]);
        w2.push(weights[a] * GAUSS3_WEIGHTS[q]);
      }
    }
    offsets = o2;
    weights = w2;
  }
  return { offsets, weights };
}

/**
 * Adds w · f(centre + offset·h) over all cells into acc, evaluating in chunks so memory stays
 * proportional to the chunk, not to the grid.
 */
function accumulateAtOffset(
  grid: Grid,
  f: PointFunction,
  offset: readonly number[],
  weight: number,
  acc: Float64Array,
): void {
  visitOffset(grid, f, offset, (start, o, out) => {
    const k = wasmFor(acc, out);
    if (k) k.accumulate(acc.byteOffset + 8 * start, out.byteOffset, 0, o.length, weight);
    else for (let i = 0; i < o.length; i++) acc[start + i] += weight * o[i];
  });
}

/**
 * Evaluates f at centre + offset·h of every cell, chunk by chunk, handing each chunk of values
 * (o, a view of the arena array `out`) to `consume` with the index of its first cell.
 */
function visitOffset(
  grid: Grid,
  f: PointFunction,
  offset: readonly number[],
  consume: (start: number, o: Float64Array, out: Float64Array) => void,
): void {
  // The landscape's compiled expressions work in chunks of 4096 points (src/landscape/expr.ts):
  // matching it keeps the coordinates in cache (16384 measured ~20 % slower at 256²).
  const CHUNK = 4096;
  // In the arena, so that compiled landscapes evaluate them as WebAssembly (src/landscape/expr-wasm.ts).
  // Returned at the end: a run's arena holds only what the run keeps (solvers/exec/arena.ts).
  const scratch = new ArenaLease();
  const coords = Array.from({ length: grid.dim }, () => sharedFloat64(CHUNK, scratch));
  const out = sharedFloat64(CHUNK, scratch);
  // Along axis k the coordinate is constant over runs of strides[k] points (one native fill each),
  // and the innermost axis repeats one row (native copies): this runs once per offset per
  // problem, mostly before V8 has optimized it, so the per-point work is left to native code and
  // to WebAssembly (the accumulation, and compiled landscapes).
  const last = grid.dim - 1;
  const row = new Float64Array(grid.n[last]);
  for (let j = 0; j < row.length; j++) row[j] = grid.lo[last] + (0.5 + offset[last]) * grid.h[last] + j * grid.h[last];
  for (let start = 0; start < grid.size; start += CHUNK) {
    const len = Math.min(CHUNK, grid.size - start);
    const cs = len === CHUNK ? coords : coords.map((c) => c.subarray(0, len));
    const o = len === CHUNK ? out : out.subarray(0, len);
    for (let k = 0; k < last; k++) {
      const stride = grid.strides[k];
      const n = grid.n[k];
      const base = grid.lo[k] + (0.5 + offset[k]) * grid.h[k];
      const h = grid.h[k];
      const c = cs[k];
      for (let i = 0; i < len; ) {
        const run = Math.min(stride - ((start + i) % stride), len - i);
        c.fill(base + (Math.floor((start + i) / stride) % n) * h, i, i + run);
        i += run;
      }
    }
    const c = cs[last];
    for (let i = 0, j = start % row.length; i < len; ) {
      const take = Math.min(row.length - j, len - i);
      c.set(j === 0 && take === row.length ? row : row.subarray(j, j + take), i);
      i += take;
      j = 0;
    }
    f(cs, o);
    consume(start, o, out);
  }
  scratch.release();
}

/** Cell averages of f (3^d-point Gauss rule per cell). */
export function cellAverages(grid: Grid, f: PointFunction): Float64Array {
  const acc = sharedFloat64(grid.size);
  const { offsets, weights } = tensorRule(grid.dim);
  for (let q = 0; q < offsets.length; q++) accumulateAtOffset(grid, f, offsets[q], weights[q], acc);
  return acc;
}

/**
 * Cell averages of f and, from the same 3^d Gauss nodes, of π = (f + eps)^−alpha, the latter
 * returned as ψ̄ = −ln(average of π) so that it neither overflows nor underflows: π spans hundreds
 * of orders of magnitude, and within one cell next to a zero of f by many. Per cell the pass keeps
 * the smallest y = f + eps so far (m) and s = Σ w (m/y)^alpha ≤ Σ w, so only one extra grid-sized
 * array lives during it; the centre node goes first. A cell with a node where y ≤ 0 (π infinite or
 * undefined there) gets −∞; the caller decides what that means.
 *
 * `keep` takes more from the same evaluations of f, so that no other pass evaluates f there again:
 * `centre`, f at the cell centres (the centre node: the same points and bits as centreValues);
 * `logF`, the cell averages of ln f by the same 3^d-point rule (exact for quintics) where ln f is
 * smooth on the cell — every node f > 0 and the smallest at least half the cell average of f —
 * and NaN elsewhere (next to a zero of f a node near the zero makes any fixed rule for ln f
 * unreliable; the caller uses its own rule there, src/diagnostics/distances.ts).
 */
export function cellAveragesAndLogMeans(
  grid: Grid,
  f: PointFunction,
  alpha: number,
  eps: number,
  keep: { centre?: Float64Array; logF?: Float64Array } = {},
): { avg: Float64Array; psi: Float64Array } {
  const acc = sharedFloat64(grid.size);
  const m = sharedFloat64(grid.size).fill(Infinity);
  const scratch = new ArenaLease();
  const s = sharedFloat64(grid.size, scratch);
  const { offsets, weights } = tensorRule(grid.dim);
  const centre = (offsets.length - 1) / 2;
  const order = [centre, ...offsets.keys()].filter((q, k) => k === 0 || q !== centre);
  const { centre: centreOut, logF } = keep;
  // ln f by classes of equal weight: Σ_c W_c ln Π_{q∈c} f_q, one ln per class and cell instead of
  // one per node (3 instead of 9 in 2-D; the ln calls were most of this pass's extra cost). The
  // first class multiplies into logF itself, the others into scratch arrays.
  const classWeights = [...new Set(weights)];
  const products = logF ? classWeights.map((_, c) => (c === 0 ? logF : sharedFloat64(grid.size, scratch))) : [];
  for (const p of products) p.fill(1);
  for (const q of order) {
    const w = weights[q];
    const prod = logF ? products[classWeights.indexOf(w)] : undefined;
    visitOffset(grid, f, offsets[q], (start, o, out) => {
      if (centreOut && q === centre) centreOut.set(o, start);
      if (prod) for (let i = 0; i < o.length; i++) prod[start + i] *= o[i];
      const k = wasmFor(acc, out, m, s);
      if (k) {
        k.accumulate(acc.byteOffset + 8 * start, out.byteOffset, 0, o.length, w);
        // Once per problem, mostly before V8 optimizes JavaScript: the WebAssembly loop is faster cold.
        k.logMeanNode(m.byteOffset + 8 * start, s.byteOffset + 8 * start, out.byteOffset, 0, o.length, w, alpha, eps);
        return;
      }
      for (let i = 0; i < o.length; i++) {
        const c = start + i;
        acc[c] += w * o[i];
        const y = o[i] + eps;
        const mc = m[c];
        const p = powUnit(y < mc ? y / mc : mc / y, alpha);
        if (y < mc) {
          s[c] = s[c] * p + w;
          m[c] = y;
        } else s[c] = s[c] + w * p;
      }
    });
  }
  if (logF) {
    // m − eps is the smallest node value of f: positive and at least half the average, or NaN (a
    // node at or below 0 included). A product out of [1e-300, 1e300] (f beyond ~1e±75 in 2-D) is
    // NaN too rather than rounded: the caller's own rule takes those few cells.
    // Class by class, each loop over one array (simple loops V8 optimizes while they run).
    const w0 = classWeights[0];
    for (let i = 0; i < grid.size; i++) {
      const p = logF[i];
      const fMin = m[i] - eps;
      logF[i] = fMin > 0 && fMin >= 0.5 * acc[i] && p >= 1e-300 && p <= 1e300 ? w0 * Math.log(p) : NaN;
    }
    for (let c = 1; c < products.length; c++) {
      const prod = products[c];
      const wc = classWeights[c];
      for (let i = 0; i < grid.size; i++) {
        const p = prod[i];
        if (logF[i] === logF[i]) logF[i] = p >= 1e-300 && p <= 1e300 ? logF[i] + wc * Math.log(p) : NaN;
      }
    }
  }
  for (let i = 0; i < grid.size; i++) m[i] = m[i] > 0 ? alpha * Math.log(m[i]) - Math.log(s[i]) : -Infinity;
  scratch.release();
  return { avg: acc, psi: m };
}

/**
 * Averages of f over the upper face of every cell along `axis` (3^(d-1)-point Gauss rule across
 * the face). Entry i belongs to the face between cell i and cell i + strides[axis]; entries of
 * cells on the upper wall hold the wall value and are never used as interior faces.
 */
export function faceAverages(grid: Grid, f: PointFunction, axis: number): Float64Array {
  const acc = sharedFloat64(grid.size);
  const { offsets, weights } = tensorRule(grid.dim - 1);
  for (let q = 0; q < offsets.length; q++) {
    const off = offsets[q].slice();
    off.splice(axis, 0, 0.5);
    accumulateAtOffset(grid, f, off, weights[q], acc);
  }
  return acc;
}

/** f at cell centres. */
export function centreValues(grid: Grid, f: PointFunction): Float64Array {
  const acc = sharedFloat64(grid.size);
  accumulateAtOffset(grid, f, new Array(grid.dim).fill(0), 1, acc);
  return acc;
}
