/**
 * The series of a matrix run: mass, min ρ, E f and the distances L1, KL, χ² of ρ(t) to the
 * COMPUTED steady state ρ_ss (there is no known π). Same SeriesPoint as a reversible run, so
 * series.csv, the rate fits and the check quantities read it unchanged.
 */
import type { SeriesPoint } from '../diagnostics/distances.js';
import { massNearZeros, type CurrentStats } from './diagnostics.js';
import type { GridLike } from './generator.js';

export class SteadyDistances {
  private readonly logTarget: Float64Array;
  private readonly target: Float64Array;
  readonly meanLossSteady: number;
  /** Cells of ρ_ss that were ≤ 0 (Krylov round-off) and read as the least positive value. */
  readonly clipped: number;

  constructor(
    private readonly grid: GridLike,
    private readonly f: Float64Array,
    steady: Float64Array,
    private readonly delta: number,
    private readonly components: readonly (readonly number[])[],
  ) {
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
    let m = 0;
    for (let i = 0; i < t.length; i++) {
      t[i] /= mass;
      m += t[i] * f[i] * vol;
    }
    this.target = t;
    this.logTarget = t.map(Math.log);
    this.meanLossSteady = m;
    this.clipped = clipped;
  }

  measure(t: number, rho: Float64Array): SeriesPoint {
    const vol = this.grid.cellVolume;
    let mass = 0;
    let minD = Infinity;
    for (let i = 0; i < rho.length; i++) {
      mass += rho[i];
      if (rho[i] < minD) minD = rho[i];
    }
    mass *= vol;
    const inv = mass > 0 ? 1 / mass : 0;
    let meanLoss = 0;
    let l1 = 0;
    let kl = 0;
    let below = 0;
    // χ² = Σ (ρ − ρ_ss)²/ρ_ss |K| by a running log-sum-exp of ln[ρ_ss (u − 1)²], u = ρ/ρ_ss: finite or logged, never NaN.
    let lseMax = -Infinity;
    let lseSum = 0;
    for (let i = 0; i < rho.length; i++) {
      const r = rho[i] > 0 ? rho[i] * inv : 0;
      const p = this.target[i];
      const lp = this.logTarget[i];
      meanLoss += r * this.f[i];
      if (this.f[i] < this.delta) below += rho[i];
      l1 += Math.abs(r - p);
      let term: number;
      if (r > 0) {
        const lu = Math.log(r) - lp;
        kl += r * lu;
        term = lu > 40 ? 2 * lu + lp : 2 * Math.log(Math.abs(Math.expm1(lu))) + lp;
      } else term = lp;
      if (term > lseMax) {
        lseSum = lseSum * Math.exp(lseMax - term) + 1;
        lseMax = term;
      } else if (term > -Infinity) lseSum += Math.exp(term - lseMax);
    }
    const logChi2 = lseMax + Math.log(lseSum) + Math.log(vol);
    const chi2 = Math.exp(logChi2);
    return {
      t,
      mass,
      minDensity: minD,
      meanLoss: meanLoss * vol,
      l1: l1 * vol,
      kl: Math.max(0, kl * vol),
      chi2: Number.isFinite(chi2) ? chi2 : null,
      log10Chi2: logChi2 > -Infinity ? logChi2 / Math.LN10 : Math.log10(Number.MIN_VALUE),
      massBelowDelta: below * vol,
      meanLogLoss: null,
      massNearZero: this.components.length > 0 ? massNearZeros(this.grid, this.f, this.delta, this.components, rho) : [],
    };
  }
}

/** The cell centre of the largest current, for the report (null when J = 0). */
export function whereMax(grid: { centre(i: number): number[] }, s: CurrentStats): number[] | null {
  return s.maxCell >= 0 ? grid.centre(s.maxCell) : null;
}
