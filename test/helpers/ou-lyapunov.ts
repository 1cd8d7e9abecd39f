/**
 * Independent references for the anisotropic scheme's tests: the Ornstein–Uhlenbeck steady state
 * with a constant diffusion matrix (docs/oracles.md §13 "Ornstein–Uhlenbeck steady state by
 * vectorisation"), solved here by Gaussian elimination on the Kronecker form of the Lyapunov
 * equation, and a banded direct solve for the null vector of a discrete generator (nothing the
 * scheme uses: no decomposition, no Krylov method).
 */
import type { Csr } from '../../solvers/sparse/csr.js';

/** Solves the dense n×n system a x = b (row-major) by Gaussian elimination with partial pivoting. */
export function denseSolve(n: number, a: number[], b: number[]): number[] {
  const m = a.slice();
  const x = b.slice();
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[p * n + k])) p = i;
    if (p !== k) {
      for (let j = 0; j < n; j++) [m[k * n + j], m[p * n + j]] = [m[p * n + j], m[k * n + j]];
      [x[k], x[p]] = [x[p], x[k]];
    }
    for (let i = k + 1; i < n; i++) {
      const l = m[i * n + k] / m[k * n + k];
      for (let j = k; j < n; j++) m[i * n + j] -= l * m[k * n + j];
      x[i] -= l * x[k];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i];
    for (let j = i + 1; j < n; j++) s -= m[i * n + j] * x[j];
    x[i] = s / m[i * n + i];
  }
  return x;
}

/**
 * Σ with HΣ + ΣH = 2D (d×d row-major): vec(HΣ + ΣH) = (I⊗H + H⊗I) vec Σ, a d²×d² linear system.
 */
export function lyapunov(d: number, H: number[], D: number[]): number[] {
  const n = d * d;
  const k = new Array<number>(n * n).fill(0);
  // Unknown Σ_ab at index a·d + b; equation (a, b): Σ_c H_ac Σ_cb + Σ_c Σ_ac H_cb = 2 D_ab.
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      const row = a * d + b;
      for (let c = 0; c < d; c++) {
        k[row * n + c * d + b] += H[a * d + c];
        k[row * n + a * d + c] += H[c * d + b];
      }
    }
  }
  return denseSolve(n, k, D.map((v) => 2 * v));
}

/** The inverse of a d×d matrix by solving against the unit vectors. */
export function inverse(d: number, m: number[]): number[] {
  const out = new Array<number>(d * d);
  for (let c = 0; c < d; c++) {
    const e = new Array<number>(d).fill(0);
    e[c] = 1;
    const x = denseSolve(d, m, e);
    for (let r = 0; r < d; r++) out[r * d + c] = x[r];
  }
  return out;
}

/** The density of N(0, Σ) at x. */
export function gaussian(d: number, sigma: number[], x: ArrayLike<number>): number {
  const inv = inverse(d, sigma);
  let q = 0;
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) q += x[a] * inv[a * d + b] * x[b];
  let det: number;
  if (d === 1) det = sigma[0];
  else if (d === 2) det = sigma[0] * sigma[3] - sigma[1] * sigma[2];
  else det = sigma[0] * (sigma[4] * sigma[8] - sigma[5] * sigma[7]) - sigma[1] * (sigma[3] * sigma[8] - sigma[5] * sigma[6]) + sigma[2] * (sigma[3] * sigma[7] - sigma[4] * sigma[6]);
  return Math.exp(-0.5 * q) / Math.sqrt((2 * Math.PI) ** d * det);
}

/**
 * The steady state of dρ/dt = Aρ (A a generator: off-diagonals ≥ 0, columns summing to 0), normalized
 * to Σρ·vol = 1, by banded Gaussian elimination without pivoting on M = −A: M is column diagonally
 * dominant, a property every Schur complement keeps, so no pivoting is needed; the last pivot is
 * the rounding of a zero, so ρ_last = 1 and back-substitution (sums of non-negative terms) give the
 * null vector.
 */
export function bandedSteadyState(a: Csr, vol: number): Float64Array {
  const n = a.rows;
  let bw = 0;
  for (let i = 0; i < n; i++) for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) bw = Math.max(bw, Math.abs(a.col[k] - i));
  const w = 2 * bw + 1;
  const u = new Float64Array(n * w);
  const at = (i: number, j: number): number => i * w + (j - i + bw);
  for (let i = 0; i < n; i++) for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) u[at(i, a.col[k])] = -a.val[k];
  for (let k = 0; k < n - 1; k++) {
    const p = u[at(k, k)];
    const last = Math.min(n - 1, k + bw);
    for (let i = k + 1; i <= last; i++) {
      const l = u[at(i, k)] / p;
      if (l === 0) continue;
      u[at(i, k)] = 0;
      for (let j = k + 1; j <= last; j++) u[at(i, j)] -= l * u[at(k, j)];
    }
  }
  const rho = new Float64Array(n);
  rho[n - 1] = 1;
  for (let i = n - 2; i >= 0; i--) {
    let s = 0;
    const last = Math.min(n - 1, i + bw);
    for (let j = i + 1; j <= last; j++) s -= u[at(i, j)] * rho[j];
    rho[i] = s / u[at(i, i)];
  }
  let z = 0;
  for (let i = 0; i < n; i++) z += rho[i];
  for (let i = 0; i < n; i++) rho[i] /= z * vol;
  return rho;
}
