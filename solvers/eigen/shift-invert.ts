import type { FvOperator } from '../operator.js';
import type { Grid } from '../grid.js';
import { JacobiPreconditioner, type Preconditioner } from '../linear.js';
import { MultigridPreconditioner } from '../multigrid.js';
import { dot } from '../vec.js';
import { symmetricEigen } from '../dense.js';
import { DirichletForm } from './dirichlet.js';
import { SingularPcg } from './pcg.js';
import { runSync, type Steps } from './steps.js';
import { eigenTeamFor, type EigenTeam } from './threaded.js';
import { accumulateCoefficients, addCombinationRange } from '../basis-kernels.js';

/**
 * Smallest nonzero eigenvalues of −S on the complement of √π, for any dimension.
 *
 * Method: block shift-invert subspace iteration with Rayleigh–Ritz over everything solved so far.
 * Each step solves (−S)x = y_j for the block's unconverged Ritz vectors y_j by PCG on the deflated
 * singular system (multigrid by default, the preconditioner the time stepping uses) and adds x to
 * the basis. Inverting −S turns a tiny, isolated gap into a dominant eigenvalue of (−S)⁺, so
 * double wells converge in a few steps; Lanczos on −S itself would have to resolve λ₁ below its
 * own round-off ε‖S‖.
 *
 * Why it cannot miss the bottom of the spectrum:
 * - The start block has one vector in every parity class of the box (even/odd under the
 *   reflection of each axis: 2^d classes), each a smooth monomial of that class plus a seeded
 *   random vector projected onto the class. Shift-invert keeps parity, so on a symmetric
 *   landscape a class without a start vector would never be reached (the old start block
 *   √π·x_k was all odd and returned the first odd mode as λ₁).
 * - The block holds at least k + 2 vectors, so the wanted k modes are not the block's edge, and
 *   every block vector gets solves until the wanted ones converge (then they are locked: kept in
 *   the basis across restarts, no more solves).
 * - Final check: from a fresh seeded random vector, inverse iteration on the complement of the
 *   converged modes. Its Rayleigh quotient is ≥ λ_{k+1} ≥ λ_k when nothing was missed; a value
 *   below the claimed λ_k proves a missed mode, which is then added and the iteration resumes.
 *
 * Accuracy: the Ritz matrix is the Gram matrix (GQ)ᵀ(GQ) of face differences and residuals are
 * formed as Gᵀ(Gy) − θy (DirichletForm), so both stay accurate relative to λ₁ rather than to
 * ‖S‖. The reported error bound of each value is min(‖r‖, ‖r‖²/(δ − ‖r‖)) with δ the distance to
 * the nearest other Ritz value (Kato–Temple; for a cluster of Ritz values the cluster's residual
 * and its distance to the rest), never smaller than the round-off of the Rayleigh quotient.
 */
export interface SubspaceOptions {
  modes: number;
  /**
   * Target ‖(−S)v − λv‖ / λ per mode (default 1e-7). The eigenvalue error is quadratic in the
   * residual (Kato–Temple: ≤ ‖r‖²/gap), so 1e-7 gives λ to ~1e-14·λ/gap relative.
   */
  tol?: number;
  /** Target relative eigenvalue error (Kato–Temple bound with the Ritz gap; default 1e-11). */
  valueTol?: number;
  /** Preconditioner for (I − θS) (default multigrid, as in the implicit time stepping). */
  preconditioner?: Preconditioner;
  /** Rayleigh–Ritz steps (default 100). */
  maxOuter?: number;
  /** Max CG iterations per solve (default 20 000). */
  maxInner?: number;
  /** Seed of the random parts of the start block and of the final check (default 2024). */
  seed?: number;
  /**
   * Extra start vectors (symmetric form, any norm), put in the basis before the parity start
   * block, which they add to and never replace (so no parity class loses its start vector). For a
   * metastable landscape √π times the indicator of each basin of attraction: its slow modes are
   * close to combinations of those, so the first Rayleigh–Ritz step already holds λ₁ to a
   * small residual and the shift-invert solves only polish it (512² double well: 26 → 4 CG
   * iterations for λ₁). Vectors in the span of √π and of the ones before are dropped.
   */
  startVectors?: readonly Float64Array[];
  /**
   * Kernel threads for the V-cycles and −S applies of the CG iterations (solvers/eigen/threaded.ts):
   * 0 none; default all cores on grids of EIGEN_THREADED_MIN_CELLS (512²) and more in 2-D/3-D. The
   * bits do not depend on the count (1 and 2 threads give the same), only on whether there is a team.
   * Only the default preconditioner is put on the team.
   */
  threads?: number;
  /**
   * A multigrid hierarchy already built for this operator (a run's time steps built it): used for
   * the V-cycles instead of building one, with the same bits (the levels do not depend on the
   * cycle). The solve takes it over and disposes it at its end. Ignored when `preconditioner` is
   * given or when it was built for another operator (then disposed, and one is built here).
   */
  multigrid?: MultigridPreconditioner;
}

export interface FinalCheck {
  /** Rayleigh quotient of the check vector on the complement of the converged modes. */
  rayleigh: number;
  /** Shift-invert solves it took. */
  solves: number;
  /** True when it went below the claimed λ_k: a missed mode (added to the basis, iteration resumed). */
  foundLower: boolean;
}

/**
 * Deterministic counts of the work outside the CG iterations (tests hold them, so that a saving
 * that is lost shows as a failure, not as a slower benchmark). A sweep is one pass over one grid
 * vector of the basis.
 */
export interface WorkCounts {
  /** Basis vectors read by Gram–Schmidt passes (the first pass over m vectors counts m, a second pass m more). */
  basisSweeps: number;
  /** Gram–Schmidt second passes (the DGKS test failed: the first pass cancelled more than half of ‖x‖²). */
  secondPasses: number;
  /** Ritz vectors formed (combinations of the basis, each with its face differences G·y). */
  ritzVectors: number;
  /** Ritz residuals formed (Gᵀ(G·y), one more pass over the faces and one over the cells each). */
  residuals: number;
  /** Basis vectors swept on the kernel team's threads (Gram–Schmidt, Ritz matrix rows, Ritz combinations). */
  teamSweeps: number;
}

export interface SubspaceResult {
  values: number[];
  vectors: Float64Array[];
  residuals: number[];
  /** Bound on |θ_j − λ| per mode (absolute): Kato–Temple with the Ritz gap, else the residual. */
  errorBounds: number[];
  /** Rayleigh–Ritz steps. */
  iterations: number;
  /** CG iterations over all solves. */
  innerIterations: number;
  /** CG iterations of the wanted modes' own solves (not the guard vectors' or the final check's): what a start block saves. */
  wantedInnerIterations: number;
  /** Extra start vectors that entered the basis (SubspaceOptions.startVectors less those in the span of the ones before). */
  startVectors: number;
  solves: number;
  converged: boolean;
  /** errorBounds[0] / values[0]: the bound on the relative error of λ₁. */
  relativeAccuracy: number;
  preconditioner: string;
  /** Vectors in the start block (≥ k + 2 and ≥ 2^d, one per parity class). */
  blockSize: number;
  /** The last final check (null when the iteration never converged). */
  check: FinalCheck | null;
  /** Threads of the kernel team the CG iterations ran on (0: no team, this thread's plain loops). */
  threads: number;
  /** Work outside the CG iterations (counts, not times). */
  work: WorkCounts;
}

const EPS = 2 ** -52;
/** Inverse-iteration steps of the final check at most (it stops earlier once its Rayleigh quotient settles). */
const MAX_CHECK_SOLVES = 12;
/** Solves of the final check at least before its Rayleigh quotient may count as settled (a missed mode grows at each). */
const MIN_CHECK_SOLVES = 3;
/** Final checks per solve at most: each one that finds a lower mode resumes the iteration. */
const MAX_CHECKS = 4;
/**
 * Relative residual of the final check's solves. Inverse iteration with an inexact solve is
 * preconditioned inverse iteration (Knyazev–Neymeyr): a missed low mode still grows against the
 * rest at every step (by up to ~λ_{k+1}/λ_missed, capped near 1/CHECK_TOL per step), and the
 * Rayleigh quotient it is judged by is exact for the vector it has.
 */
