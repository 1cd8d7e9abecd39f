import { Grid } from './grid.js';
import { Problem } from './problem.js';
import { ArenaLease, sharedFloat64 } from './shared-memory.js';
import { faceCoefficients, sqrtPiOf } from './kernels/operator-kernels.js';

/**
 * The finite-volume generator in two equivalent forms.
 *
 * ρ-form (what we time-step): dρ_i/dt = Σ_j c_ij [B(ψ_i − ψ_j) ρ_j − B(ψ_j − ψ_i) ρ_i] = (Aρ)_i,
 * c_ij = D_σ / h², the exponential-fitting (Scharfetter–Gummel) flux. With u = ρ/π this is
 * M u' = −K u of docs/design.md §2 with a_σ = D_σ π_i B(ψ_j − ψ_i); every coefficient is O(1)
 * because only differences of ψ appear, so no π is ever formed.
 *
 * Symmetric form: v = ρ / √π gives v' = S v, S_ij = c_ij (z/2)/sinh(z/2) (z = ψ_j − ψ_i),
 * S_ii = A_ii. S is symmetric negative semidefinite with null vector √π: CG and the eigen-solvers
 * work on it.
 *
 * Face arrays are indexed by the lower cell of the face along each axis; faces on the upper wall
 * have zero coefficients (reflecting walls: no flux).
 *
 * The operator holds coefficients only: applying A or S is solvers/kernels/operator-kernels.ts
 * (applyA, applyS), which the backends, the eigen-solvers and the tests call. Its arrays belong to
 * its ArenaLease and go back to the arena on dispose().
 */
export class FvOperator {
  readonly grid: Grid;
  readonly problem: Problem;
  /** Per axis: coefficient of ρ_i in the flux from cell i to its upper neighbour j. */
  readonly fwd: Float64Array[];
  /** Per axis: coefficient of ρ_j in the flux from j back to i. */
  readonly bwd: Float64Array[];
  /** Per axis: symmetric weight sqrt(fwd·bwd). */
  readonly sym: Float64Array[];
  /** −A_ii = −S_ii ≥ 0: total out-flow coefficient of each cell. */
  readonly outflow: Float64Array;
  /** √π (unnormalized, max 1): the similarity scaling ρ = √π v. Underflows to 0 where ψ > ~1490. */
  readonly sqrtPi: Float64Array;
  /** The arena blocks of the arrays above. */
  readonly lease: ArenaLease;

  constructor(problem: Problem, lease: ArenaLease = new ArenaLease()) {
    this.problem = problem;
    this.lease = lease;
    const g = (this.grid = problem.grid);
    const alloc = (): Float64Array => sharedFloat64(g.size, lease);
    this.fwd = [];
    this.bwd = [];
    this.sym = [];
    this.outflow = alloc();
    for (let k = 0; k < g.dim; k++) {
      const fw = alloc();
      const bw = alloc();
      const sy = alloc();
      faceCoefficients(problem.faceD[k], problem.psi, fw, bw, sy, this.outflow, g.strides[k], g.n[k], g.size, 1 / (g.h[k] * g.h[k]));
      this.fwd.push(fw);
      this.bwd.push(bw);
      this.sym.push(sy);
    }
    this.sqrtPi = alloc();
    sqrtPiOf(problem.psi, this.sqrtPi);
  }

  /** Returns the coefficient arrays to the arena; the operator must not be used afterwards. */
  dispose(): void {
    this.lease.release();
  }

  /** Largest step for which explicit Euler keeps ρ ≥ 0 (and is stable): 1 / max_i (−A_ii). */
  explicitLimit(): number {
    let m = 0;
    for (let i = 0; i < this.outflow.length; i++) if (this.outflow[i] > m) m = this.outflow[i];
    return m > 0 ? 1 / m : Infinity;
  }

  /** Whether the symmetric form is usable: √π must not underflow where ρ may live. */
  symmetricFormUsable(): boolean {
    let max = 0;
    for (let i = 0; i < this.problem.psi.length; i++) if (this.problem.psi[i] > max) max = this.problem.psi[i];
    return max < 1400;
  }
}
