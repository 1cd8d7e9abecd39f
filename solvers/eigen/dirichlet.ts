import { FvOperator } from '../operator.js';
import { symmetricEigen } from '../dense.js';
import { dot } from '../vec.js';
import { DirichletForm, RestrictedDirichletForm } from '../dirichlet-form.js';
import { requireConverged, restrictedSolve, RestrictedJacobi, type RestrictedPreconditioner } from '../absorbing.js';

/** The solver of −S_II x = b: CG with multigrid (2-D/3-D) or Jacobi (1-D). */
export interface RestrictedSolver {
  readonly form: RestrictedDirichletForm;
  readonly name: string;
  /**
   * x ← solution from a zero start; `shift` σ > 0 near the bottom of the spectrum tunes the
   * multigrid. Returns the residual norm; throws SolverFailure when relTol·‖b‖ is not reached.
   */
  solve(b: Float64Array, x: Float64Array, relTol: number, shift: number, maxIterations?: number): number;
  readonly iterations: number;
  dispose(): void;
}

export { DirichletForm, RestrictedDirichletForm };
export type { RestrictedPreconditioner };
export { RestrictedJacobi };

/**
 * The restricted solver of solvers/absorbing.ts (one cut operator, one multigrid, one PCG loop)
 * applying −S_II through the Gram form GᵀG rather than the stencil: the inverse iteration's
 * right-hand side is the eigen-residual v − (−S_II)v/λ, which becomes far smaller than ‖S‖‖v‖ as
 * it converges; the stencil's round-off ε‖S‖‖v‖ would swamp it (and λ itself, ~1e-12 ‖S‖ for a
 * deep well), while the face differences keep their accuracy relative to it.
 */
export function restrictedSolver(op: FvOperator, inside: Uint8Array, kind: RestrictedPreconditioner = op.grid.dim >= 2 ? 'multigrid' : 'jacobi'): RestrictedSolver {
  const form = new RestrictedDirichletForm(op, inside);
  const core = restrictedSolve(op, inside, kind, (v, out) => form.apply(v, out));
  return {
    form,
    name: core.name,
    get iterations(): number {
      return core.iterations;
    },
    solve(b, x, relTol, shift, maxIterations = 50000) {
      const r = core.solve(b, x, relTol, shift, maxIterations);
      requireConverged(r, relTol, maxIterations, core.name, 'the killed generator');
      return r.rnorm;
    },
    dispose() {
      core.dispose();
    },
  };
}

/** The bottom of the spectrum of −S_II (RestrictedDirichletForm). */
export interface PrincipalDirichletMode {
  /** λ: the smallest eigenvalue of −S_II, the exit rate of the QSD. */
  value: number;
  /** Its unit eigenvector in the symmetric form (≥ 0, zero on absorbed cells): the QSD is √π·vector. */
  vector: Float64Array;
  /** ‖(−S_II)v − λv‖, which bounds the distance from λ to the spectrum. */
  residual: number;
  /** Shift-invert solves and CG iterations they took. */
  solves: number;
  innerIterations: number;
  converged: boolean;
  method: string;
}

export interface PrincipalModeOptions {
  /** Target residual relative to λ (default 1e-9). */
  tol?: number;
  /** Shift-invert steps at most (default 200). */
  maxSolves?: number;
  /** CG iterations per solve at most (default 50 000). */
  maxInner?: number;
  /** Preconditioner of the solves (default multigrid in 2-D/3-D, Jacobi in 1-D). */
  preconditioner?: RestrictedPreconditioner;
  /** A solver already built for this operator and mask (reused, not disposed here). */
  solver?: RestrictedSolver;
}

const EPS = 2 ** -52;
/** Solves without halving the residual after which the iteration gives up (converged: false). */
const STALL_SOLVES = 8;

/**
 * Smallest eigenvalue of −S_II by inverse iteration with Rayleigh–Ritz on the last iterate and
 * its shift-invert image, from √π on the inside cells (the QSD of a deep well is √π there up to
 * the boundary layer, so a metastable well converges in two or three solves: the rate is λ₁/λ₂).
 * Each solve is restrictedSolver's (the one restricted solver of solvers/absorbing.ts: multigrid
 * or Jacobi on the cut operator, the one PCG loop). The Ritz values are Gram matrices of face differences, so λ keeps
 * its relative accuracy however small it is against ‖S‖.
 *
 * The eigenvector is positive on each connected part of the inside set (Perron–Frobenius); with
 * several parts λ is the smallest of their principal eigenvalues.
 */
export function principalDirichletMode(op: FvOperator, inside: Uint8Array, opts: PrincipalModeOptions = {}): PrincipalDirichletMode {
  if (opts.solver) return principalMode(op, inside, opts.solver, opts);
  const solver = restrictedSolver(op, inside, opts.preconditioner);
  try {
    return principalMode(op, inside, solver, opts);
  } finally {
    solver.dispose();
  }
}

