/**
 * Multigrid for (I − θS) on the device: the CPU's hierarchy (solvers/multigrid.ts: Galerkin
 * aggregation 2×2(×2) with √π in the transfer), a cycle whose every pass is a gpu.js kernel over
 * one level, and a direct solve of the coarsest level (≤ 64 cells): by default a product with its
 * inverse on the device (formed in float64 on the host once per θ), so that a cycle never waits
 * for a read-back; optionally Cholesky on the host.
 *
 * The smoother is red–black Gauss–Seidel (one pass per colour): a GPU thread per cell parallelises
 * it, where the CPU's lexicographic sweep cannot be. Pre-smoothing runs red then black, post-
 * smoothing black then red, the transpose, and the coarse correction is Pᵀ-restricted and P-
 * prolonged with one scalar factor: the cycle is a symmetric operator, and positive definite while
 * it contracts (oracles.md §17; the over-correction 1.5 keeps it so in practice, as on the CPU), so
 * CG stays valid. float32 makes it symmetric only to round-off, which PCG tolerates at the float32
 * tolerance it is run to.
 *
 * The default cycle is a full W (two coarse corrections on every level whose next is not the
 * coarsest): piecewise-constant aggregation does not give a V-cycle whose CG count is independent
 * of the grid (oracles.md §17; it grew 6, 9, 12, 15 from 128² to 1024²), the W-cycle's stays flat
 * (5, 5, 6, 6). Its cost is kernel passes, which double per doubling of N in 2-D (134 at 128², 1142 at
 * 1024², against the V's 29 and 50): the extra passes are on small levels, so on a GPU they cost
 * launch latency rather than bandwidth, and which cycle is faster there is for the device
 * benchmark to say (bench/results-gpu.md "Flat counts"). cycle 'V' and wMinCells (V on levels below
 * a size) are the options that trade count for launches.
 *
 * The hierarchy does not depend on θ: the Galerkin stencils of S are built once and θ enters every
 * kernel as an argument (1 + θ d_i is formed in the kernel). So a new θ costs only the coarsest
 * level's dense Cholesky factor and inverse on the host (m ≤ 64 cells: ≈ 4·10⁵ flops) and the
 * upload of the inverse (m² ≤ 4096 floats).
 *
 * The per-cell arithmetic is written once (solvers/kernels/multigrid-stencils.ts; the coarsest
 * level's dense product is the one pass that is not a stencil, written here): the device
 * runs the gpu.js emission in float32; HostRedBlackMultigrid runs the JavaScript emission of the
 * same descriptions in float64, the reference the device cycle is tested against.
 */
import type { FvOperator } from '../operator.js';
import type { Preconditioner } from '../linear.js';
import { MultigridPreconditioner, choleskyOf, choleskySolve, type MultigridLevel } from '../multigrid.js';
import { emitJs, type RangeKernel } from '../kernels/emit-js.js';
import { gpuMap, type Binding } from '../kernels/emit-gpujs.js';
import { levelResidual, prolongCorrect, redBlackSweep, restrictGather } from '../kernels/multigrid-stencils.js';

export interface DeviceMultigridOptions {
  /** Red–black sweeps (one red and one black pass each) before and after each coarse correction. */
  sweeps: number;
  /** Factor on the coarse-grid correction, as the CPU multigrid's overCorrection. */
  overCorrection: number;
  /** 'V', or 'W' (two coarse corrections per level; on the finest level too only with fineW). */
  cycle: 'V' | 'W';
  /** Coarsening stops at or below this many cells; that level is solved directly. */
  coarsestSize: number;
  /**
   * How the coarsest level is solved: 'device' multiplies by its inverse (formed on the host in
   * float64 from the Cholesky factor, uploaded once per θ: m² ≤ 4096 floats), so a cycle reads
   * nothing back; 'host' reads the right-hand side back and solves by Cholesky in float64 (one
   * read-back and one upload per coarsest visit: a synchronisation with the GPU each time).
   */
  coarseSolve: 'device' | 'host';
  /**
   * In a W-cycle, levels below this many cells take one coarse correction: on a GPU a small
   * level's passes cost their launch latency, not their cells, and the W-cycle's visits double
   * per level (2^(L−2) coarsest solves on L levels). A W on the top levels over a V below can
   * lose the W's robustness: W on the finest level alone (wMinCells = 65536 at 256²) took 38
   * iterations where either cycle takes 5 to 9.
   */
  wMinCells: number;
  /**
   * Two coarse corrections on the finest level too in a W-cycle (a full W; the default). Off, the
   * cycle is W below the finest level, as the CPU path's: half the passes per cycle, about a third
   * fewer per solve, but more iterations that vary more with the grid (double well, dt 0.02, 128²
   * to 2048²: 6, 7, 8, 8, 9 against the full W's 5, 5, 6, 6, 7; ou-2d with D = 1 at 64² to 256² on
   * the device: 12, 15, 16 against 12, 12, 14).
   */
  fineW: boolean;
}

