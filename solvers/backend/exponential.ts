import type { FvOperator } from '../operator.js';
import { record } from '../integrators.js';
import { type DenseEigen } from '../dense.js';
import { krylovEigen } from '../tridiagonal-eigen.js';
import { DeviceIntegrator, type AsyncIntegrator, type Checkpoint, type IntegratorState } from './integrators.js';
import { DeviceTrBdf2, FLOAT32_STEP_TOL } from './implicit.js';
import type { CgSettings } from './pcg.js';
import type { ShiftedSolver } from './shifted.js';
import { implicitSolver, RefinedSolver, restoreRefinements, saveRefinements } from './refine.js';
import type { Backend, Field } from './types.js';
import { blockPasses, lincombDot } from './fused.js';

/** Krylov vectors per interval at most (each a grid-sized array: see src/resources/memory.ts). */
export const EXPONENTIAL_MAX_BASIS = 24;

/**
 * Changes of the result below this fraction of the state's norm count as converged (round-off of
 * the state; χ² down to 1e-16 means a deviation of 1e-8 of it, far above).
 */
const ROUNDOFF = 1e-12;

/**
 * The finest relative accuracy asked of a Krylov vector (its solve's residual, and the round-off
 * of the orthogonalization, ~1e-16 per operation over a few hundred). An error ε of a vector
 * reaches the L1 norm of ρ magnified by up to √χ² (class comment); where 0.1·tolerance/√χ² is
 * below this floor, the interval goes to TR-BDF2 instead.
 */
const SOLVE_TOL_FLOOR = 1e-12;

/** Halvings of a rejected interval before it is handed to TR-BDF2. */
const HALVINGS = 3;

/** γ/τ: see the scan in docs/performance.md. */
const DEFAULT_SHIFT_RATIO = 0.15;


/**
 * CG settings for the exponential integrator: the solves need about one digit more than the
 * tolerance. Each Krylov vector's solve error enters the result with that vector's (small,
 * decaying) coefficient, so this is looser than TR-BDF2's 10⁻³ ratio (solvers/backend/choose.ts): on the
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
  /**
   * Whether a report time is evaluated from the basis of the ones before it (default). false: a
   * fresh basis per report interval, as before issue #19 (kept for comparisons).
   */
  oneBasis?: boolean;
  /** CG settings of the TR-BDF2 that takes the intervals the Krylov method cannot (default: 10⁻³ × tolerance). */
  fallbackCg?: CgSettings;
}

/** Where the integrator handed intervals to TR-BDF2 (report.json notes). */
export interface ExponentialFallback {
  /** Pieces (a report interval, or its rest, or the part up to a stopping checkpoint) that TR-BDF2 covered. */
  intervals: number;
  /** Total time they span. */
  time: number;
  /** TR-BDF2 steps taken there (not in stats.steps, which counts Krylov intervals). */
  steps: number;
  /** Earliest and latest time covered. */
  from: number;
  to: number;
  /** Why, the first time. */
  reason: string;
}

type IntervalResult = { ok: true } | { ok: false; fallback?: string };

/** A Krylov space built from the state at time t, kept for the report times after it. */
interface Span {
  /** Origin time and the latest time whose state came from this span (the state now). */
  t: number;
  at: number;
  gamma: number;
  /** The density at t (host copy, for checkpoints) and its base64 form once written. */
  origin: Float64Array;
  encoded?: string;
  ce: number;
  beta0: number;
  mass: number;
  solveTol: number | undefined;
  /** h[j][k] = ⟨q_j, B q_k⟩ for the m columns built (upper Hessenberg with inexact solves; its symmetric part is used). */
  h: number[][];
  /** ‖√π q_j‖₁ of the normalized vectors. */
  wt: number[];
  m: number;
  /** The last vector had no new direction (invariant subspace): the space cannot grow. */
  broken: boolean;
  /** Most vectors an accepted evaluation took (a later one takes at least as many). */
  used: number;
  /** Columns a resumed run rebuilds without counting their solves (the checkpointed run counted them). */
  replay: number;
  /**
   * Eigen-decompositions of T_m (the leading m × m block), by m: T_m is fixed once m columns exist
   * (extend(k) writes column k and h[k+1][k] only), and every report time of the span needs it.
   */
  eig?: (DenseEigen | undefined)[];
}

