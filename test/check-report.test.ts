/**
 * The pieces of `fpsolve check` that need no solver: the tolerance rule, the JUnit writer, the
 * in-place --update edit and the run/merge logic (with a stand-in runner).
 */
import { fc, test as ftest } from '@fast-check/vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { allowedDeviation, compareValue } from '../src/check/compare.js';
import { escapeXml, junitXml } from '../src/check/junit.js';
import { parseBaselinesText } from '../src/check/load.js';
import { exitCodeOf, runChecks, type Runner } from '../src/check/run.js';
import { numberText, planUpdate, recordedValue } from '../src/check/update.js';
import { parseQuantity } from '../src/check/quantity.js';
import type { CheckResult } from '../src/check/types.js';
import type { RunReport } from '../src/report/types.js';

const PEARSON = join(import.meta.dirname, '..', 'scenarios', 'pearson-1d.yaml');
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', htmlEntities: true, isArray: (name) => name === 'testcase' });

describe('the tolerance rule |got − expected| ≤ max(abs, rel·|expected|)', () => {
  it('worked examples', () => {
    // rel only: 1e-3 of 2 is 2e-3.
    expect(compareValue(2, 2.0019, { rel: 1e-3 }).verdict).toBe('pass');
    expect(compareValue(2, 2.0021, { rel: 1e-3 }).verdict).toBe('fail');
    expect(compareValue(2, 1.9979, { rel: 1e-3 }).verdict).toBe('fail');
    // abs dominates near zero, rel far from it.
    expect(allowedDeviation(1e-9, { rel: 1e-3, abs: 1e-6 })).toBe(1e-6);
    expect(allowedDeviation(10, { rel: 1e-3, abs: 1e-6 })).toBeCloseTo(1e-2, 15);
    // A NaN never passes.
    expect(compareValue(1, Number.NaN, { rel: 1 }).verdict).toBe('fail');
    // Regimes compare as strings; tolerances do not apply.
    expect(compareValue('converging', 'collapsing', { rel: 1 })).toMatchObject({ verdict: 'fail', message: 'expected converging, got collapsing' });
    expect(compareValue(null, 1.5, { rel: 1 }).verdict).toBe('new');
  });

  it('a failure message carries expected, got and the tolerance', () => {
    const m = compareValue(1.5, 1.4, { rel: 1e-3 }).message;
    expect(m).toContain('expected 1.5, got 1.4');
    expect(m).toContain('rel 0.001');
  });

  ftest.prop([
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.double({ min: -1e3, max: 1e3, noNaN: true }),
    fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    fc.option(fc.double({ min: 0, max: 10, noNaN: true }), { nil: undefined }),
  ])('passes exactly when the deviation is within the larger bound', (expected, d, rel, abs) => {
    const got = expected + d;
    const c = compareValue(expected, got, { rel, abs });
    const bound = Math.max(abs ?? 0, (rel ?? 0) * Math.abs(expected));
    expect(c.verdict).toBe(Math.abs(got - expected) <= bound ? 'pass' : 'fail');
    expect(c.deviation).toBe(got - expected);
  });
});

describe('recorded numbers', () => {
  ftest.prop([fc.double({ noNaN: true, noDefaultInfinity: true })])('numberText reads back exactly as YAML and as JSON', (x) => {
    const t = numberText(x);
    // === rather than toBe: −0 is written as 0, which is the same expected value.
    expect(parseYaml(t) === x).toBe(true);
    expect(JSON.parse(t) === x).toBe(true);
  });

  it('small numbers are written in exponent form', () => {
    expect(numberText(3.315264446e-5)).toBe('3.315264446e-5');
    expect(numberText(0.0056979)).toBe('0.0056979');
    expect(numberText(-2.5e12)).toBe('-2.5e12');
  });

  ftest.prop([fc.double({ min: 1e-300, max: 1e300, noNaN: true }), fc.double({ min: 1e-9, max: 1, noNaN: true })])(
    'rounding never uses more than 1% of the tolerance',
    (x, rel) => {
      const v = recordedValue(x, { rel }) as number;
      expect(Math.abs(v - x)).toBeLessThanOrEqual(0.01 * rel * x);
    },
  );

  it('10 significant digits where the tolerance allows, full precision where it does not', () => {
    expect(recordedValue(1.0017172124428706, { rel: 1e-3 })).toBe(1.001717212);
    expect(recordedValue(1.0017172124428706, { abs: 0 })).toBe(1.0017172124428706);
    expect(recordedValue('collapsing', {})).toBe('collapsing');
  });
});

