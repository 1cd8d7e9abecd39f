/**
 * `run --zarr` / `--snapshots` write density.zarr (docs/outputs.md "density.zarr"). Read back two
 * ways: with zarrita in this process, and with xarray + zarr-python (Debian's python3-xarray and
 * python3-zarr at /usr/bin/python3) when they are installed. The values must equal density.npy and
 * pi.npy; each stored density must be the one of its time, checked against the l1 distance and
 * mass the run measured at that time (report.json), recomputed here from the stored values.
 * Runs: the 1-D Pearson diffusion (docs/oracles.md §1) and the 2-D/3-D scenarios on small grids.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import FileSystemStore from '@zarrita/storage/fs';
import { runCli } from '../src/cli/main.js';
import { EXIT } from '../src/errors.js';
import { readNpy } from '../src/io/npy.js';
import { CHUNK_BYTES, timeChunkLength, writeZarr } from '../src/io/zarr.js';
import { everyReportTime, pickSnapshots } from '../src/io/density-zarr.js';
import { runScenario } from '../src/run/run.js';
import { loadScenario } from '../src/scenario/load.js';
import { snapshotTimes } from '../src/plot/run-figures.js';
import { packageRoot } from '../src/paths.js';

const ROOT = packageRoot();
const scenario = (name: string): string => join(ROOT, 'scenarios', `${name}.yaml`);
const PYTHON = '/usr/bin/python3';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fps-zarr-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  status: string;
  fpsolve: string;
  scenario: { name: string };
  grid: { h: number[] };
  series: { t: number; l1: number; mass: number }[];
  final: { t: number };
}

async function run(name: string, out: string, args: string[]): Promise<Report> {
  const r = await runCli(['run', scenario(name), '--quiet', '--no-gap', '--out', out, ...args]);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
}

async function readArray(store: string, name: string): Promise<{ data: Float64Array; shape: number[]; attrs: Record<string, unknown> }> {
  const arr = await zarr.open.v2(zarr.root(new FileSystemStore(store)).resolve(name), { kind: 'array' });
  const chunk = await zarr.get(arr);
  expect(chunk.data).toBeInstanceOf(Float64Array);
  return { data: chunk.data as Float64Array, shape: chunk.shape, attrs: arr.attrs as Record<string, unknown> };
}

/** ‖ρ/m − π‖₁ and m, computed here from stored values (the run's tracker computes them on its own). */
function l1AndMass(rho: Float64Array, pi: Float64Array, vol: number): { l1: number; mass: number } {
  let m = 0;
  for (const v of rho) m += v;
  m *= vol;
  let l1 = 0;
  for (let i = 0; i < rho.length; i++) l1 += Math.abs(Math.max(rho[i]!, 0) / m - pi[i]!);
  return { l1: l1 * vol, mass: m };
}

