/**
 * Initial particles drawn from the scenario's initial density: a Gaussian truncated to the box
 * (per axis, by rejection, as the PDE's cell-averaged Gaussian is truncated and renormalized),
 * uniform on a box, or, for a density given as a file, cell by cell with a uniform position inside.
 */
import type { Grid } from '../../solvers/grid.js';
import { normalInterval } from '../../solvers/special.js';
import type { InitialSpec } from '../scenario/types.js';
import type { Xoshiro128 } from '../data/rng.js';

/** Below this acceptance rate per axis, rejection would crawl: sample from the cell masses instead. */
const MIN_ACCEPTANCE = 1e-3;

/** Draws N particles from cell masses (Σ mass = 1), uniform within each cell. */
export function sampleFromCells(grid: Grid, rho: Float64Array, N: number, rng: Xoshiro128): Float64Array[] {
  const cdf = new Float64Array(rho.length);
  let s = 0;
  for (let i = 0; i < rho.length; i++) {
    s += Math.max(0, rho[i]!);
    cdf[i] = s;
  }
  const x = Array.from({ length: grid.dim }, () => new Float64Array(N));
  for (let p = 0; p < N; p++) {
    const u = rng.nextDouble() * s;
    let lo = 0;
    let hi = rho.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    const idx = grid.index(lo);
    for (let k = 0; k < grid.dim; k++) x[k]![p] = grid.lo[k]! + (idx[k]! + rng.nextDouble()) * grid.h[k]!;
  }
  return x;
}

/**
 * N particles from the initial spec. `density` is the PDE's initial density (cell values), used
 * for `file` starts and for Gaussians almost entirely outside the box.
 */
export function sampleInitial(grid: Grid, spec: InitialSpec, density: Float64Array, N: number, rng: Xoshiro128): Float64Array[] {
  if ('gaussian' in spec) {
    const { mean, std } = spec.gaussian;
    const ok = grid.lo.every((lo, k) => normalInterval((lo - mean[k]!) / std[k]!, (grid.hi[k]! - mean[k]!) / std[k]!) > MIN_ACCEPTANCE);
    if (!ok) return sampleFromCells(grid, density.map((v) => v * grid.cellVolume), N, rng);
    const x = Array.from({ length: grid.dim }, () => new Float64Array(N));
    for (let k = 0; k < grid.dim; k++) {
      const xk = x[k]!;
      for (let p = 0; p < N; p++) {
        let v: number;
        do v = mean[k]! + std[k]! * rng.nextNormal();
        while (!(v >= grid.lo[k]! && v <= grid.hi[k]!));
        xk[p] = v;
      }
    }
    return x;
  }
  if ('uniform' in spec) {
    const b = spec.uniform.bounds ?? grid.lo.map((lo, k) => [lo, grid.hi[k]!] as [number, number]);
    return b.map(([lo, hi]) => {
      const xk = new Float64Array(N);
      for (let p = 0; p < N; p++) xk[p] = lo + (hi - lo) * rng.nextDouble();
      return xk;
    });
  }
  return sampleFromCells(grid, density.map((v) => v * grid.cellVolume), N, rng);
}
