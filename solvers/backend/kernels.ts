/**
 * The gpu.js backend's kernel sources, generated from the kernel descriptions
 * (solvers/kernels/stencils.ts) by solvers/kernels/emit-gpujs.ts for one grid dimension, so the
 * stencil is unrolled with no run-time branches on the dimension. Layout: flat fields of `size`
 * cells (C order, as Grid); the operator's coefficients packed per cell as [f_0, b_0, …,
 * f_{d−1}, b_{d−1}, −A_ii] (K = 2d + 1 floats), the symmetric weights as [w_0, …, w_{d−1}, −S_ii]
 * (d + 1 floats), so that no kernel binds more than 6 buffers (WebGPU guarantees 8 storage
 * buffers per stage).
 */
import { gpuMap, gpuRowReduce, type Binding } from '../kernels/emit-gpujs.js';
import { apply, dot, eulerConvex, fill, jacobiShifted, lincomb, maximum, minimum, multiply, norm1, rkl2Stage, shifted, total } from '../kernels/stencils.js';

export interface KernelSources {
  upload: string;
  apply: string;
  /** Written as the convex combination r(1 − dt·od) + dt·inflow: nonnegative in float32 too. */
  euler: string;
  rkl2: string;
  lincomb: string;
  shifted: string;
  jacobi: string;
  mul: string;
  rowDot: string;
  rowSum: string;
  rowAbsSum: string;
  rowMin: string;
  rowMax: string;
  /** Every cell = the scalar argument (zeroing a field). */
  fill: string;
}

const field = (name: string) => (idx: string): string => `${name}[${idx}]`;

export function kernelSources(dim: number): KernelSources {
  const strides: Record<string, string> = {};
  for (let k = 0; k + 1 < dim; k++) strides[`s${k}`] = `this.constants.s${k}`;
  const coefArrays: Record<string, (idx: string) => string> = { od: (idx) => `coef[(${idx}) * this.constants.K + ${2 * dim}]` };
  for (let k = 0; k < dim; k++) {
    coefArrays[`f${k}`] = (idx) => `coef[(${idx}) * this.constants.K + ${2 * k}]`;
    coefArrays[`b${k}`] = (idx) => `coef[(${idx}) * this.constants.K + ${2 * k + 1}]`;
  }
  const symArrays: Record<string, (idx: string) => string> = { d: (idx) => `sym[(${idx}) * this.constants.KS + ${dim}]` };
  for (let k = 0; k < dim; k++) symArrays[`w${k}`] = (idx) => `sym[(${idx}) * this.constants.KS + ${k}]`;
  const bind = (args: string[], arrays: Record<string, (idx: string) => string>, params: Record<string, string> = {}): Binding => {
    const all = { ...arrays };
    for (const a of args) all[a] ??= field(a);
    return { args, arrays: all, params: { ...strides, ...params } };
  };
  return {
    upload: 'function (a) { return a[this.thread.x]; }',
    apply: gpuMap(apply(dim), bind(['r', 'coef'], coefArrays)),
    euler: gpuMap(eulerConvex(dim), bind(['r', 'coef', 'dt'], coefArrays, { dt: 'dt' })),
    rkl2: gpuMap(rkl2Stage(dim), bind(['y1', 'y2', 'y0', 'l0', 'coef', 'mu', 'nu', 'c0', 'a', 'g'], coefArrays, { mu: 'mu', nu: 'nu', c0: 'c0', a: 'a', g: 'g' })),
    lincomb: gpuMap(lincomb, bind(['a', 'x', 'b', 'y'], {}, { ca: 'a', cb: 'b' })),
    shifted: gpuMap(shifted(dim), bind(['v', 'sym', 'theta'], symArrays, { th: 'theta' })),
    jacobi: gpuMap(jacobiShifted, bind(['r', 'sym', 'theta'], { d: symArrays.d }, { th: 'theta' })),
    mul: gpuMap(multiply, bind(['x', 'w'], { s: field('w') })),
    rowDot: gpuRowReduce(dot, bind(['x', 'y'], {})),
    rowSum: gpuRowReduce(total, bind(['x'], {})),
    rowAbsSum: gpuRowReduce(norm1, bind(['x'], {})),
    rowMin: gpuRowReduce(minimum, bind(['x'], {})),
    rowMax: gpuRowReduce(maximum, bind(['x'], {})),
    fill: gpuMap(fill, bind(['v'], {}, { v: 'v' })),
  };
}
