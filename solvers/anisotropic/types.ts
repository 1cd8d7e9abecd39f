import type { Grid } from '../grid.js';
import type { Csr } from '../sparse/csr.js';

/**
 * The contract between the diffusion-matrix noise models (src/noise/, which read scenarios) and the
 * monotone scheme (solvers/anisotropic/), which knows no scenario. Positions are physical
 * coordinates (length = grid.dim). Matrices are d×d, symmetric, row-major.
 *
 * The equation is the Itô form ∂t ρ = ∇·(ρ∇f) + ∇·∇·(Dρ), i.e. the flux is
 * J = −(ρ∇f + ∇·(Dρ)) = −(D∇ρ + ρ(∇·D + ∇f)), with (∇·D)_i = Σ_j ∂_j D_ij.
 */
export interface DiffusionField {
  readonly dim: number;
  /** D(x) into out[0 .. d·d). Must be symmetric positive semi-definite (the noise model checks it on the grid). */
  evalD(x: ArrayLike<number>, out: Float64Array): void;
  /** The divergence of D at x, (∇·D)_i = Σ_j ∂_j D_ij, into out[0 .. d). */
  evalDivD(x: ArrayLike<number>, out: Float64Array): void;
}

/** ∇f at x into out[0 .. d). */
export type GradientField = (x: ArrayLike<number>, out: Float64Array) => void;

/**
 * A Markov generator on the cells of a grid, by lattice offset: for each offset e and each cell i
 * whose neighbour j = i + e is in the box, the rate of jumps i → j is up[i] and j → i is down[i]
 * (0 where j is outside the box). The forward (Fokker–Planck) equation is ρ' = Qᵀρ in cell densities:
 * d ρ_i/dt = Σ_j (ρ_j q_ji − ρ_i q_ij); mass Σ|K|ρ_i is conserved and ρ ≥ 0 is kept because every rate is ≥ 0.
 * The net probability current across the pair is J = ρ_i up[i] − ρ_j down[i] (per unit volume and time).
 */
export interface OffsetRates {
  /** Integer lattice offset, e.g. [1, 0], [1, 1], [1, −1], [2, 1]. */
  readonly offset: readonly number[];
  readonly up: Float64Array;
  readonly down: Float64Array;
}

/** What the monotone assembly (solvers/anisotropic/assemble.ts) reports about its choices. */
export interface AssemblyStats {
  /** The lattice offsets that carry a rate somewhere, canonical sign (first non-zero component > 0). */
  offsets: number[][];
  /**
   * D ← D + δ·tr(D)·I (lattice units) where D's decomposition needs an offset outside the stencil
   * (strong anisotropy, or a singular D whose range no lattice offset spans): the largest δ, the
   * number of cells relaxed and the centre of the cell with the largest δ.
   */
  relaxation: { max: number; cells: number; at?: number[] };
  /** Cells where part of the drift lies outside range(D) and is carried by first-order upwind fluxes. */
  upwindCells: number;
  /** Smallest and largest jump rate over the pairs inside the box (min ≥ 0: the scheme is monotone). */
  minRate: number;
  maxRate: number;
  /** 1 / max_i(−A_ii): the largest explicit Euler step that keeps ρ ≥ 0. */
  explicitLimit: number;
}

/** A generator on the cells of a grid, by offsets and as one CSR matrix. */
export interface AnisotropicGenerator {
  readonly grid: Grid;
  readonly pairs: OffsetRates[];
  /** A with dρ/dt = Aρ (cell densities): columns sum to 0 (Σ|K|ρ conserved), off-diagonals ≥ 0. */
  readonly forward: Csr;
  readonly stats: AssemblyStats;
}
