/**
 * Baselines files: validation messages (one line, naming the file and the entry) and the
 * quantity names. In-process, no runs.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, InputError } from '../src/errors.js';
import { formatPath, loadBaselines, parseBaselinesText } from '../src/check/load.js';
import { extractQuantity, parseQuantity } from '../src/check/quantity.js';
import type { RunReport } from '../src/report/types.js';

const PEARSON = join(import.meta.dirname, '..', 'scenarios', 'pearson-1d.yaml');

/** A valid file with three cases; each `patch` entry replaces the lines holding its marker. */
function baselines(patch: Record<string, string> = {}): string {
  const lines = [
    '# top comment',
    'tolerance: { rel: 1.0e-3 }',
    'cases:',
    '  - name: a',
    `    scenario: ${JSON.stringify(PEARSON)}`,
    '    expect: { rates.chi: 1.0 }',
    '  - name: b',
    `    scenario: ${JSON.stringify(PEARSON)}`,
    '    set: ["noise.eta=0.05"]',
    '    expect:',
    '      rates.kl: 2.0',
    '      regime: converging',
    '  - name: c',
    `    scenario: ${JSON.stringify(PEARSON)}`,
    '    tolerance: { rel: 0.01 }',
    '    expect:',
    '      final.l1: { expected: 0.5, tolerance: { abs: 1.0e-6 } }',
    '      gap.modes[1]: null',
  ];
  return lines.map((l) => {
    for (const [marker, replacement] of Object.entries(patch)) if (l.includes(marker)) return replacement;
    return l;
  }).join('\n') + '\n';
}

function errorOf(text: string, file = 'baselines/rates.yaml'): InputError {
  try {
    parseBaselinesText(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const err = e as InputError;
    expect(err.exitCode).toBe(EXIT.badInput);
    expect(err.message).not.toContain('\n');
    return err;
  }
  throw new Error('expected an InputError');
}

describe('valid baselines', () => {
  it('resolves cases, quantities and tolerances (quantity over case over file)', () => {
    const { baselines: b } = parseBaselinesText(baselines(), '/x/rates.yaml');
    expect(b.cases.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(b.cases[0]!.scenarioPath).toBe(PEARSON);
    expect(b.cases[1]!.set).toEqual(['noise.eta=0.05']);
    const [l1, mode] = b.cases[2]!.checks;
    expect(l1!.tolerance).toEqual({ abs: 1e-6 });
    expect(l1!.expected).toBe(0.5);
    expect(l1!.docPath).toEqual(['cases', 2, 'expect', 'final.l1', 'expected']);
    expect(mode!.quantity).toEqual({ kind: 'gap', name: 'gap.modes[1]', mode: 1 });
    expect(mode!.tolerance).toEqual({ rel: 0.01 });
    expect(mode!.expected).toBeNull();
    expect(b.cases[0]!.checks[0]!.tolerance).toEqual({ rel: 1e-3 });
    expect(b.cases[1]!.checks[1]!.expected).toBe('converging');
  });

  it('resolves scenario paths against the baselines file, not the working directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fpsolve-check-'));
    writeFileSync(join(dir, 's.yaml'), 'name: s\nlandscape: { expr: "x^2 + 1" }\ndomain: { bounds: [[-1, 1]], cells: [10] }\nnoise: { model: additive, D: 1 }\ninitial: { uniform: {} }\ntime: { end: 1, reportEvery: 0.5 }\n');
    writeFileSync(join(dir, 'b.yaml'), 'tolerance: { abs: 0 }\ncases:\n  - { name: s, scenario: s.yaml, expect: { regime: converging } }\n');
    expect(loadBaselines(join(dir, 'b.yaml')).baselines.cases[0]!.scenarioPath).toBe(join(dir, 's.yaml'));
  });
});

