/**
 * VTK XML ImageData (`.vti`) output, for looking at densities in ParaView or VisIt.
 *
 * The field is cell data: finite-volume unknowns are cell averages, and stored as point data
 * ParaView would interpolate them as if they sat on the cell corners, shifting the picture by
 * half a cell.
 */
import ndarray from 'ndarray';
import ops from 'ndarray-ops';
import { writeFileAtomic } from './atomic.js';
import { cStrides } from '../field/field.js';

export interface VtiOptions {
  /**
   * 'binary' (default): base64 of a UInt64 byte count followed by little-endian Float64 values,
   * exact and about a third the size of ASCII. 'ascii': whitespace-separated decimal values
   * (round-trip precision), for diffing and debugging; VTK's ASCII reader may not accept NaN.
   */
  encoding?: 'binary' | 'ascii';
}

/**
 * Encodes a 1-, 2- or 3-D cell field as a `.vti` document.
 *
 * @param field values in C order: the last axis varies fastest, as in NumPy.
 * @param shape cells per axis. Array axis i is VTK axis i (x, y, z); shapes shorter than 3 are
 *   padded with flat axes, so a 2-D field is a flat image in the x-y plane.
 * @param origin lower corner of the domain (the outer edge of the first cell, not its centre), per axis.
 * @param spacing cell width per axis.
 * @param name array name shown in ParaView.
 */
export function encodeVti(
  field: Float64Array,
  shape: readonly number[],
  origin: readonly number[],
  spacing: readonly number[],
  name: string,
  opts: VtiOptions = {},
): string {
  const nd = shape.length;
  if (nd < 1 || nd > 3) throw new RangeError(`encodeVti: shape must have 1 to 3 axes, got ${nd}`);
  if (origin.length !== nd || spacing.length !== nd) {
    throw new RangeError(`encodeVti: origin and spacing need ${nd} entries each, got ${origin.length} and ${spacing.length}`);
  }
  let count = 1;
  for (const n of shape) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`encodeVti: shape entries must be positive integers, got (${shape.join(', ')})`);
    count *= n;
  }
  if (field.length !== count) throw new RangeError(`encodeVti: shape (${shape.join(', ')}) holds ${count} cells but field has ${field.length}`);
  for (const h of spacing) if (!(h > 0) || !Number.isFinite(h)) throw new RangeError(`encodeVti: spacing must be positive and finite, got ${h}`);
  for (const o of origin) if (!Number.isFinite(o)) throw new RangeError(`encodeVti: origin must be finite, got ${o}`);
  if (name === '') throw new RangeError('encodeVti: name must not be empty');

  // A padded axis gets extent 0..0 (one point, no cells), so VTK treats the data as 1-D/2-D
  // cells rather than slabs one unit thick.
  const cells = [0, 1, 2].map((k) => shape[k] ?? 0);
  const org = [0, 1, 2].map((k) => origin[k] ?? 0);
  const spc = [0, 1, 2].map((k) => spacing[k] ?? 1);
  const extent = cells.map((n) => `0 ${n}`).join(' ');

  const values = toVtkOrder(field, shape);
  const encoding = opts.encoding ?? 'binary';
  const payload = encoding === 'binary' ? base64Payload(values) : asciiPayload(values);
  const attrName = xmlAttr(name);

  return [
    '<?xml version="1.0"?>',
    '<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64">',
    `  <ImageData WholeExtent="${extent}" Origin="${org.map(num).join(' ')}" Spacing="${spc.map(num).join(' ')}">`,
    `    <Piece Extent="${extent}">`,
    '      <PointData>',
    '      </PointData>',
    `      <CellData Scalars="${attrName}">`,
    `        <DataArray type="Float64" Name="${attrName}" NumberOfComponents="1" format="${encoding}">`,
    payload,
    '        </DataArray>',
    '      </CellData>',
    '    </Piece>',
    '  </ImageData>',
    '</VTKFile>',
    '',
  ].join('\n');
}

/** Writes {@link encodeVti} output to `path` atomically. */
export function writeVti(
  path: string,
  field: Float64Array,
  shape: readonly number[],
  origin: readonly number[],
  spacing: readonly number[],
  name: string,
  opts: VtiOptions = {},
): void {
  writeFileAtomic(path, encodeVti(field, shape, origin, spacing, name, opts));
}

/**
 * VTK image arrays run x fastest (i + nx*(j + ny*k)); ours run the last axis fastest. The output is
 * the same shape viewed with Fortran strides, so one element-wise assign transposes.
 */
function toVtkOrder(field: Float64Array, shape: readonly number[]): Float64Array {
  if (shape.length === 1) return field;
  const out = new Float64Array(field.length);
  const fortran = cStrides([...shape].reverse()).reverse();
  ops.assign(ndarray(out, shape.slice(), fortran), ndarray(field, shape.slice(), cStrides(shape)));
  return out;
}

function base64Payload(values: Float64Array): string {
  const bytes = new Uint8Array(8 + values.length * 8);
  const view = new DataView(bytes.buffer);
  // Uncompressed inline binary: one base64 stream of [UInt64 byte count][data] (header_type="UInt64").
  view.setBigUint64(0, BigInt(values.length * 8), true);
  for (let i = 0; i < values.length; i++) view.setFloat64(8 + 8 * i, values[i]!, true);
  return `          ${Buffer.from(bytes.buffer).toString('base64')}`;
}

function asciiPayload(values: Float64Array): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 6) {
    lines.push(`          ${Array.from(values.subarray(i, i + 6), num).join(' ')}`);
  }
  return lines.join('\n');
}

function num(x: number): string {
  return Object.is(x, -0) ? '0' : String(x);
}

function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
