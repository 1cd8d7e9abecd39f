import type { Problem } from '../../solvers/problem.js';

/** One row of the time series (report.json `series`, series.csv). */
export interface SeriesPoint {
  t: number;
  mass: number;
  minDensity: number;
  /** E[f] under ρ (cell-averaged f). */
  meanLoss: number;
  /** ‖ρ − π‖₁ = 2·TV, with ρ normalized by its mass and π normalized on the grid. */
  l1: number;
  /** KL(ρ | π). */
  kl: number;
  /** χ² = ‖ρ/π − 1‖²_{L²(π)}; null only if it exceeds the float64 range (see log10Chi2). */
  chi2: number | null;
  log10Chi2: number;
  /** Mass in {f < δ} (collapse diagnostic; always computed). */
  massBelowDelta: number;
}

/**
 * Distances of ρ to the discrete π. Everything is computed from ln π (never π itself where it
 * matters) so that χ² stays finite-or-logged even when ρ sits where π underflows.
 */
export class DistanceTracker {
  private readonly problem: Problem;
  private readonly logPi: Float64Array;
  readonly delta: number;
  /** E_π[f]: the equilibrium mean loss of the discrete π. */
  readonly meanLossPi: number;

  constructor(problem: Problem, delta: number) {
    this.problem = problem;
    this.logPi = problem.logPi();
    this.delta = delta;
    let m = 0;
    const vol = problem.grid.cellVolume;
    for (let i = 0; i < problem.f.length; i++) m += Math.exp(this.logPi[i]) * problem.f[i] * vol;
    this.meanLossPi = m;
  }

  measure(t: number, rho: Float64Array): SeriesPoint {
    const vol = this.problem.grid.cellVolume;
    const f = this.problem.f;
    const lp = this.logPi;
    let mass = 0;
    let minD = Infinity;
    for (let i = 0; i < rho.length; i++) {
      mass += rho[i];
      if (rho[i] < minD) minD = rho[i];
    }
    mass *= vol;
    const invMass = mass > 0 ? 1 / mass : 0;
    const logInvMass = Math.log(invMass);
    let meanLoss = 0;
    let l1 = 0;
    let kl = 0;
    let below = 0;
    // χ² terms ln[π (u − 1)²] accumulated by a running log-sum-exp
    let lseMax = -Infinity;
    let lseSum = 0;
    for (let i = 0; i < rho.length; i++) {
      const r = rho[i] > 0 ? rho[i] : 0;
      const rn = r * invMass;
      const pi = Math.exp(lp[i]);
      meanLoss += rn * f[i];
      if (f[i] < this.delta) below += rho[i];
      l1 += Math.abs(rn - pi);
      let term: number;
      if (r > 0) {
        const lu = Math.log(r) + logInvMass - lp[i];
        kl += rn * lu;
        const um1 = lu > 40 ? lu : Math.log(Math.abs(Math.expm1(lu)));
        term = lu > 40 ? 2 * lu + lp[i] : 2 * um1 + lp[i];
      } else {
        term = lp[i];
      }
      if (term > lseMax) {
        lseSum = lseSum * Math.exp(lseMax - term) + 1;
        lseMax = term;
      } else if (term > -Infinity) {
        lseSum += Math.exp(term - lseMax);
      }
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
      log10Chi2: logChi2 / Math.LN10,
      massBelowDelta: below * vol,
    };
  }
}
