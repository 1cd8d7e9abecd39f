import type { AsyncIntegrator } from '../../solvers/backend/integrators.js';

/**
 * When the run loop looks up from the stepping: yields to the event loop (where signals and the
 * wall limit are seen) and health checks mid-interval. Both are scheduled by the work the
 * integrator has done, counted from its step and linear-solve counters, never by the clock, so
 * the same scenario meets its checkpoints after the same steps on any machine under any load
 * (docs/reliability.md, "Reproducibility"). Nothing here changes the numerical path: a checkpoint
 * that does not stop the run leaves the integrator's arithmetic as it was.
 */

/**
 * Cell updates between two yields to the event loop: 2²⁰, measured at 10–15 ms of CPU time for
 * RKL2, backward Euler and TR-BDF2 on the bundled 1-D and 2-D scenarios, so SIGINT/SIGTERM and
 * --max-wall are seen within that unless one step alone takes longer (an exponential interval on
 * a big grid). A yield costs microseconds.
 */
export const YIELD_WORK = 2 ** 20;

/**
 * Cell updates between two mid-interval health checks: at least 8 yields and 64 steps' worth,
 * since a check reads the state back and passes over it three times; that stays a few per cent
 * of the stepping.
 */
export function healthWork(cells: number): number {
  return Math.max(8 * YIELD_WORK, 64 * cells);
}

/** Counts stepping work in cell updates from the integrator's counters. */
export class WorkCounter {
  private readonly integrator: AsyncIntegrator;
  private readonly cells: number;
  /** Stencil passes per step: RKL2's stages, one for the others (their solves are counted apart). */
  private readonly passesPerStep: number;

  constructor(integrator: AsyncIntegrator, cells: number) {
    this.integrator = integrator;
    this.cells = cells;
    const stages = (integrator as { stages?: unknown }).stages;
    this.passesPerStep = typeof stages === 'number' && stages > 0 ? stages : 1;
  }

  /**
   * Work done so far: accepted and rejected steps, each linear solve, and each CG iteration (an
   * operator apply plus a preconditioner pass: a multigrid V-cycle is several stencil passes).
   */
  total(): number {
    const s = this.integrator.stats;
    const solver = this.integrator.solver;
    const units = (s.steps + s.rejected) * this.passesPerStep + (solver ? solver.solves + 4 * solver.iterations : 0);
    return units * this.cells;
  }
}
