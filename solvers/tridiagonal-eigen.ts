/**
 * Eigen-decomposition of a symmetric tridiagonal matrix by the implicit QL algorithm with
 * Wilkinson's shift (EISPACK tql2; Bowdler, Martin, Reinsch & Wilkinson, Numer. Math. 11 (1968)),
 * and its use on the exponential integrator's Krylov matrices (issue #19.5).
 *
 * Those matrices are symmetric Hessenberg projections of a symmetric operator, tridiagonal up to
 * what the Gram–Schmidt passes leave off the band; dense cyclic Jacobi (solvers/dense.ts) spent
 * O(n³) per sweep on zeros there, for every basis size a span tries.
 */
import { symmetricEigen, type DenseEigen } from './dense.js';

const EPS = 2 ** -52;

/**
 * √(a² + b²) without overflow or underflow. Math.hypot is variadic and several times slower in V8;
 * the QL sweep takes one per rotation.
 */
function hypot2(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  const big = x > y ? x : y;
  if (big === 0) return 0;
  const sx = x / big;
  const sy = y / big;
  return big * Math.sqrt(sx * sx + sy * sy);
}

/**
 * Eigenpairs of the symmetric tridiagonal matrix with diagonal `diag` (length n) and neighbouring
 * diagonal `off` (length n − 1, off[i] = T[i][i+1] = T[i+1][i]). Ascending values; vectors[j] is the
 * unit eigenvector of values[j]. Null when an entry is not finite or QL does not converge in
 * 30 iterations per eigenvalue (the EISPACK limit): the caller then has a dense fallback.
 */
export function tridiagonalEigen(diag: ArrayLike<number>, off: ArrayLike<number>): DenseEigen | null {
  const n = diag.length;
  const d = new Float64Array(n);
  // e[i] couples i and i + 1; e[n − 1] = 0 ends every search for a negligible coupling.
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    d[i] = diag[i];
    if (!Number.isFinite(d[i])) return null;
  }
  for (let i = 0; i + 1 < n; i++) {
    e[i] = off[i];
    if (!Number.isFinite(e[i])) return null;
  }
  // Eigenvector i is contiguous (z[i·n .. i·n + n)): each rotation mixes two of them.
  const z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) z[i * n + i] = 1;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > EPS * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 30) return null;
        // Shift: the eigenvalue of the leading 2 × 2 block nearer d[l] (Wilkinson).
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot2(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        // Implicit QL sweep from m up to l, chasing the bulge with Givens rotations.
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot2(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const a = i * n;
          const b = a + n;
          for (let k = 0; k < n; k++) {
            const zb = z[b + k];
            const za = z[a + k];
            z[b + k] = s * za + c * zb;
            z[a + k] = c * za - s * zb;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // Ascending, ties in index order (what a stable sort gives), by insertion: n is at most a few
  // dozen, and the sort with a comparator closure and the per-vector Array.from were a sizeable
  // part of a 1-D sweep point's 31 decompositions.
  const order = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const v = d[r];
    let j = r;
    while (j > 0 && d[order[j - 1]] > v) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = r;
  }
  const values = new Array<number>(n);
  const vectors = new Array<number[]>(n);
  for (let r = 0; r < n; r++) {
    const i = order[r];
    values[r] = d[i];
    const v = new Array<number>(n);
    for (let k = 0; k < n; k++) v[k] = z[i * n + k];
    vectors[r] = v;
  }
  return { values, vectors };
}

/**
 * How far off the band a Krylov matrix may reach, relative to its Frobenius norm, for the band alone
 * to be decomposed: 100 ulps. Weyl's inequality moves each eigenvalue by at most the 2-norm of what
 * is dropped (≤ its Frobenius norm), so by less than 100 ulps of ‖T‖, the order of the round-off of
 * either decomposition itself. Measured (pearson-1d, 2000 cells, direct solves): the dropped part is
 * at most 2 ulps of ‖T‖. Inexact (CG) solves leave Gram–Schmidt coefficients of the order of the
 * solve tolerance against old vectors (double-well-2d: 3e4 to 2e7 ulps); those matrices keep the
 * dense decomposition of the whole of T.
 */
export const OFF_BAND_TOLERANCE = 100 * EPS;

/** Decompositions by path since the process started: counted so tests can see which path runs take. */
export const krylovEigenCounts = { band: 0, dense: 0 };

/**
 * Eigen-decomposition of T = sym(h[0..m)[0..m)), the Krylov matrix of the exponential integrator
 * (h upper Hessenberg, rows of at least m entries): the tridiagonal QL solver on T's band when the
 * rest of T is round-off (OFF_BAND_TOLERANCE), the dense Jacobi solver otherwise.
 */
export function krylovEigen(h: readonly (readonly number[])[], m: number): DenseEigen {
  const diag = new Float64Array(m);
  const off = new Float64Array(Math.max(0, m - 1));
  let band2 = 0;
  let rest2 = 0;
  for (let i = 0; i < m; i++) {
    const hi = h[i];
    diag[i] = hi[i];
    band2 += diag[i] * diag[i];
    if (i + 1 < m) {
      off[i] = 0.5 * (hi[i + 1] + h[i + 1][i]);
      band2 += 2 * off[i] * off[i];
    }
    for (let j = i + 2; j < m; j++) {
      const t = 0.5 * (hi[j] + h[j][i]);
      rest2 += 2 * t * t;
    }
  }
  if (rest2 <= OFF_BAND_TOLERANCE * OFF_BAND_TOLERANCE * (band2 + rest2)) {
    const eig = tridiagonalEigen(diag, off);
    if (eig) {
      krylovEigenCounts.band++;
      return eig;
    }
  }
  krylovEigenCounts.dense++;
  return symmetricEigen(Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => 0.5 * (h[i][j] + h[j][i]))));
}
