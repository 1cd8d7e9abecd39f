/** The baselines file after validation, and the outcome of checking it. */
import type { Quantity } from './quantity.js';

/** |got − expected| ≤ max(abs, rel·|expected|); a missing bound counts as 0. */
export interface Tolerance {
  rel?: number;
  abs?: number;
}

export type ExpectedValue = number | string | null;

export interface QuantityCheck {
  quantity: Quantity;
  /** null: not recorded yet (fails until --update fills it in). */
  expected: ExpectedValue;
  /** Resolved: the quantity's own, else the case's, else the file's. Unused for `regime`. */
  tolerance: Tolerance;
  /** Path of the expected value's node in the YAML document, for --update. */
  docPath: (string | number)[];
}

export interface BaselineCase {
  /** Position in the file's `cases` list. */
  index: number;
  name: string;
  /** As written in the file (relative to the baselines file). */
  scenario: string;
  /** Absolute path of the scenario file. */
  scenarioPath: string;
  set: string[];
  runArgs: string[];
  checks: QuantityCheck[];
}

export interface Baselines {
  /** The baselines file as given on the command line. */
  file: string;
  cases: BaselineCase[];
}

export type Verdict = 'pass' | 'fail' | 'error' | 'new';

export interface CheckResult {
  caseName: string;
  caseIndex: number;
  check: QuantityCheck;
  /** The value the run produced; null when the run failed or the report lacks the quantity. */
  got: number | string | null;
  verdict: Verdict;
  /** got − expected (numbers only). */
  deviation: number | null;
  /** Deviation allowed for this expected value: max(abs, rel·|expected|) (numbers only). */
  allowed: number | null;
  /** Why the verdict is not pass, in words. */
  message: string;
  /** Wall time of the run this result came from, counted on the first result of each run only (so sums are right). */
  seconds: number;
}