function principalMode(op: FvOperator, inside: Uint8Array, solver: RestrictedSolver, opts: PrincipalModeOptions): PrincipalDirichletMode {
  const A = solver.form;
  const n = A.size;
  if (A.insideCount === 0) throw new RangeError('the inside set is empty: no cell to exit from');
  if (A.insideCount === n) throw new RangeError('the inside set is the whole grid: nothing absorbs, so there is no exit (the walls reflect)');
  const tol = opts.tol ?? 1e-9;
  const maxSolves = opts.maxSolves ?? 200;
  const maxInner = opts.maxInner ?? 50000;
  let v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = inside[i] ? op.sqrtPi[i] : 0;
  // √π underflows only ~1490 units of ψ above the global minimum: a basin that high starts flat.
  if (!(unit(v) > 0)) {
    for (let i = 0; i < n; i++) v[i] = inside[i] ? 1 : 0;
    unit(v);
  }
  const gv = new Float64Array(A.faceCount);
  const gx = new Float64Array(A.faceCount);
  const av = new Float64Array(n);
  let lambda = rayleigh(A, v, gv);
  let residual = Infinity;
  let converged = false;
  let solves = 0;
  let best = Infinity;
  let lastGain = 0;
  const residualOf = (): number => {
    A.gradT(gv, av);
    A.mask(av);
    let r2 = 0;
    for (let i = 0; i < n; i++) r2 += (av[i] - lambda * v[i]) ** 2;
    return Math.sqrt(r2);
  };
  residual = residualOf();
  while (solves < maxSolves) {
    // Below this the residual is round-off: each face difference of a unit v rounds at ε√‖S‖ and
    // Gᵀ multiplies by √‖S‖ again. The eigenvalue error is then ≤ floor²/(λ₂ − λ) (Kato–Temple).
    const floor = 1e2 * EPS * (A.normBound + lambda);
    if (residual <= tol * lambda + floor) {
      converged = true;
      break;
    }
    if (residual < 0.5 * best) {
      best = residual;
      lastGain = solves;
    } else if (solves - lastGain >= STALL_SOLVES) break;
    // Inverse iteration's new direction (−S_II)⁻¹v − v/λ = (−S_II)⁻¹(v − (−S_II)v/λ), solved for
    // from zero: its right-hand side is the eigen-residual, so a fixed relative tolerance keeps
    // the correction accurate however small the residual gets (solving for (−S_II)⁻¹v itself
    // would bury the correction under the solve's error on the huge v/λ).
    const rhs = new Float64Array(n);
    for (let i = 0; i < n; i++) rhs[i] = v[i] - av[i] / lambda;
    const x = new Float64Array(n);
    solver.solve(rhs, x, 1e-3, lambda, maxInner);
    solves++;
    A.mask(x);
    // Rayleigh–Ritz on span{v, x}, which holds the inverse-iteration iterate.
    const before = Math.sqrt(dot(x, x));
    const c = dot(x, v);
    for (let i = 0; i < n; i++) x[i] -= c * v[i];
    if (!(unit(x) > 1e-10 * before)) {
      // x ∥ v: v is already an eigenvector to working precision.
      converged = residual <= Math.sqrt(tol) * lambda + floor;
      break;
    }
    A.grad(x, gx);
    const h00 = A.form(gv, gv);
    const h01 = A.form(gv, gx);
    const h11 = A.form(gx, gx);
    const e = symmetricEigen([
      [h00, h01],
      [h01, h11],
    ]);
    const [a, b] = e.vectors[0];
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) next[i] = a * v[i] + b * x[i];
    unit(next);
    v = next;
    lambda = rayleigh(A, v, gv);
    residual = residualOf();
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += v[i];
  if (s < 0) for (let i = 0; i < n; i++) v[i] = -v[i];
  return {
    value: lambda,
    vector: v,
    residual,
    solves,
    innerIterations: solver.iterations,
    converged,
    method: `inverse iteration with two-vector Rayleigh–Ritz on the Dirichlet form restricted to ${A.insideCount} inside cells (absorbing elsewhere), ${solver.name} solves`,
  };
}

/** x ← x/‖x‖; returns ‖x‖. */
function unit(x: Float64Array): number {
  const nx = Math.sqrt(dot(x, x));
  if (nx > 0 && Number.isFinite(nx)) for (let i = 0; i < x.length; i++) x[i] /= nx;
  return nx;
}

/** ‖G v‖² for unit v, leaving G v in gv. */
function rayleigh(A: DirichletForm, v: Float64Array, gv: Float64Array): number {
  A.grad(v, gv);
  return A.form(gv, gv);
}
