import type { Csr } from '../sparse/csr.js';
import { csrMatVec } from '../sparse/csr.js';
import { DenseLu } from '../sparse/dense-lu.js';
import { csrDiagonalIndex, csrGalerkinAggregate, csrToDense, csrWithDiagonal } from '../sparse/ops.js';
import { Grid } from '../grid.js';

/**
 * Aggregation multigrid for M = αI + βA with A a generator on the cells of a grid (forward form:
 * off-diagonals ≥ 0, columns summing to 0), used as a preconditioner inside GMRES/BiCGStab.
 *
 * - Aggregates are 2^d blocks of cells (a lone cell or pair where an axis length is odd). The
 *   restriction R sums over an aggregate; the prolongation P spreads a coarse value over the aggregate
 *   with weights w_i/Σ_I w (piecewise constant without weights). Every column of P sums to 1, so
 *   A_c = RAP keeps the column sums (0) and the signs: A_c is again a generator, R·I·P = I, and the
 *   Galerkin coarse matrix of M is αI + βA_c. With w = π the coarse kernel is exactly R π.
 *   Alternatively (option coarseOperator) A_c is the same scheme re-assembled on the coarser grid:
 *   on the assembled anisotropic scheme Galerkin boxes let the count grow ~1.35× per refinement and
 *   the re-discretised levels keep it flat (bench/results-steady.md). The
 *   hierarchy of A is built once; a new (α, β) (a time step, a shift) only rewrites values on the
 *   fixed patterns and refactors the coarsest level.
 * - Smoother: Gauss–Seidel in a fixed order, forward before the coarse correction and backward
 *   after, so that drift in either direction along the index order is smoothed in one of them.
 *   −A is an M-matrix, for which Gauss–Seidel converges (is semi-convergent for the singular A).
 * - Coarsest level (≤ coarsestSize cells): dense LU. For the singular A itself (α = 0) one equation
 *   is replaced by Σx = 0: the equations of a generator sum to 0 = Σ of a right-hand side in the range
 *   (restriction keeps sums, and every residual of A has the sum of the initial one), so the dropped
 *   equation is implied and the replaced system is non-singular for an irreducible chain.
 * - Cycle: plain aggregation makes the coarse operator too weak for smooth error and a V-cycle's
 *   convergence then degrades with the number of levels. Two remedies are offered: the K-cycle
 *   (Notay & Vassilevski 2008: on each coarse level, two steps of GCR preconditioned by the next
 *   level's cycle; it is a non-linear preconditioner, which flexible GMRES allows) and the V-cycle
 *   with the coarse correction scaled by overCorrection. bench/results-steady.md has the counts.
 */
export interface NonsymMultigridOptions {
  cycle: 'V' | 'K';
  /** Gauss–Seidel sweeps before and after each coarse correction. */
  sweeps: number;
  /** V-cycle only: factor on the coarse correction. */
  overCorrection: number;
  /** Coarsening stops at or below this many cells; that level is solved by dense LU. */
  coarsestSize: number;
  /**
   * 'symmetric': lexicographic Gauss–Seidel forward before, backward after. 'four-direction' (2-D
   * levels): also the two orders with the last axis reversed, so that drift in any quadrant
   * direction is swept downwind once per cycle (twice the smoothing cost).
   */
  smoother?: 'symmetric' | 'four-direction';
  /**
   * The shape of the slow modes, e.g. an approximation of the steady state: the prolongation is
   * P[i, I] = w_i / Σ_{j∈I} w_j. Absent: piecewise constant.
   */
  weights?: Float64Array;
  /**
   * Re-discretisation: the generator of the same equation on a coarser grid (same box, half the
   * cells per axis), used as the coarse operator instead of the Galerkin RAP wherever every axis of
   * the level has even length and no weights are given. Why: Galerkin box aggregation averages the
   * fine rates, so at coarse levels, where the cell Péclet number is large, it keeps the fine
   * centred coupling that no longer represents the drift; the scheme re-assembled on the coarse grid
   * fits its exponentials to the coarse Péclet number (upwinds automatically). With R = the sum over
   * the 2^d children and P = 1/2^d on each (the existing normalisation), R·A·P ≈ A_c for a generator
   * A_c on cell densities, so A_c is used as it is. It must be a generator (columns summing to 0):
   * the coarse equations of the singular A then stay consistent.
   */
  coarseOperator?: (grid: Grid) => Csr;
}

