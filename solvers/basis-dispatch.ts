/**
 * The basis kernels (solvers/basis-kernels.ts) dispatched on a thread team, for the two callers
 * that sweep a basis on the team: the eigen-solver (solvers/eigen/threaded.ts) and the CPU
 * backend's block Gram–Schmidt (solvers/backend/cpu.ts).
 *
 * Bits: each block sums in index order and the blocks are added in block order; the team's
 * blocks are fixed whatever its thread count, so 1 and 2 threads give the same bits.
 */
import { COMBINE_PER_DISPATCH, DOT_SLOTS, DOTS_PER_DISPATCH } from './basis-kernels.js';
import type { ThreadTeam } from './exec/team.js';

/**
 * c_l ← ⟨x, q_l⟩ for every l; returns ‖x‖² (0 without `norm`). partial: team.blocks × DOT_SLOTS
 * in shared memory; edges: the team's block edges over x's length (eigenDots finds its block by them).
 */
export function teamDots(team: ThreadTeam, partial: Float64Array, edges: readonly number[], x: Float64Array, qs: readonly Float64Array[], c: Float64Array, norm: boolean): number {
  const B = team.blocks;
  let xx = 0;
  for (let l0 = 0; l0 < qs.length || l0 === 0; l0 += DOTS_PER_DISPATCH) {
    const g = Math.min(DOTS_PER_DISPATCH, qs.length - l0);
    const withNorm = l0 === 0 && norm ? 1 : 0;
    if (g === 0 && !withNorm) break;
    partial.fill(0);
    team.run('eigenDots', [x, partial, ...qs.slice(l0, l0 + g)], [], [g, withNorm, ...edges], x.length);
    for (let l = 0; l < g; l++) {
      let sum = 0;
      for (let b = 0; b < B; b++) sum += partial[b * DOT_SLOTS + l];
      c[l0 + l] = sum;
    }
    if (withNorm) for (let b = 0; b < B; b++) xx += partial[b * DOT_SLOTS + DOTS_PER_DISPATCH];
  }
  return xx;
}

/** out += sign·Σ c_l q_l on the team, with the bits of the sequential addCombinationRange. */
export function teamCombine(team: ThreadTeam, out: Float64Array, qs: readonly Float64Array[], c: ArrayLike<number>, sign: 1 | -1): void {
  for (let l0 = 0; l0 < qs.length; l0 += COMBINE_PER_DISPATCH) {
    const g = Math.min(COMBINE_PER_DISPATCH, qs.length - l0);
    const coef: number[] = [g];
    for (let l = 0; l < g; l++) coef.push(sign * c[l0 + l]);
    team.run('eigenCombine', [out, ...qs.slice(l0, l0 + g)], [], coef, out.length);
  }
}
