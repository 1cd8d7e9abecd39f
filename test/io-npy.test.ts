import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { decodeNpy, encodeNpy, parsePyLiteral, readNpy, writeFieldBundle, writeNpy } from '../src/io/npy.js';
import type { FieldBundleManifest } from '../src/io/npy.js';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fpsolve-npy-'));
  made.push(d);
  return d;
}

function python(script: string, args: string[] = []): string {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Deterministic, non-trivial values (not integers, distinct per index). */
function sample(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => Math.sin(i + 0.5) * 10 ** ((i % 7) - 3));
}

const SHAPES: number[][] = [[7], [3, 5], [2, 3, 4]];

describe('npy writer', () => {
  it.each(SHAPES)('round-trips shape %j', (...shape) => {
    const dir = tempDir();
    const n = shape.reduce((a, b) => a * b, 1);
    const data = sample(n);
    const path = join(dir, 'a.npy');
    writeNpy(path, data, shape);
    const back = readNpy(path);
    expect(back.shape).toEqual(shape);
    expect(back.fortranOrder).toBe(false);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it('round-trips a scalar, an empty array and special values', () => {
    const dir = tempDir();
    writeNpy(join(dir, 's.npy'), Float64Array.of(-0), []);
    const s = readNpy(join(dir, 's.npy'));
    expect(s.shape).toEqual([]);
    expect(Object.is(s.data[0], -0)).toBe(true);

    writeNpy(join(dir, 'e.npy'), new Float64Array(0), [0, 3]);
    expect(readNpy(join(dir, 'e.npy'))).toEqual({ data: new Float64Array(0), shape: [0, 3], fortranOrder: false });

    const special = Float64Array.of(NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE);
    writeNpy(join(dir, 'x.npy'), special, [5]);
    expect(Array.from(readNpy(join(dir, 'x.npy')).data)).toEqual(Array.from(special));
  });

  it('writes a spec-conformant v1.0 header padded to 64 bytes', () => {
    for (const shape of [...SHAPES, [], [123456789, 0, 1]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const bytes = Buffer.from(encodeNpy(sample(n), shape));
      expect(bytes.subarray(0, 6).equals(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]))).toBe(true);
      expect([bytes[6], bytes[7]]).toEqual([1, 0]);
      const headerLen = bytes.readUInt16LE(8);
      const total = 10 + headerLen;
      expect(total % 64).toBe(0);
      const text = bytes.subarray(10, total).toString('latin1');
      expect(text.endsWith('\n')).toBe(true);
      expect(/^[\x20-\x7e]*\n$/.test(text)).toBe(true);
      const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
      expect(text.trimEnd()).toBe(`{'descr': '<f8', 'fortran_order': False, 'shape': ${shapeText}, }`);
      expect(bytes.length).toBe(total + 8 * n);
      // Data follows the header directly, little-endian.
      if (n > 0) expect(bytes.readDoubleLE(total)).toBe(sample(n)[0]);
    }
  });

  it('writes float32 when asked', () => {
    const bytes = Buffer.from(encodeNpy(Float64Array.of(0.1, 2), [2], { dtype: '<f4' }));
    const back = decodeNpy(bytes);
    expect(Array.from(back.data)).toEqual([Math.fround(0.1), 2]);
    expect(bytes.toString('latin1')).toContain("'descr': '<f4'");
  });

  it('rejects a shape that does not match the data', () => {
    expect(() => encodeNpy(new Float64Array(5), [2, 3])).toThrow(RangeError);
    expect(() => encodeNpy(new Float64Array(0), [-1])).toThrow(RangeError);
  });
});

describe.skipIf(!hasNumpy)('npy interoperability with NumPy', () => {
  it.each(SHAPES)('numpy loads what we write, shape %j', (...shape) => {
    const dir = tempDir();
    const n = shape.reduce((a, b) => a * b, 1);
    const data = sample(n);
    const path = join(dir, 'a.npy');
    writeNpy(path, data, shape);
    const out = python(
      `import sys, json, numpy as np
a = np.load(sys.argv[1], allow_pickle=False)
print(json.dumps({"shape": list(a.shape), "dtype": a.dtype.str, "c": bool(a.flags.c_contiguous),
  "values": [float(x) for x in a.ravel(order="C")], "sum": float(a.sum()), "last": float(a[(-1,)*a.ndim])}))`,
      [path],
    );
    const r = JSON.parse(out) as { shape: number[]; dtype: string; c: boolean; values: number[]; sum: number; last: number };
    expect(r.shape).toEqual(shape);
    expect(r.dtype).toBe('<f8');
    expect(r.c).toBe(true);
    expect(r.values).toEqual(Array.from(data));
    expect(r.last).toBe(data[n - 1]);
    expect(r.sum).toBeCloseTo(data.reduce((a, b) => a + b, 0), 12);
  });

  it('reads what numpy writes: dtypes, Fortran order, versions 1.0/2.0/3.0', () => {
    const dir = tempDir();
    python(
      `import sys, os, numpy as np
d = sys.argv[1]
base = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 1.5 - 7
np.save(os.path.join(d, 'f8.npy'), base)
np.save(os.path.join(d, 'f4.npy'), base.astype('<f4'))
np.save(os.path.join(d, 'i4.npy'), np.arange(-6, 6, dtype='<i4').reshape(3, 4))
np.save(os.path.join(d, 'i8.npy'), np.array([-(2**40), 0, 2**40], dtype='<i8'))
np.save(os.path.join(d, 'fort.npy'), np.asfortranarray(base))
np.save(os.path.join(d, 'fort2.npy'), np.asfortranarray(base[0]))
for v in (1, 2, 3):
    with open(os.path.join(d, f'v{v}.npy'), 'wb') as f:
        np.lib.format.write_array(f, base, version=(v, 0))
np.save(os.path.join(d, 'big.npy'), base.astype('>f8'))
np.save(os.path.join(d, 'c16.npy'), base.astype(np.complex128))
`,
      [dir],
    );
    const expected = Array.from({ length: 24 }, (_, i) => i * 1.5 - 7);
    for (const f of ['f8', 'v1', 'v2', 'v3']) {
      const r = readNpy(join(dir, `${f}.npy`));
      expect(r.shape, f).toEqual([2, 3, 4]);
      expect(Array.from(r.data), f).toEqual(expected);
    }
    expect(readFileSync(join(dir, 'v2.npy'))[6]).toBe(2);
    expect(readFileSync(join(dir, 'v3.npy'))[6]).toBe(3);
    expect(Array.from(readNpy(join(dir, 'f4.npy')).data)).toEqual(expected);
    expect(readNpy(join(dir, 'i4.npy'))).toEqual({
      data: Float64Array.from({ length: 12 }, (_, i) => i - 6),
      shape: [3, 4],
      fortranOrder: false,
    });
    expect(Array.from(readNpy(join(dir, 'i8.npy')).data)).toEqual([-(2 ** 40), 0, 2 ** 40]);

    const fort = readNpy(join(dir, 'fort.npy'));
    expect(fort.fortranOrder).toBe(true);
    expect(fort.shape).toEqual([2, 3, 4]);
    expect(Array.from(fort.data)).toEqual(expected);
    const fort2 = readNpy(join(dir, 'fort2.npy'));
    expect(fort2.fortranOrder).toBe(true);
    expect(Array.from(fort2.data)).toEqual(expected.slice(0, 12));

    expect(() => readNpy(join(dir, 'big.npy'))).toThrow(/big-endian dtype '>f8'/);
    expect(() => readNpy(join(dir, 'c16.npy'))).toThrow(/unsupported dtype '<c16'/);
  });

  it('field bundle arrays load in numpy with matching axes', () => {
    const dir = tempDir();
    const x = Float64Array.from({ length: 4 }, (_, i) => -1 + 0.25 + 0.5 * i);
    const y = Float64Array.from({ length: 3 }, (_, j) => 2 * j);
    const f = Float64Array.from({ length: 12 }, (_, c) => x[Math.floor(c / 3)]! * 10 + y[c % 3]!);
    writeFieldBundle(dir, 'rho', f, [4, 3], [x, y], {});
    const out = python(
      `import sys, os, json, numpy as np
d = sys.argv[1]
f = np.load(os.path.join(d, 'rho.npy')); x = np.load(os.path.join(d, 'rho-axis0.npy')); y = np.load(os.path.join(d, 'rho-axis1.npy'))
print(json.dumps(bool(np.array_equal(f, x[:, None] * 10 + y[None, :]))))`,
      [dir],
    );
    expect(out.trim()).toBe('true');
  });
});

/** Builds a .npy file by hand so each field can be broken independently. */
function rawNpy(opts: {
  dict?: string;
  data?: Uint8Array;
  magic?: number[];
  major?: number;
  minor?: number;
  headerLen?: number;
}): Buffer {
  const major = opts.major ?? 1;
  const prefixLen = major === 1 ? 10 : 12;
  const dict = opts.dict ?? "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  const padded = dict.padEnd(Math.ceil((prefixLen + dict.length + 1) / 64) * 64 - prefixLen - 1, ' ') + '\n';
  const prefix = Buffer.alloc(prefixLen);
  Buffer.from(opts.magic ?? [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]).copy(prefix, 0);
  prefix[6] = major;
  prefix[7] = opts.minor ?? 0;
  const len = opts.headerLen ?? padded.length;
  if (major === 1) prefix.writeUInt16LE(len, 8);
  else prefix.writeUInt32LE(len, 8);
  const data = opts.data ?? Buffer.from(new Float64Array([1, 2]).buffer);
  return Buffer.concat([prefix, Buffer.from(padded, 'latin1'), data]);
}

describe('npy reader rejects malformed files', () => {
  const dir = tempDir();
  const cases: [string, Buffer, RegExp][] = [
    ['bad magic', rawNpy({ magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a] }), /^[^:]*: not a \.npy file \(bad magic: a \.npy file starts with "\\x93NUMPY"\)$/],
    ['too short', Buffer.from([0x93, 0x4e, 0x55]), /bad magic/],
    ['version 4.0', rawNpy({ major: 4 }), /unsupported \.npy format version 4\.0/],
    ['version 1.1', rawNpy({ minor: 1 }), /unsupported \.npy format version 1\.1/],
    ['unterminated dict', rawNpy({ dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)" }), /header is not a valid dict \(expected ',' or '}' at byte \d+ of the header\)/],
    ['code in header', rawNpy({ dict: "__import__('os').system('true')" }), /not a valid dict \(unexpected name at byte 1 of the header\)$/],
    ['header not a dict', rawNpy({ dict: '[1, 2]' }), /\.npy header is not a valid dict$/],
    ['missing key', rawNpy({ dict: "{'descr': '<f8', 'shape': (2,)}" }), /exactly the keys 'descr', 'fortran_order', 'shape'; it has 2 keys$/],
    ['bad fortran_order', rawNpy({ dict: "{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}" }), /'fortran_order' must be True or False, got an int/],
    ['unsupported dtype', rawNpy({ dict: "{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}", data: new Uint8Array(16) }), /unsupported dtype '<c16'/],
    ['structured dtype', rawNpy({ dict: "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,)}" }), /unsupported dtype \(a tuple: structured/],
    ['big-endian', rawNpy({ dict: "{'descr': '>f8', 'fortran_order': False, 'shape': (2,)}" }), /unsupported big-endian dtype '>f8'/],
    ['truncated data', rawNpy({ dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (4,)}" }), /truncated \.npy data: shape \(4\) of <f8 needs 32 bytes but the file has 16/],
    ['truncated header', rawNpy({ headerLen: 4000 }), /truncated \.npy header: header needs 4010 bytes/],
    ['huge header', rawNpy({ major: 2, headerLen: 2 ** 21 }), /header is 2097152 bytes, over the 1048576-byte limit/],
    ['negative shape', rawNpy({ dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 2)}" }), /'shape' has a negative entry -1/],
    ['float shape', rawNpy({ dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,)}" }), /'shape' has a non-integer entry \(a float\)/],
    ['fractional shape', rawNpy({ dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (1.5,)}" }), /non-integer entry \(a float\)/],
    ['shape not a tuple', rawNpy({ dict: "{'descr': '<f8', 'fortran_order': False, 'shape': 2}" }), /'shape' must be a tuple of integers, got an int/],
    ['size mismatch', rawNpy({ dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}" }), /total size mismatch: shape \(1\) of <f8 needs 8 bytes but the file has 16 \(8 extra\)/],
  ];
  it.each(cases)('%s', (name, bytes, message) => {
    const path = join(dir, `${name.replace(/\W+/g, '_')}.npy`);
    writeFileSync(path, bytes);
    let caught: unknown;
    try {
      readNpy(path);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    const e = caught as InputError;
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`${path}: `)).toBe(true);
    expect(e.file).toBe(path);
    expect(e.exitCode).toBe(2);
  });

  it('a missing file is an InputError naming it', () => {
    const path = join(dir, 'nope.npy');
    expect(() => readNpy(path)).toThrow(InputError);
    expect(() => readNpy(path)).toThrow(path);
  });

  it('accepts the legacy variations numpy has written', () => {
    // Python 2 longs, double quotes, no trailing comma, lists, extra whitespace.
    const ok = rawNpy({ dict: '{"descr":"<f8","shape":[2L],"fortran_order":False}' });
    expect(decodeNpy(ok).shape).toEqual([2]);
  });
});

describe('python literal parser', () => {
  it('parses the subset numpy headers use', () => {
    const v = parsePyLiteral("{'a': (1, 2,), 'b': (), 'c': (3,), 'd': ('x\\'y',), 'e': None, 'f': True, 'g': -1.5e3, 'h': (7)}");
    expect(v).toEqual(
      new Map<string, unknown>([
        ['a', [1n, 2n]],
        ['b', []],
        ['c', [3n]],
        ['d', ["x'y"]],
        ['e', null],
        ['f', true],
        ['g', -1500],
        ['h', 7n],
      ]),
    );
  });
  it.each(['{', "{'a' 1}", '{1: 2}', "{'a': 1} x", "{'a': (1 2)}", "{'a': 'b}", '{"a": open}'])('rejects %s', (text) => {
    expect(() => parsePyLiteral(text)).toThrow(/at column \d+/);
  });
});

describe('writeFieldBundle', () => {
  it('writes field, axes and manifest, and returns their paths', () => {
    const dir = join(tempDir(), 'nested', 'out');
    const x = Float64Array.from({ length: 4 }, (_, i) => -1 + 0.25 + 0.5 * i);
    const y = Float64Array.of(5);
    const f = sample(4);
    const paths = writeFieldBundle(dir, 'rho', f, [4, 1], [x, y], { t: 1.5, scenario: 'quad' });
    expect(paths).toEqual(['rho.npy', 'rho-axis0.npy', 'rho-axis1.npy', 'rho.json'].map((p) => join(dir, p)));
    expect(readNpy(paths[0]!)).toEqual({ data: f, shape: [4, 1], fortranOrder: false });
    expect(readNpy(paths[1]!).data).toEqual(x);
    expect(readNpy(paths[2]!).data).toEqual(y);
    const m = JSON.parse(readFileSync(paths[3]!, 'utf8')) as FieldBundleManifest;
    expect(m.shape).toEqual([4, 1]);
    expect(m.field).toBe('rho.npy');
    expect(m.meta).toEqual({ t: 1.5, scenario: 'quad' });
    expect(m.axes[0]).toEqual({ file: 'rho-axis0.npy', cells: 4, firstCentre: -0.75, lastCentre: 0.75, lo: -1, hi: 1 });
    expect(m.axes[1]).toEqual({ file: 'rho-axis1.npy', cells: 1, firstCentre: 5, lastCentre: 5, lo: null, hi: null });
  });

  it('rejects inconsistent axes before writing anything', () => {
    const dir = join(tempDir(), 'never');
    expect(() => writeFieldBundle(dir, 'rho', new Float64Array(6), [2, 3], [new Float64Array(2)], {})).toThrow(/1 axes for a 2-D field/);
    expect(() => writeFieldBundle(dir, 'rho', new Float64Array(6), [2, 3], [new Float64Array(2), new Float64Array(2)], {})).toThrow(
      /axis 1 has 2 centres/,
    );
    expect(() => writeFieldBundle(dir, 'rho', new Float64Array(5), [2, 3], [new Float64Array(2), new Float64Array(3)], {})).toThrow(RangeError);
    expect(() => writeFieldBundle(dir, '../rho', new Float64Array(2), [2], [new Float64Array(2)], {})).toThrow(/plain file name/);
    expect(() => readFileSync(dir)).toThrow(/ENOENT/);
  });
});
