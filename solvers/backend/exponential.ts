import type { FvOperator } from '../operator.js';
import { record } from '../integrators.js';
import { symmetricEigen } from '../eigen/dense.js';
import { DeviceIntegrator, type Checkpoint } from './integrators.js';
import { FLOAT32_STEP_TOL } from './implicit.js';
import type { CgSettings } from './pcg.js';
import { shiftedSolver, type ShiftedSolver } from './shifted.js';
import type { Backend, Field } from './types.js';

/** Krylov vectors per interval at most (each a grid-sized array: see src/resources/memory.ts). */
export const EXPONENTIAL_MAX_BASIS = 24;

/**
 * Changes of the result below this fraction of the state's norm count as converged (round-off of
 * the state; χ² down to 1e-16 means a deviation of 1e-8 of it, far above).
 */
const ROUNDOFF = 1e-12;

/** γ/τ: see the scan in docs/performance.md. */
const DEFAULT_SHIFT_RATIO = 0.15;

/**
 * CG settings for the exponential integrator: the solves need about one digit more than the
 * tolerance. Each Krylov vector's solve error enters the result with that vector's (small,
 * decaying) coefficient, so this is looser than TR-BDF2's 10⁻³ ratio (solvers/select.ts): on the
 * 256² reference problem at tolerance 1e-2 (γ = 0.1τ), ratios 10⁻¹ and 10⁻² gave L1 errors
 * 3.66e-3 and 3.58e-3 against the peers' reference, whose spatial floor there is ~3.5e-3.
 */
export function exponentialCgSettings(tolerance: number): CgSettings {
  return { tol: Math.max(1e-10, tolerance * 0.1), maxIterations: 20000 };
}

export interface ExponentialOptions {
  /** Relative error of each interval's deviation from π, ρ(t + τ) − π-part, in the 1/π-weighted L2 norm. */
  tolerance: number;
  /** First interval; default dtMax. */
  dt0?: number;
  /** Largest interval (e.g. the report interval). */
  dtMax: number;
  /** Most Krylov vectors per interval; the interval is halved when they do not suffice. */
  maxBasis?: number;
  /** The shift γ as a fraction of the interval: the solves are with I − γτA. */
  shiftRatio?: number;
}

/**
 * ρ(t + τ) = exp(τA) ρ(t) by a shift-and-invert Krylov method (van den Eshof & Hochbruck 2006;
 * Moret & Novati 2004): Lanczos on B = (I − γA)⁻¹, which is self-adjoint in the 1/π-weighted
 * inner product (the symmetric form u = ρ/√π makes it the plain one), gives B ≈ Q T Qᵀ on a few
 * vectors, so A ≈ (I − T⁻¹)/γ there and exp(τA)ρ ≈ ‖u‖ Q exp(τ(I − T⁻¹)/γ) e₁, taken through
 * T's eigen-decomposition. The approximation's error does not depend on the stiffness (B maps
 * the whole spectrum (−∞, 0] into (0, 1]), so one interval can span a whole report interval:
 * the problem is linear and autonomous, and the method uses that. π (the eigenvector of B with
 * eigenvalue 1) and the mass are kept: the π component is solved exactly by the PCG.
 *
 * Positivity is not structural here, as with TR-BDF2: a result negative beyond the tolerance
 * (relative to max ρ) takes more vectors, then a shorter interval.
 */
export class DeviceExponential extends DeviceIntegrator {
  readonly name = 'exponential';
  readonly solver: ShiftedSolver;
  readonly tolerance: number;
  private readonly opts: Required<Omit<ExponentialOptions, 'dt0'>>;
  private readonly q: Field[] = [];
  private rho: Field;
  private readonly y: Field;
  private readonly acc: Field;
  private tauNext: number | undefined;
  /** Krylov vectors used by the last accepted interval (few: the next interval may be longer). */
  private lastBasis = 0;

