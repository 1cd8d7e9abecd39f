/**
 * Issue 10 §1: hostile scenario files, --set overrides and .npy inputs, generated and mutated
 * with fast-check. The contract under test (README "Exit codes", docs/reliability.md): every input
 * is either accepted (and then sets up and runs with finite numbers) or rejected by one InputError
 * (exit 2, one line, naming the file and, for scenario content, the field). Any other exception
 * type, a NaN in a result or a hang is a finding.
 *
 * Everything runs in-process (the loader, setUp, a few steps of the run); the CLI is exercised in
 * reliability-cli.test.ts. Seeds are fixed so a CI failure reproduces locally.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { EXIT, InputError } from '../src/errors.js';
import { parseOverride, parseScenarioText } from '../src/scenario/load.js';
import { runScenario, setUp } from '../src/run/run.js';
import { reportJson } from '../src/report/write.js';
import { decodeNpy, encodeNpy } from '../src/io/npy.js';
import { BASE_OVERHEAD_BYTES, type MemoryLimit } from '../src/resources/memory.js';
import type { LoadedScenario } from '../src/scenario/types.js';

const ROOT = join(import.meta.dirname, '..');
const SCENARIOS = join(ROOT, 'scenarios');

/**
 * Small enough that set-up of any accepted scenario stays in the millisecond range: the refusal
 * path (checked before allocation) takes everything above ~10⁴ cells, which is itself under test.
 */
const FUZZ_MEMORY: MemoryLimit = { bytes: BASE_OVERHEAD_BYTES + 4 * 2 ** 20, source: 'the fuzz limit' };

type Outcome = { kind: 'rejected'; err: InputError } | { kind: 'accepted'; loaded: LoadedScenario };

/** Either an accepted scenario or an InputError; anything else is rethrown and fails the property. */
function load(text: string, file: string, overrides: string[] = []): Outcome {
  try {
    return { kind: 'accepted', loaded: parseScenarioText(text, file, overrides) };
  } catch (e) {
    if (e instanceof InputError) return { kind: 'rejected', err: e };
    throw e;
  }
}

/** The InputError contract: exit code 2, one line, starts with the file, names a field when about scenario content. */
function checkRejection(err: InputError, file: string): void {
  expect(err.exitCode).toBe(EXIT.badInput);
  expect(err.message).not.toMatch(/[\n\r]/);
  expect(err.message.length).toBeLessThan(2000);
  expect(err.message).not.toMatch(/\bat .*\.(js|ts):\d+/); // no stack frames smuggled into the message
  expect(err.message).not.toMatch(/\bNaN\b.*undefined|\[object Object\]/);
  if (err.file !== undefined) expect(err.message.startsWith(`${err.file}: `)).toBe(true);
  expect(err.file === undefined || err.file === file, err.message).toBe(true);
  // Parse errors name a line, override errors the --set, content errors a field; a file without the
  // shape of a scenario says so and deliberately names nothing from it (test/hostile-leaks).
  expect(err.field !== undefined || /line \d+|--set|YAML|JSON|mapping|memory|not a scenario file/.test(err.message), err.message).toBe(true);
}

/** Every number in the JSON text of a report is finite (reportJson writes non-finite as null, so look at the source object too). */
function allFinite(value: unknown, path = 'report'): string[] {
  const bad: string[] = [];
  const walk = (v: unknown, p: string): void => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) bad.push(`${p} = ${v}`);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${p}[${i}]`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${p}.${k}`);
  };
  walk(value, path);
  return bad;
}

/**
 * An accepted scenario must set up (or be refused with an InputError: landscape not finite or
 * negative on the grid, over the memory limit) and, when it sets up, run a few steps with finite
 * results. Runs are capped in wall time and report count so the property cannot hang.
 */
async function exercise(loaded: LoadedScenario): Promise<'setup-refused' | 'ran'> {
  if (process.env.FPSOLVE_FUZZ_TRACE) appendFileSync(process.env.FPSOLVE_FUZZ_TRACE, `${performance.now().toFixed(0)} ${JSON.stringify(loaded.scenario)}\n`);
  try {
    setUp(loaded, { memoryLimit: FUZZ_MEMORY, memoryEstimate: { gap: false } });
  } catch (e) {
    if (e instanceof InputError) {
      checkRejection(e, loaded.file);
      return 'setup-refused';
    }
    throw e;
  }
  const s = loaded.scenario;
  // A few report intervals of the scenario's own settings, whatever its end time.
  const time = { ...s.time, end: Math.min(s.time.end, 3 * s.time.reportEvery) };
  const short: LoadedScenario = { ...loaded, scenario: { ...s, time } };
  let result;
  try {
    result = await runScenario(short, { gap: false, maxWallSeconds: 0.1, memoryLimit: FUZZ_MEMORY });
  } catch (e) {
    // Setting up an integrator can refuse a scenario (π beyond float64 for the CG form); still exit 2.
    if (e instanceof InputError) {
      checkRejection(e, loaded.file);
      return 'setup-refused';
    }
    throw e;
  }
  const { report, density } = result;
  expect(['ok', 'failed', 'incomplete']).toContain(report.status);
  if (report.status === 'failed') expect(report.error).toMatch(/step \d+/);
  expect(allFinite(report.series, 'series')).toEqual([]);
  expect(allFinite(report.final, 'final')).toEqual([]);
  expect(reportJson(report)).not.toMatch(/:\s*-?(NaN|Infinity)\b/);
  for (const v of density) if (!Number.isFinite(v)) throw new Error(`non-finite density ${v} in an accepted run`);
  return 'ran';
}

