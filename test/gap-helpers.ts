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

/** Classical cyclic Jacobi eigenvalues of a dense symmetric matrix, ascending (reference method): jacobiEigenpairs' values. */
export function jacobiEigenvalues(input: number[][]): number[] {
  return jacobiEigenpairs(input).values;
}

/**
 * Lowest nonzero eigenvalue of −S restricted to one reflection class of the box (bit k of `cls`:
 * odd under the reflection of axis k), for a landscape symmetric under those reflections. The
 * class block is assembled from the face arrays on the orbit basis and solved densely (Cholesky
 * and inverse iteration, the null vector √π deflated in the all-even class): independent of the
 * library's shift-invert solver and of its mode matching.
 */
export function classLowest(op: FvOperator, cls: number): number {
  const g = op.grid;
  if (g.n.some((n) => n % 2 !== 0)) throw new Error('even cell counts only');
  const half = g.n.map((n) => n / 2);
  const hs = new Array<number>(g.dim);
  let m = 1;
  for (let k = g.dim - 1; k >= 0; k--) {
    hs[k] = m;
    m *= half[k];
  }
  const rep = new Int32Array(g.size);
  const sign = new Float64Array(g.size);
  for (let i = 0; i < g.size; i++) {
    const idx = g.index(i);
    let r = 0;
    let s = 1;
    for (let k = 0; k < g.dim; k++) {
      const up = idx[k] >= half[k];
      r += (up ? g.n[k] - 1 - idx[k] : idx[k]) * hs[k];
      if (up && (cls >> k) & 1) s = -s;
    }
    rep[i] = r;
    sign[i] = s;
  }
  const w = 1 / 2 ** g.dim;
  const a = new Float64Array(m * m);
  for (let i = 0; i < g.size; i++) {
    a[rep[i] * m + rep[i]] += w * op.outflow[i];
    for (let k = 0; k < g.dim; k++) {
      const st = g.strides[k];
      const j = i + st;
      if (Math.floor(i / st) % g.n[k] === g.n[k] - 1) continue;
      const v = -op.sym[k][i] * sign[i] * sign[j] * w;
      a[rep[i] * m + rep[j]] += v;
      a[rep[j] * m + rep[i]] += v;
    }
  }
  const shift = cls === 0 ? 1e-9 * Math.max(...Array.from({ length: m }, (_, i) => a[i * m + i])) : 0;
  const l = new Float64Array(m * m);
  for (let j = 0; j < m; j++) {
    let d = a[j * m + j] + shift;
    for (let p = 0; p < j; p++) d -= l[j * m + p] ** 2;
    const ljj = Math.sqrt(d);
    l[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let s = a[i * m + j];
      for (let p = 0; p < j; p++) s -= l[i * m + p] * l[j * m + p];
      l[i * m + j] = s / ljj;
    }
  }
  const solve = (b: Float64Array): Float64Array => {
    const y = Float64Array.from(b);
    for (let i = 0; i < m; i++) {
      let s = y[i];
      for (let p = 0; p < i; p++) s -= l[i * m + p] * y[p];
      y[i] = s / l[i * m + i];
    }
    for (let i = m - 1; i >= 0; i--) {
      let s = y[i];
      for (let p = i + 1; p < m; p++) s -= l[p * m + i] * y[p];
      y[i] = s / l[i * m + i];
    }
    return y;
  };
  const normalize = (v: Float64Array): Float64Array => {
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return v.map((x) => x / n);
  };
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  let q: Float64Array | null = null;
  if (cls === 0) {
    q = normalize(Float64Array.from({ length: m }, rnd));
    for (let it = 0; it < 4; it++) q = normalize(solve(q));
  }
  const deflate = (v: Float64Array): Float64Array => {
    if (!q) return v;
    const d = v.reduce((s, x, i) => s + x * q![i], 0);
    return v.map((x, i) => x - d * q![i]);
  };
  let v = normalize(deflate(Float64Array.from({ length: m }, rnd)));
  for (let it = 0; it < 400; it++) {
    const next = normalize(deflate(solve(v)));
    const d = next.reduce((s, x, i) => s + x * v[i], 0);
    v = next;
    // |cos| of successive iterates: the eigenvalue error is ~ the squared angle, here below 1e-14
    if (it > 3 && 1 - Math.abs(d) < 1e-15) break;
  }
  let num = 0;
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += a[i * m + j] * v[j];
    num += v[i] * s;
  }
  return num;
}

/**
 * Dense eigenpairs of a symmetric matrix by cyclic Jacobi with the rotations accumulated
 * (reference method, as jacobiEigenvalues): values ascending, vectors[j] the unit eigenvector of values[j].
 */
export function jacobiEigenpairs(input: number[][]): { values: number[]; vectors: Float64Array[] } {
  const n = input.length;
  const a = input.map((r) => Float64Array.from(r));
  const v = Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n);
    row[i] = 1;
    return row;
  });
  let scale = 0;
  for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) scale += a[p][q] * a[p][q];
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
    if (off <= 1e-30 * scale) break;
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
        const ap = a[p];
        const aq = a[q];
        for (let k = 0; k < n; k++) {
          const apk = ap[k];
          const aqk = aq[k];
          ap[k] = c * apk - s * aqk;
          aq[k] = s * apk + c * aqk;
        }
        // columns p, q of V as rows v[p], v[q]
        const vp = v[p];
        const vq = v[q];
        for (let k = 0; k < n; k++) {
          const x = vp[k];
          const y = vq[k];
          vp[k] = c * x - s * y;
          vq[k] = s * x + c * y;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[i][i] - a[j][j]);
  return { values: order.map((i) => a[i][i]), vectors: order.map((i) => v[i]) };
}
