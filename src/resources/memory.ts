/**
 * Memory budget of a run, decided from the grid and the integrator before anything grid-sized is
 * allocated. Typed arrays live outside the V8 heap, so an oversized grid does not fail cleanly:
 * the machine swaps or the kernel's OOM killer ends the process with no report. Refusing up
 * front, with the estimate in the message, is the only clean failure.
 */
import { EXPONENTIAL_MAX_BASIS } from '../../solvers/backend/exponential.js';
import { totalmem } from 'node:os';
import { InputError } from '../errors.js';
import type { IntegratorName } from '../scenario/types.js';

const BYTES_PER_VALUE = 8; // float64 everywhere

/**
 * Node's own footprint (code, V8 heap, mathjs, ajv, vega when plotting) before any grid array.
 * Measured: RSS of `fpsolve run` on a 100-cell grid is 90–130 MiB.
 */
export const BASE_OVERHEAD_BYTES = 160 * 2 ** 20;

/** Longest Float64Array V8 allows (2^32 − 1 elements in Node 20); a bigger grid cannot be held in one array. */
export const MAX_ARRAY_LENGTH = 2 ** 32 - 1;

/** Share of the machine's memory a run may plan to use when no limit is given. */
export const DEFAULT_MEMORY_FRACTION = 0.8;

/** Environment variable read when --max-memory is absent (so sweeps can pass a limit to every child). */
export const MEMORY_ENV = 'FPSOLVE_MAX_MEMORY';

export interface MemoryEstimate {
  /** Estimated peak resident bytes of the run. */
  bytes: number;
  /** Number of cells. */
  cells: number;
  /** Grid-sized float64 arrays alive at the peak. */
  arrays: number;
  /** One line: where the arrays come from. */
  breakdown: string;
}

/**
 * Grid-sized float64 arrays held at once by each part of a run (counted from the constructors):
 * - problem: f, ψ, one face-D array per axis;
 * - operator: outflow, √π, and forward/backward/symmetric face coefficients per axis;
 * - run: ρ, the last healthy ρ (kept so a failed run reports a finite density), ln π of the
 *   distance tracker, and π plus one encoded .npy buffer when the outputs are written;
 * - regime diagnostics: the tracker's cell averages of ln f and its int8 zero-component labels (2, rounded up).
 */
function baseArrays(dim: number): number {
  return 2 + dim + (2 + 3 * dim) + 3 + 2 + 2;
}

/** Work arrays of each integrator (see solvers/backend/integrators.ts, implicit.ts, pcg.ts and cpu.ts). */
function integratorArrays(integrator: IntegratorName, dim: number): { arrays: number; what: string } {
  // 1-D implicit steps use the tridiagonal solver (2 arrays); 2-D/3-D use PCG (7 fields) with the
  // Jacobi inverse diagonal (1; multigrid's coarse levels, when the switch engages it, are not counted).
  const solver = dim === 1 ? 2 : 8;
  // Implicit integrators also hold the backend's copy of ρ and the CPU backend's stencil scratch.
  const backend = 2;
  switch (integrator) {
    case 'explicit':
      return { arrays: 1, what: 'explicit Euler 1' };
    case 'rkl2':
      return { arrays: 5, what: 'RKL2 5' };
    case 'backward-euler':
      return { arrays: 1 + backend + solver, what: `backward Euler 1 + backend ${backend} + linear solver ${solver}` };
    case 'exponential':
      // The Krylov basis grows to its cap only when an interval needs it; counted at the cap. The
      // TR-BDF2 hand-over (metastable starts) adds its 7 fields, its linear solver and one host copy.
      return {
        arrays: EXPONENTIAL_MAX_BASIS + 1 + 4 + backend + solver + (7 + solver + 1),
        what: `exponential ${EXPONENTIAL_MAX_BASIS + 1} Krylov vectors + 4 + backend ${backend} + linear solver ${solver} + TR-BDF2 hand-over ${7 + solver + 1}`,
      };
    case 'auto':
    case 'trbdf2':
      return { arrays: 7 + backend + solver, what: `TR-BDF2 7 + backend ${backend} + linear solver ${solver}` };
  }
}

