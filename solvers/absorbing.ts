import { FvOperator } from './operator.js';
import { MultigridPreconditioner } from './multigrid.js';
import type { Preconditioner } from './linear.js';
import { DirichletForm } from './eigen/dirichlet.js';
import { SingularPcg } from './eigen/pcg.js';
import { sharedFloat64 } from './shared-memory.js';
import { applyS } from './kernels/operator-kernels.js';

/**
 * Dirichlet problems of the backward generator: L u = −s in the free cells, u = g on the absorbed
 * cells. Committor: s = 0, g = 1 on B and 0 on A; mean first-passage time: s = 1, g = 0.
 *
 * Which operator. The run time-steps ρ' = A ρ (forward, Fokker–Planck); expectations evolve by
 * the transpose, d/dt Σ ρ_i u_i = Σ ρ_i (Aᵀu)_i, so the generator acting on functions u(θ) (the
 * backward operator −∇f·∇ + D Δ + ∇D·∇ of the SDE, discretized) is L = Aᵀ. With A = Π^{1/2} S Π^{−1/2}
 * (S symmetric, operator.ts) this is L = Π^{−1/2} S Π^{1/2}, so with w = √π u
 *
 *     L u = −s   ⇔   (−S) w = √π s.
 *
 * Restricted to the free cells F, (−S)_FF is symmetric positive definite once every connected
 * part of F touches an absorbed cell (the caller checks that: src/sets/reach.ts): the data on
 * the absorbed cells C move to the right-hand side, (−S)_FF w_F = √π s_F + S_FC w_C.
 *
 * The multigrid of the time stepping is built on a copy of the operator in which the faces
 * between F and C are cut (their weight kept in the free cell's diagonal, which is (−S)_FF's) and
 * every absorbed cell is an isolated diagonal row; the Galerkin coarse levels of that SPD
 * matrix are SPD, so it stays a valid preconditioner, restricted to F. The CG is the one the
 * eigen-solvers use (solvers/eigen/pcg.ts) with no null vector to project out.
 */

export interface AbsorbingOptions {
  /** Relative residual ‖r‖/‖r₀‖ in the symmetric form (default 1e-10). */
  tol?: number;
  /** CG iterations (default 2000). */
  maxIterations?: number;
  /** Preconditioner (default: multigrid on the cut operator). */
  preconditioner?: 'multigrid' | 'jacobi';
}

export interface AbsorbingResult {
  /** The solution u per cell (g on the absorbed cells). */
  u: Float64Array;
  iterations: number;
  /** Final ‖r‖/‖r₀‖ of the symmetric system. */
  residual: number;
  converged: boolean;
  solver: string;
}

/**
 * −S restricted to the free cells, extended by 0, applied as −S_cut (one fused stencil pass, the
 * generated kernel of the time stepping). CG's vectors are zero on the absorbed cells (b, the
 * start and every preconditioned residual are), and there S_cut v = S_FF v_F on F and 0 on the
 * absorbed cells, so no copy or masking is needed. The Gram form GᵀG of DirichletForm, which the
 * eigen-solvers need for gaps far below round-off of ‖S‖, is not: the Dirichlet problem has no
 * null vector, and its smallest eigenvalue (~1/T) is what CG resolves.
 */
class RestrictedForm extends DirichletForm {
  private readonly cut: FvOperator;
  constructor(op: FvOperator, cut: FvOperator) {
    super(op);
    this.cut = cut;
  }
  override apply(v: Float64Array, out: Float64Array): void {
    applyS(this.cut, v, out);
    for (let i = 0; i < out.length; i++) out[i] = -out[i];
    this.applications++;
  }
}

