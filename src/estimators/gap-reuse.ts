import type { Backend } from '../../solvers/backend/types.js';
import type { MultigridPreconditioner } from '../../solvers/multigrid.js';
import type { BasinLabels } from '../diagnostics/basins.js';
import type { GapReuse } from './gap.js';

/**
 * What `fpsolve run` hands from its time stepping to its spectral gap instead of building it
 * twice: the basin labels of the run's grid (the start vectors' basins; the gap would otherwise
 * label a ≤ 64-per-axis copy of the grid) and the multigrid hierarchy the implicit steps built
 * (the same levels the eigen-solve would build: a Galerkin hierarchy of the same operator, which
 * does not depend on θ or on the cycle; its build is small, 15–40 ms of CPU at 512² measured on a
 * loaded 2-core machine, but it is not done twice). Take it after the last step and before
 * the integrator is disposed (its backend then no longer owns the hierarchy, so disposing the
 * backend frees everything else). Memory: the hierarchy stays alive through the diagnostics that
 * run between (criticalLimit), never alongside a second one: the eigen-solve takes it over.
 * `dispose()` frees it whatever happened to the gap (idempotent; the eigen-solve disposes it too).
 */
export interface TakenGapReuse extends GapReuse {
  dispose(): void;
}

export function takeGapReuse(backend: Backend, labels: BasinLabels, gap: boolean): TakenGapReuse {
  if (!gap) return { dispose: () => undefined };
  const withMg = backend as Backend & { releaseMultigrid?: () => MultigridPreconditioner | null };
  const multigrid = typeof withMg.releaseMultigrid === 'function' ? (withMg.releaseMultigrid() ?? undefined) : undefined;
  return { labels, multigrid, dispose: () => multigrid?.dispose() };
}