// ---------------------------------------------------------------------------------------------
// Generators: each field is mostly valid, sometimes hostile, so that most cases get deep into
// validation (a purely random document is rejected at the first field).

const hostileScalar = fc.oneof(
  fc.constantFrom(0, -1, -0, 1e308, -1e308, 5e-324, 2 ** 53 + 1, 1e9, 0.5, 2.5, '', 'x', '.nan', '.inf', '-.inf', null, true, '~', '{}', '[]', '__proto__', 'constructor'),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 8 }),
);
const maybe = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 40, arbitrary: good }, { weight: 1, arbitrary: hostileScalar });

const dimArb = fc.integer({ min: 1, max: 3 });
const interval = fc.tuple(fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: 0.01, max: 10, noNaN: true })).map(([lo, w]) => [lo, lo + w]);
const exprFor = (dim: number): fc.Arbitrary<string> => {
  const vars = ['x', 'y', 'z'].slice(0, dim);
  const atom = fc.oneof(fc.constantFrom(...vars), fc.double({ min: -3, max: 3, noNaN: true }).map((v) => `(${v})`), fc.constantFrom('pi', 'e', 'c'));
  const term = fc.oneof(
    atom,
    fc.tuple(fc.constantFrom('sin', 'cos', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'log1p', 'sigmoid', 'floor', 'cbrt'), atom).map(([f, a]) => `${f}(${a})`),
    fc.tuple(atom, fc.constantFrom('^2', '^3', '^0.5', '^-1', '^40')).map(([a, p]) => `${a}${p}`),
  );
  return fc
    .array(fc.tuple(fc.constantFrom('+', '-', '*', '/'), term), { minLength: 1, maxLength: 4 })
    .map((parts) => `c + ${parts.map(([op, t]) => `${op} ${t}`).join(' ')}`.replace('c + +', 'c +'))
    .chain((e) => fc.oneof({ weight: 9, arbitrary: fc.constant(e) }, { weight: 1, arbitrary: fc.constantFrom(`${e} +`, `${e})`, 'import({})', 'x.constructor', `${e}; 1`, `f(x) = ${e}`) }));
};

const scenarioArb = dimArb.chain((dim) =>
  fc.record(
    {
      name: maybe(fc.constantFrom('fuzz', 'a.b-c_1', 'x')),
      landscape: fc.oneof(
        fc.record({ expr: maybe(exprFor(dim)), params: maybe(fc.record({ c: maybe(fc.double({ min: 0, max: 2, noNaN: true })) })) }),
        fc.record({ builtin: maybe(fc.constantFrom('pearson', 'quadratic', 'double-well', 'ou', 'rosenbrock', 'nonesuch', 'toString', '__proto__')) }),
      ),
      domain: fc.record({
        bounds: maybe(fc.array(maybe(interval), { minLength: dim, maxLength: dim })),
        cells: maybe(fc.array(maybe(fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 2, max: 24 }) }, { weight: 1, arbitrary: fc.constantFrom(1, 0, 100000000, 65536, 2.5, -4) })), { minLength: dim, maxLength: dim })),
      }),
      noise: fc.oneof(
        fc.record({ model: maybe(fc.constant('multiplicative')), eta: maybe(fc.double({ min: 1e-3, max: 1, noNaN: true })), sigma: maybe(fc.double({ min: 0.1, max: 20, noNaN: true })), eps: maybe(fc.double({ min: 0, max: 1, noNaN: true })) }, { requiredKeys: ['model', 'eta', 'sigma'] }),
        fc.record({ model: maybe(fc.constant('additive')), D: maybe(fc.double({ min: 1e-3, max: 2, noNaN: true })) }),
      ),
      initial: fc.oneof(
        fc.record({ gaussian: fc.record({ mean: maybe(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: dim, maxLength: dim })), std: maybe(fc.array(fc.double({ min: 0.05, max: 2, noNaN: true }), { minLength: dim, maxLength: dim })) }) }),
        fc.record({ uniform: fc.constant({}) }),
        fc.record({ file: maybe(fc.constantFrom('nope.npy', '/etc/passwd', '.', '../../../../dev/zero')) }),
      ),
      time: fc.record(
        {
          end: maybe(fc.double({ min: 1e-3, max: 5, noNaN: true })),
          reportEvery: maybe(fc.double({ min: 1e-3, max: 1e-3, noNaN: true })),
          integrator: maybe(fc.constantFrom('auto', 'explicit', 'rkl2', 'backward-euler', 'trbdf2')),
          dt: maybe(fc.double({ min: 1e-5, max: 1, noNaN: true })),
          tolerance: maybe(fc.double({ min: 1e-8, max: 0.1, noNaN: true })),
        },
        { requiredKeys: ['end', 'reportEvery'] },
      ),
      diagnostics: maybe(fc.record({ delta: maybe(fc.double({ min: 1e-6, max: 1, noNaN: true })) }, { requiredKeys: [] })),
    },
    { requiredKeys: ['name', 'landscape', 'domain', 'noise', 'initial', 'time'] },
  ),
);

