/**
 * The non-reversible diagnostics (src/nonrev/diagnostics.ts) on hand-built generators whose
 * answers are known in closed form: a 3-state cycle (steady state by the matrix-tree theorem,
 * cycle current and Schnakenberg entropy production, oracles.md "Markov chains on a few states"),
 * a detailed-balance generator (J = 0, entropy production 0), a constant-drift chain (cell
 * current = ρ × velocity) and Gibbs laws e^{−f/T₀} (the fit returns T₀).
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import type { OffsetRates } from '../solvers/anisotropic/types.js';
import { csrMatVec } from '../solvers/sparse/csr.js';
import { forEachPair, forwardMatrix, type PairGenerator } from '../src/nonrev/generator.js';
import { cellCurrent, currentStats, densityDistances, entropyProduction, gibbsFit, massNearZeros, pairCurrents, stationaryResidual } from '../src/nonrev/diagnostics.js';

/** The 3-state cycle 0 → 1 → 2 → 0 on a 1-D grid of 3 cells: offset [1] pairs (0,1), (1,2); offset [2] pairs (0,2). */
function cycle(q: { q01: number; q10: number; q12: number; q21: number; q20: number; q02: number }): PairGenerator {
  const grid = new Grid([[0, 1]], [3]);
  const one: OffsetRates = { offset: [1], up: Float64Array.from([q.q01, q.q12, 0]), down: Float64Array.from([q.q10, q.q21, 0]) };
  const two: OffsetRates = { offset: [2], up: Float64Array.from([q.q02, 0, 0]), down: Float64Array.from([q.q20, 0, 0]) };
  return { grid, pairs: [one, two] };
}

describe('3-state cycle (oracles.md "Markov chains on a few states")', () => {
  const q = { q01: 2, q10: 0.5, q12: 3, q21: 1, q20: 1.5, q02: 0.7 };
  const gen = cycle(q);
  const vol = gen.grid.cellVolume;
  // Matrix-tree theorem: π_k ∝ the sum over spanning trees directed into k of the products of their rates.
  const tau = [q.q10 * q.q20 + q.q12 * q.q20 + q.q21 * q.q10, q.q01 * q.q21 + q.q02 * q.q21 + q.q20 * q.q01, q.q02 * q.q12 + q.q01 * q.q12 + q.q10 * q.q02];
  const sumTau = tau[0] + tau[1] + tau[2];
  const rho = Float64Array.from(tau.map((t) => t / (sumTau * vol)));
  const forward = q.q01 * q.q12 * q.q20;
  const backward = q.q10 * q.q21 * q.q02;
  const jExact = (forward - backward) / (sumTau * vol);

  it('the matrix-tree steady state is stationary for the forward matrix built from the pairs', () => {
    const a = forwardMatrix(gen);
    const r = new Float64Array(3);
    csrMatVec(a, rho, r);
    for (const v of r) expect(Math.abs(v)).toBeLessThan(1e-14);
    expect(stationaryResidual(a, rho)).toBeLessThan(1e-15);
    // Not a trivial residual: the uniform law is not stationary.
    expect(stationaryResidual(a, Float64Array.from([1, 1, 1]))).toBeGreaterThan(0.05);
  });

  it('every edge of the cycle carries the same current (f01 f12 f20 − b)/Στ', () => {
    const [j1, j2] = pairCurrents(gen, rho);
    expect(j1[0]).toBeCloseTo(jExact, 13);
    expect(j1[1]).toBeCloseTo(jExact, 13);
    // Pair (0, 2) is oriented 0 → 2: the cycle's current runs 2 → 0 through it.
    expect(j2[0]).toBeCloseTo(-jExact, 13);
    expect(jExact).not.toBeCloseTo(0, 3);
  });

  it('entropy production = |K| J ln(Π forward / Π backward) (Schnakenberg, one cycle)', () => {
    const ep = entropyProduction(gen, rho);
    const exact = vol * jExact * Math.log(forward / backward);
    expect(ep.rate).toBeGreaterThan(0);
    expect(Math.abs(ep.rate - exact)).toBeLessThan(1e-13 * exact);
    expect(ep.oneWayPairs).toBe(0);
    // Scale-free: a multiple of ρ is the same law.
    expect(entropyProduction(gen, rho.map((v) => 7 * v)).rate).toBeCloseTo(exact, 13);
  });

  it('cell current: half of each pair flux J·h·e per cell; the total is the sum of the pair fluxes (zero around a closed cycle)', () => {
    const h = gen.grid.h[0];
    const jc = cellCurrent(gen, rho);
    expect(jc[0]).toBeCloseTo(0.5 * (jExact * h - jExact * 2 * h), 13);
    expect(jc[1]).toBeCloseTo(jExact * h, 13);
    expect(jc[2]).toBeCloseTo(0.5 * (jExact * h - jExact * 2 * h), 13);
    expect(Math.abs(jc[0] + jc[1] + jc[2])).toBeLessThan(1e-14);
    const st = currentStats(gen.grid, jc);
    expect(st.maxCell).toBe(1);
    expect(st.l1).toBeCloseTo(vol * 2 * Math.abs(jExact) * h, 13);
  });

  it('a one-way rate is counted apart (its entropy production is infinite), not folded into the finite sum', () => {
    const g = cycle({ ...q, q02: 0 });
    const ep = entropyProduction(g, rho);
    expect(ep.oneWayPairs).toBe(1);
    expect(ep.oneWayFlux).toBeCloseTo(vol * rho[2] * q.q20, 13);
  });
});

