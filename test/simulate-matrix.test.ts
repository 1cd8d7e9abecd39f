/**
 * `simulate` with a diffusion matrix: Euler–Maruyama for dθ = −∇f dt + B dW, B Bᵀ = 2D
 * (src/simulate/em.ts advanceSdeMatrix), against the exact Gaussian law of an Ornstein–Uhlenbeck
 * process whose Hessian and D do not commute (oracles.md §8), integrated here by RK4 from
 * m' = −Hm, Σ' = −HΣ − ΣH + 2D; a rank-one D leaves the orthogonal coordinate noiseless; a 1-D
 * matrix equals the scalar additive path; a seed gives the same bits.
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import type { PointFunction } from '../solvers/quadrature.js';
import { parseScenarioText } from '../src/scenario/load.js';
import { buildDiffusion } from '../src/noise/index.js';
import { resolveLandscape } from '../src/landscape/builtins.js';
import { Xoshiro128 } from '../src/data/rng.js';
import { advanceSde, advanceSdeMatrix, type MatrixSdeSystem } from '../src/simulate/em.js';

function system(noise: string, landscape: string, bounds: string, cells: string): MatrixSdeSystem {
  const text = `name: t
landscape: ${landscape}
domain: { bounds: ${bounds}, cells: ${cells} }
noise: ${noise}
initial: { uniform: {} }
time: { end: 1, reportEvery: 0.5 }
`;
  const loaded = parseScenarioText(text, 's.yaml');
  const { bounds: b, cells: c } = loaded.scenario.domain;
  const grid = new Grid(b, c);
  const land = resolveLandscape(loaded.scenario.landscape, grid.dim);
  const gradient: PointFunction[] = land.compiled.gradient().map((e) => (coords, out) => e.evalPoints(coords, out));
  return { lo: grid.lo.slice(), hi: grid.hi.slice(), gradient, diffusion: buildDiffusion(loaded, grid).field };
}

type M2 = [number, number, number, number];
const mul = (a: M2, b: M2): M2 => [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]];

/** The exact law at t from a point mass at m0: RK4 on the moment equations (oracles.md §8), 20 000 steps. */
function exactLaw(H: M2, D: M2, m0: [number, number], t: number): { m: [number, number]; S: M2 } {
  const rhs = (m: number[], S: M2): [number[], M2] => {
    const HS = mul(H, S);
    const SH = mul(S, H);
    return [[-(H[0] * m[0]! + H[1] * m[1]!), -(H[2] * m[0]! + H[3] * m[1]!)], [0, 1, 2, 3].map((q) => -HS[q]! - SH[q]! + 2 * D[q]!) as M2];
  };
  let m: number[] = m0.slice();
  let S: M2 = [0, 0, 0, 0];
  const n = 20000;
  const h = t / n;
  for (let s = 0; s < n; s++) {
    const [k1m, k1S] = rhs(m, S);
    const [k2m, k2S] = rhs(m.map((v, i) => v + 0.5 * h * k1m[i]!), S.map((v, i) => v + 0.5 * h * k1S[i]!) as M2);
    const [k3m, k3S] = rhs(m.map((v, i) => v + 0.5 * h * k2m[i]!), S.map((v, i) => v + 0.5 * h * k2S[i]!) as M2);
    const [k4m, k4S] = rhs(m.map((v, i) => v + h * k3m[i]!), S.map((v, i) => v + h * k3S[i]!) as M2);
    m = m.map((v, i) => v + (h / 6) * (k1m[i]! + 2 * k2m[i]! + 2 * k3m[i]! + k4m[i]!));
    S = S.map((v, i) => v + (h / 6) * (k1S[i]! + 2 * k2S[i]! + 2 * k3S[i]! + k4S[i]!)) as M2;
  }
  return { m: [m[0]!, m[1]!], S };
}

