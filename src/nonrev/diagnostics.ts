/**
 * Non-reversible diagnostics of a Markov generator on grid cells (docs/nonreversible.md). Each is a
 * pure function of (generator, ρ): the run feeds the scheme's generator and the computed steady
 * state, the tests hand-built generators whose answers are known by formula.
 *
 * Densities are cell densities normalized by Σ ρ_i |K| = 1 (the functions normalize their input);
 * rates are per unit time. A pair (i, j = i + e) carries the net probability current
 * J = ρ_i q_ij − ρ_j q_ji per unit volume and time (OffsetRates: q_ij = up[i], q_ji = down[i]).
 */
import { forEachPair, type GridLike, type PairGenerator } from './generator.js';
import { zeroNeighbourhoodLabels } from '../diagnostics/distances.js';
import { csrMatVec, type Csr } from '../../solvers/sparse/csr.js';

function massOf(rho: ArrayLike<number>, vol: number): number {
  let m = 0;
  for (let i = 0; i < rho.length; i++) m += rho[i];
  return m * vol;
}

/** J per pair, one array per entry of gen.pairs, indexed by the lower cell i (0 where i + e is outside the box). */
export function pairCurrents(gen: PairGenerator, rho: ArrayLike<number>): Float64Array[] {
  const inv = 1 / massOf(rho, gen.grid.cellVolume);
  return gen.pairs.map((p) => {
    const j = new Float64Array(gen.grid.size);
    forEachPair(gen.grid, p.offset, (a, b) => {
      j[a] = (rho[a] * p.up[a] - rho[b] * p.down[a]) * inv;
    });
    return j;
  });
}

/**
 * The current as a vector field on the cells, [cell][axis] flat (C order with the axis last, the
 * layout of current.npy with shape [...cells, d]). A pair current J moves probability J|K| per unit
 * time over the displacement v = h⊙e, so its flux is J·v; each cell takes half of the flux of every
 * pair it belongs to. In 1-D this is the mean of the two face fluxes F_{i±½} of a finite-volume
 * scheme, and for any grid Σ_cells J_cell|K| = Σ_pairs J v|K|: the total flux (the mean velocity of
 * the chain) is kept exactly. For a smooth continuum current the cell value is second-order
 * accurate where the pair currents are (a centred average of fluxes across the cell).
 */
export function cellCurrent(gen: PairGenerator, rho: ArrayLike<number>): Float64Array {
  const g = gen.grid;
  const d = g.dim;
  const out = new Float64Array(g.size * d);
  const currents = pairCurrents(gen, rho);
  gen.pairs.forEach((p, k) => {
    const v = p.offset.map((e, a) => e * g.h[a]);
    const jp = currents[k];
    forEachPair(g, p.offset, (a, b) => {
      const half = 0.5 * jp[a];
      if (half === 0) return;
      for (let ax = 0; ax < d; ax++) {
        out[a * d + ax] += half * v[ax];
        out[b * d + ax] += half * v[ax];
      }
    });
  });
  return out;
}

export interface CurrentStats {
  /** max over cells of |J_cell| (Euclidean). */
  max: number;
  /** The flat index of the cell where it is reached (−1 when J = 0 everywhere). */
  maxCell: number;
  /** ∫|J| = Σ |J_cell| |K|. */
  l1: number;
}

export function currentStats(grid: GridLike, jcell: Float64Array): CurrentStats {
  const d = grid.dim;
  let max = 0;
  let maxCell = -1;
  let l1 = 0;
  for (let i = 0; i < grid.size; i++) {
    let s = 0;
    for (let a = 0; a < d; a++) s += jcell[i * d + a] ** 2;
    const m = Math.sqrt(s);
    l1 += m;
    if (m > max) {
      max = m;
      maxCell = i;
    }
  }
  return { max, maxCell, l1: l1 * grid.cellVolume };
}

export interface EntropyProduction {
  /**
   * Schnakenberg's rate Σ_pairs (ρ_i q_ij − ρ_j q_ji) ln(ρ_i q_ij / ρ_j q_ji) |K| over the pairs where
   * both directions have positive rate (each unordered pair once, so no ½): ≥ 0, and 0 exactly when
   * every such pair is in detailed balance under ρ.
   */
  rate: number;
  /**
   * Pairs with a rate in one direction only (the upwind remainder where D is singular): there the
   * chain's entropy production is infinite, so they are counted apart, with the probability they carry.
   */
  oneWayPairs: number;
  oneWayFlux: number;
}

export function entropyProduction(gen: PairGenerator, rho: ArrayLike<number>): EntropyProduction {
  const g = gen.grid;
  const inv = 1 / massOf(rho, g.cellVolume);
  let rate = 0;
  let oneWayPairs = 0;
  let oneWayFlux = 0;
  for (const p of gen.pairs) {
    forEachPair(g, p.offset, (i, j) => {
      const a = Math.max(0, rho[i]) * inv * p.up[i];
      const b = Math.max(0, rho[j]) * inv * p.down[i];
      if (a > 0 && b > 0) {
        // (a − b) ln(a/b) ≥ 0 term by term; the log of a ratio keeps it accurate when a ≈ b.
        rate += (a - b) * Math.log1p((a - b) / b);
      } else if (a > 0 || b > 0) {
        const oneWay = p.up[i] === 0 || p.down[i] === 0;
        if (oneWay) {
          oneWayPairs++;
          oneWayFlux += Math.abs(a - b);
        }
        // A two-way pair where ρ vanishes on one side: (a − b) ln(a/b) → +∞ too, counted with the one-way pairs' flux.
        else oneWayFlux += Math.abs(a - b);
      }
    });
  }
  return { rate: rate * g.cellVolume, oneWayPairs, oneWayFlux: oneWayFlux * g.cellVolume };
}

