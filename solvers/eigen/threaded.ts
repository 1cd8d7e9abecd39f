/**
 * The eigen-solve's share of the kernel threads (solvers/exec/team.ts), as the time stepping uses
 * them (solvers/backend/cpu.ts): the multigrid V-cycle's fine-level passes and the −S apply of
 * every CG iteration run on the team; dot products and vector updates stay on this thread in index
 * order (their bits are those of the unthreaded solve).
 *
 * Bits: the team splits every kernel into KERNEL_BLOCKS fixed blocks whatever its thread count, so a
 * team of 1 thread and one of 2 give the same bits. The apply (solvers/dirichlet-kernels.ts) has
 * the bits of DirichletForm.apply for any split; the multigrid's block-hybrid Gauss–Seidel differs
 * from its sequential sweep in the last bits, so grids that get a team (≥ EIGEN_THREADED_MIN_CELLS,
 * d ≥ 2) are not bit-identical to an unthreaded solve (same values to their printed bounds).
 */
import { ArenaLease, sharedFloat64 } from '../shared-memory.js';
import { defaultThreads, KERNEL_BLOCKS, splitRanges, ThreadTeam } from '../exec/team.js';
import { DOT_SLOTS } from '../basis-kernels.js';
import { teamCombine, teamDots } from '../basis-dispatch.js';
import type { DirichletForm } from '../dirichlet-form.js';
// Registers the kernel table (with dirichletApply) that teams and their workers run.
import '../range-kernels.js';

/**
 * Grids this large get a team by default: the same threshold as the time stepping's
 * (solvers/backend/cpu.ts THREADED_MIN_CELLS); a kernel dispatch costs ~20 µs, a 512² pass ~1 ms.
 */
export const EIGEN_THREADED_MIN_CELLS = 512 * 512;

export class EigenTeam {
  readonly team: ThreadTeam;
  private readonly lease = new ArenaLease();
  private readonly faces: Float64Array[];
  private readonly params: number[];
  private readonly size: number;
  private readonly arrays = new Set<Float64Array>();
  /** Per-block partial sums of eigenDots. */
  private readonly partial: Float64Array;
  /** The team's block edges per kernel size (cells or faces): eigenDots finds its block by them. */
  private readonly edges = new Map<number, number[]>();

  /** A: the form whose −S the team applies (its √fwd, √bwd arrays are read in place). */
  constructor(A: DirichletForm, threads: number) {
    this.team = ThreadTeam.create(threads, KERNEL_BLOCKS);
    const g = A.op.grid;
    this.size = g.size;
    this.faces = A.faceRoots();
    this.params = [g.size, g.dim, ...g.strides];
    this.partial = sharedFloat64(this.team.blocks * DOT_SLOTS, this.lease);
  }

  /** A grid-sized array (`length` cells or faces) in shared memory, uninitialized contents. */
  array(length: number): Float64Array {
    const v = sharedFloat64(length, this.lease);
    this.arrays.add(v);
    return v;
  }

  /** Whether every array came from vector() or array() (only those reach the threads). */
  ownsAll(vs: readonly Float64Array[]): boolean {
    for (const v of vs) if (!this.arrays.has(v)) return false;
    return true;
  }

  private edgesOf(size: number): number[] {
    let e = this.edges.get(size);
    if (!e) this.edges.set(size, (e = splitRanges(size, 1, this.team.blocks)));
    return e;
  }

  /**
   * c_l ← ⟨x, q_l⟩ for every l (each a sum per block, the blocks added in order); returns ‖x‖²
   * (summed the same way). All arrays owned (ownsAll), of one length.
   */
  dots(x: Float64Array, qs: readonly Float64Array[], c: Float64Array, norm = true): number {
    return teamDots(this.team, this.partial, this.edgesOf(x.length), x, qs, c, norm);
  }

  /** out += sign·Σ c_l q_l with the bits of the sequential addCombination (owned arrays). */
  addCombination(out: Float64Array, qs: readonly Float64Array[], c: ArrayLike<number>, sign: 1 | -1): void {
    teamCombine(this.team, out, qs, c, sign);
  }

  /** A zeroed grid vector in shared memory (the team's kernels work on it in place). */
  vector(): Float64Array {
    const v = sharedFloat64(this.size, this.lease);
    v.fill(0);
    this.arrays.add(v);
    return v;
  }

  /** Whether v came from vector() (only those reach the threads). */
  owns(v: Float64Array): boolean {
    return this.arrays.has(v);
  }

  /** y = G v on the team (the bits of DirichletForm.grad; v, y its own, y of faceCount entries). */
  grad(v: Float64Array, y: Float64Array): void {
    this.team.run('eigenGrad', [v, y, ...this.faces], [], this.params, y.length);
  }

  /** out = −S v on the team (v, out from vector()). */
  apply(v: Float64Array, out: Float64Array): void {
    this.team.run('dirichletApply', [v, out, ...this.faces], [], this.params, this.size);
  }

  close(): void {
    this.team.close();
    this.lease.release();
  }
}

/** The team an eigen-solve of A's operator uses: `threads` (0: none) or by default all cores on grids of EIGEN_THREADED_MIN_CELLS and more in 2-D/3-D. */
export function eigenTeamFor(A: DirichletForm, threads?: number): EigenTeam | null {
  const g = A.op.grid;
  const t = threads ?? (g.dim >= 2 && g.size >= EIGEN_THREADED_MIN_CELLS ? defaultThreads() : 0);
  return t >= 1 ? new EigenTeam(A, t) : null;
}
