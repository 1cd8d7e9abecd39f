/**
 * −S v = Gᵀ(G v) as a range kernel for the kernel threads (solvers/exec/team.ts), registered in
 * solvers/range-kernels.ts as `dirichletApply`.
 *
 * DirichletForm.apply scatters: face i adds to out[i] and subtracts from out[i + stride], so a
 * range of faces writes outside its range of cells. Here each cell gathers its own faces instead,
 * in the order the scatter loop reaches them (per axis: first the face below it, from the earlier
 * iteration i − stride, then its own face), and recomputes the face difference below it rather than
 * reading it: every out[i] is the same sequence of the same float64 operations as in the scatter
 * loop, so the same bits for any split into ranges and any number of threads.
 *
 * arrays: [v, out, sf_0, sb_0, …, sf_{d−1}, sb_{d−1}] (sf = √fwd, sb = √bwd per axis, as in
 * DirichletForm); params: [size, dim, stride_0, …, stride_{d−1}].
 */
import type { RangeKernel } from './kernels/registry.js';

export const dirichletApply: RangeKernel = (a, _ints, p, lo, hi) => {
  const n = p[0];
  const dim = p[1];
  if (dim === 2) {
    gather2(a[0], a[1], a[2], a[3], a[4], a[5], n, p[2], p[3], lo, hi);
    return 0;
  }
  const v = a[0];
  const out = a[1];
  for (let i = lo; i < hi; i++) {
    let acc = 0;
    for (let k = 0; k < dim; k++) {
      const st = p[2 + k];
      const sf = a[2 + 2 * k];
      const sb = a[3 + 2 * k];
      if (i >= st) {
        const j = i - st;
        acc -= sb[j] * (sf[j] * v[j] - sb[j] * v[i]);
      }
      if (i < n - st) acc += sf[i] * (sf[i] * v[i] - sb[i] * v[i + st]);
    }
    out[i] = acc;
  }
  return 0;
};

/**
 * dirichletApply in 2-D, the branches of the generic loop hoisted out of the cells. The face
 * difference below a cell along the inner axis (stride s1) is the one the previous cell computed
 * as its own: carried over instead of formed again (the same number, so the same bits).
 */
function gather2(v: Float64Array, out: Float64Array, sf0: Float64Array, sb0: Float64Array, sf1: Float64Array, sb1: Float64Array, n: number, s0: number, s1: number, lo: number, hi: number): void {
  if (s1 !== 1) {
    gatherGeneric2(v, out, sf0, sb0, sf1, sb1, n, s0, s1, lo, hi);
    return;
  }
  // w1 of the face between cells i − 1 and i.
  let below = lo >= 1 ? sf1[lo - 1] * v[lo - 1] - sb1[lo - 1] * v[lo] : 0;
  for (let i = lo; i < hi; i++) {
    let acc = 0;
    const vi = v[i];
    if (i >= s0) {
      const j = i - s0;
      acc -= sb0[j] * (sf0[j] * v[j] - sb0[j] * vi);
    }
    if (i < n - s0) acc += sf0[i] * (sf0[i] * vi - sb0[i] * v[i + s0]);
    if (i >= 1) acc -= sb1[i - 1] * below;
    if (i < n - 1) {
      const w = sf1[i] * vi - sb1[i] * v[i + 1];
      acc += sf1[i] * w;
      below = w;
    }
    out[i] = acc;
  }
}

function gatherGeneric2(v: Float64Array, out: Float64Array, sf0: Float64Array, sb0: Float64Array, sf1: Float64Array, sb1: Float64Array, n: number, s0: number, s1: number, lo: number, hi: number): void {
  for (let i = lo; i < hi; i++) {
    let acc = 0;
    const vi = v[i];
    if (i >= s0) {
      const j = i - s0;
      acc -= sb0[j] * (sf0[j] * v[j] - sb0[j] * vi);
    }
    if (i < n - s0) acc += sf0[i] * (sf0[i] * vi - sb0[i] * v[i + s0]);
    if (i >= s1) {
      const j = i - s1;
      acc -= sb1[j] * (sf1[j] * v[j] - sb1[j] * vi);
    }
    if (i < n - s1) acc += sf1[i] * (sf1[i] * vi - sb1[i] * v[i + s1]);
    out[i] = acc;
  }
}