export const DEFAULT_NONSYM_MULTIGRID: NonsymMultigridOptions = { cycle: 'K', sweeps: 1, overCorrection: 1, coarsestSize: 300 };

interface Level {
  readonly size: number;
  readonly n: readonly number[];
  readonly a: Csr;
  /** The current operator αI + βA on a's pattern. */
  readonly m: { rows: number; cols: number; rowPtr: Int32Array; col: Int32Array; val: Float64Array };
  readonly diag: Int32Array;
  /** Aggregate of each cell on the next level (absent on the coarsest). */
  readonly agg?: Int32Array;
  /** Prolongation weight of each cell within its aggregate (sums to 1 per aggregate). */
  readonly pw?: Float64Array;
  readonly r: Float64Array;
  readonly b: Float64Array;
  readonly x: Float64Array;
  /** GCR work vectors (K-cycle, coarse levels only). */
  readonly k?: { z1: Float64Array; w1: Float64Array; z2: Float64Array; w2: Float64Array; r1: Float64Array };
}

function aggregation(n: readonly number[]): { agg: Int32Array; coarse: number[] } {
  const d = n.length;
  const coarse = n.map((m) => (m > 1 ? Math.ceil(m / 2) : 1));
  const size = n.reduce((p, q) => p * q, 1);
  const agg = new Int32Array(size);
  const idx = new Array<number>(d).fill(0);
  for (let flat = 0; flat < size; flat++) {
    let I = 0;
    for (let k = 0; k < d; k++) I = I * coarse[k] + (n[k] > 1 ? idx[k] >> 1 : 0);
    agg[flat] = I;
    // C order: the last axis runs fastest.
    for (let k = d - 1; k >= 0; k--) {
      if (++idx[k] < n[k]) break;
      idx[k] = 0;
    }
  }
  return { agg, coarse };
}

export class NonsymMultigrid {
  readonly opts: NonsymMultigridOptions;
  private readonly lv: Level[] = [];
  private lu: DenseLu | undefined;
  private alpha = 0;
  /** Levels whose operator was re-discretised (not Galerkin). */
  private rediscretised = 0;

  constructor(a: Csr, grid: Grid, opts: Partial<NonsymMultigridOptions> = {}) {
    // With re-discretised coarse levels the plain V-cycle is the default: measured on the Hessian
    // Feng–Tu generator (test/nonsym-rediscretise.test.ts) the K-cycle's coarse GCR steps made it
    // worse (500+ GMRES iterations at 32×64 against 82), and on the anisotropic OU scheme the V-cycle
    // stays flat (23 → 27 from 64² to 512²) at a lower cost per cycle.
    this.opts = { ...DEFAULT_NONSYM_MULTIGRID, ...(opts.coarseOperator && !opts.weights ? { cycle: 'V' as const } : {}), ...opts };
    if (a.rows !== a.cols || a.rows !== grid.size) {
      throw new RangeError(`NonsymMultigrid: a ${a.rows}×${a.cols} matrix on a grid of ${grid.size} cells`);
    }
    let acur = csrWithDiagonal(a);
    let n = grid.n.slice();
    let gcur: Grid | undefined = grid;
    const provider = this.opts.weights ? undefined : this.opts.coarseOperator;
    let w: Float64Array = new Float64Array(acur.rows).fill(1);
    const given = this.opts.weights;
    if (given) {
      if (given.length !== a.rows) throw new RangeError(`NonsymMultigrid: ${given.length} weights for ${a.rows} cells`);
      let wmax = 0;
      for (let i = 0; i < given.length; i++) if (Math.abs(given[i]) > wmax) wmax = Math.abs(given[i]);
      if (!(wmax > 0) || !Number.isFinite(wmax)) throw new RangeError('NonsymMultigrid: the weights must be finite and not all 0');
      // A floor keeps every aggregate's total positive (and P finite) where the weights vanish or underflow.
      const floor = 1e-250 * wmax;
      for (let i = 0; i < w.length; i++) w[i] = Math.max(Math.abs(given[i]), floor);
    }
    for (;;) {
      const size = acur.rows;
      const last = size <= this.opts.coarsestSize || n.every((m) => m <= 1);
      const { agg, coarse } = aggregation(n);
      const coarseSize = coarse.reduce((p, q) => p * q, 1);
      const isLast = last || coarseSize >= size;
      const depth = this.lv.length;
      const m = { rows: size, cols: size, rowPtr: acur.rowPtr, col: acur.col, val: new Float64Array(acur.val.length) };
      let pw: Float64Array | undefined;
      let wc: Float64Array | undefined;
      if (!isLast) {
        wc = new Float64Array(coarseSize);
        for (let i = 0; i < size; i++) wc[agg[i]] += w[i];
        pw = new Float64Array(size);
        for (let i = 0; i < size; i++) pw[i] = w[i] / wc[agg[i]];
      }
      const k = depth > 0 && this.opts.cycle === 'K' && !isLast
        ? { z1: new Float64Array(size), w1: new Float64Array(size), z2: new Float64Array(size), w2: new Float64Array(size), r1: new Float64Array(size) }
        : undefined;
      this.lv.push({ size, n: n.slice(), a: acur, m, diag: csrDiagonalIndex(acur), ...(pw ? { agg, pw } : {}), r: new Float64Array(size), b: new Float64Array(size), x: new Float64Array(size), ...(k ? { k } : {}) });
      if (!pw || !wc) break;
      const even = n.every((m) => m % 2 === 0);
      let ac: Csr | undefined;
      if (provider && even && gcur) {
        gcur = new Grid(gcur.lo.map((lo, k) => [lo, gcur!.hi[k]] as const), coarse);
        try {
          ac = provider(gcur);
        } catch (e) {
          // The coarse cell centres are new points: a field that is not finite at one of them (the
          // fine grid never sampled it) costs the re-discretisation, not the solve.
          if (!(e instanceof RangeError)) throw e;
        }
        if (ac && (ac.rows !== coarseSize || ac.cols !== coarseSize)) throw new RangeError(`NonsymMultigrid: the coarse operator on ${coarse.join('×')} cells is ${ac.rows}×${ac.cols}`);
      }
      if (ac) {
        acur = csrWithDiagonal(ac);
        this.rediscretised++;
      } else {
        // Once an axis is odd the boxes no longer match a coarser grid: Galerkin from here on.
        gcur = undefined;
        acur = csrGalerkinAggregate(acur, agg, coarseSize, pw);
      }
      n = coarse;
      w = wc;
    }
    this.setOperator(0, 1);
  }

