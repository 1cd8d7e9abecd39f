import { FvOperator } from './operator.js';
import type { ThreadTeam } from './exec/team.js';
import { scaleBy } from './range-kernels.js';
import { ArenaLease, sharedFloat64 } from './shared-memory.js';

/**
 * Host-side pieces of the implicit solves: the 1-D direct solve and the Preconditioner interface
 * with its Jacobi floor. The CG iteration itself is solvers/pcg.ts, the one loop of the code: the
 * time steps run it against the Backend (solvers/backend/pcg.ts; the CPU backend applies these
 * preconditioners in place), the spectral gap on host arrays (solvers/eigen/pcg.ts).
 */

/**
 * 1-D direct solve. (I − θA) is a tridiagonal M-matrix with unit column sums, so elimination
 * without pivoting has positive pivots (stable), the solution stays ≥ 0 for b ≥ 0, and Σx = Σb
 * to round-off: mass is conserved exactly for any θ.
 */
export class TridiagonalSolver {
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
  /** Lets the grid-sized passes run on the CPU backend's kernel threads (null: none). */
  useTeam?(team: ThreadTeam | null): void;
  /** Returns its grid arrays to the arena (the backend that uses it calls this on its own dispose()). */
  dispose?(): void;
}

export class JacobiPreconditioner implements Preconditioner {
  readonly name = 'Jacobi';
  private readonly outflow: Float64Array;
  private readonly inv: Float64Array;
  private theta = NaN;
  private team: ThreadTeam | null = null;
  private readonly lease = new ArenaLease();
  constructor(op: FvOperator) {
    this.outflow = op.outflow;
    this.inv = sharedFloat64(op.grid.size, this.lease);
  }
  private disposed = false;
  dispose(): void {
    this.disposed = true;
    this.lease.release();
    this.theta = NaN;
  }
  useTeam(team: ThreadTeam | null): void {
    this.team = team;
  }
  setup(theta: number): void {
    if (theta === this.theta) return;
    // Its memory may already hold another run's arrays.
    if (this.disposed) throw new Error('JacobiPreconditioner: used after dispose()');
    this.theta = theta;
    for (let i = 0; i < this.inv.length; i++) this.inv[i] = 1 / (1 + theta * this.outflow[i]);
  }
  apply(r: Float64Array, z: Float64Array): void {
    if (this.team) this.team.run('scaleBy', [this.inv, r, z], [], [], r.length);
    else scaleBy([this.inv, r, z], [], [], 0, r.length);
  }
}
