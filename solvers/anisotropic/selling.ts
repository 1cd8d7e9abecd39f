/**
 * Selling's decomposition of a symmetric positive semi-definite matrix into non-negative weights
 * on integer offsets, D = Σ_e w_e e eᵀ (1-D trivially, 2-D from an obtuse superbase of three
 * vectors, 3-D from one of four), after Selling (1874) as used by Mirebeau for monotone
 * anisotropic schemes (Fehrenbach & Mirebeau, J. Math. Imaging Vis. 49, 2014; Mirebeau,
 * "Anisotropic fast-marching on cartesian grids using Voronoi's first reduction", SIAM J. Numer.
 * Anal. 56, 2018). A superbase (e_0, …, e_d) of Z^d sums to 0; it is D-obtuse when
 * ⟨e_i, D e_j⟩ ≤ 0 for all i ≠ j, and then
 *   d = 2: D = −Σ_{i<j} ⟨e_i, D e_j⟩ e_k^⊥ e_k^⊥ᵀ            ({i, j, k} = {0, 1, 2}, e^⊥ = (−y, x)),
 *   d = 3: D = −Σ_{i<j} ⟨e_i, D e_j⟩ (e_k × e_l)(e_k × e_l)ᵀ  ({i, j, k, l} = {0, 1, 2, 3}).
 * Selling's algorithm reaches an obtuse superbase from the canonical one by flips that strictly
 * decrease Σ⟨e_i, D e_i⟩, so it ends for positive definite D; for a singular D whose kernel is not
 * spanned by lattice vectors it may not, and the iteration cap reports that (the caller relaxes D).
 */

/** Largest number of (offset, weight) terms: d(d+1)/2. */
export const SELLING_TERMS = [0, 1, 3, 6] as const;

/** One decomposition: `count` terms, offsets row-major (count × dim), weights ≥ 0. */
export interface SellingResult {
  converged: boolean;
  count: number;
  offsets: Int32Array;
  weights: Float64Array;
}

export function sellingScratch(dim: number): SellingResult {
  return { converged: false, count: 0, offsets: new Int32Array(SELLING_TERMS[dim] * dim), weights: new Float64Array(SELLING_TERMS[dim]) };
}

// Flips whose scalar product is this small relative to √(⟨e_i,De_i⟩⟨e_j,De_j⟩) (its Cauchy–Schwarz
// bound) are rounding noise: flipping on them could cycle, and the weight −⟨e_i,De_j⟩ they leave is
// clamped to 0, an error below 1e-13 of D's scale.
const FLIP_TOL = 1e-13;
// The superbase vectors of a matrix whose decomposition fits any usable stencil stay short; one that
// grows past this is a singular or very anisotropic matrix and the caller relaxes it.
const MAX_COMPONENT = 1 << 12;

/**
 * Decomposes the symmetric d×d matrix m (row-major) into out. `maxIter` bounds the flips; the
 * result is flagged not converged when it is reached or a superbase vector grows too long.
 */
export function selling(dim: number, m: ArrayLike<number>, out: SellingResult, maxIter = 200, maxComponent = MAX_COMPONENT): SellingResult {
  if (dim === 1) {
    out.count = 1;
    out.offsets[0] = 1;
    out.weights[0] = Math.max(0, m[0]);
    out.converged = true;
    return out;
  }
  return dim === 2 ? selling2(m, out, maxIter, maxComponent) : selling3(m, out, maxIter, maxComponent);
}

// Superbase scratch: one decomposition per cell, and the bisection of the relaxation runs many.
const sb2 = new Int32Array(6);
const sb3 = new Int32Array(12);
const START2 = [1, 0, 0, 1, -1, -1];
const START3 = [1, 0, 0, 0, 1, 0, 0, 0, 1, -1, -1, -1];

