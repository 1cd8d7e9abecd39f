/**
 * Test-side constructions for the non-symmetric solvers (test/nonsym*.test.ts, test/sparse*.test.ts):
 * generators written here, independently of solvers/anisotropic (another branch), and dense
 * reference algorithms (LU with partial pivoting, a Taylor matrix exponential) to compare with.
 */
import type { Csr } from '../solvers/sparse/csr.js';
import { Grid } from '../solvers/grid.js';

/** Deterministic uniform [0, 1) numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CSR from a per-row list of (column, value) pairs (rows sorted here). */
export function csrFromRows(n: number, rows: [number, number][][]): Csr {
  const rowPtr = new Int32Array(n + 1);
  const col: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rows[i].slice().sort((p, q) => p[0] - q[0]);
    let last = -1;
    for (const [c, v] of r) {
      if (c === last) val[val.length - 1] += v;
      else {
        col.push(c);
        val.push(v);
        last = c;
      }
    }
    rowPtr[i + 1] = col.length;
  }
  return { rows: n, cols: n, rowPtr, col: Int32Array.from(col), val: Float64Array.from(val) };
}

/**
 * The forward generator (dρ/dt = Aρ) of a chain given by a list of jumps i → j with rate r:
 * A[j][i] += r, A[i][i] −= r.
 */
export function generatorFromJumps(n: number, jumps: readonly (readonly [number, number, number])[]): Csr {
  const rows: [number, number][][] = Array.from({ length: n }, (_, i) => [[i, 0]]);
  for (const [i, j, r] of jumps) {
    rows[j].push([i, r]);
    rows[i].push([i, -r]);
  }
  return csrFromRows(n, rows);
}

/** A ring of n states, rate p to i+1 and q to i−1 (mod n). */
export function ringGenerator(n: number, p: number, q: number): Csr {
  const jumps: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    jumps.push([i, (i + 1) % n, p]);
    jumps.push([i, (i + n - 1) % n, q]);
  }
  return generatorFromJumps(n, jumps);
}

/** z/(e^z − 1), the Bernoulli function of exponential fitting. */
export function bern(z: number): number {
  if (Math.abs(z) < 1e-8) return 1 - z / 2;
  return z / Math.expm1(z);
}

/**
 * A 2-D Ornstein–Uhlenbeck generator, ∂t ρ = ∇·(ρHθ) + ∇·(D∇ρ) with constant D, written for the
 * tests (the real scheme is solvers/anisotropic on another branch): D = Σ_e ω_e (e∘h)(e∘h)ᵀ over the
 * offsets (1,0), (0,1) and (1,±1) with ω ≥ 0 (needs |D₁₂| ≤ D₁₁h₂/h₁ and ≤ D₂₂h₁/h₂); the drift
 * goes on the axis offsets with exponential fitting (Scharfetter–Gummel) against that axis weight,
 * the diagonal offsets carry pure diffusion. A 9-point stencil when D₁₂ ≠ 0; all rates ≥ 0.
 */
