/**
 * The tridiagonal QL eigen-solver (solvers/tridiagonal-eigen.ts, issue #19.5) against the exact
 * spectrum of a tridiagonal Toeplitz matrix (docs/oracles.md §16), as an eigen-decomposition
 * (T v = λ v, VᵀV = I) on random, graded, clustered and Lanczos matrices, and against the dense
 * Jacobi solver (solvers/dense.ts, a different algorithm) on the same matrices; and the Krylov-matrix
 * entry point's choice between the two.
 */
import { describe, expect, it } from 'vitest';
import { symmetricEigen } from '../solvers/dense.js';
import { OFF_BAND_TOLERANCE, krylovEigen, krylovEigenCounts, tridiagonalEigen } from '../solvers/tridiagonal-eigen.js';
import { DeviceExponential, exponentialCgSettings } from '../solvers/backend/exponential.js';
import { cpuBackend } from '../solvers/backend/choose.js';
import { parseScenarioText } from '../src/scenario/load.js';
import { setUp } from '../src/run/run.js';
import { initialDensity } from '../src/run/initial.js';
import { exactSolution, relL1 } from './helpers/exact-semidiscrete.js';

const EPS = 2 ** -52;

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

function dense(diag: readonly number[], off: readonly number[]): number[][] {
  const n = diag.length;
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) a[i]![i] = diag[i]!;
  for (let i = 0; i + 1 < n; i++) a[i]![i + 1] = a[i + 1]![i] = off[i]!;
  return a;
}

/** max_k ‖T v_k − λ_k v_k‖ / ‖T‖_F and max |VᵀV − I|, computed from the matrix directly. */
function residuals(diag: readonly number[], off: readonly number[], values: readonly number[], vectors: readonly (readonly number[])[]): { res: number; orth: number } {
  const n = diag.length;
  let norm2 = 0;
  for (let i = 0; i < n; i++) norm2 += diag[i]! ** 2 + (i + 1 < n ? 2 * off[i]! ** 2 : 0);
  const norm = Math.max(Math.sqrt(norm2), 1e-300);
  let res = 0;
  let orth = 0;
  for (let k = 0; k < n; k++) {
    const v = vectors[k]!;
    let r2 = 0;
    for (let i = 0; i < n; i++) {
      const tv = diag[i]! * v[i]! + (i > 0 ? off[i - 1]! * v[i - 1]! : 0) + (i + 1 < n ? off[i]! * v[i + 1]! : 0);
      r2 += (tv - values[k]! * v[i]!) ** 2;
    }
    res = Math.max(res, Math.sqrt(r2) / norm);
    for (let j = 0; j <= k; j++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += v[i]! * vectors[j]![i]!;
      orth = Math.max(orth, Math.abs(d - (j === k ? 1 : 0)));
    }
  }
  return { res, orth };
}

function check(diag: number[], off: number[]): void {
  const n = diag.length;
  const eig = tridiagonalEigen(diag, off);
  expect(eig).not.toBeNull();
  const { values, vectors } = eig!;
  expect(values.length).toBe(n);
  for (let k = 1; k < n; k++) expect(values[k]).toBeGreaterThanOrEqual(values[k - 1]!);
  const { res, orth } = residuals(diag, off, values, vectors);
  expect(res).toBeLessThan(50 * n * EPS);
  expect(orth).toBeLessThan(50 * n * EPS);
  // The same spectrum from dense cyclic Jacobi, a different algorithm (Weyl: both within round-off of ‖T‖).
  const ref = symmetricEigen(dense(diag, off)).values;
  const scale = Math.max(...values.map(Math.abs), ...off.map(Math.abs), 1e-300);
  for (let k = 0; k < n; k++) expect(Math.abs(values[k]! - ref[k]!)).toBeLessThan(50 * n * EPS * scale);
}

