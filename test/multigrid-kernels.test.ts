/**
 * The multigrid inner loops (solvers/multigrid-kernels.ts) against plain reference loops written
 * from the definitions: lexicographic Gauss–Seidel on (I − θS)x = b with explicit bounds tests,
 * and the restricted residual Pᵀ(b − (I − θS)x). Odd sizes, thin boxes and 3-D included, since
 * the kernels' branch-free interiors rely on zero wall weights and on index ranges. The half-stencil
 * restriction is the block driver the kernel threads run (solvers/multigrid-kernels.ts).
 */
import { describe, expect, it } from 'vitest';
import { gaussSeidel, restrictResidual, gaussSeidelBlock, restrictAfterFirstSweep, type LevelStencil } from '../solvers/multigrid-kernels.js';

const TH = 0.7;

/** A random-looking stencil on an n0×…×nd box with zero weights on upper-wall faces. */
function stencil(n: number[]): LevelStencil {
  const size = n.reduce((a, b) => a * b, 1);
  const strides = n.map((_, k) => n.slice(k + 1).reduce((a, b) => a * b, 1));
  const w = n.map((nk, k) => {
    const a = Float64Array.from({ length: size }, (_, i) => 0.5 + Math.abs(Math.sin(1.7 * i + k)));
    for (let i = 0; i < size; i++) if (Math.floor(i / strides[k]) % nk === nk - 1) a[i] = 0;
    return a;
  });
  const diag = Float64Array.from({ length: size }, (_, i) => 1 + 5 * Math.abs(Math.cos(0.3 * i)));
  return { size, w, strides, diag, inv: diag.map((v) => 1 / v) };
}

/** Σ_j w_ij x_j with explicit neighbour tests. */
function offDiag(st: LevelStencil, n: number[], x: Float64Array, i: number): number {
  let acc = 0;
  for (let k = 0; k < n.length; k++) {
    const c = Math.floor(i / st.strides[k]) % n[k];
    if (c + 1 < n[k]) acc += st.w[k][i] * x[i + st.strides[k]];
    if (c > 0) acc += st.w[k][i - st.strides[k]] * x[i - st.strides[k]];
  }
  return acc;
}

const vec = (size: number, seed: number): Float64Array => Float64Array.from({ length: size }, (_, i) => Math.sin(0.37 * i + seed) + 0.2);

const maxDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe.each([[[7, 5]], [[8, 6]], [[2, 9]], [[1, 6]], [[33, 17]], [[5, 4, 3]], [[6, 7, 8]], [[2, 2, 9]]])('multigrid kernels on a %j box', (n) => {
  const st = stencil(n);
  const size = st.size;
  const b = vec(size, 1);

  it.each([true, false])('Gauss–Seidel sweep (forward: %s) equals the plain lexicographic sweep', (forward) => {
    const x = vec(size, 2);
    const y = x.slice();
    gaussSeidel(st, TH, b, x, forward);
    for (let q = 0; q < size; q++) {
      const i = forward ? q : size - 1 - q;
      y[i] = (b[i] + TH * offDiag(st, n, y, i)) * st.inv[i];
    }
    expect(maxDiff(x, y)).toBeLessThan(1e-14);
  });

  // Aggregates: pairs of cells along the last axis (any map works for the residual identity).
  const agg = Int32Array.from({ length: size }, (_, i) => i >> 1);
  const pw = vec(size, 3);
  const nc = (size + 1) >> 1;

  it('restricted residual equals Pᵀ(b − (I − θS)x) formed cell by cell', () => {
    const x = vec(size, 4);
    const bc = new Float64Array(nc);
    restrictResidual(st, TH, b, x, agg, pw, bc);
    const ref = new Float64Array(nc);
    for (let i = 0; i < size; i++) ref[agg[i]] += pw[i] * (b[i] - st.diag[i] * x[i] + TH * offDiag(st, n, x, i));
    expect(maxDiff(bc, ref)).toBeLessThan(1e-12);
  });

  it('after one forward sweep from zero, the half-stencil residual equals the full one', () => {
    // diag must match inv for the identity r_i = θ Σ_{j>i} w_ij x_j to hold.
    const x = new Float64Array(size);
    gaussSeidel(st, TH, b, x, true);
    const full = new Float64Array(nc);
    const half = new Float64Array(nc);
    restrictResidual(st, TH, b, x, agg, pw, full);
    restrictAfterFirstSweep([pw, x, half, ...st.w], [agg], [TH, size, ...st.strides, 0], 0, size);
    const scale = full.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(0.1);
    expect(maxDiff(full, half)).toBeLessThan(1e-12 * Math.max(1, scale));
  });
});

