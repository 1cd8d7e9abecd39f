/**
 * runMatrixScenario (src/nonrev/run.ts) end to end through an independent engine
 * (test/helpers/nonrev-ou-engine.ts: central differences on three offsets, dense LU), on the 2-D
 * Ornstein–Uhlenbeck process of oracles.md §8: the steady state's covariance solves the Lyapunov
 * equation HΣ + ΣH = 2D, its current is ρ(DΣ⁻¹ − H)θ, its entropy production is
 * ∫ JᵀD⁻¹J/ρ = tr((DΣ⁻¹ − H)ᵀD⁻¹(DΣ⁻¹ − H)Σ) (oracles.md "Markov chains on a few states",
 * continuum limit), and the slowest decay rate is μ_min(H).
 */
import { describe, expect, it } from 'vitest';
import { inv2, mul2 } from './helpers/mat2.js';
import { Grid } from '../solvers/grid.js';
import { Problem, isFault } from '../solvers/problem.js';
import type { LoadedScenario, NoiseSpec } from '../src/scenario/types.js';
import { runMatrixScenario } from '../src/nonrev/run.js';
import { densityDistances } from '../src/nonrev/diagnostics.js';
import { ouEngine, type OuSpec } from './helpers/nonrev-ou-engine.js';

type M2 = [[number, number], [number, number]];

/** Σ with HΣ + ΣH = 2D for 2×2 symmetric H, D: the 3×3 linear system in (Σ11, Σ12, Σ22). */
function lyapunov(H: M2, D: M2): M2 {
  const [[a, b], [, c]] = H;
  // Rows: (1,1): 2aΣ11 + 2bΣ12 = 2D11; (1,2): bΣ11 + (a + c)Σ12 + bΣ22 = 2D12; (2,2): 2bΣ12 + 2cΣ22 = 2D22.
  const m = [
    [2 * a, 2 * b, 0],
    [b, a + c, b],
    [0, 2 * b, 2 * c],
  ];
  const r = [2 * D[0][0], 2 * D[0][1], 2 * D[1][1]];
  const det = (q: number[][]): number => q[0][0] * (q[1][1] * q[2][2] - q[1][2] * q[2][1]) - q[0][1] * (q[1][0] * q[2][2] - q[1][2] * q[2][0]) + q[0][2] * (q[1][0] * q[2][1] - q[1][1] * q[2][0]);
  const d0 = det(m);
  const col = (k: number): number => det(m.map((row, i) => row.map((v, j) => (j === k ? r[i] : v))));
  const [s11, s12, s22] = [col(0) / d0, col(1) / d0, col(2) / d0];
  return [
    [s11, s12],
    [s12, s22],
  ];
}


function scenario(spec: OuSpec, over: { bounds: [number, number][]; cells: number[]; end: number; reportEvery: number }): LoadedScenario {
  const { H } = spec;
  return {
    file: '<inline>',
    baseDir: '.',
    scenario: {
      name: 'ou-matrix-test',
      landscape: { expr: `(${H[0][0]}*x^2 + 2*${H[0][1]}*x*y + ${H[1][1]}*y^2)/2` } as LoadedScenario['scenario']['landscape'],
      domain: { bounds: over.bounds, cells: over.cells },
      // The scenario's noise block is the noise models' (src/noise/); the test engine reads D from its spec.
      noise: { model: 'matrix', D: spec.D.map((r) => r.map(String)) } as unknown as NoiseSpec,
      initial: { gaussian: { mean: [1.5, -1], std: [0.5, 0.5] } },
      time: { end: over.end, reportEvery: over.reportEvery, integrator: 'backward-euler', tolerance: 1e-6 },
      diagnostics: {},
    },
  };
}

