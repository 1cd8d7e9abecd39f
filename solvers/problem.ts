import { Grid } from './grid.js';
import { cellAverages, cellAveragesAndLogMeans, faceAverages, type PointFunction } from './quadrature.js';
import { ArenaLease, sharedFloat64 } from './shared-memory.js';
import { correctSingularCells } from './singular.js';

/**
 * Noise models. Each gives D as a function of f, hence π with ∇(Dπ) = −π∇f:
 * multiplicative D = (ησ/2)(f + ε), π = (f + ε)^−α, α = 1 + 2/(ησ); additive D const, π = e^{−f/D}.
 */
export type NoiseModel =
  | { kind: 'multiplicative'; etaSigma: number; eps: number }
  | { kind: 'additive'; D: number };

export function alphaOf(noise: NoiseModel): number {
  return noise.kind === 'multiplicative' ? 1 + 2 / noise.etaSigma : NaN;
}

/** D(f) for the noise model. */
export function diffusivity(noise: NoiseModel, f: number): number {
  return noise.kind === 'multiplicative' ? 0.5 * noise.etaSigma * (f + noise.eps) : noise.D;
}

/** ψ = −ln π (unshifted) for the noise model. */
export function potential(noise: NoiseModel, f: number): number {
  return noise.kind === 'multiplicative' ? alphaOf(noise) * Math.log(f + noise.eps) : f / noise.D;
}

/** Where a landscape check failed. */
export interface LandscapeFault {
  reason: 'negative' | 'non-finite' | 'zero-cell';
  cell: number;
  point: number[];
  value: number;
}

/**
 * The discretized problem: grid, cell-averaged f, face diffusivities and ψ = −ln π shifted so
 * that min ψ = 0. π itself is never formed: it spans hundreds of orders of magnitude when ησ is
 * small, while ψ and differences of ψ stay O(100).
 *
 * With multiplicative noise π_i is the cell average of π(f) (not π of the cell average of f; additive
 * noise keeps the latter, see build): the two agree to O(h²) where
 * f is smooth and bounded away from 0, but next to a zero of f only the former gives basin
 * masses that converge at a useful order (docs/scheme.md). It is the one source of the cell
 * weights: the operator's face coefficients, √π and every backend's kernels are formed from
 * this ψ, so the discrete π stays an exact steady state whatever the weights are.
 */
export class Problem {
  readonly grid: Grid;
  readonly noise: NoiseModel;
  /** Cell averages of f. */
  readonly f: Float64Array;
  /** ψ − min ψ per cell. */
  readonly psi: Float64Array;
  /** The constant removed from ψ: −ln π_i(unnormalized) = psi[i] + psiShift. */
  readonly psiShift: number;
  /** D on the upper face of each cell, per axis (see faceAverages for indexing). */
  readonly faceD: Float64Array[];
  /** The arena blocks of f, ψ and the face D (built by quadrature, which knows no run). */
  readonly lease = new ArenaLease();

  private constructor(grid: Grid, noise: NoiseModel, f: Float64Array, psi: Float64Array, psiShift: number, faceD: Float64Array[]) {
    this.grid = grid;
    this.noise = noise;
    this.f = f;
    this.psi = psi;
    this.psiShift = psiShift;
    this.faceD = faceD;
    this.lease.adopt(f, psi, ...faceD);
  }

  /** Returns the grid arrays to the arena; the problem must not be used afterwards. */
  dispose(): void {
    this.lease.release();
  }

