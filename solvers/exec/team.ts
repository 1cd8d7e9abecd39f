import { arenaMemory, inArena } from './arena.js';
import { availableParallelism } from 'node:os';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InfrastructureFailure } from '../base/failures.js';
import { testFault } from '../base/fault-injection.js';

/**
 * Kernel threads for the float64 CPU backend: the calling thread and `threads − 1` workers each
 * run one range of a kernel of the kernel table (solvers/range-kernels.ts registers it with
 * useKernelTable; this module knows no kernel) on arrays in shared memory, then the
 * caller adds the partial results. Dispatch is a generation counter in a shared Int32Array
 * (Atomics.wait/notify), ~20 µs per kernel: worth it only for grids of ~512² cells and more,
 * where a kernel takes milliseconds.
 *
 * Every kernel is split into the team's `blocks` ranges (KERNEL_BLOCKS unless asked otherwise),
 * at multiples of `align` cells (twice the outermost stride for the multigrid restriction, so
 * that each range owns whole aggregates), however many threads there are: each thread runs a
 * contiguous group of whole blocks, one kernel call per block, and the caller adds the blocks'
 * partial results in block order. So reductions (dot products) round the same way, and the
 * block-hybrid smoother has the same blocks, for 1, 2 or 8 threads: results do not depend on the
 * thread count (a sweep's --jobs, FPSOLVE_THREADS, the machine's cores), only on the partition.
 * A team of one thread runs the blocks in turn on the calling thread.
 */

/** Control block layout (Int32 slots). */
const GEN = 0;
const DONE = 1;
const KERNEL = 2;
const N_ARRAYS = 3;
const N_INTS = 4;
const N_PARAMS = 5;
const ARRAY_IDS = 8;
const MAX_ARRAYS = 16;
const INT_IDS = ARRAY_IDS + MAX_ARRAYS;
const MAX_INTS = 4;
const RANGES = INT_IDS + MAX_INTS;
const MAX_THREADS = 8;
/** One flag per worker, set once it is running its wait loop. */
const READY = RANGES + 2 * MAX_THREADS;
/** Set by a worker whose kernel threw (the kernel's range is then unfinished), or to LOST when a thread ended. */
const FAILED = READY + MAX_THREADS;
/** FAILED's value once a worker thread has ended (set by the thread on its way out, or by its 'exit' event). */
const LOST = 2;
/** The blocks' cell edges, e_0 … e_B. */
const EDGES = FAILED + 1;
const MAX_BLOCKS = 64;
/**
 * Per worker, the last generation it finished. The caller goes on when every worker's slot holds
 * the current generation: a count of finishes (DONE alone) would also be reached by one thread
 * answering twice while another is still in its blocks.
 */
const DONE_AT = EDGES + MAX_BLOCKS + 1;
const CONTROL_SLOTS = DONE_AT + MAX_THREADS;

/**
 * The fixed partition of the threaded kernels: 8 blocks, so that 1, 2, 4 or 8 threads share them
 * evenly (3 threads get 3, 2 and 3). It is a property of the problem's arithmetic, not of the
 * machine: changing it changes the last bits of every run on a partitioned grid.
 */
export const KERNEL_BLOCKS = 8;
/**
 * A kernel thread that has not answered in this long has died (a kernel at 2048² takes ~50 ms):
 * better an error than a run that hangs.
 */
const STALL_MS = 60_000;
const THREAD_EXIT_TEST = testFault('thread-exit') !== undefined;
/**
 * Test-only (FPSOLVE_TEST_FAULT=block-order:<seed>): every kernel runs its blocks on the calling
 * thread in a seeded random order, or (with workers running) is handed to the workers, as a seeded
 * coin decides, so that the mixes of ordering that machine load produces (a worker still
 * starting, the caller finishing its blocks before or after the others) happen deterministically.
 * Results must not change: a kernel whose blocks read what other blocks write is a bug.
 */
const BLOCK_ORDER_SEED = testFault('block-order');
let blockOrderState = BLOCK_ORDER_SEED === undefined ? 0 : Number(BLOCK_ORDER_SEED) >>> 0 || 1;
/** xorshift32: the hook's random stream (one per process, advanced per kernel call). */
function blockOrderRandom(): number {
  let x = blockOrderState;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  blockOrderState = x >>> 0;
  return blockOrderState / 2 ** 32;
}
const MAX_PARAMS = 16;

/** A kernel over the cells [lo, hi) of its arrays, returning its range's partial result. */
export type RangeKernel = (a: readonly Float64Array[], ints: readonly Int32Array[], p: readonly number[], lo: number, hi: number) => number;

interface KernelTable {
  /** The module exporting the table as RANGE_KERNELS: the workers import it. */
  file: string;
  kernels: Readonly<Record<string, RangeKernel>>;
  /** Kernel index in the control block = position here. */
  names: string[];
}
let table: KernelTable | null = null;

