import type { RunReport } from '../report/types.js';
import type { PhaseInfo, Setup } from '../run/types.js';
import { GapInterrupted, type GapReuse } from './gap.js';
import { compareRate, estimateAsync } from './index.js';

/**
 * Adds `gap` and `bounds` to a run report and compares the fitted χ rate with λ₁.
 * Failures of the estimators must not cost the run: they become a note and null fields.
 * A signal during the eigen-solve (which returns to the event loop every few CG iterations)
 * makes the run "interrupted", as a signal during time stepping does; the report is kept.
 */
export async function attachEstimates(report: RunReport, setup: Setup, signal?: AbortSignal, onPhase?: (p: PhaseInfo) => void, reuse?: GapReuse): Promise<void> {
  try {
    const input = { op: setup.op, regime: setup.regime, landscape: setup.landscape.evalPoints, compiled: setup.landscape.compiled };
    // Progress only: the eigen-solve's checkpoints are counted, its arithmetic is untouched.
    const onCheckpoint = onPhase ? (n: number): void => onPhase({ phase: 'gap', step: 'spectral gap', iterations: n }) : undefined;
    const { gap, bounds } = await estimateAsync(input, { ...(onCheckpoint ? { onCheckpoint } : {}), ...(reuse ? { reuse } : {}) }, signal);
    if (report.regime === 'converging') compareRate(gap, report.rates.chi, report.final.t, report.integrator);
    report.gap = gap;
    report.bounds = bounds;
  } catch (e) {
    report.gap = null;
    report.bounds = null;
    if (e instanceof GapInterrupted) {
      report.status = 'interrupted';
      report.error = 'interrupted by a signal during the spectral-gap computation (the time series is complete)';
      return;
    }
    report.notes.push(`gap: not computed (${(e as Error).message})`);
  }
}
