import { cpus } from 'node:os';
import type { FvOperator } from '../operator.js';
import { TridiagonalSolver, type Preconditioner } from '../linear.js';
import { ConditionedPreconditioner } from '../preconditioner.js';
import { MultigridPreconditioner } from '../multigrid.js';
import { max, min } from '../vec.js';
import { RANGE_KERNELS, type RangeKernelName } from '../range-kernels.js';
import { sharedFloat64 } from '../shared-memory.js';
import { applyArrays, strideParams } from '../kernels/operator-kernels.js';
import { ArenaLease, arenaLimitMiB, inArena, wasmKernelsEnabled } from '../exec/arena.js';
import { defaultThreads, KERNEL_BLOCKS, splitRanges, ThreadTeam } from '../exec/team.js';
import { addCombinationRange, DOT_SLOTS, dotsInto } from '../basis-kernels.js';
import { teamCombine, teamDots } from '../basis-dispatch.js';
import type { Backend, BackendInfo, DirectShiftedSolver, Field, Rkl2StageCoefficients } from './types.js';

/**
 * Grids (2-D, 3-D) from this many cells up run the CPU kernels in KERNEL_BLOCKS blocks, on all
 * cores: at 512² a 2-D stencil pass takes ~2 ms, against ~20 µs to dispatch it to a thread
 * (bench/results.md). The partition depends on the grid only, so that results do not depend on
 * how many threads run it (docs/reliability.md, "Reproducibility").
 */
/** os.cpus() reads /proc/cpuinfo (about a millisecond): once per process, not once per run of a sweep's worker. */
let cpuModelName: string | undefined;
function cpuModel(): string {
  return (cpuModelName ??= cpus()[0]?.model ?? 'unknown');
}

export const THREADED_MIN_CELLS = 512 * 512;
/** Cells per chunk of the unthreaded multi-vector passes: x's chunk stays in cache across its four-vector groups. */
const BASIS_CHUNK = 4096;

export interface CpuBackendOptions {
  /** Kernel threads (at most the blocks); default: all cores (FPSOLVE_THREADS overrides) when the grid is partitioned. */
  threads?: number;
  /**
   * Blocks the kernels are split into; default KERNEL_BLOCKS for 2-D/3-D grids of
   * THREADED_MIN_CELLS cells and more, else 1 (no team: plain loops).
   */
  blocks?: number;
}

const OWNER = Symbol('cpu64');

/**
 * Why the kernels run as JavaScript when they do: the grid's arrays did not fit the WebAssembly
 * arena (wasm32 stops at 4 GiB; FPSOLVE_ARENA_MAX_MIB lowers it), or WebAssembly kernels are off.
 * Same results either way, 2.5–3× slower (docs/performance.md), so the report says so.
 */
function arenaNotes(op: FvOperator, arrays: readonly Float64Array[]): string[] {
  if (process.env.FPSOLVE_WASM === '0') return ['WebAssembly kernels are off (FPSOLVE_WASM=0): the kernels ran as JavaScript (same results, slower).'];
  if (!wasmKernelsEnabled()) return ['WebAssembly threads are unavailable in this runtime: the kernels ran as JavaScript (same results, slower).'];
  if (!arrays.every(inArena)) {
    const mib = Math.ceil((op.grid.size * 8 * (4 * op.grid.dim + 6)) / 2 ** 20);
    return [`the grid's arrays (about ${mib} MiB) did not fit the WebAssembly arena (at most ${arenaLimitMiB()} MiB): the kernels ran as JavaScript (same results, slower).`];
  }
  return [];
}

interface CpuField extends Field {
  readonly data: Float64Array;
}

/** Whether the float64 CPU backend solves (I − θA) x = b directly on this grid (1-D: Thomas) instead of by CG. */
export function hasDirectShiftedSolve(op: FvOperator): boolean {
  return op.grid.dim === 1;
}

