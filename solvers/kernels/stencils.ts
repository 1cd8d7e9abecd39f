/**
 * Every grid-sized kernel of the CPU backend, written once (solvers/kernels/describe.ts). The
 * stencils are those of solvers/operator.ts: S v (symmetric form), (I − θS) v, A ρ (ρ-form), and
 * the multigrid's Gauss–Seidel sweeps, restriction and prolongation on a level's I − θS.
 *
 * Axes: dimension d has weights w0 … w(d−1) (outermost first) with strides s0 … s(d−2) passed
 * as parameters and 1 for the innermost axis. Face arrays are indexed by the lower cell of the
 * face. Neighbour terms are summed innermost axis first, upper face before lower, then the
 * diagonal: the order every earlier result was computed in.
 */
import { abs, add, div, gather, let_, lit, loc, mul, par, prod, rd, scatterAdd, store, sub, sum, type Expr, type KernelDesc, type Offset } from './describe.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, k) => k);
/** Stride of axis k in dimension d: a parameter, or 1 for the innermost axis. */
const up = (d: number, k: number): Offset => (k === d - 1 ? 1 : `+s${k}`);
const down = (d: number, k: number): Offset => (k === d - 1 ? -1 : `-s${k}`);
const strides = (d: number): string[] => range(d - 1).map((k) => `s${k}`);
const innerFirst = (d: number): number[] => range(d).reverse();

/** Σ_k w_k[i] v[i + s_k] + w_k[i − s_k] v[i − s_k], innermost axis first. */
const neighbours = (d: number, w: (k: number) => [string, string], v: string): Expr[] =>
  innerFirst(d).flatMap((k) => [mul(rd(w(k)[0]), rd(v, up(d, k))), mul(rd(w(k)[1], down(d, k)), rd(v, down(d, k)))]);

const symW = (k: number): [string, string] => [`w${k}`, `w${k}`];
/** (S v)_i = Σ_j S_ij v_j − (−S_ii) v_i. */
const symExpr = (d: number): Expr => sub(sum(...neighbours(d, symW, 'v')), mul(rd('d'), rd('v')));

/** out = S v; a: [w0 … w(d−1), d, v, out], p: [s0 … s(d−2), size]. */
export const symmetric = (d: number): KernelDesc => ({
  name: `sym${d}`,
  arrays: [...range(d).map((k) => `w${k}`), 'd', 'v', 'out'],
  params: [...strides(d), 'size'],
  strides: strides(d),
  size: 'size',
  body: [store('out', symExpr(d))],
});

/** out = (I − θS) v; a: as symmetric, p: [θ, s0 … s(d−2), size]. */
export const shifted = (d: number): KernelDesc => ({
  name: `shifted${d}`,
  arrays: [...range(d).map((k) => `w${k}`), 'd', 'v', 'out'],
  params: ['th', ...strides(d), 'size'],
  strides: strides(d),
  size: 'size',
  body: [store('out', sub(rd('v'), mul(par('th'), symExpr(d))))],
});

/**
 * out = (I − θS) v and Σ v·out: CG's q = A p with ⟨p, q⟩ in the same pass (solvers/pcg.ts
 * applyDot), one read of p and q fewer per iteration than the stencil and `dot` apart. The sum
 * runs in index order over each range like `dot`'s, except that the range's first and last
 * stencil reach (checked loops) are summed apart and added on: round-off differences from `dot`.
 * a: as shifted, p: as shifted.
 */
export const shiftedDot = (d: number): KernelDesc => ({
  name: `shiftedDot${d}`,
  arrays: [...range(d).map((k) => `w${k}`), 'd', 'v', 'out'],
  params: ['th', ...strides(d), 'size'],
  strides: strides(d),
  size: 'size',
  body: [store('out', sub(rd('v'), mul(par('th'), symExpr(d))))],
  reduce: { op: 'sum', v: mul(rd('v'), rd('out')) },
});

/**
 * out = A ρ: in-flow b_k[i] ρ[i + s_k] + f_k[i − s_k] ρ[i − s_k] minus the stored out-flow
 * od = −A_ii ρ_i (5 coefficient loads per cell in 2-D instead of 8).
 * a: [f0, b0, …, f(d−1), b(d−1), od, r, out], p: [s0 … s(d−2), size].
 */