/** Registers the kernels teams run (`file` exports them as RANGE_KERNELS, in the same order). */
export function useKernelTable(file: string, kernels: Readonly<Record<string, RangeKernel>>): void {
  table = { file, kernels, names: Object.keys(kernels) };
}

function theTable(): KernelTable {
  if (!table) throw new Error('ThreadTeam: no kernel table registered (import solvers/range-kernels.js)');
  return table;
}

/** Negative kernel indices in the control block are commands to the worker loop. */
export const LEAVE_LOOP = -1;
export const STOP = -2;

export interface TeamShared {
  control: SharedArrayBuffer;
  params: SharedArrayBuffer;
  partials: SharedArrayBuffer;
  index: number;
  /** The arena's memory (solvers/exec/arena.ts), when arrays live there: threads run its kernels too. */
  memory: WebAssembly.Memory | null;
  /** The kernel table's module (a file path), which the worker imports. */
  table: string;
}

/** Message that hands a worker shared arrays (ids are positions in its table). */
export interface RegisterMessage {
  register: ({ id: number; int: boolean } & ({ buffer: SharedArrayBuffer } | { at: number; length: number }))[];
}

/**
 * Range edges 0 = e_0 ≤ e_1 ≤ … ≤ e_T = size of a kernel split `threads` ways at multiples of
 * `align` (thread t runs [e_t, e_{t+1})). Exported so that callers can prepare per-range data.
 */
export function splitRanges(size: number, align: number, threads: number): number[] {
  const blocks = Math.ceil(size / align);
  const edges = [0];
  for (let t = 1; t < threads; t++) edges.push(Math.min(size, Math.round((blocks * t) / threads) * align));
  edges.push(size);
  return edges;
}

/** Threads fpsolve would use: all cores, at most MAX_THREADS; FPSOLVE_THREADS overrides. */
export function defaultThreads(): number {
  const env = Number(process.env.FPSOLVE_THREADS);
  const n = Number.isInteger(env) && env >= 1 ? env : availableParallelism();
  return Math.max(1, Math.min(MAX_THREADS, n));
}

/** The compiled form of a module of this repository (its dist/ twin when running from TypeScript sources). */
function compiled(file: string): string {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts') || !file.endsWith('.ts')) return file;
  const root = here.replace(/\/solvers\/exec\/team\.ts$/, '');
  return `${root}/dist${file.slice(root.length).replace(/\.ts$/, '.js')}`;
}

/**
 * From TypeScript sources (the tests) this thread runs solvers/**.ts while the workers import
 * the dist/ twins, so a dist/ that is not the build of these sources runs other kernels on the
 * threads and changes the last bits, silently: a full test run once gave PCG 372 iterations on 2
 * threads against 369 on 1, rerunning passed. A twin older than its source (edited, not rebuilt),
 * or written after this process started (a build during the run), is refused (workerScript, once
 * per process); built runs (dist/ on every thread) skip this. Returns what is stale, or null.
 */
export function staleBuild(root: string, started: number): string | null {
  const walk = (dir: string): string | null => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const src = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        const found = walk(src);
        if (found) return found;
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const js = `${root}/dist${src.slice(root.length).replace(/\.ts$/, '.js')}`;
        const built = existsSync(js) ? statSync(js).mtimeMs : -1;
        const rel = src.slice(root.length + 1);
        if (built < 0) return `${rel} is not built`;
        if (built < statSync(src).mtimeMs) return `${rel} is newer than its build`;
        if (built > started) return `${rel} was rebuilt after this process started`;
      }
    }
    return null;
  };
  return walk(`${root}/solvers`);
}
let buildChecked = false;

/** The compiled worker script; absent when running from TypeScript sources without a build. */
function workerScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  const js = compiled(here.replace(/team\.(ts|js)$/, 'team-worker.$1'));
  if (!existsSync(js)) return null;
  if (here.endsWith('.ts') && !buildChecked) {
    const stale = staleBuild(here.replace(/\/solvers\/exec\/team\.ts$/, ''), performance.timeOrigin);
    if (stale) throw new Error(`kernel threads run dist/, which is not the build of these sources (${stale}): run \`npx tsc -p tsconfig.json\` first, and not during the tests`);
    buildChecked = true;
  }
  return js;
}

export class ThreadTeam {
  readonly threads: number;
  /** Ranges every kernel is split into, whatever the number of threads. */
  readonly blocks: number;
  private readonly control: Int32Array;
  private readonly params: Float64Array;
  private readonly partials: Float64Array;
  private readonly workers: Worker[] = [];
  /** Keyed by the buffer of a whole-buffer array, or by the array itself for arena arrays. */
  private readonly ids = new Map<SharedArrayBuffer | Float64Array | Int32Array, number>();
  private readonly idsInt = new Map<SharedArrayBuffer | Float64Array | Int32Array, number>();
  private pending: RegisterMessage['register'] = [];
  private closed = false;
  private allReady = false;

