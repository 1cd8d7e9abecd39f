/**
 * The multigrid cycle of the device (solvers/backend/gpu-multigrid.ts) as kernel descriptions
 * (solvers/kernels/describe.ts), one level of I − θS at a time, in 2-D and 3-D. Written once: the
 * gpu.js emitter (emit-gpujs.ts) makes the float32 device kernels of them and the JavaScript
 * emitter (emit-js.ts) the float64 host loops of the reference cycle, so the two run the same
 * arithmetic in the same order and differ only by float32 rounding.
 *
 * Every kernel is a map (one output per cell, reading its inputs only): a GPU thread per cell
 * cannot see another thread's store of the same pass. So Gauss–Seidel is red–black, each colour
 * one pass, and restriction gathers a coarse cell's children instead of scattering into it.
 *
 * These descriptions are not in stencils.ts's ALL_KERNELS: the CPU backend never runs them, and
 * that list is what the WebAssembly module of every run is assembled from.
 */
import { abs, add, div, gather, lit, mul, par, prod, rd, store, sub, sum, type Expr, type KernelDesc, type Offset } from './describe.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, k) => k);
const up = (d: number, k: number): Offset => (k === d - 1 ? 1 : `+s${k}`);
const down = (d: number, k: number): Offset => (k === d - 1 ? -1 : `-s${k}`);
const strides = (d: number): string[] => range(d - 1).map((k) => `s${k}`);
const weights = (d: number): string[] => range(d).map((k) => `w${k}`);

/** Σ_k w_k[i] x[i + s_k] + w_k[i − s_k] x[i − s_k], innermost axis first (the order of stencils.ts). */
const neighbours = (d: number, x: string): Expr =>
  sum(...range(d).reverse().flatMap((k) => [mul(rd(`w${k}`), rd(x, up(d, k))), mul(rd(`w${k}`, down(d, k)), rd(x, down(d, k)))]));

/**
 * One colour of a red–black Gauss–Seidel sweep on (I − θS) x = b: cells whose parity m (0 or 1)
 * equals the parameter c get (b + θ Σ_j w_ij x_j) / (1 + θ d_i), the others keep x. With a
 * nearest-neighbour stencil no two cells of one colour are neighbours, so a pass is exactly that
 * colour's Gauss–Seidel update. The selector sel = 1 − |m − c| is 0 or 1 exactly, and
 * sel·new + (1 − sel)·x is then exactly new or x.
 * a: [b, x, d, m, w0 … w(d−1), out], p: [θ, c, s0 … s(d−2), size].
 */
export const redBlackSweep = (d: number): KernelDesc => {
  const sel = sub(lit(1), abs(sub(rd('m'), par('c'))));
  const updated = div(add(rd('b'), mul(par('th'), neighbours(d, 'x'))), add(lit(1), mul(par('th'), rd('d'))));
  return {
    name: `mgRedBlack${d}`,
    arrays: ['b', 'x', 'd', 'm', ...weights(d), 'out'],
    params: ['th', 'c', ...strides(d), 'size'],
    strides: strides(d),
    size: 'size',
    body: [store('out', add(mul(sel, updated), mul(sub(lit(1), sel), rd('x'))))],
  };
};

/** out = b − (I − θS) x = b − (x − θ(Σ_j w_ij x_j − d_i x_i)). a: [b, x, d, w0 … w(d−1), out], p: [θ, s0 … s(d−2), size]. */
export const levelResidual = (d: number): KernelDesc => ({
  name: `mgResidual${d}`,
  arrays: ['b', 'x', 'd', ...weights(d), 'out'],
  params: ['th', ...strides(d), 'size'],
  strides: strides(d),
  size: 'size',
  body: [store('out', sub(rd('b'), sub(rd('x'), mul(par('th'), sub(neighbours(d, 'x'), mul(rd('d'), rd('x')))))))],
});

/**
 * Restriction Pᵀ r onto the coarse cells: out_I = Σ_c cw_c[I] · r[ch_c[I]] over the 2^d children
 * of aggregate I in fine-index order (P's column I holds s_i / s_I on them: solvers/multigrid.ts).
 * An aggregate with fewer children (an odd axis) pads with weight 0 and a valid index.
 * a: [cw0 … cw(2^d − 1), r, out], ints: [ch0 … ch(2^d − 1)], p: [].
 */
export const restrictGather = (d: number): KernelDesc => {
  const c = range(2 ** d);
  return {
    name: `mgRestrict${d}`,
    arrays: [...c.map((j) => `cw${j}`), 'r', 'out'],
    ints: c.map((j) => `ch${j}`),
    params: [],
    body: [store('out', sum(...c.map((j) => mul(rd(`cw${j}`), gather('r', `ch${j}`)))))],
  };
};

/** out = x + a · pw · xc[agg]: the coarse correction P xc, scaled (solvers/multigrid.ts overCorrection). a: [pw, xc, x, out], ints: [agg], p: [a]. */
export const prolongCorrect: KernelDesc = {
  name: 'mgProlong',
  arrays: ['pw', 'xc', 'x', 'out'],
  ints: ['agg'],
  params: ['a'],
  body: [store('out', add(rd('x'), prod(par('a'), rd('pw'), gather('xc', 'agg'))))],
};
