import type { FvOperator } from '../operator.js';
import { JacobiPreconditioner } from '../linear.js';
import { SolverFailure } from '../base/failures.js';
import { CpuBackend } from './cpu.js';
import { Pcg, type CgSettings } from './pcg.js';
import { shiftedSolver, type ShiftedSolver } from './shifted.js';
import type { IntegratorState, SolverStats } from './integrators.js';
import type { Backend, BackendInfo, DirectShiftedSolver, Field, Rkl2StageCoefficients } from './types.js';

/**
 * Mixed-precision iterative refinement (issue #22 item 1): float64 accuracy for the implicit
 * integrators on a float32 device.
 *
 * Why the state leaves the device. A float32 state rounds every cell to 6e-8 of ρ, so once the
 * deviation from π is 1e-5 of it (χ² ~ 1e-10, well inside the range rates are fitted on) the
 * state itself carries 1e-2 relative error in the distance; and the device's float32 operator has
 * an equilibrium of its own, 1e-7 away from π. No accuracy of the linear solves can undo either.
 * So an implicit integrator on a float32 backend runs on a RefinedBackend: the state, the stage
 * vectors and every O(N) stencil or vector operation are float64 on the host (the CPU backend's
 * kernels, threaded on big grids), and only the linear solves, the part that costs tens to
 * hundreds of operator applications per step, run on the device, as corrections of a float64
 * residual (RefinedSolver). Each refinement step moves two float32 vectors between host and
 * device, against the inner CG's dozens of device passes.
 */

/** Smallest relative reduction asked of one device correction: float32 CG's true residual stalls near 1e-6, a margin below. */
const INNER_TOL_MIN = 1e-4;
/** Largest: a correction that gains less than a digit is not worth its two transfers. */
const INNER_TOL_MAX = 0.1;
/** A refinement step that does not halve the float64 residual made no real progress. */
const STALL_FACTOR = 0.5;
/** Steps in a row without progress before the solve is declared stagnant. */
const STALLS_ALLOWED = 2;
/** Refinement steps per solve at most (convergence takes 2–4 at the integrators' tolerances). */
const MAX_REFINEMENTS = 40;
/** float32's unit round-off and largest finite value. */
const FLOAT32_EPS = 2 ** -24;
const FLOAT32_MAX = 3.4028234663852886e38;
/** As in pcg.ts: a deviation below this fraction of ‖b/√π‖ is solved to it instead. */
const DEVIATION_FLOOR = 1e-10;
/**
 * The float64 residual b − (I − θS)y carries round-off of about ε(‖b‖ + (1 + 2θ·max outflow)‖y‖);
 * asking for less would read that noise as stagnation. A few ulps of margin.
 */
const ROUNDOFF_MARGIN = 16 * Number.EPSILON;

/**
 * A Backend whose fields are float64 arrays on the host (a CpuBackend's) while its implicit solves
 * run on a float32 device: the integrators of implicit.ts and exponential.ts, written against the
 * Backend, run on it unchanged and call implicitSolver, which hands them a RefinedSolver. Its
 * info names the device (the report's backend is the device), with precision float64: the
 * integrators then keep float64 tolerances and mass handling, because the state is float64.
 */
export class RefinedBackend implements Backend {
  readonly info: BackendInfo;
  readonly size: number;
  readonly host: CpuBackend;
  readonly device: Backend;
  readonly op: FvOperator;

  constructor(device: Backend, op: FvOperator) {
    this.device = device;
    this.op = op;
    this.size = device.size;
    // Jacobi: the host never preconditions (the device's CG does), so the switch to multigrid is never built.
    this.host = new CpuBackend(op, new JacobiPreconditioner(op));
    const d = device.info;
    this.info = {
      name: d.name,
      get executor(): string {
        return d.executor;
      },
      device: d.device,
      precision: 'float64',
    };
    // In 1-D the host's tridiagonal solve is exact and O(N); a device CG on the same system needs
    // O(N) iterations (pearson-1d at 2000 cells: 493,387 device iterations, 103 s against 2.3 s),
    // so the implicit steps there never touch the device.
    this.directShiftedSolver = this.host.directShiftedSolver;
    // The report prints the device backend's notes: the one place it says what float32 did here.
    const note = this.directShiftedSolver
      ? `implicit steps: in 1-D the state and the tridiagonal solves run in float64 on the host (${this.directShiftedSolver.name}: exact and O(N), where a device CG takes O(N) iterations); ${d.name} is not used by them`
      : `implicit steps: the state and stencil work in float64 on the host, the linear solves as float32 ${device.preconditionerName}-preconditioned CG corrections on ${d.name}, iteratively refined until their float64 residual meets the float64 tolerance`;
    d.notes = [...(d.notes ?? []), note];
  }