describe('density.zarr read back with zarrita', () => {
  it('2-D with --snapshots: every report time, each density the one its time measured; the last equals density.npy', async () => {
    const out = join(dir, 'ou');
    const report = await run('ou-2d', out, ['--set', 'domain.cells=[20,16]', '--set', 'time.end=1', '--snapshots']);
    const store = join(out, 'density.zarr');
    const density = await readArray(store, 'density');
    const pi = await readArray(store, 'pi');
    const time = await readArray(store, 'time');
    expect(density.shape).toEqual([report.series.length, 20, 16]);
    expect(density.attrs._ARRAY_DIMENSIONS).toEqual(['time', 'x', 'y']);
    expect(pi.attrs._ARRAY_DIMENSIONS).toEqual(['x', 'y']);
    expect(Array.from(time.data)).toEqual(report.series.map((p) => p.t));
    const vol = report.grid.h[0]! * report.grid.h[1]!;
    const cells = 20 * 16;
    for (let k = 0; k < report.series.length; k++) {
      const got = l1AndMass(density.data.subarray(k * cells, (k + 1) * cells), pi.data, vol);
      expect(got.l1).toBeCloseTo(report.series[k]!.l1, 10);
      expect(got.mass).toBeCloseTo(report.series[k]!.mass, 12);
    }
    // The l1 distance falls over time: a store with its times shuffled would fail the loop above anyway, this says the run moved.
    expect(report.series[0]!.l1).toBeGreaterThan(2 * report.series[report.series.length - 1]!.l1);
    const npy = readNpy(join(out, 'density.npy'));
    expect(Array.from(density.data.subarray((report.series.length - 1) * cells))).toEqual(Array.from(npy.data));
    expect(Array.from(pi.data)).toEqual(Array.from(readNpy(join(out, 'pi.npy')).data));
    for (const [k, name] of ['x', 'y'].entries()) {
      const c = await readArray(store, name);
      expect(c.attrs._ARRAY_DIMENSIONS).toEqual([name]);
      expect(Array.from(c.data)).toEqual(Array.from(readNpy(join(out, `density-axis${k}.npy`)).data));
    }
    const root = await zarr.open.v2(zarr.root(new FileSystemStore(store)), { kind: 'group' });
    const attrs = root.attrs as Record<string, unknown>;
    expect(JSON.parse(attrs.scenario as string).name).toBe('ou-2d');
    expect(attrs).toMatchObject({ fpsolve_version: report.fpsolve, status: 'ok', noise_model: 'additive', noise_D: 0.1 });
    // Nothing but the store's own files: no temporary directory beside it, no staging left.
    expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('1-D --zarr without --snapshots: the final time only; 3-D: dims time, x, y, z', async () => {
    const out = join(dir, 'pearson');
    const report = await run('pearson-1d', out, ['--set', 'domain.cells=[200]', '--set', 'time.end=1', '--zarr']);
    const density = await readArray(join(out, 'density.zarr'), 'density');
    expect(density.shape).toEqual([1, 200]);
    expect(Array.from((await readArray(join(out, 'density.zarr'), 'time')).data)).toEqual([report.final.t]);
    expect(Array.from(density.data)).toEqual(Array.from(readNpy(join(out, 'density.npy')).data));
    const root = await zarr.open.v2(zarr.root(new FileSystemStore(join(out, 'density.zarr'))), { kind: 'group' });
    expect(root.attrs).toMatchObject({ noise_model: 'multiplicative', noise_eta: 0.1, noise_sigma: 10 });

    const out3 = join(dir, 'q3');
    const r3 = await run('quadratic-floor-3d', out3, ['--set', 'domain.cells=[6,5,4]', '--set', 'time.end=0.2', '--snapshots']);
    const d3 = await readArray(join(out3, 'density.zarr'), 'density');
    expect(d3.attrs._ARRAY_DIMENSIONS).toEqual(['time', 'x', 'y', 'z']);
    expect(d3.shape).toEqual([r3.series.length, 6, 5, 4]);
    expect(Array.from(d3.data.subarray((r3.series.length - 1) * 120))).toEqual(Array.from(readNpy(join(out3, 'density.npy')).data));
  });

  it('a later run replaces the store, or removes it when it writes none; --zarr/--snapshots without --out is exit 2', async () => {
    const out = join(dir, 'again');
    // 2501 report times of 100 cells: two chunks (timeChunkLength(100) = 1310).
    await run('pearson-1d', out, ['--set', 'domain.cells=[100]', '--set', 'time.end=0.5', '--set', 'time.reportEvery=0.0002', '--snapshots']);
    const first = (await readArray(join(out, 'density.zarr'), 'density')).shape;
    expect(first).toEqual([2501, 100]);
    expect(readdirSync(join(out, 'density.zarr', 'density')).filter((n) => !n.startsWith('.')).sort()).toEqual(['0.0', '1.0']);
    await run('pearson-1d', out, ['--set', 'domain.cells=[50]', '--set', 'time.end=0.2', '--snapshots']);
    expect((await readArray(join(out, 'density.zarr'), 'density')).shape).toEqual([3, 50]);
    // The earlier run's second chunk is gone, not left beside the new one, which holds just the 3 times.
    expect(readdirSync(join(out, 'density.zarr', 'density')).filter((n) => !n.startsWith('.')).sort()).toEqual(['0.0']);
    expect(readFileSync(join(out, 'density.zarr', 'density', '0.0')).length).toBe(3 * 50 * 8);
    await run('pearson-1d', out, ['--set', 'domain.cells=[50]', '--set', 'time.end=0.2']);
    expect(existsSync(join(out, 'density.zarr'))).toBe(false);
    for (const flag of ['--zarr', '--snapshots']) {
      const r = await runCli(['run', scenario('pearson-1d'), '--quiet', flag]);
      expect(r.exitCode).toBe(EXIT.badInput);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`--${flag.slice(2)} writes into the output directory`);
    }
  });

  it('writeZarr refuses inconsistent variables before writing anything', async () => {
    const path = join(dir, 'bad.zarr');
    await expect(writeZarr(path, [{ name: 'a', dims: ['x'], shape: [3], data: new Float64Array(2) }])).rejects.toThrow(/holds 3 values, data has 2/);
    await expect(writeZarr(path, [{ name: 'a', dims: ['t', 'x'], shape: [2, 3], data: [new Float64Array(3)] }])).rejects.toThrow(/needs 2 arrays of 3 values/);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('bad.zarr'))).toEqual([]);
  });
});

