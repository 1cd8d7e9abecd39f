/**
 * Issue #16, second round (engineer "fixinput"): the attacker's failures that got past the first
 * round. Each is refused in one line with a documented exit code, never a hang, a stack trace or
 * a terminal escape. Quick cases go through runCli (in process); those whose regression would be
 * a hang go through the built CLI, whose timeout then turns the hang into a failure.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { escapeControls, InputError, MAX_ECHO } from '../src/errors.js';
import { MAX_MESSAGE } from '../src/cli/commands/shared.js';
import { checkStepBudget, MAX_RKL2_WORK } from '../src/run/budget.js';
import { parseOverride, parseScenarioText, SCENARIO_SHAPE } from '../src/scenario/load.js';
import { setUp } from '../src/run/run.js';
import { initialDensity } from '../src/run/initial.js';
import { DeviceExponential, exponentialCgSettings } from '../solvers/backend/exponential.js';
import { DeviceTrBdf2 } from '../solvers/backend/implicit.js';
import { cpuBackend, RKL2_DEFAULT_STEP_FACTOR } from '../solvers/backend/choose.js';
import { fpsolve } from './helpers/cli.js';

const CLI_TIMEOUT = 60_000;

/** The base scenario: 200-cell 1-D c + b x² (docs/oracles.md §1 Pearson), multiplicative noise. */
const BASE = [
  'name: hostile2',
  'landscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }',
  'domain: { bounds: [[-10, 10]], cells: [200] }',
  'noise: { model: multiplicative, eta: 0.1, sigma: 10 }',
  'initial: { gaussian: { mean: [1.5], std: [0.2] } }',
  'time: { end: 1, reportEvery: 0.1 }',
  '',
].join('\n');

function tmpFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fpsolve-hostile2-'));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
const baseFile = tmpFile('base.yaml', BASE);

const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** The exit-code table's promise: the code, exactly one line on stderr, no stack, no raw control character. */
function expectOneLine(r: { stderr: string }, what: string): string {
  const lines = r.stderr.split('\n');
  expect(lines.at(-1), `${what}: ${r.stderr.slice(0, 300)}`).toBe('');
  expect(lines, `${what}: ${r.stderr.slice(0, 300)}`).toHaveLength(2);
  const line = lines[0]!;
  expect(line).not.toMatch(/\n\s+at |Error:|Maximum call stack|Warning/);
  expect(line).not.toMatch(RAW_CONTROL);
  return line;
}

async function refusedInProcess(args: string[]): Promise<string> {
  const r = await runCli(args);
  expect(r.exitCode, `fpsolve ${args.join(' ').slice(0, 200)}: ${r.stderr.slice(0, 300)}`).toBe(2);
  return expectOneLine(r, args.join(' ').slice(0, 100));
}

function refusedBuilt(args: string[]): string {
  const r = fpsolve(args, { timeoutMs: CLI_TIMEOUT });
  expect(r.code, `fpsolve ${args.join(' ').slice(0, 200)}: ${r.stderr.slice(0, 300)}`).toBe(2);
  return expectOneLine(r, args.join(' ').slice(0, 100));
}

describe('F1: RKL2 without time.dt is budgeted (its default step is min(reportEvery, 104.5 × the explicit limit))', () => {
  const limitOf = (overrides: string[]): number => setUp(parseScenarioText(BASE, 'base.yaml', overrides)).op.explicitLimit();

  it('the budget decision equals the stencil-pass count computed here from the default step, both sides of the cap', () => {
    for (const [end, every] of [
      [1e308, 1e304],
      [1e5, 1],
      [1, 0.1],
      [1e3, 10],
    ] as const) {
      const overrides = ['time.integrator=rkl2', `time.end=${end}`, `time.reportEvery=${every}`];
      const loaded = parseScenarioText(BASE, 'base.yaml', overrides);
      const limit = limitOf(overrides);
      // The step select.ts takes, and the stages (s² + s − 2)/4 · limit ≥ dt asks for.
      const dt = Math.min(every, ((20 * 20 + 20 - 2) / 4) * limit);
      const stages = Math.max(2, 2 * Math.sqrt(dt / limit));
      const passes = (end / dt) * stages;
      const refused = (() => {
        try {
          checkStepBudget(loaded, limit);
          return false;
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          expect((e as InputError).field).toBe('time.integrator');
          expect((e as Error).message).not.toMatch(/Infinity|NaN/);
          return true;
        }
      })();
      expect(refused, `end ${end}, reportEvery ${every}: ${passes.toExponential(2)} passes`).toBe(!(passes <= MAX_RKL2_WORK));
    }
    expect(RKL2_DEFAULT_STEP_FACTOR).toBe(104.5);
  });

  it('auto is budgeted as RKL2 when the backend is float32, as TR-BDF2 (unbounded steps) otherwise', () => {
    const loaded = parseScenarioText(BASE, 'base.yaml', ['time.end=1e308', 'time.reportEvery=1e304']);
    const limit = limitOf([]);
    expect(() => checkStepBudget(loaded, limit)).not.toThrow();
    expect(() => checkStepBudget(loaded, limit, { integrator: 'rkl2', backend: 'webasm' })).toThrow(/integrator auto, which is RKL2 on webasm/);
  });

  it('validate and run exit 2 in one line instead of running forever (the issue\'s three repros, through the built CLI)', () => {
    const huge = ['--set', 'time.integrator=rkl2', '--set', 'time.end=1e308', '--set', 'time.reportEvery=1e304'];
    expect(refusedBuilt(['validate', baseFile, ...huge])).toMatch(/field 'time\.integrator': RKL2 would take more than 1e308 steps/);
    const out = mkdtempSync(join(tmpdir(), 'fpsolve-hostile2-out-'));
    expect(refusedBuilt(['run', baseFile, ...huge, '--out', out, '-q'])).toMatch(/RKL2 would take/);
    const big = ['--set', 'time.integrator=rkl2', '--set', 'landscape.expr=123456789012345678901234567890 + x^2', '--set', 'landscape.params={}'];
    expect(refusedBuilt(['run', baseFile, ...big, '--out', out, '-q'])).toMatch(/stencil passes, at most 1\.00e\+10/);
  }, 3 * CLI_TIMEOUT);
});