/**
 * A full W-cycle by default: with piecewise-constant aggregation a V-cycle's CG count grows with
 * every level added (double well, webasm, dt 0.02: 6, 9, 12, 15 from 128² to 1024²), a full W's
 * does not (5, 5, 6, 6; bench/results-gpu.md "Flat counts"). The price is kernel passes: level l
 * is visited 2^l times, so a cycle's passes double per doubling of N (2-D); the fine levels'
 * work in cells stays about twice a V-cycle's. Where launches dominate (small grids on a GPU),
 * cycle 'V' is the option.
 */
export const DEFAULT_DEVICE_MULTIGRID: DeviceMultigridOptions = { sweeps: 1, overCorrection: 1.5, cycle: 'W', coarsestSize: 64, wMinCells: 0, fineW: true, coarseSolve: 'device' };

/** One level in the layout of the cycle's kernels, float64 on the host. */
export interface RbLevel {
  n: [number, number, number];
  size: number;
  /** Upper-face S weights per grid axis, outermost first (zeros on an axis coarsened to one cell). */
  w: Float64Array[];
  /** Strides of the grid axes, innermost 1. */
  strides: number[];
  /** −S_ii. */
  d: Float64Array;
  /** Colour: parity of the cell's index sum (0 red, 1 black). */
  m: Float64Array;
  /** Transfer to the next coarser level: aggregate and weight s_i / s_I of each cell (absent on the coarsest). */
  agg?: Int32Array;
  pw?: Float64Array;
  /** The same transfer per coarse cell: its 2^d children in fine-index order and their weights (0 pads). */
  ch?: Int32Array[];
  cw?: Float64Array[];
}

export interface RbHierarchy {
  dim: number;
  levels: RbLevel[];
  /** The coarsest level in the shape choleskyOf takes. */
  coarsest: Pick<MultigridLevel, 'n' | 'size' | 'w' | 'd'>;
}

/**
 * Cell indices travel as float32 in the transfer buffers (gpu.js binds float arrays only): exact
 * up to 2^24, i.e. 4096² or 256³ cells. Larger grids keep Jacobi rather than gather wrong cells.
 */
export const DEVICE_MULTIGRID_MAX_CELLS = 2 ** 24;

/** Whether the device multigrid applies: a 2-D or 3-D grid with more cells than the coarsest level. */
export function deviceMultigridApplies(op: FvOperator, opts: Partial<DeviceMultigridOptions> = {}): boolean {
  const o = { ...DEFAULT_DEVICE_MULTIGRID, ...opts };
  return op.grid.dim >= 2 && op.grid.size > o.coarsestSize && op.grid.size <= DEVICE_MULTIGRID_MAX_CELLS;
}

/**
 * The CPU multigrid's levels (solvers/multigrid.ts builds them, float64, exactly as the CPU path
 * does), copied out of its arena blocks into the kernels' layout; the CPU preconditioner is then
 * disposed.
 */