const CHECK_TOL = 1e-2;
/** Relative residual of the guard vectors' solves (see the solve loop). */
const GUARD_TOL = 1e-1;
/** Guards beyond the first whose Ritz value is this many times the top wanted one get no solves after the first step (see the solve loop). */
const GUARD_FAR = 10;
/**
 * Relative residual of such far guards' one solve: it only has to bring their parity class's low
 * modes into the basis, not to converge anything (512² double well: 47 → 44 CG iterations).
 */
const FAR_GUARD_TOL = 0.3;
/** Correction solves that would need a relative residual below this go direct when separated (see the solve loop). */
const DIRECT_BELOW = 1e-3;
/** θ_j / θ_{j+1} below this counts as separated: one direct inverse-iteration step gains more than a tight correction solve. */
const SEPARATED = 1e-2;
/** A pair is far from converged (direct solves pay) while its residual exceeds this times θ. */
const FAR = 1;
/** Relative residual of a direct inverse-iteration solve. */
const DIRECT_TOL = 1e-2;

/**
 * Factor on the multigrid's coarse-grid correction in the eigen-solve's V-cycles (the time
 * stepping's default is 1.5). With θ = 1/σ this large the preconditioned system is the singular
 * −S itself, and a piecewise-constant (aggregation) coarse space gets the coarse correction about
 * half as large as it should be (Braess 1995, who scales it by ~2; smoothed aggregation mends the
 * same defect in the prolongation instead). Kept below 2: with an exact coarse solve the scaled
 * correction's error operator has spectrum [1 − a, 1], inside (−1, 1] only for a < 2, which keeps
 * the symmetric V-cycle a positive definite preconditioner (test/gap-check.test.ts solves to a
 * recomputed residual). 512² double well, λ₁: 44 CG iterations at 1.5, 32 at 1.8, 29 at 1.9 and
 * 2.0 (the direct solve to 1e-2 in 8 iterations instead of 13); 3-D bowl 32³: 146 → 145; 2-D OU,
 * 2 modes, 128²: 156 → 123.
 */
const EIGEN_OVERCORRECTION = 1.9;

/**
 * How many of the step's `full` lowest Ritz pairs to form (vector, face differences, residual).
 * After the first step, guards beyond the first whose Ritz value is ≥ GUARD_FAR times the top
 * wanted one get no more solves (see the solve loop), so their residual is not needed either: they
 * are left to the Ritz values beyond the block (neighbours in the error bounds, as those always
 * were), and formed, without residual, only when the final check takes them as guards or a restart
 * keeps them. 512² double well: 4 of the 12 pairs (each a combination of up to 11 basis vectors,
 * G·y and Gᵀ(G·y)). The values come from the Ritz matrix (absolute round-off of order ε‖S‖), so a
 * margin of 1e-12‖S‖ keeps a guard whose value may sit at round-off level.
 */
export function formedPairs(ritzValues: readonly number[], full: number, k: number, step: number, normBound: number): number {
  if (step === 0 || full <= k + 1) return full;
  const top = ritzValues[k - 1];
  if (!(top > 0)) return full;
  const bar = GUARD_FAR * top + 1e-12 * normBound;
  let take = k + 1;
  while (take < full && ritzValues[take] < bar) take++;
  return take;
}

/** Deterministic pseudo-random numbers in [−0.5, 0.5) (start vectors must not depend on the run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/**
 * The component of v in parity class `cls` (bit k set: odd under the reflection of axis k about
 * the box centre, else even). The grid is symmetric under each reflection (cell i_k ↔ n_k−1−i_k),
 * so these 2^d projectors are exact and sum to the identity.
 */
export function parityComponent(g: Grid, v: Float64Array, cls: number): Float64Array {
  let cur = v;
  for (let k = 0; k < g.dim; k++) {
    const odd = (cls >> k) & 1;
    const nk = g.n[k];
    const st = g.strides[k];
    const out = new Float64Array(cur.length);
    const sign = odd ? -1 : 1;
    if (st === 1) reflectRows(cur, out, nk, sign);
    else reflectBlocks(cur, out, nk, st, sign);
    cur = out;
  }
  return cur;
}

// The reflection passes as plain functions of their own, the last axis (stride 1) as rows: with
// the block loop's innermost run of one cell it took ~40 ns a cell (145 ms of the 512² start
// block). The same operations on the same operands: the same bits.
/** out = ½(v + sign·v reflected about the centre of the last axis), rows of nk cells. */
function reflectRows(v: Float64Array, out: Float64Array, nk: number, sign: number): void {
  for (let base = 0; base < v.length; base += nk) {
    const last = base + nk - 1;
    for (let ik = 0; ik < nk; ik++) out[base + ik] = 0.5 * (v[base + ik] + sign * v[last - ik]);
  }
}

/** The same for an axis of stride st: cells in blocks of st share i_k; blocks cycle through i_k = 0..nk−1. */
function reflectBlocks(v: Float64Array, out: Float64Array, nk: number, st: number, sign: number): void {
  for (let base = 0; base < v.length; base += st * nk) {
    for (let ik = 0; ik < nk; ik++) {
      const off = base + ik * st;
      const moff = base + (nk - 1 - ik) * st;
      for (let t = 0; t < st; t++) out[off + t] = 0.5 * (v[off + t] + sign * v[moff + t]);
    }
  }
}

/** Exponent vectors of monomials of degree 1..4, one of each parity class first, then by degree. */
function monomials(dim: number, count: number): number[][] {
  const all: number[][] = [];
  const rec = (prefix: number[], left: number): void => {
    if (prefix.length === dim) {
      const deg = prefix.reduce((a, b) => a + b, 0);
      if (deg >= 1) all.push(prefix);
      return;
    }
    for (let e = 0; e <= left; e++) rec([...prefix, e], left - e);
  };
  rec([], 4);
  const deg = (a: number[]): number => a.reduce((x, y) => x + y, 0);
  const cls = (a: number[]): number => a.reduce((c, e, k) => c | ((e & 1) << k), 0);
  all.sort((a, b) => deg(a) - deg(b));
  const first: number[][] = [];
  const seen = new Set<number>();
  for (const a of all) {
    if (!seen.has(cls(a))) {
      seen.add(cls(a));
      first.push(a);
    }
  }
  const rest = all.filter((a) => !first.includes(a));
  return [...first, ...rest].slice(0, count);
}

/**
 * Start block: √π·(m_j + ½·P_j r_j), m_j a monomial in the box-centred coordinates, P_j the
 * projector onto m_j's parity class, r_j seeded random. Low modes are √π times smooth functions,
 * so m_j overlaps them well; the random part gives every eigenvector of the class a component.
 * Beyond the monomials the vectors are √π·r (random).
 */
export function startBlock(op: FvOperator, count: number, seed: number): Float64Array[] {
  const gen = new StartBlock(op, count, seed);
  return Array.from({ length: count }, () => gen.next());
}

/** The start block one vector at a time (so that the solver can yield between them on big grids). */
class StartBlock {
  private readonly op: FvOperator;
  private readonly coords: Float64Array[];
  private readonly monos: number[][];
  /** The state of lcg(seed), advanced here in a loop of its own (the same numbers, no call per cell). */
  private state: number;
  private j = 0;

  constructor(op: FvOperator, count: number, seed: number) {
    const g = op.grid;
    this.op = op;
    this.coords = Array.from({ length: g.dim }, (_, k) => {
      const c = g.coordinateField(k);
      const mid = 0.5 * (g.lo[k] + g.hi[k]);
      const half = 0.5 * (g.hi[k] - g.lo[k]);
      for (let i = 0; i < c.length; i++) c[i] = (c[i] - mid) / half;
      return c;
    });
    this.monos = monomials(g.dim, count);
    this.state = seed >>> 0 || 1;
  }

