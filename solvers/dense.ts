/**
 * Small dense symmetric eigen-solver (cyclic Jacobi). Used for Rayleigh–Ritz projections
 * (matrices of a few dozen rows) and for Hessians (d ≤ 3). Jacobi is chosen over QR because on
 * positive definite matrices it is accurate relative to each eigenvalue whenever the matrix is
 * well conditioned after diagonal scaling (Demmel & Veselić 1992), which the Ritz matrices of
 * the gap solver are: their small diagonal entries carry the tiny gaps.
 */

export interface DenseEigen {
  /** Ascending eigenvalues. */
  values: number[];
  /** vectors[j] is the unit eigenvector of values[j]. */
  vectors: number[][];
}

/**
 * Eigen-decomposition of the symmetric matrix a (row arrays; only symmetric input is meaningful).
 *
 * The matrices live in flat Float64Arrays, row-major: the exponential integrator called this for
 * every Krylov basis size it tries (up to ~24 rows, a dozen times per 1-D run), where nested arrays
 * made it the largest single cost of a sweep point. It now decomposes those tridiagonal matrices by
 * QL (solvers/tridiagonal-eigen.ts) and comes here only when T is not tridiagonal to round-off. Every entry goes through the same floating-point
 * operations in the same order as the nested-array version did (test/dense-eigen.test.ts keeps that
 * version and compares the bits), so no result changes.
 */
export function symmetricEigen(a: readonly (readonly number[])[]): DenseEigen {
  const n = a.length;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = a[i];
    // A short row reads as undefined → NaN, as the nested version's arithmetic on it did.
    for (let j = 0; j < n; j++) m[i * n + j] = row[j] as number;
  }
  // Exactly symmetric input stays exactly symmetric under every rotation (below), so row p and q
  // need not be computed a second time away from the 2 × 2 block: they are the columns' mirror.
  let exactlySymmetric = true;
  for (let i = 0; i < n && exactlySymmetric; i++) for (let j = i + 1; j < n; j++) if (!Object.is(m[i * n + j], m[j * n + i])) exactlySymmetric = false;
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off = Math.max(off, Math.abs(m[p * n + q]) / Math.sqrt(Math.abs(m[p * n + p] * m[q * n + q]) || 1e-300));
    if (off < 1e-17 || !Number.isFinite(off)) break;
    for (let p = 0; p < n; p++) {
      const pn = p * n;
      for (let q = p + 1; q < n; q++) {
        const qn = q * n;
        const apq = m[pn + q];
        if (apq === 0) continue;
        // Skip rotations that cannot change either diagonal entry (relative criterion).
        if (Math.abs(apq) < 1e-18 * Math.sqrt(Math.abs(m[pn + p] * m[qn + q]))) {
          m[pn + q] = m[qn + p] = 0;
          continue;
        }
        const theta = (m[qn + q] - m[pn + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let kn = 0; kn < n * n; kn += n) {
          const mkp = m[kn + p];
          const mkq = m[kn + q];
          m[kn + p] = c * mkp - s * mkq;
          m[kn + q] = s * mkp + c * mkq;
        }
        if (exactlySymmetric) {
          // Away from p and q, row p before this rotation equals column p (symmetry), so the row
          // update c·m[p][k] − s·m[q][k] is the column update's very product: copy it. At k = p
          // and k = q the row update reads the column-updated entries and is done as before.
          for (let k = 0; k < n; k++) {
            if (k === p || k === q) {
              const mpk = m[pn + k];
              const mqk = m[qn + k];
              m[pn + k] = c * mpk - s * mqk;
              m[qn + k] = s * mpk + c * mqk;
            } else {
              m[pn + k] = m[k * n + p];
              m[qn + k] = m[k * n + q];
            }
          }
        } else {
          for (let k = 0; k < n; k++) {
            const mpk = m[pn + k];
            const mqk = m[qn + k];
            m[pn + k] = c * mpk - s * mqk;
            m[qn + k] = s * mpk + c * mqk;
          }
        }
        // The rotation annihilates (p, q) exactly; writing the zero avoids round-off residue.
        m[pn + q] = m[qn + p] = 0;
        for (let kn = 0; kn < n * n; kn += n) {
          const vkp = v[kn + p];
          const vkq = v[kn + q];
          v[kn + p] = c * vkp - s * vkq;
          v[kn + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[i * n + i] - m[j * n + j]);
  return { values: order.map((i) => m[i * n + i]), vectors: order.map((i) => Array.from({ length: n }, (_, k) => v[k * n + i])) };
}

/** Solves a x = b for a small dense matrix by Gaussian elimination with partial pivoting; null when singular. */
export function solveDense(a: readonly (readonly number[])[], b: readonly number[]): number[] | null {
  const n = a.length;
  const m = a.map((r, i) => [...r, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) piv = r;
    if (m[piv][c] === 0 || !Number.isFinite(m[piv][c])) return null;
    [m[c], m[piv]] = [m[piv], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}