function selling2(m: ArrayLike<number>, out: SellingResult, maxIter: number, maxComponent: number): SellingResult {
  const a = m[0];
  const b = m[1];
  const c = m[3];
  // e_0, e_1, e_2 as (x, y) pairs.
  const e = sb2;
  e.set(START2);
  let converged = false;
  for (let it = 0; it < maxIter && !converged; it++) {
    converged = true;
    for (let p = 0; p < 3; p++) {
      const i = p === 2 ? 1 : 0;
      const j = p === 0 ? 1 : 2;
      const xi = e[2 * i];
      const yi = e[2 * i + 1];
      const xj = e[2 * j];
      const yj = e[2 * j + 1];
      const s = xi * (a * xj + b * yj) + yi * (b * xj + c * yj);
      if (!(s > 0)) continue;
      const qi = xi * (a * xi + b * yi) + yi * (b * xi + c * yi);
      const qj = xj * (a * xj + b * yj) + yj * (b * xj + c * yj);
      if (s > FLIP_TOL * Math.sqrt(Math.max(0, qi * qj))) {
        // (e_i, e_j, e_k) ← (−e_i, e_j, e_i − e_j): still a superbase, with Σ⟨e,De⟩ lower by 4s.
        const k = 3 - i - j;
        e[2 * k] = xi - xj;
        e[2 * k + 1] = yi - yj;
        e[2 * i] = -xi;
        e[2 * i + 1] = -yi;
        converged = false;
        if (Math.abs(e[2 * k]) > maxComponent || Math.abs(e[2 * k + 1]) > maxComponent) {
          it = maxIter;
          break;
        }
      }
    }
  }
  for (let k = 0; k < 3; k++) {
    const i = k === 0 ? 1 : 0;
    const j = k === 2 ? 1 : 2;
    const xi = e[2 * i];
    const yi = e[2 * i + 1];
    const xj = e[2 * j];
    const yj = e[2 * j + 1];
    const w = -(xi * (a * xj + b * yj) + yi * (b * xj + c * yj));
    out.offsets[2 * k] = -e[2 * k + 1];
    out.offsets[2 * k + 1] = e[2 * k];
    out.weights[k] = w > 0 ? w : 0;
  }
  out.count = 3;
  out.converged = converged;
  return out;
}

function selling3(m: ArrayLike<number>, out: SellingResult, maxIter: number, maxComponent: number): SellingResult {
  const e = sb3;
  e.set(START3);
  const q = (i: number, j: number): number => {
    let s = 0;
    for (let r = 0; r < 3; r++) {
      const er = e[3 * i + r];
      if (er === 0) continue;
      s += er * (m[3 * r] * e[3 * j] + m[3 * r + 1] * e[3 * j + 1] + m[3 * r + 2] * e[3 * j + 2]);
    }
    return s;
  };
  let converged = false;
  for (let it = 0; it < maxIter && !converged; it++) {
    converged = true;
    outer: for (let i = 0; i < 4; i++) {
      for (let j = i + 1; j < 4; j++) {
        const s = q(i, j);
        if (s > 0 && s > FLIP_TOL * Math.sqrt(Math.max(0, q(i, i) * q(j, j)))) {
          // (e_i, e_j, e_k, e_l) ← (−e_i, e_j, e_k + e_i, e_l + e_i).
          for (let k = 0; k < 4; k++) {
            if (k === i || k === j) continue;
            for (let t = 0; t < 3; t++) {
              e[3 * k + t] += e[3 * i + t];
              if (Math.abs(e[3 * k + t]) > maxComponent) {
                it = maxIter;
                converged = false;
                break outer;
              }
            }
          }
          for (let t = 0; t < 3; t++) e[3 * i + t] = -e[3 * i + t];
          converged = false;
        }
      }
    }
  }
  let n = 0;
  for (let i = 0; i < 4; i++) {
    for (let j = i + 1; j < 4; j++) {
      let k = 0;
      while (k === i || k === j) k++;
      let l = k + 1;
      while (l === i || l === j) l++;
      const w = -q(i, j);
      const k0 = 3 * k;
      const l0 = 3 * l;
      out.offsets[3 * n] = e[k0 + 1] * e[l0 + 2] - e[k0 + 2] * e[l0 + 1];
      out.offsets[3 * n + 1] = e[k0 + 2] * e[l0] - e[k0] * e[l0 + 2];
      out.offsets[3 * n + 2] = e[k0] * e[l0 + 1] - e[k0 + 1] * e[l0];
      out.weights[n] = w > 0 ? w : 0;
      n++;
    }
  }
  out.count = n;
  out.converged = converged;
  return out;
}

/** Flips the sign of an offset so that its first non-zero component is positive (e and −e are one pair). */
export function canonicalOffset(e: number[]): number[] {
  for (const v of e) {
    if (v > 0) return e;
    if (v < 0) return e.map((x) => -x);
  }
  return e;
}

/**
 * Whether a decomposition fits the stencil of max-norm ≤ radius: every offset carrying weight above
 * `negligible` is within it (weights at or below it are rounding noise of a flip, ≤ 1e-13·tr D).
 */
export function fitsStencil(dim: number, r: SellingResult, radius: number, negligible: number): boolean {
  if (!r.converged) return false;
  for (let t = 0; t < r.count; t++) {
    if (r.weights[t] <= negligible) continue;
    for (let k = 0; k < dim; k++) if (Math.abs(r.offsets[dim * t + k]) > radius) return false;
  }
  return true;
}