  /**
   * Builds the problem, or returns the first cell where f is unusable (negative or non-finite
   * for any model; identically zero on a cell for multiplicative noise without floor, where
   * π would be infinite). `keep` (multiplicative noise only; additive ignores it): arrays of
   * grid size to fill from the same evaluations of f (cellAveragesAndLogMeans), so that the run's
   * set-up evaluates f once per quadrature node.
   */
  static build(grid: Grid, landscape: PointFunction, noise: NoiseModel, keep?: { centre?: Float64Array; logF?: Float64Array }): Problem | LandscapeFault {
    // Additive noise keeps π of the cell average of f: π = e^{−f/D} is bounded and smooth, both
    // choices are second order, and measured (docs/scheme.md) the cell average of π gives a far
    // better steady state (O(h⁶)) but 1.3–1.5× larger errors in transients and eigenvalues.
    const { avg: f, psi } =
      noise.kind === 'multiplicative'
        ? cellAveragesAndLogMeans(grid, landscape, alphaOf(noise), noise.eps, keep)
        : additiveWeights(grid, landscape, noise.D);
    for (let i = 0; i < grid.size; i++) {
      const v = f[i];
      if (!Number.isFinite(v)) return { reason: 'non-finite', cell: i, point: grid.centre(i), value: v };
      if (noise.kind === 'multiplicative') {
        if (v < 0) return { reason: 'negative', cell: i, point: grid.centre(i), value: v };
        if (v + noise.eps <= 0) return { reason: 'zero-cell', cell: i, point: grid.centre(i), value: v };
      }
    }
    // A node on or next to a zero of f makes the Gauss average of π infinite or arbitrary (where π
    // is not integrable its cell average is infinite, and a node at 1e-16 from the zero gives
    // ψ ~ −140 by rounding). Such a cell — one whose Gauss average exceeds π of its average f by
    // more than 10^(α+1), i.e. a node ~10× below the average — keeps π(f̄), which is finite and
    // smooth in the data, unless the singular-cell model below replaces it.
    if (noise.kind === 'multiplicative') {
      const limit = (alphaOf(noise) + 1) * Math.LN10;
      for (let i = 0; i < grid.size; i++) {
        const old = potential(noise, f[i]);
        if (!(old - psi[i] <= limit)) psi[i] = old;
      }
      correctSingularCells(grid, landscape, f, noise.eps, alphaOf(noise), psi);
    }
    let min = Infinity;
    for (let i = 0; i < grid.size; i++) if (psi[i] < min) min = psi[i];
    for (let i = 0; i < grid.size; i++) psi[i] -= min;
    const faceD: Float64Array[] = [];
    for (let k = 0; k < grid.dim; k++) {
      const ff = faceAverages(grid, landscape, k);
      for (let i = 0; i < grid.size; i++) {
        const v = ff[i];
        // A face value can be slightly negative only through a bad landscape; cell checks catch
        // the real cases, so clamp here rather than fail on a wall face nobody uses.
        ff[i] = Number.isFinite(v) ? Math.max(0, diffusivity(noise, Math.max(0, v))) : 0;
      }
      faceD.push(ff);
    }
    return new Problem(grid, noise, f, psi, min, faceD);
  }

  /**
   * lnπ and π, each computed once per problem: a run's distances, walls, basins, critical limit
   * and outputs each asked for them (N exponentials a time). Grid arrays outside the arena, kept
   * for the problem's life (what the run's DistanceTracker kept anyway).
   */
  private cachedLogPi?: Float64Array;
  private cachedPi?: Float64Array;

  /** ln of the normalized discrete invariant density π_i (Σ π_i |K| = 1); a fresh copy the caller may change. */
  logPi(): Float64Array {
    return this.logPiShared().slice();
  }

  /** The normalized discrete invariant density (entries may underflow to 0, never overflow); a fresh copy. */
  pi(): Float64Array {
    return this.piShared().slice();
  }

  /** logPi's array itself, shared: read it, never write it. */
  logPiShared(): Float64Array {
    this.cachedLogPi ??= this.computeLogPi();
    return this.cachedLogPi;
  }

  /** pi's array itself, shared: read it, never write it. */
  piShared(): Float64Array {
    if (!this.cachedPi) {
      const lp = this.logPiShared();
      const p = new Float64Array(lp.length);
      for (let i = 0; i < lp.length; i++) p[i] = Math.exp(lp[i]);
      this.cachedPi = p;
    }
    return this.cachedPi;
  }

  private computeLogPi(): Float64Array {
    const g = this.grid;
    let z = 0;
    for (let i = 0; i < g.size; i++) z += Math.exp(-this.psi[i]);
    const logZ = Math.log(z * g.cellVolume);
    const out = new Float64Array(g.size);
    for (let i = 0; i < g.size; i++) out[i] = -this.psi[i] - logZ;
    return out;
  }

}

function additiveWeights(grid: Grid, landscape: PointFunction, D: number): { avg: Float64Array; psi: Float64Array } {
  const avg = cellAverages(grid, landscape);
  const psi = sharedFloat64(grid.size);
  for (let i = 0; i < grid.size; i++) psi[i] = avg[i] / D;
  return { avg, psi };
}

export function isFault(p: Problem | LandscapeFault): p is LandscapeFault {
  return !(p instanceof Problem);
}
