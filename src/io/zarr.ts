/**
 * Zarr stores that xarray opens as a Dataset with named dimensions (`xr.open_zarr(path)`).
 *
 * Format: Zarr v2 with xarray's `_ARRAY_DIMENSIONS` attribute on every array, and consolidated
 * metadata (`.zmetadata`). v2 because zarr-python 2.x (Debian's python3-zarr 2.13, which
 * xarray 2023.x uses) cannot read Zarr v3; zarr-python 3 and every other v2 reader open it too.
 * zarrita creates only v3 metadata, so the small v2 JSON documents are written here; whole-array
 * variables are encoded and written by zarrita, per-time ones (density) in ~1 MiB chunks along
 * time by writeIndexChunks, all through @zarrita/storage's FileSystemStore. Chunks are
 * uncompressed little-endian float64, so values are exact and a reader needs no codec library.
 *
 * Atomic: the store is written into a temporary directory beside its path and renamed into place;
 * an earlier store at the path is replaced only once the new one is complete.
 */
import { randomBytes } from 'node:crypto';
import { cStrides } from '../field/field.js';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type FileSystemStore from '@zarrita/storage/fs';
import { asOutputError } from '../errors.js';
import { fsyncDir } from './atomic.js';

/** A JSON value, as Zarr attributes hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ZarrVariable {
  /** Array name in the store (and the xarray variable name). */
  name: string;
  /** One dimension name per axis (xarray's `_ARRAY_DIMENSIONS`). */
  dims: readonly string[];
  shape: readonly number[];
  /**
   * Values in C order: one array holding the whole variable, or one array per index of the first
   * axis (e.g. one density per time), then stored {@link timeChunkLength} indices to a chunk.
   */
  data: Float64Array | readonly Float64Array[];
  attrs?: Record<string, JsonValue>;
}

const V2_FLOAT64 = '<f8';

/** Bytes a chunk of a per-index variable aims at (docs/outputs.md "density.zarr"). */
export const CHUNK_BYTES = 2 ** 20;

/**
 * How many first-axis indices (report times) one chunk holds when each has `cellsPerIndex`
 * float64 values: about {@link CHUNK_BYTES}, at least one. One chunk file per report time made
 * `--snapshots` cost a file creation and an fsync per time (10⁴ times of 50 cells: 10⁴ files);
 * ~1 MiB chunks make the cost proportional to the bytes, and stay small enough for a reader
 * slicing one time to load little it did not ask for. `indices`: the array's length along the
 * first axis, which caps the chunk.
 */
export function timeChunkLength(cellsPerIndex: number, indices = Infinity): number {
  // No longer than the array: v2 chunks are full-size on disk, and one time padded to 1 MiB is waste.
  return Math.max(1, Math.min(indices, Math.floor(CHUNK_BYTES / (8 * cellsPerIndex))));
}

// Zarr '<f8' is little-endian; a Float64Array's bytes are the host's order.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/**
 * Writes `variables` as a Zarr v2 group at `path` (see the module comment), atomically.
 * @returns `path`.
 * @throws RangeError when a variable's dims, shape and data disagree (before anything is written);
 *   OutputError (exit 74) naming the store when the filesystem refuses a write (disk full).
 */
