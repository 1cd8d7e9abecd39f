/** The plain-text report of a check: one row per case and quantity, then why each failure failed. */
import { formatTolerance } from './compare.js';
import type { CheckResult, Verdict } from './types.js';

/** Enough digits to see a deviation at the 1e-6 level without drowning the table. */
export function formatNumber(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return String(Number(x.toPrecision(8)));
  return x.toExponential(6).replace(/\.?0+e/, 'e');
}

const show = (v: number | string | null): string => (v === null ? '—' : typeof v === 'number' ? formatNumber(v) : v);

const VERDICT: Record<Verdict, string> = { pass: 'pass', fail: 'FAIL', error: 'ERROR', new: 'NEW' };

function deviationText(r: CheckResult): string {
  if (r.deviation === null) return '—';
  const exp = r.check.expected;
  const sign = r.deviation >= 0 ? '+' : '';
  const rel = typeof exp === 'number' && exp !== 0 ? ` (${sign}${(r.deviation / Math.abs(exp)).toExponential(1)} rel)` : '';
  return `${sign}${r.deviation.toExponential(2)}${rel}`;
}

function toleranceText(r: CheckResult): string {
  if (r.check.quantity.kind === 'regime') return 'equal';
  return r.allowed === null ? formatTolerance(r.check.tolerance) : `±${r.allowed.toExponential(2)} (${formatTolerance(r.check.tolerance)})`;
}

export function formatTable(results: readonly CheckResult[]): string {
  const header = ['case', 'quantity', 'expected', 'got', 'deviation', 'tolerance', 'verdict'];
  const rows = results.map((r) => [r.caseName, r.check.quantity.name, show(r.check.expected), show(r.got), deviationText(r), toleranceText(r), VERDICT[r.verdict]]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const bad = results.filter((r) => r.verdict !== 'pass');
  if (bad.length > 0) {
    out.push('');
    for (const r of bad) out.push(`${VERDICT[r.verdict]} ${r.caseName} ${r.check.quantity.name}: ${r.message}`);
  }
  return out.join('\n');
}

export function summaryLine(results: readonly CheckResult[], runs: number, wallSeconds: number): string {
  const count = (v: Verdict): number => results.filter((r) => r.verdict === v).length;
  const cases = new Set(results.map((r) => r.caseIndex)).size;
  const parts = [`${count('pass')} passed`];
  if (count('fail')) parts.push(`${count('fail')} failed`);
  if (count('error')) parts.push(`${count('error')} errors`);
  if (count('new')) parts.push(`${count('new')} not recorded`);
  return `${cases} case(s), ${results.length} quantities, ${runs} run(s) in ${wallSeconds.toFixed(1)} s: ${parts.join(', ')}`;
}
