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
