import type { Csr } from '../sparse/csr.js';
import { csrMatVec } from '../sparse/csr.js';
import { gmres } from '../sparse/krylov.js';
import { SolverFailure } from '../base/failures.js';
import type { Grid } from '../grid.js';
import { hessenbergEigenvalues, eigenvector, type ComplexPair } from './hessenberg.js';
import { NonsymMultigrid, type NonsymMultigridOptions } from './multigrid.js';

/**
 * The spectral gap of a non-symmetric generator A (forward form, columns summing to 0): the
 * non-zero eigenvalue with the smallest |Re| — the slowest relaxation, e^{Re λ t} — and its
 * imaginary part when the slowest mode rotates.
 *
 * Shift-invert Arnoldi on S = {x : Σx = 0}: 1ᵀA = 0, so A maps S into itself, and for an irreducible
 * chain A is invertible there (its kernel, span π, meets S only in 0). The operator is
 * x ↦ Q (A − σI)⁻¹ x with Q = I − π1ᵀ/(1ᵀπ) the projector onto S along π (it commutes with A), each
 * application one GMRES solve preconditioned by the aggregation multigrid; with σ = 0 the solve is
 * the consistent singular one of the steady state. Ritz values θ of the Arnoldi matrix give
 * λ = σ + 1/θ; the largest |θ| converge first, i.e. the λ nearest σ. The gap is the smallest |Re λ|
 * among the `nev` Ritz values of largest |θ| (for a mode that rotates fast, smallest |λ| and smallest
 * |Re λ| can differ: ask for more values with `nev`).
 *
 * Accuracy: each Ritz pair comes with the residual ‖Av − λv‖₂/(|λ|‖v‖₂), computed with A itself.
 * For a non-normal A a small residual does NOT bound the eigenvalue error (the bound carries the
 * eigenvector condition number, which can be large for drift-dominated generators), so a second,
 * independent estimate is reported: the relative change of the selected Ritz value between two
 * Krylov sizes (`change`). Stopping needs both below `tol`. Read `estimate` as: the printed digits
 * agree between two Krylov spaces and the eigen-equation holds to the residual; neither is a rigorous
 * error bar for a non-normal matrix. The discretisation error (h → 0) is a separate matter.
 */
export interface NonsymGapOptions {
  /** Ritz values tracked and reported (default 6). */
  nev?: number;
  /** Largest Krylov dimension (default 40). */
  maxKrylov?: number;
  /** Stop when the selected value's relative change and residual are below this (default 1e-8). */
  tol?: number;
  /** Shift σ (real, default 0); must not be an eigenvalue. */
  shift?: number;
  /** Relative residual of the inner solves (default 1e-11). */
  innerTol?: number;
  /** Iteration cap per inner solve (default 300). */
  innerMaxIter?: number;
  multigrid?: Partial<NonsymMultigridOptions>;
  /** A multigrid of A to reuse (e.g. the steady state's). */
  preconditioner?: NonsymMultigrid;
}

export interface RitzValue {
  re: number;
  im: number;
  /** ‖Av − λv‖₂ / (|λ| ‖v‖₂). */
  residual: number;
}

export interface NonsymGap {
  /** Re λ of the selected eigenvalue (negative: the decay rate is −re). */
  re: number;
  /** Im λ (≥ 0 of the conjugate pair; 0 for a real mode). */
  im: number;
  residual: number;
  /** Relative change |λ_k − λ_{k'}|/|λ_k| of the selected value between the last two Krylov sizes. */
  change: number;
  estimate: string;
  /** The tracked Ritz values, by increasing |Re λ|. */
  ritz: RitzValue[];
  krylov: number;
  solves: number;
  innerIterations: number;
  converged: boolean;
}

function pseudoRandom(n: number): Float64Array {
  // A fixed start vector (same input, same bits) with no structure aligned to the grid.
  const v = new Float64Array(n);
  let a = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a ^ (a >>> 15), 0x85ebca6b) + 0x6d2b79f5) >>> 0;
    v[i] = a / 4294967296 - 0.5;
  }
  return v;
}

