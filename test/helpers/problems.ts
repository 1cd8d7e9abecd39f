import { Grid } from '../../solvers/grid.js';
import { Problem, isFault, type NoiseModel } from '../../solvers/problem.js';
import { FvOperator } from '../../solvers/operator.js';
import type { PointFunction } from '../../solvers/quadrature.js';

/** A point function from a plain JS function of the coordinates (tests only). */
export function pointFn(fn: (...x: number[]) => number): PointFunction {
  return (coords, out) => {
    const d = coords.length;
    const p = new Array<number>(d);
    for (let i = 0; i < out.length; i++) {
      for (let k = 0; k < d; k++) p[k] = coords[k][i];
      out[i] = fn(...p);
    }
  };
}

export function buildOperator(bounds: [number, number][], cells: number[], f: (...x: number[]) => number, noise: NoiseModel): FvOperator {
  const grid = new Grid(bounds, cells);
  const p = Problem.build(grid, pointFn(f), noise);
  if (isFault(p)) throw new Error(`landscape fault ${JSON.stringify(p)}`);
  return new FvOperator(p);
}

/** Normalized Gaussian bump sampled at cell centres (tests only). */
export function gaussianBump(grid: Grid, mean: number[], std: number): Float64Array {
  const rho = new Float64Array(grid.size);
  let mass = 0;
  for (let i = 0; i < grid.size; i++) {
    const c = grid.centre(i);
    let r2 = 0;
    for (let k = 0; k < grid.dim; k++) r2 += (c[k] - mean[k]) ** 2;
    rho[i] = Math.exp(-r2 / (2 * std * std));
    mass += rho[i];
  }
  mass *= grid.cellVolume;
  for (let i = 0; i < rho.length; i++) rho[i] /= mass;
  return rho;
}

export function mass(grid: Grid, rho: Float64Array): number {
  let s = 0;
  for (let i = 0; i < rho.length; i++) s += rho[i];
  return s * grid.cellVolume;
}