  readonly directShiftedSolver?: DirectShiftedSolver;

  get preconditionerName(): string {
    return this.device.preconditionerName;
  }
  field(): Field {
    return this.host.field();
  }
  upload(f: Field, data: Float64Array): Promise<void> {
    return this.host.upload(f, data);
  }
  download(f: Field, out: Float64Array): Promise<void> {
    return this.host.download(f, out);
  }
  copy(src: Field, dst: Field): Promise<void> {
    return this.host.copy(src, dst);
  }
  apply(x: Field, out: Field): Promise<void> {
    return this.host.apply(x, out);
  }
  eulerStep(dt: number, x: Field, out: Field): Promise<void> {
    return this.host.eulerStep(dt, x, out);
  }
  rkl2Stage(c: Rkl2StageCoefficients, y1: Field, y2: Field, y0: Field, l0: Field, out: Field): Promise<void> {
    return this.host.rkl2Stage(c, y1, y2, y0, l0, out);
  }
  lincomb(a: number, x: Field, b: number, y: Field, out: Field): Promise<void> {
    return this.host.lincomb(a, x, b, y, out);
  }
  scale(a: number, x: Field): Promise<void> {
    return this.host.scale(a, x);
  }
  zero(x: Field): Promise<void> {
    return this.host.zero(x);
  }
  cgUpdate(alpha: number, p: Field, q: Field, y: Field, r: Field): Promise<number> {
    return this.host.cgUpdate(alpha, p, q, y, r);
  }
  shifted(theta: number, v: Field, out: Field): Promise<void> {
    return this.host.shifted(theta, v, out);
  }
  precondition(theta: number, r: Field, out: Field): Promise<void> {
    return this.host.precondition(theta, r, out);
  }
  toSymmetric(x: Field, out: Field): Promise<void> {
    return this.host.toSymmetric(x, out);
  }
  fromSymmetric(y: Field, out: Field): Promise<void> {
    return this.host.fromSymmetric(y, out);
  }
  dot(x: Field, y: Field): Promise<number> {
    return this.host.dot(x, y);
  }
  sum(x: Field): Promise<number> {
    return this.host.sum(x);
  }
  norm1(x: Field): Promise<number> {
    return this.host.norm1(x);
  }
  min(x: Field): Promise<number> {
    return this.host.min(x);
  }
  max(x: Field): Promise<number> {
    return this.host.max(x);
  }
  dispose(): void {
    this.host.dispose();
    this.device.dispose();
  }
}

/** The counters of a refined solve, beyond a ShiftedSolver's (solves, inner CG iterations). */
export interface RefinementCounts {
  /** Device corrections over all solves (outer refinement steps). */
  refinements: number;
}

/**
 * (I − θA) x = b in float64 by iterative refinement with float32 device corrections.
 *
 * Works in the symmetric form on the deviation from equilibrium: b/√π = β√π + b_d with b_d ⊥ √π,
 * and since √π is an eigenvector of I − θS with eigenvalue 1, y = β√π + y_d with
 * (I − θS) y_d = b_d. The β√π part is exact; only y_d is refined, so the float64 residual
 * r = b_d − (I − θS) y_d has round-off relative to the deviation, not to ‖b‖, and near π (where
 * the deviation is 1e-8 of the state) it still resolves the tolerance. Keeping y_d ⊥ √π after
 * each correction removes the residual's √π component (it only shrinks it), which also keeps
 * Σx = Σb to round-off. Each step hands r/‖r‖ (O(1), so float32 neither underflows near π nor
 * overflows) to the device's PCG (pcg.ts, with whatever preconditioner the device applies), adds
 * ‖r‖·d in float64, and measures the new residual in float64.
 *
 * The stopping rule is Pcg's: ‖r‖ ≤ tol·‖b_d‖ (‖b_d‖ floored at 1e-10‖b/√π‖), never below the
 * float64 residual's own round-off, ~ε·κ‖y_d‖ with κ = cond(I − θS) ≤ 1 + 2θ·max outflow. The
 * classical bound has each step contract by max(inner tolerance, κ·6e-8); CG corrections do better
 * in practice (a 32² double-well solve at κ = 1e9 still converged, to that round-off floor), so
 * what ends a solve is a correction that gains nothing, whatever the cause (float32 losing the
 * system, an iteration cap too low for the conditioning): two steps in a row that do not halve
 * the residual, or 40 steps, end it with a SolverFailure naming θ and κ; a non-finite correction
 * (coefficients beyond float32's range) ends it at once. Never a silent loop or a NaN state.
 */
