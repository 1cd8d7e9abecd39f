import type { FvOperator } from '../operator.js';
import { DirichletForm } from './dirichlet.js';
import { runSync, type Steps } from './steps.js';
import { SolverFailure } from '../base/failures.js';

/**
 * 1-D spectral gap to high relative accuracy.
 *
 * −S = GᵀG with G the (N−1)×N face-difference matrix, G[σ,σ] = √fwd_σ, G[σ,σ+1] = −√bwd_σ
 * (see DirichletForm). The nonzero eigenvalues of −S are the squared singular values of G; the
 * null vector √π is deflated for free since G has only N−1 rows. Singular values of a bidiagonal
 * matrix are determined to high relative accuracy by its entries (Demmel & Kahan, "Accurate
 * singular values of bidiagonal matrices", SIAM J. Sci. Stat. Comput. 1990), and bisection with
 * Sturm counts on its Golub–Kahan form (zero diagonal, off-diagonals √fwd₀, √bwd₀, √fwd₁, ...)
 * attains it: the floating-point recurrence is the exact one for entries perturbed by a few ulps.
 * That is what keeps a gap of 1e-12 ‖S‖ (a small-noise double well) correct to ~1e-13 relative,
 * where Lanczos or QR on S itself would return round-off of size ε‖S‖.
 */

export interface TridiagonalGap {
  /** λ₁..λ_k ascending (nonzero eigenvalues of −S). */
  values: number[];
  /** Unit eigenvectors of −S in the symmetric form, orthogonal to √π. */
  vectors: Float64Array[];
  /** ‖(−S)v − λv‖ per mode (‖v‖ = 1). */
  residuals: number[];
  /** Sturm counts evaluated (the work measure). */
  iterations: number;
  /** Bound on the relative error of each λ as an eigenvalue of the discrete operator. */
  relativeAccuracy: number;
  /** False when a bisection bracket hit its step cap (never seen; relativeAccuracy then covers the bracket). */
  converged: boolean;
}

const EPS = 2 ** -52;

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Number of eigenvalues below x of the Golub–Kahan tridiagonal (zero diagonal, squared off-diagonals e2). */
function sturmCount(e2: Float64Array, x: number, pivmin: number): number {
  let q = -x;
  let count = q < 0 ? 1 : 0;
  for (let i = 0; i < e2.length; i++) {
    // An exact zero pivot is replaced by a tiny negative one (LAPACK dstebz's pivmin): it only
    // decides the sign of one step and perturbs no eigenvalue beyond the bisection tolerance.
    if (Math.abs(q) < pivmin) q = -pivmin;
    q = -x - e2[i] / q;
    if (q < 0) count++;
  }
  return count;
}

/** 2^e as a product of two in-range factors (2^±1074 alone is out of range). */
function pow2(e: number): [number, number] {
  const a = Math.trunc(e / 2);
  return [2 ** a, 2 ** (e - a)];
}

/** Caps on the bisection loops: far above what a bracket of [2^-500, 2] needs (~9 + 53 steps). */
const MAX_GEOMETRIC = 200;
const MAX_ARITHMETIC = 200;

/** The k smallest nonzero eigenvalues of −S of a 1-D operator, with eigenvectors and residuals. */
export function tridiagonalGap(op: FvOperator, k: number): TridiagonalGap {
  return runSync(tridiagonalGapSteps(op, k));
}

/**
 * tridiagonalGap as checkpointed steps (see steps.ts): yields every ~65 536 cell updates.
 *
 * Scale invariance: the face coefficients are scaled by an exact power of two so that the largest
 * is in [1, 2) before bisecting, and λ is scaled back at the end. Without it a landscape like
 * 1e-300·(x² + 1) (every coefficient ~1e-298) put the bisection's lower end lo = hi·1e-150 at 0,
 * the geometric mean √(lo·hi) stayed 0, and the loop never ended. Scaling by 2^e is exact, so the
 * Demmel–Kahan accuracy is unchanged.
 */
