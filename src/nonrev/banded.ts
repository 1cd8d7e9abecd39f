/**
 * Direct banded solves for a generator A (forward form, off-diagonals ≥ 0, columns summing to 0)
 * on a grid: the matrices I − c·dt·A of implicit steps and A itself for the steady state. Lattice
 * offsets give A a band of half-width max |e·strides| (about twice the last axis' cells for the
 * scheme's offsets), and no pivoting is needed: I − c·dt·A is strictly diagonally dominant by
 * columns, for which Gaussian elimination without pivoting is stable and keeps the fill inside the
 * band. A direct solve has no iteration count or tolerance to get wrong; its cost, n·w² for
 * half-width w, limits it to moderate grids (BANDED_MAX_WORK).
 */
import type { Csr } from '../../solvers/sparse/csr.js';
import { InputError, NumericalFault } from '../errors.js';

/** n·w² above this (about a minute of factorization) is refused: 128² has 1.1e9, 256² 1.7e10. */
export const BANDED_MAX_WORK = 2e10;
/** Band storage above this many doubles is refused (8 bytes each: 2^27 is 1 GiB). */
export const BANDED_MAX_ENTRIES = 2 ** 27;

/** The half-width of A's band: the largest |i − j| of a non-zero entry. */
export function bandwidth(a: Csr): number {
  let w = 0;
  for (let i = 0; i < a.rows; i++) for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) w = Math.max(w, Math.abs(a.col[k] - i));
  return w;
}

export function checkBandedSize(n: number, w: number, what: string): void {
  const work = n * w * w;
  const entries = n * (2 * w + 1);
  if (work > BANDED_MAX_WORK || entries > BANDED_MAX_ENTRIES) {
    throw new InputError(`${what}: the direct banded solve of ${n} cells with band half-width ${w} needs ${work.toExponential(1)} operations and ${((entries * 8) / 2 ** 30).toFixed(1)} GiB; use fewer cells along the last axis (domain.cells)`, { field: 'domain.cells' });
  }
}

/** LU factors of a banded matrix in place, rows of 2w + 1 entries (column j of row i at i·(2w+1) + j − i + w). */
export class BandedLu {
  readonly n: number;
  readonly w: number;
  private readonly b: Float64Array;

  /** Factors c0·I + c1·A (A in CSR); `gth`: A is singular with zero column sums and c0 = 0, c1 = 1 (see steady). */
  constructor(a: Csr, c0: number, c1: number, gth = false) {
    const n = a.rows;
    const w = bandwidth(a);
    const s = 2 * w + 1;
    const b = new Float64Array(n * s);
    for (let i = 0; i < n; i++) {
      b[i * s + w] = c0;
      for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) b[i * s + a.col[k] - i + w] += c1 * a.val[k];
    }
    for (let k = 0; k < n; k++) {
      const last = Math.min(n - 1, k + w);
      let pivot = b[k * s + w];
      if (gth) {
        // Grassmann–Taksar–Heyman: each Schur complement of A keeps zero column sums, so the pivot is
        // minus the sum of the non-negative entries below it — no cancellation, however stiff A is.
        let sum = 0;
        for (let i = k + 1; i <= last; i++) sum += b[i * s + k - i + w];
        pivot = -sum;
        b[k * s + w] = pivot;
        if (k === n - 1) break;
        if (!(sum > 0)) throw new NumericalFault(`steady state: cell ${k} has no outflow to the cells after it in the elimination order (the chain is not irreducible)`);
      } else if (!(Math.abs(pivot) > 0)) {
        throw new NumericalFault(`banded solve: zero pivot at row ${k}`);
      }
      for (let i = k + 1; i <= last; i++) {
        const ik = i * s + k - i + w;
        const l = b[ik] / pivot;
        if (l === 0) continue;
        b[ik] = l;
        const ko = k * s - k + w;
        const io = i * s - i + w;
        for (let j = k + 1; j <= last; j++) b[io + j] -= l * b[ko + j];
      }
    }
    this.n = n;
    this.w = w;
    this.b = b;
  }

  /** x = (LU)⁻¹ r, in place on x (x may be r). */
  solve(r: Float64Array, x: Float64Array): void {
    const { n, w, b } = this;
    const s = 2 * w + 1;
    if (x !== r) x.set(r);
    for (let i = 0; i < n; i++) {
      let v = x[i];
      const io = i * s - i + w;
      for (let j = Math.max(0, i - w); j < i; j++) v -= b[io + j] * x[j];
      x[i] = v;
    }
    for (let i = n - 1; i >= 0; i--) {
      let v = x[i];
      const io = i * s - i + w;
      const last = Math.min(n - 1, i + w);
      for (let j = i + 1; j <= last; j++) v -= b[io + j] * x[j];
      x[i] = v / b[io + i];
    }
  }

  /** The kernel vector of a GTH-factored singular A: U x = 0 with x_{n−1} = 1, by back substitution. */
  kernel(): Float64Array {
    const { n, w, b } = this;
    const s = 2 * w + 1;
    const x = new Float64Array(n);
    x[n - 1] = 1;
    for (let i = n - 2; i >= 0; i--) {
      let v = 0;
      const io = i * s - i + w;
      const last = Math.min(n - 1, i + w);
      for (let j = i + 1; j <= last; j++) v -= b[io + j] * x[j];
      x[i] = v / b[io + i];
    }
    return x;
  }
}