describe('non-commuting H and D: a rotating steady state (oracles.md §8)', () => {
  const spec: OuSpec = {
    H: [
      [1, 0],
      [0, 0.5],
    ],
    D: [
      [1, 0.3],
      [0.3, 0.8],
    ],
  };
  const run = runMatrixScenario(
    scenario(spec, {
      bounds: [
        [-4, 4],
        [-5, 5],
      ],
      cells: [24, 30],
      end: 10,
      reportEvery: 0.5,
    }),
    ouEngine(spec),
  );

  it('the steady state has the Lyapunov covariance and carries the exact current ρ(DΣ⁻¹ − H)θ', async () => {
    const { report, steady, current, grid } = await run;
    const S = lyapunov(spec.H, spec.D);
    let m = 0;
    const mom = [0, 0, 0];
    for (let i = 0; i < grid.size; i++) {
      const [x, y] = grid.centre(i);
      const w = steady[i] * grid.cellVolume;
      m += w;
      mom[0] += w * x * x;
      mom[1] += w * x * y;
      mom[2] += w * y * y;
    }
    expect(m).toBeCloseTo(1, 12);
    // O(h²) with h = 1/3 plus the box's cut tails (4σ): measured 0.1–0.2 %.
    expect(Math.abs(mom[0] - S[0][0]) / S[0][0]).toBeLessThan(0.01);
    expect(Math.abs(mom[1] - S[0][1]) / S[0][1]).toBeLessThan(0.01);
    expect(Math.abs(mom[2] - S[1][1]) / S[1][1]).toBeLessThan(0.01);
    const A = mul2(spec.D, inv2(S));
    A[0][0] -= spec.H[0][0];
    A[0][1] -= spec.H[0][1];
    A[1][0] -= spec.H[1][0];
    A[1][1] -= spec.H[1][1];
    const Si = inv2(S);
    const norm = 1 / (2 * Math.PI * Math.sqrt(S[0][0] * S[1][1] - S[0][1] ** 2));
    let err = 0;
    let size = 0;
    let jmax = 0;
    for (let i = 0; i < grid.size; i++) {
      const [x, y] = grid.centre(i);
      const rho = norm * Math.exp(-0.5 * (Si[0][0] * x * x + 2 * Si[0][1] * x * y + Si[1][1] * y * y));
      const jx = rho * (A[0][0] * x + A[0][1] * y);
      const jy = rho * (A[1][0] * x + A[1][1] * y);
      err += Math.hypot(current[2 * i] - jx, current[2 * i + 1] - jy);
      size += Math.hypot(jx, jy);
      jmax = Math.max(jmax, Math.hypot(jx, jy));
    }
    expect(size).toBeGreaterThan(0);
    // Measured: 2.1 % relative L1 error of the field, 2.5 % on its maximum (h = 1/3).
    expect(err / size).toBeLessThan(0.05);
    expect(Math.abs(report.nonReversible.currentMax - jmax) / jmax).toBeLessThan(0.05);
    // Entropy production of the continuum: E[θᵀAᵀD⁻¹Aθ] = tr(AᵀD⁻¹AΣ).
    const At: M2 = [
      [A[0][0], A[1][0]],
      [A[0][1], A[1][1]],
    ];
    const P = mul2(mul2(mul2(At, inv2(spec.D)), A), S);
    const epExact = P[0][0] + P[1][1];
    expect(epExact).toBeGreaterThan(0.01);
    // Measured 1.9 %: the chain's Schnakenberg rate tends to the continuum's because the drift is split along the offsets as D is.
    expect(Math.abs(report.nonReversible.entropyProduction - epExact) / epExact).toBeLessThan(0.05);
    expect(report.steadyState.balance).toBeLessThan(1e-12);
    // Not e^{−f/T} for any T (oracles.md §8: only when D = T·I).
    expect(report.nonReversible.gibbs.l1 as number).toBeGreaterThan(0.05);
  }, 60_000);

  it('L1 and KL to the steady state never increase (a Markov semigroup contracts both) and end near 0; the slowest rate is μ_min(H)', async () => {
    const { report } = await run;
    const s = report.series;
    expect(s.length).toBe(21);
    for (let k = 1; k < s.length; k++) {
      expect(s[k].l1).toBeLessThanOrEqual(s[k - 1].l1 * (1 + 1e-12));
      expect(s[k].kl).toBeLessThanOrEqual(s[k - 1].kl * (1 + 1e-12) + 1e-15);
    }
    expect(s[0].l1).toBeGreaterThan(0.5);
    expect(report.final.l1).toBeLessThan(0.03);
    // √χ² decays at the gap μ_min(H) = 0.5; backward Euler at dt = 0.025 decays it at ln(1 + 0.5 dt)/dt = 0.4969.
    const chi = report.rates.chi;
    expect(chi).not.toBeNull();
    expect(Math.abs((chi?.value ?? 0) - Math.log(1 + 0.5 * 0.025) / 0.025)).toBeLessThan(0.005);
  }, 60_000);

  it('report.json holds the steady-state and non-reversible blocks and none of the reversible path\'s numbers', async () => {
    const { report } = await run;
    const json = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
    for (const key of ['regime', 'regimeReason', 'regimeDetails', 'collapse', 'basins', 'criticalLimit', 'walls', 'bounds']) expect(json).not.toHaveProperty(key);
    expect(report.kind).toBe('diffusion-matrix');
    expect(report.nonReversible.isotropic).toBeNull();
    expect(report.equilibrium.meanLoss).toBeCloseTo(report.steadyState.meanLoss, 15);
    // The test engine has no eigen-solver: the gap is null with the reason, the run is still ok.
    expect(report.gap).toBeNull();
    expect(report.notes.some((n) => n.startsWith('gap: not computed'))).toBe(true);
    expect(report.status).toBe('ok');
  }, 60_000);
});