describe('malformed baselines: one line naming the file and the entry, exit 2', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['a tolerance that is not a number', { 'tolerance: { rel: 0.01 }': '    tolerance: { rel: x }' }, 'baselines/rates.yaml: cases[2].tolerance.rel: must be a number ≥ 0 (got "x")'],
    ['a negative tolerance', { 'abs: 1.0e-6': '      final.l1: { expected: 0.5, tolerance: { abs: -1 } }' }, 'baselines/rates.yaml: cases[2].expect["final.l1"].tolerance.abs: must be a number ≥ 0 (got -1)'],
    ['an empty tolerance', { 'rel: 1.0e-3': 'tolerance: {}' }, 'baselines/rates.yaml: tolerance: must give rel, abs or both (got {})'],
    ['an unknown field', { 'set: [': '    sett: ["noise.eta=0.05"]' }, 'baselines/rates.yaml: cases[1].sett: unknown field (allowed here: name, scenario, set, runArgs, tolerance, expect)'],
    ['a misspelt field', { 'name: a': '  - name: a\n    scenarioo: x' }, 'baselines/rates.yaml: cases[0].scenarioo: unknown field'],
    ['a missing field', { 'rates.chi: 1.0': '' }, 'baselines/rates.yaml: cases[0]: required field "expect" is missing'],
    ['an expected value that is a list', { 'rates.kl: 2.0': '      rates.kl: [2.0]' }, 'baselines/rates.yaml: cases[1].expect["rates.kl"]: must be a number, a regime name, null (not recorded yet) or { expected, tolerance } (got [2])'],
    ['a long form without expected', { 'final.l1': '      final.l1: { tolerance: { abs: 1 } }' }, 'baselines/rates.yaml: cases[2].expect["final.l1"]: required field "expected" is missing'],
    ['an unknown quantity', { 'rates.chi: 1.0': '    expect: { rates.chii: 1.0 }' }, 'baselines/rates.yaml: cases[0].expect["rates.chii"]: unknown quantity (allowed: rates.chi, rates.kl, rates.meanLoss, final.l1,'],
    ['a regime that is not one', { 'regime: converging': '      regime: convergent' }, 'baselines/rates.yaml: cases[1].expect.regime: must be one of converging, collapsing, undecided (or null, not recorded yet) (got "convergent")'],
    ['a number quantity with a string', { 'rates.kl: 2.0': '      rates.kl: fast' }, 'baselines/rates.yaml: cases[1].expect["rates.kl"]: must be a number (or null, not recorded yet) (got "fast")'],
    ['a duplicate name', { 'name: c': '  - name: a' }, 'baselines/rates.yaml: cases[2].name: duplicate case name "a" (also cases[0])'],
    ['no tolerance anywhere', { 'rel: 1.0e-3': '', 'tolerance: { rel: 0.01 }': '' }, 'baselines/rates.yaml: cases[0].expect["rates.chi"]: has no tolerance'],
    ['an empty case list', { 'cases:': 'cases: []', '  - name': '', '    ': '', '      ': '' }, 'baselines/rates.yaml: cases: must list at least one entry'],
    ['an expected value of the wrong type in the long form', { 'final.l1': '      final.l1: { expected: [1] }' }, 'baselines/rates.yaml: cases[2].expect["final.l1"].expected: must be a number, a string or null (got [1])'],
  ];
  it.each(cases)('%s', (_what, patch, want) => {
    expect(errorOf(baselines(patch)).message.startsWith(want), errorOf(baselines(patch)).message).toBe(true);
  });

  it('a scenario file that does not exist', () => {
    // The second case's scenario line (all three are alike, so patch by position).
    const lines = baselines().split('\n');
    lines[7] = '    scenario: nowhere.yaml';
    expect(errorOf(lines.join('\n'), '/tmp/b.yaml').message).toMatch(/^\/tmp\/b\.yaml: cases\[1\]\.scenario: no such file \/tmp\/nowhere\.yaml /);
  });

  it('a bad override names the case and the scenario field', () => {
    const msg = errorOf(baselines({ 'set: [': '    set: ["noise.eta=-1"]' })).message;
    expect(msg.startsWith('baselines/rates.yaml: cases[1]: "b": ')).toBe(true);
    expect(msg).toContain("field 'noise.eta'");
  });

  it('YAML syntax errors give the line', () => {
    expect(errorOf('cases:\n  - name: [a\n').message).toMatch(/^baselines\/rates\.yaml: malformed YAML at line \d+, column \d+: /);
  });

  it('an empty file', () => {
    expect(errorOf('# nothing\n').message).toBe('baselines/rates.yaml: the file is empty; it must hold a mapping with a `cases` list');
  });

  it('a missing file', () => {
    expect(() => loadBaselines('/nonexistent/rates.yaml')).toThrow('/nonexistent/rates.yaml: no such baselines file');
  });
});

