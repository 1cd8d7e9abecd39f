/**
 * Issue 10 §2 and §3, in-process: numerical faults stop the run with the step, time and cell
 * named and a report without NaN; memory is estimated and refused before allocation; the
 * integrators' checkpoints do not change what they compute; mathjs escape attempts are
 * rejected through the whole scenario path.
 */
import { describe, expect, it } from 'vitest';
import { EXIT, InputError } from '../src/errors.js';
import { parseScenarioText } from '../src/scenario/load.js';
import { runScenario, setUp } from '../src/run/run.js';
import { reportJson } from '../src/report/write.js';
import {
  BASE_OVERHEAD_BYTES,
  DEFAULT_MEMORY_FRACTION,
  checkMemory,
  defaultMemoryLimit,
  estimateRunMemory,
  formatBytes,
  machineMemory,
  parseByteSize,
} from '../src/resources/memory.js';
import { DeviceExplicitEuler, DeviceRkl2, type AsyncIntegrator } from '../solvers/backend/integrators.js';
import { DeviceBackwardEuler, DeviceTrBdf2 } from '../solvers/backend/implicit.js';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { cgSettings } from '../solvers/backend/choose.js';
import { DeviceExponential, exponentialCgSettings } from '../solvers/backend/exponential.js';
import { expectInputError } from './scenario-helpers.js';

const pearson = (cells: number, time: string): string => `name: fault
landscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }
domain: { bounds: [[-5, 5]], cells: [${cells}] }
noise: { model: multiplicative, eta: 0.1, sigma: 10 }
initial: { gaussian: { mean: [1], std: [0.3] } }
time: ${time}
`;

const load = (text: string, set: string[] = []) => parseScenarioText(text, 'fault.yaml', set);

function nonFinite(v: unknown, p = ''): string[] {
  if (typeof v === 'number') return Number.isFinite(v) ? [] : [`${p} = ${v}`];
  if (Array.isArray(v)) return v.flatMap((x, i) => nonFinite(x, `${p}[${i}]`));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => nonFinite(x, `${p}.${k}`));
  return [];
}