export function* tridiagonalGapSteps(op: FvOperator, k: number): Steps<TridiagonalGap> {
  if (op.grid.dim !== 1) throw new RangeError('tridiagonalGap is for 1-D operators');
  const n = op.grid.size;
  const faces = n - 1;
  if (k < 1 || k > faces) throw new RangeError(`modes must be between 1 and ${faces} for ${n} cells`);
  let e2max = 0;
  for (let s = 0; s < faces; s++) e2max = Math.max(e2max, op.fwd[0][s], op.bwd[0][s]);
  if (!(e2max > 0) || !Number.isFinite(e2max)) {
    const what = `the face coefficients of the generator are ${e2max === 0 ? 'all zero' : 'not finite'}: no spectral gap can be computed`;
    throw e2max === 0 ? new Error(what) : new SolverFailure('non-finite', what, { solver: 'Sturm bisection' });
  }
  const ex = Math.floor(Math.log2(e2max));
  const [d1, d2] = pow2(-ex);
  const [u1, u2] = pow2(ex);
  const fw = op.fwd[0].map((v) => v * d1 * d2);
  const bw = op.bwd[0].map((v) => v * d1 * d2);
  const e2 = new Float64Array(2 * faces);
  let e2s = 0;
  for (let s = 0; s < faces; s++) {
    e2[2 * s] = fw[s];
    e2[2 * s + 1] = bw[s];
    e2s = Math.max(e2s, fw[s], bw[s]);
  }
  const pivmin = Number.MIN_VALUE * 4 * Math.max(1, e2s);
  // ‖G‖² = λ_max(−S) ≤ 2·max_i(fw_i + bw_{i−1}) ≤ 4·max e2 (Gershgorin).
  const hiBound = Math.sqrt(4 * e2s) * 1.0001;
  const yieldEvery = Math.max(1, Math.floor(65536 / n));
  let counts = 0;
  let closed = true;
  // Singular values of G below x: the GK matrix adds N−1 negative copies and one zero.
  const below = (x: number): number => {
    counts++;
    return sturmCount(e2, x, pivmin) - n;
  };
  const scaled: number[] = [];
  let worstBracket = 0;
  for (let j = 1; j <= k; j++) {
    let hi = hiBound;
    let lo = hi * 1e-150;
    if (below(lo) >= j) {
      scaled.push(0);
      continue;
    }
    // Geometric bisection while the bracket spans orders of magnitude, then arithmetic to the last bits.
    for (let step = 0; hi > 2 * lo; step++) {
      if (step >= MAX_GEOMETRIC) {
        closed = false;
        break;
      }
      const mid = Math.sqrt(lo * hi);
      if (below(mid) >= j) hi = mid;
      else lo = mid;
      if (counts % yieldEvery === 0) yield;
    }
    for (let step = 0; hi - lo > 2 * EPS * hi; step++) {
      const mid = 0.5 * (lo + hi);
      if (mid <= lo || mid >= hi) break;
      if (step >= MAX_ARITHMETIC) {
        closed = false;
        break;
      }
      if (below(mid) >= j) hi = mid;
      else lo = mid;
      if (counts % yieldEvery === 0) yield;
    }
    worstBracket = Math.max(worstBracket, (hi * hi - lo * lo) / (lo * lo));
    const sv = 0.5 * (lo + hi);
    scaled.push(sv * sv);
  }
  const values = scaled.map((v) => v * u1 * u2);
  const form = new DirichletForm(op);
  const vectors: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    vectors.push(faceInverseIteration(fw, bw, n, scaled[j], j));
    yield;
  }
  const residuals = vectors.map((v, j) => residualNorm(form, v, values[j]));
  // Demmel–Kahan: bisection on the GK form gives each singular value to a relative error of a few
  // ulps per entry; squared, 8·(2·faces)·ε bounds λ's. A bracket that did not close widens it.
  // Scaling back into the subnormal range rounds to a multiple of 2^-1074.
  const lowest = values.find((v) => v > 0) ?? Infinity;
  const relativeAccuracy = Math.max(8 * (2 * faces) * EPS, closed ? 0 : worstBracket, Number.MIN_VALUE / lowest);
  return { values, vectors, residuals, iterations: counts, relativeAccuracy, converged: closed };
}

/**
 * Eigenvector of −S for eigenvalue λ: inverse iteration on the face matrix T = GGᵀ (same nonzero
 * spectrum, no null vector, so λ₁ is its smallest eigenvalue however tiny), then v = Gᵀw.
 */
function faceInverseIteration(fw: Float64Array, bw: Float64Array, n: number, lam: number, seed: number): Float64Array {
  const m = n - 1;
  const diag = new Float64Array(m);
  const off = new Float64Array(Math.max(0, m - 1));
  for (let s = 0; s < m; s++) diag[s] = fw[s] + bw[s] - lam;
  for (let s = 0; s < m - 1; s++) off[s] = -Math.sqrt(bw[s]) * Math.sqrt(fw[s + 1]);
  let w = new Float64Array(m);
  // Deterministic pseudo-random start: never orthogonal to the wanted vector by accident.
  let state = 12345 + 7919 * seed;
  for (let s = 0; s < m; s++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    w[s] = state / 2147483648 - 0.5;
  }
  const c = new Float64Array(m);
  const d = new Float64Array(m);
  const tiny = EPS * (maxAbs(diag) + 1e-300);
  for (let it = 0; it < 4; it++) {
    // Thomas elimination; a vanishing pivot is nudged (standard in inverse iteration: the
    // resulting growth is along the wanted eigenvector).
    let piv = diag[0];
    if (Math.abs(piv) < tiny) piv = tiny;
    c[0] = m > 1 ? off[0] / piv : 0;
    d[0] = w[0] / piv;
    for (let s = 1; s < m; s++) {
      piv = diag[s] - off[s - 1] * c[s - 1];
      if (Math.abs(piv) < tiny) piv = tiny;
      c[s] = s < m - 1 ? off[s] / piv : 0;
      d[s] = (w[s] - off[s - 1] * d[s - 1]) / piv;
    }
    const x = new Float64Array(m);
    x[m - 1] = d[m - 1];
    for (let s = m - 2; s >= 0; s--) x[s] = d[s] - c[s] * x[s + 1];
    let nrm = 0;
    for (let s = 0; s < m; s++) nrm = Math.max(nrm, Math.abs(x[s]));
    for (let s = 0; s < m; s++) x[s] /= nrm;
    w = x;
  }
  // v = Gᵀ w
  const v = new Float64Array(n);
  for (let s = 0; s < m; s++) {
    v[s] += Math.sqrt(fw[s]) * w[s];
    v[s + 1] -= Math.sqrt(bw[s]) * w[s];
  }
  let nrm = 0;
  for (let i = 0; i < n; i++) nrm += v[i] * v[i];
  nrm = Math.sqrt(nrm);
  for (let i = 0; i < n; i++) v[i] /= nrm;
  return v;
}

function residualNorm(form: DirichletForm, v: Float64Array, lam: number): number {
  const out = new Float64Array(v.length);
  form.apply(v, out);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (out[i] - lam * v[i]) ** 2;
  return Math.sqrt(s);
}
