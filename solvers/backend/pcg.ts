import type { FvOperator } from '../operator.js';
import type { Backend, Field } from './types.js';
import { lincombDot } from './fused.js';
import { SolverFailure } from '../base/failures.js';
import { pcgAsync, pcgLoop, type PcgOps } from '../pcg.js';

export interface CgSettings {
  /** Relative residual ‖r‖/‖b/√π‖ in the symmetric form. */
  tol: number;
  maxIterations: number;
}

/**
 * Smallest relative residual asked of CG on a float32 backend: float32 residuals stall near 1e-6,
 * so a float64-sized tolerance (1e-9) would never be met. Tighter requests are raised to it.
 */
export const FLOAT32_CG_TOL = 1e-5;

/**
 * Deviations below this fraction of ‖b/√π‖ are solved to it instead: the state is then π to
 * round-off and a relative residual of the deviation would be out of CG's reach.
 */
const DEVIATION_FLOOR = 1e-10;

type Work = 'bs' | 'y' | 'r' | 'z' | 'p' | 'q' | 's';

/**
 * Preconditioned CG on the symmetric form (I − θS) y = b/√π, x = √π y, warm-started from x, with
 * the backend's preconditioner. The inexact solve would leak mass through the residual's
 * component along √π; since √π is an eigenvector of (I − θS) with eigenvalue 1, adding that
 * component of the true residual back (y += ⟨√π, r⟩/‖√π‖² √π) restores Σx = Σb to round-off and
 * only shrinks the residual. Throws when the tolerance is not reached (after the correction, so
 * x holds the last iterate). A ShiftedSolver (shifted.ts), checked where shiftedSolver returns it:
 * no import back from shifted.ts, which imports this file.
 */
export class Pcg {
  readonly name: string;
  iterations = 0;
  solves = 0;
  /** The relative residual solved to: the requested one, raised to FLOAT32_CG_TOL on float32. */
  readonly tol: number;
  readonly maxIterations: number;
  private readonly requestedTol: number;
  /** No solve is asked for less than this (float32 residuals stall near 1e-6). */
  private readonly tolFloor: number;
  private readonly b: Backend;
  private readonly f: Record<Work, Field>;
  /** ‖√π‖², in float64 on the host. */
  private readonly s2: number;
  private sqrtPiReady = false;

  constructor(backend: Backend, op: FvOperator, opts: CgSettings) {
    this.b = backend;
    this.requestedTol = opts.tol;
    this.tolFloor = backend.info.precision === 'float32' ? FLOAT32_CG_TOL : 0;
    this.tol = Math.max(opts.tol, this.tolFloor);
    this.maxIterations = opts.maxIterations;
    this.name = `PCG (${backend.preconditionerName})`;
    const mk = (): Field => backend.field();
    this.f = { bs: mk(), y: mk(), r: mk(), z: mk(), p: mk(), q: mk(), s: mk() };
    let s2 = 0;
    for (const v of op.sqrtPi) s2 += v * v;
    this.s2 = s2;
  }

  /** √π as a field, fromSymmetric(1), made on the first solve (uses z as scratch). */
  private async sqrtPi(): Promise<Field> {
    const { z, s } = this.f;
    if (!this.sqrtPiReady) {
      await this.b.upload(z, new Float64Array(this.b.size).fill(1));
      await this.b.fromSymmetric(z, s);
      this.sqrtPiReady = true;
    }
    return s;
  }