  next(): Float64Array {
    const g = this.op.grid;
    const n = g.size;
    const r = new Float64Array(n);
    this.state = fillRandom(r, this.state);
    const a = this.monos[this.j++];
    const v = new Float64Array(n);
    if (!a) {
      scaleInto(v, this.op.sqrtPi, r, null);
      return v;
    }
    const cls = a.reduce((c, e, k) => c | ((e & 1) << k), 0);
    const pr = parityComponent(g, r, cls);
    v.fill(1);
    for (let k = 0; k < g.dim; k++) for (let e = 0; e < a[k]; e++) multiplyInto(v, this.coords[k]);
    scaleInto(v, this.op.sqrtPi, v, pr);
    return v;
  }
}

// The start block's loops as small plain functions: inside StartBlock.next they ran at ~25 ns a
// cell (a method called four times is never optimized; 164 ms for the 512² block of four, as
// much as eight CG iterations), here at a few.
/** r ← the next r.length numbers of lcg from `state` (its arithmetic exactly); returns the new state. */
function fillRandom(r: Float64Array, state: number): number {
  let s = state;
  for (let i = 0; i < r.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    r[i] = s / 4294967296 - 0.5;
  }
  return s;
}

function multiplyInto(v: Float64Array, c: Float64Array): void {
  for (let i = 0; i < v.length; i++) v[i] *= c[i];
}

/** out = s·(a + ½·b) (b null: out = s·a). */
function scaleInto(out: Float64Array, s: Float64Array, a: Float64Array, b: Float64Array | null): void {
  if (b) for (let i = 0; i < out.length; i++) out[i] = s[i] * (a[i] + 0.5 * b[i]);
  else for (let i = 0; i < out.length; i++) out[i] = s[i] * a[i];
}

/**
 * Grid vectors handed back for reuse. At 512² every solve and Rayleigh–Ritz step allocated
 * several 2–4 MB arrays that lived one step: the collector then took ~14 % of the solve's CPU
 * time. Vectors go back only where nothing refers to them any more (see the call sites); `take`
 * returns them zeroed, `takeDirty` as they are for callers that overwrite every entry.
 */
class VectorPool {
  private readonly free = new Map<number, Float64Array[]>();

  /** team: new vectors come from its shared memory (so that its threads can sweep them), and only those are kept. */
  constructor(private readonly team: EigenTeam | null = null) {}

  takeDirty(length: number): Float64Array {
    return this.free.get(length)?.pop() ?? (this.team ? this.team.array(length) : new Float64Array(length));
  }

  take(length: number): Float64Array {
    const v = this.free.get(length)?.pop();
    if (!v && !this.team) return new Float64Array(length);
    const out = v ?? (this.team as EigenTeam).array(length);
    out.fill(0);
    return out;
  }

  /** A vector of the pool's kind with v's entries (v itself when it already is one). */
  adopt(v: Float64Array): Float64Array {
    if (!this.team || this.team.ownsAll([v])) return v;
    const out = this.takeDirty(v.length);
    out.set(v);
    return out;
  }

  give(...vs: readonly Float64Array[]): void {
    for (const v of vs) {
      if (this.team && !this.team.ownsAll([v])) continue;
      let list = this.free.get(v.length);
      if (!list) this.free.set(v.length, (list = []));
      list.push(v);
    }
  }
}

/**
 * Absolute error bounds of Ritz values θ_j (j < residuals.length) among all Ritz values `all`
 * (ascending). Ritz values within the residuals of each other form a cluster, bounded with the
 * cluster's residual ‖R‖ ≤ √Σ r² and its distance δ to the other Ritz values: min(‖R‖, ‖R‖²/(δ − ‖R‖))
 * when δ > ‖R‖ (Kato–Temple, as a cluster: Sun 1991), else ‖R‖ (Weyl/Bauer–Fike).
 */
export function ritzErrorBounds(values: readonly number[], residuals: readonly number[], all: readonly number[]): number[] {
  const take = residuals.length;
  // Ritz values beyond the block carry no residual; they only serve as far neighbours.
  const rOf = (l: number): number => (l < take ? residuals[l] : 0);
  const val = (l: number): number => (l < take ? values[l] : all[l]);
  return values.slice(0, take).map((th, j) => {
    // The cluster around j: Ritz values whose Weyl intervals [θ − r, θ + r] overlap θ_j's and
    // that are converged about as far (a loose guard vector with a wide interval is a neighbour,
    // not a member: its interval then reaches θ_j, δ ≤ R, and the bound falls back to R).
    const rj = residuals[j];
    const member = (l: number): boolean => Math.abs(val(l) - th) <= rOf(l) + rj && rOf(l) <= 10 * rj + 64 * EPS * Math.abs(th);
    let lo = j;
    let hi = j;
    while (lo > 0 && member(lo - 1)) lo--;
    while (hi + 1 < all.length && member(hi + 1)) hi++;
    let r2 = 0;
    for (let l = lo; l <= hi; l++) r2 += rOf(l) ** 2;
    const R = Math.sqrt(r2);
    // Distance to the nearest eigenvalue the neighbours certify (θ_l ± r_l), not to θ_l itself.
    const below = lo > 0 ? th - val(lo - 1) - rOf(lo - 1) : Infinity;
    const above = hi + 1 < all.length ? val(hi + 1) - rOf(hi + 1) - th : Infinity;
    const delta = Math.min(below, above);
    const kt = delta > R ? (R * R) / (delta - R) : Infinity;
    return Math.max(Math.min(R, kt), 64 * EPS * Math.abs(th));
  });
}

/**
 * Ritz pairs of the basis Q for the first `take` eigenvectors of the Ritz
 * matrix: vectors, their face differences, Rayleigh quotients through G and residual norms.
 * Kept out of the generator: V8 does not optimize long loops inside a generator body (no
 * on-stack replacement there), so the hot loops live in plain functions.
 */
function ritzPairs(
  A: DirichletForm,
  Q: readonly Float64Array[],
  coeffs: readonly (readonly number[])[],
  take: number,
  pool: VectorPool,
  aVectors: Float64Array[],
  work: WorkCounts,
  team: EigenTeam | null,
): { values: number[]; vectors: Float64Array[]; gVectors: Float64Array[]; aVectors: Float64Array[]; residuals: number[] } {
  const n = A.size;
  const values: number[] = [];
  const gVectors: Float64Array[] = [];
  const residuals: number[] = [];
  const vectors = combineMany(Q, coeffs.slice(0, take), n, pool, team, work);
  work.ritzVectors += take;
  work.residuals += take;
  for (let j = 0; j < take; j++) {
    const y = vectors[j];
    const gy = pool.takeDirty(A.faceCount);
    // G·y directly (each face difference cancels only its own two terms, as in GQ) costs a
    // d-th of combining the m columns of GQ.
    if (team && team.ownsAll([y, gy])) team.grad(y, gy);
    else A.grad(y, gy);
    // The Ritz matrix mixes entries of size ‖S‖ with the gap, so its eigenvalues carry
    // absolute (not relative) round-off; the Rayleigh quotient of the Ritz vector through its
    // face differences is accurate relative to λ₁ (checked against 60-digit arithmetic).
    // ⟨y, y⟩ and ⟨Gy, Gy⟩ in one sweep each would be the same sums; Gᵀ(Gy) is kept: the
    // correction solve's right-hand side is made from it (it used to be formed again there).
    const yy = dot(y, y);
    const th = A.form(gy, gy) / yy;
    // gradT overwrites every entry; the buffers are the caller's, reused every step.
    aVectors[j] ??= team ? team.array(n) : new Float64Array(n);
    const ay = aVectors[j];
    // With a team, Gᵀ(G·y) as the team's −S apply (dirichletApply has the bits of
    // DirichletForm.apply, which are those of gradT after grad).
    if (team && team.ownsAll([y, ay])) team.apply(y, ay);
    else A.gradT(gy, ay);
    residuals.push(Math.sqrt(residualSquared(ay, y, th) / yy));
    values.push(th);
    gVectors.push(gy);
  }
  return { values, vectors, gVectors, aVectors, residuals };
}