export class RefinedSolver implements ShiftedSolver, RefinementCounts {
  iterations = 0;
  solves = 0;
  refinements = 0;
  readonly tol: number;
  readonly maxIterations: number;
  private readonly rb: RefinedBackend;
  private readonly pcg: Pcg;
  private readonly h: { bd: Field; yd: Field; q: Field; r: Field; s: Field };
  private readonly dev: { r: Field; d: Field };
  private readonly buf: Float64Array;
  private readonly s2: number;
  private readonly outflowMax: number;
  private sReady = false;

  constructor(rb: RefinedBackend, op: FvOperator, cg: CgSettings) {
    if (!op.symmetricFormUsable()) {
      throw new Error('π spans more than e^1400 on this grid, beyond float64 for the symmetric CG form: use integrator rkl2 or explicit, or add a noise floor (noise.eps)');
    }
    this.rb = rb;
    this.tol = cg.tol;
    this.maxIterations = cg.maxIterations;
    this.pcg = new Pcg(rb.device, op, cg);
    const H = rb.host;
    this.h = { bd: H.field(), yd: H.field(), q: H.field(), r: H.field(), s: H.field() };
    this.dev = { r: rb.device.field(), d: rb.device.field() };
    this.buf = new Float64Array(rb.size);
    let s2 = 0;
    for (const v of op.sqrtPi) s2 += v * v;
    this.s2 = s2;
    let m = 0;
    for (const v of op.outflow) if (v > m) m = v;
    this.outflowMax = m;
  }

  get name(): string {
    return `PCG (${this.rb.device.preconditionerName}) in float32 on ${this.rb.device.info.name}, refined in float64`;
  }

  /** √π in the symmetric form (the equilibrium direction), as a host field. */
  private async sqrtPi(): Promise<Field> {
    if (!this.sReady) {
      await this.rb.host.upload(this.h.s, this.rb.op.sqrtPi);
      this.sReady = true;
    }
    return this.h.s;
  }

  /** y ← y − (⟨√π, y⟩/‖√π‖²)√π. */
  private async project(y: Field): Promise<void> {
    const H = this.rb.host;
    const s = await this.sqrtPi();
    await H.lincomb(1, y, -(await H.dot(s, y)) / this.s2, s, y);
  }