describe('Euler–Maruyama with a diffusion matrix', () => {
  it('OU with HD ≠ DH: sample mean and covariance at t = 1 within 4 standard errors of the exact Gaussian law', () => {
    // f = ½θᵀHθ with H = [[1, 0.5], [0.5, 2]]; D = [[0.15, 0.08], [0.08, 0.1]] (HD ≠ DH).
    const H: M2 = [1, 0.5, 0.5, 2];
    const Dm: M2 = [0.15, 0.08, 0.08, 0.1];
    expect(mul(H, Dm)).not.toEqual(mul(Dm, H));
    const sys = system('{ model: matrix, D: [[0.15, 0.08], [0.08, 0.1]] }', '{ expr: "(x^2 + x*y + 2*y^2)/2" }', '[[-6, 6], [-6, 6]]', '[16, 16]');
    const N = 10000;
    const m0: [number, number] = [0.8, -0.5];
    const x = [new Float64Array(N).fill(m0[0]), new Float64Array(N).fill(m0[1])];
    // dt = 2e-3: the Euler–Maruyama bias of the covariance, O(dt·|H|·|Σ|) ≈ 4e-4, is well below its 4e-3 error bar.
    const steps = advanceSdeMatrix(sys, x, new Xoshiro128(7), 0, 1, 2e-3);
    expect(steps).toBe(500);
    const { m, S } = exactLaw(H, Dm, m0, 1);
    const mean = x.map((a) => a.reduce((s, v) => s + v, 0) / N);
    const cov = [0, 1, 2, 3].map((q) => {
      const [k, l] = [Math.floor(q / 2), q % 2];
      let s = 0;
      for (let i = 0; i < N; i++) s += (x[k]![i]! - mean[k]!) * (x[l]![i]! - mean[l]!);
      return s / (N - 1);
    });
    for (let k = 0; k < 2; k++) expect(Math.abs(mean[k]! - m[k]!)).toBeLessThan(4 * Math.sqrt(S[3 * k]! / N));
    for (let q = 0; q < 4; q++) {
      const [k, l] = [Math.floor(q / 2), q % 2];
      // Standard error of a Gaussian sample covariance: sqrt((Σ_kk Σ_ll + Σ_kl²)/N).
      const se = Math.sqrt((S[3 * k]! * S[3 * l]! + S[q]! ** 2) / N);
      expect(Math.abs(cov[q]! - S[q]!), `Σ[${k}][${l}]: ${cov[q]} vs ${S[q]}`).toBeLessThan(4 * se);
    }
    // The off-diagonal covariance is far from 0 and from what isotropic noise of the same trace gives: the test has teeth.
    expect(Math.abs(S[1])).toBeGreaterThan(10 * Math.sqrt((S[0] * S[3]) / N));
  });

  it('rank-one D along (1, 1): the orthogonal coordinate x − y moves by the drift alone, exactly', () => {
    // f = (x² + y²)/2 (H = I), D = (ησ/2)·u uᵀ = 0.1·[[1, 1], [1, 1]] with u = (1, 1): x − y obeys w' = −w with no noise.
    const sys = system('{ model: low-rank, eta: 0.2, sigma: 1, scale: constant, vectors: [[1, 1]] }', '{ expr: "(x^2 + y^2)/2" }', '[[-8, 8], [-8, 8]]', '[8, 8]');
    const N = 2000;
    const r = new Xoshiro128(3);
    const x = [new Float64Array(N), new Float64Array(N)];
    r.fillNormal(x[0]!);
    r.fillNormal(x[1]!);
    const w0 = Array.from(x[0]!, (v, i) => v - x[1]![i]!);
    const dt = 0.01;
    const steps = advanceSdeMatrix(sys, x, new Xoshiro128(11), 0, 1, dt);
    const decay = (1 - dt) ** steps;
    for (let i = 0; i < N; i++) {
      expect(Math.abs(x[0]![i]! - x[1]![i]! - w0[i]! * decay)).toBeLessThan(1e-12 * (1 + Math.abs(w0[i]!)));
    }
    // while s = x + y diffuses: ds = −s dt + √0.8 dW (2·(1, 1)D(1, 1)ᵀ = 0.8), so Var s(t) = 2e^{−2t} + 0.4(1 − e^{−2t}).
    const sum = Array.from(x[0]!, (v, i) => v + x[1]![i]!);
    const mean = sum.reduce((a, b) => a + b, 0) / N;
    const varSum = sum.reduce((a, b) => a + (b - mean) ** 2, 0) / (N - 1);
    const want = 2 * Math.exp(-2) + 0.4 * (1 - Math.exp(-2));
    expect(Math.abs(varSum - want)).toBeLessThan(4 * want * Math.sqrt(2 / N));
  });

  it('1-D: the matrix path equals the scalar additive path to round-off (same normals, same order)', () => {
    const sys = system('{ model: matrix, D: [[0.3]] }', '{ expr: "x^2" }', '[[-3, 3]]', '[12]');
    const N = 500;
    const a = [new Float64Array(N).fill(0.4)];
    const b = [new Float64Array(N).fill(0.4)];
    advanceSdeMatrix(sys, a, new Xoshiro128(5), 0, 0.5, 0.01);
    advanceSde({ lo: sys.lo, hi: sys.hi, f: () => undefined, gradient: sys.gradient, noise: { kind: 'additive', D: 0.3 } }, b, new Xoshiro128(5), 0, 0.5, 0.01);
    for (let i = 0; i < N; i++) expect(Math.abs(a[0]![i]! - b[0]![i]!)).toBeLessThan(1e-13);
  });

  it('same seed, same bits', () => {
    const sys = system('{ model: hessian, eta: 0.1, sigma: 2, eps: 0.1 }', '{ expr: "(x^2 - 1)^2/4 + y^2/2" }', '[[-2, 2], [-2, 2]]', '[8, 8]');
    const run = (): Float64Array[] => {
      const x = [new Float64Array(300).fill(0.2), new Float64Array(300).fill(-0.1)];
      advanceSdeMatrix(sys, x, new Xoshiro128(99), 0, 0.3, 0.01);
      return x;
    };
    const [p, q] = [run(), run()];
    expect(Buffer.from(p[0]!.buffer).equals(Buffer.from(q[0]!.buffer))).toBe(true);
    expect(Buffer.from(p[1]!.buffer).equals(Buffer.from(q[1]!.buffer))).toBe(true);
  });
});