/** ‖ay − θy‖². */
function residualSquared(ay: Float64Array, y: Float64Array, th: number): number {
  let r2 = 0;
  for (let i = 0; i < y.length; i++) r2 += (ay[i] - th * y[i]) ** 2;
  return r2;
}

/**
 * ⟨g_l, gx⟩ for every l, four per sweep over gx (each sum accumulates in index order, as
 * DirichletForm.form does, so the same bits): a new basis vector's row of the Ritz matrix read
 * gx once per l, 2·size doubles each time, the largest cost outside CG after Gram–Schmidt.
 */
export function formsAgainst(G: readonly Float64Array[], gx: Float64Array): number[] {
  const m = G.length;
  const n = gx.length;
  const acc = new Float64Array(m);
  // In chunks (as combineMany): gx's chunk stays in the cache while every group of four passes,
  // so gx is read from memory once, not once per group; each sum still runs in index order.
  for (let lo = 0; lo < n; lo += COMBINE_CHUNK) accumulateCoefficients(gx, G, acc, lo, Math.min(n, lo + COMBINE_CHUNK), 0);
  return Array.from(acc);
}

/** formsAgainst on the team's threads (summed per block: the bits of neither formsAgainst nor DirichletForm.form). */
function formsOnTeam(G: readonly Float64Array[], gx: Float64Array, team: EigenTeam, work: WorkCounts): number[] {
  const acc = new Float64Array(G.length);
  work.teamSweeps += G.length;
  team.dots(gx, G, acc, false);
  return Array.from(acc);
}


/**
 * Orthonormalizes x (taken over) against √π (s) and the basis Q and enters it with its face
 * differences and its row of the Ritz matrix; false when it is non-finite or lies in their span to
 * 1e-10. A plain function, not a closure of the generator, and with its passes fused: ‖x₀‖ comes
 * from Gram–Schmidt's first sweep, and x's own form ⟨Gx, Gx⟩ from the sweep of its row (one more
 * vector in formsAgainst, the same bits as DirichletForm.form).
 */
function enterBasis(
  A: DirichletForm,
  s: Float64Array,
  Q: Float64Array[],
  GQ: Float64Array[],
  H: number[][],
  x: Float64Array,
  pool: VectorPool,
  work: WorkCounts,
  hints: readonly Float64Array[] = [],
  team: EigenTeam | null = null,
): boolean {
  // hints: orthonormal vectors of span(Q) that hold most of x (a solve's x = (−S)⁺y is y/θ plus
  // a new part, and (−S)⁺ magnifies the wanted low modes in whatever it solves for). Their
  // components go first, in one pass over them, so that the Gram–Schmidt pass below sees only the
  // new part and keeps most of it: the DGKS test then passes and the second pass over the whole
  // basis is skipped (512² double well: that pass over 6 and over 9 vectors). The ε‖x₀‖ that this
  // first subtraction leaves along the hints is removed by that pass (they are in span(Q)); what
  // it leaves outside span(Q) only tilts the new direction, as the first pass of CGS2 does too.
  const qs = [s, ...Q];
  // The sweeps over the basis on the team's threads when it owns every vector (the start vectors
  // are copied into its memory as they enter: pool.adopt).
  const par = team && team.ownsAll(qs) && team.ownsAll(hints) && team.ownsAll(GQ) && team.ownsAll([x]) ? team : null;
  const x0 = hints.length > 0 ? Math.sqrt(orthogonalizeOnce(x, hints, work, par)) : 0;
  const once = Math.sqrt(par ? orthogonalizeTeam(x, qs, par, work) : orthogonalizeCgs2(x, qs, work));
  const before = Math.max(x0, once);
  if (!(before > 0) || !Number.isFinite(before)) return false;
  const after = Math.sqrt(dot(x, x));
  if (!(after > 1e-10 * before)) return false;
  const n = x.length;
  for (let i = 0; i < n; i++) x[i] /= after;
  const gx = pool.takeDirty(A.faceCount);
  if (par && par.ownsAll([gx])) par.grad(x, gx);
  else A.grad(x, gx);
  const row = par && par.ownsAll([gx]) ? formsOnTeam([...GQ, gx], gx, par, work) : formsAgainst([...GQ, gx], gx);
  for (let j = 0; j < H.length; j++) H[j].push(row[j]);
  H.push(row);
  Q.push(x);
  GQ.push(gx);
  return true;
}

/** Cells per chunk of combineMany: the chunk of every basis vector (≤ ~40 of them) stays in the L2 cache. */
const COMBINE_CHUNK = 2048;

/**
 * Σ_l c_jl Q_l for each coefficient vector c_j, chunk by chunk: each chunk of the basis is read
 * from memory once for all the combinations instead of once per combination. Within a chunk the
 * additions are those of combine (same order, same bits).
 */
function combineMany(
  Q: readonly Float64Array[],
  coeffs: readonly (readonly number[])[],
  n: number,
  pool: VectorPool | null = null,
  team: EigenTeam | null = null,
  work: WorkCounts | null = null,
): Float64Array[] {
  const ys = coeffs.map(() => (pool ? pool.take(n) : new Float64Array(n)));
  if (team && team.ownsAll(Q) && team.ownsAll(ys)) {
    // On the team's threads: each entry takes the groups in the same order, the same bits.
    for (let j = 0; j < ys.length; j++) team.addCombination(ys[j], Q, coeffs[j], 1);
    if (work) work.teamSweeps += ys.length * Q.length;
    return ys;
  }
  for (let lo = 0; lo < n; lo += COMBINE_CHUNK) {
    const hi = Math.min(n, lo + COMBINE_CHUNK);
    for (let j = 0; j < ys.length; j++) addCombinationRange(ys[j], Q, coeffs[j], 1, lo, hi);
  }
  return ys;
}

/** Σ_l c_l Q_l, four basis vectors per sweep (one pass over y for every four, as in orthogonalizeCgs2). */
function combine(Q: readonly Float64Array[], c: readonly number[], n: number): Float64Array {
  const y = new Float64Array(n);
  addCombination(y, Q, c, 1);
  return y;
}

/**
 * out += sign · Σ_l c_l Q_l, four vectors per pass over out. sign is ±1: x + (−e) and x − e are the
 * same float64 number, so subtracting a projection this way gives the bits of writing `x −= …`.
 */
function addCombination(out: Float64Array, Q: readonly Float64Array[], c: ArrayLike<number>, sign: 1 | -1): void {
  addCombinationRange(out, Q, c, sign, 0, out.length);
}


/** Ritz vectors (and their face differences G·y) for the given eigenvectors of the Ritz matrix. */
function ritzVectors(
  A: DirichletForm,
  Q: readonly Float64Array[],
  coeffs: readonly (readonly number[])[],
  pool: VectorPool,
  work: WorkCounts,
  team: EigenTeam | null,
): { vectors: Float64Array[]; gVectors: Float64Array[] } {
  const vectors = combineMany(Q, coeffs, A.size, pool, team, work);
  work.ritzVectors += coeffs.length;
  const gVectors = vectors.map((y) => {
    const gy = pool.takeDirty(A.faceCount);
    if (team && team.ownsAll([y, gy])) team.grad(y, gy);
    else A.grad(y, gy);
    return gy;
  });
  return { vectors, gVectors };
}

/** t ← −r/θ = (θy − Gᵀ(Gy))/θ: the right-hand side of the inverse-iteration correction for the pair (θ, y); ay = Gᵀ(Gy). */
function correctionRhs(y: Float64Array, ay: Float64Array, th: number, t: Float64Array): Float64Array {
  const n = y.length;
  for (let i = 0; i < n; i++) t[i] = (th * y[i] - ay[i]) / th;
  return t;
}

