/** One expected value against what a run produced. */
import type { ExpectedValue, Tolerance, Verdict } from './types.js';

export function allowedDeviation(expected: number, tol: Tolerance): number {
  return Math.max(tol.abs ?? 0, (tol.rel ?? 0) * Math.abs(expected));
}

export interface Comparison {
  verdict: Verdict;
  deviation: number | null;
  allowed: number | null;
  message: string;
}

export function formatTolerance(tol: Tolerance): string {
  const parts: string[] = [];
  if (tol.rel !== undefined) parts.push(`rel ${tol.rel}`);
  if (tol.abs !== undefined) parts.push(`abs ${tol.abs}`);
  return parts.join(', ') || 'exact';
}

export function compareValue(expected: ExpectedValue, got: number | string, tol: Tolerance): Comparison {
  if (expected === null) {
    return { verdict: 'new', deviation: null, allowed: null, message: `no expected value recorded (got ${String(got)}); run with --update to record it` };
  }
  if (typeof expected === 'string' || typeof got === 'string') {
    const same = expected === got;
    return { verdict: same ? 'pass' : 'fail', deviation: null, allowed: null, message: same ? '' : `expected ${String(expected)}, got ${String(got)}` };
  }
  const deviation = got - expected;
  const allowed = allowedDeviation(expected, tol);
  // Written as a negated ≤ so that a NaN deviation fails.
  const pass = Math.abs(deviation) <= allowed;
  const rel = expected !== 0 ? ` (${(deviation / Math.abs(expected)).toExponential(2)} relative)` : '';
  return {
    verdict: pass ? 'pass' : 'fail',
    deviation,
    allowed,
    message: pass ? '' : `expected ${expected}, got ${got}: deviation ${deviation.toExponential(3)}${rel} exceeds the tolerance ${allowed.toExponential(3)} (${formatTolerance(tol)})`,
  };
}