describe('snapshot times', () => {
  it('everyReportTime catches each report time once, also when time.end is not a multiple of reportEvery', async () => {
    for (const end of [0.25, 0.24, 0.3]) {
      const loaded = loadScenario(scenario('pearson-1d'), ['domain.cells=[40]', `time.end=${end}`, 'time.reportEvery=0.1']);
      const r = await runScenario(loaded, { gap: false, snapshots: everyReportTime(loaded.scenario.time) });
      expect(r.snapshots!.map((s) => s.t)).toEqual(r.report.series.map((p) => p.t));
    }
  });

  it('figures picked out of every report time are the snapshots a run asked only for the figure times keeps', async () => {
    const loaded = loadScenario(scenario('pearson-1d'), ['domain.cells=[40]', 'time.end=1', 'time.reportEvery=0.1']);
    const figureTimes = snapshotTimes(1);
    const alone = await runScenario(loaded, { gap: false, snapshots: figureTimes });
    const both = await runScenario(loaded, { gap: false, snapshots: [...figureTimes, ...everyReportTime(loaded.scenario.time)] });
    expect(both.snapshots!.length).toBe(11);
    const picked = pickSnapshots(both.snapshots!, figureTimes);
    expect(picked.map((s) => s.t)).toEqual(alone.snapshots!.map((s) => s.t));
    // 0.02 and 0.1 fall on the same report time: four figures' worth, not five.
    expect(picked).toHaveLength(4);
    picked.forEach((s, i) => expect(Array.from(s.density)).toEqual(Array.from(alone.snapshots![i]!.density)));
  });
});

// --- many report times: ~1 MiB chunks along time ----------------------------------------------