export function ouGenerator(grid: Grid, H: readonly (readonly number[])[], D: readonly (readonly number[])[]): Csr {
  if (grid.dim !== 2) throw new RangeError('ouGenerator is 2-D');
  const [h1, h2] = grid.h;
  const c = D[0][1];
  const wd = Math.abs(c) / (h1 * h2);
  const w1 = (D[0][0] - (Math.abs(c) * h1) / h2) / (h1 * h1);
  const w2 = (D[1][1] - (Math.abs(c) * h2) / h1) / (h2 * h2);
  if (w1 < -1e-12 || w2 < -1e-12) throw new RangeError('ouGenerator: D is not diagonally dominant enough for the 9-point decomposition');
  const diagOff = c >= 0 ? 1 : -1;
  const [n1, n2] = grid.n;
  const x1 = grid.centres(0);
  const x2 = grid.centres(1);
  const jumps: [number, number, number][] = [];
  const axis = (w: number, v: number, h: number): [number, number] => {
    if (w <= 0) return [Math.max(v, 0) / h, Math.max(-v, 0) / h];
    const z = v / (w * h); // v h / d with d = w h²
    return [w * bern(-z), w * bern(z)];
  };
  for (let i = 0; i < n1; i++) {
    for (let j = 0; j < n2; j++) {
      const p = i * n2 + j;
      if (i + 1 < n1) {
        const xm = 0.5 * (x1[i] + x1[i + 1]);
        const v = -(H[0][0] * xm + H[0][1] * x2[j]);
        const [up, dn] = axis(w1, v, h1);
        jumps.push([p, p + n2, up], [p + n2, p, dn]);
      }
      if (j + 1 < n2) {
        const ym = 0.5 * (x2[j] + x2[j + 1]);
        const v = -(H[1][0] * x1[i] + H[1][1] * ym);
        const [up, dn] = axis(w2, v, h2);
        jumps.push([p, p + 1, up], [p + 1, p, dn]);
      }
      const jj = j + diagOff;
      if (wd > 0 && i + 1 < n1 && jj >= 0 && jj < n2) {
        const q = (i + 1) * n2 + jj;
        jumps.push([p, q, wd], [q, p, wd]);
      }
    }
  }
  return generatorFromJumps(grid.size, jumps);
}

/** Dense row arrays of a CSR matrix. */
export function dense(a: Csr): number[][] {
  const d = Array.from({ length: a.rows }, () => new Array<number>(a.cols).fill(0));
  for (let i = 0; i < a.rows; i++) for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) d[i][a.col[k]] += a.val[k];
  return d;
}

/** Solves M x = b by Gaussian elimination with partial pivoting (M is copied). */
export function luSolve(m: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = m.length;
  const a = m.map((r, i) => [...r, b[i]]);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i][k]) > Math.abs(a[p][k])) p = i;
    [a[k], a[p]] = [a[p], a[k]];
    for (let i = k + 1; i < n; i++) {
      const l = a[i][k] / a[k][k];
      for (let j = k; j <= n; j++) a[i][j] -= l * a[k][j];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = a[i][n];
    for (let j = i + 1; j < n; j++) s -= a[i][j] * x[j];
    x[i] = s / a[i][i];
  }
  return x;
}

/** The kernel vector of a generator by a dense solve: one equation replaced by Σρ = 1. */
export function denseSteady(a: Csr): number[] {
  const m = dense(a);
  const n = m.length;
  m[n - 1] = new Array<number>(n).fill(1);
  const b = new Array<number>(n).fill(0);
  b[n - 1] = 1;
  return luSolve(m, b);
}

/** e^{tA} v by scaling and squaring of a Taylor series (dense; for small test matrices). */
export function expmTimes(a: readonly (readonly number[])[], t: number, v: readonly number[]): number[] {
  const n = a.length;
  let norm = 0;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.abs(a[i][j]);
    norm = Math.max(norm, s);
  }
  const sq = Math.max(0, Math.ceil(Math.log2((norm * Math.abs(t)) / 0.25)));
  const scale = t / 2 ** sq;
  const mul = (x: number[][], y: number[][]): number[][] => x.map((r) => y[0].map((_, j) => r.reduce((s, xik, k) => s + xik * y[k][j], 0)));
  const B = a.map((r) => r.map((x) => x * scale));
  let E: number[][] = B.map((_, i) => B.map((__, j) => (i === j ? 1 : 0)));
  let term = E.map((r) => r.slice());
  for (let k = 1; k <= 30; k++) {
    term = mul(term, B).map((r) => r.map((x) => x / k));
    E = E.map((r, i) => r.map((x, j) => x + term[i][j]));
  }
  for (let s = 0; s < sq; s++) E = mul(E, E);
  return E.map((r) => r.reduce((s, x, j) => s + x * v[j], 0));
}

/** Square grid [−L, L]² with n cells per axis. */
export function box(L: number, n: number): Grid {
  return new Grid([[-L, L], [-L, L]], [n, n]);
}