/** γ of TR-BDF2 for which both stages factor the same matrix I − (γ/2)·h·A. */
const GAMMA = 2 - Math.SQRT2;
/** Default step: at most this long, and at least this many per report interval (a second-order method's error ~ (λh)³/12 per step). */
const DEFAULT_DT = 0.02;
const MIN_STEPS_PER_REPORT = 8;

export interface FixedStepper {
  readonly name: string;
  readonly stats: { steps: number; rejected: number; dtMin: number; dtMax: number };
  readonly solver: { name: string; solves: number; iterations: number };
  describe(): string;
  advance(rho: Float64Array, t0: number, t1: number, checkpoint?: (t: number) => boolean | Promise<boolean>): Promise<number>;
}

/**
 * Implicit steps of dρ/dt = Aρ with one banded factorization: TR-BDF2 (second order, L-stable) or
 * backward Euler (first order, keeps ρ ≥ 0 exactly), at a fixed step that divides the report
 * interval. Both keep Σρ exactly up to round-off: every matrix solved has columns summing to 1.
 */
export function bandedStepper(a: Csr, opts: { integrator: string; dt?: number; reportEvery: number }): FixedStepper {
  const be = opts.integrator === 'backward-euler';
  if (!['auto', 'trbdf2', 'backward-euler'].includes(opts.integrator)) {
    throw new InputError(`time.integrator ${opts.integrator} is not available for diffusion-matrix noise (implicit steps only: auto, trbdf2, backward-euler)`, { field: 'time.integrator' });
  }
  const target = opts.dt ?? Math.min(DEFAULT_DT, opts.reportEvery / MIN_STEPS_PER_REPORT);
  const per = Math.max(1, Math.ceil(opts.reportEvery / target - 1e-9));
  const h = opts.reportEvery / per;
  const n = a.rows;
  checkBandedSize(n, bandwidth(a), 'implicit steps');
  const d = be ? 1 : GAMMA / 2;
  const lu = new BandedLu(a, 1, -d * h);
  const x0 = new Float64Array(n);
  const y = new Float64Array(n);
  const ay = new Float64Array(n);
  const stats = { steps: 0, rejected: 0, dtMin: Infinity, dtMax: 0 };
  const solver = { name: 'banded LU (direct, factored once)', solves: 0, iterations: 0 };
  const c1 = 1 / (GAMMA * (2 - GAMMA));
  const c2 = ((1 - GAMMA) ** 2) / (GAMMA * (2 - GAMMA));
  const step = (rho: Float64Array, dt: number, factor: BandedLu): void => {
    if (be) {
      factor.solve(rho, rho);
      solver.solves++;
    } else {
      // Stage 1: trapezoid over γ·dt; stage 2: BDF2 from ρ and the stage value.
      x0.set(rho);
      matVec(a, rho, ay);
      const half = (GAMMA / 2) * dt;
      for (let i = 0; i < n; i++) y[i] = rho[i] + half * ay[i];
      factor.solve(y, y);
      for (let i = 0; i < n; i++) rho[i] = c1 * y[i] - c2 * x0[i];
      factor.solve(rho, rho);
      solver.solves += 2;
    }
    stats.steps++;
    stats.dtMin = Math.min(stats.dtMin, dt);
    stats.dtMax = Math.max(stats.dtMax, dt);
  };
  return {
    name: be ? 'backward-euler' : 'trbdf2',
    stats,
    solver,
    describe: () => `${be ? 'backward Euler' : 'TR-BDF2'}, fixed step ${+h.toPrecision(6)} (${per} per report interval), banded LU of I − ${be ? '' : 'γ/2·'}h·A (half-width ${lu.w})`,
    async advance(rho, t0, t1, checkpoint) {
      let t = t0;
      const mass0 = sum(rho);
      // Each solve keeps Σρ to round-off; over thousands of steps that adds up, so it is put back.
      const restore = (): void => {
        const m = sum(rho);
        if (m > 0 && m !== mass0) for (let i = 0; i < n; i++) rho[i] *= mass0 / m;
      };
      const steps = Math.max(1, Math.round((t1 - t0) / h));
      // The last interval may be shorter than reportEvery (time.end not a multiple): its own factorization.
      const dt = (t1 - t0) / steps;
      const factor = Math.abs(dt - h) <= 1e-12 * h ? lu : new BandedLu(a, 1, -d * dt);
      for (let k = 0; k < steps; k++) {
        step(rho, dt, factor);
        t = k + 1 === steps ? t1 : t0 + (k + 1) * dt;
        if (k + 1 < steps && checkpoint && (await checkpoint(t))) {
          restore();
          return t;
        }
      }
      restore();
      return t1;
    },
  };
}