describe('tridiagonalEigen (implicit QL, Wilkinson shift)', () => {
  it('gives the exact Toeplitz spectrum and eigenvectors (oracles.md §16 tridiagonal Toeplitz)', () => {
    for (const [a, b] of [[2, -1], [0.3, 0.45], [-5, 1e-3], [1, 1e6]] as const) {
      for (let n = 1; n <= 40; n++) {
        const eig = tridiagonalEigen(new Array<number>(n).fill(a), new Array<number>(n - 1).fill(b))!;
        const scale = Math.abs(a) + 2 * Math.abs(b);
        const exact = Array.from({ length: n }, (_, k) => a + 2 * b * Math.cos(((k + 1) * Math.PI) / (n + 1))).sort((x, y) => x - y);
        for (let k = 0; k < n; k++) expect(Math.abs(eig.values[k]! - exact[k]!)).toBeLessThan(20 * n * EPS * scale);
        // Eigenvector of λ_k = a + 2b cos(kπ/(n+1)): sin(jkπ/(n+1)), up to sign; gaps are ~|b|/n², so the angle is ~n³ ulps.
        for (let k = 0; k < n; k++) {
          const lam = eig.values[k]!;
          const kk = Math.round(((n + 1) / Math.PI) * Math.acos(Math.max(-1, Math.min(1, (lam - a) / (2 * b)))));
          const s = Array.from({ length: n }, (_, j) => Math.sin(((j + 1) * kk * Math.PI) / (n + 1)) / Math.sqrt((n + 1) / 2));
          const v = eig.vectors[k]!;
          const dot = v.reduce((acc, x, j) => acc + x * s[j]!, 0);
          expect(Math.abs(Math.abs(dot) - 1)).toBeLessThan(1e3 * n * EPS);
        }
      }
    }
  });

  it('is an eigen-decomposition to round-off on random, graded and clustered tridiagonals, with Jacobi\'s spectrum', () => {
    const r = rng(2718);
    for (let n = 1; n <= 32; n++) {
      check(Array.from({ length: n }, () => r() - 0.5), Array.from({ length: n - 1 }, () => r() - 0.5));
      // Graded over 20 orders of magnitude, both ways (QL chases from the bottom: the order matters to it).
      const g = Array.from({ length: n }, (_, i) => 10 ** (-20 * i / Math.max(1, n - 1)));
      check(g, g.slice(1).map((x) => 0.3 * x));
      check([...g].reverse(), g.slice(1).map((x) => 0.3 * x).reverse());
      // Clustered: nearly equal diagonal, tiny couplings (eigenvalues within 1e-12 of each other).
      check(Array.from({ length: n }, () => 1 + 1e-13 * r()), Array.from({ length: n - 1 }, () => 1e-12 * r()));
    }
    // Wilkinson's W21+: pairs of eigenvalues equal to 1e-14 and more.
    const w = Array.from({ length: 21 }, (_, i) => Math.abs(10 - i));
    check(w, new Array<number>(20).fill(1));
    // Decoupled blocks (zero couplings) and an already diagonal, unsorted matrix.
    check([3, 1, 2, 5, 4], [0.5, 0, 0.25, 0]);
    const d = tridiagonalEigen([3, -1, 2], [0, 0])!;
    expect(d.values).toEqual([-1, 2, 3]);
  });

  it('decomposes the Lanczos matrices of a known spectrum: the Ritz values interlace and the extremes converge', () => {
    // Lanczos with full reorthogonalisation on diag(λ), λ = 1/(1 + i²) (a stiff spectrum in (0, 1], as B's),
    // start vector of ones: T_m is what the exponential integrator decomposes, without round-off off the band.
    const N = 400;
    const lam = Array.from({ length: N }, (_, i) => 1 / (1 + i * i));
    const q: Float64Array[] = [];
    let v = new Float64Array(N).fill(1 / Math.sqrt(N));
    const alpha: number[] = [];
    const beta: number[] = [];
    for (let k = 0; k < 30; k++) {
      q.push(v);
      const w = v.map((x, i) => lam[i]! * x);
      for (let pass = 0; pass < 2; pass++) {
        for (const u of q) {
          const c = u.reduce((acc, x, i) => acc + x * w[i]!, 0);
          for (let i = 0; i < N; i++) w[i] -= c * u[i]!;
        }
      }
      alpha.push(v.reduce((acc, x, i) => acc + x * lam[i]! * x, 0));
      const b = Math.hypot(...w);
      beta.push(b);
      v = w.map((x) => x / b);
    }
    let prev: number[] = [];
    for (let m = 1; m <= 30; m++) {
      const diag = alpha.slice(0, m);
      const off = beta.slice(0, m - 1);
      check(diag, off);
      const values = tridiagonalEigen(diag, off)!.values;
      // Cauchy interlacing between T_{m−1} and T_m, and every Ritz value inside [min λ, max λ].
      for (let k = 0; k < prev.length; k++) {
        expect(values[k]!).toBeLessThanOrEqual(prev[k]! * (1 + 1e-12) + 1e-15);
        expect(values[k + 1]!).toBeGreaterThanOrEqual(prev[k]! * (1 - 1e-12) - 1e-15);
      }
      for (const x of values) expect(x).toBeGreaterThan(lam[N - 1]! * (1 - 1e-9));
      prev = values;
    }
    // With 30 vectors the largest Ritz value is the largest eigenvalue, 1, to round-off.
    expect(Math.abs(prev[29]! - 1)).toBeLessThan(1e-13);
  });

  it('returns null on non-finite entries (the caller falls back to the dense solver)', () => {
    expect(tridiagonalEigen([1, NaN], [0.5])).toBeNull();
    expect(tridiagonalEigen([1, 2], [Infinity])).toBeNull();
    expect(tridiagonalEigen([], [])).toEqual({ values: [], vectors: [] });
  });
});