function result(over: Partial<CheckResult> & { name?: string; expected?: number | string | null; got?: number | string | null }): CheckResult {
  const q = parseQuantity(over.name ?? 'rates.chi')!;
  return {
    caseName: 'pearson-1d',
    caseIndex: 0,
    check: { quantity: q, expected: over.expected === undefined ? 1 : over.expected, tolerance: { rel: 1e-3 }, docPath: ['cases', 0, 'expect', q.name] },
    got: over.got === undefined ? 1 : over.got,
    verdict: 'pass',
    deviation: 0,
    allowed: 1e-3,
    message: '',
    seconds: 1.5,
    ...over,
  };
}

describe('JUnit XML', () => {
  const meta = { suite: 'baselines/rates.yaml', wallSeconds: 2, timestamp: '2026-11-22T00:00:00.000Z' };

  it('one testcase per case and quantity; a failure names the case with expected and got', () => {
    const failing = result({ name: 'rates.meanLoss', expected: 1.5, got: 1.4, ...compareValue(1.5, 1.4, { rel: 1e-3 }) });
    const text = junitXml([result({}), failing], meta);
    expect(XMLValidator.validate(text)).toBe(true);
    const doc = xml.parse(text);
    const suite = doc.testsuites.testsuite;
    expect(suite.tests).toBe('2');
    expect(suite.failures).toBe('1');
    const [ok, bad] = suite.testcase;
    expect(ok.name).toBe('pearson-1d: rates.chi');
    expect(ok.failure).toBeUndefined();
    expect(bad.classname).toBe('pearson-1d');
    expect(bad.name).toBe('pearson-1d: rates.meanLoss');
    expect(bad.failure.type).toBe('regression');
    expect(bad.failure.message).toContain('expected 1.5, got 1.4');
    expect(bad.failure['#text']).toContain('expected: 1.5');
    expect(bad.failure['#text']).toContain('got: 1.4');
  });

  ftest.prop([fc.string({ unit: 'binary', maxLength: 40 })])('any case name and message survives a round trip through a JUnit parser', (s) => {
    const r = result({ caseName: s, verdict: 'fail', message: s, expected: 1, got: 2 });
    const text = junitXml([r], { ...meta, suite: s });
    expect(XMLValidator.validate(text)).toBe(true);
    const tc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', htmlEntities: true, trimValues: false, isArray: (n) => n === 'testcase' }).parse(text).testsuites.testsuite.testcase[0];
    // Characters XML cannot carry at all become U+FFFD; everything else comes back as written.
    const clean = s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
    expect(String(tc.classname)).toBe(clean);
    expect(String(tc.failure.message)).toBe(`${clean}: rates.chi: ${clean}`);
  });

  it('escapes markup', () => {
    expect(escapeXml('a<b>&"c\'')).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    expect(escapeXml('x\ny')).toBe('x&#10;y');
    expect(escapeXml('x\ny', 'text')).toBe('x\ny');
  });
});

describe('--update edits only the expected values', () => {
  const text = [
    '# header comment',
    'tolerance: { rel: 1.0e-3 }   # spelled 1.0e-3 on purpose',
    'cases:',
    '  - name: pearson-1d',
    `    scenario: ${JSON.stringify(PEARSON)}`,
    '    set: ["domain.cells=[400]"]',
    '    expect:',
    '      rates.chi: 1.0        # the χ rate, its comment aligned',
    '      final.l1: { expected: null, tolerance: { rel: 5.0e-3 } }',
    '      rates.kl:',
    "      regime: 'collapsing'",
    '',
  ].join('\n');

  it('keeps comments, spelling and tolerances byte for byte', () => {
    const { baselines, doc } = parseBaselinesText(text, 'b.yaml');
    const checks = baselines.cases[0]!.checks;
    const res = checks.map((check, i): CheckResult => ({
      ...result({}),
      check,
      got: [1.0017172124428706, 1.936801943e-4, 2.002657071, 'converging'][i]!,
      verdict: 'fail',
    }));
    const plan = planUpdate(text, doc, res);
    expect(plan.changes.map((c) => [c.quantity, c.from, c.to])).toEqual([
      ['rates.chi', 1.0, 1.001717212],
      ['final.l1', null, 1.936801943e-4],
      ['rates.kl', null, 2.002657071],
    ]);
    // A written regime is a verdict: never rewritten, reported instead (test/regime.test.ts).
    expect(plan.skipped.map((r) => r.check.quantity.name)).toEqual(['regime']);
    const want = text
      .replace('rates.chi: 1.0        #', 'rates.chi: 1.001717212 #')
      .replace('expected: null', 'expected: 1.936801943e-4')
      .replace('rates.kl:\n', 'rates.kl: 2.002657071\n');
    expect(plan.text).toBe(want);
    // And the result is a valid baselines file holding the new values.
    const back = parseBaselinesText(plan.text, 'b.yaml').baselines.cases[0]!.checks.map((c) => c.expected);
    expect(back).toEqual([1.001717212, 1.936801943e-4, 2.002657071, 'collapsing']);
  });

  it('leaves a value within its tolerance as recorded', () => {
    const { baselines, doc } = parseBaselinesText(text, 'b.yaml');
    const res = [{ ...result({}), check: baselines.cases[0]!.checks[0]!, got: 1.0004, verdict: 'pass' as const }];
    const plan = planUpdate(text, doc, res);
    expect(plan.changes).toEqual([]);
    expect(plan.text).toBe(text);
  });

  it('leaves a value alone when its run produced nothing', () => {
    const { baselines, doc } = parseBaselinesText(text, 'b.yaml');
    const res = [{ ...result({}), check: baselines.cases[0]!.checks[0]!, got: null, verdict: 'error' as const, message: 'the run failed' }];
    const plan = planUpdate(text, doc, res);
    expect(plan.changes).toEqual([]);
    expect(plan.skipped).toHaveLength(1);
    expect(plan.text).toBe(text);
  });
});