/**
 * x ← x minus its components along the orthonormal vectors qs, by classical Gram–Schmidt with a
 * second pass when the first cancelled much of x ("twice is enough": Giraud et al. 2005, as
 * stable as modified Gram–Schmidt twice). The second pass is skipped when the first kept more
 * than half of ‖x‖² (the Daniel–Gragg–Kaufman–Stewart test with η = 1/√2): one pass then leaves x
 * orthogonal to ~ε‖x₀‖/‖x‖ ≤ 1.5ε per vector, what a second pass would give. ‖x₀‖² comes in the
 * coefficients' sweep and ‖x‖² = ‖x₀‖² − Σc² (no cancellation when the test passes), so the test
 * costs no sweep. The solves' new directions mostly keep most of their norm, and this was the
 * largest cost outside the CG iterations at 512². Each pass takes all coefficients in one sweep
 * over x and subtracts them in a second, instead of two sweeps per vector. Returns ‖x₀‖² (of x
 * as it came in).
 */
export function orthogonalizeCgs2(x: Float64Array, qs: readonly Float64Array[], work: WorkCounts | null = null): number {
  const m = qs.length;
  if (m === 0) return dot(x, x);
  const c = new Float64Array(m);
  const xx = coefficientsChunked(x, qs, c);
  let cc = 0;
  for (let l = 0; l < m; l++) cc += c[l] * c[l];
  if (work) work.basisSweeps += m;
  if (xx - cc >= 0.5 * xx) {
    subtractChunked(x, qs, c, null);
    return xx;
  }
  if (work) {
    work.secondPasses++;
    work.basisSweeps += m;
  }
  // The second pass's coefficients are taken chunk by chunk right after the first pass's
  // subtraction, while the chunk of every q is still in the cache: one read of the basis less.
  const c2 = new Float64Array(m);
  subtractChunked(x, qs, c, c2);
  subtractChunked(x, qs, c2, null);
  return xx;
}

/**
 * Cells per chunk of the Gram–Schmidt sweeps: x's chunk and four q chunks (5 × 16 KB) stay in the
 * L2 cache while every group of four basis vectors passes over them, so x is read from memory once
 * per sweep rather than once per group. Each coefficient still sums in index order (its
 * accumulator carries over from chunk to chunk) and each x[i] takes the groups in the same order:
 * the bits of the unchunked sweeps.
 */
const ORTHO_CHUNK = 2048;

/** c_l ← ⟨x, q_l⟩ for every l; returns ‖x‖². */
function coefficientsChunked(x: Float64Array, qs: readonly Float64Array[], c: Float64Array): number {
  const n = x.length;
  let xx = 0;
  for (let lo = 0; lo < n; lo += ORTHO_CHUNK) {
    const hi = Math.min(n, lo + ORTHO_CHUNK);
    xx = accumulateCoefficients(x, qs, c, lo, hi, xx);
  }
  return xx;
}

/** x ← x − Σ c_l q_l; with c2, also c2_l ← ⟨x, q_l⟩ of the new x, in the same sweep. */
function subtractChunked(x: Float64Array, qs: readonly Float64Array[], c: Float64Array, c2: Float64Array | null): void {
  const n = x.length;
  for (let lo = 0; lo < n; lo += ORTHO_CHUNK) {
    const hi = Math.min(n, lo + ORTHO_CHUNK);
    addCombinationRange(x, qs, c, -1, lo, hi);
    if (c2) accumulateCoefficients(x, qs, c2, lo, hi, 0);
  }
}


/** x ← x − Σ⟨x, h_l⟩h_l over orthonormal h_l: one classical Gram–Schmidt pass; returns ‖x‖² of x as it came in. */
function orthogonalizeOnce(x: Float64Array, hs: readonly Float64Array[], work: WorkCounts, team: EigenTeam | null): number {
  const c = new Float64Array(hs.length);
  work.basisSweeps += hs.length;
  if (team) {
    const xx = team.dots(x, hs, c);
    team.addCombination(x, hs, c, -1);
    work.teamSweeps += 2 * hs.length;
    return xx;
  }
  const xx = coefficientsChunked(x, hs, c);
  subtractChunked(x, hs, c, null);
  return xx;
}

/**
 * orthogonalizeCgs2 on the team's threads (all arrays its own): the same passes and the same DGKS
 * test; the coefficients are summed per block (the team's fixed blocks), so the bits differ from
 * the sequential sweep's in the last place and do not depend on the thread count.
 */
function orthogonalizeTeam(x: Float64Array, qs: readonly Float64Array[], team: EigenTeam, work: WorkCounts): number {
  const m = qs.length;
  const c = new Float64Array(m);
  const xx = team.dots(x, qs, c);
  if (m === 0) return xx;
  let cc = 0;
  for (let l = 0; l < m; l++) cc += c[l] * c[l];
  work.basisSweeps += m;
  work.teamSweeps += 2 * m;
  team.addCombination(x, qs, c, -1);
  if (xx - cc >= 0.5 * xx) return xx;
  work.secondPasses++;
  work.basisSweeps += m;
  work.teamSweeps += 2 * m;
  team.dots(x, qs, c, false);
  team.addCombination(x, qs, c, -1);
  return xx;
}

/** orthogonalizeCgs2, on the team's threads (orthogonalizeTeam) when it owns x and every q. */
function orthogonalizeOn(x: Float64Array, qs: readonly Float64Array[], work: WorkCounts, team: EigenTeam | null): number {
  return team && team.ownsAll(qs) && team.ownsAll([x]) ? orthogonalizeTeam(x, qs, team, work) : orthogonalizeCgs2(x, qs, work);
}

/** x ← x/‖x‖; returns ‖x‖ (0 or non-finite: x left as is). */
function normalize(x: Float64Array): number {
  const nx = Math.sqrt(dot(x, x));
  if (nx > 0 && Number.isFinite(nx)) for (let i = 0; i < x.length; i++) x[i] /= nx;
  return nx;
}

/** What the final check needs from the solve it checks. */
interface CheckContext {
  A: DirichletForm;
  /** The null vector √π/‖√π‖. */
  s: Float64Array;
  pcg: SingularPcg;
  pool: VectorPool;
  maxInner: number;
  work: WorkCounts;
  /** The solve's kernel team (null: none): the check's sweeps run on it where it owns the vectors. */
  team: EigenTeam | null;
}

/** The block's vectors beyond the claimed modes (Ritz vectors, orthonormal) and their face differences. */
export interface CheckGuards {
  vectors: readonly Float64Array[];
  gVectors: readonly Float64Array[];
}

/**
 * An orthonormal basis with its face differences and Ritz matrix (GV)ᵀ(GV): the check's spans.
 * Vectors entered with `own` go back to the pool at release; the others (the block's guard Ritz
 * vectors, still the solver's) are only read.
 */
class CheckSpan {
  readonly V: Float64Array[] = [];
  readonly GV: Float64Array[] = [];
  readonly H: number[][] = [];
  private readonly owned: Float64Array[] = [];

  constructor(
    private readonly A: DirichletForm,
    private readonly pool: VectorPool,
    private readonly work: WorkCounts,
    private readonly team: EigenTeam | null,
  ) {}

  /** Enters v (unit, orthogonal to V) with its face differences gv. */
  push(v: Float64Array, gv: Float64Array, own: boolean): void {
    const G = [...this.GV, gv];
    // On the team's threads like the solve's own rows: at 512² the check's three rows, its
    // Gram–Schmidt and G·v ran on the main thread while the team's threads waited.
    const row = this.team && this.team.ownsAll(G) ? formsOnTeam(G, gv, this.team, this.work) : formsAgainst(G, gv);
    for (let j = 0; j < this.H.length; j++) this.H[j].push(row[j]);
    this.H.push(row);
    this.V.push(v);
    this.GV.push(gv);
    if (own) this.owned.push(v, gv);
  }

