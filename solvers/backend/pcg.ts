import type { FvOperator } from '../operator.js';
import type { ShiftedSolver } from './shifted.js';
import type { Backend, Field } from './types.js';

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

type Work = 'bs' | 'y' | 'r' | 'z' | 'p' | 'q' | 's';

/**
 * Preconditioned CG on the symmetric form (I − θS) y = b/√π, x = √π y, warm-started from x, with
 * the backend's preconditioner. The inexact solve would leak mass through the residual's
 * component along √π; since √π is an eigenvector of (I − θS) with eigenvalue 1, adding that
 * component of the true residual back (y += ⟨√π, r⟩/‖√π‖² √π) restores Σx = Σb to round-off and
 * only shrinks the residual. Throws when the tolerance is not reached (after the correction, so
 * x holds the last iterate).
 */
export class Pcg implements ShiftedSolver {
  readonly name: string;
  iterations = 0;
  solves = 0;
  /** The relative residual solved to: the requested one, raised to FLOAT32_CG_TOL on float32. */
  readonly tol: number;
  readonly maxIterations: number;
  private readonly requestedTol: number;
  private readonly b: Backend;
  private readonly f: Record<Work, Field>;
  /** ‖√π‖², in float64 on the host. */
  private readonly s2: number;
  private sqrtPiReady = false;

  constructor(backend: Backend, op: FvOperator, opts: CgSettings) {
    this.b = backend;
    this.requestedTol = opts.tol;
    this.tol = backend.info.precision === 'float32' ? Math.max(opts.tol, FLOAT32_CG_TOL) : opts.tol;
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

  async solve(theta: number, bRho: Field, x: Field): Promise<void> {
    const B = this.b;
    const s = await this.sqrtPi();
    const { bs, y, r, z, p, q } = this.f;
    // r = b/√π − (I − θS) y0, with y0 = x/√π (warm start from the current state)
    await B.toSymmetric(bRho, bs);
    await B.toSymmetric(x, y);
    const bnorm2 = await B.dot(bs, bs);
    await B.shifted(theta, y, q);
    await B.lincomb(1, bs, -1, q, r);
    const stop = this.tol * Math.sqrt(bnorm2);
    let rnorm = Math.sqrt(await B.dot(r, r));
    let it = 0;
    if (rnorm > stop) {
      await B.precondition(theta, r, z);
      await B.copy(z, p);
      let rz = await B.dot(r, z);
      while (it < this.maxIterations) {
        await B.shifted(theta, p, q);
        const alpha = rz / (await B.dot(p, q));
        rnorm = Math.sqrt(await B.cgUpdate(alpha, p, q, y, r));
        it++;
        if (rnorm <= stop || !Number.isFinite(rnorm)) break;
        await B.precondition(theta, r, z);
        const rzNew = await B.dot(r, z);
        const beta = rzNew / rz;
        rz = rzNew;
        await B.lincomb(1, z, beta, p, p);
      }
    }
    // Mass with the true residual (the recursive one drifts): ⟨√π, b/√π − (I − θS) y⟩ / ‖√π‖².
    await B.shifted(theta, y, q);
    await B.lincomb(1, bs, -1, q, z);
    const c = (await B.dot(s, z)) / this.s2;
    await B.lincomb(1, y, c, s, z);
    await B.fromSymmetric(z, x);
    this.iterations += it;
    this.solves++;
    if (!(rnorm <= stop)) {
      throw new Error(`CG did not reach tolerance ${this.tol} in ${it} iterations (relative residual ${(rnorm / Math.sqrt(bnorm2)).toExponential(2)})`);
    }
  }

  describe(): string {
    const raised = this.tol !== this.requestedTol ? ` (raised from ${this.requestedTol}: float32 residuals stall near 1e-6)` : '';
    return `${this.name}, tolerance ${this.tol}${raised}`;
  }
}