describe.each([[[8, 6]], [[12, 5]], [[6, 7, 8]]])('block-hybrid Gauss–Seidel on a %j box (two blocks)', (n) => {
  const st = stencil(n);
  const size = st.size;
  const so = st.strides[0];
  const b = vec(size, 1);
  const edges = [0, 2 * so * Math.floor(n[0] / 4), size];
  // ghosts: below and above the one internal edge, copied before the sweep
  const ghostsOf = (x: Float64Array): Float64Array => {
    const g = new Float64Array(2 * so);
    g.set(x.subarray(edges[1] - so, edges[1]), 0);
    g.set(x.subarray(edges[1], edges[1] + so), so);
    return g;
  };
  const params = (forward: boolean): number[] => [TH, forward ? 1 : 0, size, n.length, ...st.strides, ...edges];

  it.each([true, false])('equals lexicographic sweeps of each block with the other block frozen (forward: %s)', (forward) => {
    const x = vec(size, 2);
    const old = x.slice();
    const ghosts = ghostsOf(x);
    for (let t = 0; t < 2; t++) gaussSeidelBlock([b, x, st.inv, ghosts, ...st.w], [], params(forward), edges[t], edges[t + 1]);
    // Reference: each block in lexicographic order; cells of the other block at their old values.
    const y = old.slice();
    for (let t = 0; t < 2; t++) {
      const [lo, hi] = [edges[t], edges[t + 1]];
      const view = (j: number): number => (j >= lo && j < hi ? y[j] : old[j]);
      for (let q = lo; q < hi; q++) {
        const i = forward ? q : hi - 1 - (q - lo);
        let acc = 0;
        for (let k = 0; k < n.length; k++) {
          const c = Math.floor(i / st.strides[k]) % n[k];
          if (c + 1 < n[k]) acc += st.w[k][i] * view(i + st.strides[k]);
          if (c > 0) acc += st.w[k][i - st.strides[k]] * view(i - st.strides[k]);
        }
        y[i] = (b[i] + TH * acc) * st.inv[i];
      }
    }
    expect(maxDiff(x, y)).toBeLessThan(1e-14);
  });

  it('after a block forward sweep from zero, the half-stencil residual (with the block flag) equals the full one', () => {
    const x = new Float64Array(size);
    const ghosts = ghostsOf(x);
    for (let t = 0; t < 2; t++) gaussSeidelBlock([b, x, st.inv, ghosts, ...st.w], [], params(true), edges[t], edges[t + 1]);
    const agg = Int32Array.from({ length: size }, (_, i) => i >> 1);
    const pw = vec(size, 3);
    const nc = (size + 1) >> 1;
    const full = new Float64Array(nc);
    const half = new Float64Array(nc);
    restrictResidual(st, TH, b, x, agg, pw, full);
    for (let t = 0; t < 2; t++) restrictAfterFirstSweep([pw, x, half, ...st.w], [agg], [TH, size, ...st.strides, 1], edges[t], edges[t + 1]);
    const scale = full.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(0.1);
    expect(maxDiff(full, half)).toBeLessThan(1e-12 * Math.max(1, scale));
  });
});