/** Text mutations of real scenario files: the kind of damage editors, merges and truncation do. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(':', '- ', '{', '[', ']', '"', "'", '&a', '*a', '!!js/function', '!!binary', '<<: *a', '\t', '\n', '\n---\n', ' #', '0x1p3', '1e999', '.nan', '__proto__: ', 'constructor: ', '\u0000', '\uFEFF', '%YAML 1.1\n')) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('replaceNumber' as const), at: fc.nat(), text: fc.constantFrom('-1', '0', '1e308', '-0', '2.5', '.inf', '1e-320', '99999999', 'null', '"3"', '[]') }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, m: Mutation): string {
  const at = (n: number): number => (text.length === 0 ? 0 : n % (text.length + 1));
  switch (m.kind) {
    case 'delete':
      return text.slice(0, at(m.at)) + text.slice(at(m.at) + m.len);
    case 'insert':
      return text.slice(0, at(m.at)) + m.text + text.slice(at(m.at));
    case 'truncate':
      return text.slice(0, at(m.at));
    case 'swapLines': {
      const lines = text.split('\n');
      const a = m.a % lines.length;
      const b = m.b % lines.length;
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
    case 'replaceNumber': {
      const nums = [...text.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)];
      if (nums.length === 0) return text;
      const hit = nums[m.at % nums.length]!;
      return text.slice(0, hit.index) + m.text + text.slice(hit.index! + hit[0].length);
    }
  }
}

const shipped = readdirSync(SCENARIOS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => ({ file: f, text: readFileSync(join(SCENARIOS, f), 'utf8') }));

/** FPSOLVE_FUZZ_SCALE=10 for a longer local hunt; CI runs the default counts. */
const SCALE = Number(process.env.FPSOLVE_FUZZ_SCALE ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

const stats = { accepted: 0, rejected: 0, ran: 0, setupRefused: 0 };

describe('scenario fuzz: accepted-and-finite or one InputError, nothing else', () => {
  it('1000 generated scenarios (YAML and JSON)', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, fc.boolean(), async (raw, asJson) => {
        const file = asJson ? 'fuzz.json' : 'fuzz.yaml';
        const text = asJson ? JSON.stringify(raw) : stringifyYaml(raw);
        const out = load(text, file);
        if (out.kind === 'rejected') {
          stats.rejected++;
          checkRejection(out.err, file);
          return;
        }
        stats.accepted++;
        const r = await exercise(out.loaded);
        if (r === 'ran') stats.ran++;
        else stats.setupRefused++;
      }),
      { numRuns: runs(1000), seed: 10_2024, endOnFailure: true },
    );
    if (process.env.FPSOLVE_FUZZ_DEBUG) console.log(stats);
    // The generator must reach the deep paths, or the property says little.
    expect(stats.accepted).toBeGreaterThan(runs(50));
    expect(stats.ran).toBeGreaterThan(runs(20));
    expect(stats.rejected).toBeGreaterThan(runs(300));
  });

  it('600 mutations of the shipped scenarios', async () => {
    expect(shipped.length).toBeGreaterThanOrEqual(5);
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: shipped.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (which, ms) => {
        const base = shipped[which]!;
        const text = ms.reduce(mutate, base.text);
        const out = load(text, base.file);
        if (out.kind === 'rejected') {
          checkRejection(out.err, base.file);
          return;
        }
        accepted++;
        // Shipped grids are large; shrink them so set-up stays cheap (the mutation may have changed the dimension).
        const dim = out.loaded.scenario.domain.cells.length;
        const small = load(text, base.file, ['name=mut', `domain.cells=[${new Array(dim).fill(10).join(',')}]`]);
        if (small.kind === 'rejected') checkRejection(small.err, base.file);
        else await exercise(small.loaded);
      }),
      { numRuns: runs(600), seed: 10_2025, endOnFailure: true },
    );
    expect(accepted).toBeGreaterThan(runs(30));
  });

  it('500 hostile --set overrides', async () => {
    const base = shipped.find((s) => s.file === 'pearson-1d.yaml')!;
    const pathArb = fc.oneof(
      fc.constantFrom('noise.eta', 'domain.cells', 'domain.cells.0', 'domain.bounds.0.1', 'time.end', 'landscape.params.c', 'landscape', 'initial.gaussian', 'name', '__proto__', 'constructor.prototype', 'a..b', '.x', 'x.', 'domain.cells.99', 'domain.cells.-1', 'noise.eta.x', 'time.end.0'),
      fc.string({ maxLength: 10 }),
    );
    const valueArb = fc.oneof(fc.constantFrom('', '0', '-1', '1e999', '[]', '{}', '[1e9]', '[2, 2]', '"x"', '{ a: 1 }', '&a [*a]', '!!js/function "x"', 'null', '~', '.nan', '[[0, 1]]', '{ expr: "x^2" }', '{ builtin: toString }'), fc.string({ maxLength: 10 }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(pathArb, fc.constantFrom('=', '', '=='), valueArb), { minLength: 1, maxLength: 3 }), async (sets) => {
        const specs = sets.map(([p, eq, v]) => `${p}${eq}${v}`);
        for (const spec of specs) {
          try {
            parseOverride(spec);
          } catch (e) {
            if (!(e instanceof InputError)) throw e;
            expect(e.message).toContain('--set');
          }
        }
        // The last override wins, so the grid stays small whatever the others set.
        const out = load(base.text, base.file, [...specs, 'domain.cells=[40]']);
        if (out.kind === 'rejected') checkRejection(out.err, base.file);
        else await exercise(out.loaded);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
        expect(Object.prototype).not.toHaveProperty('x');
      }),
      { numRuns: runs(500), seed: 10_2026, endOnFailure: true },
    );
  });
});