  async solve(theta: number, b: Field, x: Field, tol: number = this.tol): Promise<void> {
    const H = this.rb.host;
    const D = this.rb.device;
    const s = await this.sqrtPi();
    const { bd, yd, q, r } = this.h;
    await H.toSymmetric(b, bd);
    const bnorm = Math.sqrt(await H.dot(bd, bd));
    // ⟨√π, b/√π⟩ = Σb; the deviation formed explicitly, as in pcg.ts.
    const beta = (await H.sum(b)) / this.s2;
    await H.lincomb(1, bd, -beta, s, bd);
    const deviation = Math.max(Math.sqrt(await H.dot(bd, bd)), DEVIATION_FLOOR * bnorm);
    // Warm start from x's deviation, as Pcg warm-starts from x.
    await H.toSymmetric(x, yd);
    await this.project(yd);
    const kappa = 1 + 2 * theta * this.outflowMax;
    let prev = Infinity;
    let stalls = 0;
    let steps = 0;
    for (;;) {
      await H.shifted(theta, yd, q);
      await H.lincomb(1, bd, -1, q, r);
      const rnorm = Math.sqrt(await H.dot(r, r));
      const ynorm = Math.sqrt(await H.dot(yd, yd));
      const stop = Math.max(tol * deviation, ROUNDOFF_MARGIN * (deviation + kappa * ynorm));
      const context = { solver: this.name, iterations: steps, residual: rnorm / deviation };
      if (!Number.isFinite(rnorm)) {
        throw new SolverFailure('non-finite', `iterative refinement's float64 residual became ${rnorm} after ${steps} float32 corrections on ${D.info.name} (the right-hand side or the operator is not finite)`, context);
      }
      if (rnorm <= stop) break;
      if (steps > 0) stalls = rnorm > STALL_FACTOR * prev ? stalls + 1 : 0;
      if (stalls >= STALLS_ALLOWED || steps >= MAX_REFINEMENTS) {
        const how = stalls >= STALLS_ALLOWED ? `stagnated: ${stalls} float32 corrections in a row did not halve the float64 residual` : `did not converge in ${steps} float32 corrections`;
        const why = kappa * FLOAT32_EPS >= 0.5 ? `, beyond what float32 (${FLOAT32_EPS.toExponential(1)}) resolves` : `; each correction ran at most ${this.maxIterations} CG iterations`;
        throw new SolverFailure(rnorm > prev ? 'diverged' : 'iteration-limit', `iterative refinement on ${D.info.name} ${how} (residual ${(rnorm / deviation).toExponential(2)} of the deviation from equilibrium, asked ${tol}); I − θS at θ = ${theta.toPrecision(4)} has condition up to ${kappa.toExponential(2)}${why}: use a smaller time.dt or time.tolerance, or --backend cpu`, context);
      }
      prev = rnorm;
      const inner = Math.min(INNER_TOL_MAX, Math.max(INNER_TOL_MIN, (0.5 * stop) / rnorm));
      // r/‖r‖ to the device: O(1) entries whatever the residual's size.
      await H.download(r, this.buf);
      const k = 1 / rnorm;
      for (let i = 0; i < this.buf.length; i++) this.buf[i] *= k;
      await D.upload(this.dev.r, this.buf);
      const c = await this.pcg.correction(theta, this.dev.r, this.dev.d, inner, this.maxIterations);
      this.iterations += c.iterations;
      steps++;
      this.refinements++;
      await D.download(this.dev.d, this.buf);
      for (let i = 0; i < this.buf.length; i++) {
        if (!Number.isFinite(this.buf[i])) {
          const range = theta * this.outflowMax > FLOAT32_MAX || this.outflowMax > FLOAT32_MAX ? `: the operator's coefficients (θ·max outflow = ${(theta * this.outflowMax).toExponential(2)}, max outflow ${this.outflowMax.toExponential(2)}) leave float32's range (${FLOAT32_MAX.toExponential(2)}); use --backend cpu or rescale the noise` : '';
          throw new SolverFailure('non-finite', `a float32 CG correction on ${D.info.name} became ${this.buf[i]} in cell ${i} after ${c.iterations} iterations (θ = ${theta.toPrecision(4)})${range}`, { ...context, cell: i });
        }
      }
      await H.upload(q, this.buf);
      await H.lincomb(1, yd, rnorm, q, yd);
      await this.project(yd);
    }
    // x = √π (β√π + y_d)
    await H.lincomb(beta, s, 1, yd, q);
    await H.fromSymmetric(q, x);
    this.solves++;
  }

  describe(): string {
    // The integrator's description ends with the backend's name.
    return `float32 PCG (${this.rb.device.preconditionerName}) corrections refined to a float64 residual of ${+this.tol.toPrecision(6)}`;
  }
}

/**
 * The linear solver of an implicit integrator: refinement on a RefinedBackend (choose.ts wraps
 * float32 backends in one), else the backend's own (shifted.ts).
 */
export function implicitSolver(backend: Backend, op: FvOperator, cg: CgSettings): ShiftedSolver {
  return backend instanceof RefinedBackend && !backend.directShiftedSolver ? new RefinedSolver(backend, op, cg) : shiftedSolver(backend, op, cg);
}

/** report.integrator.linearRefinements, present only where the solves were refined. */
export function refinementField(solver: SolverStats | undefined): { linearRefinements?: number } {
  return solver instanceof RefinedSolver ? { linearRefinements: solver.refinements } : {};
}

/** saveState's entry for a refined solver (so a resumed run's counts equal the uninterrupted run's). */
export function saveRefinements(solver: ShiftedSolver): IntegratorState {
  return solver instanceof RefinedSolver ? { refinements: solver.refinements } : {};
}

export function restoreRefinements(solver: ShiftedSolver, st: IntegratorState): void {
  if (solver instanceof RefinedSolver && typeof st.refinements === 'number') solver.refinements = st.refinements;
}

/**
 * FPSOLVE_REFINE=0 turns refinement off: implicit steps then run in float32 on the device with
 * their tolerances raised (pcg.ts FLOAT32_CG_TOL, implicit.ts FLOAT32_STEP_TOL), as before issue
 * #22. Kept for comparisons (test/gpu-refine.test.ts shows what refinement buys) and for measuring
 * an all-device step on hardware.
 */
export function refinementEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.FPSOLVE_REFINE !== '0';
}

/** Wraps a float32 backend for the implicit integrators (float64 backends, or refinement off, as they are). */
export function refinedBackend(backend: Backend, op: FvOperator): Backend {
  return backend.info.precision === 'float32' && !(backend instanceof RefinedBackend) && refinementEnabled() ? new RefinedBackend(backend, op) : backend;
}