  /**
   * Solves (I − θA) x = b; x holds the initial guess. The residual is measured against b's
   * deviation from equilibrium, b/√π minus its component along √π (that component is solved
   * exactly: √π is an eigenvector with eigenvalue 1). So the solve's error shrinks with the
   * distance to π, and convergence rates measured down to χ² ~ 1e-16 see no solver floor, with
   * no need for a tight absolute tolerance early on. `tol` overrides the solver's tolerance for
   * this solve (error estimates need only a digit or two).
   */
  async solve(theta: number, bRho: Field, x: Field, tol: number = this.tol): Promise<void> {
    const B = this.b;
    const s = await this.sqrtPi();
    const { bs, y, r, z, p, q } = this.f;
    // r = b/√π − (I − θS) y0, with y0 = x/√π (warm start from the current state)
    await B.toSymmetric(bRho, bs);
    await B.toSymmetric(x, y);
    const bnorm2 = await B.dot(bs, bs);
    // ⟨√π, b/√π⟩ = Σb; the deviation is formed explicitly (‖b‖² − (Σb)²/‖√π‖² would cancel).
    const dev2 = await lincombDot(B, 1, bs, -(await B.sum(bRho)) / this.s2, s, r, r);
    const deviation = Math.max(Math.sqrt(dev2), DEVIATION_FLOOR * Math.sqrt(bnorm2));
    await B.shifted(theta, y, q);
    const r02 = await lincombDot(B, 1, bs, -1, q, r, r);
    tol = Math.max(tol, this.tolFloor);
    const stop = tol * deviation;
    const r0 = Math.sqrt(r02);
    // The one PCG loop (solvers/pcg.ts) on the backend's fields; ⟨p, (I − θS) p⟩ ≤ 0 is noted,
    // not acted on: iterating on keeps today's arithmetic; it names the failure if the solve fails.
    const { iterations: it, rnorm, breakdown } = await pcgAsync(pcgLoop(this.ops(theta), { x: y, r, z, p, q }, r0, { stop, maxIterations: this.maxIterations, onBreakdown: 'note' }));
    // Mass with the true residual (the recursive one drifts): ⟨√π, b/√π − (I − θS) y⟩ / ‖√π‖².
    await B.shifted(theta, y, q);
    const c = (await lincombDot(B, 1, bs, -1, q, z, s)) / this.s2;
    await B.lincomb(1, y, c, s, z);
    await B.fromSymmetric(z, x);
    this.iterations += it;
    this.solves++;
    if (!(rnorm <= stop)) {
      const context = { solver: this.name, iterations: it, residual: rnorm / deviation };
      if (!Number.isFinite(rnorm)) throw new SolverFailure('non-finite', `CG's residual became ${rnorm} after ${it} iterations (the right-hand side or the operator is not finite)`, context);
      if (breakdown) throw new SolverFailure('breakdown', `CG broke down after ${it} iterations: ⟨p, (I − θS)p⟩ ≤ 0, the shifted operator is not positive definite in floating point here (residual ${(rnorm / deviation).toExponential(2)})`, context);
      throw new SolverFailure('iteration-limit', `CG did not reach tolerance ${tol} in ${it} iterations (residual ${(rnorm / deviation).toExponential(2)} relative to the right-hand side's deviation from equilibrium)`, context);
    }
  }

  private ops(theta: number): PcgOps<Field> {
    const B = this.b;
    const fused = B.shiftedDot?.bind(B);
    return {
      apply: (pp, qq) => B.shifted(theta, pp, qq),
      ...(fused ? { applyDot: (pp: Field, qq: Field) => fused(theta, pp, qq) } : {}),
      precondition: (rr, zz) => B.precondition(theta, rr, zz),
      dot: (a, c) => B.dot(a, c),
      copy: (from, to) => B.copy(from, to),
      update: (alpha, pp, qq, xx, rr) => B.cgUpdate(alpha, pp, qq, xx, rr),
      direction: (zz, beta, pp) => B.lincomb(1, zz, beta, pp, pp),
    };
  }

  /**
   * One correction of iterative refinement (refine.ts): d ≈ (I − θS)⁻¹ r in the symmetric form,
   * from d = 0, until the backend's own (recursive) residual is tol·‖r‖ or maxIterations have run.
   * A missed tolerance is not an error here: the caller measures what the correction achieved
   * with a float64 residual and decides. No √π and no mass correction: the caller keeps the π
   * component in float64, so r is a deviation and ψ's range never enters these fields. r is
   * left unchanged; iterations are counted in this.iterations.
   */
  async correction(theta: number, r: Field, d: Field, tol: number, maxIterations: number): Promise<{ iterations: number; rnorm: number; r0: number; breakdown: boolean }> {
    const B = this.b;
    const { r: rr, z, p, q } = this.f;
    await B.copy(r, rr);
    await B.zero(d);
    const r0 = Math.sqrt(await B.dot(rr, rr));
    const res = await pcgAsync(pcgLoop(this.ops(theta), { x: d, r: rr, z, p, q }, r0, { stop: tol * r0, maxIterations, onBreakdown: 'note' }));
    this.iterations += res.iterations;
    return { ...res, r0 };
  }

  describe(): string {
    const raised = this.tol !== this.requestedTol ? ` (raised from ${this.requestedTol}: float32 residuals stall near 1e-6)` : '';
    return `${this.name}, tolerance ${this.tol}${raised}`;
  }
}
