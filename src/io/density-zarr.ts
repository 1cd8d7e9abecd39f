/**
 * `density.zarr`: a run's densities over time, π, the cell-centre coordinates and the run's
 * metadata in one Zarr store that `xr.open_zarr` opens as a Dataset (docs/outputs.md "density.zarr").
 */
import { join } from 'node:path';
import { AXIS_NAMES } from '../field/field.js';
import { writeZarr, type JsonValue, type ZarrVariable } from './zarr.js';
import type { NoiseSpec } from '../scenario/types.js';

export { AXIS_NAMES };

/** What the store needs of a grid (solvers/grid.ts's Grid has it). */
export interface StoreGrid {
  readonly dim: number;
  readonly n: readonly number[];
  readonly lo: readonly number[];
  readonly hi: readonly number[];
  readonly h: readonly number[];
  centres(axis: number): Float64Array;
}

/** One density and the time it belongs to. */
export interface TimedDensity {
  t: number;
  density: Float64Array;
}

/** What the store records about the run (a subset of report.json). */
export interface DensityStoreMeta {
  fpsolveVersion: string;
  status: string;
  error?: string;
  regime: string;
  scenarioName: string;
  /** The resolved scenario, stored as JSON text (a Zarr attribute of nested objects is awkward in netCDF tools). */
  scenario: unknown;
  noise: NoiseSpec;
}

/**
 * The densities a store holds: the snapshots, then the final density when it is later than the
 * last snapshot (a run stopped between report times, or one without snapshots).
 */
export function storeDensities(final: TimedDensity, snapshots: readonly TimedDensity[] | undefined): TimedDensity[] {
  const out = [...(snapshots ?? [])];
  const last = out[out.length - 1];
  if (last === undefined || final.t > last.t) out.push(final);
  return out;
}

/** The store's variables: density (time, x[, y[, z]]), pi (x[, y[, z]]), the coordinates x/y/z and time. */
export function densityVariables(grid: StoreGrid, densities: readonly TimedDensity[], pi: Float64Array): ZarrVariable[] {
  const dims = AXIS_NAMES.slice(0, grid.dim);
  const shape = grid.n.slice();
  const coords: ZarrVariable[] = dims.map((name, k) => ({
    name,
    dims: [name],
    shape: [grid.n[k]!],
    data: grid.centres(k),
    attrs: {
      long_name: `cell centre along axis ${k} (${name})`,
      units: 'parameter units of domain.bounds',
      cell_width: grid.h[k]!,
      domain_bounds: [grid.lo[k]!, grid.hi[k]!],
    },
  }));
  return [
    {
      name: 'density',
      dims: ['time', ...dims],
      shape: [densities.length, ...shape],
      data: densities.map((d) => d.density),
      attrs: {
        long_name: 'probability density rho(t) of the parameters (finite-volume cell averages)',
        units: `1/(parameter volume): sum over cells times ${grid.h.map((h) => String(h)).join('·')} = mass (1 at t = 0)`,
      },
    },
    {
      name: 'pi',
      dims: [...dims],
      shape,
      data: pi,
      attrs: {
        long_name: 'discrete invariant density pi, normalized on the grid (sum pi * cell volume = 1)',
        units: '1/(parameter volume)',
      },
    },
    ...coords,
    {
      name: 'time',
      dims: ['time'],
      shape: [densities.length],
      data: Float64Array.from(densities, (d) => d.t),
      // Not "<unit> since <date>": xarray would decode that as a calendar.
      attrs: { long_name: 'time of the Fokker–Planck equation (report times)', units: 'model time of time.end' },
    },
  ];
}

/** Global attributes: scenario, noise level, version, status. Flat scalars, so netCDF tools keep them too. */
export function densityAttrs(meta: DensityStoreMeta): Record<string, JsonValue> {
  const noise: Record<string, JsonValue> = { noise_model: meta.noise.model };
  if (meta.noise.model === 'multiplicative') {
    noise.noise_eta = meta.noise.eta;
    noise.noise_sigma = meta.noise.sigma;
    noise.noise_eps = meta.noise.eps ?? 0;
  } else if (meta.noise.model === 'additive') {
    noise.noise_D = meta.noise.D;
  } else {
    // Matrix models: numbers stay flat attributes, the matrices and vectors go in as JSON text (netCDF tools keep scalars only).
    for (const [k, v] of Object.entries(meta.noise)) if (k !== 'model') noise[`noise_${k}`] = typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v);
  }
  return {
    title: `fpsolve run of ${meta.scenarioName}`,
    source: `fpsolve ${meta.fpsolveVersion}`,
    fpsolve_version: meta.fpsolveVersion,
    scenario_name: meta.scenarioName,
    scenario: JSON.stringify(meta.scenario),
    status: meta.status,
    ...(meta.error !== undefined ? { error: meta.error } : {}),
    regime: meta.regime,
    ...noise,
  };
}

/** Writes `path` (…/density.zarr) atomically; see {@link writeZarr}. */
export function writeDensityZarr(
  path: string,
  grid: StoreGrid,
  densities: readonly TimedDensity[],
  pi: Float64Array,
  meta: DensityStoreMeta,
): Promise<string> {
  return writeZarr(path, densityVariables(grid, densities, pi), densityAttrs(meta));
}

/**
 * Snapshot request times that catch every report time once: the midpoints between report times
 * (and 0). A snapshot is taken at the first report time at or after each requested time
 * (RunOptions.snapshots), so a midpoint is caught by exactly the report time after it, however the
 * run rounds its report times.
 */
export function everyReportTime(time: { end: number; reportEvery: number }): number[] {
  const n = Math.max(1, Math.round(time.end / time.reportEvery));
  return [0, ...Array.from({ length: n }, (_, k) => Math.min(time.end, (k + 0.5) * time.reportEvery))];
}

/**
 * The snapshots a caller asked for by `times` out of a denser set: for each time the first
 * snapshot at or after it (the rule RunOptions.snapshots follows), each snapshot once.
 */
export function pickSnapshots<S extends { t: number }>(snapshots: readonly S[], times: readonly number[]): S[] {
  const out: S[] = [];
  for (const want of [...times].sort((a, b) => a - b)) {
    const s = snapshots.find((x) => want <= x.t * (1 + 1e-12));
    if (s !== undefined && out[out.length - 1] !== s) out.push(s);
  }
  return out;
}

/** What {@link writeRunZarr} reads of a run result (src/run's RunResult has it). */
export interface RunLike {
  report: { fpsolve: string; status: string; error?: string; regime: string; final: { t: number }; scenario: { name: string; noise: DensityStoreMeta['noise'] } };
  density: Float64Array;
  setup: { grid: StoreGrid; problem: { pi(): Float64Array } };
  snapshots?: readonly TimedDensity[];
}

/**
 * `<dir>/density.zarr` of a run: ρ at every snapshot the run kept and the final time when
 * `snapshots` (`run --snapshots`), else at the final time only.
 */
export function writeRunZarr(dir: string, result: RunLike, opts: { snapshots: boolean }): Promise<string> {
  const { report } = result;
  const final = { t: report.final.t, density: result.density };
  const densities = storeDensities(final, opts.snapshots ? result.snapshots : undefined);
  return writeDensityZarr(join(dir, 'density.zarr'), result.setup.grid, densities, result.setup.problem.pi(), {
    fpsolveVersion: report.fpsolve,
    status: report.status,
    ...(report.error !== undefined ? { error: report.error } : {}),
    regime: report.regime,
    scenarioName: report.scenario.name,
    scenario: report.scenario,
    noise: report.scenario.noise,
  });
}