export const apply = (d: number): KernelDesc => ({
  name: `apply${d}`,
  arrays: [...range(d).flatMap((k) => [`f${k}`, `b${k}`]), 'od', 'r', 'out'],
  params: [...strides(d), 'size'],
  strides: strides(d),
  size: 'size',
  body: [store('out', applyExpr(d, 'r'))],
});

/** The in-flow Σ_k b_k[i] ρ[i + s_k] + f_k[i − s_k] ρ[i − s_k] and (A ρ)_i: the apply stencil's terms. */
const inflow = (d: number, r: string): Expr => sum(...neighbours(d, (k) => [`b${k}`, `f${k}`], r));
const applyExpr = (d: number, r: string): Expr => sub(inflow(d, r), mul(rd('od'), rd(r)));
const applyArrays = (d: number): string[] => [...range(d).flatMap((k) => [`f${k}`, `b${k}`]), 'od'];

/**
 * One RKL2 stage fused with its apply: out = μ y1 + ν y2 + (1 − μ − ν) y0 + a·(A y1) + γ·(A y0),
 * A y0 given. a: [f0, b0, …, od, y1, y2, y0, l0, out], p: [μ, ν, 1 − μ − ν, a, γ, s0 … s(d−2), size].
 */
export const rkl2Stage = (d: number): KernelDesc => ({
  name: `rkl2Stage${d}`,
  arrays: [...applyArrays(d), 'y1', 'y2', 'y0', 'l0', 'out'],
  params: ['mu', 'nu', 'c0', 'a', 'g', ...strides(d), 'size'],
  strides: strides(d),
  size: 'size',
  body: [store('out', sum(mul(par('mu'), rd('y1')), mul(par('nu'), rd('y2')), mul(par('c0'), rd('y0')), mul(par('a'), applyExpr(d, 'y1')), mul(par('g'), rd('l0'))))],
});

/** Explicit Euler fused with its apply: out = ρ + dt·(A ρ), the same bits as the two passes. a: [f0, b0, …, od, r, out], p: [dt, s…, size]. */
export const eulerStep = (d: number): KernelDesc => ({
  name: `eulerStep${d}`,
  arrays: [...applyArrays(d), 'r', 'out'],
  params: ['dt', ...strides(d), 'size'],
  strides: strides(d),
  size: 'size',
  body: [store('out', add(rd('r'), mul(par('dt'), applyExpr(d, 'r'))))],
});

/**
 * Explicit Euler written as the convex combination ρ(1 − dt·od) + dt·in-flow, nonnegative in
 * float32 too for dt ≤ 1/max od (the gpu.js backends). a: [f0, b0, …, od, r, out], p: [dt, s…, size].
 */
export const eulerConvex = (d: number): KernelDesc => ({
  name: `eulerConvex${d}`,
  arrays: [...applyArrays(d), 'r', 'out'],
  params: ['dt', ...strides(d), 'size'],
  strides: strides(d),
  size: 'size',
  body: [store('out', add(mul(rd('r'), sub(lit(1), mul(par('dt'), rd('od')))), mul(par('dt'), inflow(d, 'r'))))],
});

/** out = r / (1 + θ(−S_ii)): Jacobi on I − θS without a stored inverse (the gpu.js backends). */
export const jacobiShifted: KernelDesc = { name: 'jacobiShifted', arrays: ['d', 'r', 'out'], params: ['th'], body: [store('out', div(rd('r'), add(lit(1), mul(par('th'), rd('d')))))] };

/** Every cell = v. */
export const fill: KernelDesc = { name: 'fill', arrays: ['out'], params: ['v'], body: [store('out', par('v'))] };

export const minimum: KernelDesc = { name: 'minimum', arrays: ['x'], params: [], body: [], reduce: { op: 'min', v: rd('x') } };
export const maximum: KernelDesc = { name: 'maximum', arrays: ['x'], params: [], body: [], reduce: { op: 'max', v: rd('x') } };

