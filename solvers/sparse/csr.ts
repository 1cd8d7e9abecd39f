/**
 * Compressed sparse row matrices: the storage of the non-symmetric operators (a diffusion matrix
 * makes the generator non-symmetric, so the symmetric-form kernels of solvers/operator.ts do not
 * apply). Column indices within a row are strictly increasing: the triplet builder sorts and sums
 * duplicates, so every product loop reads each row once in a fixed order (same input, same bits).
 */
export interface Csr {
  readonly rows: number;
  readonly cols: number;
  readonly rowPtr: Int32Array;
  readonly col: Int32Array;
  readonly val: Float64Array;
}

/** y = A x. */
export function csrMatVec(a: Csr, x: Float64Array, y: Float64Array): void {
  const { rowPtr, col, val } = a;
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) s += val[k] * x[col[k]];
    y[i] = s;
  }
}

/** Builds A from (row, col, value) triplets; duplicates are summed in the order given. */
export function csrFromTriplets(rows: number, cols: number, ri: ArrayLike<number>, ci: ArrayLike<number>, v: ArrayLike<number>): Csr {
  const nnzIn = v.length;
  const count = new Int32Array(rows + 1);
  for (let k = 0; k < nnzIn; k++) count[ri[k] + 1]++;
  for (let i = 0; i < rows; i++) count[i + 1] += count[i];
  const order = new Int32Array(nnzIn);
  const fill = count.slice(0, rows);
  for (let k = 0; k < nnzIn; k++) order[fill[ri[k]]++] = k;
  const rowPtr = new Int32Array(rows + 1);
  const colOut: number[] = [];
  const valOut: number[] = [];
  for (let i = 0; i < rows; i++) {
    // A stable sort by column keeps the summation order of duplicates the order they were given in.
    const ks = Array.from(order.subarray(count[i], count[i + 1])).sort((p, q) => ci[p] - ci[q] || p - q);
    let last = -1;
    for (const k of ks) {
      if (ci[k] === last) valOut[valOut.length - 1] += v[k];
      else {
        colOut.push(ci[k]);
        valOut.push(v[k]);
        last = ci[k];
      }
    }
    rowPtr[i + 1] = colOut.length;
  }
  return { rows, cols, rowPtr, col: Int32Array.from(colOut), val: Float64Array.from(valOut) };
}

/** Aᵀ as a new CSR matrix. */
export function csrTranspose(a: Csr): Csr {
  const count = new Int32Array(a.cols + 1);
  for (let k = 0; k < a.rowPtr[a.rows]; k++) count[a.col[k] + 1]++;
  for (let j = 0; j < a.cols; j++) count[j + 1] += count[j];
  const fill = count.slice(0, a.cols);
  const col = new Int32Array(a.rowPtr[a.rows]);
  const val = new Float64Array(a.rowPtr[a.rows]);
  // Rows of A visited in increasing order give increasing columns in each row of Aᵀ.
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) {
      const p = fill[a.col[k]]++;
      col[p] = i;
      val[p] = a.val[k];
    }
  }
  return { rows: a.cols, cols: a.rows, rowPtr: count, col, val };
}