/** A generator on a 2-D grid with four offsets, in detailed balance with e^{−V}: q_ij = c·e^{−(V_j − V_i)/2}. */
function detailedBalance(grid: Grid, V: Float64Array, extraCurrent = 0): PairGenerator {
  const offsets = [
    [1, 0],
    [0, 1],
    [1, 1],
    [1, -1],
  ];
  const pairs = offsets.map((offset, k) => {
    const up = new Float64Array(grid.size);
    const down = new Float64Array(grid.size);
    forEachPair(grid, offset, (i, j) => {
      const c = 1 + 0.3 * k + 0.1 * Math.sin(i);
      up[i] = c * Math.exp(-(V[j] - V[i]) / 2) * (1 + extraCurrent);
      down[i] = c * Math.exp(-(V[i] - V[j]) / 2);
    });
    return { offset, up, down };
  });
  return { grid, pairs };
}

describe('detailed balance', () => {
  const grid = new Grid(
    [
      [-1, 1],
      [-1, 2],
    ],
    [7, 6],
  );
  const V = new Float64Array(grid.size).map((_, i) => {
    const [x, y] = grid.centre(i);
    return 2 * x * x + y * y - x * y + 0.5 * Math.cos(3 * y);
  });
  const rho = V.map((v) => Math.exp(-v));

  it('e^{−V} is stationary, every pair current is 0 and the entropy production is 0 to round-off', () => {
    const gen = detailedBalance(grid, V);
    expect(stationaryResidual(forwardMatrix(gen), rho)).toBeLessThan(1e-14);
    let jmax = 0;
    for (const j of pairCurrents(gen, rho)) for (const v of j) jmax = Math.max(jmax, Math.abs(v));
    expect(jmax).toBeLessThan(1e-14);
    expect(currentStats(grid, cellCurrent(gen, rho)).max).toBeLessThan(1e-14);
    expect(Math.abs(entropyProduction(gen, rho).rate)).toBeLessThan(1e-24);
  });

  it('entropy production agrees with ½ Σ_{i≠j} over the forward matrix entries (another enumeration) when balance is broken', () => {
    const gen = detailedBalance(grid, V, 0.4);
    const a = forwardMatrix(gen);
    let mass = 0;
    for (const v of rho) mass += v * grid.cellVolume;
    const p = rho.map((v) => v / mass);
    // q_ij = A_ji: entry (row j, col i) of the forward matrix.
    const q = new Map<string, number>();
    for (let r = 0; r < a.rows; r++) for (let k = a.rowPtr[r]; k < a.rowPtr[r + 1]; k++) if (a.col[k] !== r) q.set(`${a.col[k]},${r}`, a.val[k]);
    let ep = 0;
    for (const [key, qij] of q) {
      const [i, j] = key.split(',').map(Number);
      const qji = q.get(`${j},${i}`) ?? 0;
      const x = p[i] * qij;
      const y = p[j] * qji;
      ep += 0.5 * (x - y) * Math.log(x / y);
    }
    ep *= grid.cellVolume;
    const got = entropyProduction(gen, rho).rate;
    expect(got).toBeGreaterThan(1e-3);
    expect(Math.abs(got - ep)).toBeLessThan(1e-12 * ep);
  });
});

describe('cell current of a constant-drift chain', () => {
  it('interior cells carry ρ·(a − b)·h, the continuum flux of a uniform law moving at velocity (a − b)h', () => {
    const grid = new Grid(
      [
        [0, 2],
        [0, 1],
      ],
      [8, 5],
    );
    const a = 3;
    const b = 1.25;
    const up = new Float64Array(grid.size);
    const down = new Float64Array(grid.size);
    forEachPair(grid, [1, 0], (i) => {
      up[i] = a;
      down[i] = b;
    });
    const gen = { grid, pairs: [{ offset: [1, 0], up, down }] };
    const rho = new Float64Array(grid.size).fill(0.5);
    const jc = cellCurrent(gen, rho);
    for (let i = 0; i < grid.size; i++) {
      const ix = grid.index(i)[0];
      const expected = ix === 0 || ix === grid.n[0] - 1 ? 0.5 : 1;
      expect(jc[2 * i]).toBeCloseTo(expected * 0.5 * (a - b) * grid.h[0], 13);
      expect(jc[2 * i + 1]).toBe(0);
    }
  });
});

