import type { Grid } from '../../solvers/grid.js';
import type { NoiseModel } from '../../solvers/problem.js';
import type { CompiledExpr } from '../landscape/expr.js';

/** Smallest eigenvalue of a symmetric d×d matrix (d ≤ 3) in closed form. */
function minEigenvalue(h: number[][]): number {
  const d = h.length;
  if (d === 1) return h[0][0];
  if (d === 2) {
    const m = 0.5 * (h[0][0] + h[1][1]);
    const r = Math.hypot(0.5 * (h[0][0] - h[1][1]), h[0][1]);
    return m - r;
  }
  // Trigonometric solution of the characteristic cubic (Smith 1961).
  const p1 = h[0][1] ** 2 + h[0][2] ** 2 + h[1][2] ** 2;
  const q = (h[0][0] + h[1][1] + h[2][2]) / 3;
  if (p1 === 0) return Math.min(h[0][0], h[1][1], h[2][2]);
  const p2 = (h[0][0] - q) ** 2 + (h[1][1] - q) ** 2 + (h[2][2] - q) ** 2 + 2 * p1;
  const p = Math.sqrt(p2 / 6);
  const b = h.map((row, i) => row.map((v, j) => (v - (i === j ? q : 0)) / p));
  const detB = b[0][0] * (b[1][1] * b[2][2] - b[1][2] * b[2][1]) - b[0][1] * (b[1][0] * b[2][2] - b[1][2] * b[2][0]) + b[0][2] * (b[1][0] * b[2][1] - b[1][1] * b[2][0]);
  const r = Math.max(-1, Math.min(1, detB / 2));
  const phi = Math.acos(r) / 3;
  return q + 2 * p * Math.cos(phi + (2 * Math.PI) / 3);
}

/**
 * Bakry–Émery: for additive noise (L = DΔ − ∇f·∇, π ∝ e^{−f/D}) on a convex domain with
 * reflecting walls, ∇²f ≥ κ > 0 gives λ₁ ≥ κ (the curvature of f/D times D; D cancels).
 * κ is the minimum over the cell centres of the smallest Hessian eigenvalue (symbolic Hessian);
 * a bound on the continuous λ₁, which the discrete one approaches as O(h²).
 */
export function bakryEmery(grid: Grid, expr: CompiledExpr, noise: NoiseModel): { lower: number; kappa: number } | { reason: string } {
  if (noise.kind !== 'additive') return { reason: 'Bakry–Émery: applies to additive noise only (multiplicative D depends on f)' };
  const hess = expr.hessian();
  const d = grid.dim;
  const coords = Array.from({ length: d }, (_, k) => grid.coordinateField(k));
  const vals = hess.map((row) =>
    row.map((e) => {
      const out = new Float64Array(grid.size);
      e.evalPoints(coords, out);
      return out;
    }),
  );
  let kappa = Infinity;
  const h = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let i = 0; i < grid.size; i++) {
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) h[a][b] = vals[a][b][i];
    const m = minEigenvalue(h);
    if (!(m < kappa)) {
      if (Number.isNaN(m)) return { reason: 'Bakry–Émery: the Hessian of f is not finite on the grid' };
      continue;
    }
    kappa = m;
  }
  if (!(kappa > 0)) return { reason: `Bakry–Émery: f is not strictly convex on the box (min Hessian eigenvalue ${kappa.toPrecision(3)} ≤ 0)` };
  return { lower: kappa, kappa };
}
