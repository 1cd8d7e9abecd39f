import type { RunReport } from '../report/types.js';
import type { Setup } from '../run/run.js';
import { compareRate, estimate } from './index.js';

/**
 * Adds `gap` and `bounds` to a run report and compares the fitted χ rate with λ₁.
 * Failures of the estimators must not cost the run: they become a note and null fields.
 */
export function attachEstimates(report: RunReport, setup: Setup): void {
  try {
    const { gap, bounds } = estimate({ op: setup.op, regime: setup.regime, landscape: setup.landscape.evalPoints, compiled: setup.landscape.compiled });
    if (report.regime === 'converging') compareRate(gap, report.rates.chi, report.final.t);
    report.gap = gap;
    report.bounds = bounds;
  } catch (e) {
    report.gap = null;
    report.bounds = null;
    report.notes.push(`gap: not computed (${(e as Error).message})`);
  }
}