/** The cut operator the multigrid is built on (see the file comment); shares everything else with op. */
function cutOperator(op: FvOperator, absorbed: Uint8Array): FvOperator {
  const g = op.grid;
  const sym = op.sym.map((w, k) => {
    const s = g.strides[k];
    const out = sharedFloat64(g.size);
    out.set(w);
    for (let i = 0; i + s < g.size; i++) if (absorbed[i] !== absorbed[i + s]) out[i] = 0;
    return out;
  });
  // Arena arrays, so the multigrid's WebAssembly kernels run on them (its lease returns them on dispose).
  const outflow = sharedFloat64(g.size);
  outflow.set(op.outflow);
  let maxOut = 0;
  for (const v of outflow) if (v > maxOut) maxOut = v;
  // An absorbed row only has to be positive; the largest diagonal keeps the coarse matrices' scale.
  for (let i = 0; i < g.size; i++) if (absorbed[i]) outflow[i] = maxOut;
  const view = Object.create(op) as FvOperator;
  Object.defineProperty(view, 'sym', { value: sym });
  Object.defineProperty(view, 'outflow', { value: outflow });
  return view;
}

/** Zeroes the preconditioned residual on the absorbed cells, so CG stays in the free subspace. */
class RestrictedPreconditioner implements Preconditioner {
  readonly name: string;
  private readonly inner: Preconditioner;
  private readonly absorbed: Uint8Array;
  constructor(inner: Preconditioner, absorbed: Uint8Array) {
    this.inner = inner;
    this.absorbed = absorbed;
    this.name = inner.name;
  }
  setup(theta: number): void {
    this.inner.setup(theta);
  }
  apply(r: Float64Array, z: Float64Array): void {
    this.inner.apply(r, z);
    const a = this.absorbed;
    for (let i = 0; i < z.length; i++) if (a[i]) z[i] = 0;
  }
  dispose(): void {
    this.inner.dispose?.();
  }
}

class DiagonalPreconditioner implements Preconditioner {
  readonly name = 'Jacobi';
  private readonly d: Float64Array;
  private theta = 1;
  constructor(d: Float64Array) {
    this.d = d;
  }
  setup(theta: number): void {
    this.theta = theta;
  }
  apply(r: Float64Array, z: Float64Array): void {
    for (let i = 0; i < r.length; i++) z[i] = r[i] / (1 + this.theta * this.d[i]);
  }
}

/**
 * Solves L u = −s on the free cells with u = g on the absorbed ones (absorbed[i] = 1).
 * `source` and `boundary` are per-cell arrays (only their free / absorbed entries are read).
 */
export function solveAbsorbing(op: FvOperator, absorbed: Uint8Array, source: Float64Array | null, boundary: Float64Array | null, opts: AbsorbingOptions = {}): AbsorbingResult {
  const g = op.grid;
  const n = g.size;
  if (absorbed.length !== n) throw new RangeError(`solveAbsorbing: ${absorbed.length} flags for ${n} cells`);
  if (!op.symmetricFormUsable()) {
    throw new RangeError('π spans more than e^1400 on this grid, beyond float64 for the symmetric form: add a noise floor (noise.eps) or shrink the box');
  }
  if (g.dim === 1) return solveTridiagonal(op, absorbed, source, boundary);
  const s = op.sqrtPi;
  // Right-hand side: √π s on F, plus Σ_{j∈C} S_ij √π_j g_j across the cut faces.
  const b = new Float64Array(n);
  if (source) for (let i = 0; i < n; i++) if (!absorbed[i]) b[i] = s[i] * source[i];
  if (boundary) {
    for (let k = 0; k < g.dim; k++) {
      const st = g.strides[k];
      const w = op.sym[k];
      for (let i = 0; i + st < n; i++) {
        const j = i + st;
        if (absorbed[i] === absorbed[j] || w[i] === 0) continue;
        if (absorbed[j]) b[i] += w[i] * s[j] * boundary[j];
        else b[j] += w[i] * s[i] * boundary[i];
      }
    }
  }
  const cut = cutOperator(op, absorbed);
  const form = new RestrictedForm(op, cut);
  const inner: Preconditioner = opts.preconditioner === 'jacobi' ? new DiagonalPreconditioner(cut.outflow) : new MultigridPreconditioner(cut);
  const pre = new RestrictedPreconditioner(inner, absorbed);
  // The preconditioner approximates (σ − S_cut)⁻¹; σ far below the Dirichlet problem's smallest
  // eigenvalue (≥ ~1/max T) makes that (−S_cut)⁻¹. A larger lowest mode than σ only costs CG a step.
  const shift = 1e-14 * form.normBound;
  const cg = new SingularPcg(form, new Float64Array(n), pre, shift);
  const w = new Float64Array(n);
  let bnorm = 0;
  for (let i = 0; i < n; i++) bnorm += b[i] * b[i];
  bnorm = Math.sqrt(bnorm);
  const tol = opts.tol ?? 1e-10;
  let rnorm = 0;
  try {
    rnorm = bnorm > 0 ? cg.solve(b, w, tol, 0, opts.maxIterations ?? 2000) : 0;
  } finally {
    pre.dispose();
  }
  const u = new Float64Array(n);
  for (let i = 0; i < n; i++) u[i] = absorbed[i] ? (boundary ? boundary[i] : 0) : w[i] / s[i];
  const residual = bnorm > 0 ? rnorm / bnorm : 0;
  return { u, iterations: cg.iterations, residual, converged: residual <= tol, solver: cg.name };
}