export const dot: KernelDesc = { name: 'dot', arrays: ['x', 'y'], params: [], body: [], reduce: { op: 'sum', v: mul(rd('x'), rd('y')) } };

/** y += α p, r −= α q, returns Σ r² (after the update, in index order). */
export const cgUpdate: KernelDesc = {
  name: 'cgUpdate',
  arrays: ['p', 'q', 'y', 'r'],
  params: ['alpha'],
  body: [store('y', add(rd('y'), mul(par('alpha'), rd('p')))), store('r', sub(rd('r'), mul(par('alpha'), rd('q'))))],
  reduce: { op: 'sum', v: mul(rd('r'), rd('r')) },
};

export const lincomb: KernelDesc = { name: 'lincomb', arrays: ['x', 'y', 'out'], params: ['ca', 'cb'], body: [store('out', add(mul(par('ca'), rd('x')), mul(par('cb'), rd('y'))))] };

/**
 * out = ((ca x + cb y) + cc z) + cd w: three steps of a lincomb chain acc ← 1·acc + c q in one
 * pass, the same bits (1·acc is acc; the sums associate as the chain's). a: [x, y, z, w, out],
 * p: [ca, cb, cc, cd].
 */
export const lincomb4: KernelDesc = {
  name: 'lincomb4',
  arrays: ['x', 'y', 'z', 'w', 'out'],
  params: ['ca', 'cb', 'cc', 'cd'],
  body: [store('out', add(add(add(mul(par('ca'), rd('x')), mul(par('cb'), rd('y'))), mul(par('cc'), rd('z'))), mul(par('cd'), rd('w'))))],
};

/**
 * out = ca x + cb y, returning Σ z·out (the new out): a Gram–Schmidt subtraction and the next
 * projection's dot product in one pass, the same bits as `lincomb` then `dot(z, out)` (no
 * stencil, so the sum runs in the same order). a: [x, y, z, out], p: [ca, cb].
 */
export const lincombDot: KernelDesc = {
  name: 'lincombDot',
  arrays: ['x', 'y', 'z', 'out'],
  params: ['ca', 'cb'],
  body: [store('out', add(mul(par('ca'), rd('x')), mul(par('cb'), rd('y'))))],
  reduce: { op: 'sum', v: mul(rd('z'), rd('out')) },
};

/** out = inv ⊙ r (Jacobi). */
export const scaleBy: KernelDesc = { name: 'scaleBy', arrays: ['inv', 'r', 'out'], params: [], body: [store('out', mul(rd('inv'), rd('r')))] };

export const zero: KernelDesc = { name: 'zero', arrays: ['x'], params: [], body: [store('x', lit(0))] };

/** x += c · P xc (multigrid prolongation: P is an aggregate index and a weight per fine cell). */
export const prolongAdd: KernelDesc = { name: 'prolongAdd', arrays: ['pw', 'xc', 'x'], ints: ['agg'], params: ['c'], body: [store('x', add(rd('x'), prod(par('c'), rd('pw'), gather('xc', 'agg'))))] };

/**
 * bc[agg] += θ pw Σ_k w_k x[i + s_k]: Pᵀ of the residual right after one forward Gauss–Seidel
 * sweep from x = 0, which holds only the upper neighbours (solvers/multigrid-kernels.ts).
 * a: [pw, x, bc, w0 … w(d−1)], ints: [agg], p: [θ, s0 … s(d−2), size].
 */
export const restrictSweep = (d: number): KernelDesc => ({
  name: `restrictSweep${d}`,
  arrays: ['pw', 'x', 'bc', ...range(d).map((k) => `w${k}`)],
  ints: ['agg'],
  params: ['th', ...strides(d), 'size'],
  strides: strides(d),
  size: 'size',
  body: [scatterAdd('bc', 'agg', prod(par('th'), rd('pw'), sum(...innerFirst(d).map((k) => mul(rd(`w${k}`), rd('x', up(d, k)))))))],
});

/**
 * bc[agg] += pw (b − diag x + θ Σ_j w_ij x_j): Pᵀ(b − (I − θS) x).
 * a: [b, x, diag, pw, bc, w0 … w(d−1)], ints: [agg], p: [θ, s0 … s(d−2), size].
 */
