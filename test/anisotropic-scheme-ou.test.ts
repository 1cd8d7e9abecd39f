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
import { assembleGenerator, cellCurrent, pairCurrents } from '../solvers/anisotropic/assemble.js';
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

function solveOu(c: OuCase, cells: number) {
  const sigma = lyapunov(c.d, c.H, c.D);
  const bounds = Array.from({ length: c.d }, (_, a) => [-6 * Math.sqrt(sigma[a * c.d + a]), 6 * Math.sqrt(sigma[a * c.d + a])] as [number, number]);
  const grid = new Grid(bounds, new Array(c.d).fill(cells));
  const gen = assembleGenerator(grid, constantField(c.d, c.D), linearGradient(c.d, c.H));
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

describe('OU with a constant, non-commuting diffusion matrix (oracles.md §8, §13)', () => {
  const c2: OuCase = { d: 2, H: [1.0, 0.5, 0.5, 2.0], D: [0.6, 0.25, 0.25, 0.3] };
  it('2-D: the steady state converges at order ≈ 2 to the Lyapunov Gaussian, the current too', () => {
    const res = [16, 32, 64].map((n) => solveOu(c2, n));
    const errs = res.map((r) => r.err);
    const jerrs = res.map((r) => r.jErr / r.jNorm);
    console.log('2-D OU L1 errors', errs, 'orders', order(errs[0], errs[1]), order(errs[1], errs[2]));
    console.log('2-D OU current rel L1 errors', jerrs, 'orders', order(jerrs[0], jerrs[1]), order(jerrs[1], jerrs[2]));
    console.log(res.map((r) => r.gen.stats));
  });
});
