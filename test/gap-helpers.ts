/** Independent reference eigen-solvers for the gap tests (not used by the library). */
import type { FvOperator } from '../solvers/operator.js';

/** Dense −S built entry by entry from the operator's face arrays (symmetric form, docs/design.md §2). */
export function denseNegS(op: FvOperator): number[][] {
  const g = op.grid;
  const n = g.size;
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) a[i][i] = op.outflow[i];
  for (let k = 0; k < g.dim; k++) {
    const st = g.strides[k];
    for (let i = 0; i + st < n; i++) {
      const w = op.sym[k][i];
      if (w === 0) continue;
      a[i][i + st] -= w;
      a[i + st][i] -= w;
    }
  }
  return a;
}

/** Classical cyclic Jacobi eigenvalues of a dense symmetric matrix, ascending (reference method). */
export function jacobiEigenvalues(input: number[][]): number[] {
  const n = input.length;
  const a = input.map((r) => r.slice());
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
    if (off < 1e-30) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        if (a[p][q] === 0) continue;
        const tau = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
      }
    }
  }
  return a.map((r, i) => r[i]).sort((x, y) => x - y);
}
