/** A scenario run as `fpsolve run --json` would do it, in another process, and its outcome. */
import type { RunReport } from '../report/types.js';
import type { LoadedScenario } from '../scenario/types.js';

export interface ChildRunRequest {
  scenarioFile: string;
  /** `--set path=value` strings. */
  overrides: readonly string[];
  /**
   * The scenario as loadScenario(scenarioFile, overrides) gave it to the caller (a sweep loads each
   * point for its key): a runner in this process runs a copy of it instead of loading the file a
   * second time; worker processes load the file themselves.
   */
  loaded?: LoadedScenario;
  /** Extra `fpsolve run` arguments (e.g. ['--no-gap']). */
  extraArgs?: readonly string[];
  /** Kill the child after this many seconds. */
  timeoutSeconds?: number;
  /** Abort: SIGTERM the child (it stops at its next report time), SIGKILL if it is still alive after killGraceSeconds. */
  signal?: AbortSignal;
  /** Seconds between SIGTERM and SIGKILL on abort (default 5). */
  killGraceSeconds?: number;
}

export type ChildRunResult =
  | { ok: true; report: RunReport; exitCode: number; wallSeconds: number }
  | { ok: false; error: string; exitCode: number | null; wallSeconds: number };