/** Store files below `store`, metadata included. */
function storeFiles(store: string): string[] {
  return readdirSync(store, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Deterministic values that differ at every (time, cell): a chunk written at the wrong offset shows. */
function pattern(times: number, cells: number): Float64Array[] {
  return Array.from({ length: times }, (_, t) => Float64Array.from({ length: cells }, (_, i) => Math.sin(1 + t * 0.37 + i * 1e-3) * (t + 1) + i / 7));
}

describe('density chunks along time', () => {
  it('timeChunkLength: chunks of at most 1 MiB, at least one time, as many as fit', () => {
    for (const cells of [1, 50, 100, 12345, 131072, 131073, 1 << 20]) {
      const k = timeChunkLength(cells);
      expect(k).toBeGreaterThanOrEqual(1);
      if (8 * cells <= CHUNK_BYTES) {
        expect(8 * cells * k).toBeLessThanOrEqual(CHUNK_BYTES);
        expect(8 * cells * (k + 1)).toBeGreaterThan(CHUNK_BYTES);
      } else expect(k).toBe(1);
    }
    expect(timeChunkLength(50)).toBe(2621);
    // Never longer than the array: a store of 3 times is one chunk of 3, not 3 times padded to 1 MiB.
    expect(timeChunkLength(50, 3)).toBe(3);
    expect(timeChunkLength(50, 2621)).toBe(2621);
    expect(timeChunkLength(50, 2622)).toBe(2621);
  });

  it('writeZarr: 3 chunks of 2 times for 5 times (a partial last one); zarrita reads every time back exactly, the shape hides the padding', async () => {
    const [nx, ny] = [256, 256]; // 65536 cells: timeChunkLength = 2
    expect(timeChunkLength(nx * ny)).toBe(2);
    const parts = pattern(5, nx * ny);
    const path = join(dir, 'chunks.zarr');
    await writeZarr(path, [{ name: 'density', dims: ['time', 'x', 'y'], shape: [5, nx, ny], data: parts }]);
    const meta = JSON.parse(readFileSync(join(path, 'density', '.zarray'), 'utf8')) as { chunks: number[]; shape: number[] };
    expect(meta).toMatchObject({ shape: [5, nx, ny], chunks: [2, nx, ny] });
    expect(readdirSync(join(path, 'density')).filter((n) => !n.startsWith('.')).sort()).toEqual(['0.0.0', '1.0.0', '2.0.0']);
    // Zarr v2 chunks are full-size on disk, the last one too.
    for (const c of ['0.0.0', '1.0.0', '2.0.0']) expect(readFileSync(join(path, 'density', c)).length).toBe(2 * nx * ny * 8);
    const back = await readArray(path, 'density');
    expect(back.shape).toEqual([5, nx, ny]);
    for (let t = 0; t < 5; t++) expect(back.data.subarray(t * nx * ny, (t + 1) * nx * ny)).toEqual(parts[t]);
    // One time alone (the partial chunk's), as a reader slicing the store gets it.
    const arr = await zarr.open.v2(zarr.root(new FileSystemStore(path)).resolve('density'), { kind: 'array' });
    const last = await zarr.get(arr, [4, null, null]);
    expect(last.data).toEqual(parts[4]);
  });

  it('run --snapshots with 10⁴ report times of 50 cells: about times/k chunk files, not one per time; every time equals the uninterrupted run', async () => {
    const out = join(dir, 'many');
    const sets = ['domain.cells=[50]', 'time.end=10', 'time.reportEvery=0.001'];
    const report = await run('pearson-1d', out, [...sets.flatMap((s) => ['--set', s]), '--snapshots']);
    const times = report.series.length;
    expect(times).toBe(10001);
    const k = timeChunkLength(50);
    // 10001 = 3·2621 + 2138: a partial last chunk, and more than one.
    expect(times % k).not.toBe(0);
    const chunks = Math.ceil(times / k);
    expect(chunks).toBe(4);
    const store = join(out, 'density.zarr');
    expect(readdirSync(join(store, 'density')).filter((n) => !n.startsWith('.')).sort()).toEqual(['0.0', '1.0', '2.0', '3.0']);
    // Metadata: .zgroup, .zattrs, .zmetadata, and .zarray + .zattrs for density, pi, x, time; one chunk each for pi, x, time.
    expect(storeFiles(store)).toHaveLength(3 + 4 * 2 + 3 + chunks);

    // The same run, in this process, keeping every report time in memory: the store must hold exactly those densities.
    const loaded = loadScenario(scenario('pearson-1d'), sets);
    const direct = await runScenario(loaded, { gap: false, snapshots: everyReportTime(loaded.scenario.time) });
    expect(direct.snapshots!).toHaveLength(times);
    const density = await readArray(store, 'density');
    expect(density.shape).toEqual([times, 50]);
    expect(Array.from((await readArray(store, 'time')).data)).toEqual(direct.snapshots!.map((s) => s.t));
    for (let t = 0; t < times; t++) {
      const got = density.data.subarray(t * 50, (t + 1) * 50);
      if (!got.every((v, i) => v === direct.snapshots![t]!.density[i])) throw new Error(`density at time index ${t} (t = ${direct.snapshots![t]!.t}) differs`);
    }
    const pi = await readArray(store, 'pi');
    const vol = report.grid.h[0]!;
    for (const t of [0, k - 1, k, 2 * k + 5, times - 1]) {
      const got = l1AndMass(density.data.subarray(t * 50, (t + 1) * 50), pi.data, vol);
      expect(got.l1).toBeCloseTo(report.series[t]!.l1, 10);
      expect(got.mass).toBeCloseTo(report.series[t]!.mass, 12);
    }
  }, 60_000);
});

// --- xarray ---------------------------------------------------------------------------------

const xarrayProbe = spawnSync(PYTHON, ['-c', 'import xarray, zarr, numpy'], { encoding: 'utf8' });
const xarrayMissing = xarrayProbe.error
  ? `${PYTHON} not runnable (${xarrayProbe.error.message})`
  : xarrayProbe.status !== 0
    ? `${PYTHON} lacks xarray/zarr (${xarrayProbe.stderr.trim().split('\n').pop()}); install python3-xarray python3-zarr`
    : undefined;

const CHECK_PY = String.raw`
import json, sys
import numpy as np, xarray as xr
out, dims = sys.argv[1], sys.argv[2].split(',')
ds = xr.open_zarr(out + '/density.zarr')
report = json.load(open(out + '/report.json'))
assert list(ds.density.dims) == ['time'] + dims, ds.density.dims
assert list(ds.pi.dims) == dims, ds.pi.dims
for k, d in enumerate(dims):
    assert np.array_equal(ds[d].values, np.load(out + '/density-axis%d.npy' % k)), d
assert np.array_equal(ds.time.values, [p['t'] for p in report['series']]), ds.time.values
assert np.array_equal(ds.density.isel(time=-1).values, np.load(out + '/density.npy'))
assert np.array_equal(ds.pi.values, np.load(out + '/pi.npy'))
assert not np.isnan(ds.density.values).any()
h = np.prod(report['grid']['h'])
assert np.allclose(ds.density.sum(dim=dims).values * h, [p['mass'] for p in report['series']], rtol=1e-12, atol=0)
assert json.loads(ds.attrs['scenario'])['name'] == report['scenario']['name']
assert ds.attrs['fpsolve_version'] == report['fpsolve'] and ds.attrs['status'] == report['status']
assert 'units' in ds.density.attrs and 'units' in ds.time.attrs
print('ok', dict(ds.sizes))
`;

describe('density.zarr opened by xarray (Debian python3-xarray + python3-zarr)', () => {
  it('xr.open_zarr: dims, coordinates, time, attributes and values equal density.npy/pi.npy', async (ctx) => {
    if (xarrayMissing !== undefined) {
      if (process.env.CI) throw new Error(`CI must check density.zarr with xarray: ${xarrayMissing}`);
      console.log(`skipped: ${xarrayMissing}`);
      ctx.skip();
    }
    const script = join(dir, 'check.py');
    writeFileSync(script, CHECK_PY);
    const out2 = join(dir, 'xr-2d');
    await run('ou-2d', out2, ['--set', 'domain.cells=[12,10]', '--set', 'time.end=0.5', '--snapshots']);
    const out1 = join(dir, 'xr-1d');
    await run('pearson-1d', out1, ['--set', 'domain.cells=[80]', '--set', 'time.end=0.3', '--snapshots']);
    // 10⁴ report times: four chunks along time, the last partial (the run test above counts them).
    const out3 = join(dir, 'xr-many');
    await run('pearson-1d', out3, ['--set', 'domain.cells=[50]', '--set', 'time.end=10', '--set', 'time.reportEvery=0.001', '--snapshots']);
    for (const [out, dims] of [[out2, 'x,y'], [out1, 'x'], [out3, 'x']] as const) {
      const r = spawnSync(PYTHON, [script, out, dims], { encoding: 'utf8' });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      // No "falling back to non-consolidated metadata" or other warning.
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^ok /);
    }
  });
});

const CHECK_CHUNKS_PY = String.raw`
import sys
import numpy as np, xarray as xr
store, raw = sys.argv[1], sys.argv[2]
want = np.fromfile(raw, dtype='=f8').reshape(5, 256, 256)
ds = xr.open_zarr(store)
assert ds.density.shape == (5, 256, 256), ds.density.shape
assert ds.density.encoding['chunks'] == (2, 256, 256), ds.density.encoding
assert np.array_equal(ds.density.values, want)
for t in range(5):
    assert np.array_equal(ds.density.isel(time=t).values, want[t]), t
print('ok')
`;

describe('chunked density read by xarray', () => {
  it('xr.open_zarr of 5 times in chunks of 2 (partial last chunk): every time equals what was written', async (ctx) => {
    if (xarrayMissing !== undefined) {
      if (process.env.CI) throw new Error(`CI must check density.zarr with xarray: ${xarrayMissing}`);
      console.log(`skipped: ${xarrayMissing}`);
      ctx.skip();
    }
    const parts = pattern(5, 256 * 256);
    const path = join(dir, 'xr-chunks.zarr');
    await writeZarr(path, [{ name: 'density', dims: ['time', 'x', 'y'], shape: [5, 256, 256], data: parts }]);
    const raw = join(dir, 'xr-chunks.f8');
    const all = new Float64Array(5 * 256 * 256);
    parts.forEach((p, t) => all.set(p, t * p.length));
    writeFileSync(raw, new Uint8Array(all.buffer));
    const script = join(dir, 'check-chunks.py');
    writeFileSync(script, CHECK_CHUNKS_PY);
    const r = spawnSync(PYTHON, [script, path, raw], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  });
});

// --- a full disk ----------------------------------------------------------------------------

const canMount = ((): boolean => {
  if (process.getuid?.() !== 0 || process.platform !== 'linux') return false;
  const probe = mkdtempSync(join(tmpdir(), 'fps-zarr-mount-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();

describe.skipIf(!canMount)('a disk that fills while density.zarr is written (root with mount rights only)', () => {
  it('exit 74 naming the store, one line; the earlier outputs intact; nothing left behind', async () => {
    const disk = join(dir, 'small-disk');
    mkdirSync(disk);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', disk]).status).toBe(0);
    try {
      const out = join(disk, 'out');
      const args = (extra: string[]): string[] => ['run', scenario('pearson-1d'), '--quiet', '--no-gap', '--set', 'domain.cells=[200]', '--set', 'time.end=2', '--out', out, ...extra];
      expect((await runCli(args(['--zarr']))).exitCode).toBe(0);
      const snapshot = (d: string): Record<string, string> =>
        Object.fromEntries(readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => [join(e.parentPath, e.name), readFileSync(join(e.parentPath, e.name)).toString('base64')]));
      const before = snapshot(out);
      // tmpfs takes a 4 KiB page per file: room for the .npy, .json and .csv files (8 pages) but not
      // for the store (10 metadata files a page each, 3 one-page chunks, and 21 times of 200 cells in one 9-page chunk).
      const s = statfsSync(disk);
      writeFileSync(join(disk, 'filler'), Buffer.alloc(Math.max(0, s.bavail * s.bsize - 64 * 1024)));
      const r = await runCli(args(['--snapshots']));
      expect(r.exitCode, r.stderr).toBe(EXIT.ioError);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/density\.zarr: cannot write: no space left on the device \(ENOSPC\)/);
      expect(snapshot(out)).toEqual(before);
      expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);
    } finally {
      spawnSync('umount', [disk]);
    }
  });
});