/**
 * 1-D: the rows of L itself, Σ_j rate(i→j)(u_j − u_i) = −s_i, by elimination. They need no √π
 * (rates are O(D/h²) coefficients formed from differences of ψ), and the multigrid has no 1-D
 * kernels. Plain Thomas would form the pivot −(up + down) − down·c with c → −1 behind a
 * reflecting wall, cancelling to 0 when up ≪ down (a near-zero of D); carrying e = 1 + c instead
 * gives the pivot −up − down·e, a sum of terms of one sign, so no cancellation at any ratio.
 */
function solveTridiagonal(op: FvOperator, absorbed: Uint8Array, source: Float64Array | null, boundary: Float64Array | null): AbsorbingResult {
  const n = op.grid.size;
  const up = op.fwd[0]; // rate i → i+1
  const down = op.bwd[0]; // bwd[i]: rate i+1 → i
  const c = new Float64Array(n);
  const d = new Float64Array(n);
  const u = new Float64Array(n);
  let ePrev = 0;
  let dPrev = 0;
  for (let i = 0; i < n; i++) {
    if (absorbed[i]) {
      c[i] = 0;
      d[i] = boundary ? boundary[i] : 0;
      ePrev = 1;
      dPrev = d[i];
      continue;
    }
    const rUp = i + 1 < n ? up[i] : 0;
    const rDown = i > 0 ? down[i - 1] : 0;
    // Row i: rDown u_{i−1} − (rUp + rDown) u_i + rUp u_{i+1} = −s_i, with u_{i−1} = d_{i−1} − c_{i−1} u_i.
    const pivot = -rUp - rDown * ePrev;
    if (!(pivot < 0)) throw new RangeError('solveAbsorbing: a free cell reaches no absorbed cell (singular system)');
    c[i] = rUp / pivot;
    d[i] = ((source ? -source[i] : 0) - rDown * dPrev) / pivot;
    ePrev = (-rDown * ePrev) / pivot;
    dPrev = d[i];
  }
  u[n - 1] = d[n - 1];
  for (let i = n - 2; i >= 0; i--) u[i] = d[i] - c[i] * u[i + 1];
  return { u, iterations: 0, residual: 0, converged: true, solver: 'tridiagonal (Thomas) on the generator rows' };
}

/** Forward committor q = P(reach B before A): L q = 0 off A ∪ B, q = 0 on A, 1 on B. */
export function committor(op: FvOperator, A: Uint8Array, B: Uint8Array, opts: AbsorbingOptions = {}): AbsorbingResult {
  const n = op.grid.size;
  const absorbed = new Uint8Array(n);
  const g = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (A[i] || B[i]) absorbed[i] = 1;
    if (B[i]) g[i] = 1;
  }
  return solveAbsorbing(op, absorbed, null, g, opts);
}

/** Mean first-passage time to the target set: L T = −1 off the target, T = 0 on it. */
export function meanFirstPassage(op: FvOperator, target: Uint8Array, opts: AbsorbingOptions = {}): AbsorbingResult {
  return solveAbsorbing(op, target, new Float64Array(op.grid.size).fill(1), null, opts);
}
