/**
 * Grid-sized arrays in one shared WebAssembly memory, so that the WebAssembly kernels
 * (solvers/kernels/wasm-module.ts provides the module) and the kernel threads
 * (solvers/exec/team.ts) work on them in place. Execution only: nothing here knows a stencil.
 *
 * Blocks are handed out first-fit from a free list and returned when their owner's ArenaLease is
 * released (dispose() of the problem, operator, preconditioner or backend), or, for arrays no
 * lease holds, when they are garbage collected (FinalizationRegistry): the memory never shrinks,
 * but a process that builds many problems (a test run, an in-process sweep) reuses it. When the memory cannot grow (wasm32
 * addresses stop at 4 GiB) or WebAssembly is unavailable or disabled (FPSOLVE_WASM=0), arrays
 * come from plain SharedArrayBuffers and the kernels run their JavaScript loops: same results.
 */

/** The instantiated kernel module's exports (typed where they are used: solvers/kernels/wasm-module.ts). */
export type WasmExports = Record<string, (...args: number[]) => number>;

/** What the arena instantiates on its memory: module bytes importing env.mem and `imports`. */
export interface KernelModuleSource {
  bytes: () => Uint8Array;
  imports: Record<string, (v: number) => number>;
}

let source: KernelModuleSource | null = null;
let compiled: WebAssembly.Module | null = null;

/** Called once by the module that generates the kernels, before any arena array exists. */
export function provideKernelModule(s: KernelModuleSource): void {
  source = s;
  compiled = null;
}

function instantiate(memory: WebAssembly.Memory): WasmExports | null {
  if (!source) return null;
  compiled ??= new WebAssembly.Module(source.bytes());
  return new WebAssembly.Instance(compiled, { env: { mem: memory, ...source.imports } }).exports as unknown as WasmExports;
}

const PAGE = 65536;
/** wasm32: 65536 pages of 64 KiB = 4 GiB of addresses. */
export const MAX_PAGES = 65536;
const ALIGN = 64;

/**
 * Pages the arena may grow to: MAX_PAGES, or FPSOLVE_ARENA_MAX_MIB (for tests of the fallback,
 * and for machines where reserving 4 GiB of address space is not wanted).
 */
function maxPages(): number {
  const mib = Number(process.env.FPSOLVE_ARENA_MAX_MIB);
  return Number.isFinite(mib) && mib > 0 ? Math.max(1, Math.min(MAX_PAGES, Math.floor(mib * 16))) : MAX_PAGES;
}

/** The arena's largest size in MiB (4096 unless FPSOLVE_ARENA_MAX_MIB lowers it). */
export function arenaLimitMiB(): number {
  return maxPages() / 16;
}

interface Block {
  at: number;
  size: number;
}

export interface ArenaStats {
  /** Bytes of the memory. */
  capacity: number;
  /** Bytes in live blocks. */
  used: number;
  blocks: number;
}

class Arena {
  readonly memory: WebAssembly.Memory;
  readonly kernels: WasmExports | null;
  private readonly maxPages: number;
  /** Free blocks, sorted by address, coalesced. */
  private free: Block[] = [];
  private used = 0;
  private live = 0;
  /** Bytes below this address have been handed out before; above it the memory is still zero. */
  private highWater = 0;
  private readonly registry = new FinalizationRegistry<Block>((b) => this.release(b));

  constructor() {
    this.maxPages = maxPages();
    this.memory = new WebAssembly.Memory({ initial: Math.min(16, this.maxPages), maximum: this.maxPages, shared: true });
    this.kernels = instantiate(this.memory);
    // Address 0 stays unused, so that a zero address is never a live array.
    this.free.push({ at: ALIGN, size: this.memory.buffer.byteLength - ALIGN });
  }

  /** A block of `bytes`, or null when the memory cannot grow to hold it. */
  private take(bytes: number): Block | null {
    const size = Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
    let k = this.free.findIndex((b) => b.size >= size);
    if (k < 0) {
      if (!this.grow(size)) return null;
      k = this.free.findIndex((b) => b.size >= size);
      if (k < 0) return null;
    }
    const b = this.free[k];
    const out = { at: b.at, size };
    if (b.size === size) this.free.splice(k, 1);
    else this.free[k] = { at: b.at + size, size: b.size - size };
    this.used += size;
    this.live++;
    return out;
  }