function sum(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s;
}

function matVec(a: Csr, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) s += a.val[k] * x[a.col[k]];
    y[i] = s;
  }
}

/** The steady state by GTH elimination on the band: exact to round-off, positive by construction. */
export function bandedSteadyState(a: Csr, cellVolume: number): { rho: Float64Array; residual: number; iterations: number; method: string } {
  const w = bandwidth(a);
  checkBandedSize(a.rows, w, 'steady state');
  const lu = new BandedLu(a, 0, 1, true);
  const rho = lu.kernel();
  let m = 0;
  for (const v of rho) m += v * cellVolume;
  for (let i = 0; i < rho.length; i++) rho[i] /= m;
  const r = new Float64Array(a.rows);
  matVec(a, rho, r);
  let num = 0;
  let den = 0;
  let norm = 0;
  for (let j = 0; j < a.rows; j++) {
    num += Math.abs(r[j]);
    den += Math.abs(rho[j]);
  }
  // ‖A‖₁: the largest column sum of |A| (twice the largest outflow rate).
  const col = new Float64Array(a.cols);
  for (let i = 0; i < a.rows; i++) for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) col[a.col[k]] += Math.abs(a.val[k]);
  for (const v of col) norm = Math.max(norm, v);
  return { rho, residual: num / (norm * den), iterations: 1, method: `GTH elimination on the band (direct, half-width ${w})` };
}

/**
 * The first non-zero eigenvalue μ₁ of A by shift-invert Arnoldi with a direct banded solve of
 * (A − σI), σ > 0 small: that matrix is strictly diagonally dominant by columns (no pivoting needed),
 * and its inverse maps μ to 1/(μ − σ), so the eigenvalues nearest 0 come first. The kernel (ρ_ss, μ = 0)
 * is kept out by working in the mass-zero subspace {1ᵀv = 0}, which A and (A − σI)⁻¹ leave invariant;
 * each new vector is projected back onto it along ρ_ss against round-off. Used where the iterative
 * inner solves of solvers/nonsym/gap.ts stall and the band is small.
 */