describe('.npy fuzz: decodeNpy returns a consistent array or one InputError', () => {
  it('400 byte-level mutations of valid files', () => {
    const valid = [
      encodeNpy(Float64Array.from({ length: 12 }, (_, i) => i / 7), [3, 4]),
      encodeNpy(Float64Array.from([1, 2, 3]), [3], { dtype: '<f4' }),
      encodeNpy(new Float64Array(0), [0]),
    ];
    const byteMutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 16 }) }),
      // Rewrite the header text: the parser of the Python literal is the exposed surface.
      fc.record({ kind: fc.constant('header' as const), text: fc.constantFrom("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", "{'descr': '<c16', 'fortran_order': False, 'shape': (3,), }", "{'descr': '<f8', 'fortran_order': 'yes', 'shape': (3,), }", "{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }", "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }", `{'descr': '<f8', 'fortran_order': False, 'shape': ${'('.repeat(5000)}${')'.repeat(5000)}, }`, "__import__('os').system('true')", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}", "{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }") }),
    );
    fc.assert(
      fc.property(fc.nat({ max: valid.length - 1 }), fc.array(byteMutation, { minLength: 1, maxLength: 3 }), (which, ms) => {
        let b = Uint8Array.from(valid[which]!);
        for (const m of ms) {
          if (m.kind === 'flip' && b.length) b[m.at % b.length] ^= 1 << m.bit;
          else if (m.kind === 'set' && b.length) b[m.at % b.length] = m.byte;
          else if (m.kind === 'truncate') b = b.subarray(0, m.at % (b.length + 1));
          else if (m.kind === 'append') b = Uint8Array.from([...b, ...m.bytes]);
          else if (m.kind === 'header') {
            const head = new TextEncoder().encode(m.text.padEnd(Math.ceil((m.text.length + 11) / 64) * 64 - 10, ' ') + '\n');
            const pre = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, head.length & 0xff, head.length >> 8]);
            b = Uint8Array.from([...pre, ...head, ...new Uint8Array(24)]);
          }
        }
        try {
          const a = decodeNpy(b, 'fuzz.npy');
          expect(a.data.length).toBe(a.shape.reduce((x, y) => x * y, 1));
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          expect(e.exitCode).toBe(2);
          expect(e.message.startsWith('fuzz.npy: ')).toBe(true);
          expect(e.message).not.toMatch(/\n/);
        }
      }),
      { numRuns: runs(400), seed: 10_2027, endOnFailure: true },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Issue #16: the whole CLI, fuzzed through its entry point. Each case is an argv for `fpsolve`
// (run with --out and the gap on, at realistic end times; validate; check; sweep; sweep merge of
// damaged shard directories), hostile some of the time: bad option values, unusable output
// locations, outputs of an earlier run in --out. Most cases run in-process through runCli (a
// process per case costs ~0.5 s), a few hundred as real processes of bin/fpsolve.js. Each case
// is held to README "Exit codes":
//  - the code is one of the documented ones (never 70);
//  - codes 2, 3, 74 and 75 print exactly one line on stderr (the `wrote:` list aside), 0 at most one;
//  - no stack trace, no "internal error";
//  - a report that says ok has no NaN/Infinity;
//  - report.json is in --out iff the run produced a report (0, 3, 75), and then every output beside
//    it is this run's (series.csv rows = report.series, density shape = the grid);
//  - exit 2 leaves an earlier run's outputs in --out byte for byte;
//  - nothing is written outside --out, and no temp, staging or lock file stays behind.
// Runs go to /dev/shm where it exists: fsync is free there, and the contract is the same.

const BIN = join(ROOT, 'bin', 'fpsolve.js');
const PEARSON = join(SCENARIOS, 'pearson-1d.yaml');
const DOCUMENTED = new Set([0, 1, 2, 3, 74, 75, 130, 143]);

interface CaseFiles {
  /** The case's directory; everything the case may write is under `out`. */
  dir: string;
  out: string | undefined;
  /** Where --out really is when it is a symbolic link to a directory. */
  real?: string;
  /** report.json of an earlier run placed in --out before the case, if any. */
  earlier?: string;
}

/** Lines of stderr that are messages, not the `wrote:` list of paths. */
function messageLines(stderr: string): string[] {
  const lines = stderr.split('\n').filter((l) => l !== '');
  const out: string[] = [];
  let inWrote = false;
  for (const l of lines) {
    if (l === 'wrote:') inWrote = true;
    else if (inWrote && l.startsWith('  ')) continue;
    else {
      inWrote = false;
      out.push(l);
    }
  }
  return out;
}

function walk(dir: string, base = dir): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(dir, n);
    let isDir = false;
    try {
      isDir = lstatSync(p).isDirectory();
    } catch {
      // Vanished.
    }
    return isDir ? [`${relative(base, p)}/`, ...walk(p, base)] : [relative(base, p)];
  });
}

const DEBRIS = /(^|\/)\.[^/]*\.tmp(\/|$)|\.fpsolve-staging-|\.fpsolve-sweep\.lock|\.stale-/;

