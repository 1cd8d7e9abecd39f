import type { Preconditioner } from '../linear.js';
import { dot } from '../vec.js';
import { HOST_KERNELS, pcgCheckpoints, pcgLoop, type PcgOps } from '../pcg.js';
import type { DirichletForm } from './dirichlet.js';
import { runSync, type Steps } from './steps.js';
import type { EigenTeam } from './threaded.js';

/** CG iterations between checkpoints: a multigrid cycle is ~10–30 ms on 40³–64³, so a signal is seen within ~0.1 s of CPU time. */
const YIELD_EVERY = 4;

/**
 * The singular consistent system (−S) x = b with b ⊥ √π, solved by the one PCG loop
 * (solvers/pcg.ts) with iterates kept ⊥ √π. −S is SPD on that complement, so CG converges there;
 * the preconditioned residual is projected back each step, which makes P M⁻¹ P the (symmetric)
 * preconditioner on the subspace.
 *
 * The preconditioner is any solvers/linear.ts Preconditioner for (I − θS) (multigrid in 2-D/3-D):
 * with θ = 1/σ, θ(I − θS)⁻¹ = (σ − S)⁻¹ approximates (−S)⁺ away from the null vector, which is
 * what the projection removes. The factor θ is not applied: CG's iterates do not change when the
 * preconditioner is scaled by a constant, and leaving it out saves a pass over the grid.
 */
export class SingularPcg {
  private readonly A: DirichletForm;
  private readonly s: Float64Array;
  private readonly pre: Preconditioner;
  private readonly theta: number;
  private readonly r: Float64Array;
  private readonly z: Float64Array;
  private readonly p: Float64Array;
  private readonly q: Float64Array;
  private readonly ops: PcgOps<Float64Array>;
  iterations = 0;
  solves = 0;

  /**
   * s: the null vector normalized to ‖s‖ = 1. shift σ: the preconditioner approximates (σ − S)⁻¹.
   * team: CG's four vectors live in its shared memory and the iterations' −S applies run on it
   * (the preconditioner gets the team from its owner, useTeam).
   */
  constructor(A: DirichletForm, s: Float64Array, pre: Preconditioner, shift: number, team: EigenTeam | null = null) {
    this.A = A;
    this.s = s;
    this.pre = pre;
    this.theta = 1 / shift;
    const n = A.size;
    const vec = (): Float64Array => (team ? team.vector() : new Float64Array(n));
    this.r = vec();
    this.z = vec();
    this.p = vec();
    this.q = vec();
    this.ops = {
      ...HOST_KERNELS,
      apply: team ? (p, q) => team.apply(p, q) : (p, q) => A.apply(p, q),
      // z = M⁻¹r unprojected: r stays ⊥ √π (−S is symmetric with −S√π = 0), so ⟨r, z⟩ and
      // −S p see only z's part on the complement, and CG's iterates there are those of the
      // projected preconditioner P M⁻¹ P (Kaasschieter 1988); x's drift along √π is projected
      // out at the end. Saves a dot product and an update per iteration.
      precondition: (r, z) => pre.apply(r, z),
    };
  }

  get name(): string {
    return `PCG (${this.pre.name})`;
  }

  private project(v: Float64Array): void {
    const c = dot(v, this.s);
    const s = this.s;
    for (let i = 0; i < v.length; i++) v[i] -= c * s[i];
  }

  /**
   * x ← solution of (−S)x = b (x is the initial guess). Stops when ‖r‖ ≤ max(relTol·‖r₀‖, absTol).
   * Returns the final residual norm. `zeroStart`: the caller promises x = 0 on entry, so the first
   * residual is b itself (the apply and projection of a zero x give exactly 0: the same bits).
   */
  solve(b: Float64Array, x: Float64Array, relTol: number, absTol: number, maxIterations: number, zeroStart = false): number {
    return runSync(this.solveSteps(b, x, relTol, absTol, maxIterations, zeroStart));
  }

  /** solve() as checkpointed steps (steps.ts): yields every YIELD_EVERY iterations. */
  *solveSteps(b: Float64Array, x: Float64Array, relTol: number, absTol: number, maxIterations: number, zeroStart = false): Steps<number> {
    const { r, z, p, q } = this;
    if (zeroStart) r.set(b);
    else {
      this.project(x);
      this.A.apply(x, q);
      for (let i = 0; i < r.length; i++) r[i] = b[i] - q[i];
    }
    this.project(r);
    const r0 = Math.sqrt(dot(r, r));
    this.pre.setup(this.theta);
    yield;
    const res = yield* pcgCheckpoints(
      pcgLoop(this.ops, { x, r, z, p, q }, r0, { stop: Math.max(relTol * r0, absTol), maxIterations, onBreakdown: 'stop', checkpointEvery: YIELD_EVERY }),
    );
    this.project(x);
    this.iterations += res.iterations;
    this.solves++;
    return res.rnorm;
  }
}
