import { FvOperator } from './operator.js';
import type { Preconditioner } from './linear.js';
import { ArenaLease, sharedFloat64, sharedInt32 } from './shared-memory.js';
import { gaussSeidel, restrictResidual, type LevelStencil } from './multigrid-kernels.js';
import { RANGE_KERNELS } from './range-kernels.js';
import { wasmKernels as wasmFor } from './kernels/wasm-module.js';
import { splitRanges, type ThreadTeam } from './exec/team.js';

/**
 * Geometric multigrid for (I − θS) in the symmetric form, used as a CG preconditioner.
 *
 * Coarsening is operator-dependent (Galerkin): cells are aggregated 2×2(×2), and the transfer
 * P has column I equal to s_i / s_I on the fine cells i of aggregate I, where s = √π is the
 * null vector of S and s_I = ‖s restricted to I‖. So P has orthonormal columns, P s_c = s with
 * s_c = (s_I), and the coarse operator Pᵀ(I − θS)P = I − θ S_c keeps the same form: S_c is again
 * a nearest-neighbour stencil with null vector s_c, the coarse face weights are sums of
 * s-weighted fine face weights. In u = ρ/π terms this is piecewise-constant aggregation of the
 * weighted graph Laplacian with its masses, which is why it is robust when the coefficients span
 * many orders of magnitude (π ∝ f^−α): the smooth-error space √π·const is represented exactly on
 * every level, whatever the coefficient jumps.
 *
 * The cycle is symmetric (forward Gauss–Seidel before, backward after, a dense Cholesky solve on
 * the coarsest grid), so the preconditioner is symmetric positive definite and PCG stays valid.
 * Piecewise-constant aggregation makes the Galerkin coarse operator too stiff for smooth modes;
 * the coarse correction is scaled by `overCorrection` (a constant factor keeps the cycle
 * symmetric) which restores level-independent convergence in practice (Braess 1995; Notay 2010).
 */
export interface MultigridOptions {
  /** Gauss–Seidel sweeps before and after each coarse correction. */
  sweeps: number;
  /** Factor on the coarse-grid correction (1 = plain Galerkin). */
  overCorrection: number;
  /** Coarsest grid solved directly: coarsening stops at or below this many cells. */
  coarsestSize: number;
  /** 'V' or 'W' cycle (W: two coarse corrections per level). */
  cycle: 'V' | 'W';
  /**
   * One coarse correction on the finest level even in a W-cycle. The second one there needs a
   * full residual pass on the largest grid, which costs about as much as the whole W-cycle below
   * it; without it PCG needs ~20 % more iterations but each costs ~40 % less (docs/performance.md).
   */
  fineV: boolean;
}

export const DEFAULT_MULTIGRID: MultigridOptions = { sweeps: 1, overCorrection: 1.5, coarsestSize: 64, cycle: 'W', fineV: true };

const EMPTY = new Float64Array(0);

/**
 * Levels from this many cells up run their passes on the CPU backend's kernel threads, when it
 * has some (the backend starts them from 512² fine cells; at 512² threading the second level
 * too measured ~4 % faster, smaller levels do not pay).
 */
export const THREADED_LEVEL_CELLS = 65536;

/** One level: the stencil of S on a box of n0×n1×n2 cells (leading axes of size 1 for d < 3). */
export interface MultigridLevel {
  n: [number, number, number];
  size: number;
  /** Off-diagonal S weight on the upper face of each cell, per axis (EMPTY when the axis has 1 cell). */
  w: [Float64Array, Float64Array, Float64Array];
  /** −S_ii. */
  d: Float64Array;
  /** 1 / (1 + θ d_i), set per θ. */
  inv: Float64Array;
  /** The same stencil as the kernels take it: the grid's axes only, 1 + θ d_i alongside inv. */
  stencil: LevelStencil;
  /** Right-hand side and iterate of this level's cycle. */
  b: Float64Array;
  x: Float64Array;
  /** Transfer to the next coarser level: aggregate index and weight s_i / s_I of each cell. */
  agg?: Int32Array;
  pw?: Float64Array;
}