describe('steady state against reference laws', () => {
  const grid = new Grid([[-2, 3]], [200]);
  const x = grid.centres(0);
  const f = x.map((v) => 0.5 * v * v + 0.2 * v ** 4 / 4);

  it('the Gibbs fit of e^{−f/T₀} returns T₀ and distance 0', () => {
    for (const T0 of [0.05, 0.7, 4]) {
      const rho = f.map((v) => Math.exp(-v / T0));
      const fit = gibbsFit(f, rho, grid.cellVolume);
      expect(fit.T).not.toBeNull();
      expect(Math.abs((fit.T as number) - T0)).toBeLessThan(1e-9 * T0);
      expect(fit.l1 as number).toBeLessThan(1e-8);
    }
  });

  it('for a non-Gibbs law, the fitted T matches the moment E_T f = E_ρ f (maximum likelihood) and L1 > 0', () => {
    // A Gaussian whose centre is off the minimizer is no e^{−f/T}.
    const rho = x.map((v) => Math.exp(-((v - 0.8) ** 2) / 0.5));
    const fit = gibbsFit(f, rho, grid.cellVolume);
    const T = fit.T as number;
    const w = f.map((v) => Math.exp(-v / T));
    let z = 0;
    let m = 0;
    for (let i = 0; i < w.length; i++) {
      z += w[i];
      m += w[i] * f[i];
    }
    expect(m / z).toBeCloseTo(fit.meanLoss, 9);
    expect(fit.l1 as number).toBeGreaterThan(0.3);
    // Maximum likelihood: no other T makes ρ more likely.
    const loglik = (t: number): number => {
      let zz = 0;
      for (const v of f) zz += Math.exp(-v / t);
      let s = 0;
      for (let i = 0; i < f.length; i++) s += rho[i] * (-f[i] / t - Math.log(zz));
      return s;
    };
    expect(loglik(T)).toBeGreaterThanOrEqual(loglik(T * 1.01));
    expect(loglik(T)).toBeGreaterThanOrEqual(loglik(T * 0.99));
  });

  it('L1 and KL of two laws against direct sums', () => {
    const g = new Grid([[-8, 8.3]], [400]);
    const xs = g.centres(0);
    const p = xs.map((v) => Math.exp(-v * v));
    const qq = xs.map((v) => Math.exp(-((v - 0.3) ** 2) / 1.2));
    const d = densityDistances(p, qq, g.cellVolume);
    // Two Gaussians: KL(N(0, ½) | N(0.3, 0.6)) = ½[ln(0.6/0.5) + 0.5/0.6 + 0.09/0.6 − 1]; the midpoint sums of Gaussians are exact to round-off.
    const klExact = 0.5 * (Math.log(0.6 / 0.5) + 0.5 / 0.6 + 0.09 / 0.6 - 1);
    expect(d.kl as number).toBeCloseTo(klExact, 10);
    // Pinsker: L1 ≤ √(2 KL).
    expect(d.l1).toBeGreaterThan(0);
    expect(d.l1).toBeLessThanOrEqual(Math.sqrt(2 * klExact) + 1e-12);
    expect(densityDistances(p, p, g.cellVolume).l1).toBeLessThan(1e-15);
  });

  it('mass near zeros: each zero component keeps its δ-sublevel cells', () => {
    const g = new Grid([[-1, 1]], [20]);
    const xs = g.centres(0);
    const fz = xs.map((v) => Math.min((v + 0.5) ** 2, (v - 0.5) ** 2));
    const rho = new Float64Array(g.size).fill(1);
    const comps = [[5], [14]];
    const m = massNearZeros(g, fz, 0.02, comps, rho);
    // {f < 0.02}: |x ± 0.5| < 0.1414: cell centres −0.55, −0.45 (and 0.45, 0.55), plus the seeds; 1/20 of the mass each.
    const count = (c: number): number => xs.filter((v) => Math.abs(v - c) < Math.sqrt(0.02)).length;
    expect(m[0]).toBeCloseTo(count(-0.5) / 20, 14);
    expect(m[1]).toBeCloseTo(count(0.5) / 20, 14);
  });
});