export function buildHierarchy(op: FvOperator, opts: Partial<DeviceMultigridOptions> = {}): RbHierarchy {
  const o = { ...DEFAULT_DEVICE_MULTIGRID, ...opts };
  const dim = op.grid.dim;
  const mg = new MultigridPreconditioner(op, { coarsestSize: o.coarsestSize });
  try {
    const levels: RbLevel[] = mg.levels.map((lv) => {
      const [, n1, n2] = lv.n;
      const m = new Float64Array(lv.size);
      for (let i = 0; i < lv.size; i++) {
        const i2 = i % n2;
        const i1 = Math.floor(i / n2) % n1;
        const i0 = Math.floor(i / (n1 * n2));
        m[i] = (i0 + i1 + i2) & 1;
      }
      return {
        n: [...lv.n],
        size: lv.size,
        w: lv.stencil.w.map((a) => Float64Array.from(a)),
        strides: [...lv.stencil.strides],
        d: Float64Array.from(lv.d),
        m,
        agg: lv.agg ? Int32Array.from(lv.agg) : undefined,
        pw: lv.pw ? Float64Array.from(lv.pw) : undefined,
      };
    });
    const nc = 2 ** dim;
    for (let l = 0; l + 1 < levels.length; l++) {
      const lv = levels[l];
      const cs = levels[l + 1].size;
      const agg = lv.agg as Int32Array;
      const pw = lv.pw as Float64Array;
      const ch = Array.from({ length: nc }, () => new Int32Array(cs).fill(-1));
      const cw = Array.from({ length: nc }, () => new Float64Array(cs));
      const count = new Int32Array(cs);
      for (let i = 0; i < lv.size; i++) {
        const I = agg[i];
        const c = count[I]++;
        if (c >= nc) throw new Error(`device multigrid: aggregate ${I} has more than ${nc} cells`);
        ch[c][I] = i;
        cw[c][I] = pw[i];
      }
      // Padding: weight 0 on a valid index (the aggregate's first cell), so the gather reads in range.
      for (let c = 1; c < nc; c++) for (let I = 0; I < cs; I++) if (ch[c][I] < 0) ch[c][I] = ch[0][I];
      lv.ch = ch;
      lv.cw = cw;
    }
    const last = mg.levels[mg.levels.length - 1];
    const w = last.w.map((a) => (a.length === last.size ? Float64Array.from(a) : new Float64Array(last.size))) as [Float64Array, Float64Array, Float64Array];
    return { dim, levels, coarsest: { n: [...last.n], size: last.size, w, d: Float64Array.from(last.d) } };
  } finally {
    mg.dispose();
  }
}

const coarseCorrections = (o: DeviceMultigridOptions, l: number, levels: number, size: number): number =>
  o.cycle === 'W' && (l > 0 || o.fineW) && l + 2 < levels && size >= o.wMinCells ? 2 : 1;

export function cycleName(o: DeviceMultigridOptions): string {
  const cycle = o.cycle === 'W' ? `W${o.fineW ? '' : ' below the finest level'}${o.wMinCells > 0 ? ` down to ${o.wMinCells} cells` : ''}` : 'V';
  const coarsest = o.coarseSolve === 'host' ? 'coarsest level by Cholesky on the host' : 'coarsest level by its inverse on the device';
  return `Galerkin aggregation, ${cycle}(${o.sweeps},${o.sweeps}) red–black Gauss–Seidel, ${coarsest}`;
}

/**
 * The device cycle's reference: the same kernel descriptions emitted as float64 JavaScript, the
 * same hierarchy, the same order of passes. Usable as a CPU preconditioner (CpuBackend's second
 * argument), which is how the tests compare the device's CG iteration counts with float64.
 */
export class HostRedBlackMultigrid implements Preconditioner {
  readonly name: string;
  readonly h: RbHierarchy;
  private readonly o: DeviceMultigridOptions;
  private readonly k: { smooth: RangeKernel; resid: RangeKernel; restrict: RangeKernel; prolong: RangeKernel };
  private theta = NaN;
  private chol: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private readonly B: Float64Array[];
  private readonly X: Float64Array[];
  private readonly T: Float64Array[];
  private readonly R: Float64Array[];

  constructor(op: FvOperator, opts: Partial<DeviceMultigridOptions> = {}) {
    this.o = { ...DEFAULT_DEVICE_MULTIGRID, ...opts };
    if (!(this.o.sweeps >= 1)) throw new Error('device multigrid: sweeps must be at least 1');
    this.h = buildHierarchy(op, this.o);
    const d = this.h.dim;
    this.k = { smooth: emitJs(redBlackSweep(d)).range, resid: emitJs(levelResidual(d)).range, restrict: emitJs(restrictGather(d)).range, prolong: emitJs(prolongCorrect).range };
    const mk = (): Float64Array[] => this.h.levels.map((lv) => new Float64Array(lv.size));
    this.B = mk();
    this.X = mk();
    this.T = mk();
    this.R = mk();
    this.name = `multigrid (host float64 reference of the device cycle; ${this.h.levels.length} levels, ${cycleName(this.o)})`;
  }

  setup(theta: number): void {
    if (theta === this.theta) return;
    this.theta = theta;
    this.chol = choleskyOf(this.h.coarsest, theta);
  }