describe('running the cases', () => {
  const two = [
    'tolerance: { rel: 1.0e-3 }',
    'cases:',
    `  - { name: a, scenario: ${JSON.stringify(PEARSON)}, expect: { rates.chi: 1.0, regime: converging } }`,
    `  - { name: b, scenario: ${JSON.stringify(PEARSON)}, expect: { rates.kl: 2.0 } }`,
    `  - { name: c, scenario: ${JSON.stringify(PEARSON)}, set: ["noise.eta=0.05"], expect: { rates.chi: 1.0 } }`,
  ].join('\n');

  const fakeReport = (chi: number, kl: number): RunReport =>
    ({
      status: 'ok',
      regime: 'converging',
      rates: { chi: { value: chi, window: [0, 1], r2: 1, points: 9 }, kl: { value: kl, window: [0, 1], r2: 1, points: 9 }, meanLoss: null },
      final: { t: 1, mass: 1, minDensity: 0, meanLoss: 0, l1: 0, kl: 0, chi2: 0, log10Chi2: 0, massBelowDelta: 0 },
    }) as unknown as RunReport;

  it('runs identical cases once and serves all their quantities', async () => {
    const calls: string[][] = [];
    const runner: Runner = async (req) => {
      calls.push([...req.overrides]);
      // eta 0.05 "moves" the χ rate by 1%.
      const moved = req.overrides.includes('noise.eta=0.05');
      return { ok: true, report: fakeReport(moved ? 1.01 : 1.0005, 2.001), exitCode: 0, wallSeconds: 0.5 };
    };
    const { baselines } = parseBaselinesText(two, 'b.yaml');
    const out = await runChecks(baselines, { jobs: 2, runner });
    expect(calls).toHaveLength(2);
    expect(out.runs).toBe(2);
    expect(out.results.map((r) => [r.caseName, r.check.quantity.name, r.verdict])).toEqual([
      ['a', 'rates.chi', 'pass'],
      ['a', 'regime', 'pass'],
      ['b', 'rates.kl', 'pass'],
      ['c', 'rates.chi', 'fail'],
    ]);
    // The shared run's time is counted once.
    expect(out.results.reduce((s, r) => s + r.seconds, 0)).toBe(1.0);
    expect(exitCodeOf(out)).toBe(1);
  });

  it('a failed run fails every quantity of its cases, with the reason', async () => {
    const runner: Runner = async () => ({ ok: true, report: { ...fakeReport(1, 2), status: 'failed', error: 'negative density' } as RunReport, exitCode: 3, wallSeconds: 0.1 });
    const { baselines } = parseBaselinesText(two, 'b.yaml');
    const out = await runChecks(baselines, { jobs: 1, runner, only: ['b'] });
    expect(out.results).toHaveLength(1);
    expect(out.results[0]).toMatchObject({ verdict: 'error', got: null, message: 'the run ended with status failed: negative density' });
    expect(exitCodeOf(out)).toBe(1);
  });

  it('a run refused as bad input makes the check bad input (exit 2)', async () => {
    const runner: Runner = async () => ({ ok: false, error: "unknown option '--modes'", exitCode: 2, wallSeconds: 0.1 });
    const { baselines } = parseBaselinesText(two, 'b.yaml');
    const out = await runChecks(baselines, { jobs: 1, runner });
    expect(out.badInput).toContain("unknown option '--modes'");
    expect(exitCodeOf(out)).toBe(2);
  });
});
