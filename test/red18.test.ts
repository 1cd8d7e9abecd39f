/**
 * Red team of issue #18 (diffusion-matrix noise): defects found in the run path, each checked against
 * an independent result computed in the test (the OU steady law of oracles.md §8 from the Lyapunov
 * equation, the OU spectrum of oracles.md §14).
 */
import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../src/scenario/load.js';
import { runMatrixScenario } from '../src/nonrev/run.js';
import { defaultEngine } from '../src/nonrev/engine.js';
import { lyapunov } from './helpers/ou-lyapunov.js';
import { closedClasses } from '../src/nonrev/classes.js';
import { simulateScenario } from '../src/simulate/compare.js';
import { csrFromTriplets } from '../solvers/sparse/csr.js';

/** f = (x² + 3y²)/2 (H = diag(1, 3)) on [−2, 2]² with a low-rank noise block. */
function ouScenario(noise: string, cells: number): string {
  return `
name: red18-ou
landscape: { expr: "(x^2 + 3*y^2)/2" }
domain: { bounds: [[-2, 2], [-2, 2]], cells: [${cells}, ${cells}] }
noise: ${noise}
initial: { gaussian: { mean: [0.5, 0.2], std: [0.2, 0.2] } }
time: { end: 0.5, reportEvery: 0.5 }
`;
}

function covariance(steady: Float64Array, n: number, lo: number, h: number): number[] {
  let m = 0;
  let mx = 0;
  let my = 0;
  let xx = 0;
  let xy = 0;
  let yy = 0;
  for (let i = 0; i < n; i++) {
    const x = lo + (i + 0.5) * h;
    for (let j = 0; j < n; j++) {
      const y = lo + (j + 0.5) * h;
      const r = steady[i * n + j]!;
      m += r;
      mx += r * x;
      my += r * y;
      xx += r * x * x;
      xy += r * x * y;
      yy += r * y * y;
    }
  }
  mx /= m;
  my /= m;
  return [xx / m - mx * mx, xy / m - mx * my, xy / m - mx * my, yy / m - my * my];
}

describe('low-rank noise with scale: constant', () => {
  it('is not compared with the loss-scaled isotropic π (which it is not the isotropic version of), and its steady law is the Lyapunov Gaussian', async () => {
    // D = (ησ/2)·Σ u uᵀ = 0.1·[[1.25, 0.5], [0.5, 1]]: constant, full rank, not vanishing at the zero of f.
    const noise = '{ model: low-rank, eta: 0.1, sigma: 2, scale: constant, vectors: [["1", "0"], ["0.5", "1"]] }';
    const loaded = parseScenarioText(ouScenario(noise, 32), 'red18.yaml');
    const { report, steady } = await runMatrixScenario(loaded, defaultEngine(), { gap: false });
    // Before the fix: a comparison with (f + ε)^−(1 + 2/ησ), reported 'not integrable: the isotropic model
    // collapses onto the zeros of f', a statement about another process.
    expect(report.nonReversible.isotropic).toBeNull();
    // The process itself does not collapse: oracles.md §8, HΣ + ΣH = 2D.
    const sigma = lyapunov(2, [1, 0, 0, 3], [0.125, 0.05, 0.05, 0.1]);
    const cov = covariance(steady, 32, -2, 0.125);
    for (let k = 0; k < 4; k++) expect(Math.abs(cov[k]! - sigma[k]!)).toBeLessThan(0.05 * sigma[0]!);
  });

  it('scale: loss keeps the comparison', async () => {
    const noise = '{ model: low-rank, eta: 0.1, sigma: 2, eps: 0.5, scale: loss, vectors: [["1", "0"], ["0.5", "1"]] }';
    const loaded = parseScenarioText(ouScenario(noise, 16), 'red18.yaml');
    const { report } = await runMatrixScenario(loaded, defaultEngine(), { gap: false });
    expect(report.nonReversible.isotropic?.etaSigma).toBeCloseTo(0.2, 15);
  });
});

