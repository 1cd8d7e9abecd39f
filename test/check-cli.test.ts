/**
 * `fpsolve check` end to end, as CI runs it: the project's own regression gate on the bundled
 * baselines, and the acceptance tests (perturb → exit 1 with JUnit naming the case;
 * --update → passes with the comments kept; malformed → one line, exit 2).
 *
 * Needs the built CLI (dist/, from `npx tsc -p .`, which `npm test` runs first).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { fpsolve } from './helpers/cli.js';
import { parse as parseYaml } from 'yaml';

const ROOT = join(import.meta.dirname, '..');
const PEARSON = join(ROOT, 'scenarios', 'pearson-1d.yaml');


interface JunitCase {
  classname: string;
  name: string;
  failure?: { message: string; type: string; '#text': string };
}
function junitCases(file: string): JunitCase[] {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', htmlEntities: true, isArray: (n) => n === 'testcase' });
  return parser.parse(readFileSync(file, 'utf8')).testsuites.testsuite.testcase as JunitCase[];
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'fpsolve-check-'));

describe("the project's regression gate: baselines/rates.yaml", () => {
  it('passes on this code (exit 0), every quantity within its tolerance', () => {
    const junit = join(tmp(), 'reports', 'fpsolve.xml');
    const r = fpsolve(['check', 'baselines/rates.yaml', '--junit', junit, '--jobs', '2']);
    expect(r.stderr).not.toContain('FAILED');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const cases = junitCases(junit);
    expect(new Set(cases.map((c) => c.classname))).toEqual(new Set(['pearson-1d', 'gbm-collapse-1d', 'ou-2d', 'double-well-1d', 'double-well-2d']));
    expect(cases.filter((c) => c.failure)).toEqual([]);
    expect(r.stdout).toMatch(/5 case\(s\), \d+ quantities, 5 run\(s\) in [\d.]+ s: \d+ passed\n$/);
  });

  it('holds values that agree with the exact results they approximate', () => {
    type Entry = number | string | { expected: number };
    const doc = parseYaml(readFileSync(join(ROOT, 'baselines', 'rates.yaml'), 'utf8')) as { cases: { name: string; expect: Record<string, Entry> }[] };
    const v = (name: string, q: string): number | string => {
      const e = doc.cases.find((c) => c.name === name)!.expect[q]!;
      return typeof e === 'object' ? e.expected : e;
    };
    // docs/oracles.md §1 (Pearson, b = 0.5, ησ = 1): gap 2b = 1, so χ = ‖ρ/π − 1‖ decays at 1 and
    // KL ≈ χ²/2 at 2; E θ² relaxes at λ₂ = b(4 − ησ) = 1.5. The box [−10, 10] shifts these slightly.
    expect(v('pearson-1d', 'rates.chi')).toBeCloseTo(1, 1);
    expect(Math.abs((v('pearson-1d', 'rates.chi') as number) - 1)).toBeLessThan(0.01);
    expect(Math.abs((v('pearson-1d', 'rates.kl') as number) - 2)).toBeLessThan(0.02);
    expect(Math.abs((v('pearson-1d', 'rates.meanLoss') as number) - 1.5)).toBeLessThan(0.03);
    // docs/oracles.md §2 (GBM, ησ = 1): E f decays at 2 − ησ/2 = 1.5 and the law collapses.
    expect(Math.abs((v('gbm-collapse-1d', 'rates.meanLoss') as number) - 1.5)).toBeLessThan(0.015);
    expect(v('gbm-collapse-1d', 'regime')).toBe('collapsing');
    // docs/oracles.md §3 (OU, k = (1, 2)): gap min k = 1; E f relaxes at 2κ₁ = 2 (the squared mean along x). 64² grid.
    expect(Math.abs((v('ou-2d', 'rates.chi') as number) - 1)).toBeLessThan(0.01);
    expect(Math.abs((v('ou-2d', 'rates.meanLoss') as number) - 2)).toBeLessThan(0.02);
    // docs/oracles.md §5 (Mori et al.): symmetric double well, λ₁ ≈ 2κ; scenarios/double-well-1d.yaml quotes ≈ 5e-3.
    expect(v('double-well-1d', 'rates.chi') as number).toBeGreaterThan(3e-3);
    expect(v('double-well-1d', 'rates.chi') as number).toBeLessThan(8e-3);
    for (const c of ['pearson-1d', 'ou-2d', 'double-well-1d', 'double-well-2d']) expect(v(c, 'regime')).toBe('converging');
    // Spectral gaps λ₁ (report.gap.value): docs/oracles.md §1 gap 2b = 1 (a box shift of a few 1e-4 here);
    // §3 gap min k = 1 (64² grid: within 1%).
    expect(Math.abs((v('pearson-1d', 'gap') as number) - 1)).toBeLessThan(1e-3);
    expect(Math.abs((v('ou-2d', 'gap') as number) - 1)).toBeLessThan(0.01);
    // An independent method: the long-time χ rate of a converging run is λ₁ (docs/design.md §4), here
    // fitted over t ∈ [5, 1000] from the time series, against the eigen-solver's λ₁ on the same grid.
    expect(Math.abs((v('double-well-1d', 'gap') as number) / (v('double-well-1d', 'rates.chi') as number) - 1)).toBeLessThan(1e-3);
    // 2-D double well: barrier hopping is far slower than the in-well relaxation (scenario comment: λ₁ ≈ 1e-5).
    expect(v('double-well-2d', 'gap') as number).toBeGreaterThan(3e-6);
    expect(v('double-well-2d', 'gap') as number).toBeLessThan(3e-5);
  });
});

describe('acceptance: perturb, then --update', () => {
  it('a perturbed case exits 1 with JUnit naming it; --update makes it pass and keeps the comments', () => {
    const dir = tmp();
    const file = join(dir, 'rates.yaml');
    const header = ['# Baselines for the acceptance test.', '# Recorded by --update; review the diff.'];
    const lines = [
      ...header,
      'tolerance: { rel: 1.0e-3 }  # rates are deterministic',
      'cases:',
      '  # coarse Pearson run',
      '  - name: pearson',
      `    scenario: ${JSON.stringify(PEARSON)}`,
      '    set: ["domain.cells=[400]", "time.end=6"]',
      '    expect:',
      '      rates.meanLoss: null  # E θ² relaxation, λ₂ = b(4 − ησ)',
      '      rates.chi: null',
      '      final.l1: { expected: null, tolerance: { rel: 5.0e-3 } }',
      '      regime: null',
      '',
    ];
    writeFileSync(file, lines.join('\n'));

    // Record the baseline (the bundled file was made the same way).
    const rec = fpsolve(['check', file, '--allow-outside', '--update', '-q']);
    expect(rec.code, rec.stdout + rec.stderr).toBe(0);
    expect(rec.stdout).toContain('4 value(s) recorded, 0 within tolerance kept');
    const recorded = parseYaml(readFileSync(file, 'utf8')) as { cases: { expect: Record<string, unknown> }[] };
    const before = recorded.cases[0]!.expect['rates.meanLoss'] as number;
    // docs/oracles.md §1: λ₂ = b(4 − ησ) = 0.5·(4 − 1) = 1.5 (box and grid shift it by about 1%).
    expect(Math.abs(before - 1.5)).toBeLessThan(0.03);

    // Perturb: eta 0.1 → 0.12 (ησ = 1.2).
    const perturbed = readFileSync(file, 'utf8').replace('"time.end=6"]', '"time.end=6", "noise.eta=0.12"]');
    writeFileSync(file, perturbed);
    const junit = join(dir, 'out', 'junit.xml');
    const bad = fpsolve(['check', file, '--allow-outside', '--junit', junit, '-q']);
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stdout).toMatch(/pearson\s+rates\.meanLoss\s.*FAIL/);
    const cases = junitCases(junit);
    expect(cases.map((c) => c.name)).toEqual(['pearson: rates.meanLoss', 'pearson: rates.chi', 'pearson: final.l1', 'pearson: regime']);
    const failing = cases.find((c) => c.name === 'pearson: rates.meanLoss')!;
    expect(failing.classname).toBe('pearson');
    expect(failing.failure?.type).toBe('regression');
    const m = /expected (\S+), got (\S+):/.exec(failing.failure!.message);
    expect(m, failing.failure!.message).not.toBeNull();
    expect(Number(m![1])).toBe(before);
    // docs/oracles.md §1 with ησ = 1.2: λ₂ = 0.5·(4 − 1.2) = 1.4; heavier tails feel the box more (≈ 4%).
    const gotRate = Number(m![2]);
    expect(Math.abs(gotRate - 1.4) / 1.4).toBeLessThan(0.05);
    expect(failing.failure!['#text']).toContain(`expected: ${before}`);
    expect(failing.failure!['#text']).toContain(`got: ${gotRate}`);

    // --update records the new values, and only those change.
    const upd = fpsolve(['check', file, '--allow-outside', '--update', '-q']);
    expect(upd.code, upd.stdout + upd.stderr).toBe(0);
    expect(upd.stdout).toMatch(/pearson rates\.meanLoss: [\d.]+ -> 1\.4\d+/);
    const after = readFileSync(file, 'utf8');
    // Everything but the expected values is byte for byte what it was: comments, spelling, order.
    const masked = (text: string): string[] =>
      text.split('\n').map((l) => l.replace(/^(\s+(?:rates\.\w+|final\.\w+|regime): )(?!\{)\S+/, '$1<v>').replace(/(expected: )[^,}\s]+/, '$1<v>'));
    expect(masked(after)).toEqual(masked(perturbed));
    expect(after).not.toBe(perturbed);
    for (const h of header) expect(after).toContain(h);
    expect(after).toContain('# E θ² relaxation, λ₂ = b(4 − ησ)');
    expect(after).toContain('tolerance: { rel: 1.0e-3 }  # rates are deterministic');
    const again = fpsolve(['check', file, '--allow-outside', '-q']);
    expect(again.code, again.stdout).toBe(0);
  });
});

describe('failures that are not regressions of a value', () => {
  it('a malformed baselines file: one line naming the file and the entry, exit 2, no runs', () => {
    const file = join(tmp(), 'rates.yaml');
    writeFileSync(file, `tolerance: { rel: 1.0e-3 }\ncases:\n  - { name: a, scenario: ${JSON.stringify(PEARSON)}, expect: { rates.chi: 1 } }\n  - { name: b, scenario: ${JSON.stringify(PEARSON)}, expect: { rates.chi: 1 } }\n  - { name: c, scenario: ${JSON.stringify(PEARSON)}, tolerance: { rel: x }, expect: { rates.chi: 1 } }\n`);
    const r = fpsolve(['check', file, '--allow-outside']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`fpsolve: ${file}: cases[2].tolerance.rel: must be a number ≥ 0 (got "x")\n`);
  });

  it('--only with an unknown case is bad input', () => {
    const r = fpsolve(['check', 'baselines/rates.yaml', '--only', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fpsolve: baselines\/rates\.yaml: --only "nope": no such case \(cases: pearson-1d, /);
  });

  it('a run that fails numerically, or lacks the quantity, is a regression (exit 1), reported with its reason', () => {
    const dir = tmp();
    const file = join(dir, 'b.yaml');
    writeFileSync(
      file,
      [
        'tolerance: { rel: 1.0e-3 }',
        'cases:',
        // An explicit step 50× over the positivity limit: the run stops with a negative density.
        '  - name: unstable',
        `    scenario: ${JSON.stringify(PEARSON)}`,
        '    set: ["domain.cells=[200]", "time.end=1", "time.integrator=explicit", "time.dt=0.01"]',
        '    expect: { rates.chi: 1.0 }',
        // runArgs reach `fpsolve run`: without the gap estimator the report has no gap.
        '  - name: no-gap',
        `    scenario: ${JSON.stringify(PEARSON)}`,
        '    set: ["domain.cells=[200]", "time.end=2"]',
        '    runArgs: ["--no-gap"]',
        '    expect: { gap: 1.0 }',
        '',
      ].join('\n'),
    );
    const junit = join(dir, 'j.xml');
    const r = fpsolve(['check', file, '--allow-outside', '--junit', junit, '-q']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/unstable\s+rates\.chi\s.*ERROR/);
    const [unstable, noGap] = junitCases(junit);
    expect(unstable!.failure?.type).toBe('run-error');
    expect(unstable!.failure?.message).toContain('negative density');
    expect(noGap!.name).toBe('no-gap: gap');
    expect(noGap!.failure?.message).toContain('this run report has no gap');
  });
});