/**
 * The float64 reference backend: the operator's own stencils plus plain loops. Each primitive
 * evaluates the same expressions in the same order as the plain synchronous loops of
 * test/helpers/reference-*.ts (what fpsolve shipped before the integrators were written against
 * the Backend), so the generic integrators reproduce them to the last bit (tested).
 *
 * The CG preconditioner is a host Preconditioner applied in place on the fields' Float64Arrays;
 * by default the Jacobi/multigrid switch (preconditioner.ts), built on first use so that explicit
 * and RKL2 runs never allocate it. In 1-D the implicit steps skip CG: the backend offers the
 * direct tridiagonal solve.
 */
export class CpuBackend implements Backend {
  readonly info: BackendInfo;
  readonly size: number;
  readonly directShiftedSolver?: DirectShiftedSolver;
  private readonly op: FvOperator;
  private pre: Preconditioner | undefined;
  /** Kernel threads (null: this thread only). */
  private readonly team: ThreadTeam | null;
  /** The arena blocks of this backend's fields, returned on dispose(). */
  private readonly lease = new ArenaLease();
  private disposed = false;
  /** The generated stencils for this grid's dimension, chosen once. */
  private readonly applyName: RangeKernelName;
  private readonly shiftedName: RangeKernelName;
  private readonly rkl2Name: RangeKernelName;
  private readonly eulerName: RangeKernelName;
  /** dots()'s per-block partial sums (DOT_SLOTS a block), shared with the team's threads. */
  private partial: Float64Array | undefined;
  private blockEdges: number[] | undefined;
  /** dots()'s sums without a team (an arena array: the WebAssembly path writes them). */
  private sums: Float64Array | undefined;

  /** `preconditioner` defaults to the Jacobi/multigrid switch by conditioning. */
  constructor(op: FvOperator, preconditioner?: Preconditioner, opts: CpuBackendOptions = {}) {
    this.op = op;
    this.size = op.grid.size;
    this.applyName = `apply${op.grid.dim}`;
    this.shiftedName = `shifted${op.grid.dim}`;
    this.rkl2Name = `rkl2Stage${op.grid.dim}`;
    this.eulerName = `eulerStep${op.grid.dim}`;
    const blocks = opts.blocks ?? (this.size >= THREADED_MIN_CELLS && op.grid.dim > 1 ? KERNEL_BLOCKS : 1);
    this.team = blocks > 1 ? ThreadTeam.create(opts.threads ?? defaultThreads(), blocks) : null;
    this.pre = preconditioner;
    this.pre?.useTeam?.(this.team);
    if (hasDirectShiftedSolve(op)) this.directShiftedSolver = this.thomas();
    this.info = {
      name: 'cpu',
      executor: this.team ? `Float64Array loops in ${this.team.blocks} blocks, ${this.team.threads} thread${this.team.threads > 1 ? 's' : ''}` : 'Float64Array loops',
      device: `CPU (${cpuModel()}, Node.js ${process.version}${this.team && this.team.threads > 1 ? `, ${this.team.threads} kernel threads` : ''})`,
      precision: 'float64',
    };
    // Only when there is something to say, so that reports of ordinary runs do not change.
    const notes = arenaNotes(op, [...op.fwd, ...op.bwd, ...op.sym, op.outflow, op.sqrtPi]);
    if (notes.length) this.info.notes = notes;
  }

  /** The 1-D direct solve; its two work arrays are allocated on the first solve. */
  private thomas(): DirectShiftedSolver {
    let solver: TridiagonalSolver | undefined;
    return {
      name: 'tridiagonal (Thomas)',
      solve: async (theta, b, x) => {
        solver ??= new TridiagonalSolver(this.op);
        solver.solve(theta, this.d(b), this.d(x));
      },
    };
  }

  private preconditioner(): Preconditioner {
    if (!this.pre) {
      this.pre = new ConditionedPreconditioner(this.op);
      this.pre.useTeam?.(this.team);
    }
    return this.pre;
  }

  get preconditionerName(): string {
    return this.preconditioner().name;
  }

  private d(f: Field): Float64Array {
    if (f.owner !== OWNER) throw new Error('field belongs to another backend');
    // Its memory may already hold another run's arrays.
    if (this.disposed) throw new Error('CpuBackend: used after dispose()');
    return (f as CpuField).data;
  }

