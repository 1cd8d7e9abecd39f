import type { FvOperator } from '../operator.js';
import { JacobiPreconditioner, type Preconditioner } from '../linear.js';
import { dot } from '../vec.js';
import { symmetricEigen } from './dense.js';
import { DirichletForm } from './dirichlet.js';
import { SingularPcg } from './pcg.js';

/**
 * Smallest nonzero eigenvalues of −S on the complement of √π, for any dimension.
 *
 * Method: shift-invert subspace iteration with Rayleigh–Ritz over everything solved so far (a
 * block inverse-iteration / Davidson hybrid). Each step solves (−S)x = y_j for the current Ritz
 * vectors y_j by PCG on the deflated singular system, warm-started at y_j/θ_j (exact for a
 * converged pair, so late solves are cheap), and adds x to the basis. Inverting −S turns a tiny,
 * isolated gap into a dominant eigenvalue of (−S)⁺, so double wells converge in a few steps;
 * Lanczos on −S itself would have to resolve λ₁ below its own round-off ε‖S‖.
 *
 * Accuracy for tiny gaps: the Ritz matrix is the Gram matrix (GQ)ᵀ(GQ) of face differences and
 * residuals are formed as Gᵀ(Gy) − θy (DirichletForm), so both stay accurate relative to λ₁
 * rather than to ‖S‖.
 */
export interface SubspaceOptions {
  modes: number;
  /**
   * Target ‖(−S)v − λv‖ / λ per mode (default 1e-7). The eigenvalue error is quadratic in the
   * residual (Kato–Temple: ≤ ‖r‖²/gap), so 1e-7 gives λ to ~1e-14·λ/gap relative.
   */
  tol?: number;
  /** Target relative eigenvalue error (Kato–Temple estimate with the Ritz gap; default 1e-11). */
  valueTol?: number;
  /** Preconditioner for (I − θS) (default Jacobi). */
  preconditioner?: Preconditioner;
  maxOuter?: number;
  /** Max CG iterations per solve (default 20 000). */
  maxInner?: number;
}

export interface SubspaceResult {
  values: number[];
  vectors: Float64Array[];
  residuals: number[];
  /** Outer (Rayleigh–Ritz) iterations. */
  iterations: number;
  /** CG iterations over all solves. */
  innerIterations: number;
  solves: number;
  converged: boolean;
  /** Bound on |θ − λ|/θ from the residuals and the Ritz gaps (Kato–Temple), floored at round-off. */
  relativeAccuracy: number;
  preconditioner: string;
}

const EPS = 2 ** -52;

/** Deterministic pseudo-random numbers in [−0.5, 0.5) (starting vectors must not depend on the run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/** Smooth starts √π·(x_k, x_k x_l, ...): low modes are √π times smooth functions, so these overlap them well. */
function startVectors(op: FvOperator, count: number): Float64Array[] {
  const g = op.grid;
  const coords = Array.from({ length: g.dim }, (_, k) => {
    const c = g.coordinateField(k);
    const mid = 0.5 * (g.lo[k] + g.hi[k]);
    const half = 0.5 * (g.hi[k] - g.lo[k]);
    for (let i = 0; i < c.length; i++) c[i] = (c[i] - mid) / half;
    return c;
  });
  const funcs: ((i: number) => number)[] = [];
  for (let k = 0; k < g.dim; k++) funcs.push((i) => coords[k][i]);
  for (let k = 0; k < g.dim; k++) for (let l = k; l < g.dim; l++) funcs.push((i) => coords[k][i] * coords[l][i]);
  for (let k = 0; k < g.dim; k++) funcs.push((i) => coords[k][i] ** 3);
  const out: Float64Array[] = [];
  const rnd = lcg(2024);
  for (let j = 0; j < count; j++) {
    const v = new Float64Array(g.size);
    const f = funcs[j];
    for (let i = 0; i < g.size; i++) v[i] = op.sqrtPi[i] * (f ? f(i) : rnd());
    out.push(v);
  }
  return out;
}