export const restrictResidual = (d: number): KernelDesc => ({
  name: `restrictResidual${d}`,
  arrays: ['b', 'x', 'diag', 'pw', 'bc', ...range(d).map((k) => `w${k}`)],
  ints: ['agg'],
  params: ['th', ...strides(d), 'size'],
  strides: strides(d),
  size: 'size',
  body: [scatterAdd('bc', 'agg', mul(rd('pw'), add(sub(rd('b'), mul(rd('diag'), rd('x'))), mul(par('th'), sum(...neighbours(d, symW, 'x'))))))],
});

/**
 * One lexicographic Gauss–Seidel sweep on (I − θS) x = b, in place: x_i = b_i/diag_i +
 * θ/diag_i Σ_j w_ij x_j. The neighbour just updated (x[i − 1] forward, x[i + 1] backward) enters
 * last, so the chain from one cell to the next is one multiply-add (the emitters carry it in a
 * local). a: [b, x, inv, w0 … w(d−1)], p: [θ, s0 … s(d−2), size].
 */
export const gaussSeidel = (d: number, forward: boolean): KernelDesc => {
  const inner = d - 1;
  const last = forward ? mul(mul(loc('q'), rd(`w${inner}`, -1)), rd('x', -1)) : mul(mul(loc('q'), rd(`w${inner}`)), rd('x', 1));
  const rest = neighbours(d, symW, 'x').filter((_, j) => j !== (forward ? 1 : 0));
  return {
    name: `gs${forward ? 'Forward' : 'Backward'}${d}`,
    arrays: ['b', 'x', 'inv', ...range(d).map((k) => `w${k}`)],
    params: ['th', ...strides(d), 'size'],
    strides: strides(d),
    size: 'size',
    backward: !forward,
    body: [let_('q', mul(par('th'), rd('inv'))), store('x', add(add(mul(rd('b'), rd('inv')), mul(loc('q'), sum(...rest))), last))],
  };
};

/** acc += w x: the quadrature's accumulation of a node (solvers/quadrature.ts). */
export const accumulate: KernelDesc = { name: 'accumulate', arrays: ['acc', 'x'], params: ['w'], body: [store('acc', add(rd('acc'), mul(par('w'), rd('x'))))] };

/** x = a x (in place). */
export const scale: KernelDesc = { name: 'scale', arrays: ['x'], params: ['a'], body: [store('x', mul(rd('x'), par('a')))] };
/** out = x / s (ρ → v = ρ/√π). */
export const divide: KernelDesc = { name: 'divide', arrays: ['x', 's', 'out'], params: [], body: [store('out', div(rd('x'), rd('s')))] };
/** out = x s (v → ρ = √π v). */
export const multiply: KernelDesc = { name: 'multiply', arrays: ['x', 's', 'out'], params: [], body: [store('out', mul(rd('x'), rd('s')))] };
export const total: KernelDesc = { name: 'sum', arrays: ['x'], params: [], body: [], reduce: { op: 'sum', v: rd('x') } };
export const norm1: KernelDesc = { name: 'norm1', arrays: ['x'], params: [], body: [], reduce: { op: 'sum', v: abs(rd('x')) } };

/** Every description, each once: what the registry compiles and the WebAssembly module holds. */
export const ALL_KERNELS: readonly KernelDesc[] = [
  ...[1, 2, 3].flatMap((d) => [symmetric(d), shifted(d), apply(d), rkl2Stage(d), eulerStep(d), eulerConvex(d)]),
  ...[2, 3].map(shiftedDot),
  jacobiShifted,
  fill,
  minimum,
  maximum,
  dot,
  cgUpdate,
  lincomb,
  lincombDot,
  lincomb4,
  scaleBy,
  zero,
  prolongAdd,
  accumulate,
  scale,
  divide,
  multiply,
  total,
  norm1,
  ...[2, 3].flatMap((d) => [restrictSweep(d), restrictResidual(d), gaussSeidel(d, true), gaussSeidel(d, false)]),
];