/**
 * How far ρ is from stationary: ‖Aρ‖₁ / Σ_i |A_ii| ρ_i, the unbalanced part of the probability flow
 * as a fraction of the total outflow rate (dimensionless, independent of the normalization of ρ).
 */
export function stationaryResidual(a: Csr, rho: Float64Array): number {
  const r = new Float64Array(a.rows);
  csrMatVec(a, rho, r);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.rows; i++) {
    num += Math.abs(r[i]);
    for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) if (a.col[k] === i) den += Math.abs(a.val[k]) * Math.abs(rho[i]);
  }
  return den > 0 ? num / den : num;
}

/** L1 = Σ|p − q||K| and KL(p | q) of two densities, each normalized on the grid (negative entries read as 0). */
export function densityDistances(p: ArrayLike<number>, q: ArrayLike<number>, vol: number): { l1: number; kl: number | null } {
  const ip = 1 / massOf(p, vol);
  const iq = 1 / massOf(q, vol);
  let l1 = 0;
  let kl = 0;
  let klFinite = true;
  for (let i = 0; i < p.length; i++) {
    const a = Math.max(0, p[i]) * ip;
    const b = Math.max(0, q[i]) * iq;
    l1 += Math.abs(a - b);
    if (a > 0) {
      if (b > 0) kl += a * Math.log(a / b);
      else klFinite = false;
    }
  }
  return { l1: l1 * vol, kl: klFinite ? Math.max(0, kl * vol) : null };
}

export interface GibbsFit {
  /** T with E_{e^{−f/T}}[f] = E_ρ[f] (maximum likelihood of ρ in the family e^{−f/T}); null when none fits. */
  T: number | null;
  /** L1 and KL(ρ | e^{−f/T}) of the fitted law: how far ρ is from any Gibbs law of f. */
  l1: number | null;
  kl: number | null;
  /** E_ρ[f], the moment matched. */
  meanLoss: number;
  note?: string;
}

/**
 * The best e^{−f/T} in the maximum-likelihood sense: the exponential family's likelihood
 * Σ ρ_i ln p_T(i) is maximal where the moments match, E_T[f] = E_ρ[f], and E_T[f] increases with T
 * (dE_T f/dT = Var_T f / T²), so the root is unique and found by bisection in ln T.
 */
export function gibbsFit(f: ArrayLike<number>, rho: ArrayLike<number>, vol: number): GibbsFit {
  const n = f.length;
  const inv = 1 / massOf(rho, vol);
  let fmin = Infinity;
  let fmax = -Infinity;
  let target = 0;
  let uniform = 0;
  for (let i = 0; i < n; i++) {
    if (f[i] < fmin) fmin = f[i];
    if (f[i] > fmax) fmax = f[i];
    target += Math.max(0, rho[i]) * inv * f[i] * vol;
    uniform += f[i];
  }
  uniform /= n;
  const span = fmax - fmin;
  if (!(span > 0)) return { T: null, l1: null, kl: null, meanLoss: target, note: 'f is constant on the grid: every T gives the uniform law' };
  const w = new Float64Array(n);
  const meanAt = (T: number): number => {
    let z = 0;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const x = Math.exp(-(f[i] - fmin) / T);
      w[i] = x;
      z += x;
      m += x * f[i];
    }
    return m / z;
  };
  // T → 0 puts the law on argmin f, T → ∞ on the uniform law: E_ρ f outside that range has no fit.
  if (!(target < uniform)) return { T: null, l1: null, kl: null, meanLoss: target, note: `E_ρ f = ${target.toPrecision(4)} is not below the grid mean of f (${uniform.toPrecision(4)}), the T → ∞ limit: no Gibbs law matches` };
  let lo = Math.log(1e-14 * span);
  let hi = Math.log(1e14 * span);
  if (!(meanAt(Math.exp(lo)) < target)) return { T: null, l1: null, kl: null, meanLoss: target, note: 'E_ρ f is at min f to round-off: ρ sits on the minimizers (T → 0)' };
  for (let it = 0; it < 200 && hi - lo > 1e-13; it++) {
    const mid = 0.5 * (lo + hi);
    if (meanAt(Math.exp(mid)) < target) lo = mid;
    else hi = mid;
  }
  const T = Math.exp(0.5 * (lo + hi));
  meanAt(T);
  const dist = densityDistances(rho, w, vol);
  return { T, l1: dist.l1, kl: dist.kl, meanLoss: target };
}

/**
 * Mass of ρ near each zero-set component: the component's cells plus the cells of {f < δ} reached
 * from them through faces, each cell to the component that reaches it first (the partition the
 * reversible run's massNearZero uses, src/diagnostics/distances.ts).
 */
export function massNearZeros(grid: GridLike, f: ArrayLike<number>, delta: number, componentCells: readonly (readonly number[])[], rho: ArrayLike<number>): number[] {
  const label = zeroNeighbourhoodLabels(grid, f, delta, componentCells);
  const inv = 1 / massOf(rho, grid.cellVolume);
  const out = new Array<number>(componentCells.length).fill(0);
  for (let i = 0; i < grid.size; i++) if (label[i] >= 0) out[label[i]] += Math.max(0, rho[i]) * inv * grid.cellVolume;
  return out;
}