describe('entry paths in messages', () => {
  it('brackets indices and keys with dots', () => {
    expect(formatPath(['cases', 2, 'expect', 'rates.chi', 'tolerance', 'rel'])).toBe('cases[2].expect["rates.chi"].tolerance.rel');
    expect(formatPath(['cases', '10', 'name'])).toBe('cases[10].name');
    expect(formatPath([])).toBe('');
  });
});

describe('quantities', () => {
  it('parses every documented name and rejects the rest', () => {
    for (const n of ['rates.chi', 'rates.kl', 'rates.meanLoss', 'final.l1', 'final.kl', 'final.chi2', 'final.meanLoss', 'final.massBelowDelta', 'regime', 'gap']) {
      expect(parseQuantity(n)?.name).toBe(n);
    }
    expect(parseQuantity('gap.modes[0]')).toEqual({ kind: 'gap', name: 'gap.modes[0]', mode: 0 });
    for (const n of ['rates', 'rates.value', 'final', 'gap.modes', 'gap.modes[-1]', 'gap.modes[01]', 'gap.modes[x]', 'Regime', 'rates.chi.value']) {
      expect(parseQuantity(n), n).toBeUndefined();
    }
  });

  // A minimal report: only the fields the extractor reads matter.
  const report = (extra: Partial<RunReport>): RunReport =>
    ({
      regime: 'converging',
      rates: { chi: { value: 0.99, window: [1, 2], r2: 1, points: 5 }, kl: null, meanLoss: null },
      final: { t: 1, mass: 1, minDensity: 0, meanLoss: 0.13, l1: 2e-4, kl: 3e-8, chi2: null, log10Chi2: 400, massBelowDelta: 0.8 },
      ...extra,
    }) as RunReport;

  it('reads rates, finals and the regime off a report', () => {
    const r = report({});
    expect(extractQuantity(r, parseQuantity('rates.chi')!)).toEqual({ ok: true, value: 0.99 });
    expect(extractQuantity(r, parseQuantity('final.l1')!)).toEqual({ ok: true, value: 2e-4 });
    expect(extractQuantity(r, parseQuantity('regime')!)).toEqual({ ok: true, value: 'converging' });
  });

  it('says why a quantity is missing instead of comparing against nothing', () => {
    const r = report({});
    const kl = extractQuantity(r, parseQuantity('rates.kl')!);
    expect(kl.ok).toBe(false);
    expect(!kl.ok && kl.reason).toContain('fitted no rates.kl');
    // χ² overflowed: report.json writes it as null.
    const chi2 = extractQuantity(r, parseQuantity('final.chi2')!);
    expect(!chi2.ok && chi2.reason).toContain('final.chi2 is null');
    // A rate the fit refused carries the fit's reason, not the generic "too few points".
    const refused = extractQuantity(report({ rateRefusals: { kl: 'poor fit (r² = 0.93 < 0.99)' } }), parseQuantity('rates.kl')!);
    expect(!refused.ok && refused.reason).toBe('the run fitted no rates.kl (poor fit (r² = 0.93 < 0.99))');
  });

  it('a report without a gap gives a clear message, not a crash', () => {
    const none = extractQuantity(report({}), parseQuantity('gap')!);
    expect(none).toEqual({ ok: false, reason: expect.stringContaining('this run report has no gap') });
    const off = extractQuantity(report({ gap: null, notes: ['gap: not computed (no convergence)'] }), parseQuantity('gap.modes[0]')!);
    expect(!off.ok && off.reason).toBe('this run report has no gap (the estimator failed: not computed (no convergence))');
  });

  it('gap is λ₁ = gap.value and gap.modes[i] is modes[i] (λ_{i+1})', () => {
    const gap = { value: 1.0, modes: [1.0, 1.5], residuals: [0, 0], method: 'test', iterations: 1, relativeAccuracy: 0, extrapolated: null, label: 'spectral gap' as const, rateRatio: null, notes: [] };
    const r = report({ gap });
    expect(extractQuantity(r, parseQuantity('gap')!)).toEqual({ ok: true, value: 1.0 });
    expect(extractQuantity(r, parseQuantity('gap.modes[1]')!)).toEqual({ ok: true, value: 1.5 });
    const far = extractQuantity(r, parseQuantity('gap.modes[2]')!);
    expect(!far.ok && far.reason).toContain('gap.modes[2] is λ3, but this run report holds 2 mode(s)');
  });
});
