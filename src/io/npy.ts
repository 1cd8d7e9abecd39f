/**
 * NumPy `.npy` files (format spec: numpy.lib.format, "NEP 1").
 *
 * Writes version 1.0 (2.0 only if the header would not fit in 64 KiB) with little-endian
 * doubles in C order, so `np.load` gives a float64 array with no conversion. Reads versions
 * 1.0, 2.0 and 3.0 with float/int dtypes, because initial densities may come from any NumPy.
 */
import { readLimited } from './read-limited.js';
import { basename, join } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import ndarray from 'ndarray';
import ops from 'ndarray-ops';
import { cStrides } from '../field/field.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** numpy pads headers so the data starts 64-byte aligned (allows mmap with SIMD-friendly alignment). */
const ALIGN = 64;
/** numpy itself refuses headers over 10 000 bytes by default; 1 MiB leaves room for odd writers while bounding the parser's work. */
export const MAX_HEADER_BYTES = 1 << 20;

/** Element types this module reads. Writing supports the float ones. */
export type NpyDtype = '<f8' | '<f4' | '<i4' | '<i8';
const ITEM_SIZE: Record<NpyDtype, number> = { '<f8': 8, '<f4': 4, '<i4': 4, '<i8': 8 };

export interface NpyWriteOptions {
  /** On-disk element type. '<f4' halves the size at the cost of precision. Default '<f8'. */
  dtype?: '<f8' | '<f4';
}

export interface NpyArray {
  /** Values in C (row-major) order, whatever the file's order was. */
  data: Float64Array;
  shape: number[];
  /** Whether the file stored Fortran order; `data` has already been transposed to C order. */
  fortranOrder: boolean;
}