function pad3(n: readonly number[]): [number, number, number] {
  const m = [1, 1, 1];
  for (let k = 0; k < n.length; k++) m[3 - n.length + k] = n[k];
  return [m[0], m[1], m[2]];
}

export class MultigridPreconditioner implements Preconditioner {
  name: string;
  readonly levels: MultigridLevel[] = [];
  private readonly opts: MultigridOptions;
  private theta = NaN;
  /** Dense Cholesky factor (row-major lower triangle) of the coarsest I − θS. */
  private chol: Float64Array = EMPTY;
  /** Its lower bandwidth (levelBandwidth). */
  private cholBand = 0;
  /** The arena blocks of the levels (the finest level's weights and diagonal are the operator's). */
  private readonly lease = new ArenaLease();
  private disposed = false;

  constructor(op: FvOperator, opts: Partial<MultigridOptions> = {}) {
    this.opts = { ...DEFAULT_MULTIGRID, ...opts };
    const g = op.grid;
    const n = pad3(g.n);
    const w: [Float64Array, Float64Array, Float64Array] = [EMPTY, EMPTY, EMPTY];
    for (let k = 0; k < g.dim; k++) w[3 - g.dim + k] = n[3 - g.dim + k] > 1 ? op.sym[k] : EMPTY;
    const fine = withStencil({ n, size: g.size, w, d: op.outflow as Float64Array, inv: sharedFloat64(g.size), b: EMPTY, x: EMPTY }, g.dim);
    this.levels.push(fine);
    let s: Float64Array<ArrayBufferLike> = op.sqrtPi;
    // Each level's s is needed only to build the next one: back to the arena then, not at the next collection.
    let sLease: ArenaLease | null = null;
    let lv = fine;
    while (lv.size > this.opts.coarsestSize && lv.n.some((m) => m > 1)) {
      const built = coarsen(lv, s, g.dim);
      sLease?.release();
      lv = built.level;
      s = built.s;
      sLease = built.sLease;
      this.levels.push(lv);
    }
    sLease?.release();
    for (const l of this.levels) this.lease.adopt(...l.w, l.d, l.inv, l.b, l.x, ...(l.agg ? [l.agg] : []), ...(l.pw ? [l.pw] : []), ...l.stencil.w, l.stencil.diag);
    const cycle = this.opts.cycle === 'W' && this.opts.fineV ? 'W below the finest level' : this.opts.cycle;
    this.name = `multigrid (${this.levels.length} levels, Galerkin aggregation, ${cycle}(${this.opts.sweeps},${this.opts.sweeps}) symmetric Gauss–Seidel)`;
  }

