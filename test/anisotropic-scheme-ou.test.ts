/**
 * The monotone scheme (solvers/anisotropic/assemble.ts) against the Ornstein–Uhlenbeck steady state
 * with a constant diffusion matrix (docs/oracles.md §8 "Ornstein–Uhlenbeck with a constant diffusion
 * matrix" and §13 "Ornstein–Uhlenbeck steady state by vectorisation"): f = ½θᵀHθ, the steady state is
 * N(0, Σ) with HΣ + ΣH = 2D, solved in the test by vectorising the Lyapunov equation; the discrete
 * steady state comes from a banded direct solve written in test/helpers/ou-lyapunov.ts. The current
 * is J = ρ(DΣ⁻¹ − H)θ: non-zero when HD ≠ DH, zero when they commute.
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { assembleGenerator, cellCurrent, pairCurrents, type AssemblyOptions } from '../solvers/anisotropic/assemble.js';
import type { DiffusionField } from '../solvers/anisotropic/types.js';
import { bandedSteadyState, gaussian, inverse, lyapunov } from './helpers/ou-lyapunov.js';

function constantField(d: number, D: number[]): DiffusionField {
  return {
    dim: d,
    evalD: (_x, out) => out.set(D),
    evalDivD: (_x, out) => out.fill(0),
  };
}

function linearGradient(d: number, H: number[]) {
  return (x: ArrayLike<number>, out: Float64Array): void => {
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += H[a * d + b] * x[b];
      out[a] = s;
    }
  };
}

interface OuCase { d: number; H: number[]; D: number[] }

function solveOu(c: OuCase, cells: number, opts: AssemblyOptions = {}) {
  const sigma = lyapunov(c.d, c.H, c.D);
  const bounds = Array.from({ length: c.d }, (_, a) => [-6 * Math.sqrt(sigma[a * c.d + a]), 6 * Math.sqrt(sigma[a * c.d + a])] as [number, number]);
  const grid = new Grid(bounds, new Array(c.d).fill(cells));
  const gen = assembleGenerator(grid, constantField(c.d, c.D), linearGradient(c.d, c.H), opts);
  const rho = bandedSteadyState(gen.forward, grid.cellVolume);
  let err = 0;
  let norm = 0;
  const exact = new Float64Array(grid.size);
  for (let i = 0; i < grid.size; i++) {
    exact[i] = gaussian(c.d, sigma, grid.centre(i));
    err += Math.abs(rho[i] - exact[i]) * grid.cellVolume;
    norm += exact[i] * grid.cellVolume;
  }
  // Exact current J = ρ(DΣ⁻¹ − H)θ at the centres, against the scheme's cell current.
  const sInv = inverse(c.d, sigma);
  const M = new Array<number>(c.d * c.d).fill(0);
  for (let a = 0; a < c.d; a++) for (let b = 0; b < c.d; b++) {
    let s = -c.H[a * c.d + b];
    for (let k = 0; k < c.d; k++) s += c.D[a * c.d + k] * sInv[k * c.d + b];
    M[a * c.d + b] = s;
  }
  const J = cellCurrent(gen, rho);
  let jErr = 0;
  let jNorm = 0;
  for (let i = 0; i < grid.size; i++) {
    const x = grid.centre(i);
    for (let a = 0; a < c.d; a++) {
      let v = 0;
      for (let b = 0; b < c.d; b++) v += M[a * c.d + b] * x[b];
      v *= exact[i];
      jErr += Math.abs(J[a][i] - v) * grid.cellVolume;
      jNorm += Math.abs(v) * grid.cellVolume;
    }
  }
  return { gen, rho, grid, err: err / norm, jErr, jNorm };
}

const order = (e1: number, e2: number): number => Math.log2(e1 / e2);

function rot2(t: number, lam: [number, number]): number[] {
  const c = Math.cos(t);
  const s = Math.sin(t);
  return [c * c * lam[0] + s * s * lam[1], c * s * (lam[0] - lam[1]), c * s * (lam[0] - lam[1]), s * s * lam[0] + c * c * lam[1]];
}

describe('OU with a constant, non-commuting diffusion matrix (oracles.md §8, §13)', () => {
  const cases: { name: string; c: OuCase; cells: number[]; longOffsets: boolean; maxErr: number }[] = [
    { name: 'mild (max-norm-1 offsets)', c: { d: 2, H: [1.0, 0.5, 0.5, 2.0], D: [0.6, 0.25, 0.25, 0.3] }, cells: [16, 32, 64], longOffsets: false, maxErr: 1e-3 },
    // Condition number 12 at 20°: Selling needs the (2, 1)-type offsets of the max-norm-2 stencil.
    { name: 'anisotropic 12:1 (max-norm-2 offsets)', c: { d: 2, H: [1.5, -0.4, -0.4, 0.8], D: rot2(0.35, [1.2, 0.1]) }, cells: [16, 32, 64], longOffsets: true, maxErr: 6e-3 },
  ];
  it.each(cases)('2-D $name: steady state and current converge at order ≈ 2 to the Lyapunov Gaussian', ({ c, cells, longOffsets, maxErr }) => {
    const res = cells.map((n) => solveOu(c, n));
    const errs = res.map((r) => r.err);
    const jerrs = res.map((r) => r.jErr / r.jNorm);
    console.log('OU density L1 errors', errs, 'orders', order(errs[0], errs[1]), order(errs[1], errs[2]));
    console.log('OU current relative L1 errors', jerrs, 'orders', order(jerrs[0], jerrs[1]), order(jerrs[1], jerrs[2]));
    for (const r of res) {
      expect(r.gen.stats.relaxation.cells).toBe(0);
      expect(r.gen.stats.upwindCells).toBe(0);
      expect(r.gen.stats.offsets.some((e) => Math.max(...e.map(Math.abs)) === 2)).toBe(longOffsets);
    }
    expect(order(errs[1], errs[2])).toBeGreaterThan(1.8);
    expect(order(errs[1], errs[2])).toBeLessThan(2.3);
    expect(errs[2]).toBeLessThan(maxErr);
    // The current is not small: the rotation is a fixed fraction of ρ|θ|, and the scheme gets it.
    expect(res[2].jNorm).toBeGreaterThan(0.05);
    expect(order(jerrs[1], jerrs[2])).toBeGreaterThan(1.7);
    expect(jerrs[2]).toBeLessThan(0.03);
  });

  it('3-D: order ≈ 2 on 8³ → 16³ (max-norm-1 stencil, so that the banded solve stays small)', () => {
    const c: OuCase = { d: 3, H: [1.2, 0.3, 0.0, 0.3, 1.0, 0.2, 0.0, 0.2, 0.8], D: [0.5, -0.1, 0.1, -0.1, 0.4, 0.05, 0.1, 0.05, 0.3] };
    const res = [8, 16].map((n) => solveOu(c, n, { radius: 1 }));
    const errs = res.map((r) => r.err);
    console.log('3-D OU density L1 errors', errs, 'order', order(errs[0], errs[1]));
    expect(res[1].gen.stats.relaxation.cells).toBe(0);
    expect(order(errs[0], errs[1])).toBeGreaterThan(1.7);
  });
});

describe('OU with commuting H and D: no current', () => {
  it('every pair current vanishes to round-off, while the non-commuting case carries one', () => {
    // Same eigenvectors (a 30° rotation), different eigenvalues: HD = DH, neither diagonal on the grid.
    const commuting: OuCase = { d: 2, H: rot2(Math.PI / 6, [1, 3]), D: rot2(Math.PI / 6, [0.5, 0.2]) };
    const rotating: OuCase = { d: 2, H: rot2(Math.PI / 6, [1, 3]), D: rot2(-Math.PI / 6, [0.5, 0.2]) };
    const size = (c: OuCase): number => {
      const r = solveOu(c, 32);
      const F = pairCurrents(r.gen, r.rho);
      let maxF = 0;
      let maxFlow = 0;
      r.gen.pairs.forEach((p, k) => {
        for (let i = 0; i < r.grid.size; i++) {
          maxF = Math.max(maxF, Math.abs(F[k][i]));
          maxFlow = Math.max(maxFlow, r.rho[i] * p.up[i]);
        }
      });
      return maxF / maxFlow;
    };
    const none = size(commuting);
    const some = size(rotating);
    console.log('max |pair current| / max one-way flow: commuting', none, 'non-commuting', some);
    expect(none).toBeLessThan(1e-11);
    expect(some).toBeGreaterThan(1e-2);
  });
});
