/**
 * The closed communicating classes of a generator's chain. A diffusion matrix that vanishes on a
 * region the drift does not cross (the Hessian model on a double well: H₊ = 0 where f is concave,
 * and −∇f points away from the barrier) splits the box into parts the process never leaves: the
 * steady state is then not unique, and a steady-state solver can only fail or pick one. Counting
 * the closed classes says which, and where.
 */
import type { Csr } from '../../solvers/sparse/csr.js';

export interface ClosedClasses {
  /** Number of closed classes (1 for an irreducible chain or one with transient cells only). */
  count: number;
  /** Each closed class: its first and last cell (lowest and highest index) and its number of cells. */
  classes: { first: number; last: number; size: number }[];
}

/**
 * Strongly connected components of the jump graph (i → j where A[j][i] > 0, i ≠ j), by an iterative
 * Tarjan on the rows of A (the reversed graph has the same components), then the components that
 * no jump leaves.
 */
export function closedClasses(a: Csr): ClosedClasses {
  const n = a.rows;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const comp = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n);
  let sp = 0;
  const callV = new Int32Array(n);
  const callK = new Int32Array(n);
  let next = 0;
  let ncomp = 0;
  for (let s = 0; s < n; s++) {
    if (index[s] >= 0) continue;
    let depth = 0;
    callV[0] = s;
    callK[0] = a.rowPtr[s];
    index[s] = low[s] = next++;
    stack[sp++] = s;
    onStack[s] = 1;
    while (depth >= 0) {
      const v = callV[depth];
      let k = callK[depth];
      let pushed = false;
      for (; k < a.rowPtr[v + 1]; k++) {
        const w = a.col[k];
        if (w === v || !(a.val[k] > 0)) continue;
        if (index[w] < 0) {
          callK[depth] = k + 1;
          depth++;
          callV[depth] = w;
          callK[depth] = a.rowPtr[w];
          index[w] = low[w] = next++;
          stack[sp++] = w;
          onStack[w] = 1;
          pushed = true;
          break;
        }
        if (onStack[w] && index[w] < low[v]) low[v] = index[w];
      }
      if (pushed) continue;
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack[--sp];
          onStack[w] = 0;
          comp[w] = ncomp;
        } while (w !== v);
        ncomp++;
      }
      depth--;
      if (depth >= 0) {
        const u = callV[depth];
        if (low[v] < low[u]) low[u] = low[v];
      }
    }
  }
  // Row j, column i, A[j][i] > 0: a jump i → j, which leaves i's class when j is in another.
  const open = new Uint8Array(ncomp);
  const size = new Int32Array(ncomp);
  const first = new Int32Array(ncomp).fill(-1);
  const last = new Int32Array(ncomp);
  for (let j = 0; j < n; j++) {
    size[comp[j]]++;
    if (first[comp[j]] < 0) first[comp[j]] = j;
    last[comp[j]] = j;
    for (let k = a.rowPtr[j]; k < a.rowPtr[j + 1]; k++) {
      const i = a.col[k];
      if (i !== j && a.val[k] > 0 && comp[i] !== comp[j]) open[comp[i]] = 1;
    }
  }
  const classes: { first: number; last: number; size: number }[] = [];
  for (let c = 0; c < ncomp; c++) if (!open[c]) classes.push({ first: first[c], last: last[c], size: size[c] });
  return { count: classes.length, classes };
}