  /**
   * Switches the cycle of this hierarchy (the levels do not depend on it): the spectral gap of a
   * run V-cycles on the hierarchy its time steps built for W-cycles (src/estimators/gap-reuse.ts),
   * with the bits of a hierarchy built for V-cycles.
   */
  useCycle(cycle: 'V' | 'W'): void {
    this.opts.cycle = cycle;
    this.name = this.name.replace(/, (W below the finest level|V|W)\(/, `, ${cycle === 'W' && this.opts.fineV ? 'W below the finest level' : cycle}(`);
  }

  /** Switches the factor on the coarse-grid correction (the levels do not depend on it, as for useCycle). */
  useOverCorrection(a: number): void {
    this.opts.overCorrection = a;
  }

  /** Kernel threads for the finest level's passes (the coarse levels are too small to pay). */
  private team: ThreadTeam | null = null;

  useTeam(team: ThreadTeam | null): void {
    this.team = team;
  }

  /** Returns the levels' arrays to the arena; the preconditioner must not be used afterwards. */
  dispose(): void {
    this.disposed = true;
    this.lease.release();
    this.ghosts.clear();
    this.theta = NaN;
  }

  setup(theta: number): void {
    if (theta === this.theta) return;
    // Its memory may already hold another run's arrays.
    if (this.disposed) throw new Error('MultigridPreconditioner: used after dispose()');
    this.theta = theta;
    for (const lv of this.levels) {
      const { d, inv } = lv;
      const diag = lv.stencil.diag;
      const k = wasmFor(d, diag, inv);
      if (k) k.shiftDiag(d.byteOffset, diag.byteOffset, inv.byteOffset, 0, lv.size, theta);
      else {
        for (let i = 0; i < lv.size; i++) {
          diag[i] = 1 + theta * d[i];
          inv[i] = 1 / diag[i];
        }
      }
    }
    this.chol = choleskyOf(this.levels[this.levels.length - 1], theta);
    this.cholBand = levelBandwidth(this.levels[this.levels.length - 1]);
  }

  apply(r: Float64Array, z: Float64Array): void {
    const fine = this.levels[0];
    fine.b = r;
    fine.x = z;
    this.cycle(0);
    fine.b = EMPTY;
    fine.x = EMPTY;
  }

  /** Per level, the ghost slabs of the block sweep: below and above each internal block edge. */
  private readonly ghosts = new Map<MultigridLevel, Float64Array>();

  /** One block-hybrid sweep of the level in the team's fixed blocks, whatever its thread count (see gaussSeidelBlock). */
  private blockSweep(team: ThreadTeam, lv: MultigridLevel, th: number, forward: boolean): void {
    const { stencil, x, b } = lv;
    const so = stencil.strides[0];
    const edges = splitRanges(lv.size, 2 * so, team.blocks);
    let ghosts = this.ghosts.get(lv);
    if (ghosts?.length !== 2 * so * (edges.length - 2)) {
      ghosts = sharedFloat64(2 * so * (edges.length - 2), this.lease);
      this.ghosts.set(lv, ghosts);
    }
    for (let j = 1; j < edges.length - 1; j++) {
      const e = edges[j];
      // Slabs outside the box (an empty block at an end) are never read: keep the copy in range.
      const from = Math.max(0, e - so);
      ghosts.set(x.subarray(from, from + so), (2 * j - 2) * so);
      ghosts.set(x.subarray(Math.min(e, lv.size - so), Math.min(e, lv.size - so) + so), (2 * j - 1) * so);
    }
    team.run('gaussSeidelBlock', [b, x, stencil.inv, ghosts, ...stencil.w], [], [th, forward ? 1 : 0, lv.size, stencil.w.length, ...stencil.strides, ...edges], lv.size, 2 * so);
  }

  /** x ≈ A⁻¹ b on level l, starting from x = 0. */
  private cycle(l: number): void {
    const lv = this.levels[l];
    const th = this.theta;
    if (l === this.levels.length - 1) {
      choleskySolve(this.chol, lv.size, lv.b, lv.x, this.cholBand);
      return;
    }
    const coarse = this.levels[l + 1];
    const agg = lv.agg as Int32Array;
    const pw = lv.pw as Float64Array;
    const { x, b, stencil } = lv;
    const team = lv.size >= THREADED_LEVEL_CELLS ? this.team : null;
    // With a team, large levels are swept in its fixed blocks of whole aggregates (block-hybrid
    // Gauss–Seidel, gaussSeidelBlock); restrictions and prolongations use the same split.
    const align = 2 * stencil.strides[0];
    const run = (name: 'zero' | 'prolongAdd' | 'restrictAfterFirstSweep', fl: Float64Array[], p: number[]): void => {
      if (team) team.run(name, fl, [agg], p, lv.size, align);
      else RANGE_KERNELS[name](fl, [agg], p, 0, lv.size);
    };
    const sweep = (forward: boolean): void => {
      if (team) this.blockSweep(team, lv, th, forward);
      else gaussSeidel(stencil, th, b, x, forward);
    };
    run('zero', [x], []);
    // W: a second coarse correction on the updated residual (the coarsest solve is exact once).
    const reps = this.opts.cycle === 'W' && l + 2 < this.levels.length && !(l === 0 && this.opts.fineV) ? 2 : 1;
    const a = this.opts.overCorrection;
    for (let k = 0; k < this.opts.sweeps; k++) sweep(true);
    for (let rep = 0; rep < reps; rep++) {
      if (rep === 0 && this.opts.sweeps === 1) {
        // Ranges of whole aggregates: split at multiples of twice the outermost stride.
        run('restrictAfterFirstSweep', [pw, x, coarse.b, ...stencil.w], [th, lv.size, ...stencil.strides, team ? 1 : 0]);
      } else {
        restrictResidual(stencil, th, b, x, agg, pw, coarse.b);
      }
      this.cycle(l + 1);
      run('prolongAdd', [pw, coarse.x, x], [a]);
    }
    for (let k = 0; k < this.opts.sweeps; k++) sweep(false);
  }
}

/**
 * The next coarser level: aggregates of 2 cells per coarsened axis (the last one may hold 1),
 * s-weighted Galerkin stencil. Weights use ŝ_i = s_i / s_I ∈ [0, 1], so nothing overflows even
 * where √π is tiny.
 */
function coarsen(lv: MultigridLevel, s: Float64Array, dim: number): { level: MultigridLevel; s: Float64Array; sLease: ArenaLease } {
  const [n0, n1, n2] = lv.n;
  const c0 = n0 > 1 ? Math.ceil(n0 / 2) : 1;
  const c1 = n1 > 1 ? Math.ceil(n1 / 2) : 1;
  const c2 = n2 > 1 ? Math.ceil(n2 / 2) : 1;
  const cs = c0 * c1 * c2;
  const agg = sharedInt32(lv.size);
  const scratch = new ArenaLease();
  const sMax = sharedFloat64(cs, scratch);
  const ss = sharedFloat64(cs, scratch);
  const sLease = new ArenaLease();
  const sc = sharedFloat64(cs, sLease);
  const pw = sharedFloat64(lv.size);
  // The same loops as WebAssembly when the arrays are in the arena (solvers/kernels/wasm-module.ts):
  // they run once per problem, mostly before V8 would have optimized them.
  const k = wasmFor(s, agg, sMax, ss, sc, pw, lv.d);
  if (k) {
    k.coarsenAgg(s.byteOffset, agg.byteOffset, sMax.byteOffset, n1, n2, c1, c2, n0 > 1 ? 1 : 0, n1 > 1 ? 1 : 0, n2 > 1 ? 1 : 0, 0, lv.size);
    k.coarsenSS(s.byteOffset, agg.byteOffset, sMax.byteOffset, ss.byteOffset, 0, lv.size);
    k.coarsenSC(sMax.byteOffset, ss.byteOffset, sc.byteOffset, 0, cs);
    k.coarsenPW(s.byteOffset, agg.byteOffset, sc.byteOffset, pw.byteOffset, 0, lv.size);
  } else coarsenTransfer(lv, s, agg, sMax, ss, sc, pw);
  fixUnderflowedAggregates(agg, pw, sc);
  const level = coarseStencil(lv, agg, pw, [c0, c1, c2], cs, dim);
  scratch.release();
  return { level, s: sc, sLease };
}

/** agg, the s-maxima per aggregate, the weight normalizers sc and the transfer weights pw (JavaScript loops). */
function coarsenTransfer(lv: MultigridLevel, s: Float64Array, agg: Int32Array, sMax: Float64Array, ss: Float64Array, sc: Float64Array, pw: Float64Array): void {
  const [n0, n1, n2] = lv.n;
  const c1 = n1 > 1 ? Math.ceil(n1 / 2) : 1;
  const c2 = n2 > 1 ? Math.ceil(n2 / 2) : 1;
  const cs = sc.length;
  for (let i0 = 0, i = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      const rowC = ((i0 >> (n0 > 1 ? 1 : 0)) * c1 + (i1 >> (n1 > 1 ? 1 : 0))) * c2;
      for (let i2 = 0; i2 < n2; i2++, i++) {
        const I = rowC + (i2 >> (n2 > 1 ? 1 : 0));
        agg[i] = I;
        if (s[i] > sMax[I]) sMax[I] = s[i];
      }
    }
  }
  for (let i = 0; i < lv.size; i++) {
    const m = sMax[agg[i]];
    if (m > 0) {
      const q = s[i] / m;
      ss[agg[i]] += q * q;
    }
  }
  for (let I = 0; I < cs; I++) sc[I] = sMax[I] * Math.sqrt(ss[I]);
  for (let i = 0; i < lv.size; i++) {
    const m = sc[agg[i]];
    // An aggregate where √π underflowed everywhere gets equal weights (fixUnderflowedAggregates).
    pw[i] = m > 0 ? s[i] / m : 0;
  }
}