  constructor(backend: Backend, op: FvOperator, opts: ExponentialOptions, cg: CgSettings) {
    super(backend, op);
    // Even where the solves need no √π (1-D direct), the Krylov space lives in the symmetric form.
    if (!op.symmetricFormUsable()) {
      throw new Error('π spans more than e^1400 on this grid, beyond float64 for the symmetric form the exponential integrator works in: use integrator trbdf2 (or auto), or add a noise floor (noise.eps)');
    }
    this.solver = shiftedSolver(backend, op, cg);
    this.tolerance = backend.info.precision === 'float32' ? Math.max(opts.tolerance, FLOAT32_STEP_TOL) : opts.tolerance;
    this.opts = { tolerance: this.tolerance, dtMax: opts.dtMax, maxBasis: opts.maxBasis ?? EXPONENTIAL_MAX_BASIS, shiftRatio: opts.shiftRatio ?? DEFAULT_SHIFT_RATIO };
    this.tauNext = opts.dt0;
    this.rho = backend.field();
    this.y = backend.field();
    this.acc = backend.field();
  }

  private eq: Field | undefined;

  /** ê = √π/‖√π‖, the equilibrium in the symmetric form (B ê = ê). */
  private async equilibrium(): Promise<Field> {
    if (!this.eq) {
      const b = this.backend;
      const e = b.field();
      let s2 = 0;
      for (const v of this.op.sqrtPi) s2 += v * v;
      await b.upload(e, new Float64Array(b.size).fill(1 / Math.sqrt(s2)));
      await b.fromSymmetric(e, this.acc);
      await b.copy(this.acc, e);
      this.eq = e;
    }
    return this.eq;
  }

  private basis(k: number): Field {
    while (this.q.length <= k) this.q.push(this.backend.field());
    return this.q[k];
  }

  /** Tries exp(τA) on the state; on success the state holds it and the return is true. */
  private async interval(tau: number): Promise<boolean> {
    const b = this.backend;
    const gamma = this.opts.shiftRatio * tau;
    const tol = this.tolerance;
    const q0 = this.basis(0);
    const e = await this.equilibrium();
    await b.toSymmetric(this.x, q0);
    // The equilibrium component is carried exactly; the Krylov space holds the deviation only.
    const ce = await b.dot(e, q0);
    await b.lincomb(1, q0, -ce, e, q0);
    const beta0 = Math.sqrt(await b.dot(q0, q0));
    if (!Number.isFinite(beta0) || !Number.isFinite(ce)) throw new Error(`exponential integrator: the state is not finite in the symmetric form (‖ρ/√π‖ = ${beta0})`);
    if (beta0 === 0) return true; // exactly π
    await b.scale(1 / beta0, q0);
    const M = this.opts.maxBasis;
    // h[j][k] = ⟨q_j, B q_k⟩ (upper Hessenberg with inexact solves; its symmetric part is used).
    const h: number[][] = Array.from({ length: M + 1 }, () => new Array<number>(M).fill(0));
    let prev: number[] | null = null;
    for (let k = 0; k < M; k++) {
      const qk = this.basis(k);
      const w = this.basis(k + 1);
      await b.fromSymmetric(qk, this.rho);
      await b.zero(this.y);
      await this.solver.solve(gamma, this.rho, this.y);
      await b.toSymmetric(this.y, w);
      // Classical Gram–Schmidt twice: exact orthogonality is what makes T a projection of B.
      for (let pass = 0; pass < 2; pass++) {
        await b.lincomb(1, w, -(await b.dot(e, w)), e, w);
        for (let j = 0; j <= k; j++) {
          const c = await b.dot(this.basis(j), w);
          h[j][k] += c;
          await b.lincomb(1, w, -c, this.basis(j), w);
        }
      }
      const beta = Math.sqrt(await b.dot(w, w));
      h[k + 1][k] = beta;
      const coef = this.coefficients(h, k + 1, gamma, tau, beta0);
      const breakdown = !(beta > 1e-14);
      let est = Infinity;
      if (prev) {
        let d2 = 0;
        let n2 = 0;
        for (let j = 0; j < coef.length; j++) {
          const dj = coef[j] - (prev[j] ?? 0);
          d2 += dj * dj;
          n2 += coef[j] * coef[j];
        }
        // Relative to the deviation, but changes below round-off of the whole state always pass:
        // near π the deviation is itself round-off, and a relative test there would never end.
        est = Math.sqrt(d2) / Math.max(tol * Math.sqrt(n2), ROUNDOFF * Math.abs(ce), 1e-300);
      }
      prev = coef;
      if (est <= 1 || breakdown) {
        await this.combine(ce, coef);
        const lo = await b.min(this.rho);
        const neg = lo < 0 ? -lo / Math.max(await b.max(this.rho), 1e-300) : 0;
        if (neg <= tol || breakdown) {
          const total = await b.sum(this.x);
          [this.x, this.rho] = [this.rho, this.x];
          await this.restoreSum(this.x, total);
          this.lastBasis = k + 1;
          return true;
        }
      }
      if (breakdown) return false;
      await b.scale(1 / beta, w);
    }
    return false;
  }