describe('F4/F5: --set paths are limited to the scenario nesting depth before anything is built', () => {
  it('64 segments parse, 65 do not, and the count in the message is the number of segments', () => {
    const path = (n: number): string => ['description', ...Array.from({ length: n - 1 }, () => 'a')].join('.');
    expect(parseOverride(`${path(SCENARIO_SHAPE.maxDepth)}=1`).path).toHaveLength(SCENARIO_SHAPE.maxDepth);
    for (const n of [SCENARIO_SHAPE.maxDepth + 1, 8002, 65_001]) {
      expect(() => parseOverride(`${path(n)}=1`)).toThrow(new RegExp(`the path has ${n} segments, at most 64`));
    }
  });

  it('validate, sweep --set and a baselines case set: entry with 8000 segments exit 2 in one line (was exit 70, stack overflow)', async () => {
    const deep = `description.${'0.'.repeat(8000)}0`;
    expect(await refusedInProcess(['validate', baseFile, '--set', `${deep}=1`])).toMatch(/8002 segments, at most 64/);
    expect(await refusedInProcess(['sweep', baseFile, '--dry-run', '--set', `${deep}=1,2`])).toMatch(/bad scenario path .*at most 64 segments/);
    const baselines = tmpFile('b.yaml', `tolerance: { rel: 0.1 }\ncases:\n  - name: deep\n    scenario: base.yaml\n    set: ["${deep}=1"]\n    expect:\n      rates.chi: 1\n`);
    writeFileSync(join(baselines, '..', 'base.yaml'), BASE);
    expect(await refusedInProcess(['check', baselines])).toMatch(/8002 segments, at most 64/);
  });

  it('three 65 000-segment paths are refused together, each message bounded (was 42 s each)', async () => {
    const long = `${'a.'.repeat(65_000)}b=1`;
    const line = await refusedInProcess(['validate', baseFile, '--set', long, '--set', long, '--set', long]);
    expect(line.length).toBeLessThan(400);
  });
});

describe('F6: check --timeout is bounded by what a Node timer can hold (2³¹ − 1 ms)', () => {
  it('2 200 000 s is refused naming --timeout and the range; 2 147 483 s passes the option parser', async () => {
    const baselines = tmpFile('b.yaml', 'cases: []\n');
    expect(await refusedInProcess(['check', baselines, '--timeout', '2200000'])).toMatch(/--timeout.*in \(0, 2147483\]/);
    expect(Math.floor((2 ** 31 - 1) / 1000)).toBe(2147483);
    // The largest allowed value gets past the parser: the refusal is then about the file, not the option.
    const r = await runCli(['check', join(baselines, '..', 'missing.yaml'), '--timeout', '2147483']);
    expect(r.stderr).not.toMatch(/--timeout/);
  });
});

