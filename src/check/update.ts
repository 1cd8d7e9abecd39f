/**
 * `check --update`: write the values the runs produced back into the baselines file as the new
 * expected values, for the entries that do not pass (moved beyond their tolerance, or not yet
 * recorded). The parsed YAML document says where each expected value's scalar sits in the
 * text, and only those characters are replaced: comments, key order, flow style, number spelling
 * and tolerances stay byte for byte as written (re-serializing the document would respell
 * `1.0e-3` as `1e-3` and re-space flow lists).
 *
 * Which values --update may change: numbers (measurements, recorded by a previous --update or
 * written as a starting guess) when they are outside their tolerance, and any `null`. A regime
 * that is already written is never changed: it is a verdict someone asserted or reviewed.
 */
import { type Document, isScalar, Scalar } from 'yaml';
import { writeFileAtomic } from '../io/atomic.js';
import { allowedDeviation } from './compare.js';
import { formatPath, parseBaselinesText } from './load.js';
import type { CheckResult, ExpectedValue } from './types.js';

export interface Change {
  caseName: string;
  quantity: string;
  from: ExpectedValue;
  to: number | string;
}

export interface UpdatePlan {
  changes: Change[];
  /**
   * Results left alone: those that produced no value (failed run, missing quantity), and written
   * regimes the run contradicts (a verdict is never rewritten; see planUpdate).
   */
  skipped: CheckResult[];
  /** The new file text (the input text when nothing changed). */
  text: string;
  /** What each edited entry must read back as, keyed by its document path. */
  expectAfter: { docPath: (string | number)[]; value: number | string }[];
}

/**
 * The value to record: 10 significant digits keep the file readable and are far inside any
 * sensible tolerance; full precision only when the tolerance is so tight that rounding would eat
 * into it.
 */
export function recordedValue(got: number | string, tolerance: { rel?: number; abs?: number }): number | string {
  if (typeof got === 'string') return got;
  const rounded = Number(got.toPrecision(10));
  return Math.abs(rounded - got) <= 0.01 * allowedDeviation(got, tolerance) ? rounded : got;
}

/** A number as YAML 1.2 (core schema) and JSON both read back exactly; exponent form for the very small and large. */
export function numberText(x: number): string {
  const a = Math.abs(x);
  if (x === 0 || (a >= 1e-3 && a < 1e9)) return String(x);
  // String() switches to exponent form only below 1e-6; 0.00003315264446 reads worse than 3.315264446e-5.
  const [mant, exp] = x.toExponential().split('e');
  return `${mant}e${Number(exp)}`;
}

function valueText(v: number | string, node: Scalar): string {
  if (typeof v === 'number') return numberText(v);
  if (node.type === Scalar.QUOTE_SINGLE) return `'${v.replace(/'/g, "''")}'`;
  // Plain style for names like `converging`; anything YAML might read as another type gets quotes.
  return node.type === Scalar.QUOTE_DOUBLE || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(v) || ['null', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(v.toLowerCase())
    ? JSON.stringify(v)
    : v;
}

export function planUpdate(text: string, doc: Document, results: readonly CheckResult[]): UpdatePlan {
  const changes: Change[] = [];
  const skipped: CheckResult[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  const expectAfter: UpdatePlan['expectAfter'] = [];
  for (const r of results) {
    if (r.got === null) {
      skipped.push(r);
      continue;
    }
    // A value inside its tolerance stays as recorded: rewriting it would only add churn to the
    // diff, and would let small drifts add up unseen over many updates.
    if (r.verdict === 'pass') continue;
    const to = recordedValue(r.got, r.check.tolerance);
    const from = r.check.expected;
    if (from === to) continue;
    if (r.check.quantity.kind === 'regime' && from !== null) {
      // A regime is a claim about the SDE, not a measurement: numbers are what runs produce and
      // --update records them, but a written verdict is the user's (or was reviewed by one once
      // recorded), and a grid can flip it (a coarse grid calling a converging case collapsing).
      // Only `null` regimes are filled in; a changed verdict is reported and left for a person.
      skipped.push({
        ...r,
        message: `the run says ${String(r.got)} but the file says ${String(from)}; --update never rewrites a written regime (only null ones): edit it by hand if ${String(r.got)} is right`,
      });
      continue;
    }
    const node = doc.getIn(r.check.docPath, true);
    if (!isScalar(node) || !node.range) {
      // The loader only accepts scalars here, so this is a bug, not bad input.
      throw new Error(`--update: ${formatPath(r.check.docPath)} is not a scalar in the parsed document`);
    }
    const [start, valueEnd] = node.range;
    let t = valueText(to, node);
    // `key:` with nothing after it is a null whose range is empty, right after the colon.
    if (start === valueEnd && text[start - 1] === ':') t = ` ${t}`;
    // Keep a trailing comment in its column where the padding allows.
    let end = valueEnd;
    const pad = /^ +(?=#)/.exec(text.slice(valueEnd))?.[0].length ?? 0;
    if (pad > 0) {
      end = valueEnd + pad;
      t += ' '.repeat(Math.max(1, pad - (t.length - (valueEnd - start))));
    }
    edits.push({ start, end, text: t });
    changes.push({ caseName: r.caseName, quantity: r.check.quantity.name, from, to });
    expectAfter.push({ docPath: r.check.docPath, value: to });
  }
  edits.sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { changes, skipped, text: out, expectAfter };
}

/**
 * Replaces `file` with the plan's text atomically, after checking that the text is still a valid
 * baselines file and reads back the values meant to be recorded: a botched edit must never
 * replace a good file.
 */
export function writeUpdate(file: string, plan: UpdatePlan): void {
  const { doc } = parseBaselinesText(plan.text, file);
  for (const { docPath, value } of plan.expectAfter) {
    const back: unknown = doc.getIn(docPath);
    if (back !== value) throw new Error(`--update: ${formatPath(docPath)} would read back as ${String(back)}, not ${String(value)}; ${file} left unchanged`);
  }
  writeFileAtomic(file, plan.text);
}
