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
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify as stringifyYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
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
  // Parse errors name a line, override errors the --set, content errors a field.
  expect(err.field !== undefined || /line \d+|--set|YAML|JSON|mapping|memory/.test(err.message), err.message).toBe(true);
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