export function nonsymmetricGap(a: Csr, grid: Grid, steady: Float64Array, opts: NonsymGapOptions = {}): NonsymGap {
  const n = grid.size;
  if (a.rows !== n || a.cols !== n || steady.length !== n) throw new RangeError(`nonsymmetricGap: a ${a.rows}×${a.cols} matrix, ${steady.length} steady values, ${n} cells`);
  if (n < 3) throw new RangeError('nonsymmetricGap: needs at least 3 states');
  const nev = Math.max(1, opts.nev ?? 6);
  const maxK = Math.min(opts.maxKrylov ?? 40, n - 1);
  const tol = opts.tol ?? 1e-8;
  const sigma = opts.shift ?? 0;
  // Piecewise-constant aggregation here, not the π-weighted one of the steady state: the inner
  // right-hand sides are Arnoldi vectors, not π-shaped, and measured on the 64² OU test generator the
  // weighted hierarchy needed ~180 GMRES iterations a solve against ~27.
  const mg = opts.preconditioner ?? new NonsymMultigrid(a, grid, opts.multigrid);
  mg.setOperator(-sigma, 1);
  let piSum = 0;
  for (let i = 0; i < n; i++) piSum += steady[i];
  if (!(piSum > 0)) throw new RangeError('nonsymmetricGap: the steady state must have a positive sum');
  const project = (x: Float64Array): void => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i];
    const c = s / piSum;
    for (let i = 0; i < n; i++) x[i] -= c * steady[i];
  };
  let solves = 0;
  let inner = 0;
  const op = (x: Float64Array, y: Float64Array): void => {
    y.fill(0);
    const st = gmres(mg.operator, x, y, { tol: opts.innerTol ?? 1e-11, maxIter: opts.innerMaxIter ?? 300, precond: mg.apply, restart: 30 });
    solves++;
    inner += st.iterations;
    if (!st.converged && !(st.relativeResidual < 1e-6)) {
      throw new SolverFailure(st.breakdown === 'non-finite' ? 'non-finite' : 'iteration-limit', `gap: inner solve with A − ${sigma}·I reached only ${st.relativeResidual.toExponential(3)} in ${st.iterations} GMRES iterations`, { solver: 'shift-invert Arnoldi', iterations: st.iterations, residual: st.relativeResidual });
    }
    project(y);
  };
  const V: Float64Array[] = [];
  const H: number[][] = Array.from({ length: maxK + 1 }, () => new Array<number>(maxK).fill(0));
  // The slow eigenvectors of a generator are π times smooth functions: a start vector of that
  // form keeps every Krylov vector (and each inner right-hand side) small where π is small, where
  // the π-weighted multigrid corrects least.
  const v0 = pseudoRandom(n);
  for (let i = 0; i < n; i++) v0[i] *= steady[i];
  project(v0);
  let nv = Math.sqrt(v0.reduce((s, x) => s + x * x, 0));
  V.push(v0.map((x) => x / nv));
  const w = new Float64Array(n);
  let prev: ComplexPair | undefined;
  let prevK = 0;
  let lastK = 0;
  let change = Infinity;
  let k = 0;
  let tracked: { lam: ComplexPair; theta: ComplexPair }[] = [];
  const ritzAt = (m: number): { lam: ComplexPair; theta: ComplexPair }[] => {
    const hm = H.slice(0, m).map((r) => r.slice(0, m));
    const th = hessenbergEigenvalues(hm).filter((t) => Math.hypot(t.re, t.im) > 0);
    th.sort((p, q) => Math.hypot(q.re, q.im) - Math.hypot(p.re, p.im) || q.im - p.im);
    return th.slice(0, nev).map((t) => {
      const d = t.re * t.re + t.im * t.im;
      return { theta: t, lam: { re: sigma + t.re / d, im: -t.im / d } };
    });
  };
  let converged = false;
  for (k = 0; k < maxK; k++) {
    op(V[k], w);
    // Modified Gram–Schmidt, twice: the shift-invert vectors lose orthogonality quickly otherwise.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i <= k; i++) {
        const vi = V[i];
        let s = 0;
        for (let q = 0; q < n; q++) s += w[q] * vi[q];
        H[i][k] += s;
        for (let q = 0; q < n; q++) w[q] -= s * vi[q];
      }
    }
    nv = Math.sqrt(w.reduce((s, x) => s + x * x, 0));
    H[k + 1][k] = nv;
    const m = k + 1;
    const invariant = nv <= 1e-14 * Math.abs(H[k][k] || 1);
    if (!invariant) V.push(w.map((x) => x / nv));
    if (m >= Math.min(nev + 2, maxK) || invariant) {
      tracked = ritzAt(m);
      let best = tracked[0];
      for (const c of tracked) if (Math.abs(c.lam.re) < Math.abs(best.lam.re) - 1e-14 * Math.abs(best.lam.re) || (Math.abs(c.lam.re) <= Math.abs(best.lam.re) && c.lam.im > best.lam.im && Math.abs(c.lam.re - best.lam.re) <= 1e-14 * Math.abs(best.lam.re))) best = c;
      if (prev) change = Math.hypot(best.lam.re - prev.re, best.lam.im - prev.im) / Math.hypot(best.lam.re, best.lam.im);
      prev = best.lam;
      prevK = lastK;
      lastK = m;
      // Arnoldi residual of the chosen pair (cheap): |h_{m+1,m} y_m| / |θ|, relative to |θ|.
      const hm = H.slice(0, m).map((r) => r.slice(0, m));
      const y = eigenvector(hm, best.theta);
      const est = (nv * Math.hypot(y.re[m - 1], y.im[m - 1])) / Math.hypot(best.theta.re, best.theta.im);
      if ((change <= tol && est <= tol) || invariant) {
        converged = true;
        k = m;
        break;
      }
    }
  }
  if (!converged) k = maxK;
  const m = Math.min(k, V.length);
  tracked = ritzAt(m);
  // True residuals with A: v = V_m y (real and imaginary parts).
  const hm = H.slice(0, m).map((r) => r.slice(0, m));
  const ur = new Float64Array(n);
  const ui = new Float64Array(n);
  const ar = new Float64Array(n);
  const ai = new Float64Array(n);
  const ritz: RitzValue[] = tracked.map(({ lam, theta }) => {
    const y = eigenvector(hm, theta);
    ur.fill(0);
    ui.fill(0);
    for (let j = 0; j < m; j++) {
      const vj = V[j];
      for (let q = 0; q < n; q++) {
        ur[q] += y.re[j] * vj[q];
        ui[q] += y.im[j] * vj[q];
      }
    }
    csrMatVec(a, ur, ar);
    csrMatVec(a, ui, ai);
    let rr = 0;
    let uu = 0;
    for (let q = 0; q < n; q++) {
      const er = ar[q] - (lam.re * ur[q] - lam.im * ui[q]);
      const ei = ai[q] - (lam.re * ui[q] + lam.im * ur[q]);
      rr += er * er + ei * ei;
      uu += ur[q] * ur[q] + ui[q] * ui[q];
    }
    return { re: lam.re, im: lam.im, residual: Math.sqrt(rr / uu) / Math.hypot(lam.re, lam.im) };
  });
  ritz.sort((p, q) => Math.abs(p.re) - Math.abs(q.re) || q.im - p.im);
  const best = ritz[0];
  const im = Math.abs(best.im);
  const estimate = `λ = ${best.re.toPrecision(10)} ${im > 0 ? `± ${im.toPrecision(6)}i` : '(real)'}: relative residual ‖Av − λv‖/(|λ|‖v‖) = ${best.residual.toExponential(2)}, relative change ${Number.isFinite(change) ? `${change.toExponential(2)} between Krylov sizes ${prevK} and ${lastK}` : 'not measured'} (${solves} shift-invert solves); for a non-normal generator the residual alone does not bound the error of λ${converged ? '' : '; NOT converged to the tolerance'}`;
  return { re: best.re, im, residual: best.residual, change, estimate, ritz, krylov: m, solves, innerIterations: inner, converged };
}