  /** Zeroes the part of a block that an earlier array may have written (fresh memory is zero). */
  private clean(b: Block, view: Float64Array | Int32Array): void {
    const dirty = Math.min(b.at + b.size, this.highWater) - b.at;
    if (dirty > 0) view.fill(0, 0, Math.min(view.length, Math.ceil(dirty / view.BYTES_PER_ELEMENT)));
    this.highWater = Math.max(this.highWater, b.at + b.size);
  }

  private grow(size: number): boolean {
    const have = this.memory.buffer.byteLength;
    const pages = have / PAGE;
    // At least the request beyond the last free block, and at least a quarter more, so that a
    // sequence of allocations grows the memory a few times rather than once per array.
    const last = this.free[this.free.length - 1];
    const tailFree = last && last.at + last.size === have ? last.size : 0;
    const need = Math.ceil((size - tailFree) / PAGE);
    const want = Math.min(this.maxPages - pages, Math.max(need, Math.ceil(pages / 4)));
    if (want < need || want <= 0) return false;
    try {
      this.memory.grow(want);
    } catch {
      return false;
    }
    this.insertFree({ at: have, size: want * PAGE });
    return true;
  }

  private insertFree(b: Block): void {
    const f = this.free;
    let k = 0;
    while (k < f.length && f[k].at < b.at) k++;
    f.splice(k, 0, b);
    // coalesce with the next, then the previous
    if (k + 1 < f.length && b.at + b.size === f[k + 1].at) {
      b.size += f[k + 1].size;
      f.splice(k + 1, 1);
    }
    if (k > 0 && f[k - 1].at + f[k - 1].size === b.at) {
      f[k - 1].size += b.size;
      f.splice(k, 1);
    }
  }

  /** Returns an array's block now (its owner promises not to touch the array again). */
  releaseView(a: Float64Array | Int32Array, b: Block): void {
    if (!this.registry.unregister(b)) return; // already returned
    views.delete(a);
    blocks.delete(a);
    claimed.delete(a);
    this.release(b);
  }

  release(b: Block): void {
    this.used -= b.size;
    this.live--;
    this.insertFree({ at: b.at, size: b.size });
  }

  /** A zeroed array of n elements in a fresh block, or null when the memory cannot hold it. */
  view<A extends Float64Array | Int32Array>(kind: { new (buffer: ArrayBufferLike, at: number, n: number): A; readonly BYTES_PER_ELEMENT: number }, n: number, lease?: ArenaLease): A | null {
    const b = this.take(kind.BYTES_PER_ELEMENT * n);
    if (!b) return null;
    const a = new kind(this.memory.buffer, b.at, n);
    buffers.add(a.buffer);
    this.clean(b, a);
    this.registry.register(a, b, b);
    views.add(a);
    blocks.set(a, b);
    lease?.held.push({ a, b });
    if (lease) claimed.add(a);
    return a;
  }

  stats(): ArenaStats {
    return { capacity: this.memory.buffer.byteLength, used: this.used, blocks: this.live };
  }
}

/** Arrays of this thread that lie in the arena's memory (their byteOffset is their address). */
const views = new WeakSet<Float64Array | Int32Array>();
/** The block of each array the arena handed out in this thread, for a lease that adopts it. */
const blocks = new WeakMap<Float64Array | Int32Array, Block>();
/** Arrays some lease owns: a second lease must not adopt them (two releases of one block). */
const claimed = new WeakSet<Float64Array | Int32Array>();
/** The arena memory's buffer objects seen in this thread (one per size it had), for subarrays. */
const buffers = new WeakSet<ArrayBufferLike>();

let arena: Arena | null | undefined;
/** In a kernel thread: the kernels on the arena memory the team passed. */
let threadKernels: WasmExports | null = null;
let enabled = process.env.FPSOLVE_WASM !== '0';