/** The Galerkin stencil of the next coarser level (see coarsen). */
function coarseStencil(lv: MultigridLevel, agg: Int32Array, pw: Float64Array, nc: [number, number, number], cs: number, dim: number): MultigridLevel {
  const [, n1, n2] = lv.n;
  const cw: [Float64Array, Float64Array, Float64Array] = [EMPTY, EMPTY, EMPTY];
  for (let k = 3 - dim; k < 3; k++) cw[k] = sharedFloat64(cs);
  const cd = sharedFloat64(cs);
  const strides = [n1 * n2, n2, 1];
  // diag: Σ S_ii ŝ_i² + 2 Σ_{faces inside I} w ŝ_i ŝ_j; off-diag: Σ_{faces between I, J} w ŝ_i ŝ_j
  const kd = wasmFor(lv.d, pw, agg, cd);
  if (kd) kd.coarsenDiag(lv.d.byteOffset, pw.byteOffset, agg.byteOffset, cd.byteOffset, 0, lv.size);
  else {
    for (let i = 0; i < lv.size; i++) {
      const p = pw[i];
      cd[agg[i]] += lv.d[i] * p * p;
    }
  }
  for (let k = 0; k < 3; k++) {
    const wk = lv.w[k];
    if (wk === EMPTY) continue;
    const st = strides[k];
    const ck = cw[k];
    const kf = wasmFor(wk, pw, agg, cd, ck);
    if (kf) {
      kf.coarsenFaces(wk.byteOffset, pw.byteOffset, agg.byteOffset, cd.byteOffset, ck.byteOffset, st, 0, Math.max(0, lv.size - st));
      continue;
    }
    for (let i = 0; i + st < lv.size; i++) {
      const v = wk[i];
      if (v === 0) continue;
      const j = i + st;
      const I = agg[i];
      const J = agg[j];
      const t = v * pw[i] * pw[j];
      if (I === J) cd[I] -= 2 * t;
      else ck[I] += t;
    }
  }
  for (let I = 0; I < cs; I++) if (cd[I] < 0) cd[I] = 0; // round-off only: −S_c is PSD
  lv.agg = agg;
  lv.pw = pw;
  return withStencil({ n: nc, size: cs, w: cw, d: cd, inv: sharedFloat64(cs), b: sharedFloat64(cs), x: sharedFloat64(cs) }, dim);
}