describe('numerical faults (issue 10 §2)', () => {
  it('explicit Euler far above its limit: status failed, step, time, cell and cause named, last good state kept', async () => {
    // 200 cells on [-5, 5]: the positivity limit is ~1e-4 (report.integrator.explicitLimit); dt = 0.01 is ~100× above.
    const loaded = load(pearson(200, '{ end: 1, reportEvery: 0.05, integrator: explicit, dt: 0.01 }'));
    const { report, density } = await runScenario(loaded, { gap: false });
    expect(report.status).toBe('failed');
    const limit = report.integrator.explicitLimit;
    expect(0.01 / limit).toBeGreaterThan(10);
    expect(report.error).toMatch(/by step \d+, t = [\d.e-]+/);
    expect(report.error).toMatch(/in cell \d+ at x = \(/);
    expect(report.error).toMatch(/time\.dt = 0\.01 is [\d.e+]+× the explicit limit/);
    expect(report.error).toMatch(/last healthy state: step \d+, t = /);
    // Everything reported is finite, and the density is the last state that passed the check.
    expect(nonFinite(report.series)).toEqual([]);
    expect(nonFinite(report.final)).toEqual([]);
    expect(reportJson(report)).not.toMatch(/:\s*-?(NaN|Infinity)\b/);
    let mass = 0;
    for (const v of density) {
      expect(Number.isFinite(v) && v >= 0).toBe(true);
      mass += v;
    }
    // Mass 1 on the grid (cell width 10/200): the kept state is a valid density.
    expect(mass * (10 / 200)).toBeCloseTo(1, 12);
    expect(report.final.t).toBe(report.series[report.series.length - 1]!.t);
  });

  it('a blow-up to Inf/NaN inside one long report interval is caught at the next mid-interval health check, naming the non-finite value', async () => {
    // dt = 3× the limit: |1 − 3·λ_max/max(−A_ii)| > 1 so the top mode grows every step; one report
    // interval holds ~10⁶ steps, far more than the ~700 it takes to overflow float64.
    const probe = setUp(load(pearson(100, '{ end: 1, reportEvery: 1 }')), { memoryEstimate: { gap: false } });
    const lim = probe.op.explicitLimit();
    const loaded = load(pearson(100, `{ end: ${2e6 * lim}, reportEvery: ${2e6 * lim}, integrator: explicit, dt: ${3 * lim} }`));
    const { report, density } = await runScenario(loaded, { gap: false });
    expect(report.status).toBe('failed');
    expect(report.error).toMatch(/density became (NaN|Infinity|-Infinity) in cell \d+|negative density/);
    // Checks come every max(2²³, 64·cells) cell updates (src/run/checkpoints.ts): ~84 000 steps of
    // 100 cells, long before the interval's ~670 000 steps end.
    const step = Number(/by step (\d+)/.exec(report.error ?? '')?.[1]);
    expect(step).toBeGreaterThan(700);
    expect(step).toBeLessThan(2e5);
    expect(nonFinite(Array.from(density))).toEqual([]);
    expect(reportJson(report)).not.toMatch(/:\s*-?(NaN|Infinity)\b/);
  });

  it('a healthy explicit run is not flagged (no false alarm at the limit)', async () => {
    const { report } = await runScenario(load(pearson(100, '{ end: 0.2, reportEvery: 0.1, integrator: explicit }')), { gap: false });
    expect(report.status).toBe('ok');
    expect(report.final.minDensity).toBeGreaterThanOrEqual(0);
    expect(report.final.mass).toBeCloseTo(1, 12);
  });
});

describe('checkpoints inside a report interval: continuing changes no bit, a stop keeps the state reached', () => {
  const setup = setUp(load(pearson(120, '{ end: 1, reportEvery: 1 }')), { memoryEstimate: { gap: false } });
  const op = setup.op;
  const start = (): Float64Array => {
    const r = new Float64Array(120);
    for (let i = 0; i < 120; i++) r[i] = Math.exp(-(((i - 70) / 8) ** 2));
    return r;
  };
  const makers: [string, () => AsyncIntegrator][] = [
    ['explicit', () => new DeviceExplicitEuler(new CpuBackend(op), op)],
    ['rkl2', () => new DeviceRkl2(new CpuBackend(op), op, 20 * op.explicitLimit())],
    ['backward-euler', () => new DeviceBackwardEuler(new CpuBackend(op), op, 0.01, cgSettings(1e-8))],
    ['trbdf2', () => new DeviceTrBdf2(new CpuBackend(op), op, { tolerance: 1e-6, dtMax: 0.5 }, cgSettings(1e-8))],
    ['exponential', () => new DeviceExponential(new CpuBackend(op), op, { tolerance: 1e-6, dtMax: 0.5, dt0: 0.01 }, exponentialCgSettings(1e-6))],
  ];
  const bits = (a: Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
  for (const [name, make] of makers) {
    it(name, async () => {
      const a = start();
      const ia = make();
      await ia.advance(a, 0, 0.3);
      // Yield to the event loop and read the state at every step, as the run loop does when a
      // checkpoint is due (and the old clock-driven pause did at times the load decided).
      const b = start();
      const ib = make();
      const times: number[] = [];
      const third = start();
      // The checkpoint after the third step: the exponential integrator also asks between the
      // shift-invert solves of an interval (at the interval's start, state unchanged), so its
      // calls are counted until the third one past a step.
      let stepsSeen = 0;
      let thirdCall = 0;
      expect(
        await ib.advance(b, 0, 0.3, async (t) => {
          times.push(t);
          await new Promise<void>((r) => setImmediate(r));
          if (t > (times.length > 1 ? times[times.length - 2] : 0) && ++stepsSeen === 3) {
            thirdCall = times.length;
            await ib.peek(third);
          }
          return false;
        }),
      ).toBe(0.3);
      expect(thirdCall).toBeGreaterThanOrEqual(3);
      if (name !== 'exponential') expect(thirdCall).toBe(3);
      expect(ib.stats).toEqual(ia.stats);
      expect(bits(b)).toBe(bits(a));
      // A stop at the third step's checkpoint returns its time, with the state the peek saw there (up
      // to the round-off rescaling of Σρ that a stop applies).
      const c = start();
      const ic = make();
      let calls = 0;
      const reached = await ic.advance(c, 0, 0.3, () => ++calls === thirdCall);
      expect(reached).toBe(times[thirdCall - 1]);
      expect(ic.stats.steps).toBe(3);
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < c.length; i++) {
        diff = Math.max(diff, Math.abs(c[i]! - third[i]!));
        scale = Math.max(scale, Math.abs(third[i]!));
      }
      expect(diff / scale).toBeLessThan(1e-13);
      expect(bits(third)).not.toBe(bits(start()));
      if (name === 'exponential') {
        // A stop between the solves of a later interval leaves the state of that interval's start
        // (the step before), not of the first one's.
        const d = start();
        const id = make();
        const seen: { t: number; state: Float64Array }[] = [];
        await id.advance(d, 0, 0.3, async (t) => {
          const st = start();
          await id.peek(st);
          seen.push({ t, state: st });
          return false;
        });
        const m = seen.findIndex((p, i) => i > 0 && p.t > 0 && p.t === seen[i - 1].t);
        expect(m).toBeGreaterThan(0);
        const e = start();
        const ie = make();
        let n = 0;
        expect(await ie.advance(e, 0, 0.3, () => ++n === m + 1)).toBe(seen[m].t);
        let de = 0;
        for (let i = 0; i < e.length; i++) de = Math.max(de, Math.abs(e[i]! - seen[m].state[i]!));
        expect(de / scale).toBeLessThan(1e-13);
      }
    });
  }
});

describe('memory (issue 10 §3)', () => {
  it('parses --max-memory sizes: binary K/M/G/T and KiB.., decimal KB..', () => {
    expect(parseByteSize('8G')).toBe(8 * 2 ** 30);
    expect(parseByteSize('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(parseByteSize('500MB')).toBe(5e8);
    expect(parseByteSize('512m')).toBe(512 * 2 ** 20);
    expect(parseByteSize('1024')).toBe(1024);
    expect(parseByteSize(' 2 t ')).toBe(2 * 2 ** 40);
    expect(parseByteSize('1e9')).toBe(1e9);
    for (const bad of ['', '0', '-1G', 'G', '1.2.3', '10X', 'NaN', 'Infinity', '1e999', '0.5']) {
      expectInputError(() => parseByteSize(bad), { includes: ['--max-memory', 'e.g. 8G', JSON.stringify(bad)] });
    }
    expectInputError(() => parseByteSize('lots', '$FPSOLVE_MAX_MEMORY'), { includes: ['$FPSOLVE_MAX_MEMORY'] });
  });

  it('the default limit is 80% of the machine, or $FPSOLVE_MAX_MEMORY', () => {
    expect(defaultMemoryLimit({}).bytes).toBe(Math.floor(DEFAULT_MEMORY_FRACTION * machineMemory()));
    expect(defaultMemoryLimit({}).source).toMatch(/80% of this machine's/);
    expect(defaultMemoryLimit({ FPSOLVE_MAX_MEMORY: '3G' })).toEqual({ bytes: 3 * 2 ** 30, source: '$FPSOLVE_MAX_MEMORY=3G' });
    expectInputError(() => defaultMemoryLimit({ FPSOLVE_MAX_MEMORY: 'x' }), { includes: ['$FPSOLVE_MAX_MEMORY'] });
  });

  it('the counted arrays are the grid-sized arrays set-up really holds', () => {
    // Walk the Problem and FvOperator and count Float64Arrays of the grid's size; the estimate's
    // "problem, operator" share is 2 + d (f, ψ, face D) + 2 + 3d (outflow, √π, fwd/bwd/sym).
    for (const [cells, bounds] of [
      [[40], '[[-5, 5]]'],
      [[12, 10], '[[-5, 5], [-5, 5]]'],
      [[6, 5, 4], '[[-5, 5], [-5, 5], [-5, 5]]'],
    ] as const) {
      const text = `name: m
landscape: { expr: "1 + x^2" }
domain: { bounds: ${bounds}, cells: [${cells.join(', ')}] }
noise: { model: additive, D: 1 }
initial: { uniform: {} }
time: { end: 1, reportEvery: 1 }
`;
      const s = setUp(load(text), { memoryEstimate: { gap: false } });
      const n = s.grid.size;
      const seen = new Set<Float64Array>();
      const walk = (v: unknown, depth: number): void => {
        if (v instanceof Float64Array) {
          if (v.length === n) seen.add(v);
          return;
        }
        if (depth > 2 || v === null || typeof v !== 'object' || v === s.grid) return;
        for (const x of Object.values(v)) walk(x, depth + 1);
      };
      walk(s.problem, 0);
      walk(s.op, 0);
      const d = cells.length;
      expect(seen.size).toBe(2 + d + 2 + 3 * d);
      // run arrays on top: ρ, last good ρ, ln π, and π + one .npy buffer at output (5), the regime
      // tracker's ln f averages and zero-component labels (2).
      expect(estimateRunMemory(cells, 'explicit', { gap: false }).arrays).toBe(2 + d + 2 + 3 * d + 5 + 2 + 1);
    }
  });

  it('estimates grow with the grid and the integrator, in bytes = overhead + 8·arrays·cells', () => {
    const e = estimateRunMemory([1000, 1000], 'trbdf2');
    expect(e.cells).toBe(1e6);
    expect(e.bytes).toBe(BASE_OVERHEAD_BYTES + 8 * e.arrays * 1e6);
    expect(estimateRunMemory([1000, 1000], 'explicit').arrays).toBeLessThan(e.arrays);
    expect(estimateRunMemory([1000, 1000], 'trbdf2', { gap: false }).arrays).toBeLessThan(e.arrays);
    expect(estimateRunMemory([1000, 1000], 'trbdf2', { snapshots: 3 }).arrays).toBe(e.arrays + 3);
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.50 GiB');
  });

  it('refuses a 10⁹-cell grid before allocating anything, naming the estimate and --max-memory', () => {
    const text = `name: huge
landscape: { expr: "x^2 + y^2 + z^2 + 1" }
domain: { bounds: [[-1, 1], [-1, 1], [-1, 1]], cells: [1000, 1000, 1000] }
noise: { model: additive, D: 1 }
initial: { uniform: {} }
time: { end: 1, reportEvery: 1 }
`;
    const loaded = load(text);
    const before = process.memoryUsage();
    const msg = expectInputError(() => setUp(loaded), { file: 'fault.yaml', field: 'domain.cells', includes: ['estimated', 'GiB', '--max-memory', '10^9 cells'] });
    const after = process.memoryUsage();
    // Nothing grid-sized was created: one float64 array of 10⁹ cells alone is 7.45 GiB.
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(16 * 2 ** 20);
    expect(after.rss - before.rss).toBeLessThan(256 * 2 ** 20);
    // 100 arrays × 8 GB: the estimate in the message is the one the module computes.
    expect(msg).toContain(formatBytes(estimateRunMemory([1000, 1000, 1000], 'auto').bytes));
  });

  it('a small --max-memory refuses a normal grid; the limit source is named', () => {
    const loaded = load(pearson(2000, '{ end: 1, reportEvery: 0.5 }'));
    expectInputError(() => setUp(loaded, { memoryLimit: { bytes: 100 * 2 ** 20, source: '--max-memory 100M' } }), {
      field: 'domain.cells',
      includes: ['--max-memory 100M', '100 MiB', 'e.g. --max-memory'],
    });
    expect(() => setUp(loaded, { memoryLimit: { bytes: 2 ** 30, source: '--max-memory 1G' } })).not.toThrow();
  });

  it('a grid past the typed-array length is refused even under an unlimited limit', () => {
    const e = estimateRunMemory([100000000, 100], 'explicit');
    expectInputError(() => checkMemory(e, { bytes: Number.MAX_VALUE, source: 'test' }), { field: 'domain.cells', includes: ['one float64 array can hold'] });
  });
});

describe('expression escape attempts through the whole scenario path (issue 10 §1)', () => {
  const base = (landscape: string): string => `name: esc
landscape: ${landscape}
domain: { bounds: [[-1, 1]], cells: [20] }
noise: { model: additive, D: 1 }
initial: { uniform: {} }
time: { end: 1, reportEvery: 1 }
`;
  // The known mathjs sandbox-escape classes (mathjs docs "Security"; CVE-2017-1001002/1001003 used
  // constructor chains and cos.constructor; later ones import/createUnit/evaluate/function defs).
  const exprs = [
    'import({"x": 1}, {"override": true})',
    'createUnit("foo")',
    'evaluate("1+1")',
    'compile("1").evaluate()',
    'parse("x")',
    'simplify("x")',
    'derivative("x^2", "x")',
    'resolve(x)',
    'config({"number": "BigNumber"})',
    'typed("f", {})',
    'chain(x).done()',
    'help(sin)',
    'cos.constructor("return process")()',
    'sin["constructor"]("return 1")()',
    'x.constructor.constructor("return process")()',
    '[].map.constructor("return 1")()',
    '"".constructor',
    'x["__proto__"]',
    'x.__proto__',
    '({}).toString',
    'f(x) = x',
    'x = 1',
    'pi = 3',
    'e = 1',
    'sin = cos',
    'ones(100000, 100000)',
    'zeros(1e9)',
    'range(1, 1e10)',
    '1:1e10',
    '[1, 2][1]',
    '{a: 1}.a',
    'x ? 1 : 0',
    '5 cm',
    'x!',
    'factorial(170)',
    'isPrime(x)',
    'process',
    'this',
    'globalThis',
    'require("fs")',
    '`x`',
    'x; 1',
  ];
  for (const src of exprs) {
    it(`rejects ${src}`, () => {
      expectInputError(() => load(base(`{ expr: ${JSON.stringify(src)} }`)), { file: 'fault.yaml', field: 'landscape.expr' });
      expect(({} as Record<string, unknown>)['x']).toBeUndefined();
    });
  }

  it('rejects prototype names as builtins and params, and does not pollute Object.prototype', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const err = expectInputError(() => load(base(`{ builtin: ${JSON.stringify(name)} }`)), { file: 'fault.yaml' });
      expect(err).toMatch(/landscape/);
    }
    expectInputError(() => load(base('{ expr: "x^2 + 1", params: { __proto__: 1 } }')), { file: 'fault.yaml' });
    expectInputError(() => load(base('{ expr: "x^2 + 1", params: { constructor: 1 } }')), { file: 'fault.yaml', field: 'landscape.params.constructor' });
    expectInputError(() => load(base('{ expr: "x^2 + 1" }'), ['__proto__.polluted=1']), { includes: ['--set'] });
    expectInputError(() => load(base('{ expr: "x^2 + 1" }'), ['landscape.constructor.prototype.polluted=1']), { includes: ['--set'] });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('a landscape that overflows on the grid is an input error at set-up, not a NaN run', () => {
    const loaded = load(base('{ expr: "exp(1000*x^2)" }'));
    expectInputError(() => setUp(loaded), { field: 'landscape', includes: ['not finite'] });
  });

  it('InputError is the only kind thrown, and its exit code is 2', () => {
    try {
      load(base('{ expr: "import({})" }'));
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).exitCode).toBe(EXIT.badInput);
    }
  });
});