  /** Orthonormalizes v (taken over) against V and enters it; false (v back to the pool) when it lies in V's span to 1e-8. */
  add(v: Float64Array): boolean {
    orthogonalizeOn(v, this.V, this.work, this.team);
    if (!(normalize(v) > 1e-8)) {
      this.pool.give(v);
      return false;
    }
    const gv = this.pool.takeDirty(this.A.faceCount);
    if (this.team && this.team.ownsAll([v, gv])) this.team.grad(v, gv);
    else this.A.grad(v, gv);
    this.push(v, gv, true);
    return true;
  }

  /** The lowest eigenpair of the Ritz matrix (null for an empty span). */
  lowestPair(): { value: number; coefficients: number[] } | null {
    if (this.V.length === 0) return null;
    const e = symmetricEigen(this.H);
    return { value: e.values[0], coefficients: e.vectors[0] };
  }

  /**
   * A margin far above the round-off of the Ritz matrix's eigenvalues: each entry is a sum of
   * face products accurate to ~√faces·ε of |H|'s scale, and its eigenvalues to ε‖H‖ more.
   */
  roundoffMargin(): number {
    let trace = 0;
    for (let j = 0; j < this.H.length; j++) trace += Math.abs(this.H[j][j]);
    return 1e-8 * trace;
  }

  /** The Ritz vector of `coefficients`, orthogonalized against `against` and normalized (null when that leaves nothing). */
  vectorOf(coefficients: readonly number[], against: readonly Float64Array[]): Float64Array | null {
    let y: Float64Array;
    if (this.team && this.team.ownsAll(this.V)) {
      y = this.pool.take(this.A.size);
      this.team.addCombination(y, this.V, coefficients, 1);
      this.work.teamSweeps += this.V.length;
    } else y = combine(this.V, coefficients, this.A.size);
    this.work.ritzVectors++;
    orthogonalizeOn(y, against, this.work, this.team);
    return normalize(y) > 0 ? y : null;
  }

  release(): void {
    this.pool.give(...this.owned);
  }
}

/**
 * The final check: inverse iteration from a seeded random vector on the complement of the claimed
 * modes (and of √π), judged by Rayleigh–Ritz over its solved iterates together with the block's
 * guard vectors.
 *
 * Why the guards: the check's own iterates need ~5 solves before their lowest Ritz value settles
 * on λ_{k+1} (512² double well: 19.2, 2.32, 2.02, 1.999, 1.9978), and the settling is what the
 * old stop waited for. The guards already hold λ_{k+1}..λ_b to their (loose) accuracy, so over
 * guards ∪ iterates the value starts settled and stays there unless the iterates bring something
 * lower: a missed mode. Adding vectors to a Rayleigh–Ritz span can only lower its smallest Ritz
 * value, so at every solve this value is ≤ the iterates' own: a missed mode is seen at least as
 * early as without the guards, and the stop still waits for MIN_CHECK_SOLVES solves, each of which
 * amplifies a missed mode μ against everything ≥ λ_{k+1} by ~min(λ_{k+1}/μ, 1/CHECK_TOL)
 * (preconditioned inverse iteration, Knyazev–Neymeyr). Every vector of the span is on the
 * complement of the claimed modes (the judged Ritz vector is orthogonalized against them before its
 * Rayleigh quotient is taken), so a value below the claimed θ_k still proves a missed mode.
 * The iteration itself is plain inverse iteration from the random start, never from the joint
 * lowest Ritz vector (that is the guard's λ_{k+1} mode and would stop feeding the random start's
 * components in).
 */
function* finalCheckSteps(
  ctx: CheckContext,
  claimed: readonly Float64Array[],
  guards: CheckGuards,
  thetaK: number,
  boundK: number,
  seed: number,
): Steps<{ result: FinalCheck; x: Float64Array | null }> {
  const { A, s, pcg, pool, maxInner } = ctx;
  const n = A.size;
  const rnd = lcg(seed);
  const sqrtPi = A.op.sqrtPi;
  // x: the current iterate, a pool vector (handed back once the next solve has used it).
  let x = pool.takeDirty(n);
  for (let i = 0; i < n; i++) x[i] = sqrtPi[i] * rnd();
  const against = [s, ...claimed];
  const threshold = thetaK - Math.max(boundK, 1e-6 * thetaK);
  // guards ∪ solved iterates. Only solved iterates enter: the random start's Rayleigh quotient is
  // of order ‖S‖, and its round-off in the small Ritz matrix could hide a tiny missed eigenvalue.
  const J = new CheckSpan(A, pool, ctx.work, ctx.team);
  for (let j = 0; j < guards.vectors.length; j++) J.push(guards.vectors[j], guards.gVectors[j], false);
  const gy = pool.takeDirty(A.faceCount);
  let joint: Float64Array | null = null;
  let rq = Infinity;
  let solves = 0;
  let foundLower = false;
  try {
    orthogonalizeOn(x, against, ctx.work, ctx.team);
    while (solves < MAX_CHECK_SOLVES && normalize(x) > 0) {
      // From zero to ‖r‖ ≤ CHECK_TOL·‖x‖ (‖x‖ = 1). A warm start from x/ρ paid off when the check
      // ran until its own iterates settled; within three solves x is still far from an
      // eigenvector and x/ρ saved nothing (512² double well: 4 + 6 + 6 cold against 4 + 7 + 6
      // warm, and the warm start costs an apply and two passes per solve).
      const next = pool.take(n);
      yield* pcg.solveSteps(x, next, 0, CHECK_TOL, maxInner, true);
      solves++;
      pool.give(x);
      x = next;
      orthogonalizeOn(x, against, ctx.work, ctx.team);
      const norm = Math.sqrt(dot(x, x));
      if (!(norm > 0) || !Number.isFinite(norm)) break;
      // Plain inverse iteration: the iterates T x₀, T²x₀, … span the Krylov space that Rayleigh–Ritz
      // over the iterates' own lowest Ritz vectors spanned (T y_j ∈ K_{j+1} for y_j ∈ K_j), so J,
      // which holds all of them, loses nothing by iterating on x itself, and a second span with
      // its own Gram–Schmidt and face differences per solve is saved.
      const copy = pool.takeDirty(n);
      for (let i = 0; i < n; i++) copy[i] = x[i] / norm;
      const grew = J.add(copy);
      const low = J.lowestPair();
      if (!low) break;
      let q = low.value;
      // The Ritz matrix's lowest eigenvalue is the judged value up to round-off of order ε‖H‖.
      // Far above the threshold (λ_{k+1} ~ 2 against θ_k ~ 1e-5 on the double well) that decides
      // nothing, so the Ritz vector and its Rayleigh quotient through G, which is accurate
      // relative to a tiny value, are formed only near the threshold, where a find is possible:
      // a combination of the span, a Gram–Schmidt pass and G·y per solve saved.
      if (!(q > threshold + J.roundoffMargin())) {
        const yj = J.vectorOf(low.coefficients, against);
        if (!yj) break;
        A.grad(yj, gy);
        q = A.form(gy, gy);
        if (joint) pool.give(joint);
        joint = yj;
      } else if (joint) {
        pool.give(joint);
        joint = null;
      }
      const settled = solves >= MIN_CHECK_SOLVES && Math.abs(q - rq) <= 1e-3 * q;
      rq = q;
      if (rq < threshold) {
        foundLower = true;
        break;
      }
      if (settled || !grew) break;
    }
  } finally {
    pool.give(gy, x);
    // The Ritz vector leaves with the result only on a find.
    if (joint && !foundLower) pool.give(joint);
    J.release();
  }
  // The vector to resume from on a find: the one whose Rayleigh quotient went below θ_k.
  return { result: { rayleigh: rq, solves, foundLower }, x: foundLower ? joint : null };
}

/**
 * The final check on its own (tests): is there a mode below θ_k on the complement of `claimed`
 * (unit, ⊥ √π), with `guards` the Ritz vectors above them? Multigrid-preconditioned solves in
 * 2-D/3-D, as in shiftInvertModes; `threads` ≥ 1 runs its sweeps and solves on a kernel team of
 * that many threads, as the solver does on large grids.
 */
