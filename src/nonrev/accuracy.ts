/**
 * What the scheme's own statistics allow a report to say about the discretization error. The
 * scheme is second order where D decomposes on the stencil as given and the drift lies in D's range
 * (tested on the OU of oracles.md §8); where D had to be relaxed, δ·tr D of diffusion was added
 * that refinement does not remove, and drift upwinded outside D's range is first order. Claiming
 * O(h²) regardless was wrong: a rank-one D along (1, √2) on that OU (relaxed by 0.027·tr D in every
 * cell) gives E_ss[f] = 0.236 at 32², 0.176 at 64² against the exact ½ tr D = 0.15, and μ₁ = −1.147 at
 * 64², −1.030 at 128² against −1.
 */
import type { GeneratorStats } from './types.js';

const fmt = (v: number): string => String(+v.toPrecision(3));

/** The clause that ends the gap note: the order the discretization error can be expected to have. */
export function discretizationClause(s: GeneratorStats): string {
  const why: string[] = [];
  if (s.relaxation && s.relaxation.cells > 0) why.push(`D was relaxed by up to ${fmt(s.relaxation.max)}·tr D in ${s.relaxation.cells} cells (a change of the model by O(δ) that refinement does not remove)`);
  if (s.upwindCells) why.push(`part of the drift is upwinded in ${s.upwindCells} cells (first order)`);
  if (why.length === 0) return "its distance to the continuum's is the discretization error (O(h²) where the fields are smooth)";
  return `its distance to the continuum's is not O(h²) here: ${why.join('; ')}; compare a finer grid before reading it as the process's rate`;
}