  apply(r: Float64Array, z: Float64Array): void {
    this.B[0].set(r);
    this.cycle(0);
    z.set(this.X[0]);
  }

  private cycle(l: number): void {
    const lv = this.h.levels[l];
    const th = this.theta;
    const last = this.h.levels.length - 1;
    if (l === last) {
      choleskySolve(this.chol, lv.size, this.B[l], this.X[l]);
      return;
    }
    const outer = lv.strides.slice(0, -1);
    const smooth = (c: number): void => {
      this.k.smooth([this.B[l], this.X[l], lv.d, lv.m, ...lv.w, this.T[l]], [], [th, c, ...outer, lv.size], 0, lv.size);
      [this.X[l], this.T[l]] = [this.T[l], this.X[l]];
    };
    this.X[l].fill(0);
    for (let s = 0; s < this.o.sweeps; s++) {
      smooth(0);
      smooth(1);
    }
    const reps = coarseCorrections(this.o, l, this.h.levels.length, lv.size);
    for (let rep = 0; rep < reps; rep++) {
      this.k.resid([this.B[l], this.X[l], lv.d, ...lv.w, this.R[l]], [], [th, ...outer, lv.size], 0, lv.size);
      const cs = this.h.levels[l + 1].size;
      this.k.restrict([...(lv.cw as Float64Array[]), this.R[l], this.B[l + 1]], lv.ch as Int32Array[], [], 0, cs);
      this.cycle(l + 1);
      this.k.prolong([lv.pw as Float64Array, this.X[l + 1], this.X[l], this.T[l]], [lv.agg as Int32Array], [this.o.overCorrection], 0, lv.size);
      [this.X[l], this.T[l]] = [this.T[l], this.X[l]];
    }
    for (let s = 0; s < this.o.sweeps; s++) {
      smooth(1);
      smooth(0);
    }
  }
}

/**
 * What the device cycle needs of the gpu.js backend: kernels compiled with its settings
 * (pipeline, immutable, single precision), runs checked for the kernel class, and buffers freed.
 * V is a device value (a Float32Array on webasm and cpu modes), K a compiled kernel.
 */
export interface DeviceOps<V, K> {
  /** A kernel of `output` cells from gpu.js source, with these constants. */
  kernel(source: string, output: number, constants: Record<string, number>): K;
  run(k: K, ...args: (V | number | Float32Array)[]): Promise<V>;
  /** Frees a value no field holds (no-op for host arrays). */
  free(v: V): void;
  read(v: V): Promise<Float32Array>;
  destroy(k: K): void;
}

interface DeviceLevel<V, K> {
  size: number;
  /** Per cell [w0 … w(d−1), −S_ii, colour]. */
  S: V;
  /** Per cell [pw, agg] (not on the coarsest). */
  T?: V;
  /** Per coarse cell [ch0 … ch(2^d − 1), cw0 … cw(2^d − 1)] (not on the coarsest). */
  R?: V;
  /** Zeros: the cycle's starting iterate, never freed by it. */
  Z: V;
  smooth?: K;
  resid?: K;
  restrict?: K;
  prolong?: K;
  /** Uploads the coarsest level's solution (coarseSolve 'host'). */
  upload?: K;
  /** x = C⁻¹ b on the coarsest level, and the upload of C⁻¹ (coarseSolve 'device'). */
  inverse?: K;
  uploadInverse?: K;
}

/** The device V-/W-cycle, built on first use from the operator's hierarchy. */
export class DeviceMultigrid<V, K> {
  readonly name: string;
  private readonly o: DeviceMultigridOptions;
  private readonly ops: DeviceOps<V, K>;
  private readonly op: FvOperator;
  private h: RbHierarchy | null = null;
  private levels: DeviceLevel<V, K>[] = [];
  private readonly kernels: K[] = [];
  private theta = NaN;
  private chol: Float64Array<ArrayBufferLike> = new Float64Array(0);
  /** Kernel passes run (one per level kernel call), a deterministic measure of the cycle's work. */
  passes = 0;
  /** Coarsest-level solves (each one read-back and one upload with coarseSolve 'host'). */
  coarseSolves = 0;
  /** Values read back to the host by the cycles (coarseSolve 'host' only). */
  readBacks = 0;
  /** C⁻¹ of the coarsest level for the current θ (coarseSolve 'device'). */
  private inverse: V | null = null;

