import type { FvOperator } from '../../solvers/operator.js';

/**
 * The k-th smallest eigenvalue (k = 0: the zero mode) of −S of a 1-D operator (symmetric
 * tridiagonal: diagonal op.outflow, off-diagonal −op.sym[0]), by Sturm-count bisection: a
 * reference independent of the library's eigen-solvers (tests only).
 */
export function sturmEigenvalue(op: FvOperator, k: number): number {
  const a = op.outflow;
  const b = op.sym[0];
  const n = a.length;
  const below = (s: number): number => {
    let count = 0;
    let d = 1;
    for (let i = 0; i < n; i++) {
      d = a[i] - s - (i > 0 ? (b[i - 1] * b[i - 1]) / d : 0);
      if (d === 0) d = -1e-300;
      if (d < 0) count++;
    }
    return count;
  };
  let lo = 0;
  let hi = 1;
  while (below(hi) <= k) hi *= 2;
  for (let it = 0; it < 400 && hi - lo > 1e-14 * hi; it++) {
    const mid = 0.5 * (lo + hi);
    if (below(mid) <= k) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