describe('rank-one noise along a non-lattice direction: the walls', () => {
  it('the first non-zero eigenvalue tends to −μ_min(H) = −1 (oracles.md §14), not to a mode trapped at the walls', async () => {
    // D = 0.1·u uᵀ, u = (1, √2): rank one, no lattice offset along u. (H, u) is controllable (u is not
    // an eigenvector of H), so the OU law has a Gaussian steady state (oracles.md §8) and spectrum
    // {−n₁ − 3n₂} (oracles.md §14): μ₁ = −1. Before the fix, pairs whose partner fell outside the box were
    // dropped, the drift along the top and bottom walls had no pair to ride on, and a pair of modes
    // trapped in two corners gave μ₁ = −0.0177 at 32², −0.0364 at 64² (−0.0738 at 128²), reported as
    // the decay rate.
    const noise = '{ model: low-rank, eta: 0.1, sigma: 2, scale: constant, vectors: [["1", "sqrt(2)"]] }';
    const loaded = parseScenarioText(ouScenario(noise, 64), 'red18.yaml');
    const { report } = await runMatrixScenario(loaded, defaultEngine());
    expect(report.gap).toBeTruthy();
    // 64² gives −1.147 (first order: the drift across u is carried by Selling offsets at Péclet ≫ 1, and
    // D is relaxed by 0.027·tr D, which the summary reports).
    expect(Math.abs(report.gap!.re + 1)).toBeLessThan(0.2);
    expect(report.gap!.im).toBe(0);
  }, 60_000);

  it('the gap note claims O(h²) only where the scheme has it: not for a relaxed D, whose E_ss[f] misses ½ tr D by 57 % at 32²', async () => {
    // oracles.md §8: E_ss[f] = ½ tr(HΣ) = ½ tr D (trace of the Lyapunov equation) = 0.15 here.
    const noise = '{ model: low-rank, eta: 0.1, sigma: 2, scale: constant, vectors: [["1", "sqrt(2)"]] }';
    const { report } = await runMatrixScenario(parseScenarioText(ouScenario(noise, 32), 'red18.yaml'), defaultEngine());
    const sigma = lyapunov(2, [1, 0, 0, 3], [0.1, 0.1 * Math.SQRT2, 0.1 * Math.SQRT2, 0.2]);
    const exactMean = 0.5 * (sigma[0]! + 3 * sigma[3]!);
    expect(exactMean).toBeCloseTo(0.15, 12);
    const err = Math.abs(report.steadyState.meanLoss - exactMean) / exactMean;
    expect(err).toBeGreaterThan(0.2); // the claim would be false here …
    expect(report.scheme.relaxation!.cells).toBeGreaterThan(0);
    const note = report.gap!.notes.join(' ');
    expect(note).not.toContain('discretization error (O(h²)'); // … so the note must not make it
    expect(note).toContain('not O(h²) here: D was relaxed');
    // The bundled OU (D decomposes on the stencil): second order, and the note says so.
    const ou = '{ model: matrix, D: [[0.15, 0.08], [0.08, 0.1]] }';
    const good = await runMatrixScenario(parseScenarioText(ouScenario(ou, 32), 'red18.yaml'), defaultEngine());
    expect(Math.abs(good.report.steadyState.meanLoss - 0.5 * 0.25) / 0.125).toBeLessThan(0.05); // 3 % at 32²
    expect(good.report.gap!.notes.join(' ')).toContain('discretization error (O(h²)');
  }, 60_000);
});