/** Encodes an array as `.npy` bytes. `data` is in C order; `shape` [] means a scalar. */
export function encodeNpy(data: Float64Array, shape: readonly number[], opts: NpyWriteOptions = {}): Uint8Array {
  const dtype = opts.dtype ?? '<f8';
  const count = checkedSize(shape);
  if (count !== data.length) {
    throw new RangeError(`encodeNpy: shape (${shape.join(', ')}) holds ${count} elements but data has ${data.length}`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;

  // Header = magic(6) + version(2) + length field (2 in v1, 4 in v2) + dict + space padding + '\n'.
  let major = 1;
  let prefix = 10;
  let total = alignUp(prefix + dict.length + 1);
  if (total - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = alignUp(prefix + dict.length + 1);
  }
  const headerText = dict + ' '.repeat(total - prefix - dict.length - 1) + '\n';

  const itemSize = ITEM_SIZE[dtype];
  const out = new Uint8Array(total + count * itemSize);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  if (major === 1) view.setUint16(8, headerText.length, true);
  else view.setUint32(8, headerText.length, true);
  out.set(Buffer.from(headerText, 'latin1'), prefix);
  // DataView rather than a typed-array copy: explicit little-endian on any host, no alignment requirement.
  if (dtype === '<f8') {
    for (let i = 0; i < count; i++) view.setFloat64(total + 8 * i, data[i]!, true);
  } else {
    for (let i = 0; i < count; i++) view.setFloat32(total + 4 * i, data[i]!, true);
  }
  return out;
}

/** Writes `data` (C order) to `path` as `.npy`, atomically. */
export function writeNpy(path: string, data: Float64Array, shape: readonly number[], opts: NpyWriteOptions = {}): void {
  writeFileAtomic(path, encodeNpy(data, shape, opts));
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function checkedSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`shape entries must be non-negative integers, got (${shape.join(', ')})`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new RangeError(`shape (${shape.join(', ')}) is too large`);
  return n;
}

/**
 * Reads a `.npy` file into a Float64Array in C order.
 *
 * Accepts dtypes '<f8', '<f4', '<i4' and '<i8'; integers are converted to doubles ('<i8' values
 * beyond 2^53 round, as `astype(float)` would).
 *
 * @throws InputError naming the file for anything that is not a well-formed array of a supported dtype.
 */
export function readNpy(path: string, opts: { maxBytes?: number } = {}): NpyArray {
  // Regular files only (a FIFO or /dev/zero would block or never end), and no more bytes than the caller can use.
  const bytes = readLimited(path, { maxBytes: opts.maxBytes ?? MAX_NPY_BYTES, what: '.npy file' });
  return decodeNpy(bytes, path);
}

/** Largest .npy file read without a caller's own bound (the largest Buffer Node allows is about this). */
export const MAX_NPY_BYTES = 2 ** 31 - 1;

/** Bytes of a .npy holding `cells` values of at most 8 bytes each, with the largest header accepted. */
export function npyByteBound(cells: number): number {
  return 12 + MAX_HEADER_BYTES + 8 * cells;
}

/** Decodes `.npy` bytes; `file` only labels error messages. */
export function decodeNpy(bytes: Uint8Array, file = '<npy bytes>'): NpyArray {
  // Explicitly typed so that calls narrow like a throw statement.
  const fail: (msg: string) => never = (msg) => {
    throw new InputError(msg, { file });
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    // Never quote the bytes found: the path may name any file (a secret), and the message reaches logs.
    fail('not a .npy file (bad magic: a .npy file starts with "\\x93NUMPY")');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) {
    fail(`unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) fail(`truncated .npy header: file has only ${bytes.length} bytes`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLen > MAX_HEADER_BYTES) {
    fail(`.npy header is ${headerLen} bytes, over the ${MAX_HEADER_BYTES}-byte limit; the file is corrupt or not a plain array`);
  }
  const dataStart = prefix + headerLen;
  if (bytes.length < dataStart) {
    fail(`truncated .npy header: header needs ${dataStart} bytes but the file has ${bytes.length}`);
  }
  // Versions 1 and 2 store the header as latin-1; 3.0 exists only to allow UTF-8 (field names).
  const headerBytes = bytes.subarray(prefix, dataStart);
  const headerText = major === 3 ? Buffer.from(headerBytes).toString('utf8') : latin1(headerBytes);

  let header: PyValue;
  try {
    header = parsePyLiteral(headerText);
  } catch (err) {
    // The parser's message quotes header text; keep only the kind of problem and its column.
    return fail(`.npy header is not a valid dict (${(err as PyLiteralError).reason} at byte ${(err as PyLiteralError).column} of the header)`);
  }
  if (!(header instanceof Map)) return fail('.npy header is not a valid dict');
  const keys = [...header.keys()].sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    fail(`.npy header must have exactly the keys 'descr', 'fortran_order', 'shape'; it has ${keys.length} key${keys.length === 1 ? '' : 's'}${keys.length === 3 ? ', not these three' : ''}`);
  }

  const descr = header.get('descr')!;
  const dtype = checkDtype(descr, fail);
  const fortran = header.get('fortran_order');
  if (typeof fortran !== 'boolean') return fail(`.npy header 'fortran_order' must be True or False, got ${article(kindOf(fortran ?? null))}`);
  const shape = checkShape(header.get('shape')!, fail);

  let count = 1;
  for (const d of shape) count *= d;
  const itemSize = ITEM_SIZE[dtype];
  const expected = count * itemSize;
  const actual = bytes.length - dataStart;
  if (actual < expected) {
    fail(`truncated .npy data: shape (${shape.join(', ')}) of ${dtype} needs ${expected} bytes but the file has ${actual}`);
  }
  if (actual > expected) {
    fail(`.npy total size mismatch: shape (${shape.join(', ')}) of ${dtype} needs ${expected} bytes but the file has ${actual} (${actual - expected} extra)`);
  }

  const raw = readElements(view, dataStart, count, dtype);
  const data = fortran && shape.length > 1 ? fortranToC(raw, shape) : raw;
  return { data, shape, fortranOrder: fortran };
}

function readElements(view: DataView, start: number, count: number, dtype: NpyDtype): Float64Array {
  const out = new Float64Array(count);
  switch (dtype) {
    case '<f8':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(start + 8 * i, true);
      break;
    case '<f4':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(start + 4 * i, true);
      break;
    case '<i4':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(start + 4 * i, true);
      break;
    case '<i8':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(start + 8 * i, true));
      break;
  }
  return out;
}

/** Reorders column-major data to row-major: the file's bytes viewed with Fortran strides, assigned into a C-order array. */
function fortranToC(src: Float64Array, shape: readonly number[]): Float64Array {
  const out = new Float64Array(src.length);
  if (src.length === 0) return out;
  const fortran = cStrides([...shape].reverse()).reverse();
  ops.assign(ndarray(out, shape.slice(), cStrides(shape)), ndarray(src, shape.slice(), fortran));
  return out;
}

function checkDtype(descr: PyValue, fail: (msg: string) => never): NpyDtype {
  if (typeof descr !== 'string') {
    return fail(`unsupported dtype (${article(kindOf(descr))}: structured arrays are not supported; supported: '<f8', '<f4', '<i4', '<i8')`);
  }
  if (descr in ITEM_SIZE) return descr as NpyDtype;
  // Only the dtypes we know are echoed; any other descr text is the file's content, not ours to print.
  const big = `<${descr.slice(1)}`;
  if (descr.startsWith('>') && (big in ITEM_SIZE || big === '<f2')) {
    return fail(`unsupported big-endian dtype '${descr}'; re-save little-endian, e.g. np.save(path, arr.astype('${big}'))`);
  }
  // A numpy type string (at most four characters from a fixed alphabet) says what to convert from and reveals nothing.
  const named = /^[<>|=]?[biufcmMOSUV]\d{1,2}$/.test(descr) ? ` '${descr}'` : '';
  return fail(`unsupported dtype${named} (supported: '<f8', '<f4', '<i4', '<i8')`);
}

function checkShape(shape: PyValue, fail: (msg: string) => never): number[] {
  if (!Array.isArray(shape)) return fail(`.npy header 'shape' must be a tuple of integers, got ${article(kindOf(shape))}`);
  const out: number[] = [];
  let total = 1;
  for (const d of shape) {
    if (typeof d !== 'bigint') {
      return fail(`.npy header 'shape' has a non-integer entry (${article(kindOf(d))})`);
    }
    if (d < 0n) return fail(`.npy header 'shape' has a negative entry ${d}`);
    if (d > BigInt(Number.MAX_SAFE_INTEGER)) return fail(`.npy header 'shape' entry ${d} is too large`);
    out.push(Number(d));
    total *= Number(d);
  }
  if (!Number.isSafeInteger(total)) return fail(`.npy header 'shape' (${out.join(', ')}) is too large`);
  return out;
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Names the kind of a header value for messages, which must not quote the file's own text. */
function kindOf(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'tuple';
  return 'dict';
}

function article(kind: string): string {
  return kind === 'None' ? kind : `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
}

/** A syntax error in a Python literal. `reason` never contains the literal's text, so callers may show it for untrusted input. */
export class PyLiteralError extends Error {
  constructor(
    readonly reason: string,
    /** 1-based character position of the problem. */
    readonly column: number,
  ) {
    super(`${reason} at column ${column}`);
    this.name = 'PyLiteralError';
  }
}

// ---------------------------------------------------------------------------------------------
// Python literal parser. The header is `repr()` of a dict; numpy reads it with
// ast.literal_eval. We never eval: this accepts only the literal subset numpy can produce.

/** Ints are bigint so that `3` and `3.0` stay distinguishable (a float shape entry is an error). Tuples and lists are arrays. */
export type PyValue = string | bigint | number | boolean | null | PyValue[] | Map<string, PyValue>;

/**
 * Parses a Python literal: dict, tuple, list, str, int, float, True/False/None.
 * @throws PyLiteralError with the column of the problem (and no text of the literal).
 */
export function parsePyLiteral(text: string): PyValue {
  let pos = 0;
  const err: (msg: string) => never = (msg) => {
    throw new PyLiteralError(msg, pos + 1);
  };
  const ws = (): void => {
    while (pos < text.length && ' \t\r\n'.includes(text[pos]!)) pos++;
  };
  const peek = (): string => text[pos] ?? '';

  const value = (depth: number): PyValue => {
    // Nesting bound keeps a hostile header from blowing the stack.
    if (depth > 64) err('nesting too deep');
    ws();
    const ch = peek();
    if (ch === '{') return dict(depth);
    if (ch === '(') return seq(depth, ')');
    if (ch === '[') return seq(depth, ']');
    if (ch === "'" || ch === '"') return str();
    if (/[bBuU]/.test(ch) && (text[pos + 1] === "'" || text[pos + 1] === '"')) {
      pos++;
      return str();
    }
    if (/[-+0-9.]/.test(ch)) return num();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(pos))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      pos += word.length;
      return word === 'True' ? true : word === 'False' ? false : null;
    }
    return err(ch === '' ? 'unexpected end of text' : word !== undefined ? 'unexpected name' : 'unexpected character');
  };

  const dict = (depth: number): Map<string, PyValue> => {
    pos++; // '{'
    const m = new Map<string, PyValue>();
    for (;;) {
      ws();
      if (peek() === '}') {
        pos++;
        return m;
      }
      const k = value(depth + 1);
      if (typeof k !== 'string') err('dict keys must be strings');
      ws();
      if (peek() !== ':') err("expected ':'");
      pos++;
      m.set(k, value(depth + 1));
      ws();
      if (peek() === ',') pos++;
      else if (peek() !== '}') err("expected ',' or '}'");
    }
  };

  /** `(x)` is just x in Python; only a comma makes a tuple. */
  const seq = (depth: number, close: ')' | ']'): PyValue => {
    pos++;
    const items: PyValue[] = [];
    let sawComma = false;
    for (;;) {
      ws();
      if (peek() === close) {
        pos++;
        return close === ')' && items.length === 1 && !sawComma ? items[0]! : items;
      }
      items.push(value(depth + 1));
      ws();
      if (peek() === ',') {
        pos++;
        sawComma = true;
      } else if (peek() !== close) err(`expected ',' or '${close}'`);
    }
  };

  const str = (): string => {
    const q = text[pos++]!;
    let out = '';
    for (;;) {
      if (pos >= text.length) err('unterminated string');
      const c = text[pos++]!;
      if (c === q) return out;
      if (c === '\n') err('newline in string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[pos++] ?? '';
      const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0' };
      if (e in simple) out += simple[e];
      else if (e === 'x' || e === 'u') {
        const len = e === 'x' ? 2 : 4;
        const hex = text.slice(pos, pos + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) err(`bad \\${e} escape`);
        out += String.fromCharCode(parseInt(hex, 16));
        pos += len;
      } else out += `\\${e}`; // Python keeps unknown escapes verbatim.
    }
  };

  const num = (): bigint | number => {
    const m = /^[-+]?(?:(\d+)[lL]?(?![\d.eEjJ])|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|nan)/.exec(text.slice(pos));
    if (!m || m[0] === '' || /^[-+]$/.test(m[0])) return err('bad number');
    pos += m[0].length;
    const lit = m[0];
    // Python 2 wrote shape entries as `3L`; accept them as ints.
    if (m[1] !== undefined) return BigInt(lit.replace(/[lL]$/, ''));
    return Number(lit);
  };

  const v = value(0);
  ws();
  if (pos < text.length) err('unexpected text after the literal');
  return v;
}

/** Python-style rendering for error messages. */
export function pyRepr(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(1) : String(v);
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return v.length === 1 ? `(${pyRepr(v[0]!)},)` : `(${v.map(pyRepr).join(', ')})`;
  return `{${[...v].map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
}

// ---------------------------------------------------------------------------------------------

export interface FieldBundleAxis {
  /** File name (relative to the bundle's directory) of this axis's cell centres. */
  file: string;
  cells: number;
  /** First and last cell centre. */
  firstCentre: number;
  lastCentre: number;
  /**
   * Domain edges, extrapolated half a cell beyond the outer centres. null for a single-cell
   * axis, whose width the centres cannot tell.
   */
  lo: number | null;
  hi: number | null;
}

/** Contents of `<base>.json`. */
export interface FieldBundleManifest {
  format: 'fpsolve-field';
  version: 1;
  /** File name of the field array, C order, axis i of the array = axis i of the grid. */
  field: string;
  shape: number[];
  axes: FieldBundleAxis[];
  meta: Record<string, unknown>;
}

/**
 * Writes a density with its grid: `<base>.npy` (field, C order), `<base>-axis<i>.npy` (cell
 * centres of axis i) and `<base>.json` (manifest). Each file is written atomically; the
 * manifest goes last so that its presence means the arrays it names are complete.
 *
 * In NumPy: `f = np.load('base.npy'); x = np.load('base-axis0.npy')`, and `f[i, j]` is the
 * value at `(x[i], y[j])`.
 *
 * @returns the paths written, manifest last.
 */
export function writeFieldBundle(
  dir: string,
  base: string,
  field: Float64Array,
  shape: readonly number[],
  axes: readonly Float64Array[],
  meta: Record<string, unknown>,
): string[] {
  if (base === '' || base !== basename(base) || base.includes('\\')) {
    throw new RangeError(`writeFieldBundle: base must be a plain file name, got '${base}'`);
  }
  if (axes.length !== shape.length) {
    throw new RangeError(`writeFieldBundle: ${axes.length} axes for a ${shape.length}-D field`);
  }
  axes.forEach((a, i) => {
    if (a.length !== shape[i]) throw new RangeError(`writeFieldBundle: axis ${i} has ${a.length} centres but shape[${i}] is ${shape[i]}`);
  });
  // Encode everything before writing anything, so a shape error leaves no partial bundle.
  const fieldBytes = encodeNpy(field, shape);
  const axisBytes = axes.map((a) => encodeNpy(a, [a.length]));

  const written: string[] = [];
  const fieldName = `${base}.npy`;
  writeFileAtomic(join(dir, fieldName), fieldBytes);
  written.push(join(dir, fieldName));
  const axisInfo: FieldBundleAxis[] = axes.map((a, i) => {
    const file = `${base}-axis${i}.npy`;
    writeFileAtomic(join(dir, file), axisBytes[i]!);
    written.push(join(dir, file));
    const n = a.length;
    const first = a[0] ?? NaN;
    const last = a[n - 1] ?? NaN;
    return {
      file,
      cells: n,
      firstCentre: first,
      lastCentre: last,
      lo: n >= 2 ? first - (a[1]! - first) / 2 : null,
      hi: n >= 2 ? last + (last - a[n - 2]!) / 2 : null,
    };
  });
  const manifest: FieldBundleManifest = {
    format: 'fpsolve-field',
    version: 1,
    field: fieldName,
    shape: [...shape],
    axes: axisInfo,
    meta,
  };
  const manifestPath = join(dir, `${base}.json`);
  writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  written.push(manifestPath);
  return written;
}
