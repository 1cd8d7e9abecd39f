import { describe, expect, it } from 'vitest';
import { steadyState } from '../solvers/nonsym/steady.js';
import { box, ouGenerator } from './nonsym-helpers.js';

/**
 * Iteration counts of the steady-state solve (flexible GMRES + the aggregation K-cycle, hierarchy
 * rebuilt with the first solution as weights) on a 9-point non-reversible generator, 64² to 512²:
 * flat within ±30 % of the 64² count. Counts, not times, so the machine's load cannot change it.
 * bench/results-steady.md has the times and a harder (drift-dominated) case where counts grow.
 */
describe('non-symmetric multigrid: iteration counts flat in h', () => {
  it('OU 9-point generator (H, D not commuting) on [−3, 3]²: 64², 128², 256², 512²', () => {
    const H = [[0.6, 0.24], [0.24, 0.3]];
    const D = [[0.5, 0.2], [0.2, 0.3]];
    const counts: number[] = [];
    for (const n of [64, 128, 256, 512]) {
      const grid = box(3, n);
      const st = steadyState(ouGenerator(grid, H, D), grid, { tol: 1e-10 });
      expect(st.converged).toBe(true);
      expect(st.residual).toBeLessThan(1e-10);
      counts.push(st.iterations);
    }
    for (const c of counts) {
      expect(c).toBeLessThanOrEqual(Math.ceil(1.3 * counts[0]));
      expect(c).toBeGreaterThanOrEqual(Math.floor(0.7 * counts[0]));
    }
  }, 120_000);
});
