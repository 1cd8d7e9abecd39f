/**
 * JUnit XML for CI dashboards (GitHub, GitLab, Jenkins): one <testcase> per case and quantity,
 * classname = case, name = "case: quantity", a <failure> carrying expected and got.
 */
import type { CheckResult } from './types.js';

/**
 * Text safe inside XML attributes and elements. Characters XML 1.0 cannot carry at all (most
 * C0 controls, lone surrogates, U+FFFE/U+FFFF) are replaced, since no escape exists for them.
 */
export function escapeXml(s: string, where: 'attribute' | 'text' = 'attribute'): string {
  const escaped = s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
  if (where === 'text') return escaped.replace(/\r/g, '&#13;');
  // Attribute values normalize raw newlines and tabs to spaces; character references survive.
  return escaped
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

const secs = (s: number): string => s.toFixed(3);

export interface JunitMeta {
  /** Suite name: the baselines file. */
  suite: string;
  wallSeconds: number;
  timestamp: string;
}

export function junitXml(results: readonly CheckResult[], meta: JunitMeta): string {
  // A run that failed, or a report without the quantity, is a regression like a moved value: all are
  // <failure>s (type says which), so that dashboards count them in one place.
  const failures = results.filter((r) => r.verdict !== 'pass').length;
  const errors = 0;
  const a = escapeXml;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="fpsolve check" tests="${results.length}" failures="${failures}" errors="${errors}" time="${secs(meta.wallSeconds)}">`,
    `  <testsuite name="${a(meta.suite)}" tests="${results.length}" failures="${failures}" errors="${errors}" skipped="0" time="${secs(meta.wallSeconds)}" timestamp="${a(meta.timestamp)}">`,
  ];
  for (const r of results) {
    const name = `${r.caseName}: ${r.check.quantity.name}`;
    const open = `    <testcase classname="${a(r.caseName)}" name="${a(name)}" time="${secs(r.seconds)}"`;
    if (r.verdict === 'pass') {
      lines.push(`${open}/>`);
      continue;
    }
    const type = r.verdict === 'error' ? 'run-error' : r.verdict === 'new' ? 'not-recorded' : 'regression';
    const body = [
      `case: ${r.caseName}`,
      `quantity: ${r.check.quantity.name}`,
      `expected: ${r.check.expected === null ? 'not recorded' : String(r.check.expected)}`,
      `got: ${r.got === null ? 'nothing' : String(r.got)}`,
      ...(r.deviation !== null ? [`deviation: ${r.deviation}`, `allowed: ${r.allowed}`] : []),
      r.message,
    ].join('\n');
    lines.push(`${open}>`, `      <failure message="${a(`${name}: ${r.message}`)}" type="${type}">${a(body, 'text')}</failure>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