export function finalCheck(
  op: FvOperator,
  claimed: readonly Float64Array[],
  guards: readonly Float64Array[],
  thetaK: number,
  boundK: number,
  seed = 2024 + 7919,
  threads = 0,
): FinalCheck {
  const A = new DirichletForm(op);
  const n = op.grid.size;
  const team = threads >= 1 ? eigenTeamFor(A, threads) : null;
  const pool = new VectorPool(team);
  const s = pool.adopt(Float64Array.from(op.sqrtPi));
  const sn = Math.sqrt(dot(s, s));
  for (let i = 0; i < n; i++) s[i] /= sn;
  const pre = op.grid.dim >= 2 ? new MultigridPreconditioner(op, { cycle: 'V', overCorrection: EIGEN_OVERCORRECTION }) : new JacobiPreconditioner(op);
  try {
    pre.useTeam?.(team ? team.team : null);
    const pcg = new SingularPcg(A, s, pre, 1e-8 * A.normBound, team);
    // Copies in the team's memory when there is one (the caller's arrays are only read).
    const own = (v: Float64Array): Float64Array => (team ? pool.adopt(v) : v);
    const vectors = guards.map(own);
    const gVectors = vectors.map((v) => {
      const g = pool.takeDirty(A.faceCount);
      A.grad(v, g);
      return g;
    });
    const ctx: CheckContext = { A, s, pcg, pool, maxInner: 20000, work: { basisSweeps: 0, secondPasses: 0, ritzVectors: 0, residuals: 0, teamSweeps: 0 }, team };
    return runSync(finalCheckSteps(ctx, claimed.map(own), { vectors, gVectors }, thetaK, boundK, seed)).result;
  } finally {
    team?.close();
    pre.dispose?.();
  }
}

export function shiftInvertModes(op: FvOperator, opts: SubspaceOptions): SubspaceResult {
  return runSync(shiftInvertSteps(op, opts));
}

/** shiftInvertModes as checkpointed steps (steps.ts): yields every few CG iterations and every Rayleigh–Ritz step. */
export function* shiftInvertSteps(op: FvOperator, opts: SubspaceOptions): Steps<SubspaceResult> {
  const k = opts.modes;
  const n = op.grid.size;
  if (k < 1 || k > n - 2) throw new RangeError(`modes must be between 1 and ${n - 2} for ${n} cells`);
  const A = new DirichletForm(op);
  const b = Math.min(Math.max(k + 2, 2 ** op.grid.dim), n - 1);
  // A step adds up to b solutions (+1 check vector); a restart keeps the lowest maxBasis − b − 1
  // Ritz vectors (thick restart), not only the block's b: with them the basis spans the last
  // solves too, so a mode in a near-degenerate cluster (the double well's λ₂ ≈ λ₃) converges at
  // the rate set by the first eigenvalue outside ~2b modes rather than outside b.
  const maxBasis = Math.min(3 * b + 2, n - 1);
  const keepOnRestart = Math.max(b, maxBasis - b - 1);
  const s = Float64Array.from(op.sqrtPi);
  const sn = Math.sqrt(dot(s, s));
  for (let i = 0; i < n; i++) s[i] /= sn;
  // Multigrid as in the implicit time stepping in 2-D/3-D, but V-cycles: with θ = 1/σ this large
  // the W-cycle's second coarse correction buys no iterations here (512² double well: 83 W against
  // 84 V iterations, 3-D bowl 32³: 332 against 305) and costs ~25 % of each. 1-D (only reached
  // in cross-checks) steps with a direct solve and the multigrid kernels are for d ≥ 2.
  const own = opts.preconditioner === undefined;
  const given = own && op.grid.dim >= 2 ? reusable(opts.multigrid, op) : null;
  const pre =
    opts.preconditioner ?? given ?? (op.grid.dim >= 2 ? new MultigridPreconditioner(op, { cycle: 'V', overCorrection: EIGEN_OVERCORRECTION }) : new JacobiPreconditioner(op));
  const team = own ? eigenTeamFor(A, opts.threads) : null;
  try {
    pre.useTeam?.(team ? team.team : null);
    // The preconditioner approximates (σ − S)⁻¹; σ small against ‖S‖ keeps it close to (−S)⁺.
    // With a team, √π/‖√π‖ lives in its memory too: every Gram–Schmidt sweep starts with it.
    const sv = team ? team.array(n) : s;
    if (team) sv.set(s);
    const pcg = new SingularPcg(A, sv, pre, 1e-8 * A.normBound, team);
    const r = yield* subspaceIteration(op, opts, A, sv, pcg, b, maxBasis, keepOnRestart, team);
    // The team's memory is released with it: the returned vectors are copies.
    return { ...r, vectors: team ? r.vectors.map((v) => v.slice()) : r.vectors, threads: team ? team.team.threads : 0 };
  } finally {
    team?.close();
    // A preconditioner built here holds grid-sized arrays in the arena until disposed.
    if (own) pre.dispose?.();
  }
}

/** `mg` when it is a live hierarchy of `op` (its finest level is op's own stencil), switched to V-cycles; else null, and `mg` disposed. */
function reusable(mg: MultigridPreconditioner | undefined, op: FvOperator): MultigridPreconditioner | null {
  if (!mg) return null;
  const fine = mg.levels[0];
  if (fine && fine.d === op.outflow && fine.size === op.grid.size) {
    mg.useCycle('V');
    mg.useOverCorrection(EIGEN_OVERCORRECTION);
    return mg;
  }
  mg.dispose();
  return null;
}