/**
 * The spectral-gap estimate that follows a run (solvers/eigen) while the run's arrays are still
 * alive. Calibrated, not counted: peak RSS of `fpsolve run` with and without --no-gap differed by
 * about 2 grid arrays at 2·10⁶ cells in 1-D (2026-11), and, with the parity-spanning start block
 * (2^d classes, each vector kept with its face differences), by 73 at 1024² (ou-2d) and 155 at 80³
 * (quadratic-floor-3d) on 2026-12-07. Rounded up.
 */
const GAP_ARRAYS = [0, 4, 76, 160] as const;

export interface EstimateOptions {
  /** Whether the spectral gap is estimated after the run (default true, as `fpsolve run` does). */
  gap?: boolean;
  /** Density snapshots kept for figures. */
  snapshots?: number;
  /** Report times (series points): each is held as an object, then as report.json and series.csv text. */
  reports?: number;
  /** Grid-sized arrays of a command's own (e.g. the QSD eigen-solve of `fpsolve escape`), named in the breakdown. */
  extra?: { arrays: number; what: string };
}

/**
 * Bytes per report time: the series point object (~15 numbers, ~300 B in V8) plus its text in
 * report.json (~400 B, pretty-printed) and series.csv (~200 B). Rounded up: 1 KiB.
 */
export const SERIES_BYTES_PER_REPORT = 1024;

/** Peak memory of a run on a grid with these cells per axis, using this integrator. Allocates nothing. */
export function estimateRunMemory(cells: readonly number[], integrator: IntegratorName, opts: EstimateOptions = {}): MemoryEstimate {
  const dim = cells.length;
  const n = cells.reduce((a, b) => a * b, 1);
  const base = baseArrays(dim);
  const integ = integratorArrays(integrator, dim);
  const gap = opts.gap === false ? 0 : (GAP_ARRAYS[dim] ?? GAP_ARRAYS[3]);
  const snaps = opts.snapshots ?? 0;
  const extra = opts.extra?.arrays ?? 0;
  const arrays = base + integ.arrays + gap + snaps + extra;
  const parts = [`problem, operator and run ${base}`, integ.what, ...(gap ? [`spectral gap ${gap}`] : []), ...(snaps ? [`snapshots ${snaps}`] : []), ...(extra ? [`${opts.extra?.what} ${extra}`] : [])];
  const reports = opts.reports ?? 0;
  const seriesBytes = reports * SERIES_BYTES_PER_REPORT;
  const series = reports > 0 ? ` + ${formatBytes(seriesBytes)} for ${formatCount(reports)} report times` : '';
  return {
    bytes: BASE_OVERHEAD_BYTES + arrays * n * BYTES_PER_VALUE + seriesBytes,
    cells: n,
    arrays,
    breakdown: `${arrays} float64 arrays of ${formatCount(n)} cells (${parts.join(', ')})${series} + ${formatBytes(BASE_OVERHEAD_BYTES)} for Node`,
  };
}

/** Where a memory limit came from, for messages. */
export interface MemoryLimit {
  bytes: number;
  source: string;
}

/** The machine's memory as this process sees it: physical memory, or the cgroup limit when lower (containers, Slurm). */
export function machineMemory(): number {
  const total = totalmem();
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  return constrained !== undefined && constrained > 0 && constrained < total ? constrained : total;
}

/**
 * The limit that applies when --max-memory is not given: $FPSOLVE_MAX_MEMORY if set, else 80%
 * of the machine's memory. Free memory is not used: it moves with whatever else runs and Linux
 * counts page cache as used, so the same scenario would pass or fail at random.
 */
export function defaultMemoryLimit(env: NodeJS.ProcessEnv = process.env): MemoryLimit {
  const fromEnv = env[MEMORY_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return { bytes: parseByteSize(fromEnv, `$${MEMORY_ENV}`), source: `$${MEMORY_ENV}=${fromEnv.trim()}` };
  }
  const machine = machineMemory();
  return {
    bytes: Math.floor(DEFAULT_MEMORY_FRACTION * machine),
    source: `the default, ${Math.round(DEFAULT_MEMORY_FRACTION * 100)}% of this machine's ${formatBytes(machine)}`,
  };
}

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  kb: 1e3,
  m: 2 ** 20,
  mib: 2 ** 20,
  mb: 1e6,
  g: 2 ** 30,
  gib: 2 ** 30,
  gb: 1e9,
  t: 2 ** 40,
  tib: 2 ** 40,
  tb: 1e12,
};