  get levels(): number {
    return this.lv.length;
  }

  /** Level sizes, finest first. */
  get sizes(): number[] {
    return this.lv.map((l) => l.size);
  }

  /** Σ nnz over levels / nnz of the finest: the cost of the hierarchy relative to one matvec. */
  get operatorComplexity(): number {
    const nnz = (l: Level): number => l.a.rowPtr[l.size];
    return this.lv.reduce((s, l) => s + nnz(l), 0) / nnz(this.lv[0]);
  }

  /** The finest operator αI + βA (shares the pattern of A with an explicit diagonal). */
  get operator(): Csr {
    return this.lv[0].m;
  }

  /** Precondition M = αI + βA from now on. α = 0 means A itself (singular for a generator). */
  setOperator(alpha: number, beta: number): void {
    if (!Number.isFinite(alpha) || !Number.isFinite(beta) || beta === 0) throw new RangeError(`NonsymMultigrid.setOperator: α = ${alpha}, β = ${beta}`);
    this.alpha = alpha;
    for (const l of this.lv) {
      const { a, m, diag } = l;
      const v = m.val;
      for (let q = 0; q < v.length; q++) v[q] = beta * a.val[q];
      // R·I·P = I: every column of P sums to 1 over its aggregate's rows.
      if (alpha !== 0) for (let i = 0; i < l.size; i++) v[diag[i]] += alpha;
    }
    const c = this.lv[this.lv.length - 1];
    const dense = csrToDense(c.m);
    if (alpha === 0) {
      const n = c.size;
      for (let j = 0; j < n; j++) dense[(n - 1) * n + j] = 1;
    }
    this.lu = new DenseLu(dense, c.size);
  }

  describe(): string {
    const cyc = this.opts.cycle === 'K' ? 'K-cycle' : `V-cycle (over-correction ${this.opts.overCorrection})`;
    const coarse = this.rediscretised > 0 ? `, ${this.rediscretised} coarse level(s) re-discretised` : '';
    return `aggregation multigrid ${cyc}, GS(${this.opts.sweeps},${this.opts.sweeps}), ${this.levels} levels ${this.sizes.join('→')}${coarse}, coarsest dense LU`;
  }

