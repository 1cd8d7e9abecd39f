import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { encodeVti, writeVti } from '../src/io/vti.js';

const hasPython = spawnSync('python3', ['-c', 'pass'], { stdio: 'ignore' }).status === 0;

/** Value that encodes its own C-order multi-index, so misplaced cells are detectable. */
function indexField(shape: number[]): Float64Array {
  const [nx, ny = 1, nz = 1] = shape;
  const f = new Float64Array(nx! * ny * nz);
  for (let i = 0; i < nx!; i++) for (let j = 0; j < ny; j++) for (let k = 0; k < nz; k++) f[(i * ny + j) * nz + k] = 100 * i + 10 * j + k + 0.5;
  return f;
}

/** Minimal well-formedness check: tags balance and nest, attributes are quoted. */
function checkXml(xml: string): void {
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  for (const m of body.matchAll(/<(\/?)([A-Za-z]+)((?:\s+[A-Za-z_]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, tag, , selfClose] = m;
    if (close) expect(stack.pop()).toBe(tag);
    else if (!selfClose) stack.push(tag!);
  }
  expect(stack).toEqual([]);
  // Every '<' must have belonged to a tag we recognised.
  expect(body.replace(/<(\/?)([A-Za-z]+)((?:\s+[A-Za-z_]+="[^"<]*")*)\s*(\/?)>/g, '')).not.toContain('<');
}

function attr(xml: string, tag: string, name: string): string {
  const m = new RegExp(`<${tag}\\b[^>]*\\s${name}="([^"]*)"`).exec(xml);
  if (!m) throw new Error(`no ${tag}@${name}`);
  return m[1]!;
}

function payload(xml: string): string {
  return /<DataArray[^>]*>([\s\S]*?)<\/DataArray>/.exec(xml)![1]!.trim();
}

function decodeBinary(b64: string): { header: bigint; values: number[] } {
  const bytes = Buffer.from(b64, 'base64');
  const header = bytes.readBigUInt64LE(0);
  const values: number[] = [];
  for (let off = 8; off < bytes.length; off += 8) values.push(bytes.readDoubleLE(off));
  return { header, values };
}

/** Expected values in VTK order (x fastest) for the field from indexField. */
function vtkOrdered(shape: number[]): number[] {
  const [nx, ny = 1, nz = 1] = shape;
  const out: number[] = [];
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx!; i++) out.push(100 * i + 10 * j + k + 0.5);
  return out;
}

describe('encodeVti', () => {
  it('3-D: cell data with the right extent, origin, spacing and payload', () => {
    const shape = [2, 3, 4];
    const xml = encodeVti(indexField(shape), shape, [-1, 0, 0.5], [1, 0.25, 1e-3], 'density');
    checkXml(xml);
    expect(xml.startsWith('<?xml version="1.0"?>\n<VTKFile type="ImageData"')).toBe(true);
    expect(attr(xml, 'VTKFile', 'header_type')).toBe('UInt64');
    expect(attr(xml, 'VTKFile', 'byte_order')).toBe('LittleEndian');
    expect(attr(xml, 'ImageData', 'WholeExtent')).toBe('0 2 0 3 0 4');
    expect(attr(xml, 'Piece', 'Extent')).toBe('0 2 0 3 0 4');
    expect(attr(xml, 'ImageData', 'Origin').split(' ').map(Number)).toEqual([-1, 0, 0.5]);
    expect(attr(xml, 'ImageData', 'Spacing').split(' ').map(Number)).toEqual([1, 0.25, 1e-3]);
    expect(xml).toMatch(/<PointData>\s*<\/PointData>/);
    expect(xml).toMatch(/<CellData Scalars="density">\s*<DataArray type="Float64" Name="density"/);
    expect(attr(xml, 'DataArray', 'format')).toBe('binary');
    const { header, values } = decodeBinary(payload(xml));
    expect(header).toBe(24n * 8n);
    expect(values).toEqual(vtkOrdered(shape));
  });

  it.each([
    [[5], '0 5 0 0 0 0'],
    [[3, 2], '0 3 0 2 0 0'],
    [[3, 1], '0 3 0 1 0 0'],
  ])('pads shape %j to 3-D with flat axes', (shape, extent) => {
    const xml = encodeVti(indexField(shape), shape, shape.map(() => 0), shape.map(() => 0.5), 'rho');
    checkXml(xml);
    expect(attr(xml, 'ImageData', 'WholeExtent')).toBe(extent);
    expect(attr(xml, 'ImageData', 'Spacing')).toBe([0.5, 0.5, 0.5].map((s, k) => (k < shape.length ? s : 1)).join(' '));
    expect(decodeBinary(payload(xml)).values).toEqual(vtkOrdered(shape));
  });

  it('ascii payload decodes to the same values', () => {
    const shape = [3, 2, 2];
    const field = indexField(shape);
    field[1] = 0.1 + 0.2;
    const xml = encodeVti(field, shape, [0, 0, 0], [1, 1, 1], 'rho', { encoding: 'ascii' });
    checkXml(xml);
    expect(attr(xml, 'DataArray', 'format')).toBe('ascii');
    const values = payload(xml).split(/\s+/).map(Number);
    const expected = vtkOrdered(shape);
    expected[0 + 3 * (0 + 2 * 1)] = 0.1 + 0.2; // C index 1 = (i0, j0, k1)
    expect(values).toEqual(expected);
  });

  it('escapes the array name', () => {
    const xml = encodeVti(Float64Array.of(1), [1], [0], [1], 'p<"&">');
    checkXml(xml);
    expect(attr(xml, 'DataArray', 'Name')).toBe('p&lt;&quot;&amp;&quot;&gt;');
  });

  it('rejects inconsistent arguments', () => {
    expect(() => encodeVti(new Float64Array(6), [2, 3], [0], [1, 1], 'f')).toThrow(RangeError);
    expect(() => encodeVti(new Float64Array(5), [2, 3], [0, 0], [1, 1], 'f')).toThrow(/holds 6 cells/);
    expect(() => encodeVti(new Float64Array(6), [2, 3], [0, 0], [1, 0], 'f')).toThrow(/spacing/);
    expect(() => encodeVti(new Float64Array(16), [2, 2, 2, 2], [0, 0, 0, 0], [1, 1, 1, 1], 'f')).toThrow(/1 to 3 axes/);
  });

  it.skipIf(!hasPython)('an XML parser and struct decode agree (python stdlib)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fpsolve-vti-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'f.vti');
    const shape = [4, 3];
    writeVti(path, indexField(shape), shape, [0, -1], [0.25, 2 / 3], 'density');
    expect(readFileSync(path, 'utf8')).toContain('<CellData');
    const script = `import sys, json, base64, struct, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
img = root.find('ImageData'); arr = img.find('Piece/CellData/DataArray')
raw = base64.b64decode(arr.text.strip())
(n,) = struct.unpack('<Q', raw[:8])
print(json.dumps({"type": root.get('type'), "extent": img.get('WholeExtent'), "spacing": [float(s) for s in img.get('Spacing').split()],
  "n": n, "values": list(struct.unpack('<%dd' % (n // 8), raw[8:8 + n])), "pointArrays": len(img.findall('Piece/PointData/DataArray'))}))`;
    const r = spawnSync('python3', ['-c', script, path], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      type: 'ImageData',
      extent: '0 4 0 3 0 0',
      spacing: [0.25, 2 / 3, 1],
      n: 12 * 8,
      values: vtkOrdered(shape),
      pointArrays: 0,
    });
  });
});