describe('closed classes of a chain (oracles.md §15: a few states)', () => {
  /** Forward generator of the jumps [from, to, rate]: A[to][from] = rate, diagonal = −outflow. */
  const gen = (n: number, jumps: [number, number, number][]) => {
    const r: number[] = [];
    const c: number[] = [];
    const v: number[] = [];
    const out = new Array<number>(n).fill(0);
    for (const [i, j, q] of jumps) {
      r.push(j);
      c.push(i);
      v.push(q);
      out[i] += q;
    }
    for (let i = 0; i < n; i++) {
      r.push(i);
      c.push(i);
      v.push(-out[i]!);
    }
    return csrFromTriplets(n, n, r, c, v);
  };

  it('two closed pairs and a transient state; a ring; a zero rate is no edge', () => {
    // {0, 1} and {3, 4} closed; 2 jumps into both, so it is transient.
    const split = closedClasses(gen(5, [[0, 1, 1], [1, 0, 2], [2, 1, 1], [2, 3, 1], [3, 4, 1], [4, 3, 1]]));
    expect(split.classes).toEqual([
      { first: 0, last: 1, size: 2 },
      { first: 3, last: 4, size: 2 },
    ]);
    // A one-way ring 0 → 1 → 2 → 3 → 0 is irreducible; with 3 → 0 at rate 0 it has the single closed class {3}.
    expect(closedClasses(gen(4, [[0, 1, 1], [1, 2, 1], [2, 3, 1], [3, 0, 1]])).count).toBe(1);
    expect(closedClasses(gen(4, [[0, 1, 1], [1, 2, 1], [2, 3, 1], [3, 0, 0]])).classes).toEqual([{ first: 3, last: 3, size: 1 }]);
  });
});

describe('library export', () => {
  it('runMatrixScenario and its engine come from the public entry point; the steady law is the Lyapunov Gaussian', async () => {
    const lib = await import('../src/library/index.js');
    const loaded = lib.parseScenarioText(ouScenario('{ model: matrix, D: [[0.15, 0.08], [0.08, 0.1]] }', 32), 'lib.yaml');
    const { report, steady } = await lib.runMatrixScenario(loaded, lib.matrixEngine(), { gap: false });
    expect(report.kind).toBe('diffusion-matrix');
    const sigma = lyapunov(2, [1, 0, 0, 3], [0.15, 0.08, 0.08, 0.1]);
    const cov = covariance(steady, 32, -2, 0.125);
    // Second order: 1.5 % at 32² (docs/nonreversible.md, "How accurate").
    for (let k = 0; k < 4; k++) expect(Math.abs(cov[k]! - sigma[k]!)).toBeLessThan(0.03 * sigma[0]!);
  });
});

describe('simulate with matrix noise', () => {
  it('runs (it refused every matrix model) and both sides match the exact OU law at t = 0.5 and 1 (oracles.md §8)', async () => {
    // H = diag(1, 3) and D = [[0.15, 0.08], [0.08, 0.1]] from N((1, 0.5), 0.1²·I): m(t) = e^{−Ht}m₀,
    // Σ(t) = Σ∞ + e^{−Ht}(Σ₀ − Σ∞)e^{−Ht}, E f = ½(mᵀHm + tr HΣ); e^{−Ht} is diagonal here.
    const text = ouScenario('{ model: matrix, D: [[0.15, 0.08], [0.08, 0.1]] }', 64)
      .replace('mean: [0.5, 0.2], std: [0.2, 0.2]', 'mean: [1, 0.5], std: [0.1, 0.1]')
      .replace('time: { end: 0.5, reportEvery: 0.5 }', 'time: { end: 1, reportEvery: 0.5 }');
    const { report } = await simulateScenario(parseScenarioText(text, 'sim.yaml'), { particles: 20_000, seed: 3 });
    const k = [1, 3];
    const sInf = lyapunov(2, [1, 0, 0, 3], [0.15, 0.08, 0.08, 0.1]);
    const exactMean = (t: number): number => {
      const e = k.map((v) => Math.exp(-v * t));
      const m = [e[0]! * 1, e[1]! * 0.5];
      const s0 = [0.01, 0, 0, 0.01];
      const S = sInf.map((v, q) => v + e[Math.floor(q / 2)]! * (s0[q]! - v) * e[q % 2]!);
      return 0.5 * (k[0]! * m[0]! ** 2 + k[1]! * m[1]! ** 2 + k[0]! * S[0]! + k[1]! * S[3]!);
    };
    const cmp = report.methods[0]!.comparisons;
    expect(cmp.map((c) => c.t)).toEqual([0.5, 1]);
    for (const c of cmp) {
      const exact = exactMean(c.t);
      // Monte Carlo: within 4 standard errors plus the Euler–Maruyama bias (dt ≈ 0.007, O(dt)).
      expect(Math.abs(c.meanLoss.mc - exact)).toBeLessThan(4 * c.meanLoss.mcStdErr + 0.01 * exact);
      // The PDE at 64² (h = 0.0625 against an initial std of 0.1): within 3 %.
      expect(Math.abs(c.meanLoss.pde - exact) / exact).toBeLessThan(0.03);
    }
  }, 60_000);
});

