import { FvOperator } from './operator.js';
import { dot } from './vec.js';

/** Solves (I − θA) x = b in the ρ-form, the one linear system every implicit step needs. */
export interface ShiftedSolver {
  /** x receives the solution; it is also the initial guess for iterative solvers. */
  solve(theta: number, b: Float64Array, x: Float64Array): void;
  readonly name: string;
  /** Total Krylov iterations so far (0 for direct solvers). */
  iterations: number;
  solves: number;
}

/**
 * 1-D direct solve. (I − θA) is a tridiagonal M-matrix with unit column sums, so elimination
 * without pivoting has positive pivots (stable), the solution stays ≥ 0 for b ≥ 0, and Σx = Σb
 * to round-off: mass is conserved exactly for any θ.
 */
export class TridiagonalSolver implements ShiftedSolver {
  readonly name = 'tridiagonal (Thomas)';
  iterations = 0;
  solves = 0;
  private readonly op: FvOperator;
  private readonly c: Float64Array;
  private readonly d: Float64Array;

  constructor(op: FvOperator) {
    if (op.grid.dim !== 1) throw new Error('TridiagonalSolver is for 1-D grids');
    this.op = op;
    this.c = new Float64Array(op.grid.size);
    this.d = new Float64Array(op.grid.size);
  }

  solve(theta: number, b: Float64Array, x: Float64Array): void {
    const n = b.length;
    const out = this.op.outflow;
    const fw = this.op.fwd[0];
    const bw = this.op.bwd[0];
    const c = this.c;
    const d = this.d;
    // Row i: −θ fw[i−1] x_{i−1} + (1 + θ out_i) x_i − θ bw[i] x_{i+1} = b_i
    let denom = 1 + theta * out[0];
    c[0] = (-theta * bw[0]) / denom;
    d[0] = b[0] / denom;
    for (let i = 1; i < n; i++) {
      const a = -theta * fw[i - 1];
      denom = 1 + theta * out[i] - a * c[i - 1];
      c[i] = i < n - 1 ? (-theta * bw[i]) / denom : 0;
      d[i] = (b[i] - a * d[i - 1]) / denom;
    }
    x[n - 1] = d[n - 1];
    for (let i = n - 2; i >= 0; i--) x[i] = d[i] - c[i] * x[i + 1];
    this.solves++;
  }
}

/** A preconditioner for (I − θS) in the symmetric form; rebuilt when θ changes. */
export interface Preconditioner {
  setup(theta: number): void;
  apply(r: Float64Array, z: Float64Array): void;
  readonly name: string;
}

export class JacobiPreconditioner implements Preconditioner {
  readonly name = 'Jacobi';
  private readonly outflow: Float64Array;
  private readonly inv: Float64Array;
  private theta = NaN;
  constructor(op: FvOperator) {
    this.outflow = op.outflow;
    this.inv = new Float64Array(op.grid.size);
  }
  setup(theta: number): void {
    if (theta === this.theta) return;
    this.theta = theta;
    for (let i = 0; i < this.inv.length; i++) this.inv[i] = 1 / (1 + theta * this.outflow[i]);
  }
  apply(r: Float64Array, z: Float64Array): void {
    const inv = this.inv;
    for (let i = 0; i < r.length; i++) z[i] = inv[i] * r[i];
  }
}

export interface CgOptions {
  /** Relative residual tolerance ‖r‖/‖b‖ in the symmetric form. */
  tol: number;
  maxIterations: number;
}

/**
 * Preconditioned CG on the symmetric form (I − θS) y = b/√π, x = √π y. The inexact solve would
 * leak mass through the residual's component along √π; since √π is an eigenvector of (I − θS)
 * with eigenvalue 1, adding that component back (y += ⟨√π, r⟩/‖√π‖² √π) restores Σx = Σb to
 * round-off and only shrinks the residual.
 */
export class CgSolver implements ShiftedSolver {
  readonly name: string;
  iterations = 0;
  solves = 0;
  private readonly op: FvOperator;
  private readonly pre: Preconditioner;
  private readonly opts: CgOptions;
  private readonly y: Float64Array;
  private readonly r: Float64Array;
  private readonly z: Float64Array;
  private readonly p: Float64Array;
  private readonly q: Float64Array;
  private readonly s2: number;

  constructor(op: FvOperator, pre: Preconditioner, opts: CgOptions) {
    this.op = op;
    this.pre = pre;
    this.opts = opts;
    this.name = `PCG (${pre.name})`;
    const n = op.grid.size;
    this.y = new Float64Array(n);
    this.r = new Float64Array(n);
    this.z = new Float64Array(n);
    this.p = new Float64Array(n);
    this.q = new Float64Array(n);
    this.s2 = dot(op.sqrtPi, op.sqrtPi);
  }

  /** q = (I − θS) v */
  private applyShifted(theta: number, v: Float64Array, q: Float64Array): void {
    this.op.applySymmetric(v, q);
    for (let i = 0; i < q.length; i++) q[i] = v[i] - theta * q[i];
  }

  solve(theta: number, b: Float64Array, x: Float64Array): void {
    const s = this.op.sqrtPi;
    const n = b.length;
    const { y, r, z, p, q } = this;
    this.pre.setup(theta);
    // r = b/s − (I − θS) y0, with y0 = x/s (warm start from the current state)
    let bnorm2 = 0;
    for (let i = 0; i < n; i++) {
      const bi = b[i] / s[i];
      y[i] = x[i] / s[i];
      r[i] = bi;
      bnorm2 += bi * bi;
    }
    this.applyShifted(theta, y, q);
    for (let i = 0; i < n; i++) r[i] -= q[i];
    const stop = this.opts.tol * Math.sqrt(bnorm2);
    let rnorm = Math.sqrt(dot(r, r));
    let it = 0;
    if (rnorm > stop) {
      this.pre.apply(r, z);
      p.set(z);
      let rz = dot(r, z);
      while (it < this.opts.maxIterations) {
        this.applyShifted(theta, p, q);
        const alpha = rz / dot(p, q);
        for (let i = 0; i < n; i++) {
          y[i] += alpha * p[i];
          r[i] -= alpha * q[i];
        }
        it++;
        rnorm = Math.sqrt(dot(r, r));
        if (rnorm <= stop || !Number.isFinite(rnorm)) break;
        this.pre.apply(r, z);
        const rzNew = dot(r, z);
        const beta = rzNew / rz;
        rz = rzNew;
        for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
      }
    }
    // Restore exact mass with the true residual (the recursive one drifts).
    this.applyShifted(theta, y, q);
    let sr = 0;
    for (let i = 0; i < n; i++) sr += s[i] * (b[i] / s[i] - q[i]);
    const c = sr / this.s2;
    for (let i = 0; i < n; i++) x[i] = s[i] * (y[i] + c * s[i]);
    this.iterations += it;
    this.solves++;
    if (!(rnorm <= stop)) {
      throw new Error(`CG did not reach tolerance ${this.opts.tol} in ${it} iterations (relative residual ${(rnorm / Math.sqrt(bnorm2)).toExponential(2)})`);
    }
  }
}
