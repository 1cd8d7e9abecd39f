import type { Preconditioner } from '../linear.js';
import { dot } from '../vec.js';
import type { DirichletForm } from './dirichlet.js';
import { runSync, type Steps } from './steps.js';

/** CG iterations between checkpoints: a multigrid cycle is ~10–30 ms on 40³–64³, so a signal is seen within ~0.1 s of CPU time. */
const YIELD_EVERY = 4;

/**
 * Preconditioned CG for the singular consistent system (−S) x = b with b ⊥ √π, iterates kept
 * ⊥ √π. −S is SPD on that complement, so CG converges there; the preconditioned residual is
 * projected back each step, which makes P M⁻¹ P the (symmetric) preconditioner on the subspace.
 *
 * The preconditioner is any solvers/linear.ts Preconditioner for (I − θS) (Jacobi now,
 * multigrid later): with θ = 1/σ, θ(I − θS)⁻¹ = (σ − S)⁻¹ approximates (−S)⁺ away from the
 * null vector, which is what the projection removes.
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
  iterations = 0;
  solves = 0;

  /** s: the null vector normalized to ‖s‖ = 1. shift σ: the preconditioner approximates (σ − S)⁻¹. */
  constructor(A: DirichletForm, s: Float64Array, pre: Preconditioner, shift: number) {
    this.A = A;
    this.s = s;
    this.pre = pre;
    this.theta = 1 / shift;
    const n = A.size;
    this.r = new Float64Array(n);
    this.z = new Float64Array(n);
    this.p = new Float64Array(n);
    this.q = new Float64Array(n);
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
   * Returns the final residual norm.
   */
  solve(b: Float64Array, x: Float64Array, relTol: number, absTol: number, maxIterations: number): number {
    return runSync(this.solveSteps(b, x, relTol, absTol, maxIterations));
  }

  /** solve() as checkpointed steps (steps.ts): yields every YIELD_EVERY iterations. */
  *solveSteps(b: Float64Array, x: Float64Array, relTol: number, absTol: number, maxIterations: number): Steps<number> {
    const { r, z, p, q } = this;
    this.project(x);
    this.A.apply(x, q);
    diff(b, q, r);
    this.project(r);
    let rnorm = Math.sqrt(dot(r, r));
    const stop = Math.max(relTol * rnorm, absTol);
    this.pre.setup(this.theta);
    yield;
    let it = 0;
    if (rnorm > stop) {
      this.precondition(r, z);
      p.set(z);
      let rz = dot(r, z);
      while (it < maxIterations) {
        this.A.apply(p, q);
        const pq = dot(p, q);
        if (!(pq > 0)) break;
        cgStep(rz / pq, p, q, x, r);
        it++;
        if (it % YIELD_EVERY === 0) yield;
        rnorm = Math.sqrt(dot(r, r));
        if (rnorm <= stop || !Number.isFinite(rnorm)) break;
        this.precondition(r, z);
        const rzNew = dot(r, z);
        const beta = rzNew / rz;
        rz = rzNew;
        xpby(z, beta, p);
      }
    }
    this.project(x);
    this.iterations += it;
    this.solves++;
    return rnorm;
  }

  private precondition(r: Float64Array, z: Float64Array): void {
    this.pre.apply(r, z);
    const t = this.theta;
    for (let i = 0; i < z.length; i++) z[i] *= t;
    this.project(z);
  }
}

// The vector updates live outside the generator: V8 does not optimize loops inside a generator
// body (no on-stack replacement there).
function cgStep(alpha: number, p: Float64Array, q: Float64Array, x: Float64Array, r: Float64Array): void {
  for (let i = 0; i < x.length; i++) {
    x[i] += alpha * p[i];
    r[i] -= alpha * q[i];
  }
}

/** p ← z + β·p. */
function xpby(z: Float64Array, beta: number, p: Float64Array): void {
  for (let i = 0; i < p.length; i++) p[i] = z[i] + beta * p[i];
}

/** r ← b − q. */
function diff(b: Float64Array, q: Float64Array, r: Float64Array): void {
  for (let i = 0; i < r.length; i++) r[i] = b[i] - q[i];
}