/** The exit-code table's promises for one finished command. */
function checkContract(label: string, args: readonly string[], r: { exitCode: number; stdout: string; stderr: string }, f: CaseFiles, before: Set<string>): void {
  const ctx = `${label}: fpsolve ${args.map((a) => JSON.stringify(a)).join(' ')}\nexit ${r.exitCode}\nstderr: ${r.stderr.slice(0, 2000)}`;
  expect(DOCUMENTED.has(r.exitCode), ctx).toBe(true);
  expect(r.stderr, ctx).not.toMatch(/^\s+at \S+|internal error|\[object Object\]/m);
  const msgs = messageLines(r.stderr);
  if (r.exitCode === 2 || r.exitCode === 3 || r.exitCode === 74 || r.exitCode === 75) expect(msgs, ctx).toHaveLength(1);
  if (r.exitCode === 0) expect(msgs.filter((l) => !/^fpsolve: warning: /.test(l)).length, ctx).toBeLessThanOrEqual(1);
  const isRun = args[0] === 'run';
  if (isRun && args.includes('--json') && (r.exitCode === 0 || r.exitCode === 3 || r.exitCode === 75)) {
    const report = JSON.parse(r.stdout) as { status: string };
    if (report.status === 'ok') expect(r.stdout, ctx).not.toMatch(/NaN|Infinity/);
  }
  // Files: nothing new outside --out, no debris anywhere.
  const now = walk(f.dir);
  const outDir = f.real ?? f.out;
  const outRel = outDir !== undefined && outDir.startsWith(f.dir + '/') ? relative(f.dir, outDir) : undefined;
  for (const p of now) {
    expect(DEBRIS.test(p), `${ctx}\nleft ${p}`).toBe(false);
    if (before.has(p)) continue;
    // --out and the parents it needed (mkdir -p), and what is inside it.
    const inside = outRel !== undefined && (`${outRel}/`.startsWith(p) || p.startsWith(`${outRel}/`));
    expect(inside, `${ctx}\nwrote ${p} outside --out`).toBe(true);
  }
  if (!isRun || f.out === undefined || outRel === undefined) return;
  const reportPath = join(f.out, 'report.json');
  if (r.exitCode === 0 || r.exitCode === 3 || r.exitCode === 75) {
    expect(existsSync(reportPath), ctx).toBe(true);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as { status: string; series: unknown[]; final: { t: number } };
    if (r.exitCode === 0) expect(['ok', 'incomplete'], ctx).toContain(report.status);
    else expect(report.status, ctx).toBe('failed');
    if (report.status === 'ok') expect(readFileSync(reportPath, 'utf8'), ctx).not.toMatch(/NaN|Infinity/);
    const rows = readFileSync(join(f.out, 'series.csv'), 'utf8').trim().split('\n').length - 1;
    expect(rows, ctx).toBe(report.series.length);
    const density = JSON.parse(readFileSync(join(f.out, 'density.json'), 'utf8')) as { shape: number[]; meta: { t: number } };
    expect(density.meta.t, ctx).toBe(report.final.t);
    const cells = density.shape.reduce((a, b) => a * b, 1);
    const npy = readFileSync(join(f.out, 'density.npy'));
    expect(npy.length - npy.readUInt16LE(8) - 10, ctx).toBe(8 * cells);
    expect(existsSync(join(f.out, 'density.vti')), ctx).toBe(args.includes('--vti'));
  } else if (f.earlier !== undefined) {
    // Refused or failed to write: the earlier run's report is as it was.
    expect(readFileSync(reportPath, 'utf8'), ctx).toBe(f.earlier);
  } else {
    expect(existsSync(reportPath), ctx).toBe(false);
  }
}

const fuzzBase = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/**
 * FPSOLVE_FUZZ_HUNT=1: record every broken promise instead of stopping at the first, and print
 * them grouped by their first line at the end (for a local hunt; CI asserts).
 */
const HUNT = Boolean(process.env.FPSOLVE_FUZZ_HUNT);
const findings = new Map<string, { n: number; example: string }>();
function held(fn: () => void): void {
  if (!HUNT) return fn();
  try {
    fn();
  } catch (e) {
    const msg = (e as Error).message;
    const key = (/\nstderr: (.*)/.exec(msg)?.[1] ?? msg.split('\n').at(-1) ?? '').replace(/\/dev\/shm\/\S+|\d+(\.\d+)?(e-?\d+)?/g, '#').slice(0, 160);
    const f = findings.get(key) ?? { n: 0, example: msg.slice(0, 1200) };
    f.n++;
    findings.set(key, f);
  }
}

