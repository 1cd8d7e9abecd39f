import type { FvOperator } from '../../solvers/operator.js';
import { basinLabels, zeroComponentSeeds } from '../diagnostics/basins.js';
import type { Regime } from '../diagnostics/regime.js';

/**
 * Basins whose indicators enter the start block at most. The slow modes of m wells are close to
 * combinations of the m indicators; beyond a handful of wells the extra vectors make every
 * Rayleigh–Ritz step dearer while the parity block and the solves find the rest anyway.
 */
export const MAX_START_BASINS = 8;

/**
 * Start vectors for the n-D eigen-solver: √π·1_B for the basins B of attraction of f (steepest
 * descent on the grid, src/diagnostics/basins.ts), the heaviest in π first. For a metastable
 * landscape the generator's slow modes are, up to the transition layers at the passes where √π
 * is tiny, combinations of these, so shift-invert from them converges in one or two steps
 * (the monomial start block needs several: a smooth x·√π is far from the sharp step of a double
 * well's λ₁ mode). Empty with one basin (its indicator is √π itself, the null vector) and in 1-D
 * (bisection there needs no start). `labels`: basin labels already made for this grid (a run's),
 * else they are computed here with the regime's zero components as seeds, as the run does (none
 * without a regime: on a refined grid the components' cells are another grid's).
 */
export function basinStartVectors(op: FvOperator, regime: Regime | null, labels?: { label: Int32Array; basins: readonly unknown[] }): Float64Array[] {
  const g = op.grid;
  if (g.dim < 2) return [];
  const lab = labels ?? basinLabels(g, op.problem.f, regime ? zeroComponentSeeds(regime.components ?? [], regime.componentCells ?? []) : []);
  const count = lab.basins.length;
  if (count < 2) return [];
  const s = op.sqrtPi;
  const mass = new Float64Array(count);
  for (let i = 0; i < g.size; i++) mass[lab.label[i]] += s[i] * s[i];
  const order = Array.from({ length: count }, (_, b) => b)
    .filter((b) => mass[b] > 0)
    .sort((a, b) => mass[b] - mass[a] || a - b)
    .slice(0, MAX_START_BASINS);
  if (order.length < 2) return [];
  return order.map((b) => {
    const v = new Float64Array(g.size);
    for (let i = 0; i < g.size; i++) if (lab.label[i] === b) v[i] = s[i];
    return v;
  });
}