/** Shortest interval attempted; shorter remainders are round-off and are skipped. */
const MIN_INTERVAL = 1e-300;

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
 * Error control. The Lanczos process works in u = ρ/√π, where a density far from π (a Gaussian
 * start in a metastable well: χ² ~ 1e33) has almost all of its 2-norm in cells that carry no mass;
 * a test relative to that norm alone accepted the tail's fast decay and dropped the slow part,
 * jumping to π in one interval (issue #15.3). Three guards now:
 * - Each Krylov correction is also measured in the L1 norm of ρ, Σ_j |Δc_j| ‖√π q_j‖₁ (a bound on
 *   ‖√π Σ Δc_j q_j‖₁), against tolerance × mass, besides the 1/π-weighted L2 test relative to the
 *   deviation (which keeps rates measurable near π); and both must pass for two successive
 *   comparisons (three approximations), since two approximations that have both decayed on fast
 *   Ritz values agree however much slow mass they both lack.
 * - A priori: an error ε relative to ‖u − π-part‖₂ in a Krylov vector is worth up to ε·√χ² of the
 *   mass in L1 (Cauchy–Schwarz, ‖√π‖₂‖u‖₂ ≥ Σ√π|u|), so the PCG solves are asked for
 *   0.1·tolerance/√χ²; where that is below SOLVE_TOL_FLOOR (for the direct 1-D solve too: the
 *   Gram–Schmidt dot products have the same round-off), Krylov is not tried. This is what catches
 *   the metastable start: there the successive approximations agree on a result that has lost
 *   the slow part to round-off, so no comparison of them can see it.
 * - Where Krylov is not tried, the symmetric form overflows, or an interval still fails after
 *   HALVINGS halvings, the rest of the report interval is taken by TR-BDF2 (`fallback`, noted in
 *   the report by exponentialNotes); the next report interval tries Krylov again, handing over at
 *   its first failure if the last one was handed over. Mass and positivity are checked on every
 *   accepted interval as before.
 *
 * One basis for many report times (issue #19). The space built at a start t_s serves every later
 * report time t_k as exp((t_k − t_s)A)ρ(t_s): only the small T's exponential changes, and the
 * space grows only while the error control above, applied at t_k, asks for more, never below the
 * vector count an earlier report time took (`Span.used`). A failure (24 vectors, or negativity)
 * starts a fresh space at the current report time under the per-interval rules. The span's
 * start density is in saveState, so a resumed run rebuilds the same space and its numbers equal
 * the uninterrupted run's whether or not a checkpoint was written.
 *
 * Positivity is not structural here, as with TR-BDF2: a result negative beyond the tolerance
 * (relative to max ρ) takes more vectors, then a shorter interval.
 */
/** Thrown from inside a Krylov extension when the run asked to stop; caught in steps(). */
const STOP_INSIDE: unique symbol = Symbol('stop inside an exponential interval');

export class DeviceExponential extends DeviceIntegrator {
  readonly name = 'exponential';
  readonly solver: ShiftedSolver;
  readonly tolerance: number;
  private readonly opts: Required<Omit<ExponentialOptions, 'dt0' | 'fallbackCg'>>;
  private readonly q: Field[] = [];
  private rho: Field;
  private readonly y: Field;
  private readonly acc: Field;
  private tauNext: number | undefined;
  /** Krylov vectors used by the last accepted interval (few: the next interval may be longer). */
  private lastBasis = 0;
  /** The CG tolerance the solves are asked for (tightened per interval, never loosened). */
  private readonly solveTol: number | undefined;
  private readonly fallbackCg: CgSettings;
  private fallbackIntegrator: DeviceTrBdf2 | undefined;
  /** Intervals handed to TR-BDF2; undefined while none was. */
  fallback: ExponentialFallback | undefined;
  /** Whether the last report interval ended in TR-BDF2 (then the next hands over on its first failure). */
  private handedOver = false;
  /** The Krylov space the state came from, reused for the next report time while it suffices. */
  private span: Span | undefined;
  /**
   * Asked between the shift-invert solves of a report interval (the run's checkpoint at the
   * interval's start): a stop (a signal, --max-wall) must not wait for a whole interval, which
   * takes minutes on large grids. The state is then still the interval's start, valid and
   * mass-restored, so the integrator stops there; the basis built so far is dropped.
   */
  private stopCheck: (() => Promise<boolean>) | undefined;
  /** The time the state holds inside steps(): where a stop between solves leaves the run. */
  private tNow = 0;
  /** Dense eigen-decompositions of the Krylov matrix so far (a count for tests; not in report.json). */
  coefficientSolves = 0;

  constructor(backend: Backend, op: FvOperator, opts: ExponentialOptions, cg: CgSettings) {
    super(backend, op);
    // Even where the solves need no √π (1-D direct), the Krylov space lives in the symmetric form.
    if (!op.symmetricFormUsable()) {
      throw new Error('π spans more than e^1400 on this grid, beyond float64 for the symmetric form the exponential integrator works in: use integrator trbdf2 (or auto), or add a noise floor (noise.eps)');
    }
    // On a float32 device the backend is a RefinedBackend (choose.ts): the Krylov vectors, the
    // Gram–Schmidt and the small matrix T stay float64 on the host, and only the shift-invert solves
    // (nearly all of the work) go to the device as refined corrections. Orthogonality is what makes
    // T a projection of B, and float32 vectors lose it at 6e-8: with them evaluating later report
    // times from one basis drifted (final KL 1.3e-3 from float64 on a 48² double well), so float32
    // had to give up oneBasis; float64 vectors keep it, and the error control's 1e-12 floors mean
    // what they say.
    this.solver = implicitSolver(backend, op, cg);
    this.solveTol = backend.directShiftedSolver ? undefined : cg.tol;
    this.fallbackCg = opts.fallbackCg ?? { tol: Math.max(1e-10, opts.tolerance * 1e-3), maxIterations: cg.maxIterations };
    this.tolerance = backend.info.precision === 'float32' ? Math.max(opts.tolerance, FLOAT32_STEP_TOL) : opts.tolerance;
    this.opts = {
      tolerance: this.tolerance,
      dtMax: opts.dtMax,
      maxBasis: opts.maxBasis ?? EXPONENTIAL_MAX_BASIS,
      shiftRatio: opts.shiftRatio ?? DEFAULT_SHIFT_RATIO,
      // float32 vectors (round-off 6e-8 each) evaluated ever farther from the basis's start drifted:
      // double-well-2d 48² on webasm, final KL 1.3e-3 from float64 with one basis, < 1e-3 per interval.
      oneBasis: (opts.oneBasis ?? true) && backend.info.precision !== 'float32',
    };
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

  /**
   * Starts a Krylov space at the current state (time t, shift γ): q₀ and the scalars of the
   * error control. Undefined with the reason where Krylov is not tried from this state.
   */
  private async startSpan(t: number, gamma: number, origin?: Float64Array): Promise<{ fallback: string } | undefined> {
    const b = this.backend;
    const tol = this.tolerance;
    const q0 = this.basis(0);
    const e = await this.equilibrium();
    this.span = undefined;
    const host = origin ?? new Float64Array(b.size);
    if (origin) await b.upload(this.rho, origin);
    else await b.download(this.x, host);
    const src = origin ? this.rho : this.x;
    const mass = await b.sum(src);
    await b.toSymmetric(src, q0);
    // The equilibrium component is carried exactly; the Krylov space holds the deviation only.
    const ce = await b.dot(e, q0);
    await b.lincomb(1, q0, -ce, e, q0);
    const beta0 = Math.sqrt(await b.dot(q0, q0));
    if (!Number.isFinite(beta0) || !Number.isFinite(ce)) return { fallback: 'the state overflows float64 in the symmetric form ρ/√π' };
    // β₀/|ce| = √χ² (u = ce ê + β₀ q₀ and mass = ce ‖√π‖₂).
    const needed = beta0 === 0 ? Infinity : (0.1 * tol * Math.abs(ce)) / beta0;
    if (!(needed >= SOLVE_TOL_FLOOR)) return { fallback: `χ² to π is ${((beta0 / ce) ** 2).toExponential(1)}: the Krylov vectors in ρ/√π would need a relative accuracy of ${needed.toExponential(1)} for an L1 error of ${tol} of the mass` };
    const M = this.opts.maxBasis;
    const span: Span = {
      t,
      at: t,
      gamma,
      origin: host,
      ce,
      beta0,
      mass,
      solveTol: this.solveTol === undefined ? undefined : Math.min(this.solveTol, needed),
      h: Array.from({ length: M + 1 }, () => new Array<number>(M).fill(0)),
      wt: [],
      m: 0,
      broken: beta0 === 0,
      used: 0,
      replay: 0,
    };
    if (beta0 > 0) {
      await b.scale(1 / beta0, q0);
      span.wt.push(await this.weight(q0));
    }
    this.span = span;
    return undefined;
  }

  /** Column k of the Lanczos matrix: q_{k+1} from B q_k, orthonormalized (span.m becomes k + 1). */
  private async extend(span: Span, k: number): Promise<void> {
    const b = this.backend;
    const e = await this.equilibrium();
    // Vectors a resumed run rebuilds were paid for before the checkpoint: the counts stay the uninterrupted run's.
    const replay = k < span.replay;
    const solves = this.solver.solves;
    const iterations = this.solver.iterations;
    const refinements = this.solver instanceof RefinedSolver ? this.solver.refinements : 0;
    const qk = this.basis(k);
    const w = this.basis(k + 1);
    const h = span.h;
    await b.fromSymmetric(qk, this.rho);
    await b.zero(this.y);
    await this.solver.solve(span.gamma, this.rho, this.y, span.solveTol);
    if (!replay && this.stopCheck && (await this.stopCheck())) throw STOP_INSIDE;
    await b.toSymmetric(this.y, w);
    // Gram–Schmidt twice: exact orthogonality is what makes T a projection of B.
    const next = [e, ...Array.from({ length: k + 1 }, (_, j) => this.basis(j))];
    const block = blockPasses(b);
    let beta: number;
    if (block) {
      // Classical, in block form (CGS2): all k + 2 dots in one pass over w, then one combination
      // pass, twice. Modified GS read and wrote w once per basis vector (2(k + 2) passes of four
      // streams); twice classical is as orthogonal as modified once twice (Giraud, Langou &
      // Rozložník 2005: CGS2 keeps ‖I − QᵀQ‖ at O(ε)), measured in test/plain-stepping.test.ts.
      const c = new Float64Array(next.length);
      for (let pass = 0; pass < 2; pass++) {
        await block.dots(w, next, c);
        await block.subtractCombination(w, next, c);
        for (let j = 1; j < next.length; j++) h[j - 1][k] += c[j];
      }
      beta = Math.sqrt(await b.dot(w, w));
    } else {
      // Modified, each subtraction forming the next projection's dot product (lincombDot, the
      // same bits as the two passes): against ê, q_0 … q_k, twice, then ‖w‖².
      const order = [...next, ...next, w];
      let c = await b.dot(e, w);
      for (let s = 0; s + 1 < order.length; s++) {
        if (s % next.length > 0) h[(s % next.length) - 1][k] += c;
        c = await lincombDot(b, 1, w, -c, order[s], w, order[s + 1]);
      }
      beta = Math.sqrt(c);
    }
    h[k + 1][k] = beta;
    span.m = k + 1;
    if (!(beta > 1e-14)) span.broken = true;
    else {
      await b.scale(1 / beta, w);
      span.wt.push(await this.weight(w));
    }
    if (replay) {
      this.solver.solves = solves;
      this.solver.iterations = iterations;
      if (this.solver instanceof RefinedSolver) this.solver.refinements = refinements;
    }
  }

  /**
   * exp(τA) applied to the span's origin, τ from its origin, into the state (on success), taking
   * the basis built so far and extending it while the error control asks for more. Every report
   * time of a run is evaluated from one basis this way, as long as it suffices.
   */
  private async evaluate(tau: number): Promise<IntervalResult> {
    const span = this.span;
    if (!span) return { ok: false };
    const b = this.backend;
    const tol = this.tolerance;
    const { ce, beta0, mass, gamma } = span;
    if (beta0 === 0) {
      // Exactly π: the state is its origin.
      await b.upload(this.x, span.origin);
      return { ok: true };
    }
    const M = this.opts.maxBasis;
    let prev: number[] | null = null;
    let passedBefore = false;
    let floorOnly = false;
    for (let k = 0; k < M; k++) {
      if (span.m <= k) {
        if (span.broken) return { ok: false };
        await this.extend(span, k);
      }
      const breakdown = span.broken && span.m === k + 1;
      // Below span.used − 1 vectors no comparison can pass (see `passed`), and the first that can
      // compares with the approximation from one vector fewer: the smaller spaces' coefficients (a
      // dense eigen-decomposition each, the largest cost of a 1-D point) are never looked at.
      if (k + 2 < span.used && !breakdown) continue;
      const coef = this.coefficients(span, k + 1, gamma, tau, beta0);
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
        floorOnly = tol * beta0 <= ROUNDOFF * Math.abs(ce);
        // The same change in the L1 norm of ρ, relative to the mass: Σ_j |Δc_j| ‖√π q_j‖₁ bounds it.
        let l1 = 0;
        for (let j = 0; j < coef.length; j++) l1 += Math.abs(coef[j] - (prev[j] ?? 0)) * span.wt[j];
        const estL1 = l1 / Math.max(tol * Math.abs(mass), 1e-300);
        est = Math.max(est, estL1);
      }
      prev = coef;
      // One passing comparison is not evidence when both approximations have decayed on fast Ritz
      // values alone (a slow part whose 2-norm weight is small is not yet in the space: seen with
      // χ² = 3e7 in a 1-D double well, where 2 vectors agreed to 1e-53 on a result with none of the
      // mass): two in a row are asked for, unless the state is π to round-off.
      // A later report time from the same basis takes at least the vectors an earlier one did: the
      // slow part an earlier time needed is in those, and at a longer τ every smaller space's
      // approximation has decayed on its fast Ritz values, so small spaces agree on nothing (#15.3).
      const passed = est <= 1 && k + 1 >= span.used;
      const enough = passed && (passedBefore || floorOnly);
      passedBefore = passed;
      if (enough || breakdown) {
        await this.combine(ce, coef);
        const lo = await b.min(this.rho);
        const neg = lo < 0 ? -lo / Math.max(await b.max(this.rho), 1e-300) : 0;
        if (neg <= tol || breakdown) {
          [this.x, this.rho] = [this.rho, this.x];
          await this.restoreSum(this.x, mass);
          this.lastBasis = k + 1;
          span.used = Math.max(span.used, k + 1);
          return { ok: true };
        }
      }
      if (breakdown) return { ok: false };
    }
    return { ok: false };
  }

  /** Tries exp(τA) on the state from a fresh basis at time t; on success the state holds it. */
  private async interval(t: number, tau: number, gamma: number): Promise<IntervalResult> {
    const f = await this.startSpan(t, gamma);
    if (f) return { ok: false, fallback: f.fallback };
    const r = await this.evaluate(tau);
    if (!r.ok) this.span = undefined;
    return r;
  }

  /** ‖√π q‖₁: what a unit coefficient of q is worth in the L1 norm of ρ. */
  private async weight(q: Field): Promise<number> {
    await this.backend.fromSymmetric(q, this.rho);
    return this.backend.norm1(this.rho);
  }

  /** β₀ Z exp(τλ) Zᵀ e₁ for T = sym(h[0..m)[0..m)) = Z diag(μ) Zᵀ, λ = (1 − 1/μ)/γ. */
  private coefficients(span: Span, m: number, gamma: number, tau: number, beta0: number): number[] {
    const cache = (span.eig ??= []);
    let eig = cache[m];
    if (!eig) {
      this.coefficientSolves++;
      const h = span.h;
      eig = cache[m] = krylovEigen(h, m); // solvers/tridiagonal-eigen.ts: QL on the band, Jacobi when T is not tridiagonal to round-off
    }
    const { values, vectors } = eig;
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
    // The chain acc ← 1·acc + c_j q_j, three links per pass where the backend fuses them (same bits).
    const [x0, c0] = [await this.equilibrium(), ce];
    let j = 0;
    let first = true;
    while (j < c.length) {
      const [x, a] = first ? [x0, c0] : [this.acc, 1];
      if (b.lincomb4 && j + 2 < c.length) {
        await b.lincomb4(a, x, c[j], this.basis(j), c[j + 1], this.basis(j + 1), c[j + 2], this.basis(j + 2), this.acc);
        j += 3;
      } else {
        await b.lincomb(a, x, c[j], this.basis(j), this.acc);
        j += 1;
      }
      first = false;
    }
    await b.fromSymmetric(this.acc, this.rho);
  }

  protected async steps(t0: number, t1: number, checkpoint?: Checkpoint): Promise<number> {
    this.tNow = t0;
    this.stopCheck = checkpoint ? async () => checkpoint(this.tNow) : undefined;
    try {
      return await this.stepsFrom(t0, t1, checkpoint);
    } catch (e) {
      if (e !== STOP_INSIDE) throw e;
      // Stopped between solves: the state is still the current interval's start (evaluate writes it only on success).
      this.span = undefined;
      return this.tNow;
    } finally {
      this.stopCheck = undefined;
    }
  }

  private async stepsFrom(t0: number, t1: number, checkpoint?: Checkpoint): Promise<number> {
    let t = t0;
    // The basis of the report times before, if it reaches this one: no new space, usually no solve.
    const span = this.span;
    if (span && span.at === t0 && t1 > t0 && this.opts.oneBasis) {
      const r = await this.evaluate(t1 - span.t);
      if (r.ok) {
        span.at = t1;
        record(this.stats, t1 - t0);
        return t1;
      }
      // Not enough vectors (or a negative result) this far from the origin: a fresh space from here.
      this.span = undefined;
    }
    // Intervals below 1e-300 (the scenario's floor for times) leave float64's normal range once scaled, which turns the Krylov estimate into NaN.
    let tau = Math.max(MIN_INTERVAL, Math.min(this.tauNext ?? this.opts.dtMax, this.opts.dtMax));
    // After a handed-over interval, one failed try is enough to hand over again.
    let halvings = this.handedOver ? 0 : HALVINGS;
    this.handedOver = false;
    while (t < t1) {
      const remaining = t1 - t;
      // A round-off sliver (t a few thousand ulps short of t1) is no interval: exp(τA) is the identity there to float64 precision.
      if (remaining <= 1e-12 * Math.abs(t1) || remaining < MIN_INTERVAL) {
        t = t1;
        break;
      }
      const landing = tau >= remaining * (1 - 1e-12);
      const h = landing ? remaining : tau;
      // γ = ratio·τ also for a basis that serves later report times: a shift chosen for a longer span
      // (0.15·√10·τ₁, the geometric mean of the reference problem's report times) took 5 fewer solves
      // of 24 but as many CG iterations at 256², 1e-4, and would change one-interval runs; a shift
      // from the run's end time would make the numbers up to t_k depend on where the run ends.
      const r = await this.interval(t, h, this.opts.shiftRatio * h);
      if (r.ok) {
        t = landing ? t1 : t + h;
        this.tNow = t;
        if (this.span) this.span.at = t;
        record(this.stats, h);
        // Few vectors: the interval could have been longer.
        if (this.lastBasis <= this.opts.maxBasis / 2) tau = Math.min(this.opts.dtMax, 2 * Math.max(tau, h));
        if (t < t1 && checkpoint && (await checkpoint(t))) break;
      } else if (r.fallback === undefined && halvings > 0) {
        this.stats.rejected++;
        halvings--;
        tau = h / 2;
      } else {
        if (r.fallback === undefined) this.stats.rejected++;
        const reason = r.fallback ?? `an interval of ${h.toPrecision(3)} did not meet the tolerance with ${this.opts.maxBasis} Krylov vectors`;
        this.span = undefined;
        const reached = await this.handOver(t, t1, reason, checkpoint);
        this.handedOver = true;
        tau = this.opts.dtMax;
        t = reached;
        this.tNow = t;
        if (t < t1) break; // stopped at a checkpoint inside TR-BDF2
      }
    }
    this.tauNext = tau;
    return t;
  }

  override saveState(): IntegratorState {
    const f = this.fallback;
    return {
      ...super.saveState(),
      tauNext: this.tauNext ?? null,
      handedOver: this.handedOver,
      fallback: f ? { intervals: f.intervals, time: f.time, steps: f.steps, from: f.from, to: f.to, reason: f.reason } : null,
      // Only the step proposal of the TR-BDF2 it hands over to carries over (its counters are read as differences).
      fallbackDtNext: this.fallbackIntegrator ? ((this.fallbackIntegrator.saveState().dtNext as number | null) ?? null) : null,
      span: this.saveSpan(),
      ...saveRefinements(this.solver),
    };
  }

  override restoreState(st: IntegratorState): void {
    super.restoreState(st);
    if (typeof st.tauNext === 'number') this.tauNext = st.tauNext;
    this.handedOver = st.handedOver === true;
    const f = st.fallback;
    if (f && typeof f === 'object' && typeof f.reason === 'string') {
      this.fallback = { intervals: Number(f.intervals), time: Number(f.time), steps: Number(f.steps), from: Number(f.from), to: Number(f.to), reason: f.reason };
    }
    this.restoreSpan(st.span);
    restoreRefinements(this.solver, st);
    if (typeof st.fallbackDtNext === 'number') {
      this.fallbackIntegrator = new DeviceTrBdf2(this.backend, this.op, { tolerance: this.opts.tolerance, dtMax: this.opts.dtMax }, this.fallbackCg);
      this.fallbackIntegrator.restoreState({ dtNext: st.fallbackDtNext });
    }
  }

  /**
   * The span's origin travels in the checkpoint (its density, bit for bit), so that a resumed run
   * rebuilds the same basis and evaluates the report times after the checkpoint exactly as the
   * uninterrupted run does: the numbers do not depend on whether a checkpoint was written. The
   * cost is one density per checkpoint, encoded once per span.
   */
  private saveSpan(): IntegratorState | null {
    const s = this.span;
    if (!s) return null;
    s.encoded ??= Buffer.from(s.origin.buffer, s.origin.byteOffset, s.origin.byteLength).toString('base64');
    return { t: s.t, at: s.at, gamma: s.gamma, built: s.m, used: s.used, origin: s.encoded };
  }

  private restoreSpan(v: IntegratorState[string] | undefined): void {
    this.pendingSpan = undefined;
    if (!v || typeof v !== 'object') return;
    const { t, at, gamma, built, used, origin } = v;
    if (typeof t !== 'number' || typeof at !== 'number' || typeof gamma !== 'number' || !(gamma > 0) || typeof built !== 'number' || typeof used !== 'number' || typeof origin !== 'string') return;
    const bytes = Buffer.from(origin, 'base64');
    if (bytes.byteLength !== 8 * this.backend.size) return;
    const rho = new Float64Array(this.backend.size);
    new Uint8Array(rho.buffer).set(bytes);
    this.pendingSpan = { t, at, gamma, built, used, origin: rho };
  }

  /** A span restored from a checkpoint, set up on the first advance (the backend is needed). */
  private pendingSpan: { t: number; at: number; gamma: number; built: number; used: number; origin: Float64Array } | undefined;

  override async advance(rho: Float64Array, t0: number, t1: number, checkpoint?: Checkpoint): Promise<number> {
    const p = this.pendingSpan;
    this.pendingSpan = undefined;
    // A span whose start is not a density of the checkpoint's mass (an edited state.json) is
    // dropped: the run goes on from the checkpointed density with a fresh basis, still correct.
    if (p && p.t <= t0 && p.at === t0 && plausibleOrigin(p.origin, rho)) {
      const f = await this.startSpan(p.t, p.gamma, p.origin);
      if (!f && this.span) {
        this.span.at = p.at;
        this.span.replay = p.built;
        this.span.used = p.used;
      }
    }
    return super.advance(rho, t0, t1, checkpoint);
  }

  /** TR-BDF2 from t to t1 on the same backend; its solves are counted in this.solver. */
  private async handOver(t: number, t1: number, reason: string, checkpoint?: Checkpoint): Promise<number> {
    const b = this.backend;
    // Shares the backend (and so is not disposed on its own: DeviceIntegrator.dispose frees the backend).
    this.fallbackIntegrator ??= new DeviceTrBdf2(b, this.op, { tolerance: this.opts.tolerance, dtMax: this.opts.dtMax }, this.fallbackCg);
    const fb = this.fallbackIntegrator;
    const solves = fb.solver.solves;
    const iterations = fb.solver.iterations;
    const refinements = fb.solver instanceof RefinedSolver ? fb.solver.refinements : 0;
    const steps = fb.stats.steps;
    // A fresh host array: advance() re-uploads only when handed a different array.
    const host = new Float64Array(b.size);
    await b.download(this.x, host);
    const reached = await fb.advance(host, t, t1, checkpoint);
    await b.upload(this.x, host);
    this.solver.solves += fb.solver.solves - solves;
    this.solver.iterations += fb.solver.iterations - iterations;
    if (this.solver instanceof RefinedSolver && fb.solver instanceof RefinedSolver) this.solver.refinements += fb.solver.refinements - refinements;
    const f = (this.fallback ??= { intervals: 0, time: 0, steps: 0, from: t, to: t, reason });
    f.intervals++;
    f.time += reached - t;
    f.steps += fb.stats.steps - steps;
    f.from = Math.min(f.from, t);
    f.to = Math.max(f.to, reached);
    return reached;
  }

  describe(): string {
    return `shift-and-invert Krylov exponential (tolerance ${this.tolerance}, γ = ${this.opts.shiftRatio}·τ, at most ${this.opts.maxBasis} vectors${this.opts.oneBasis ? '; later report times evaluated from the same basis' : ''}), ${this.solver.describe()} on ${this.backend.info.name}`;
  }
}

/** Finite, non-negative, and of the same mass as the state to round-off. */
function plausibleOrigin(origin: Float64Array, rho: Float64Array): boolean {
  let m0 = 0;
  let m = 0;
  for (let i = 0; i < origin.length; i++) {
    const v = origin[i];
    if (!(v >= 0) || v === Infinity) return false;
    m0 += v;
    m += rho[i];
  }
  return Number.isFinite(m0) && Math.abs(m0 - m) <= 1e-6 * Math.abs(m);
}

/** The report's note on intervals the exponential integrator handed to TR-BDF2 (none for other integrators). */
export function exponentialNotes(integrator: AsyncIntegrator): string[] {
  if (!(integrator instanceof DeviceExponential) || !integrator.fallback) return [];
  const f = integrator.fallback;
  return [
    `integrator: TR-BDF2 took ${+f.time.toPrecision(4)} time units between t = ${+f.from.toPrecision(6)} and ${+f.to.toPrecision(6)} (${f.steps} steps in ${f.intervals} piece(s)) from the exponential integrator, because ${f.reason}; their solves are counted in linearSolves.`,
  ];
}