  constructor(ops: DeviceOps<V, K>, op: FvOperator, opts: Partial<DeviceMultigridOptions> = {}) {
    this.o = { ...DEFAULT_DEVICE_MULTIGRID, ...opts };
    if (!(this.o.sweeps >= 1)) throw new Error('device multigrid: sweeps must be at least 1');
    this.ops = ops;
    this.op = op;
    this.name = `multigrid (device, float32; ${cycleName(this.o)})`;
  }

  get levelCount(): number {
    return this.levels.length;
  }

  private async build(): Promise<void> {
    const h = buildHierarchy(this.op, this.o);
    this.h = h;
    const d = h.dim;
    const nc = 2 ** d;
    const KM = d + 2;
    const KR = 2 * nc;
    const upload = async (data: Float32Array): Promise<V> => {
      const k = this.ops.kernel('function (a) { return a[this.thread.x]; }', data.length, {});
      try {
        return await this.ops.run(k, data);
      } finally {
        this.ops.destroy(k);
      }
    };
    const keep = (k: K): K => {
      this.kernels.push(k);
      return k;
    };
    for (let l = 0; l < h.levels.length; l++) {
      const lv = h.levels[l];
      const S = new Float32Array(lv.size * KM);
      for (let i = 0; i < lv.size; i++) {
        for (let k = 0; k < d; k++) S[i * KM + k] = lv.w[k][i];
        S[i * KM + d] = lv.d[i];
        S[i * KM + d + 1] = lv.m[i];
      }
      const dl: DeviceLevel<V, K> = { size: lv.size, S: await upload(S), Z: await upload(new Float32Array(lv.size)) };
      const constants: Record<string, number> = { size: lv.size };
      for (let k = 0; k + 1 < d; k++) constants[`s${k}`] = lv.strides[k];
      const strides: Record<string, string> = {};
      for (let k = 0; k + 1 < d; k++) strides[`s${k}`] = `this.constants.s${k}`;
      const sArrays: Record<string, (i: string) => string> = {
        d: (i) => `S[(${i}) * ${KM} + ${d}]`,
        m: (i) => `S[(${i}) * ${KM} + ${d + 1}]`,
      };
      for (let k = 0; k < d; k++) sArrays[`w${k}`] = (i) => `S[(${i}) * ${KM} + ${k}]`;
      const field = (name: string) => (i: string): string => `${name}[${i}]`;
      if (l + 1 < h.levels.length) {
        const cs = h.levels[l + 1].size;
        const T = new Float32Array(lv.size * 2);
        const agg = lv.agg as Int32Array;
        const pw = lv.pw as Float64Array;
        for (let i = 0; i < lv.size; i++) {
          T[2 * i] = pw[i];
          T[2 * i + 1] = agg[i];
        }
        const R = new Float32Array(cs * KR);
        const ch = lv.ch as Int32Array[];
        const cw = lv.cw as Float64Array[];
        for (let I = 0; I < cs; I++) {
          for (let c = 0; c < nc; c++) {
            R[I * KR + c] = ch[c][I];
            R[I * KR + nc + c] = cw[c][I];
          }
        }
        dl.T = await upload(T);
        dl.R = await upload(R);
        const smoothB: Binding = { args: ['b', 'x', 'S', 'th', 'c'], arrays: { ...sArrays, b: field('b'), x: field('x') }, params: { ...strides, th: 'th', c: 'c' } };
        const residB: Binding = { args: ['b', 'x', 'S', 'th'], arrays: { ...sArrays, b: field('b'), x: field('x') }, params: { ...strides, th: 'th' } };
        const rArrays: Record<string, (i: string) => string> = { r: field('r') };
        for (let c = 0; c < nc; c++) {
          rArrays[`ch${c}`] = (i) => `R[(${i}) * ${KR} + ${c}]`;
          rArrays[`cw${c}`] = (i) => `R[(${i}) * ${KR} + ${nc + c}]`;
        }
        const restrictB: Binding = { args: ['r', 'R'], arrays: rArrays, params: {} };
        const prolongB: Binding = { args: ['x', 'T', 'xc', 'a'], arrays: { x: field('x'), xc: field('xc'), pw: (i) => `T[(${i}) * 2]`, agg: (i) => `T[(${i}) * 2 + 1]` }, params: { a: 'a' } };
        dl.smooth = keep(this.ops.kernel(gpuMap(redBlackSweep(d), smoothB), lv.size, constants));
        dl.resid = keep(this.ops.kernel(gpuMap(levelResidual(d), residB), lv.size, constants));
        dl.restrict = keep(this.ops.kernel(gpuMap(restrictGather(d), restrictB), cs, { size: cs }));
        dl.prolong = keep(this.ops.kernel(gpuMap(prolongCorrect, prolongB), lv.size, { size: lv.size }));
      } else if (this.o.coarseSolve === 'host') {
        dl.upload = keep(this.ops.kernel('function (a) { return a[this.thread.x]; }', lv.size, {}));
      } else {
        // A loop bounded by a constant (m ≤ coarsestSize), never cut by loopMaxIterations (docs/gpujs.md §1).
        const src = 'function (b, C) {\nconst i = this.thread.x;\nlet s = 0.0;\nfor (let j = 0; j < this.constants.m; j++) { s += C[i * this.constants.m + j] * b[j]; }\nreturn s;\n}';
        dl.inverse = keep(this.ops.kernel(src, lv.size, { m: lv.size }));
        dl.uploadInverse = keep(this.ops.kernel('function (a) { return a[this.thread.x]; }', lv.size * lv.size, {}));
      }
      this.levels.push(dl);
    }
  }