  /** z ≈ M⁻¹ r: one cycle from a zero guess. */
  readonly apply = (r: Float64Array, z: Float64Array): void => {
    z.fill(0);
    this.cycle(0, r, z);
  };

  private gs(l: Level, b: Float64Array, x: Float64Array, forward: boolean): void {
    const { rowPtr, col, val } = l.m;
    const diag = l.diag;
    const n = l.size;
    const relax = (i: number): void => {
      let acc = b[i];
      for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) acc -= val[k] * x[col[k]];
      const d = val[diag[i]];
      if (d !== 0) x[i] += acc / d;
    };
    const four = this.opts.smoother === 'four-direction' && l.n.length === 2 && l.n[0] > 1 && l.n[1] > 1;
    for (let s = 0; s < this.opts.sweeps; s++) {
      for (let t = 0; t < n; t++) relax(forward ? t : n - 1 - t);
      if (four) {
        // The first axis in the same direction, the last one reversed.
        const [n0, n1] = l.n;
        for (let u = 0; u < n0; u++) {
          const i0 = forward ? u : n0 - 1 - u;
          for (let v = n1 - 1; v >= 0; v--) relax(i0 * n1 + (forward ? v : n1 - 1 - v));
        }
      }
    }
  }

  private coarseSolve(l: Level, b: Float64Array, x: Float64Array): void {
    if (this.alpha === 0) {
      const keep = b[l.size - 1];
      b[l.size - 1] = 0;
      this.lu!.solve(b, x);
      b[l.size - 1] = keep;
    } else this.lu!.solve(b, x);
  }

  /** x ← approximate solution of M_l x = b from x = 0. */
  private cycle(depth: number, b: Float64Array, x: Float64Array): void {
    const l = this.lv[depth];
    if (depth === this.lv.length - 1) {
      this.coarseSolve(l, b, x);
      return;
    }
    this.gs(l, b, x, true);
    const r = l.r;
    csrMatVec(l.m, x, r);
    for (let i = 0; i < l.size; i++) r[i] = b[i] - r[i];
    const c = this.lv[depth + 1];
    const agg = l.agg!;
    c.b.fill(0);
    for (let i = 0; i < l.size; i++) c.b[agg[i]] += r[i];
    c.x.fill(0);
    let omega = 1;
    if (c.k) this.gcr2(depth + 1, c.b, c.x);
    else {
      this.cycle(depth + 1, c.b, c.x);
      if (this.opts.cycle === 'V') omega = this.opts.overCorrection;
    }
    const pw = l.pw!;
    for (let i = 0; i < l.size; i++) x[i] += omega * pw[i] * c.x[agg[i]];
    this.gs(l, b, x, false);
  }

  /**
   * Two steps of GCR on level `depth` from x = 0, preconditioned by that level's cycle: the
   * correction minimising ‖b − M x‖₂ over span{z1, z2}. The cycle below uses the level's b/x arrays,
   * so this level's right-hand side is copied into r1 first.
   */
  private gcr2(depth: number, b: Float64Array, x: Float64Array): void {
    const l = this.lv[depth];
    const { z1, w1, z2, w2, r1 } = l.k!;
    const n = l.size;
    r1.set(b);
    z1.fill(0);
    this.cycle(depth, r1, z1);
    csrMatVec(l.m, z1, w1);
    let ww1 = 0;
    let wr = 0;
    for (let i = 0; i < n; i++) {
      ww1 += w1[i] * w1[i];
      wr += w1[i] * r1[i];
    }
    if (!(ww1 > 0)) return;
    const a1 = wr / ww1;
    for (let i = 0; i < n; i++) {
      x[i] = a1 * z1[i];
      r1[i] -= a1 * w1[i];
    }
    z2.fill(0);
    this.cycle(depth, r1, z2);
    csrMatVec(l.m, z2, w2);
    let w21 = 0;
    for (let i = 0; i < n; i++) w21 += w2[i] * w1[i];
    const bt = w21 / ww1;
    let ww2 = 0;
    let wr2 = 0;
    for (let i = 0; i < n; i++) {
      w2[i] -= bt * w1[i];
      z2[i] -= bt * z1[i];
      ww2 += w2[i] * w2[i];
      wr2 += w2[i] * r1[i];
    }
    if (!(ww2 > 0)) return;
    const a2 = wr2 / ww2;
    for (let i = 0; i < n; i++) x[i] += a2 * z2[i];
  }
}
