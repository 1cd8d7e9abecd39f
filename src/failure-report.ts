/**
 * From an error that stopped a run to what the user is told: the exit code, report.json's
 * `failure` object and the one-line message (docs/reliability.md "Exit codes"). One function for
 * the run controller's catch and one for the CLI's last catch, so both classify alike.
 *
 * - SolverFailure (solvers/base/failures.ts) and NumericalFault: kind 'numerical', exit 3, never retried.
 * - InfrastructureFailure, and the platform's allocation RangeErrors: kind 'infrastructure', exit
 *   75 (EX_TEMPFAIL), retried once by sweeps.
 * - Any other error thrown while stepping stays a numerical fault (exit 3) as before, with reason
 *   'unclassified': the solvers throw typed failures at every site they know of, so this marks one
 *   still to be typed rather than guessing.
 */
import { EXIT, NumericalFault } from './errors.js';
import { asInfrastructureFailure, SolverFailure, type InfrastructureReason, type SolverFailureContext, type SolverFailureReason } from '../solvers/base/failures.js';

export type FailureKind = 'numerical' | 'infrastructure';

/** report.json `failure` (present when status is "failed"). */
export type ReportFailure =
  | ({ kind: 'numerical'; reason: SolverFailureReason | 'unclassified' } & SolverFailureContext)
  | { kind: 'infrastructure'; reason: InfrastructureReason; detail: string };

export interface FailureOutcome {
  exitCode: number;
  failure: ReportFailure;
  /** Kind and reason in words, e.g. "numerical fault (iteration-limit)". */
  label: string;
  /** The error's own words (one line for the errors the solvers throw). */
  detail: string;
  /** label: detail. */
  message: string;
}

/** Finite numbers only: report.json never carries NaN or Infinity. */
function finiteContext(c: Record<string, unknown>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(c)) {
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string') out[k] = v;
  }
  return out;
}

function outcome(exitCode: number, failure: ReportFailure, label: string, detail: string): FailureOutcome {
  return { exitCode, failure, label, detail, message: `${label}: ${detail}` };
}

/** How an error that ended a solve is reported (see the module comment for the mapping). */
export function describeFailure(e: unknown): FailureOutcome {
  const infra = asInfrastructureFailure(e);
  if (infra) {
    return outcome(
      EXIT.infrastructure,
      { kind: 'infrastructure', reason: infra.reason, detail: infra.detail },
      `infrastructure failure (${infra.reason})`,
      `${infra.detail}; not a fault of the numerics: the same run may succeed if run again (exit ${EXIT.infrastructure})`,
    );
  }
  const text = (e as Error | undefined)?.message ?? String(e);
  if (e instanceof SolverFailure) {
    return outcome(EXIT.numericalFault, { kind: 'numerical', reason: e.reason, ...finiteContext({ ...e.context }) }, `numerical fault (${e.reason})`, text);
  }
  const reason = e instanceof NumericalFault && e.reason !== undefined ? e.reason : 'unclassified';
  return outcome(EXIT.numericalFault, { kind: 'numerical', reason }, reason === 'unclassified' ? 'numerical failure' : `numerical fault (${reason})`, text);
}

/**
 * describeFailure for an error thrown while stepping from t = `from` towards `to`: the message
 * names that interval, except for a NumericalFault of the health check, which names its own step,
 * time and cell.
 */
export function describeStepFailure(e: unknown, from: number, to: number): FailureOutcome {
  const d = describeFailure(e);
  if (e instanceof NumericalFault) return d;
  return { ...d, message: `${d.label} between t = ${from} and ${to}: ${d.detail}` };
}

/** The exit code of a run that ended with `status`; a failed run's code comes from its `failure`. */
export function failedRunExitCode(failure: ReportFailure | undefined): number {
  return failure?.kind === 'infrastructure' ? EXIT.infrastructure : EXIT.numericalFault;
}
