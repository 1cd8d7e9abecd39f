import { csrMatVec, type Csr } from './csr.js';

/**
 * Krylov solvers for non-symmetric systems A x = b: restarted flexible GMRES(m) with modified
 * Gram–Schmidt and BiCGStab, both right-preconditioned (so the residual they test is the true
 * residual b − A x, not a preconditioned one). Every reduction is a plain loop in index order:
 * the same input gives the same bits. Each stops at a hard iteration cap, reports breakdown
 * (a zero denominator, or a value that is not finite) instead of dividing by it, and never
 * returns NaN: on breakdown x keeps the last finite iterate.
 */

/** A square linear map, for operators that are not stored (e.g. A + v·1ᵀ, or a projected A). */
export interface LinearMap {
  readonly rows: number;
  apply(x: Float64Array, y: Float64Array): void;
}

/** z ≈ M⁻¹ r. May vary between calls (the K-cycle does): GMRES here is the flexible variant. */
export type Preconditioner = (r: Float64Array, z: Float64Array) => void;

export interface KrylovOptions {
  /** Stop when ‖b − Ax‖₂ ≤ max(tol·‖b‖₂, atol). */
  tol: number;
  atol?: number;
  /** Hard cap on iterations (GMRES: inner steps over all restarts; BiCGStab: full iterations). */
  maxIter: number;
  precond?: Preconditioner;
  /** GMRES restart length m (default 30). */
  restart?: number;
}

export interface KrylovStats {
  method: 'gmres' | 'bicgstab';
  converged: boolean;
  iterations: number;
  /** Final ‖b − Ax‖₂ (recomputed, not the recurrence's). */
  residualNorm: number;
  /** residualNorm / ‖b‖₂ (residualNorm itself when b = 0). */
  relativeResidual: number;
  /** Operator applications and preconditioner applications. */
  matvecs: number;
  precs: number;
  /** Why the iteration stopped early, when it did: 'rho', 'denominator', 'omega', 'non-finite'. */
  breakdown?: string;
}

export type Operator = Csr | LinearMap;

function applyOp(a: Operator, x: Float64Array, y: Float64Array): void {
  if ('rowPtr' in a) csrMatVec(a, x, y);
  else a.apply(x, y);
}

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

function norm2(x: Float64Array): number {
  return Math.sqrt(dot(x, x));
}

function residual(a: Operator, b: Float64Array, x: Float64Array, r: Float64Array): number {
  applyOp(a, x, r);
  for (let i = 0; i < r.length; i++) r[i] = b[i] - r[i];
  return norm2(r);
}

function finish(method: KrylovStats['method'], a: Operator, b: Float64Array, x: Float64Array, r: Float64Array, target: number, bnorm: number, it: number, mv: number, pc: number, breakdown?: string): KrylovStats {
  const res = residual(a, b, x, r);
  return {
    method,
    converged: res <= target,
    iterations: it,
    residualNorm: res,
    relativeResidual: bnorm > 0 ? res / bnorm : res,
    matvecs: mv + 1,
    precs: pc,
    ...(breakdown !== undefined && !(res <= target) ? { breakdown } : {}),
  };
}

/**
 * Restarted flexible GMRES(m), right-preconditioned: x = x₀ + Z y with z_j = M⁻¹ v_j stored, so
 * a preconditioner that changes between calls (a K-cycle) is allowed; with a fixed one this is
 * ordinary right-preconditioned GMRES. x holds the initial guess on entry and the result on exit.
 * Memory: 2m + 3 vectors.
 */
export function gmres(a: Operator, b: Float64Array, x: Float64Array, opts: KrylovOptions): KrylovStats {
  const n = a.rows;
  const m = Math.max(1, Math.min(opts.restart ?? 30, opts.maxIter));
  const bnorm = norm2(b);
  const target = Math.max(opts.tol * bnorm, opts.atol ?? 0);
  const r = new Float64Array(n);
  const w = new Float64Array(n);
  let beta = residual(a, b, x, r);
  let mv = 1;
  let pc = 0;
  let it = 0;
  if (!Number.isFinite(beta)) return finish('gmres', a, b, x, r, target, bnorm, it, mv, pc, 'non-finite');
  const V: Float64Array[] = [];
  const Z: Float64Array[] = [];
  const h = new Float64Array((m + 1) * m); // column-major: h[j*(m+1) + i]
  const cs = new Float64Array(m);
  const sn = new Float64Array(m);
  const g = new Float64Array(m + 1);
  const y = new Float64Array(m);
  while (beta > target && it < opts.maxIter) {
    if (V.length === 0) V.push(new Float64Array(n));
    for (let i = 0; i < n; i++) V[0][i] = r[i] / beta;
    g.fill(0);
    g[0] = beta;
    let k = 0; // columns completed in this cycle
    let broke: string | undefined;
    while (k < m && it < opts.maxIter) {
      const j = k;
      if (Z.length <= j) Z.push(new Float64Array(n));
      const z = Z[j];
      if (opts.precond) {
        opts.precond(V[j], z);
        pc++;
      } else z.set(V[j]);
      applyOp(a, z, w);
      mv++;
      const col = j * (m + 1);
      for (let i = 0; i <= j; i++) {
        const hij = dot(w, V[i]);
        h[col + i] = hij;
        const vi = V[i];
        for (let q = 0; q < n; q++) w[q] -= hij * vi[q];
      }
      const hn = norm2(w);
      if (!Number.isFinite(hn)) {
        broke = 'non-finite';
        break;
      }
      h[col + j + 1] = hn;
      for (let i = 0; i < j; i++) {
        const t = cs[i] * h[col + i] + sn[i] * h[col + i + 1];
        h[col + i + 1] = -sn[i] * h[col + i] + cs[i] * h[col + i + 1];
        h[col + i] = t;
      }
      const d = Math.hypot(h[col + j], h[col + j + 1]);
      if (d === 0) {
        // The new direction is A-annihilated: no progress is possible in this space.
        broke = 'denominator';
        break;
      }
      cs[j] = h[col + j] / d;
      sn[j] = h[col + j + 1] / d;
      h[col + j] = d;
      h[col + j + 1] = 0;
      g[j + 1] = -sn[j] * g[j];
      g[j] = cs[j] * g[j];
      k++;
      it++;
      if (hn === 0) {
        break; // the Krylov space is invariant: the least-squares solution is exact
      }
      if (Math.abs(g[k]) <= target) break;
      if (V.length <= k) V.push(new Float64Array(n));
      const vk = V[k];
      for (let q = 0; q < n; q++) vk[q] = w[q] / hn;
    }
    // y = R⁻¹ g over the k completed columns.
    for (let i = k - 1; i >= 0; i--) {
      let s = g[i];
      for (let c = i + 1; c < k; c++) s -= h[c * (m + 1) + i] * y[c];
      y[i] = s / h[i * (m + 1) + i];
    }
    let finite = true;
    for (let i = 0; i < k; i++) if (!Number.isFinite(y[i])) finite = false;
    if (finite) {
      for (let i = 0; i < k; i++) {
        const zi = Z[i];
        const yi = y[i];
        for (let q = 0; q < n; q++) x[q] += yi * zi[q];
      }
    } else broke = 'non-finite';
    beta = residual(a, b, x, r);
    mv++;
    if (broke !== undefined) return finish('gmres', a, b, x, r, target, bnorm, it, mv, pc, broke);
    if (!Number.isFinite(beta)) return finish('gmres', a, b, x, r, target, bnorm, it, mv, pc, 'non-finite');
  }
  return finish('gmres', a, b, x, r, target, bnorm, it, mv, pc);
}