describe('F8/F10: echoed user text is escaped and bounded', () => {
  it("a YAML key with a newline and a terminal escape gives one line with the escapes spelled out", async () => {
    const file = tmpFile('bad.yaml', `${BASE}"bad\\nkey\\u001b[31mRED": 1\n`);
    const line = await refusedInProcess(['validate', file]);
    expect(line).toContain('bad\\nkey\\u001b[31mRED');
  });

  it('any key with control characters: one line, no raw control character, the escaped key present (property)', async () => {
    const ctrl = fc.constantFrom('\n', '\r', '\t', '\u001b', '\u0000', '\u0085', '\u2028', '\u007f');
    const key = fc.array(fc.oneof(ctrl, fc.constantFrom('a', 'Z', '[', '3', 'm')), { minLength: 1, maxLength: 12 }).map((a) => `k${a.join('')}`);
    await fc.assert(
      fc.asyncProperty(key, async (k) => {
        // A scenario (landscape and domain present) with one unknown key, so the key is named (escaped);
        // a file of foreign keys is refused as "not a scenario file" without naming any (test/hostile-leaks).
        const file = tmpFile('k.json', JSON.stringify({ name: 'p', landscape: { expr: 'x^2' }, domain: { bounds: [[0, 1]], cells: [4] }, [k]: 1 }));
        const r = await runCli(['validate', file]);
        expect(r.exitCode).toBe(2);
        const line = expectOneLine(r, JSON.stringify(k));
        // Independent of the printer: escapeControls spelled out here as JSON's escapes for C0, \\uXXXX otherwise.
        const expected = [...k].map((c) => (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(c) ? (JSON.stringify(c).length === 4 ? JSON.stringify(c).slice(1, -1) : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : c)).join('');
        expect(escapeControls(k)).toBe(expected);
        expect(line).toContain(expected);
      }),
      { numRuns: 25, seed: 16 },
    );
  });

  it('a 100 000-character --set value and a 50 000-character param name give short lines', async () => {
    const a = 'a'.repeat(100_000);
    const line = await refusedInProcess(['validate', baseFile, '--set', `name=${a}`]);
    // The value shown once, cut, and the --set argument once, cut to MAX_ECHO.
    expect(line.length).toBeLessThan(400);
    expect(line).toContain(`(from --set name=${'a'.repeat(MAX_ECHO - 5)}`);
    const q = 'q'.repeat(50_000);
    const line2 = await refusedInProcess(['validate', baseFile, '--set', `landscape.params.${q}=1`]);
    expect(line2.length).toBeLessThanOrEqual(MAX_MESSAGE + 'fpsolve: '.length + 1);
  });
});

describe('F9: settings that can never step are refused up front', () => {
  it.each([
    [['time.integrator=exponential', 'time.dt=5e-324'], /field 'time\.dt': must be a number >= 1e-300/],
    [['time.integrator=exponential', 'time.end=5e-324', 'time.reportEvery=5e-324'], /field 'time\.(end|reportEvery)': must be a number >= 1e-300/],
    [['time.integrator=backward-euler', 'time.end=5e-324'], /field 'time\.end': must be a number >= 1e-300/],
    [['time.tolerance=1e-300'], /field 'time\.tolerance': must be a number >= 1e-14 and <= 0\.1/],
    [['time.integrator=exponential', 'time.tolerance=1e-15'], /field 'time\.tolerance'/],
  ])('%j', async (sets, msg) => {
    const args = ['validate', baseFile, ...sets.flatMap((s) => ['--set', s])];
    expect(await refusedInProcess(args)).toMatch(msg);
  });

  it('the floors themselves run: tolerance 1e-14 (TR-BDF2) and time.end = reportEvery = 1e-300 (exponential) exit 0', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fpsolve-hostile2-out-'));
    for (const sets of [
      ['time.tolerance=1e-14', 'time.end=0.1'],
      ['time.integrator=exponential', 'time.end=1e-300', 'time.reportEvery=1e-300'],
    ]) {
      const r = await runCli(['run', baseFile, ...sets.flatMap((s) => ['--set', s]), '--no-gap', '-q', '--out', join(out, sets.join('_'))]);
      expect(r.exitCode, r.stderr).toBe(0);
    }
  }, 60_000);

  it('the exponential integrator given a subnormal first interval matches TR-BDF2 at tolerance 1e-10 (was NaN)', async () => {
    const loaded = parseScenarioText(BASE, 'base.yaml');
    const { op, grid } = setUp(loaded);
    const rho0 = initialDensity(grid, loaded.scenario.initial, { file: loaded.file, baseDir: '.' });
    const tol = 1e-6;
    const ex = new DeviceExponential(cpuBackend(op), op, { tolerance: tol, dt0: 5e-324, dtMax: 0.1 }, exponentialCgSettings(tol));
    const tr = new DeviceTrBdf2(cpuBackend(op), op, { tolerance: 1e-10, dtMax: 0.1 }, { tol: 1e-13, maxIterations: 20000 });
    const a = rho0.slice();
    const b = rho0.slice();
    // A subnormal interval is the identity to float64 precision.
    await ex.advance(a, 0, 5e-324);
    expect(Array.from(a)).toEqual(Array.from(rho0));
    await ex.advance(a, 0, 0.1);
    await tr.advance(b, 0, 0.1);
    let d = 0;
    let n = 0;
    for (let i = 0; i < a.length; i++) {
      d += Math.abs(a[i]! - b[i]!);
      n += Math.abs(b[i]!);
    }
    expect(Number.isFinite(d)).toBe(true);
    expect(d / n).toBeLessThan(1e-4);
  });
});
