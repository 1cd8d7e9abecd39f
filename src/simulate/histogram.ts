/**
 * Histograms of particles on the scenario grid and the Monte-Carlo noise floor of their L1
 * distance to a density (docs/landscapes.md, "Monte-Carlo noise floor").
 *
 * With N particles drawn from cell probabilities p_i, the count X_i of cell i is Binomial(N, p_i),
 * and the histogram's L1 distance to the density is Σ_i |X_i/N − p_i|. Its expectation is
 * Σ_i E|X_i − N p_i| / N, and E|X − Np| has de Moivre's closed form (Diaconis & Zabell 1991,
 * "Closed form summation for classical distributions"):
 *     E|X − Np| = 2 ν C(N, ν) p^ν (1 − p)^(N − ν + 1),   ν = ⌊Np⌋ + 1,
 * which for large Np tends to the normal value sqrt(2 N p (1 − p)/π). The exact form matters in the
 * tails, where Np ≪ 1 and the normal value sqrt(2Np/π) would overstate the floor (the truth is ≈ 2Np).
 */
import type { Grid } from '../../solvers/grid.js';

/** Particle counts per cell; particles on or beyond a wall count in the wall cell. */
export function histogramCounts(grid: Grid, coords: readonly Float64Array[], out = new Float64Array(grid.size)): Float64Array {
  out.fill(0);
  const n = coords[0]!.length;
  const d = grid.dim;
  for (let i = 0; i < n; i++) {
    let flat = 0;
    for (let k = 0; k < d; k++) {
      let c = Math.floor((coords[k]![i]! - grid.lo[k]!) / grid.h[k]!);
      if (c < 0) c = 0;
      else if (c >= grid.n[k]!) c = grid.n[k]! - 1;
      flat += c * grid.strides[k]!;
    }
    out[flat]! += 1;
  }
  return out;
}

/** Counts → a density on the grid (Σ ρ |K| = 1). */
export function countsToDensity(grid: Grid, counts: Float64Array, particles: number): Float64Array {
  const rho = new Float64Array(counts.length);
  const s = 1 / (particles * grid.cellVolume);
  for (let i = 0; i < counts.length; i++) rho[i] = counts[i]! * s;
  return rho;
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** E|X − Np| for X ~ Binomial(N, p), exactly (de Moivre). */
export function binomialMeanAbsDeviation(N: number, p: number): number {
  if (!(p > 0) || N <= 0) return 0;
  if (p >= 1) return 0;
  const nu = Math.floor(N * p) + 1;
  if (nu > N) return 0;
  const lnC = lnGamma(N + 1) - lnGamma(nu + 1) - lnGamma(N - nu + 1);
  return 2 * Math.exp(Math.log(nu) + lnC + nu * Math.log(p) + (N - nu + 1) * Math.log1p(-p));
}

/** Expected L1 distance Σ|X_i/N − p_i| of an N-particle histogram to cell probabilities p (p_i < 0 from round-off count as 0). */
export function l1NoiseFloor(probabilities: Float64Array, N: number): number {
  let s = 0;
  for (let i = 0; i < probabilities.length; i++) s += binomialMeanAbsDeviation(N, Math.min(1, Math.max(0, probabilities[i]!)));
  return s / N;
}

/** Marginal density along `axis` (integrated over the other axes), length grid.n[axis]. */
export { marginal } from '../field/marginal.js';