export function bandedGap(
  a: Csr,
  steady: Float64Array,
  eig: { values: (h: number[][]) => { re: number; im: number }[]; vector: (h: number[][], t: { re: number; im: number }) => { re: Float64Array; im: Float64Array } },
  opts: { tol: number; maxKrylov?: number; shift?: number },
): { re: number; im: number; residual: number; change: number; krylov: number; ritz: { re: number; im: number }[] } {
  const n = a.rows;
  checkBandedSize(n, bandwidth(a), 'gap');
  const sigma = opts.shift ?? 1e-2;
  const lu = new BandedLu(a, -sigma, 1);
  const maxK = opts.maxKrylov ?? 60;
  let ss = 0;
  for (const v of steady) ss += v;
  const project = (v: Float64Array): void => {
    const m = sum(v) / ss;
    for (let i = 0; i < n; i++) v[i] -= m * steady[i];
  };
  const norm = (v: Float64Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const V: Float64Array[] = [];
  // A fixed start (same input, same bits) with no grid structure.
  const v0 = new Float64Array(n);
  let seed = 0x2545f491;
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed ^ (seed >>> 13), 0x5bd1e995) + 0x7f4a7c15) >>> 0;
    v0[i] = seed / 4294967296 - 0.5;
  }
  project(v0);
  const n0 = norm(v0);
  for (let i = 0; i < n; i++) v0[i] /= n0;
  V.push(v0);
  const H: number[][] = Array.from({ length: maxK + 1 }, () => new Array<number>(maxK).fill(0));
  let prev: { re: number; im: number } | undefined;
  let best = { re: NaN, im: NaN, residual: Infinity, change: Infinity, krylov: 0, ritz: [] as { re: number; im: number }[] };
  for (let k = 0; k < maxK; k++) {
    const w = new Float64Array(n);
    lu.solve(V[k], w);
    project(w);
    // Modified Gram–Schmidt, twice (the inverse amplifies the slow modes by 1/|μ − σ|, cancelling much).
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j <= k; j++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += V[j][i] * w[i];
        H[j][k] += d;
        for (let i = 0; i < n; i++) w[i] -= d * V[j][i];
      }
    }
    let beta = norm(w);
    let hnorm = 0;
    for (let j = 0; j <= k; j++) hnorm = Math.max(hnorm, Math.abs(H[j][k]));
    // The Krylov space is invariant (all of the mass-zero subspace on a small chain): stop there.
    if (beta <= 1e-12 * hnorm || k + 1 === n - 1) beta = 0;
    const m = k + 1;
    if (beta === 0 || m === maxK || (m >= 4 && m % 4 === 0)) {
      const h = Array.from({ length: m }, (_, i) => H[i].slice(0, m));
      const thetas = eig.values(h).filter((t) => Number.isFinite(t.re));
      // μ = σ + 1/θ; the slowest mode has the largest |θ|.
      const mus = thetas
        .map((t) => {
          const d2 = t.re * t.re + t.im * t.im;
          return { t, mu: { re: sigma + t.re / d2, im: -t.im / d2 } };
        })
        .sort((p, q) => Math.hypot(q.t.re, q.t.im) - Math.hypot(p.t.re, p.t.im));
      const top = mus[0];
      const y = eig.vector(h, top.t);
      const xr = new Float64Array(n);
      const xi = new Float64Array(n);
      for (let j = 0; j < m; j++) {
        for (let i = 0; i < n; i++) {
          xr[i] += V[j][i] * y.re[j];
          xi[i] += V[j][i] * y.im[j];
        }
      }
      const ar = new Float64Array(n);
      const ai = new Float64Array(n);
      matVec(a, xr, ar);
      matVec(a, xi, ai);
      const mu = top.mu;
      let r = 0;
      let x = 0;
      for (let i = 0; i < n; i++) {
        r += (ar[i] - (mu.re * xr[i] - mu.im * xi[i])) ** 2 + (ai[i] - (mu.re * xi[i] + mu.im * xr[i])) ** 2;
        x += xr[i] ** 2 + xi[i] ** 2;
      }
      const residual = Math.sqrt(r / x) / Math.hypot(mu.re, mu.im);
      // An invariant Krylov space (beta = 0: a small chain, or one whose start vector spans fewer
      // modes) holds exact eigenvalues: comparing with the previous size would only measure how
      // far that earlier Ritz value was (a 4×4 grid stopped at size 12 with "change 2.8e-5").
      const exact = beta === 0 && residual <= Math.max(opts.tol, 1e-6);
      const change = exact ? 0 : prev ? Math.hypot(mu.re - prev.re, mu.im - prev.im) / Math.hypot(mu.re, mu.im) : Infinity;
      best = { re: mu.re, im: Math.abs(mu.im), residual, change, krylov: m, ritz: mus.slice(0, 6).map((p) => p.mu) };
      prev = mu;
      if (change <= opts.tol && residual <= Math.max(opts.tol, 1e-6)) break;
    }
    if (beta === 0) break;
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) next[i] = w[i] / beta;
    H[k + 1][k] = beta;
    V.push(next);
  }
  return best;
}
