/**
 * The recorded GPU benchmark that `--backend auto` decides from (issue #22.4). bench/gpu-device.sh
 * (test/bench/gpu-device.ts) writes it as bench/results-gpu.json: per grid, the device run against
 * the float64 CPU run of the same problem in the same process, with their agreement. auto takes the
 * GPU only where such a record, made on a hardware GPU, shows it winning at matched accuracy for this
 * kind of run (same dimension, same time.integrator, a grid at least the smallest winning one) and
 * the GPU found now is the one recorded: a speed-up measured on one device says nothing of another,
 * and a software renderer or the webasm stand-in measures no GPU at all.
 */
import { closeSync, fstatSync, openSync, readSync, constants as fsConstants } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../../src/paths.js';

export const GPU_RECORD_FORMAT = 'fpsolve-gpu-benchmark';
export const GPU_RECORD_VERSION = 1;
/** Where auto looks when neither ResolveOptions.benchmark nor FPSOLVE_GPU_BENCHMARK names a file. */
export const GPU_RECORD_ENV = 'FPSOLVE_GPU_BENCHMARK';

/** One grid of the device check: the device run against the float64 CPU run. */
export interface GpuRecordCase {
  /** Label, e.g. "1024²" or "128³". */
  label?: string;
  dim: number;
  /** Cells per axis. */
  cells: number[];
  /** Total cells. */
  size: number;
  /** time.integrator of both runs. */
  integrator: string;
  /** 'ran', or 'skipped' with `skipped` saying why (time cap), or 'failed'. */
  status: 'ran' | 'skipped' | 'failed';
  skipped?: string;
  /** Whole-process wall seconds (spawn to exit) of each run; null when it did not finish. */
  cpuWallS: number | null;
  deviceWallS: number | null;
  /** cpuWallS / deviceWallS. */
  speedup: number | null;
  /** Whether the two runs agree to the record's thresholds (densities, distances, rates). */
  matched: boolean;
  /** matched and the device run was faster. */
  win: boolean;
}

export interface GpuRecord {
  format: typeof GPU_RECORD_FORMAT;
  version: number;
  date: string;
  /** True only when the probe found a hardware GPU (not llvmpipe/lavapipe/SwiftShader, not webasm). */
  hardware: boolean;
  /** The probe's device line (select.ts probeGpu), or what stood in for it in a software run. */
  device: string;
  cases: GpuRecordCase[];
}

/** What the record says for one run, as one phrase for report.backendReason. */
export interface RecordVerdict {
  /** Set when the record shows a win that covers this run. */
  win?: { device: string; label: string; speedup: number; size: number };
  /** Why (no) win: names the file. */
  why: string;
}

/** The record file auto reads: an explicit path, else $FPSOLVE_GPU_BENCHMARK, else bench/results-gpu.json. */
export function gpuRecordPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined) return explicit;
  const fromEnv = env[GPU_RECORD_ENV];
  if (fromEnv) return fromEnv;
  return join(packageRoot(), 'bench', 'results-gpu.json');
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * device, date and label are quoted in report.backendReason and the summary line, so a record may
 * not smuggle a second line (or megabytes) into them.
 */
const LINE_MAX = 200;
const isLine = (x: unknown): x is string => typeof x === 'string' && x.length <= LINE_MAX && !/[\u0000-\u001f\u007f\u2028\u2029]/.test(x);
/** A field's value for a message: short JSON, else only its type. */
const brief = (x: unknown): string => {
  const j = JSON.stringify(x);
  return j !== undefined && j.length <= 40 ? j : `${Array.isArray(x) ? 'a list' : typeof x === 'object' ? 'an object' : `a ${typeof x}`}${typeof x === 'string' ? ` of ${x.length} characters` : ''}`;
};

/** Checks the shape of a parsed record; returns what is wrong, or the record. */
export function parseGpuRecord(data: unknown): GpuRecord | string {
  if (!isObj(data)) return 'not a JSON object';
  if (data.format !== GPU_RECORD_FORMAT) return `format is ${brief(data.format)}, not "${GPU_RECORD_FORMAT}"`;
  if (data.version !== GPU_RECORD_VERSION) return `version is ${brief(data.version)}, this fpsolve reads ${GPU_RECORD_VERSION}`;
  if (typeof data.hardware !== 'boolean') return 'field hardware is not true or false';
  if (!isLine(data.device) || data.device === '') return `field device is not a non-empty line of at most ${LINE_MAX} characters`;
  if (!isLine(data.date)) return `field date is not a line of at most ${LINE_MAX} characters`;
  if (!Array.isArray(data.cases)) return 'field cases is not a list';
  for (const [i, c] of data.cases.entries()) {
    const at = `cases[${i}]`;
    if (!isObj(c)) return `${at} is not an object`;
    if (!Number.isInteger(c.dim) || (c.dim as number) < 1 || (c.dim as number) > 3) return `${at}.dim is not 1, 2 or 3`;
    if (!Number.isInteger(c.size) || (c.size as number) < 1) return `${at}.size is not a positive integer`;
    if (typeof c.integrator !== 'string') return `${at}.integrator is not a string`;
    if (c.label !== undefined && !isLine(c.label)) return `${at}.label is not a line of at most ${LINE_MAX} characters`;
    if (typeof c.win !== 'boolean' || typeof c.matched !== 'boolean') return `${at}.win or .matched is not true or false`;
    if (c.speedup !== null && !(typeof c.speedup === 'number' && Number.isFinite(c.speedup) && c.speedup > 0)) return `${at}.speedup is not a positive number or null`;
    // A win without the agreement or the speed-up that defines it would be a record nobody measured.
    if (c.win && (!c.matched || c.speedup === null || (c.speedup as number) <= 1)) return `${at} says win without matched accuracy and a speed-up above 1`;
  }
  return data as unknown as GpuRecord;
}

