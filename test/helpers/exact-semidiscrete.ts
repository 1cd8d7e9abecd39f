/**
 * The semi-discrete exact solution of dρ/dt = Aρ for the exponential integrator's tests: in the
 * symmetric form u = ρ/√π, u' = S u with S symmetric (solvers/operator.ts), S = V diag(λ) Vᵀ by the
 * dense Jacobi eigen-solver (solvers/dense.ts), ρ(t) = √π V diag(e^(λt)) Vᵀ u(0) (docs/oracles.md
 * §12). No spatial error enters a comparison with it.
 */
import { symmetricEigen } from '../../solvers/dense.js';
import type { FvOperator } from '../../solvers/operator.js';
import { applyS } from '../../solvers/kernels/operator-kernels.js';

/** The dense symmetric form S, column by column: S e_j by the operator's own stencil. */
export function denseS(op: FvOperator): number[][] {
  const n = op.grid.size;
  const e = new Float64Array(n);
  const col = new Float64Array(n);
  const s: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    applyS(op, e, col);
    for (let i = 0; i < n; i++) s[i][j] = col[i];
  }
  return s;
}

export interface ExactSolution {
  /** ρ(t) = √π exp(tS) ρ(0)/√π. */
  at(t: number): Float64Array;
  /** max_k ‖S v_k − λ_k v_k‖∞ / ‖S‖∞: the reference's own accuracy. */
  residual: number;
  /** ‖Σ_k v_k ⟨v_k, u0⟩ − u0‖∞ / ‖u0‖∞: V is orthogonal. */
  reconstruction: number;
}

export function exactSolution(op: FvOperator, rho0: Float64Array): ExactSolution {
  const n = op.grid.size;
  const s = denseS(op);
  const { values, vectors } = symmetricEigen(s);
  const u0 = Array.from(rho0, (r, i) => r / op.sqrtPi[i]);
  const coef = vectors.map((v) => v.reduce((acc, vi, i) => acc + vi * u0[i], 0));
  let sNorm = 0;
  for (const row of s) sNorm = Math.max(sNorm, row.reduce((a, x) => a + Math.abs(x), 0));
  let residual = 0;
  for (let k = 0; k < n; k++) {
    const v = vectors[k];
    for (let i = 0; i < n; i++) {
      let sv = 0;
      for (let j = 0; j < n; j++) sv += s[i][j] * v[j];
      residual = Math.max(residual, Math.abs(sv - values[k] * v[i]) / sNorm);
    }
  }
  const at = (t: number): Float64Array => {
    const u = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const c = coef[k] * Math.exp(values[k] * t);
      const v = vectors[k];
      for (let i = 0; i < n; i++) u[i] += c * v[i];
    }
    for (let i = 0; i < n; i++) u[i] *= op.sqrtPi[i];
    return u;
  };
  const back = at(0);
  let reconstruction = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    reconstruction = Math.max(reconstruction, Math.abs(back[i] - rho0[i]) / op.sqrtPi[i]);
    scale = Math.max(scale, Math.abs(u0[i]));
  }
  return { at, residual, reconstruction: reconstruction / scale };
}

/** Σ|a − b| / Σ|b|. */
export function relL1(a: Float64Array, b: Float64Array): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += Math.abs(a[i] - b[i]);
    n += Math.abs(b[i]);
  }
  return d / n;
}