/**
 * Parses a memory size: a number of bytes, or a number with a unit: K, M, G, T and KiB, MiB,
 * GiB, TiB are powers of 1024; KB, MB, GB, TB powers of 1000 (case-insensitive), e.g. `8G`,
 * `1.5GiB`, `500MB`.
 * @throws InputError naming `what` (the option or variable) and the accepted forms.
 */
export function parseByteSize(text: string, what = '--max-memory'): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)(?:e([+-]?\d+))?\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[3]!.toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Number(`${m[1]}${m[2] !== undefined ? `e${m[2]}` : ''}`) * unit : NaN;
  if (!Number.isFinite(bytes) || bytes < 1) {
    throw new InputError(
      `${what} must be a memory size > 0: bytes, or a number with K, M, G, T (powers of 1024; also KiB, MiB, GiB, TiB) or KB, MB, GB, TB (powers of 1000), e.g. 8G (got ${JSON.stringify(text)})`,
    );
  }
  return Math.floor(bytes);
}

/** Bytes in binary units, 3 significant digits: "1.50 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toPrecision(3)} ${units[u]}`;
}

function formatCount(n: number): string {
  return n < 1e6 ? String(n) : n.toExponential(2).replace('e+', '·10^');
}

/**
 * Refuses a run whose estimate exceeds the limit (or whose grid cannot be held in one array).
 * Called before the grid's first array is allocated.
 * @throws InputError (exit 2) naming domain.cells, the estimate, the limit and --max-memory.
 */
export function checkMemory(estimate: MemoryEstimate, limit: MemoryLimit = defaultMemoryLimit(), file?: string): void {
  if (estimate.cells > MAX_ARRAY_LENGTH) {
    throw new InputError(
      `the grid has ${formatCount(estimate.cells)} cells, more than the ${formatCount(MAX_ARRAY_LENGTH)} one float64 array can hold (estimated memory ${formatBytes(estimate.bytes)}): use fewer cells`,
      { file, field: 'domain.cells' },
    );
  }
  if (estimate.bytes > limit.bytes) {
    throw new InputError(
      `the run needs an estimated ${formatBytes(estimate.bytes)} (${estimate.breakdown}), over the memory limit of ${formatBytes(limit.bytes)} (${limit.source}): use fewer cells, or raise the limit with --max-memory (e.g. --max-memory ${suggestLimit(estimate.bytes)})`,
      { file, field: 'domain.cells' },
    );
  }
}

function suggestLimit(bytes: number): string {
  const g = bytes / 2 ** 30;
  return g >= 1 ? `${Math.ceil(g)}G` : `${Math.ceil(bytes / 2 ** 20)}M`;
}

/**
 * Grid-sized float64 arrays' worth of memory that a float32 gpu.js backend (`--backend gpu` or
 * `webasm`) holds beyond the float64 CPU run: its Float32Array fields and kernel outputs, the host
 * copies of the float64 refinement (solvers/backend/refine.ts), the device multigrid's levels and
 * gpu.js's own buffers. Calibrated, not counted: peak RSS of `fpsolve run double-well-2d --backend
 * webasm --set time.integrator=trbdf2` (device multigrid) exceeded the CPU run's estimate by 13, 65 and
 * 135 MiB at 256², 384² and 512² (2026-12-07), i.e. 25, 58 and 67 arrays, growing with the grid; 96
 * leaves a margin for 1024². A real GPU keeps its buffers off the host, so there it errs high. Without
 * it a --max-memory the estimate accepted was overrun.
 */
export const FLOAT32_BACKEND_ARRAYS = 96;

/** The `extra` of EstimateOptions for a run on `backend` (a --backend choice); none for the CPU. */
export function backendMemoryExtra(backend: string | undefined): EstimateOptions['extra'] {
  return backend === 'gpu' || backend === 'webasm' ? { arrays: FLOAT32_BACKEND_ARRAYS, what: `float32 ${backend} backend` } : undefined;
}
