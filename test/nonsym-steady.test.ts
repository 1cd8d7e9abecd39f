import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { steadyState } from '../solvers/nonsym/steady.js';
import { box, denseSteady, generatorFromJumps, ouGenerator, ringGenerator, rng } from './nonsym-helpers.js';

describe('steadyState: Aρ = 0, Σ|K|ρ = 1', () => {
  it('a reversible 1-D chain (detailed balance): ρ = π ∝ e^{−U} exactly (oracles.md §14 detailed balance)', () => {
    const n = 300;
    const U = Array.from({ length: n }, (_, i) => 3 * Math.cos((6 * Math.PI * i) / n) + (8 * (i - n / 2) ** 2) / (n * n));
    const jumps: [number, number, number][] = [];
    for (let i = 0; i + 1 < n; i++) {
      const dU = U[i + 1] - U[i];
      jumps.push([i, i + 1, 50 * Math.exp(-dU / 2)], [i + 1, i, 50 * Math.exp(dU / 2)]);
    }
    const a = generatorFromJumps(n, jumps);
    const grid = new Grid([[0, 2]], [n]);
    const st = steadyState(a, grid, { tol: 1e-12 });
    const z = U.reduce((s, u) => s + Math.exp(-u), 0) * grid.cellVolume;
    let err = 0;
    for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(st.rho[i] - Math.exp(-U[i]) / z) / (Math.exp(-U[i]) / z));
    expect(err).toBeLessThan(1e-9);
    expect(st.residual).toBeLessThan(1e-12);
    expect(st.converged).toBe(true);
    let mass = 0;
    for (const v of st.rho) mass += v * grid.cellVolume;
    expect(mass).toBeCloseTo(1, 14);
  });

  it('a driven ring: uniform steady state despite the current', () => {
    const grid = new Grid([[0, 1]], [400]);
    const st = steadyState(ringGenerator(400, 3, 1), grid);
    for (const v of st.rho) expect(v).toBeCloseTo(1, 10);
    expect(st.clipped).toBe(0);
  });

  it('a random irreducible 9-point generator on 20×20 cells: the dense solve with one equation replaced', () => {
    const r = rng(42);
    const nn = 20;
    const grid = new Grid([[0, 1], [0, 1]], [nn, nn]);
    const jumps: [number, number, number][] = [];
    for (let i = 0; i < nn; i++) {
      for (let j = 0; j < nn; j++) {
        const p = i * nn + j;
        for (const [di, dj] of [[1, 0], [0, 1], [1, 1], [1, -1]]) {
          const i2 = i + di;
          const j2 = j + dj;
          if (i2 >= nn || j2 < 0 || j2 >= nn) continue;
          const q = i2 * nn + j2;
          const scale = di !== 0 && dj !== 0 ? 0.3 : 1;
          jumps.push([p, q, scale * (0.05 + 4 * r())], [q, p, scale * (0.05 + 4 * r())]);
        }
      }
    }
    const a = generatorFromJumps(grid.size, jumps);
    const st = steadyState(a, grid, { tol: 1e-12 });
    const ref = denseSteady(a);
    const z = ref.reduce((s, v) => s + v, 0) * grid.cellVolume;
    let err = 0;
    for (let i = 0; i < grid.size; i++) err = Math.max(err, Math.abs(st.rho[i] - ref[i] / z) / (ref[i] / z));
    expect(err).toBeLessThan(1e-8);
    expect(Math.min(...st.rho)).toBeGreaterThan(0);
    // The four-direction smoother (a different preconditioner) reaches the same state.
    const s4 = steadyState(a, grid, { tol: 1e-12, multigrid: { smoother: 'four-direction' } });
    for (let i = 0; i < grid.size; i++) expect(Math.abs(s4.rho[i] - ref[i] / z) / (ref[i] / z)).toBeLessThan(1e-8);
    // BiCGStab reaches the same state.
    const sb = steadyState(a, grid, { tol: 1e-12, krylov: 'bicgstab' });
    for (let i = 0; i < grid.size; i++) expect(Math.abs(sb.rho[i] - st.rho[i]) / st.rho[i]).toBeLessThan(1e-8);
  });

  it('2-D OU with HD ≠ DH: the covariance of ρ is the Lyapunov solution HΣ + ΣH = 2D (oracles.md §8), to O(h²)', () => {
    const H = [[2, 0.8], [0.8, 1]];
    const D = [[0.5, 0.2], [0.2, 0.3]];
    // HΣ + ΣH = 2D for symmetric Σ = [[s, t], [t, u]]: three linear equations.
    // (1,1): 2(H11 s + H12 t) = 2 D11; (2,2): 2(H12 t + H22 u) = 2 D22; (1,2): H11 t + H12 u + H12 s + H22 t = 2 D12.
    const [h11, h12, h22] = [H[0][0], H[0][1], H[1][1]];
    // Solve by elimination: s = (D11 − h12 t)/h11, u = (D22 − h12 t)/h22.
    const t = (2 * D[0][1] - (h12 * D[1][1]) / h22 - (h12 * D[0][0]) / h11) / (h11 + h22 - (h12 * h12) / h22 - (h12 * h12) / h11);
    const sig = [[(D[0][0] - h12 * t) / h11, t], [t, (D[1][1] - h12 * t) / h22]];
    const errs: number[] = [];
    for (const n of [32, 64]) {
      const grid = box(4, n);
      const st = steadyState(ouGenerator(grid, H, D), grid);
      expect(st.residual).toBeLessThan(1e-10);
      const x = grid.coordinateField(0);
      const y = grid.coordinateField(1);
      let sxx = 0;
      let sxy = 0;
      let syy = 0;
      for (let i = 0; i < grid.size; i++) {
        const m = st.rho[i] * grid.cellVolume;
        sxx += m * x[i] * x[i];
        sxy += m * x[i] * y[i];
        syy += m * y[i] * y[i];
      }
      errs.push(Math.max(Math.abs(sxx - sig[0][0]), Math.abs(sxy - sig[0][1]), Math.abs(syy - sig[1][1])));
    }
    // Upwinded where the cell Péclet number is large: between first and second order (see the gap test).
    expect(errs[1]).toBeLessThan(0.015);
    expect(errs[0] / errs[1]).toBeGreaterThan(1.8);
  });
});