  /** z ≈ (I − θS)⁻¹ r: one cycle from zero; the returned value is the caller's to keep or free. */
  async apply(theta: number, r: V): Promise<V> {
    if (!this.h) await this.build();
    if (theta !== this.theta) {
      this.theta = theta;
      const h = this.h as RbHierarchy;
      this.chol = choleskyOf(h.coarsest, theta);
      if (this.o.coarseSolve === 'device') {
        // Columns of C⁻¹ by Cholesky solves against unit vectors, in float64; C⁻¹ is symmetric.
        const m = h.coarsest.size;
        const inv = new Float32Array(m * m);
        const e = new Float64Array(m);
        const col = new Float64Array(m);
        for (let j = 0; j < m; j++) {
          e.fill(0);
          e[j] = 1;
          choleskySolve(this.chol, m, e, col);
          for (let i = 0; i < m; i++) inv[i * m + j] = col[i];
        }
        const last = this.levels[this.levels.length - 1];
        if (this.inverse !== null) this.ops.free(this.inverse);
        this.inverse = await this.ops.run(last.uploadInverse as K, inv);
      }
    }
    return this.cycle(0, r);
  }

  private async cycle(l: number, b: V): Promise<V> {
    const lv = this.levels[l];
    const ops = this.ops;
    const th = this.theta;
    if (l === this.levels.length - 1) {
      this.coarseSolves++;
      this.passes++;
      if (this.o.coarseSolve === 'device') return ops.run(lv.inverse as K, b, this.inverse as V);
      const b64 = Float64Array.from(await ops.read(b));
      this.readBacks++;
      const x64 = new Float64Array(lv.size);
      choleskySolve(this.chol, lv.size, b64, x64);
      return ops.run(lv.upload as K, Float32Array.from(x64));
    }
    let x = lv.Z;
    const set = (v: V): void => {
      if (x !== lv.Z && x !== v) ops.free(x);
      x = v;
    };
    const smooth = async (c: number): Promise<void> => {
      set(await ops.run(lv.smooth as K, b, x, lv.S, th, c));
      this.passes++;
    };
    for (let s = 0; s < this.o.sweeps; s++) {
      await smooth(0);
      await smooth(1);
    }
    const reps = coarseCorrections(this.o, l, this.levels.length, lv.size);
    for (let rep = 0; rep < reps; rep++) {
      const r = await ops.run(lv.resid as K, b, x, lv.S, th);
      const bc = await ops.run(lv.restrict as K, r, lv.R as V);
      ops.free(r);
      const xc = await this.cycle(l + 1, bc);
      ops.free(bc);
      set(await ops.run(lv.prolong as K, x, lv.T as V, xc, this.o.overCorrection));
      ops.free(xc);
      this.passes += 3;
    }
    for (let s = 0; s < this.o.sweeps; s++) {
      await smooth(1);
      await smooth(0);
    }
    return x;
  }

  dispose(): void {
    for (const lv of this.levels) for (const v of [lv.S, lv.T, lv.R, lv.Z]) if (v !== undefined) this.ops.free(v);
    if (this.inverse !== null) this.ops.free(this.inverse);
    this.inverse = null;
    for (const k of this.kernels) this.ops.destroy(k);
    this.levels = [];
    this.kernels.length = 0;
  }
}
