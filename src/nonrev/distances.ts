/**
 * The series of a matrix run: mass, min ρ, E f and the distances L1, KL, χ² of ρ(t) to the
 * COMPUTED steady state ρ_ss (there is no known π). Same SeriesPoint as a reversible run, so
 * series.csv, the rate fits and the check quantities read it unchanged.
 */
import { DistanceTracker, type SeriesPoint } from '../diagnostics/distances.js';
import type { CurrentStats } from './diagnostics.js';
import type { GridLike } from './generator.js';

export class SteadyDistances {
  /** The reversible run's distance loop, pointed at ρ_ss instead of π: one definition of L1, KL and χ². */
  private readonly tracker: DistanceTracker;
  readonly meanLossSteady: number;
  /** Cells of ρ_ss that were ≤ 0 (Krylov round-off) and read as the least positive value. */
  readonly clipped: number;

  constructor(grid: GridLike, f: Float64Array, steady: Float64Array, delta: number, components: readonly (readonly number[])[]) {
    const vol = grid.cellVolume;
    let floor = Infinity;
    for (const v of steady) if (v > 0 && v < floor) floor = v;
    let clipped = 0;
    const t = new Float64Array(steady.length);
    let mass = 0;
    for (let i = 0; i < t.length; i++) {
      // χ² and KL divide by ρ_ss: a cell left at −1e-17 by the solver must not make them infinite.
      if (steady[i] > 0) t[i] = steady[i];
      else {
        t[i] = floor;
        clipped++;
      }
      mass += t[i] * vol;
    }
    for (let i = 0; i < t.length; i++) t[i] /= mass;
    this.tracker = new DistanceTracker({ grid, f, logTarget: t.map(Math.log) }, delta, components);
    this.meanLossSteady = this.tracker.meanLossPi;
    this.clipped = clipped;
  }

  measure(t: number, rho: Float64Array): SeriesPoint {
    return this.tracker.measure(t, rho);
  }
}

/** The cell centre of the largest current, for the report (null when J = 0). */
export function whereMax(grid: { centre(i: number): number[] }, s: CurrentStats): number[] | null {
  return s.maxCell >= 0 ? grid.centre(s.maxCell) : null;
}
