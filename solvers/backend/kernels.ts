/**
 * gpu.js kernel sources, generated per grid dimension so the stencil is unrolled with no run-time
 * branches on the dimension. Layout: flat fields of `size` cells (C order, as Grid); the operator's
 * coefficients are packed per cell as [f_0, b_0, …, f_{d−1}, b_{d−1}, −A_ii] (K = 2d + 1 floats),
 * and the symmetric weights as [w_0, …, w_{d−1}, −S_ii] (d + 1 floats), so that no kernel binds
 * more than 6 buffers (WebGPU guarantees 8 storage buffers per stage).
 *
 * Walls need no branches: faces on an upper wall carry zero coefficients (operator.ts), so the
 * only checks are the ends of the flat array.
 */

/** Σ over faces of the in-flow terms b_k[i] r[i+s_k] + f_k[i−s_k] r[i−s_k] into `nb`. */
function inflow(dim: number, r: string): string {
  const lines = ['let nb = 0.0;'];
  for (let k = 0; k < dim; k++) {
    const s = `this.constants.s${k}`;
    lines.push(`if (i + ${s} < this.constants.size) { nb += coef[i * this.constants.K + ${2 * k + 1}] * ${r}[i + ${s}]; }`);
    lines.push(`if (i >= ${s}) { nb += coef[(i - ${s}) * this.constants.K + ${2 * k}] * ${r}[i - ${s}]; }`);
  }
  lines.push(`const od = coef[i * this.constants.K + ${2 * dim}];`);
  return lines.join('\n');
}

function symInflow(dim: number): string {
  const lines = ['let nb = 0.0;'];
  for (let k = 0; k < dim; k++) {
    const s = `this.constants.s${k}`;
    lines.push(`if (i + ${s} < this.constants.size) { nb += sym[i * this.constants.KS + ${k}] * v[i + ${s}]; }`);
    lines.push(`if (i >= ${s}) { nb += sym[(i - ${s}) * this.constants.KS + ${k}] * v[i - ${s}]; }`);
  }
  lines.push(`const od = sym[i * this.constants.KS + ${dim}];`);
  return lines.join('\n');
}

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

const fn = (args: string, body: string): string => `function (${args}) {\nconst i = this.thread.x;\n${body}\n}`;

/** A reduction over row i's L contiguous cells: init, then `step` for each cell j, returning `result`. */
const rowLoop = (init: string, step: string, result: string): string =>
  `${init}\nfor (let k = 0; k < this.constants.L; k++) {\nconst j = i * this.constants.L + k;\nif (j < this.constants.size) { ${step} }\n}\nreturn ${result};`;

export function kernelSources(dim: number): KernelSources {
  return {
    upload: 'function (a) { return a[this.thread.x]; }',
    apply: fn('r, coef', `${inflow(dim, 'r')}\nreturn nb - od * r[i];`),
    euler: fn('r, coef, dt', `${inflow(dim, 'r')}\nreturn r[i] * (1.0 - dt * od) + dt * nb;`),
    rkl2: fn('y1, y2, y0, l0, coef, mu, nu, c0, a, g', `${inflow(dim, 'y1')}\nreturn mu * y1[i] + nu * y2[i] + c0 * y0[i] + a * (nb - od * y1[i]) + g * l0[i];`),
    lincomb: fn('a, x, b, y', 'return a * x[i] + b * y[i];'),
    shifted: fn('v, sym, theta', `${symInflow(dim)}\nreturn v[i] - theta * (nb - od * v[i]);`),
    jacobi: fn('r, sym, theta', `return r[i] / (1.0 + theta * sym[i * this.constants.KS + ${dim}]);`),
    mul: fn('x, w', 'return x[i] * w[i];'),
    // Partial sums over rows of L contiguous cells (a constant-bounded loop, never truncated);
    // the host adds the rows in float64 (docs/gpujs.md §4.4, method B).
    rowDot: fn('x, y', rowLoop('let s = 0.0;', 's += x[j] * y[j];', 's')),
    rowSum: fn('x', rowLoop('let s = 0.0;', 's += x[j];', 's')),
    rowAbsSum: fn('x', rowLoop('let s = 0.0;', 's += Math.abs(x[j]);', 's')),
    // Every row's first cell i·L exists (rows = ⌈size/L⌉), so it seeds the row's extremum.
    rowMin: fn('x', rowLoop('let m = x[i * this.constants.L];', 'm = Math.min(m, x[j]);', 'm')),
    rowMax: fn('x', rowLoop('let m = x[i * this.constants.L];', 'm = Math.max(m, x[j]);', 'm')),
    fill: fn('v', 'return v;'),
  };
}