/** Aggregates whose √π underflowed to 0 get uniform orthonormal weights and a tiny positive s. */
function fixUnderflowedAggregates(agg: Int32Array, pw: Float64Array, sc: Float64Array): void {
  let bad = false;
  for (let I = 0; I < sc.length; I++) if (!(sc[I] > 0)) bad = true;
  if (!bad) return;
  const count = new Float64Array(sc.length);
  for (let i = 0; i < agg.length; i++) count[agg[i]]++;
  for (let i = 0; i < agg.length; i++) if (!(sc[agg[i]] > 0)) pw[i] = 1 / Math.sqrt(count[agg[i]]);
  for (let I = 0; I < sc.length; I++) if (!(sc[I] > 0)) sc[I] = Number.MIN_VALUE;
}

/**
 * Attaches the kernels' view of a level: the grid's `dim` axes (an axis coarsened down to one
 * cell keeps an all-zero weight array, so the kernels never branch on it).
 */
function withStencil(lv: Omit<MultigridLevel, 'stencil'>, dim: number): MultigridLevel {
  const [, n1, n2] = lv.n;
  const strides = [n1 * n2, n2, 1].slice(3 - dim);
  const w = lv.w.slice(3 - dim).map((wk) => (wk.length === lv.size ? wk : sharedFloat64(lv.size)));
  return { ...lv, stencil: { size: lv.size, w, strides, diag: sharedFloat64(lv.size), inv: lv.inv } };
}