function theArena(): Arena | null {
  if (arena === undefined) {
    try {
      arena = new Arena();
    } catch {
      arena = null; // no WebAssembly threads (shared memory) in this runtime
    }
  }
  return arena;
}

/**
 * Arrays one owner of a run holds (a problem's ψ and face D, an operator's coefficients, a
 * preconditioner's levels, a backend's fields): returned to the arena when the owner is disposed,
 * not whenever the garbage collector gets to them, so that back-to-back runs in one process (a
 * sweep, a test file) reuse the memory instead of growing it. Arrays no lease holds still go back
 * through the garbage collector.
 */
export class ArenaLease {
  /** @internal */
  readonly held: { a: Float64Array | Int32Array; b: Block }[] = [];

  /**
   * Takes ownership of arrays built elsewhere (by code that does not know the run, such as
   * quadrature). Arrays outside the arena, and arrays another lease holds, are left alone: the
   * fine multigrid level shares the operator's coefficients, which the operator's lease returns.
   */
  adopt(...arrays: readonly (Float64Array | Int32Array)[]): void {
    for (const a of arrays) {
      const b = blocks.get(a);
      if (!b || claimed.has(a)) continue;
      claimed.add(a);
      this.held.push({ a, b });
    }
  }

  /** Bytes of arena memory this lease holds. */
  get bytes(): number {
    let n = 0;
    for (const { b } of this.held) n += b.size;
    return n;
  }

  /** Returns every array of the lease to the arena; none of them may be used afterwards. */
  release(): void {
    for (const { a, b } of this.held.splice(0)) arena?.releaseView(a, b);
  }
}

/** A zeroed grid array, in the arena when it can hold it (owned by `lease` when given). */
export function arenaFloat64(n: number, lease?: ArenaLease): Float64Array | null {
  return theArena()?.view(Float64Array, n, lease) ?? null;
}

export function arenaInt32(n: number, lease?: ArenaLease): Int32Array | null {
  return theArena()?.view(Int32Array, n, lease) ?? null;
}

/** The arena's memory (for kernel threads, which may be started before any array exists), if there is one. */
export function arenaMemory(): WebAssembly.Memory | null {
  return theArena()?.memory ?? null;
}

export function arenaStats(): ArenaStats | null {
  return arena ? arena.stats() : null;
}

/**
 * The WebAssembly kernels when every array is in this thread's arena view and they are enabled;
 * else null (the caller runs its JavaScript loop).
 */
export function wasmFor(...arrays: (Float64Array | Int32Array)[]): WasmExports | null {
  const k = threadKernels ?? arena?.kernels;
  if (!enabled || !k) return null;
  for (const a of arrays) if (!views.has(a)) return null;
  return k;
}

/** Turns the WebAssembly kernels off or on (benchmarks compare both in one process). */
export function setWasmKernels(on: boolean): void {
  enabled = on && process.env.FPSOLVE_WASM !== '0';
}

export function wasmKernelsEnabled(): boolean {
  return enabled && (threadKernels ?? theArena()?.kernels ?? null) !== null;
}

/** In a kernel thread: attach to the team's arena memory. */
export function attachThreadArena(memory: WebAssembly.Memory): void {
  threadKernels = instantiate(memory);
  threadMemory = memory;
}

let threadMemory: WebAssembly.Memory | null = null;

/** In a kernel thread: a view of an arena array the team registered (address, length). */
export function threadArenaView(kind: 'f64' | 'i32', at: number, length: number): Float64Array | Int32Array {
  if (!threadMemory) throw new Error('kernel thread: no arena memory attached');
  const a = kind === 'f64' ? new Float64Array(threadMemory.buffer, at, length) : new Int32Array(threadMemory.buffer, at, length);
  views.add(a);
  return a;
}

/** Whether an array lies in the arena (its byteOffset is then its address). */
export function inArena(a: Float64Array | Int32Array): boolean {
  return views.has(a);
}

/** The arena address of an array or of a subarray of one, or null when it lies elsewhere. */
export function arenaAddress(a: Float64Array): number | null {
  return views.has(a) || buffers.has(a.buffer) ? a.byteOffset : null;
}