  field(): Field {
    const f: CpuField = { owner: OWNER, data: sharedFloat64(this.size, this.lease) };
    // The fields come after the operator: when the arena fills only here, the report must still say
    // that kernels touching this field ran as JavaScript.
    if (!this.info.notes?.length && !inArena(f.data)) {
      const notes = arenaNotes(this.op, [f.data]);
      if (notes.length) this.info.notes = notes;
    }
    return f;
  }
  async upload(f: Field, data: Float64Array): Promise<void> {
    this.d(f).set(data);
  }
  async download(f: Field, out: Float64Array): Promise<void> {
    out.set(this.d(f));
  }
  async copy(src: Field, dst: Field): Promise<void> {
    this.d(dst).set(this.d(src));
  }
  /** Threads running kernels now: 1 until the team's workers have started. */
  get runningThreads(): number {
    return this.team?.ready() ? this.team.threads : 1;
  }

  /** One kernel over all cells: split across the team when there is one. */
  private par(name: RangeKernelName, arrays: readonly Float64Array[], params: readonly number[] = []): number {
    return this.team ? this.team.run(name, arrays, [], params, this.size) : RANGE_KERNELS[name](arrays, [], params, 0, this.size);
  }

  /** out = A x: the operator's generated stencil, split across the team when there is one. */
  private applyTo(x: Float64Array, out: Float64Array): void {
    this.par(this.applyName, applyArrays(this.op, x, out), strideParams(this.op));
  }