describe('gap on a coarse grid', () => {
  /** det(A − λI) of a dense matrix by Gaussian elimination with partial pivoting (written here, independent of the product's solvers). */
  function det(a: number[][], lambda: number): number {
    const n = a.length;
    const m = a.map((row, i) => row.map((v, j) => v - (i === j ? lambda : 0)));
    let d = 1;
    for (let k = 0; k < n; k++) {
      let p = k;
      for (let i = k + 1; i < n; i++) if (Math.abs(m[i]![k]!) > Math.abs(m[p]![k]!)) p = i;
      if (p !== k) {
        [m[p], m[k]] = [m[k]!, m[p]!];
        d = -d;
      }
      const piv = m[k]![k]!;
      d *= piv;
      if (piv === 0) return 0;
      for (let i = k + 1; i < n; i++) {
        const f = m[i]![k]! / piv;
        for (let j = k; j < n; j++) m[i]![j]! -= f * m[k]![j]!;
      }
    }
    return d;
  }

  it('4×4 cells: the Arnoldi space becomes invariant and its exact eigenvalue is reported (was "did not settle", no gap)', async () => {
    const noise = '{ model: low-rank, eta: 0.1, sigma: 2, scale: constant, vectors: [["1", "sqrt(2)"]] }';
    const loaded = parseScenarioText(ouScenario(noise, 4), 'red18.yaml');
    const { report } = await runMatrixScenario(loaded, defaultEngine());
    expect(report.gap, report.notes.join('\n')).toBeTruthy();
    const mu = report.gap!.re;
    expect(report.gap!.im).toBe(0);
    // The scheme's generator as a dense matrix; its eigenvalues are checked by determinants computed here.
    const { assembleGenerator } = await import('../solvers/anisotropic/assemble.js');
    const { buildDiffusion } = await import('../src/noise/index.js');
    const { Grid } = await import('../solvers/grid.js');
    const grid = new Grid(loaded.scenario.domain.bounds, loaded.scenario.domain.cells);
    const dif = buildDiffusion(loaded, grid);
    const A = assembleGenerator(grid, dif.field, dif.gradF).forward;
    const dense = Array.from({ length: A.rows }, () => new Array<number>(A.rows).fill(0));
    for (let i = 0; i < A.rows; i++) for (let k = A.rowPtr[i]!; k < A.rowPtr[i + 1]!; k++) dense[i]![A.col[k]!] = A.val[k]!;
    // μ is an eigenvalue: det(A − λI) changes sign across it …
    expect(Math.sign(det(dense, mu - 1e-6))).not.toBe(Math.sign(det(dense, mu + 1e-6)));
    // … and no real eigenvalue lies between it and the zero eigenvalue.
    const steps = 400;
    let prev = Math.sign(det(dense, mu + 1e-6));
    for (let s = 1; s <= steps; s++) {
      const lam = mu + 1e-6 + ((-1e-3 - mu - 1e-6) * s) / steps;
      const sg = Math.sign(det(dense, lam));
      expect(sg).toBe(prev);
      prev = sg;
    }
  }, 60_000);
});