/**
 * Largest record read. The device check writes a few KiB; anything bigger is not a record, and
 * FPSOLVE_GPU_BENCHMARK may point anywhere (/dev/zero, a log file), so it is not slurped.
 */
export const GPU_RECORD_MAX_BYTES = 1 << 20;

/**
 * Reads `file` only if it is a regular file of at most GPU_RECORD_MAX_BYTES: opened non-blocking,
 * since opening a FIFO for reading would otherwise wait forever for a writer.
 */
function readRecordText(file: string): string {
  const fd = openSync(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new Error('it is a directory');
    if (!st.isFile()) throw new Error('it is not a regular file');
    if (st.size > GPU_RECORD_MAX_BYTES) throw new Error(`it has ${st.size} bytes, more than the ${GPU_RECORD_MAX_BYTES} a record can have`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * V8's JSON.parse messages quote the text around the error ("Unexpected token 'S', "SECRET-PAS"...
 * is not valid JSON"): the reason lands in report.json and on stderr, so only the position is kept.
 */
function jsonErrorWithoutText(e: unknown): string {
  const at = /position (\d+)/.exec(String((e as Error).message));
  return at ? `not valid JSON at byte ${at[1]}` : 'not valid JSON';
}

/** Reads and checks the record at `file`; a missing, unreadable or malformed file is a string saying so. */
export function loadGpuRecord(file: string): GpuRecord | string {
  const shown = displayPath(file);
  let text: string;
  try {
    text = readRecordText(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `${shown} does not exist`;
    return `the recorded GPU benchmark ${shown} is unreadable (${code ?? (e as Error).message.split('\n')[0]})`;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return `the recorded GPU benchmark ${shown} is unreadable (${jsonErrorWithoutText(e)})`;
  }
  const r = parseGpuRecord(data);
  return typeof r === 'string' ? `the recorded GPU benchmark ${shown} is malformed (${r})` : r;
}

function displayPath(file: string): string {
  try {
    const rel = relative(packageRoot(), file);
    return rel.startsWith('..') || rel === '' ? file : rel;
  } catch {
    return file;
  }
}

const sizeLabel = (size: number, dim: number): string => {
  const n = Math.round(size ** (1 / dim));
  return n ** dim === size ? `${n}${dim === 2 ? '²' : dim === 3 ? '³' : ''}` : `${size} cells`;
};

/**
 * What the record at `file` says for a run of `size` cells in `dim` dimensions with `integrator`:
 * a win when the record is a hardware one and some case of this dimension and integrator won at a
 * size ≤ this grid (the smallest such case is named). The device is matched by the caller, after
 * the probe, which the record decides whether to run at all.
 */
export function recordVerdict(file: string, dim: number, size: number, integrator: string): RecordVerdict {
  const rec = loadGpuRecord(file);
  if (typeof rec === 'string') return { why: `${rec}: no recorded GPU benchmark shows a win` };
  const shown = displayPath(file);
  if (!rec.hardware) return { why: `the recorded GPU benchmark ${shown} (${rec.date}) ran on ${rec.device}, not a hardware GPU: no recorded GPU benchmark shows a win` };
  const kind = rec.cases.filter((c) => c.dim === dim && c.integrator === integrator);
  const wins = kind.filter((c) => c.win).sort((a, b) => a.size - b.size);
  if (wins.length === 0) {
    const tried = kind.length ? `its ${dim}-D ${integrator} runs (${kind.map((c) => `${c.label ?? sizeLabel(c.size, dim)}: ${c.speedup === null ? c.status : `${c.speedup.toPrecision(3)}×${c.matched ? '' : ', accuracy not matched'}`}`).join(', ')}) show no win` : `it has no ${dim}-D run with time.integrator ${integrator}`;
    return { why: `the recorded GPU benchmark ${shown} (${rec.device}, ${rec.date}): ${tried}` };
  }
  const least = wins[0];
  const label = least.label ?? sizeLabel(least.size, dim);
  if (size < least.size) {
    return { why: `${size} cells is below ${least.size} (${label}), the smallest ${dim}-D ${integrator} grid where the recorded GPU benchmark ${shown} (${rec.device}) shows a win` };
  }
  return {
    win: { device: rec.device, label, speedup: least.speedup as number, size: least.size },
    why: `the recorded GPU benchmark ${shown} (${rec.date}) shows ${rec.device} ${(least.speedup as number).toPrecision(3)}× faster than float64 on the CPU at matched accuracy from ${label} (${dim}-D, time.integrator ${integrator}), and this grid has ${size} cells`,
  };
}

/** Whether a probed device line names the recorded device (whitespace and case aside). */
export function sameDevice(probed: string | undefined, recorded: string): boolean {
  const norm = (s: string): string => s.trim().replace(/\s+/g, ' ').toLowerCase();
  return probed !== undefined && norm(probed) === norm(recorded);
}