export function shiftInvertModes(op: FvOperator, opts: SubspaceOptions): SubspaceResult {
  const k = opts.modes;
  const n = op.grid.size;
  if (k < 1 || k > n - 2) throw new RangeError(`modes must be between 1 and ${n - 2} for ${n} cells`);
  const tol = opts.tol ?? 1e-7;
  const valTol = opts.valueTol ?? 1e-11;
  const maxOuter = opts.maxOuter ?? 100;
  const maxInner = opts.maxInner ?? 20000;
  const A = new DirichletForm(op);
  const p = Math.min(k + 1, n - 1);
  const maxBasis = Math.min(Math.max(4 * p, 8), n - 1);
  const s = Float64Array.from(op.sqrtPi);
  const sn = Math.sqrt(dot(s, s));
  for (let i = 0; i < n; i++) s[i] /= sn;
  const pre = opts.preconditioner ?? new JacobiPreconditioner(op);
  // The preconditioner approximates (σ − S)⁻¹; σ small against ‖S‖ keeps it close to (−S)⁺.
  const pcg = new SingularPcg(A, s, pre, 1e-8 * A.normBound);

  let Q: Float64Array[] = [];
  let GQ: Float64Array[] = [];
  let H: number[][] = [];
  const addVector = (x: Float64Array): boolean => {
    const before = Math.sqrt(dot(x, x));
    if (!(before > 0) || !Number.isFinite(before)) return false;
    for (let pass = 0; pass < 2; pass++) {
      const c0 = dot(x, s);
      for (let i = 0; i < n; i++) x[i] -= c0 * s[i];
      for (const q of Q) {
        const c = dot(x, q);
        for (let i = 0; i < n; i++) x[i] -= c * q[i];
      }
    }
    const after = Math.sqrt(dot(x, x));
    if (!(after > 1e-10 * before)) return false;
    for (let i = 0; i < n; i++) x[i] /= after;
    const gx = new Float64Array(A.faceCount);
    A.grad(x, gx);
    const row = GQ.map((gq) => A.form(gq, gx));
    for (let j = 0; j < H.length; j++) H[j].push(row[j]);
    H.push([...row, A.form(gx, gx)]);
    Q.push(x);
    GQ.push(gx);
    return true;
  };
  for (const v of startVectors(op, p)) addVector(v);

  let values: number[] = [];
  let ritz: Float64Array[] = [];
  let residuals: number[] = [];
  let prev: number[] = [];
  let iterations = 0;
  let converged = false;
  let gaps: number[] = [];
  const tmp = new Float64Array(n);
  for (; iterations < maxOuter; iterations++) {
    const eig = symmetricEigen(H);
    const m = Q.length;
    const take = Math.min(p, m);
    values = eig.values.slice(0, take);
    ritz = [];
    const gRitz: Float64Array[] = [];
    for (let j = 0; j < take; j++) {
      const y = new Float64Array(n);
      const gy = new Float64Array(A.faceCount);
      const c = eig.vectors[j];
      for (let l = 0; l < m; l++) {
        const cl = c[l];
        if (cl === 0) continue;
        const q = Q[l];
        const gq = GQ[l];
        for (let i = 0; i < n; i++) y[i] += cl * q[i];
        for (let i = 0; i < gy.length; i++) gy[i] += cl * gq[i];
      }
      ritz.push(y);
      gRitz.push(gy);
      // The Ritz matrix mixes entries of size ‖S‖ with the gap, so its eigenvalues carry
      // absolute (not relative) round-off; the Rayleigh quotient of the Ritz vector through its
      // face differences is accurate relative to λ₁ (checked against 60-digit arithmetic).
      values[j] = A.form(gy, gy) / dot(y, y);
    }
    residuals = ritz.map((y, j) => {
      A.gradT(gRitz[j], tmp);
      let r2 = 0;
      for (let i = 0; i < n; i++) r2 += (tmp[i] - values[j] * y[i]) ** 2;
      return Math.sqrt(r2);
    });
    gaps = values.map((v, j) => {
      const up = j + 1 < eig.values.length ? eig.values[j + 1] - v : Infinity;
      const down = j > 0 ? v - eig.values[j - 1] : Infinity;
      // ≥ 0: values[] are Rayleigh quotients, which may cross a (near-)degenerate neighbour's Ritz value by round-off.
      return Math.max(0, Math.min(up, down));
    });
    // A pair is done when its residual is small outright, or when the eigenvalue is (quadratic
    // Kato–Temple estimate r²/(gap·θ) with the Ritz gap) and the vector is not far off either.
    const target = values.map((v, j) => Math.min(1e-2 * v, Math.max(tol * v, Math.sqrt(valTol * gaps[j] * v))));
    const done = values.map((v, j) => {
      const floor = 1e3 * EPS * Math.sqrt(A.normBound * Math.max(v, 0)) + 1e2 * EPS * v;
      const stalled = prev[j] !== undefined && Math.abs(prev[j] - v) <= 1e-14 * v && residuals[j] <= Math.sqrt(tol) * v;
      return residuals[j] <= target[j] + floor || stalled;
    });
    if (done.slice(0, k).every(Boolean) && take >= k) {
      converged = true;
      break;
    }
    prev = values.slice();
    if (m + take > maxBasis) {
      // Thick restart: keep the Ritz vectors (orthonormal, and their Ritz matrix is diagonal).
      Q = ritz.map((y) => Float64Array.from(y));
      GQ = gRitz;
      H = values.map((v, j) => values.map((_, l) => (l === j ? v : 0)));
    }
    let added = 0;
    for (let j = 0; j < take; j++) {
      // Only the wanted modes get solves; the extra Ritz vector rides along for the gap estimate.
      if (j >= k || done[j]) continue;
      // Inverse iteration from y: x = (−S)⁺y = y/θ − (−S)⁺r/θ. y/θ is already in the basis, so
      // only the correction δ = (−S)⁺(−r/θ) is new; solving for it from zero avoids the
      // cancellation of adding a tiny correction to a huge y/θ when the gap is tiny.
      const y = ritz[j];
      const th = values[j] > 0 ? values[j] : 1;
      A.gradT(gRitz[j], tmp);
      const rhs = new Float64Array(n);
      for (let i = 0; i < n; i++) rhs[i] = (th * y[i] - tmp[i]) / th;
      const x = new Float64Array(n);
      // Reduce the correction's residual as far as the eigen-residual still has to fall (an
      // inexact solve shrinks the eigen-residual by about the same factor), within [1e-6, 0.1].
      const relTol = Math.min(0.1, Math.max(1e-6, (0.3 * target[j]) / Math.max(residuals[j], 1e-300)));
      pcg.solve(rhs, x, relTol, 0, maxInner);
      if (addVector(x)) added++;
    }
    if (added === 0) break;
  }
  const relativeAccuracy = Math.max(
    ...values.slice(0, k).map((v, j) => {
      const r = residuals[j];
      const kt = gaps[j] > r ? (r * r) / (gaps[j] - r) : r;
      return Math.min(r, kt) / v;
    }),
    1e2 * EPS,
  );
  return {
    values: values.slice(0, k),
    vectors: ritz.slice(0, k),
    residuals: residuals.slice(0, k),
    iterations,
    innerIterations: pcg.iterations,
    solves: pcg.solves,
    converged,
    relativeAccuracy,
    preconditioner: pcg.name,
  };
}
