/**
 * Diffusion fields for the solver tests and the steady-state benchmark, written here independently of
 * src/noise (which reads scenarios): a constant-matrix OU process and a Hessian-aligned Feng–Tu valley.
 */
import type { DiffusionField, GradientField } from '../solvers/anisotropic/types.js';

/** f = θᵀHθ/2 with a constant D (oracles.md §8: Gaussian steady state, covariance from Lyapunov). */
export function ouField(H: readonly number[], D: readonly number[]): { field: DiffusionField; grad: GradientField } {
  return {
    field: { dim: 2, evalD: (_x, o) => o.set(D), evalDivD: (_x, o) => o.fill(0) },
    grad: (x, o) => {
      o[0] = H[0] * x[0] + H[1] * x[1];
      o[1] = H[2] * x[0] + H[3] * x[1];
    },
  };
}

/**
 * Feng & Tu's valley f = l0·e^(g x)·y²/2 + floor with D = c·f·H₊ (H₊: the Hessian with its negative
 * eigenvalue set to 0), the shape of examples/feng-tu-anisotropic/hessian.yaml (c = ησ/2). D is
 * rank-deficient where H is (H has a negative eigenvalue off the valley floor) and strongly
 * anisotropic: the hardest generator the scheme produces in the bundled examples. ∇·D by central
 * differences of step 1e-5 (smooth field; the solvers only need a consistent generator).
 */
export function fengTuHessianField(p: { l0: number; g: number; floor: number; c: number }): { field: DiffusionField; grad: GradientField } {
  const { l0, g, floor, c } = p;
  const evalD = (x: ArrayLike<number>, o: Float64Array): void => {
    const e = l0 * Math.exp(g * x[0]);
    const y = x[1];
    const f = (e * y * y) / 2 + floor;
    const a = (e * g * g * y * y) / 2;
    const b = e * g * y;
    const d = e;
    // Positive part of [[a, b], [b, d]] in closed form.
    const m = (a + d) / 2;
    const r = Math.hypot((a - d) / 2, b);
    const l1 = m + r;
    const l2 = m - r;
    if (l2 >= 0) {
      o[0] = c * f * a;
      o[1] = o[2] = c * f * b;
      o[3] = c * f * d;
      return;
    }
    if (l1 <= 0) {
      o.fill(0);
      return;
    }
    // Eigenvector of l1: (b, l1 − a) or (l1 − d, b), whichever is better conditioned.
    let vx = b;
    let vy = l1 - a;
    if (Math.hypot(vx, vy) < Math.hypot(l1 - d, b)) {
      vx = l1 - d;
      vy = b;
    }
    const n2 = vx * vx + vy * vy;
    const s = (c * f * l1) / n2;
    o[0] = s * vx * vx;
    o[1] = o[2] = s * vx * vy;
    o[3] = s * vy * vy;
  };
  const tmp = new Float64Array(4);
  const xp = new Float64Array(2);
  const step = 1e-5;
  const evalDivD = (x: ArrayLike<number>, o: Float64Array): void => {
    o.fill(0);
    for (let j = 0; j < 2; j++) {
      xp[0] = x[0];
      xp[1] = x[1];
      xp[j] = x[j] + step;
      evalD(xp, tmp);
      const p0 = tmp[j];
      const p1 = tmp[2 + j];
      xp[j] = x[j] - step;
      evalD(xp, tmp);
      o[0] += (p0 - tmp[j]) / (2 * step);
      o[1] += (p1 - tmp[2 + j]) / (2 * step);
    }
  };
  return {
    field: { dim: 2, evalD, evalDivD },
    grad: (x, o) => {
      const e = l0 * Math.exp(g * x[0]);
      o[0] = (g * e * x[1] * x[1]) / 2;
      o[1] = e * x[1];
    },
  };
}
