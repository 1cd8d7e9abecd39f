import { FvOperator } from './operator.js';
import { MultigridPreconditioner } from './multigrid.js';
import type { Preconditioner } from './linear.js';
import { hostPcg } from './pcg.js';
import { sharedFloat64 } from './shared-memory.js';
import { applyS } from './kernels/operator-kernels.js';
import { SolverFailure } from './base/failures.js';
import { RestrictedDirichletForm } from './dirichlet-form.js';

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
 * This file holds the one solver of (−S)_FF x = b (restrictedSolve), shared by the committor and
 * first-passage solves here and by the killed generator's eigen-solve (eigen/dirichlet.ts, which
 * passes its own apply): the multigrid of the time stepping built on a copy of the operator in
 * which every face touching an absorbed cell is cut (its weight kept in the free cell's
 * diagonal, which is (−S)_FF's), so every absorbed cell is an isolated diagonal row; the Galerkin
 * coarse levels of that SPD matrix are SPD, so it stays a valid preconditioner, restricted to F.
 * The CG is the one PCG loop (solvers/pcg.ts hostPcg): (−S)_FF is SPD, nothing to project out.
 */

export interface AbsorbingOptions {
  /** max_i |s_i + (L u)_i| / K_ii / max|u| on the free cells (default 1e-10; see solveAbsorbing). */
  tol?: number;
  /** CG iterations (default 2000). */
  maxIterations?: number;
  /** Preconditioner (default: multigrid on the cut operator). */
  preconditioner?: RestrictedPreconditioner;
}

export interface AbsorbingResult {
  /** The solution u per cell (g on the absorbed cells). */
  u: Float64Array;
  iterations: number;
  /** Final max_i |s_i + (L u)_i| / K_ii / max|u| over the free cells (the stopping test). */
  residual: number;
  converged: boolean;
  solver: string;
}

export type RestrictedPreconditioner = 'multigrid' | 'jacobi';

/**
 * The cut operator the multigrid is built on (see the file comment): a view of op with its own
 * face weights and diagonal, sharing everything else (no second FvOperator).
 */
function cutOperator(op: FvOperator, inside: Uint8Array): FvOperator {
  const g = op.grid;
  const sym = op.sym.map((w, k) => {
    const s = g.strides[k];
    // Arena arrays, so the multigrid's WebAssembly kernels run on them.
    const out = sharedFloat64(g.size);
    out.set(w);
    for (let i = 0; i + s < g.size; i++) if (!inside[i] || !inside[i + s]) out[i] = 0;
    return out;
  });
  const outflow = sharedFloat64(g.size);
  outflow.set(op.outflow);
  let maxOut = 0;
  for (const v of outflow) if (v > maxOut) maxOut = v;
  // An absorbed row only has to be positive; the largest diagonal keeps the coarse matrices' scale.
  for (let i = 0; i < g.size; i++) if (!inside[i]) outflow[i] = maxOut;
  const view = Object.create(op) as FvOperator;
  Object.defineProperty(view, 'sym', { value: sym });
  Object.defineProperty(view, 'outflow', { value: outflow });
  return view;
}

/**
 * Multigrid on the cut operator, output zeroed on the absorbed cells (P M P, symmetric as M is),
 * so CG stays in the free subspace. With θ = 1/σ it approximates θ⁻¹(σ − S_FF)⁻¹ on F; CG is
 * invariant under a constant scaling of the preconditioner, so θ is not applied.
 */
class RestrictedMultigrid implements Preconditioner {
  readonly name: string;
  private readonly mg: MultigridPreconditioner;
  private readonly inside: Uint8Array;
  constructor(cut: FvOperator, inside: Uint8Array) {
    this.inside = inside;
    this.mg = new MultigridPreconditioner(cut);
    this.name = this.mg.name;
  }
  setup(theta: number): void {
    this.mg.setup(theta);
  }
  apply(r: Float64Array, z: Float64Array): void {
    this.mg.apply(r, z);
    const m = this.inside;
    for (let i = 0; i < z.length; i++) if (!m[i]) z[i] = 0;
  }
  dispose(): void {
    this.mg.dispose();
  }
}

/** Jacobi for −S_FF: z = r / diag(−S), zero on absorbed cells. */
export class RestrictedJacobi implements Preconditioner {
  readonly name = 'Jacobi';
  private readonly inv: Float64Array;
  constructor(op: FvOperator, inside: Uint8Array) {
    this.inv = new Float64Array(op.grid.size);
    for (let i = 0; i < this.inv.length; i++) this.inv[i] = inside[i] && op.outflow[i] > 0 ? 1 / op.outflow[i] : 0;
  }
  setup(): void {}
  apply(r: Float64Array, z: Float64Array): void {
    const inv = this.inv;
    for (let i = 0; i < z.length; i++) z[i] = inv[i] * r[i];
  }
}

/** One solve's outcome: ‖r‖, ‖b‖ and the CG iterations it took. */
export interface RestrictedSolveResult {
  rnorm: number;
  bnorm: number;
  iterations: number;
}

/** The solver of (−S)_FF x = b (F: inside[i] = 1), one preconditioner for all its solves. */
export interface RestrictedSolve {
  readonly name: string;
  /** CG iterations over all solves so far. */
  readonly iterations: number;
  /**
   * x ← solution from a zero start (b and x vanish on absorbed cells). `shift` σ > 0 tunes the
   * multigrid: it approximates (σ − S_FF)⁻¹, so σ near or below the bottom of the spectrum.
   * Stops at ‖r‖ ≤ relTol·‖b‖ or maxIterations; the caller judges convergence.
   */
  solve(b: Float64Array, x: Float64Array, relTol: number, shift: number, maxIterations: number): RestrictedSolveResult;
  dispose(): void;
}

/**
 * The restricted solver. `apply` is out = (−S)_FF v extended by zero. Absent, it is the fused
 * stencil pass of the time stepping on the cut operator (CG's vectors vanish on the absorbed
 * cells, and there −S_cut v = (−S)_FF v on F and 0 elsewhere, so no masking is needed); the
 * eigen-solve passes its Gram form instead (eigen/dirichlet.ts says why).
 */
export function restrictedSolve(
  op: FvOperator,
  inside: Uint8Array,
  kind: RestrictedPreconditioner = op.grid.dim >= 2 ? 'multigrid' : 'jacobi',
  apply?: (v: Float64Array, out: Float64Array) => void,
): RestrictedSolve {
  const n = op.grid.size;
  if (inside.length !== n) throw new RangeError(`inside mask has ${inside.length} entries, the grid ${n} cells`);
  const needCut = kind === 'multigrid' || !apply;
  const cut = needCut ? cutOperator(op, inside) : null;
  const pre: Preconditioner = kind === 'multigrid' ? new RestrictedMultigrid(cut!, inside) : new RestrictedJacobi(op, inside);
  const A =
    apply ??
    ((v: Float64Array, out: Float64Array): void => {
      applyS(cut!, v, out);
      for (let i = 0; i < out.length; i++) out[i] = -out[i];
    });
  const precondition = (r: Float64Array, z: Float64Array): void => pre.apply(r, z);
  let iterations = 0;
  return {
    name: `PCG (${pre.name})`,
    get iterations(): number {
      return iterations;
    },
    solve(b, x, relTol, shift, maxIterations) {
      pre.setup(1 / shift);
      x.fill(0);
      const r = hostPcg(A, precondition, b, x, { relTol, maxIterations });
      iterations += r.iterations;
      return { rnorm: r.rnorm, bnorm: r.rnorm0, iterations: r.iterations };
    },
    dispose() {
      pre.dispose?.();
    },
  };
}

/** Throws SolverFailure when a restricted solve missed relTol (what: the system, for the message). */
export function requireConverged(r: RestrictedSolveResult, relTol: number, maxIterations: number, solver: string, what: string): void {
  if (r.rnorm <= relTol * r.bnorm) return;
  const context = { solver, iterations: r.iterations, residual: r.rnorm / r.bnorm };
  if (!Number.isFinite(r.rnorm)) throw new SolverFailure('non-finite', `CG on ${what}: residual ${r.rnorm} (the operator or right-hand side is not finite)`, context);
  throw new SolverFailure('iteration-limit', `CG on ${what} did not reach ${relTol} in ${maxIterations} iterations (residual ${(r.rnorm / r.bnorm).toExponential(2)})`, context);
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
  const inside = new Uint8Array(n);
  for (let i = 0; i < n; i++) inside[i] = absorbed[i] ? 0 : 1;
  // The Gram form GᵀG keeps (−S)v accurate relative to its own (small) size, where the stencil's
  // outflow·v − Σ sym·v loses ε‖S‖‖v‖: the refinement's corrections are tiny, so they need it.
  const form = new RestrictedDirichletForm(op, inside);
  const solver = restrictedSolve(op, inside, opts.preconditioner ?? 'multigrid', (v, out) => form.apply(v, out));
  // σ far below the Dirichlet problem's smallest eigenvalue (≥ ~1/max T) makes the multigrid
  // approximate (−S_FF)⁻¹. A larger lowest mode than σ only costs CG a step.
  let maxOut = 0;
  for (let i = 0; i < n; i++) if (op.outflow[i] > maxOut) maxOut = op.outflow[i];
  const shift = 2e-14 * maxOut;
  const tol = opts.tol ?? (source ? 1e-14 : 1e-10);
  const maxIterations = opts.maxIterations ?? 2000;
  const u = new Float64Array(n);
  for (let i = 0; i < n; i++) u[i] = absorbed[i] ? (boundary ? boundary[i] : 0) : 0;
  // Iterative refinement in u. CG's own test weighs the residual by √π, so the cells where π is
  // small carry no weight and it stops with u wrong there; the test here is on the generator rows
  // themselves, per cell: max_i |s_i + (L u)_i| / K_ii ≤ tol · max|u| (K_ii: the rate out of i),
  // i.e. each cell is within tol·max|u| of the value its row asks given its neighbours. Each
  // correction solves (−S)_FF w = √π·res afresh, so the weights follow the residual left over.
  const res = new Float64Array(n);
  const w = new Float64Array(n);
  let iterations = 0;
  let bound = Infinity;
  let best = Infinity;
  let stalled = 0;
  // The last correction's size per cell: the row test scaled by K_ii is blind to errors that the
  // chain's metastability amplifies (T·K_ii ≫ 1: measured 1.8e-3 off at a row test of 1e-14), while
  // a correction that no longer moves any cell means the refinement has reached its fixed point.
  let change = Infinity;
  let lastChange = Infinity;
  try {
    for (let step = 0; step < 60; step++) {
      bound = rowResidual(op, absorbed, source, u, res);
      if (bound <= tol && change <= CHANGE_TOL) break;
      if (bound < 0.5 * best || change < 0.5 * lastChange) {
        best = Math.min(best, bound);
        stalled = 0;
      } else if (++stalled >= 4) break;
      for (let i = 0; i < n; i++) res[i] *= s[i];
      let r: RestrictedSolveResult;
      // Corrections only need a few digits each (the next step fixes the rest): at 512² this took
      // the committor from 56 to 42 CG iterations over all steps.
      try {
        r = solver.solve(res, w, step === 0 ? 1e-10 : 1e-6, shift, Math.max(1, maxIterations - iterations));
      } catch (e) {
        if (e instanceof SolverFailure) break;
        throw e;
      }
      iterations += r.iterations;
      lastChange = Math.min(lastChange, change);
      change = 0;
      for (let i = 0; i < n; i++) {
        if (absorbed[i] || !(s[i] > 0)) continue;
        const d = w[i] / s[i];
        u[i] += d;
        // T spans orders, so relative per cell; q is a probability, so absolute.
        change = Math.max(change, source ? Math.abs(d) / Math.abs(u[i]) : Math.abs(d));
      }
      if (iterations >= maxIterations) {
        bound = rowResidual(op, absorbed, source, u, res);
        break;
      }
    }
  } finally {
    solver.dispose();
  }
  return { u, iterations, residual: bound, converged: bound <= tol && change <= CHANGE_TOL, solver: `${solver.name}, refined on the generator rows` };
}

/**
 * res ← s + L u on the free cells (0 elsewhere), from the rates and differences u_j − u_i (no
 * √π, no cancellation of large terms); returns max_i |res_i| / K_ii / max|u|.
 */
/** Largest last correction (relative for T, absolute for q) accepted as converged. */
const CHANGE_TOL = 1e-9;

function rowResidual(op: FvOperator, absorbed: Uint8Array, source: Float64Array | null, u: Float64Array, res: Float64Array): number {
  const g = op.grid;
  const n = g.size;
  for (let i = 0; i < n; i++) res[i] = absorbed[i] || !source ? 0 : source[i];
  const K = new Float64Array(n);
  for (let k = 0; k < g.dim; k++) {
    const st = g.strides[k];
    const up = op.fwd[k];
    const down = op.bwd[k];
    for (let i = 0; i + st < n; i++) {
      const j = i + st;
      const a = up[i];
      const b = down[i];
      if (a === 0 && b === 0) continue;
      const d = u[j] - u[i];
      res[i] += a * d;
      res[j] -= b * d;
      K[i] += a;
      K[j] += b;
    }
  }
  let umax = 0;
  for (let i = 0; i < n; i++) umax = Math.max(umax, Math.abs(u[i]));
  let worst = 0;
  for (let i = 0; i < n; i++) {
    if (absorbed[i]) {
      res[i] = 0;
      continue;
    }
    if (K[i] > 0) worst = Math.max(worst, Math.abs(res[i]) / K[i]);
  }
  return umax > 0 ? worst / umax : worst > 0 ? Infinity : 0;
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