describe('krylovEigen (the exponential integrator\'s Krylov matrices)', () => {
  /** An upper Hessenberg h (rows m + 1, as the integrator's) whose symmetric part is T plus `rest` off the band. */
  function hessenberg(diag: number[], off: number[], rest: (i: number, j: number) => number): number[][] {
    const m = diag.length;
    const h = Array.from({ length: m + 1 }, () => new Array<number>(m + 1).fill(0));
    for (let i = 0; i < m; i++) h[i]![i] = diag[i]!;
    // The Gram–Schmidt coefficient above the diagonal and the norm below it differ in the last bits.
    for (let i = 0; i + 1 < m; i++) {
      h[i + 1]![i] = off[i]!;
      h[i]![i + 1] = off[i]! * (1 + 2 * EPS);
    }
    for (let i = 0; i < m; i++) for (let j = i + 2; j < m; j++) h[i]![j] = 2 * rest(i, j);
    return h;
  }

  it('decomposes the band when the rest is round-off, and agrees with Jacobi on the whole matrix to round-off', () => {
    const r = rng(31337);
    for (let m = 1; m <= 24; m++) {
      const diag = Array.from({ length: m }, () => r());
      const off = Array.from({ length: m - 1 }, () => 0.3 * r());
      const h = hessenberg(diag, off, () => EPS * (r() - 0.5));
      const got = krylovEigen(h, m);
      const sym = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => 0.5 * (h[i]![j]! + h[j]![i]!)));
      const ref = symmetricEigen(sym);
      for (let k = 0; k < m; k++) {
        expect(Math.abs(got.values[k]! - ref.values[k]!)).toBeLessThan(100 * m * EPS);
        // The coefficient the integrator uses, z_k[0] z_k[j], is sign-free.
        for (let j = 0; j < m; j++) expect(Math.abs(got.vectors[k]![0]! * got.vectors[k]![j]! - ref.vectors[k]![0]! * ref.vectors[k]![j]!)).toBeLessThan(1e-9);
      }
      // The QL result exactly (not the dense one): same bits as tridiagonalEigen on the symmetrised band.
      const band = tridiagonalEigen(diag, off.map((x) => 0.5 * (x + x * (1 + 2 * EPS))))!;
      expect(got.values).toEqual(band.values);
    }
  });

  it('keeps the dense decomposition, bit for bit, when the off-band part exceeds the tolerance (inexact solves)', () => {
    const r = rng(4242);
    for (let m = 3; m <= 24; m++) {
      const diag = Array.from({ length: m }, () => r());
      const off = Array.from({ length: m - 1 }, () => 0.3 * r());
      // 1e3 × the tolerance off the band: e.g. Gram–Schmidt coefficients of a CG solve at 1e-10.
      const h = hessenberg(diag, off, () => 1e3 * OFF_BAND_TOLERANCE * (r() - 0.5));
      const sym = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => 0.5 * (h[i]![j]! + h[j]![i]!)));
      expect(krylovEigen(h, m)).toEqual(symmetricEigen(sym));
    }
  });
});

describe('the exponential integrator on a 1-D grid', () => {
  // Pearson diffusion (oracles.md §1 Pearson), multiplicative noise: direct tridiagonal solves, so the
  // Krylov matrices are tridiagonal to round-off and every one must take the QL path.
  const TEXT = 'name: p\nlandscape: { expr: "0.1 + 0.5*x^2" }\ndomain: { bounds: [[-6, 6]], cells: [240] }\nnoise: { model: multiplicative, eta: 0.1, sigma: 10 }\ninitial: { gaussian: { mean: [1.5], std: [0.2] } }\ntime: { end: 4, reportEvery: 0.5 }\n';

  it('decomposes every Krylov matrix by QL and stays within the tolerance of exp(tA)ρ₀ (oracles.md §12 Semi-discrete exact solution)', async () => {
    const loaded = parseScenarioText(TEXT, 'p.yaml', []);
    const setup = setUp(loaded);
    const rho0 = initialDensity(setup.grid, setup.scenario.initial, loaded);
    const at = exactSolution(setup.op, rho0).at;
    const tol = 1e-6;
    const integ = new DeviceExponential(cpuBackend(setup.op), setup.op, { tolerance: tol, dtMax: 0.5 }, exponentialCgSettings(tol));
    const before = { ...krylovEigenCounts };
    const rho = rho0.slice();
    let worst = 0;
    for (let k = 0; k < 8; k++) {
      await integ.advance(rho, k * 0.5, (k + 1) * 0.5);
      worst = Math.max(worst, relL1(rho, at((k + 1) * 0.5)));
    }
    expect(integ.fallback).toBeUndefined();
    expect(worst).toBeLessThan(10 * tol);
    // Not vacuous: the run decomposed matrices, all of them on the band.
    expect(integ.coefficientSolves).toBeGreaterThan(5);
    expect(krylovEigenCounts.band - before.band).toBe(integ.coefficientSolves);
    expect(krylovEigenCounts.dense - before.dense).toBe(0);
    integ.dispose();
  });
});