export async function writeZarr(path: string, variables: readonly ZarrVariable[], attrs: Record<string, JsonValue> = {}): Promise<string> {
  for (const v of variables) checkVariable(v);
  const names = new Set(variables.map((v) => v.name));
  if (names.size !== variables.length) throw new RangeError('writeZarr: variable names must be unique');
  const parent = dirname(path);
  let tmp: string;
  try {
    // Not mkdtemp: its 0700 would be renamed into place, and the store must be as readable as
    // the files beside it (a group's shared run directory); mkdir applies the umask.
    tmp = join(parent, `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
    mkdirSync(tmp);
  } catch (e) {
    throw asOutputError(e, path);
  }
  try {
    await writeStore(tmp, variables, attrs);
    fsyncTree(tmp);
    replaceDir(tmp, path);
    fsyncDir(parent);
  } catch (e) {
    throw asOutputError(e, path);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return path;
}

async function writeStore(dir: string, variables: readonly ZarrVariable[], attrs: Record<string, JsonValue>): Promise<void> {
  // Loaded here, not at the top: zarrita is ~40 modules, and only runs that write a .zarr need it.
  const [zarr, { default: Store }] = await Promise.all([import('zarrita'), import('@zarrita/storage/fs')]);
  const store = new Store(dir);
  // zarr-python 2 decodes metadata as ASCII: everything else goes as \u escapes (as Python's json.dumps writes).
  const json = (value: unknown): Uint8Array =>
    new TextEncoder().encode(`${JSON.stringify(value, null, 2).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`);
  // Consolidated metadata: xr.open_zarr reads it first and otherwise warns that it fell back.
  const meta: Record<string, unknown> = { '.zgroup': { zarr_format: 2 }, '.zattrs': attrs };
  for (const v of variables) {
    const chunks = Array.isArray(v.data) ? [timeChunkLength(v.shape.slice(1).reduce((a, b) => a * b, 1), v.shape[0]), ...v.shape.slice(1)] : v.shape.slice();
    meta[`${v.name}/.zarray`] = {
      zarr_format: 2,
      shape: v.shape,
      chunks,
      dtype: V2_FLOAT64,
      compressor: null,
      // null, not 0 or NaN: xarray turns a fill_value into _FillValue and masks cells equal to it.
      fill_value: null,
      order: 'C',
      filters: null,
    };
    meta[`${v.name}/.zattrs`] = { ...(v.attrs ?? {}), _ARRAY_DIMENSIONS: v.dims };
  }
  for (const [key, value] of Object.entries(meta)) await store.set(`/${key}`, json(value));
  for (const v of variables) {
    if (Array.isArray(v.data)) {
      await writeIndexChunks(store, v.name, v.shape, v.data as readonly Float64Array[]);
    } else {
      const arr = await zarr.open.v2(zarr.root(store).resolve(v.name), { kind: 'array' });
      if (!arr.is('float64')) throw new Error(`writeZarr: ${v.name} did not open as float64`);
      const data = v.data as Float64Array;
      await zarr.set(arr, null, { data, shape: v.shape.slice(), stride: cStrides(v.shape) });
    }
  }
  await store.set('/.zmetadata', json({ metadata: meta, zarr_consolidated_format: 1 }));
}

/**
 * The chunks of a variable given one array per first-axis index, {@link timeChunkLength} indices
 * each, written here rather than through zarrita (which would read back the partial last chunk
 * it cannot find, and set one index at a time). Zarr v2 chunks are full-size on disk: the last
 * one's indices past the shape are padded with 0, which no reader returns (fill_value is null,
 * so 0 is no value xarray masks).
 */
async function writeIndexChunks(store: FileSystemStore, name: string, shape: readonly number[], parts: readonly Float64Array[]): Promise<void> {
  const each = parts[0]?.length ?? 0;
  const k = timeChunkLength(each, parts.length);
  // Chunk keys are "c.0.0…": the chunk spans every other axis whole; '.' is v2's default separator.
  const rest = shape.slice(1).map(() => '.0').join('');
  for (let c = 0; c * k < parts.length; c++) {
    const buf = new Float64Array(k * each);
    for (let i = 0; i < k && c * k + i < parts.length; i++) buf.set(parts[c * k + i]!, i * each);
    await store.set(`/${name}/${c}${rest}`, littleEndianBytes(buf));
  }
}

function littleEndianBytes(a: Float64Array): Uint8Array {
  if (HOST_LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat64(8 * i, a[i]!, true);
  return out;
}

function checkVariable(v: ZarrVariable): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.name)) throw new RangeError(`writeZarr: variable name '${v.name}' must be an identifier`);
  if (v.dims.length !== v.shape.length || v.shape.length === 0) {
    throw new RangeError(`writeZarr: ${v.name} has ${v.dims.length} dims for shape (${v.shape.join(', ')})`);
  }
  for (const n of v.shape) if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`writeZarr: ${v.name} shape entries must be positive integers, got (${v.shape.join(', ')})`);
  const total = v.shape.reduce((a, b) => a * b, 1);
  if (Array.isArray(v.data)) {
    const parts = v.data as readonly Float64Array[];
    const each = total / v.shape[0]!;
    if (parts.length !== v.shape[0] || parts.some((p) => p.length !== each)) {
      throw new RangeError(`writeZarr: ${v.name} needs ${v.shape[0]} arrays of ${each} values`);
    }
  } else if ((v.data as Float64Array).length !== total) {
    throw new RangeError(`writeZarr: ${v.name} shape (${v.shape.join(', ')}) holds ${total} values, data has ${(v.data as Float64Array).length}`);
  }
}

/** FileSystemStore does not fsync; the store is renamed into place only once its bytes are on disk. */
function fsyncTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) fsyncTree(p);
    else {
      const fd = openSync(p, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
  fsyncDir(dir);
}

/** Renames `from` to `to`; an existing `to` is moved aside first and removed only after. */
function replaceDir(from: string, to: string): void {
  let old: string | undefined;
  try {
    lstatSync(to);
    old = `${from}.old`;
    renameSync(to, old);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  try {
    renameSync(from, to);
  } catch (e) {
    if (old !== undefined) renameSync(old, to);
    throw e;
  }
  if (old !== undefined) rmSync(old, { recursive: true, force: true });
}