  /**
   * A team that splits kernels into `blocks` ranges run by `threads` threads (at most `blocks`
   * and MAX_THREADS). Where worker threads cannot be started here (no SharedArrayBuffer, no
   * compiled worker script) it has one thread, which runs the same blocks in turn: the same bits.
   */
  static create(threads: number, blocks = KERNEL_BLOCKS): ThreadTeam {
    if (!(Number.isInteger(blocks) && blocks >= 1 && blocks <= MAX_BLOCKS)) throw new Error(`ThreadTeam: blocks must be an integer in [1, ${MAX_BLOCKS}] (got ${blocks})`);
    const want = Math.max(1, Math.min(threads, MAX_THREADS, blocks));
    const script = want > 1 && typeof SharedArrayBuffer !== 'undefined' ? workerScript() : null;
    return new ThreadTeam(script ? want : 1, blocks, script);
  }

  private constructor(threads: number, blocks: number, script: string | null) {
    this.threads = threads;
    this.blocks = blocks;
    const shared = (bytes: number): ArrayBuffer | SharedArrayBuffer => (threads > 1 ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    this.control = new Int32Array(shared(4 * CONTROL_SLOTS));
    this.params = new Float64Array(shared(8 * MAX_PARAMS));
    this.partials = new Float64Array(shared(8 * MAX_BLOCKS));
    if (!script) return;
    const tableFile = compiled(theTable().file);
    for (let w = 1; w < threads; w++) {
      const shared: TeamShared = { control: this.control.buffer as SharedArrayBuffer, params: this.params.buffer as SharedArrayBuffer, partials: this.partials.buffer as SharedArrayBuffer, index: w, memory: arenaMemory(), table: tableFile };
      const worker = new Worker(script, { workerData: shared });
      // Idle workers must not keep a finished run's process alive.
      worker.unref();
      // A thread that ends while the team is open is an InfrastructureFailure of the next kernel
      // (not a crash of this process: 'error' is followed by 'exit').
      worker.on('error', () => undefined);
      worker.on('exit', () => this.closed || Atomics.store(this.control, FAILED, LOST));
      this.workers.push(worker);
    }
  }

  private idOf(a: Float64Array | Int32Array): number {
    const isInt = a instanceof Int32Array;
    const map = isInt ? this.idsInt : this.ids;
    if (inArena(a)) {
      let id = map.get(a);
      if (id === undefined) {
        id = map.size;
        map.set(a, id);
        this.pending.push({ id, at: a.byteOffset, length: a.length, int: isInt });
      }
      return id;
    }
    const buf = a.buffer;
    if (!(buf instanceof SharedArrayBuffer) || a.byteOffset !== 0) throw new Error('ThreadTeam: kernels need whole arrays in shared memory');
    let id = map.get(buf);
    if (id === undefined) {
      id = map.size;
      map.set(buf, id);
      this.pending.push({ id, buffer: buf, int: isInt });
    }
    return id;
  }

  /** Whether every worker has finished generation `gen`. */
  private allDone(gen: number): boolean {
    for (let w = 1; w < this.threads; w++) if (Atomics.load(this.control, DONE_AT + w) !== gen) return false;
    return true;
  }

  /** Blocks until every worker has finished the current generation. */
  private waitDone(): void {
    const gen = Atomics.load(this.control, GEN);
    const t0 = Date.now();
    for (let spins = 0; !this.allDone(gen); spins++) {
      if (Atomics.load(this.control, FAILED) === LOST) this.lost();
      if (spins > 2000) {
        Atomics.wait(this.control, DONE, Atomics.load(this.control, DONE), 1);
        if (Date.now() - t0 > STALL_MS) {
          this.close();
          throw new InfrastructureFailure('thread-lost', `a kernel thread stopped answering for ${STALL_MS / 1000} s (set FPSOLVE_THREADS=1 to run on one thread)`);
        }
      }
    }
    if (Atomics.load(this.control, FAILED) === LOST) this.lost();
    if (Atomics.load(this.control, FAILED) !== 0) {
      this.close();
      throw new Error('a kernel thread failed (set FPSOLVE_THREADS=1 to run on one thread)');
    }
  }

  private lost(): never {
    this.close();
    throw new InfrastructureFailure('thread-lost', 'a kernel thread ended during the run (set FPSOLVE_THREADS=1 to run on one thread)');
  }

  private signal(kernel: number): void {
    Atomics.store(this.control, KERNEL, kernel);
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
  }

  /** New arrays reach the workers by message, which they read only outside their wait loop. */
  private flushRegistrations(): void {
    if (this.pending.length === 0) return;
    this.signal(LEAVE_LOOP);
    this.waitDone();
    const msg: RegisterMessage = { register: this.pending };
    for (const w of this.workers) w.postMessage(msg);
    this.pending = [];
  }

  /**
   * Runs a kernel over [0, size) split into `blocks` ranges at multiples of `align`, and returns
   * the sum of the ranges' results, added in block order.
   */
  run(name: string, arrays: readonly Float64Array[], ints: readonly Int32Array[], params: readonly number[], size: number, align = 1): number {
    if (this.closed) throw new Error('ThreadTeam is closed');
    if (Atomics.load(this.control, FAILED) === LOST) this.lost();
    if (arrays.length > MAX_ARRAYS || ints.length > MAX_INTS || params.length > MAX_PARAMS) {
      throw new Error(`ThreadTeam: ${name} passes more arrays or parameters than the control block holds`);
    }
    const T = this.threads;
    const B = this.blocks;
    // Test-only (FPSOLVE_TEST_FAULT=thread-exit): wait for the threads, so that the thread that ends
    // itself at its first kernel is met whatever the machine's load.
    for (const t0 = Date.now(); T > 1 && THREAD_EXIT_TEST && !this.ready() && Atomics.load(this.control, FAILED) !== LOST && Date.now() - t0 < STALL_MS; ) Atomics.wait(this.control, FAILED, 0, 1);
    const edges = splitRanges(size, align, B);
    const t = theTable();
    const kernel = t.kernels[name];
    if (!kernel) throw new Error(`ThreadTeam: no kernel ${name}`);
    // Until every worker runs its loop, the blocks run here one after the other: blocking on a
    // thread that is still starting could wait for this thread's event loop (seen with `node -e`),
    // and the same blocks added in the same order give the same bits as the threads will.
    if (BLOCK_ORDER_SEED !== undefined && (T === 1 || !this.ready() || blockOrderRandom() < 0.5)) {
      const order = Array.from({ length: B }, (_, k) => k);
      for (let k = B - 1; k > 0; k--) {
        const j = Math.floor(blockOrderRandom() * (k + 1));
        [order[k], order[j]] = [order[j], order[k]];
      }
      const part = new Array<number>(B);
      for (const k of order) part[k] = kernel(arrays, ints, params, edges[k], edges[k + 1]);
      let sum = 0;
      for (let k = 0; k < B; k++) sum += part[k];
      return sum;
    }
    if (T === 1 || !this.ready()) {
      let sum = 0;
      for (let k = 0; k < B; k++) sum += kernel(arrays, ints, params, edges[k], edges[k + 1]);
      return sum;
    }
    const c = this.control;
    const aIds = arrays.map((a) => this.idOf(a));
    const iIds = ints.map((a) => this.idOf(a));
    this.flushRegistrations();
    c[N_ARRAYS] = arrays.length;
    c[N_INTS] = ints.length;
    c[N_PARAMS] = params.length;
    for (let k = 0; k < aIds.length; k++) c[ARRAY_IDS + k] = aIds[k];
    for (let k = 0; k < iIds.length; k++) c[INT_IDS + k] = iIds[k];
    for (let k = 0; k < params.length; k++) this.params[k] = params[k];
    for (let k = 0; k <= B; k++) c[EDGES + k] = edges[k];
    // Thread t runs blocks [g_t, g_{t+1}).
    const groups = splitRanges(B, 1, T);
    for (let t = 1; t < T; t++) {
      c[RANGES + 2 * t] = groups[t];
      c[RANGES + 2 * t + 1] = groups[t + 1];
    }
    const p = this.partials;
    this.signal(t.names.indexOf(name));
    try {
      for (let k = groups[0]; k < groups[1]; k++) p[k] = kernel(arrays, ints, params, edges[k], edges[k + 1]);
    } finally {
      // Even when this thread's range throws, the others must finish before the next kernel.
      this.waitDone();
    }
    let total = 0;
    for (let k = 0; k < B; k++) total += p[k];
    return total;
  }

  /** Whether every worker is running (before that, kernels run on the calling thread alone). */
  ready(): boolean {
    if (!this.allReady) {
      let all = true;
      for (let w = 1; w < this.threads; w++) if (Atomics.load(this.control, READY + w) !== 1) all = false;
      this.allReady = all;
    }
    return this.allReady;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal(STOP);
    for (const w of this.workers) void w.terminate();
  }
}

/** Slot positions, shared with the worker script. */
export const SLOTS = { GEN, DONE, DONE_AT, KERNEL, N_ARRAYS, N_INTS, N_PARAMS, ARRAY_IDS, INT_IDS, RANGES, READY, FAILED, LOST, EDGES } as const;