  /** β₀ Z exp(τλ) Zᵀ e₁ for T = sym(h[0..m)[0..m)) = Z diag(μ) Zᵀ, λ = (1 − 1/μ)/γ. */
  private coefficients(h: number[][], m: number, gamma: number, tau: number, beta0: number): number[] {
    const t: number[][] = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => 0.5 * (h[i][j] + h[j][i])));
    const { values, vectors } = symmetricEigen(t);
    const out = new Array<number>(m).fill(0);
    for (let i = 0; i < m; i++) {
      const mu = values[i];
      // B's spectrum lies in (0, 1]; a Ritz value at or below 0 is round-off of a stiff mode.
      const e = mu > 0 ? Math.exp((tau / gamma) * Math.min(0, 1 - 1 / mu)) : 0;
      const z = vectors[i];
      const w = e * z[0] * beta0;
      for (let j = 0; j < m; j++) out[j] += w * z[j];
    }
    return out;
  }

  /** rho = √π · (ce ê + Σ c_j q_j). */
  private async combine(ce: number, c: number[]): Promise<void> {
    const b = this.backend;
    await b.lincomb(ce, await this.equilibrium(), c[0], this.basis(0), this.acc);
    for (let j = 1; j < c.length; j++) await b.lincomb(1, this.acc, c[j], this.basis(j), this.acc);
    await b.fromSymmetric(this.acc, this.rho);
  }

  protected async steps(t0: number, t1: number, checkpoint?: Checkpoint): Promise<number> {
    let t = t0;
    let tau = Math.min(this.tauNext ?? this.opts.dtMax, this.opts.dtMax);
    while (t < t1) {
      const remaining = t1 - t;
      const landing = tau >= remaining * (1 - 1e-12);
      const h = landing ? remaining : tau;
      if (await this.interval(h)) {
        t = landing ? t1 : t + h;
        record(this.stats, h);
        // Few vectors: the interval could have been longer.
        if (this.lastBasis <= this.opts.maxBasis / 2) tau = Math.min(this.opts.dtMax, 2 * Math.max(tau, h));
        if (t < t1 && checkpoint && (await checkpoint(t))) break;
      } else {
        this.stats.rejected++;
        tau = h / 2;
        if (tau < 1e-14 * Math.max(1, Math.abs(t))) throw new Error(`exponential integrator: interval underflow at t = ${t}`);
      }
    }
    this.tauNext = tau;
    return t;
  }

  describe(): string {
    return `shift-and-invert Krylov exponential (tolerance ${this.tolerance}, γ = ${this.opts.shiftRatio}·τ, at most ${this.opts.maxBasis} vectors), ${this.solver.describe()} on ${this.backend.info.name}`;
  }
}
