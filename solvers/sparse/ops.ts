import type { Csr } from './csr.js';

/**
 * Small CSR utilities the non-symmetric solvers share: norms, the diagonal, and the Galerkin
 * product of an aggregation (piecewise-constant P), which is the only triple product the
 * multigrid needs. All loops run in index order, so the same input gives the same bits.
 */

/** ‖A‖₁: the largest absolute column sum (for a generator, twice the largest exit rate). */
export function csrNorm1(a: Csr): number {
  const s = new Float64Array(a.cols);
  const nnz = a.rowPtr[a.rows];
  for (let k = 0; k < nnz; k++) s[a.col[k]] += Math.abs(a.val[k]);
  let m = 0;
  for (let j = 0; j < a.cols; j++) if (s[j] > m) m = s[j];
  return m;
}

/** Column sums 1ᵀA (zero for a generator in the forward, column-stochastic-rate form). */
export function csrColumnSums(a: Csr): Float64Array {
  const s = new Float64Array(a.cols);
  const nnz = a.rowPtr[a.rows];
  for (let k = 0; k < nnz; k++) s[a.col[k]] += a.val[k];
  return s;
}

/** Position of each row's diagonal entry in col/val, or −1 where the pattern has none. */
export function csrDiagonalIndex(a: Csr): Int32Array {
  const d = new Int32Array(a.rows).fill(-1);
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) {
      if (a.col[k] === i) {
        d[i] = k;
        break;
      }
    }
  }
  return d;
}

/**
 * The same matrix with an explicit (possibly zero) diagonal entry in every row of a square
 * matrix, so that αI + βA can be formed by rewriting values on a fixed pattern.
 */
export function csrWithDiagonal(a: Csr): Csr {
  if (a.rows !== a.cols) throw new RangeError(`csrWithDiagonal needs a square matrix (got ${a.rows}×${a.cols})`);
  const diag = csrDiagonalIndex(a);
  let missing = 0;
  for (let i = 0; i < a.rows; i++) if (diag[i] < 0) missing++;
  if (missing === 0) return a;
  const nnz = a.rowPtr[a.rows] + missing;
  const rowPtr = new Int32Array(a.rows + 1);
  const col = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  let p = 0;
  for (let i = 0; i < a.rows; i++) {
    let placed = diag[i] >= 0;
    for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) {
      if (!placed && a.col[k] > i) {
        col[p] = i;
        val[p++] = 0;
        placed = true;
      }
      col[p] = a.col[k];
      val[p++] = a.val[k];
    }
    if (!placed) {
      col[p] = i;
      val[p++] = 0;
    }
    rowPtr[i + 1] = p;
  }
  return { rows: a.rows, cols: a.cols, rowPtr, col, val };
}

/**
 * RAP for the aggregation R[I, i] = 1 if agg[i] = I (restriction by sums) and the prolongation
 * P[j, J] = colScale[j] on agg[j] = J (1 when colScale is absent: then P = Rᵀ and this is PᵀAP):
 * (RAP)[I, J] = Σ_{i∈I, j∈J} A[i, j]·colScale[j]. Column sums of A are kept when every column of P
 * sums to 1 (1ᵀRAP = (1ᵀA)P), so the coarse matrix of a generator is a generator; off-diagonals
 * keep their sign (P, R ≥ 0 and a fine diagonal lands on the coarse diagonal). Entries are
 * accumulated in fine-row, then column order.
 */
export function csrGalerkinAggregate(a: Csr, agg: Int32Array, coarse: number, colScale?: Float64Array): Csr {
  if (a.rows !== a.cols || agg.length !== a.rows) throw new RangeError('csrGalerkinAggregate needs a square matrix and one aggregate per row');
  // Fine rows of each aggregate, in increasing order (a counting sort).
  const start = new Int32Array(coarse + 1);
  for (let i = 0; i < a.rows; i++) start[agg[i] + 1]++;
  for (let I = 0; I < coarse; I++) start[I + 1] += start[I];
  const members = new Int32Array(a.rows);
  const fill = start.slice(0, coarse);
  for (let i = 0; i < a.rows; i++) members[fill[agg[i]]++] = i;
  const nnz = a.rowPtr[a.rows];
  const col = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  const rowPtr = new Int32Array(coarse + 1);
  const marker = new Int32Array(coarse).fill(-1);
  let p = 0;
  for (let I = 0; I < coarse; I++) {
    const rowStart = p;
    for (let m = start[I]; m < start[I + 1]; m++) {
      const i = members[m];
      for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) {
        const j = a.col[k];
        const J = agg[j];
        const v = colScale ? a.val[k] * colScale[j] : a.val[k];
        const at = marker[J];
        if (at < rowStart) {
          marker[J] = p;
          col[p] = J;
          val[p++] = v;
        } else val[at] += v;
      }
    }
    // Insertion sort of the short row by column (the sums are already final).
    for (let q = rowStart + 1; q < p; q++) {
      const c = col[q];
      const v = val[q];
      let r = q - 1;
      while (r >= rowStart && col[r] > c) {
        col[r + 1] = col[r];
        val[r + 1] = val[r];
        r--;
      }
      col[r + 1] = c;
      val[r + 1] = v;
    }
    rowPtr[I + 1] = p;
  }
  return { rows: coarse, cols: coarse, rowPtr, col: col.slice(0, p), val: val.slice(0, p) };
}

/** A dense row-major copy (tests and the coarsest multigrid level). */
export function csrToDense(a: Csr): Float64Array {
  const d = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) d[i * a.cols + a.col[k]] += a.val[k];
  return d;
}