describe('commuting H and D = T·I: detailed balance', () => {
  const T = 0.6;
  const spec: OuSpec = {
    H: [
      [1, 0.3],
      [0.3, 2],
    ],
    D: [
      [T, 0],
      [0, T],
    ],
  };
  const bounds: [number, number][] = [
    [-3, 3],
    [-3, 3],
  ];
  it('J = 0 and entropy production 0 to round-off; the steady state is the reversible run\'s π ∝ e^{−f/T}', async () => {
    const { report, steady, grid } = await runMatrixScenario(scenario(spec, { bounds, cells: [24, 24], end: 1, reportEvery: 0.5 }), ouEngine(spec));
    expect(report.nonReversible.currentMax).toBeLessThan(1e-12);
    expect(Math.abs(report.nonReversible.entropyProduction)).toBeLessThan(1e-20);
    const g = new Grid(bounds, [24, 24]);
    const p = Problem.build(g, (c, out) => {
      for (let i = 0; i < out.length; i++) out[i] = (c[0][i] ** 2 + 0.6 * c[0][i] * c[1][i] + 2 * c[1][i] ** 2) / 2;
    }, { kind: 'additive', D: T });
    if (isFault(p)) throw new Error('unexpected landscape fault');
    const d = densityDistances(steady, p.pi(), grid.cellVolume);
    // The reversible scheme's π is e^{−f̄/T} with cell averages f̄, which for a quadratic f differ from the centre values by a
    // constant: the same law as the test engine's, so the two agree to the dense solve's round-off.
    expect(d.l1).toBeLessThan(1e-10);
    // The Gibbs fit finds T itself.
    expect(Math.abs((report.nonReversible.gibbs.T as number) - T) / T).toBeLessThan(0.03);
  }, 60_000);

  it('an interrupted run keeps its report: status interrupted, the points measured so far, no gap', async () => {
    const ctl = new AbortController();
    const { report } = await runMatrixScenario(scenario(spec, { bounds, cells: [24, 24], end: 3, reportEvery: 0.5 }), ouEngine(spec), {
      signal: ctl.signal,
      onProgress: (p) => {
        if (p.t >= 1) ctl.abort();
      },
    });
    expect(report.status).toBe('interrupted');
    expect(report.error).toMatch(/interrupted by a signal/);
    expect(report.final.t).toBeGreaterThanOrEqual(1);
    expect(report.final.t).toBeLessThan(3);
    expect(report.gap).toBeUndefined();
  }, 60_000);
});
