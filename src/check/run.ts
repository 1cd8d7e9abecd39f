/**
 * Runs the cases of a baselines file and compares what they produce with what they expect.
 * Each distinct run (scenario + overrides + run options) happens once, in a worker process, with
 * at most `jobs` in flight; its report serves every quantity of every case that asked for it.
 */
import { mapPool } from '../parallel/pool.js';
import type { ChildRunRequest, ChildRunResult } from '../parallel/run-request.js';
import { WorkerPool } from '../parallel/worker-pool.js';
import { EXIT } from '../errors.js';
import { compareValue } from './compare.js';
import { extractQuantity } from './quantity.js';
import type { RunReport } from '../report/types.js';
import type { BaselineCase, Baselines, CheckResult } from './types.js';

export type Runner = (req: ChildRunRequest) => Promise<ChildRunResult>;

export interface CheckOptions {
  jobs: number;
  /** Only the cases with these names (all when empty). */
  only?: readonly string[];
  /** Per-run wall-time limit in seconds. */
  timeoutSeconds?: number;
  /** Called as each run finishes (completion order), e.g. for progress lines. */
  onRunDone?: (info: { cases: string[]; ok: boolean; seconds: number; done: number; total: number }) => void;
  /** Stops the runs (SIGTERM to each child); the cases not finished then fail. */
  signal?: AbortSignal;
  /** Replaces the worker-pool runner (tests). */
  runner?: Runner;
}

export interface CheckOutcome {
  results: CheckResult[];
  /** Distinct runs made. */
  runs: number;
  /** A run was refused as bad input (exit 2 from `fpsolve run`): the baselines are wrong, not the numerics. */
  badInput: string | null;
  wallSeconds: number;
}

/** Key under which identical runs are merged. */
function runKey(c: BaselineCase): string {
  return JSON.stringify([c.scenarioPath, c.set, c.runArgs]);
}

export function selectCases(baselines: Baselines, only: readonly string[] | undefined): BaselineCase[] {
  if (!only || only.length === 0) return baselines.cases;
  const wanted = new Set(only);
  return baselines.cases.filter((c) => wanted.has(c.name));
}

export async function runChecks(baselines: Baselines, opts: CheckOptions): Promise<CheckOutcome> {
  const started = performance.now();
  const cases = selectCases(baselines, opts.only);
  const groups = new Map<string, BaselineCase[]>();
  for (const c of cases) {
    const k = runKey(c);
    const g = groups.get(k);
    if (g) g.push(c);
    else groups.set(k, [c]);
  }
  const runs = [...groups.values()];
  // One worker process per job slot, each loading fpsolve once for all its runs.
  const pool = opts.runner ? null : new WorkerPool(Math.max(1, Math.min(opts.jobs, runs.length)));
  const runner = opts.runner ?? ((req: ChildRunRequest) => pool!.run(req));
  let done = 0;
  const outcomes = await mapPool(
    runs,
    opts.jobs,
    (group) => {
      const c = group[0]!;
      return runner({ scenarioFile: c.scenarioPath, overrides: c.set, extraArgs: c.runArgs, timeoutSeconds: opts.timeoutSeconds, signal: opts.signal });
    },
    (r, group) => {
      done++;
      const ok = r.ok && r.report.status === 'ok';
      opts.onRunDone?.({ cases: group.map((c) => c.name), ok, seconds: r.wallSeconds, done, total: runs.length });
    },
  ).finally(() => pool?.close());

  let badInput: string | null = null;
  const byCase = new Map<BaselineCase, { run: ChildRunResult; firstOfRun: boolean }>();
  runs.forEach((group, i) => {
    group.forEach((c, j) => byCase.set(c, { run: outcomes[i]!, firstOfRun: j === 0 }));
    const r = outcomes[i]!;
    if (!r.ok && r.exitCode === EXIT.badInput && badInput === null) badInput = `${group[0]!.name}: ${r.error}`;
  });

  const results: CheckResult[] = [];
  for (const c of cases) {
    const { run, firstOfRun } = byCase.get(c)!;
    c.checks.forEach((check, k) => {
      const seconds = firstOfRun && k === 0 ? run.wallSeconds : 0;
      const base = { caseName: c.name, caseIndex: c.index, check, seconds };
      let report: RunReport | null = null;
      let runError: string | null = null;
      if (!run.ok) runError = `the run failed: ${run.error}`;
      else if (run.report.status !== 'ok') {
        runError = `the run ended with status ${run.report.status}${run.report.error ? `: ${run.report.error}` : ''}`;
      } else report = run.report;
      if (report === null) {
        if (opts.timeoutSeconds !== undefined && run.wallSeconds >= opts.timeoutSeconds) runError = `stopped by --timeout ${opts.timeoutSeconds} s (${runError})`;
        results.push({ ...base, got: null, verdict: 'error', deviation: null, allowed: null, message: runError ?? 'the run produced no report' });
        return;
      }
      const x = extractQuantity(report, check.quantity);
      if (!x.ok) {
        results.push({ ...base, got: null, verdict: 'error', deviation: null, allowed: null, message: x.reason });
        return;
      }
      results.push({ ...base, got: x.value, ...compareValue(check.expected, x.value, check.tolerance) });
    });
  }
  return { results, runs: runs.length, badInput, wallSeconds: (performance.now() - started) / 1000 };
}

/** 0 all pass, 1 any regression (failed comparison, failed run, missing quantity, unrecorded value), 2 bad input. */
export function exitCodeOf(outcome: CheckOutcome): number {
  if (outcome.badInput !== null) return EXIT.badInput;
  return outcome.results.every((r) => r.verdict === 'pass') ? EXIT.ok : EXIT.regression;
}