/**
 * BiCGStab (van der Vorst 1992), right-preconditioned with a fixed preconditioner. Breakdown:
 * r̂·r or r̂·v below 1e-14 of the product of the norms ('rho', 'denominator'), or ω = 0 ('omega').
 * x holds the initial guess on entry and the result on exit.
 */
export function bicgstab(a: Operator, b: Float64Array, x: Float64Array, opts: KrylovOptions): KrylovStats {
  const n = a.rows;
  const bnorm = norm2(b);
  const target = Math.max(opts.tol * bnorm, opts.atol ?? 0);
  const r = new Float64Array(n);
  let rn = residual(a, b, x, r);
  let mv = 1;
  let pc = 0;
  let it = 0;
  if (!Number.isFinite(rn)) return finish('bicgstab', a, b, x, r, target, bnorm, it, mv, pc, 'non-finite');
  const rhat = r.slice();
  const rhatNorm = rn;
  const p = new Float64Array(n);
  const v = new Float64Array(n);
  const s = new Float64Array(n);
  const t = new Float64Array(n);
  const ph = new Float64Array(n);
  const sh = new Float64Array(n);
  let rho = 1;
  let alpha = 1;
  let omega = 1;
  const prec = (src: Float64Array, dst: Float64Array): void => {
    if (opts.precond) {
      opts.precond(src, dst);
      pc++;
    } else dst.set(src);
  };
  while (rn > target && it < opts.maxIter) {
    const rho1 = dot(rhat, r);
    if (!Number.isFinite(rho1)) return finish('bicgstab', a, b, x, r, target, bnorm, it, mv, pc, 'non-finite');
    if (Math.abs(rho1) <= 1e-14 * rhatNorm * rn) return finish('bicgstab', a, b, x, r, target, bnorm, it, mv, pc, 'rho');
    const beta = (rho1 / rho) * (alpha / omega);
    for (let i = 0; i < n; i++) p[i] = r[i] + beta * (p[i] - omega * v[i]);
    prec(p, ph);
    applyOp(a, ph, v);
    mv++;
    const den = dot(rhat, v);
    if (!Number.isFinite(den)) return finish('bicgstab', a, b, x, r, target, bnorm, it, mv, pc, 'non-finite');
    if (Math.abs(den) <= 1e-14 * rhatNorm * norm2(v)) return finish('bicgstab', a, b, x, r, target, bnorm, it, mv, pc, 'denominator');
    alpha = rho1 / den;
    for (let i = 0; i < n; i++) s[i] = r[i] - alpha * v[i];
    it++;
    const sn = norm2(s);
    if (sn <= target) {
      for (let i = 0; i < n; i++) x[i] += alpha * ph[i];
      return finish('bicgstab', a, b, x, r, target, bnorm, it, mv, pc);
    }
    prec(s, sh);
    applyOp(a, sh, t);
    mv++;
    const tt = dot(t, t);
    if (!(tt > 0) || !Number.isFinite(tt)) {
      for (let i = 0; i < n; i++) x[i] += alpha * ph[i];
      return finish('bicgstab', a, b, x, r, target, bnorm, it, mv, pc, Number.isFinite(tt) ? 'omega' : 'non-finite');
    }
    omega = dot(t, s) / tt;
    for (let i = 0; i < n; i++) {
      x[i] += alpha * ph[i] + omega * sh[i];
      r[i] = s[i] - omega * t[i];
    }
    rn = norm2(r);
    rho = rho1;
    if (omega === 0) return finish('bicgstab', a, b, x, r, target, bnorm, it, mv, pc, 'omega');
    if (!Number.isFinite(rn)) return finish('bicgstab', a, b, x, r, target, bnorm, it, mv, pc, 'non-finite');
  }
  return finish('bicgstab', a, b, x, r, target, bnorm, it, mv, pc);
}
