/**
 * Step bookkeeping shared by every integrator. The integrators themselves are written once
 * against the Backend: solvers/backend/integrators.ts (explicit Euler, RKL2) and
 * solvers/backend/implicit.ts (backward Euler, TR-BDF2); solvers/backend/choose.ts picks one.
 */

export interface IntegratorStats {
  steps: number;
  rejected: number;
  /** Smallest and largest accepted step. */
  dtMin: number;
  dtMax: number;
}

export function newStats(): IntegratorStats {
  return { steps: 0, rejected: 0, dtMin: Infinity, dtMax: 0 };
}

export function record(stats: IntegratorStats, dt: number): void {
  stats.steps++;
  if (dt < stats.dtMin) stats.dtMin = dt;
  if (dt > stats.dtMax) stats.dtMax = dt;
}

/** Number of equal substeps of at most dtMax that cover [t0, t1]. */
export function substeps(t0: number, t1: number, dtMax: number): number {
  return Math.max(1, Math.ceil((t1 - t0) / dtMax - 1e-9));
}
