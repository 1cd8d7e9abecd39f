/**
 * A report point's sums (src/diagnostics/distances.ts DistanceTracker.measure), split into loops
 * of their own for speed (issue #19): each must stay the plain sum over the cells of its
 * definition, bit for bit (same terms, same order), written out here: E f, ‖ρ − π‖₁, KL, χ², the
 * mass below δ, E log f and the mass near each zero component.
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { Problem, isFault } from '../solvers/problem.js';
import { DistanceTracker, zeroNeighbourhoodLabels } from '../src/diagnostics/distances.js';
import { rng } from './nonsym-helpers.js';


describe('DistanceTracker.measure: the sums of a report point', () => {
  for (const [name, bounds, cells] of [
    ['1-D', [[-2, 2]], [41]],
    ['2-D', [[-2, 2], [-1.5, 1.5]], [24, 17]],
    ['3-D', [[-1, 1], [-1, 1], [-1, 1]], [7, 6, 5]],
  ] as const) {
    it(`${name}: every sum equals its direct cell sum`, () => {
      const grid = new Grid(bounds.map((b) => [b[0], b[1]] as [number, number]), [...cells]);
      // f = 0.01 + |x|² (positive: E log f defined), multiplicative noise: π ∝ (f + ε)^−α.
      const landscape = (c: readonly Float64Array[], out: Float64Array): void => {
        for (let i = 0; i < out.length; i++) {
          let q = 0.01;
          for (const ck of c) q += ck[i] * ck[i];
          out[i] = q;
        }
      };
      const p = Problem.build(grid, landscape, { kind: 'multiplicative', etaSigma: 1, eps: 0 });
      if (isFault(p)) throw new Error('fault');
      const f = p.f;
      const pi = p.piShared();
      const logPi = p.logPiShared();
      const delta = 0.6;
      // Two "components": the lowest cells (within 2h² of the lowest f) split by the sign of the first axis.
      const comps: number[][] = [[], []];
      const fMin = Math.min(...f);
      for (let i = 0; i < grid.size; i++) if (f[i] <= fMin + 2 * Math.max(...grid.h) ** 2) comps[grid.centre(i)[0] < 0 ? 0 : 1].push(i);
      expect(comps[0].length * comps[1].length).toBeGreaterThan(0);
      const tracker = new DistanceTracker(p, delta, comps);
      const r = rng(cells.reduce((a, b) => a * b, 1));
      // Some cells empty, some negative (clipped in the distances, kept in the masses).
      const rho = Float64Array.from({ length: grid.size }, () => {
        const u = r();
        return u < 0.15 ? 0 : u < 0.2 ? -1e-9 : u * 3;
      });
      const got = tracker.measure(0.5, rho);
      const vol = grid.cellVolume;
      let mass = 0;
      for (let i = 0; i < grid.size; i++) mass += rho[i];
      mass *= vol;
      const inv = 1 / mass;
      let meanLoss = 0;
      let l1 = 0;
      let kl = 0;
      let chi2 = 0;
      let below = 0;
      let meanLog = 0;
      for (let i = 0; i < grid.size; i++) {
        const rn = (rho[i] > 0 ? rho[i] : 0) * inv;
        meanLoss += rn * f[i];
        l1 += Math.abs(rn - pi[i]);
        if (rho[i] > 0) kl += rn * (Math.log(rho[i]) + Math.log(inv) - logPi[i]);
        chi2 += ((rn - pi[i]) * (rn - pi[i])) / pi[i];
        if (f[i] < delta) below += rho[i];
        meanLog += rn * Math.log(f[i]);
      }
      expect(got.mass).toBe(mass);
      expect(got.meanLoss).toBe(meanLoss * vol);
      expect(got.l1).toBe(l1 * vol);
      expect(got.kl).toBe(Math.max(0, kl * vol));
      expect(got.chi2).toBe(chi2 * vol);
      expect(got.massBelowDelta).toBe(below * vol);
      expect(got.meanLogLoss).toBe(meanLog * vol);
      // The mass near the components: at least their own cells', and together all of {f < δ} (connected: f is convex).
      const own = comps.map((cs) => cs.reduce((a, i) => a + rho[i], 0) * vol);
      expect(got.massNearZero!.length).toBe(2);
      const total = got.massNearZero!.reduce((a, b) => a + b, 0);
      expect(Math.abs(total - below * vol)).toBeLessThan(1e-9 * Math.abs(below * vol) + 1e-12);
      for (let c = 0; c < 2; c++) expect(got.massNearZero![c]).toBeGreaterThanOrEqual(own[c] - 1e-9);
    });
  }
});

describe('zeroNeighbourhoodLabels: the nearest-component partition of {f < δ}', () => {
  it('gives each reached cell a component at the least breadth-first distance inside {f < δ} (per-component searches)', () => {
    for (const cells of [[40], [13, 11], [6, 7, 5]]) {
      const grid = new Grid(cells.map(() => [-1, 1] as [number, number]), cells);
      const r = rng(cells.length * 31);
      const f = Float64Array.from({ length: grid.size }, () => r());
      const delta = 0.9;
      const comps: number[][] = [[], [], []];
      for (let i = 0; i < grid.size; i++) if (f[i] < 0.05) comps[i % 3].push(i);
      const label = zeroNeighbourhoodLabels(grid, f, delta, comps);
      // Distance of every cell from component c through face neighbours inside {f < δ} (component cells count as inside).
      const dist = comps.map((cs) => {
        const d = new Int32Array(grid.size).fill(-1);
        let front = cs.filter((i) => d[i] < 0 && (d[i] = 0) === 0);
        while (front.length > 0) {
          const next: number[] = [];
          for (const i of front) {
            const idx = grid.index(i);
            for (let k = 0; k < grid.dim; k++) {
              for (const o of [-1, 1]) {
                const m = idx[k] + o;
                if (m < 0 || m >= grid.n[k]) continue;
                const j = i + o * grid.strides[k];
                if (d[j] < 0 && f[j] < delta) {
                  d[j] = d[i] + 1;
                  next.push(j);
                }
              }
            }
          }
          front = next;
        }
        return d;
      });
      let reached = 0;
      for (let i = 0; i < grid.size; i++) {
        const ds = dist.map((d) => d[i]).filter((v) => v >= 0);
        if (ds.length === 0) {
          expect(label[i]).toBe(-1);
          continue;
        }
        reached++;
        expect(label[i]).toBeGreaterThanOrEqual(0);
        expect(dist[label[i]][i]).toBe(Math.min(...ds));
      }
      expect(reached).toBeGreaterThan(grid.size / 4);
    }
  });
});
