// STUB on branch h/committor only: the `exitrate` engineer's real module replaces this file at
// merge. It exists so that `fpsolve escape` compiles against the agreed interface; escape reports
// the QSD and exit rate as unavailable while this stub is in place.
import type { Problem } from '../../solvers/problem.js';

export interface ExitPrediction {
  law: 'kramers' | 'mori' | null;
  rate: number | null;
  ratio: number | null;
  note?: string;
}

export interface ExitRateResult {
  rate: number;
  qsd: Float64Array;
  meanExitFromQsd: number;
  prediction: ExitPrediction;
}

export function exitRate(_problem: Problem, _inside: Uint8Array, _opts?: Record<string, unknown>): ExitRateResult {
  throw new Error('the quasi-stationary distribution and exit rate are not in this build (src/estimators/exit-prediction.ts is a placeholder)');
}