describe('whole-CLI fuzz (issue #16): every case keeps the exit-code table', () => {
  let work: string;
  let earlierRun: string;
  let caseNo = 0;
  const stats: Record<string, number> = {};
  const count = (k: string): void => void (stats[k] = (stats[k] ?? 0) + 1);

  beforeAll(async () => {
    work = mkdtempSync(join(fuzzBase, 'fpsolve-clifuzz-'));
    earlierRun = join(work, 'earlier');
    const r = await runCli(['run', PEARSON, '--quiet', '--no-gap', '--vti', '--set', 'domain.cells=[30]', '--set', 'time.end=0.5', '--out', earlierRun]);
    expect(r.exitCode, r.stderr).toBe(0);
  });
  afterAll(() => {
    if (process.env.FPSOLVE_FUZZ_DEBUG) console.log(stats);
    if (HUNT) for (const [k, f] of findings) console.log(`FINDING ×${f.n}: ${k}\n${f.example}\n`);
    rmSync(work, { recursive: true, force: true });
  });

  /** A fresh case directory and the --out the case asks for (a hostile location some of the time). */
  function caseFiles(kind: OutKind): CaseFiles {
    const dir = join(work, `c${caseNo++}`);
    mkdirSync(dir);
    const out = join(dir, 'out');
    switch (kind) {
      case 'none':
        return { dir, out: undefined };
      case 'fresh':
        return { dir, out };
      case 'nested':
        return { dir, out: join(dir, 'a', 'b', 'out') };
      case 'earlier': {
        cpSync(earlierRun, out, { recursive: true });
        return { dir, out, earlier: readFileSync(join(out, 'report.json'), 'utf8') };
      }
      case 'file':
        writeFileSync(out, 'x');
        return { dir, out };
      case 'below-file':
        writeFileSync(join(dir, 'f'), 'x');
        return { dir, out: join(dir, 'f', 'out') };
      case 'dangling':
        symlinkSync(join(dir, 'nowhere'), out);
        return { dir, out };
      case 'loop':
        symlinkSync(join(dir, 'l2'), out);
        symlinkSync(out, join(dir, 'l2'));
        return { dir, out };
      case 'link-to-dir':
        mkdirSync(join(dir, 'real'));
        symlinkSync(join(dir, 'real'), out);
        return { dir, out, real: join(dir, 'real') };
      default:
        return { dir, out: kind };
    }
  }

  const outKinds = ['none', 'fresh', 'nested', 'earlier', 'file', 'below-file', 'dangling', 'loop', 'link-to-dir', '', '/dev/null', '/proc/fpsolve-fuzz', '/sys/fpsolve-fuzz', '/dev/full'] as const;
  type OutKind = (typeof outKinds)[number];
  const outKindArb: fc.Arbitrary<OutKind> = fc.oneof(
    { weight: 2, arbitrary: fc.constant('none' as const) },
    { weight: 3, arbitrary: fc.constantFrom<OutKind>('fresh', 'nested', 'earlier', 'link-to-dir') },
    { weight: 3, arbitrary: fc.constantFrom<OutKind>(...outKinds) },
  );

  const goodSet = fc.oneof(
    fc.integer({ min: 20, max: 200 }).map((n) => `domain.cells=[${n}]`),
    fc.constantFrom(0.5, 1, 2, 5, 10).map((t) => `time.end=${t}`),
    fc.constantFrom(0.05, 0.1, 0.25, 1).map((t) => `time.reportEvery=${t}`),
    fc.double({ min: 0.01, max: 0.5, noNaN: true }).map((v) => `noise.eta=${v}`),
    fc.double({ min: 0.01, max: 2, noNaN: true }).map((v) => `landscape.params.c=${v}`),
    fc.constantFrom('auto', 'rkl2', 'backward-euler', 'trbdf2', 'explicit').map((v) => `time.integrator=${v}`),
  );
  const badSet = fc.constantFrom('domain.cells=[0]', 'domain.cells=[1e9]', 'time.end=-1', 'time.end=.nan', 'noise.eta=[]', 'nonesuch=1', 'time.reportEvery=0', '=', 'noise', 'domain.bounds=[[1,0]]', 'landscape.expr="x^"', 'landscape.params.c=-5', 'time.end=1e300');
  const flag: fc.Arbitrary<string[]> = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom<string[]>(['--no-gap'], ['--json'], ['--vti'], ['--quiet']) },
    { weight: 1, arbitrary: fc.constantFrom<string[]>(['--max-wall', '0.2'], ['--max-wall', '1e-4'], ['--max-wall', '30'], ['--backend', 'cpu'], ['--backend', 'auto']) },
    { weight: 1, arbitrary: fc.constantFrom<string[]>(['--max-wall', '0'], ['--max-wall', 'x'], ['--backend', 'tpu'], ['--max-memory', '1KB'], ['--max-memory', 'lots'], ['--max-memory', '4GB'], ['--bogus'], ['--html']) },
  );
  const scenarioArb = fc.oneof(
    { weight: 8, arbitrary: fc.constant(PEARSON) },
    { weight: 2, arbitrary: fc.constantFrom(...shipped.map((s) => join(SCENARIOS, s.file))) },
    { weight: 1, arbitrary: fc.constantFrom(join(SCENARIOS, 'nope.yaml'), SCENARIOS, '/dev/null', '') },
  );
  const runCase = fc.record({
    scenario: scenarioArb,
    sets: fc.array(fc.oneof({ weight: 6, arbitrary: goodSet }, { weight: 1, arbitrary: badSet }), { maxLength: 4 }),
    flags: fc.array(flag, { maxLength: 3 }),
    out: outKindArb,
    // An option left without its value at the end of the line.
    tail: fc.constantFrom<string[]>([], [], [], [], ['-o'], ['--out'], ['--set']),
  });

  /** A shipped scenario's own grid can be 128² or 3-D: keep every run small unless the case overrides it. */
  const smallGrid = (scenario: string): string[] => {
    const s = shipped.find((x) => join(SCENARIOS, x.file) === scenario);
    if (!s) return [];
    const dim = (/cells:\s*\[([^\]]*)\]/.exec(s.text)?.[1] ?? '0').split(',').length;
    return ['--set', `domain.cells=[${new Array(dim).fill(dim === 1 ? 100 : dim === 2 ? 16 : 6).join(',')}]`, '--set', 'time.end=1'];
  };

  function runArgs(c: { scenario: string; sets: string[]; flags: string[][]; out: OutKind; tail: string[] }, f: CaseFiles): string[] {
    return ['run', c.scenario, '--quiet', ...smallGrid(c.scenario), ...c.sets.flatMap((s) => ['--set', s]), ...c.flags.flat(), ...(f.out !== undefined ? ['--out', f.out] : []), ...c.tail];
  }

  it('2000 in-process `fpsolve run` cases', async () => {
    await fc.assert(
      fc.asyncProperty(runCase, async (c) => {
        const f = caseFiles(c.out);
        const before = new Set(walk(f.dir));
        const args = runArgs(c, f);
        const r = await runCli(args);
        count(`run:${r.exitCode}`);
        held(() => checkContract('in-process', args, r, f, before));
        rmSync(f.dir, { recursive: true, force: true });
      }),
      { numRuns: runs(2000), seed: 16_2026, endOnFailure: true },
    );
    // The generator reaches solved runs with outputs, refusals of the location and of the scenario.
    expect(stats['run:0'] ?? 0).toBeGreaterThan(runs(300));
    expect(stats['run:2'] ?? 0).toBeGreaterThan(runs(300));
  }, 300_000);

  // sweep merge of synthetic shard directories: the manifest and records of a 3-shard sweep, each
  // shard damaged the way disks, kills and people damage them. The expected exit code and merged
  // point set follow from the damage alone (an oracle independent of merge.ts).
  type Damage = 'none' | 'garbage' | 'non-record' | 'torn' | 'blank' | 'retry';
  const mergeCase = fc.record({
    points: fc.integer({ min: 1, max: 9 }),
    damage: fc.array(fc.constantFrom<Damage>('none', 'none', 'none', 'garbage', 'non-record', 'torn', 'blank', 'retry'), { minLength: 3, maxLength: 3 }),
    drop: fc.integer({ min: -1, max: 2 }),
    extra: fc.oneof({ weight: 6, arbitrary: fc.constant('none') }, { weight: 4, arbitrary: fc.constantFrom('same-dir', 'copy', 'overlap', 'other-sweep', 'not-a-sweep') }),
    skip: fc.boolean(),
    out: fc.oneof({ weight: 6, arbitrary: fc.constantFrom<OutKind>('fresh', 'nested') }, { weight: 1, arbitrary: fc.constantFrom<OutKind>('file', '', '/proc/fpsolve-fuzz', 'dangling') }),
  });
  const manifest = (points: number, shard: { k: number; n: number } | null, pointsHash = 'p0') => ({
    fpsolve: '0.1.0', scenarioFile: 's.yaml', scenarioName: 's', baseScenarioHash: 'b0', pointsHash, points, parameters: ['noise.eta'], zip: false, runArgs: [], shard,
  });
  const record = (i: number, status: 'ok' | 'failed' = 'ok') =>
    JSON.stringify({
      key: `k${i}`, index: i, params: { 'noise.eta': i / 10 }, status, error: status === 'ok' ? null : 'timed out', errorKind: status === 'ok' ? null : 'timeout', regime: 'converging',
      rates: { chi: { value: 1 + i, window: [0, 1] }, kl: null, meanLoss: null }, gap: 1, final: { l1: 0.1, kl: 0.1, chi2: 0.1, meanLoss: 0.1, massBelowDelta: 0 }, wallSeconds: 0.1, fpsolve: '0.1.0', scenario: 's',
    });
  function shardDir(dir: string, name: string, m: object, lines: string[], tail = ''): string {
    const d = join(dir, name);
    mkdirSync(d);
    writeFileSync(join(d, 'sweep.json'), JSON.stringify(m));
    writeFileSync(join(d, 'results.jsonl'), lines.map((l) => `${l}\n`).join('') + tail);
    return d;
  }

  it('1000 in-process `sweep merge` cases of damaged shards', async () => {
    await fc.assert(
      fc.asyncProperty(mergeCase, async (c) => {
        const f = caseFiles(c.out);
        const dirs: string[] = [];
        const expected = new Set<number>();
        let refused = typeof c.out === 'string' && !['fresh', 'nested'].includes(c.out);
        let corrupt = 0;
        let torn = 0;
        const firstDirPoints = new Set<number>();
        for (let k = 1; k <= 3; k++) {
          if (c.drop === k - 1) continue; // a shard not finished yet: its points are missing, not an error
          const mine = [...Array(c.points).keys()].filter((i) => i % 3 === k - 1);
          const lines = mine.map((i) => record(i));
          let tail = '';
          const d = c.damage[k - 1]!;
          if (d === 'garbage' || d === 'non-record') {
            lines.splice(Math.min(1, lines.length), 0, d === 'garbage' ? '{"key": "k1", "ind' : '[1, 2]');
            corrupt++;
          } else if (d === 'torn' && lines.length > 0) {
            tail = lines.pop()!.slice(0, 25);
            mine.pop();
            torn++;
          } else if (d === 'blank') lines.push('', '   ');
          else if (d === 'retry' && mine.length > 0) lines.unshift(record(mine[0]!, 'failed'));
          mine.forEach((i) => expected.add(i));
          if (dirs.length === 0) mine.forEach((i) => firstDirPoints.add(i));
          dirs.push(shardDir(f.dir, `shard-${k}`, manifest(c.points, { k, n: 3 }), lines, tail));
        }
        if (dirs.length === 0) dirs.push(shardDir(f.dir, 'empty', manifest(c.points, { k: 1, n: 3 }), []));
        if (c.extra === 'same-dir') dirs.push(dirs[0]!);
        else if (c.extra === 'copy') {
          cpSync(dirs[0]!, join(f.dir, 'copy'), { recursive: true });
          dirs.push(join(f.dir, 'copy'));
        } else if (c.extra === 'overlap') {
          const first = JSON.parse(readFileSync(join(dirs[0]!, 'sweep.json'), 'utf8')) as { shard: { k: number } };
          // Another shard numbering of the same sweep holding one of the first directory's points.
          dirs.push(shardDir(f.dir, 'overlap', manifest(c.points, { k: 1, n: 1 }), [record(first.shard.k - 1)]));
        } else if (c.extra === 'other-sweep') dirs.push(shardDir(f.dir, 'other', manifest(c.points, null, 'p1'), []));
        else if (c.extra === 'not-a-sweep') {
          mkdirSync(join(f.dir, 'plain'));
          dirs.push(join(f.dir, 'plain'));
        }
        let overlapHits = false;
        if (c.extra === 'overlap') {
          const p = (JSON.parse(readFileSync(join(dirs[0]!, 'sweep.json'), 'utf8')) as { shard: { k: number } }).shard.k - 1;
          // A record whose index lies outside the sweep's points is not a record of this sweep: refused.
          overlapHits = firstDirPoints.has(p) || p >= c.points;
          expected.add(p);
        }
        refused ||= c.extra === 'same-dir' || c.extra === 'copy' || c.extra === 'other-sweep' || c.extra === 'not-a-sweep' || overlapHits || (corrupt > 0 && !c.skip);
        const before = new Set(walk(f.dir));
        const args = ['sweep', 'merge', ...dirs, '--no-plots', ...(c.skip ? ['--skip-corrupt'] : []), '--out', f.out!];
        const r = await runCli(args);
        count(`merge:${r.exitCode}`);
        held(() => {
          checkContract('in-process', args, r, f, before);
          const ctx = `fpsolve ${args.join(' ')}\n${r.stderr}`;
          expect(r.exitCode, ctx).toBe(refused ? EXIT.badInput : EXIT.ok);
          if (refused) return;
          const merged = readFileSync(join(f.out!, 'results.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { index: number; status: string });
          expect(merged.map((m) => m.index), ctx).toEqual([...expected].sort((a, b) => a - b));
          expect(merged.every((m) => m.status === 'ok'), ctx).toBe(true);
          const warnings = r.stderr.split('\n').filter((l) => l.startsWith('fpsolve: warning:'));
          expect(warnings.filter((w) => /skipped/.test(w)).length, ctx).toBe(corrupt);
          expect(warnings.filter((w) => /unterminated/.test(w)).length, ctx).toBe(torn);
        });
        rmSync(f.dir, { recursive: true, force: true });
      }),
      { numRuns: runs(1000), seed: 16_2027, endOnFailure: true },
    );
    expect(stats['merge:0'] ?? 0).toBeGreaterThan(runs(150));
    expect(stats['merge:2'] ?? 0).toBeGreaterThan(runs(150));
  }, 300_000);

  // The other commands, their output options and option values: mostly refusals, which must be one line.
  const otherCase = fc.record({
    command: fc.constantFrom('validate', 'gap', 'check', 'sweep', 'simulate'),
    sets: fc.array(fc.oneof({ weight: 4, arbitrary: goodSet }, { weight: 1, arbitrary: badSet }), { maxLength: 2 }),
    out: outKindArb,
    opt: fc.constantFrom<string[]>([], [], ['--json'], ['--modes', '0'], ['--modes', '2'], ['--jobs', '0'], ['--shard', '3/2'], ['--shard', 'auto'], ['--only', 'nonesuch'], ['--particles', '1'], ['--timeout', '-1'], ['--bogus'], ['--dry-run'], ['--zip']),
  });

  function otherArgs(c: { command: string; sets: string[]; out: OutKind; opt: string[] }, f: CaseFiles): string[] {
    const sets = c.sets.flatMap((s) => ['--set', s]);
    const outArgs = (flag: string): string[] => (f.out !== undefined ? [flag, f.out] : []);
    switch (c.command) {
      case 'validate':
        return ['validate', PEARSON, ...sets, ...c.opt];
      case 'gap':
        return ['gap', PEARSON, '--set', 'domain.cells=[60]', ...sets, ...outArgs('--out'), ...c.opt];
      case 'check':
        // Only refusals: a check that ran would take minutes; --only nonesuch is refused after the --junit check.
        return ['check', join(ROOT, 'baselines', 'rates.yaml'), '--quiet', '--only', 'nonesuch', ...outArgs('--junit'), ...c.opt];
      case 'sweep':
        // --dry-run or a refusal: points would run in worker processes (covered by test/outputs.test.ts).
        return ['sweep', PEARSON, '--quiet', '--set', 'noise.eta=0.1,0.2', '--dry-run', ...sets, ...outArgs('--out'), ...c.opt];
      default:
        return ['simulate', PEARSON, '--quiet', '--set', 'domain.cells=[60]', '--set', 'time.end=0.5', '--particles', '1000', '--no-plots', ...sets, ...outArgs('--out'), ...c.opt];
    }
  }

  it('600 in-process cases of validate, gap, check, sweep and simulate', async () => {
    await fc.assert(
      fc.asyncProperty(otherCase, async (c) => {
        const f = caseFiles(c.out);
        const before = new Set(walk(f.dir));
        const args = otherArgs(c, f);
        const t0 = performance.now();
        if (process.env.FPSOLVE_FUZZ_TRACE) appendFileSync(process.env.FPSOLVE_FUZZ_TRACE, `start: ${args.join(' ')}\n`);
        const r = await runCli(args);
        if (process.env.FPSOLVE_FUZZ_TRACE) appendFileSync(process.env.FPSOLVE_FUZZ_TRACE, `${(performance.now() - t0).toFixed(0)} ms exit ${r.exitCode}: ${args.join(' ')}\n`);
        count(`${c.command}:${r.exitCode}`);
        held(() => checkContract('in-process', args, r, f, before));
        rmSync(f.dir, { recursive: true, force: true });
      }),
      { numRuns: runs(600), seed: 16_2029, endOnFailure: true },
    );
  }, 300_000);

  /** Runs bin/fpsolve.js as a process (the launcher, last-resort handlers and real exit codes). */
  const spawnCli = (args: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> =>
    new Promise((res) => {
      const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code, sig) => res({ exitCode: code ?? (sig ? 128 : -1), stdout, stderr }));
    });

  // Each process spends ~1 s of CPU loading fpsolve's modules, so this part is kept small; FPSOLVE_FUZZ_SCALE raises it.
  it('30 `fpsolve run` cases as real processes (2 at a time)', async () => {
    const cases = fc.sample(runCase, { numRuns: runs(30), seed: 16_2028 });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const f = caseFiles(c.out);
        const before = new Set(walk(f.dir));
        const args = runArgs(c, f);
        const r = await spawnCli(args);
        count(`proc:${r.exitCode}`);
        held(() => checkContract('process', args, r, f, before));
        rmSync(f.dir, { recursive: true, force: true });
      }
    };
    await Promise.all([worker(), worker()]);
    expect(stats['proc:0'] ?? 0).toBeGreaterThan(runs(4));
  }, 300_000);
});