function* subspaceIteration(
  op: FvOperator,
  opts: SubspaceOptions,
  A: DirichletForm,
  s: Float64Array,
  pcg: SingularPcg,
  b: number,
  maxBasis: number,
  keepOnRestart: number,
  team: EigenTeam | null,
): Steps<Omit<SubspaceResult, 'threads'>> {
  const k = opts.modes;
  const n = op.grid.size;
  const tol = opts.tol ?? 1e-7;
  const valTol = opts.valueTol ?? 1e-11;
  const maxOuter = opts.maxOuter ?? 100;
  const maxInner = opts.maxInner ?? 20000;
  const seed = opts.seed ?? 2024;

  let Q: Float64Array[] = [];
  let GQ: Float64Array[] = [];
  let H: number[][] = [];
  const pool = new VectorPool(team);
  const aBuffers: Float64Array[] = [];
  const rhsBuffer = new Float64Array(n);
  const work: WorkCounts = { basisSweeps: 0, secondPasses: 0, ritzVectors: 0, residuals: 0, teamSweeps: 0 };
  const addVector = (x: Float64Array, hints: readonly Float64Array[] = []): boolean => enterBasis(A, s, Q, GQ, H, pool.adopt(x), pool, work, hints, team);
  yield;
  let extraStarts = 0;
  for (const v of opts.startVectors ?? []) {
    if (v.length !== n) throw new RangeError(`start vector of length ${v.length} for ${n} cells`);
    if (addVector(Float64Array.from(v))) extraStarts++;
    yield;
  }
  const starts = new StartBlock(op, b, seed);
  for (let j = 0; j < b; j++) {
    addVector(starts.next());
    yield;
  }

  let values: number[] = [];
  let ritz: Float64Array[] = [];
  let lastGRitz: Float64Array[] = [];
  let residuals: number[] = [];
  let bounds: number[] = [];
  let prev: number[] = [];
  let iterations = 0;
  let converged = false;
  let checks = 0;
  let check: FinalCheck | null = null;
  let wantedIterations = 0;


  for (; iterations < maxOuter; iterations++) {
    yield;
    const eig = symmetricEigen(H);
    const m = Q.length;
    const full = Math.min(b, m);
    const take = formedPairs(eig.values, full, k, iterations, A.normBound);
    // The last step's Ritz vectors, unless a restart put them into the basis, are referred to by
    // nothing now (the returned ones are those of the step that ends the loop).
    if (ritz.length > 0 && !Q.includes(ritz[0])) pool.give(...ritz, ...lastGRitz);
    const rr = ritzPairs(A, Q, eig.vectors, take, pool, aBuffers, work, team);
    lastGRitz = rr.gVectors;
    yield;
    values = rr.values;
    ritz = rr.vectors;
    const gRitz = rr.gVectors;
    residuals = rr.residuals;
    const all = [...values, ...eig.values.slice(take)];
    bounds = ritzErrorBounds(values, residuals, all);
    const gaps = values.map((v, j) => {
      const up = j + 1 < all.length ? all[j + 1] - v : Infinity;
      const down = j > 0 ? v - all[j - 1] : Infinity;
      // ≥ 0: values[] are Rayleigh quotients, which may cross a (near-)degenerate neighbour's Ritz value by round-off.
      return Math.max(0, Math.min(up, down));
    });
    // A pair is done when its residual is small outright, or when the eigenvalue is (quadratic
    // Kato–Temple estimate r²/(gap·θ) with the Ritz gap) and the vector is not far off either.
    // The guard vectors beyond k only need to be good enough to give the Ritz gap.
    const target = values.map((v, j) =>
      j < k ? Math.min(1e-2 * v, Math.max(tol * v, Math.sqrt(valTol * gaps[j] * v))) : 1e-3 * v,
    );
    const done = values.map((v, j) => {
      const floor = 1e3 * EPS * Math.sqrt(A.normBound * Math.max(v, 0)) + 1e2 * EPS * v;
      const stalled = prev[j] !== undefined && Math.abs(prev[j] - v) <= 1e-14 * v && residuals[j] <= Math.sqrt(tol) * v;
      return residuals[j] <= target[j] + floor || stalled;
    });
    if (take >= k && done.slice(0, k).every(Boolean)) {
      if (checks >= MAX_CHECKS) {
        converged = true;
        break;
      }
      const ctx: CheckContext = { A, s, pcg, pool, maxInner, work, team };
      // The far guards left out of this step's pairs are formed now (vector and face differences,
      // no residual): the check judges over every guard, and a restart keeps them.
      if (take < full) {
        const extra = ritzVectors(A, Q, eig.vectors.slice(take, full), pool, work, team);
        ritz.push(...extra.vectors);
        gRitz.push(...extra.gVectors);
      }
      const guards = { vectors: ritz.slice(k, full), gVectors: gRitz.slice(k, full) };
      const c = yield* finalCheckSteps(ctx, ritz.slice(0, k), guards, values[k - 1], bounds[k - 1], seed + 7919 * (checks + 1));
      checks++;
      check = c.result;
      if (!c.result.foundLower) {
        converged = true;
        break;
      }
      // A missed mode: restart from the current Ritz vectors plus the check vector.
      pool.give(...Q, ...GQ);
      Q = ritz.slice();
      GQ = gRitz;
      const kept = [...values, ...eig.values.slice(take, full)];
      H = kept.map((v, j) => kept.map((_, l) => (l === j ? v : 0)));
      if (c.x) addVector(c.x);
      prev = [];
      continue;
    }
    prev = values.slice();
    if (m + take > maxBasis) {
      // Thick restart: keep the lowest Ritz vectors (orthonormal, and their Ritz matrix is diagonal).
      const keep = Math.min(m, keepOnRestart);
      const extra = keep > take ? ritzVectors(A, Q, eig.vectors.slice(take, keep), pool, work, team) : { vectors: [], gVectors: [] };
      pool.give(...Q, ...GQ);
      Q = [...ritz, ...extra.vectors];
      GQ = [...gRitz, ...extra.gVectors];
      const kept = [...values, ...eig.values.slice(take, keep)];
      H = kept.map((v, j) => kept.map((_, l) => (l === j ? v : 0)));
    }
    let added = 0;
    for (let j = 0; j < take; j++) {
      // Converged wanted modes are locked (no more solves; they stay in the basis).
      if (done[j] && j < k) continue;
      // Guards above the first (j > k) far above the wanted values get a solve in the first step
      // only: Kato–Temple takes its gap from guard k alone, and the wanted modes converge against
      // guard j at the rate θ_{k−1}/θ_j ≤ 1/GUARD_FAR per solve, whether or not j is iterated (it
      // stays in the basis). On the 512² double well the second step's guards k+1, k+2 cost 5 of 53
      // CG iterations and changed no digit of λ₁ or of its bound. Near the wanted values (a
      // cluster, a degenerate pair) every guard is still solved at every step.
      if (j > k && iterations > 0 && values[j] >= GUARD_FAR * Math.max(values[k - 1], 0)) continue;
      // Inverse iteration from y: x = (−S)⁺y = y/θ − (−S)⁺r/θ. y/θ is already in the basis, so
      // only the correction δ = (−S)⁺(−r/θ) is new; solving for it from zero avoids the
      // cancellation of adding a tiny correction to a huge y/θ when the gap is tiny.
      const x = pool.take(n);
      const before = pcg.iterations;
      // Reduce the correction's residual as far as the eigen-residual still has to fall (an
      // inexact solve shrinks the eigen-residual by about the same factor), within [1e-6, 0.1].
      // The guard vectors beyond k only keep the block's edge away from the wanted modes and give
      // the Ritz gap: a loose solve (one or two multigrid-preconditioned iterations) does that.
      const relTol = j < k ? Math.min(0.1, Math.max(1e-6, (0.3 * target[j]) / Math.max(residuals[j], 1e-300))) : j > k && values[j] >= GUARD_FAR * Math.max(values[k - 1], 0) ? FAR_GUARD_TOL : GUARD_TOL;
      const next = j + 1 < all.length ? all[j + 1] : Infinity;
      if (j < k && relTol < DIRECT_BELOW && residuals[j] > FAR * values[j] && values[j] > 0 && values[j] < SEPARATED * next) {
        // Far from converged and well separated from the Ritz value above (a metastable λ₁):
        // plain inverse iteration x = (−S)⁺y. A solve error with residual τ‖y‖ turns the
        // direction by at most ~τ·θ_j/θ_{j+1} (its parts along the higher modes are divided by
        // their eigenvalues, the part along the wanted mode only rescales x), so a loose solve
        // does what the correction form needs a tight one for: from the basin start of the 512²
        // double well (eigen-residual 3.5e3·θ) 5 CG iterations instead of 17. The huge y/θ and
        // the cancellation the correction form avoids only matter near convergence: once the
        // residual is below FAR·θ the new part of x is smaller than the solve's error along y and
        // the iteration would stall (three wells: 100 steps at 2.5e-3), so the pair goes back to
        // the correction form there.
        yield* pcg.solveSteps(ritz[j], x, DIRECT_TOL, 0, maxInner, true);
      } else {
        const rhs = correctionRhs(ritz[j], rr.aVectors[j], values[j] > 0 ? values[j] : 1, rhsBuffer);
        yield* pcg.solveSteps(rhs, x, relTol, 0, maxInner, true);
      }
      if (j < k) wantedIterations += pcg.iterations - before;
      // The block's own Ritz vector and the wanted ones (see enterBasis).
      if (addVector(x, j < k ? ritz.slice(0, k) : [ritz[j], ...ritz.slice(0, k)])) added++;
      else pool.give(x);
      yield;
    }
    if (added === 0) break;
  }
  return {
    values: values.slice(0, k),
    vectors: ritz.slice(0, k),
    residuals: residuals.slice(0, k),
    errorBounds: bounds.slice(0, k),
    iterations,
    innerIterations: pcg.iterations,
    wantedInnerIterations: wantedIterations,
    startVectors: extraStarts,
    solves: pcg.solves,
    converged,
    relativeAccuracy: bounds[0] / values[0],
    preconditioner: pcg.name,
    blockSize: b,
    check,
    work,
  };
}