/**
 * Dense matrix of I − θS on a (small) level, then its Cholesky factor L (row-major, lower).
 * Exported for the device multigrid's coarsest level (solvers/backend/gpu-multigrid.ts).
 */
export function choleskyOf(lv: Pick<MultigridLevel, 'n' | 'size' | 'w' | 'd'>, th: number): Float64Array {
  const m = lv.size;
  const a = new Float64Array(m * m);
  const [n0, n1, n2] = lv.n;
  const strides = [n1 * n2, n2, 1];
  const ns = [n0, n1, n2];
  for (let i = 0; i < m; i++) a[i * m + i] = 1 + th * lv.d[i];
  for (let k = 0; k < 3; k++) {
    const wk = lv.w[k];
    if (wk === EMPTY) continue;
    const st = strides[k];
    for (let i = 0; i < m; i++) {
      if (Math.floor(i / st) % ns[k] === ns[k] - 1) continue;
      const j = i + st;
      a[i * m + j] -= th * wk[i];
      a[j * m + i] -= th * wk[i];
    }
  }
  for (let j = 0; j < m; j++) {
    let s = a[j * m + j];
    for (let k = 0; k < j; k++) s -= a[j * m + k] * a[j * m + k];
    // I − θS ≥ I, so the pivot is ≥ 1 in exact arithmetic.
    const ljj = Math.sqrt(Math.max(s, 1e-300));
    a[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let t = a[i * m + j];
      for (let k = 0; k < j; k++) t -= a[i * m + k] * a[j * m + k];
      a[i * m + j] = t / ljj;
    }
  }
  return a;
}

/**
 * The lower bandwidth of a level's I − θS in the cell order (its largest stride along an axis of
 * more than one cell). A Cholesky factor has no fill outside the band, so its entries there are
 * zeros: choleskySolve may skip them.
 */
export function levelBandwidth(lv: Pick<MultigridLevel, 'n' | 'size'>): number {
  const [n0, n1, n2] = lv.n;
  const bw = n0 > 1 ? n1 * n2 : n1 > 1 ? n2 : n2 > 1 ? 1 : 0;
  return Math.min(bw, Math.max(0, lv.size - 1));
}

/**
 * x = (L Lᵀ)⁻¹ b. `bw`: L's lower bandwidth (levelBandwidth), default dense. The terms skipped
 * outside the band are products with L's zeros, so the result is the dense solve's (up to the sign
 * of an exact zero); the coarsest solve runs 2^(levels − 2) times per W-cycle, and with the band
 * it takes 2·m·bw multiply-adds instead of m² (64 cells: 8×8, a quarter).
 */
export function choleskySolve(l: Float64Array, m: number, b: Float64Array, x: Float64Array, bw: number = m - 1): void {
  for (let i = 0; i < m; i++) {
    let t = b[i];
    for (let k = Math.max(0, i - bw); k < i; k++) t -= l[i * m + k] * x[k];
    x[i] = t / l[i * m + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let t = x[i];
    const end = Math.min(m, i + bw + 1);
    for (let k = i + 1; k < end; k++) t -= l[k * m + i] * x[k];
    x[i] = t / l[i * m + i];
  }
}