  async apply(x: Field, out: Field): Promise<void> {
    this.applyTo(this.d(x), this.d(out));
  }
  async eulerStep(dt: number, x: Field, out: Field): Promise<void> {
    // One pass with the apply inside: x + dt·(A x) per cell, the same bits as apply then 1·x + dt·k.
    this.par(this.eulerName, applyArrays(this.op, this.d(x), this.d(out)), [dt, ...strideParams(this.op)]);
  }
  async rkl2Stage(c: Rkl2StageCoefficients, y1: Field, y2: Field, y0: Field, l0: Field, out: Field): Promise<void> {
    // One pass with the apply of y1 inside: its value per cell is exactly A y1's, so the same bits.
    const { mu, nu, a, g } = c;
    const coef = applyArrays(this.op, this.d(y1), this.d(out)).slice(0, -2);
    this.par(this.rkl2Name, [...coef, this.d(y1), this.d(y2), this.d(y0), this.d(l0), this.d(out)], [mu, nu, 1 - mu - nu, a, g, ...strideParams(this.op)]);
  }
  async lincomb(a: number, x: Field, b: number, y: Field, out: Field): Promise<void> {
    this.par('lincomb', [this.d(x), this.d(y), this.d(out)], [a, b]);
  }
  async lincomb4(a: number, x: Field, b: number, y: Field, c: number, z: Field, d: number, w: Field, out: Field): Promise<void> {
    this.par('lincomb4', [this.d(x), this.d(y), this.d(z), this.d(w), this.d(out)], [a, b, c, d]);
  }
  async lincombDot(a: number, x: Field, b: number, y: Field, out: Field, z: Field): Promise<number> {
    return this.par('lincombDot', [this.d(x), this.d(y), this.d(z), this.d(out)], [a, b]);
  }
  async scale(a: number, x: Field): Promise<void> {
    this.par('scale', [this.d(x)], [a]);
  }
  async shifted(theta: number, v: Field, out: Field): Promise<void> {
    this.par(this.shiftedName, [...this.op.sym, this.op.outflow, this.d(v), this.d(out)], [theta, ...strideParams(this.op)]);
  }
  async shiftedDot(theta: number, v: Field, out: Field): Promise<number> {
    // 1-D grids run CG only in tests (they solve directly): the fused kernel is 2-D/3-D.
    if (this.op.grid.dim === 1) {
      await this.shifted(theta, v, out);
      return this.dot(v, out);
    }
    return this.par(`shiftedDot${this.op.grid.dim}`, [...this.op.sym, this.op.outflow, this.d(v), this.d(out)], [theta, ...strideParams(this.op)]);
  }
  async zero(x: Field): Promise<void> {
    this.d(x).fill(0);
  }
  async cgUpdate(alpha: number, p: Field, q: Field, y: Field, r: Field): Promise<number> {
    // ‖r‖² accumulates in index order (per thread's range), as dot(r, r) after the update would.
    return this.par('cgUpdate', [this.d(p), this.d(q), this.d(y), this.d(r)], [alpha]);
  }
  async precondition(theta: number, r: Field, out: Field): Promise<void> {
    // setup() returns at once while θ is unchanged (every iteration of one solve).
    const pre = this.preconditioner();
    pre.setup(theta);
    pre.apply(this.d(r), this.d(out));
  }
  async toSymmetric(x: Field, out: Field): Promise<void> {
    this.par('divide', [this.d(x), this.op.sqrtPi, this.d(out)]);
  }
  async fromSymmetric(y: Field, out: Field): Promise<void> {
    this.par('multiply', [this.d(y), this.op.sqrtPi, this.d(out)]);
  }
  async dot(x: Field, y: Field): Promise<number> {
    return this.par('dot', [this.d(x), this.d(y)]);
  }
  /**
   * c_l = ⟨x, q_l⟩ for every l: one pass over x per DOTS_PER_DISPATCH vectors, where a dot per
   * vector reads x once each (the exponential integrator's classical Gram–Schmidt, block form).
   * Bits: with a team, each block sums in index order and the blocks add in order (the blocks are
   * fixed whatever the thread count); without one, each c_l in index order (chunked for the cache:
   * dotsInto carries c_l across chunks, so the chunks do not change the bits).
   */
  async dots(x: Field, qs: readonly Field[], c: Float64Array): Promise<void> {
    const xd = this.d(x);
    const Q = qs.map((q) => this.d(q));
    if (!this.team) {
      // The sums go through an arena array so that dotsInto can run WebAssembly (basisDots4).
      const m = Q.length;
      if (!this.sums || this.sums.length < m) this.sums = sharedFloat64(m + 8, this.lease);
      const s = this.sums;
      s.fill(0, 0, m);
      for (let lo = 0; lo < this.size; lo += BASIS_CHUNK) dotsInto(xd, Q, s, 0, lo, Math.min(this.size, lo + BASIS_CHUNK));
      c.set(s.subarray(0, m));
      return;
    }
    const p = (this.partial ??= sharedFloat64(this.team.blocks * DOT_SLOTS, this.lease));
    const edges = (this.blockEdges ??= splitRanges(this.size, 1, this.team.blocks));
    teamDots(this.team, p, edges, xd, Q, c, false);
  }
  /** x −= Σ c_l q_l, four vectors a pass (addCombinationRange's grouping: the same bits with or without a team). */
  async subtractCombination(x: Field, qs: readonly Field[], c: ArrayLike<number>): Promise<void> {
    const xd = this.d(x);
    const Q = qs.map((q) => this.d(q));
    if (!this.team) {
      for (let lo = 0; lo < this.size; lo += BASIS_CHUNK) addCombinationRange(xd, Q, c, -1, lo, Math.min(this.size, lo + BASIS_CHUNK));
      return;
    }
    teamCombine(this.team, xd, Q, c, -1);
  }
  async sum(x: Field): Promise<number> {
    return this.par('sum', [this.d(x)]);
  }
  async norm1(x: Field): Promise<number> {
    return this.par('norm1', [this.d(x)]);
  }
  async min(x: Field): Promise<number> {
    return min(this.d(x));
  }
  async max(x: Field): Promise<number> {
    return max(this.d(x));
  }
  /**
   * The multigrid hierarchy the implicit steps built (null when they built none), handed over to
   * the caller, who disposes it: the run's spectral gap reuses it (src/estimators/gap-reuse.ts).
   * The backend's solves must be over: it no longer has that preconditioner.
   */
  releaseMultigrid(): MultigridPreconditioner | null {
    const p = this.pre;
    if (p instanceof ConditionedPreconditioner) return p.releaseMultigrid();
    if (p instanceof MultigridPreconditioner) {
      this.pre = undefined;
      return p;
    }
    return null;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.team?.close();
    // The preconditioner is this backend's (it runs on its threads): its levels go back too.
    this.pre?.dispose?.();
    this.lease.release();
  }
}
