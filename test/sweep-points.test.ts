import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { buildPoints, linspace, logspace, parseSetArg, parseSweepFile, parseValues, looksLikeSweepFile } from '../src/sweep/points.js';
import { canonicalJson, pointKey } from '../src/sweep/key.js';
import { inShard, parseShard, shardFromSlurm } from '../src/sweep/shard.js';
import { dedupeRecords, isFinal, recordFromChild, type SweepRecord } from '../src/sweep/record.js';
import { plotSpec, summaryColumns, summaryRows, wantsLog } from '../src/sweep/summary.js';
import { createProgress } from '../src/sweep/progress.js';
import { InputError } from '../src/errors.js';
import { overrideYamlParses, parseOverride, parseScenarioText } from '../src/scenario/load.js';

const closeRel = (a: number, b: number, tol = 4e-16): void => {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(Math.abs(a), Math.abs(b)));
};

describe('sweep values', () => {
  it('linspace and logspace match numpy', () => {
    // Values printed by numpy 1.x: np.linspace(0,1,7).tolist(), np.logspace(-2,0,9).tolist().
    const lin = [0.0, 0.16666666666666666, 0.3333333333333333, 0.5, 0.6666666666666666, 0.8333333333333333, 1.0];
    const log = [0.01, 0.01778279410038923, 0.03162277660168379, 0.05623413251903491, 0.1, 0.1778279410038923, 0.31622776601683794, 0.5623413251903491, 1.0];
    linspace(0, 1, 7).forEach((v, i) => closeRel(v, lin[i]!));
    logspace(-2, 0, 9).forEach((v, i) => closeRel(v, log[i]!, 1e-15));
    expect(parseValues('linspace(0, 1, 7)', 'x')).toEqual(linspace(0, 1, 7));
    expect(parseValues('logspace(-2,0,9)', 'x')).toHaveLength(9);
    // numpy: linspace(a, b, 1) == [a]; the last value is b exactly (not a + 6·step).
    expect(linspace(3, 5, 1)).toEqual([3]);
    expect(linspace(0.1, 0.7, 7)[6]).toBe(0.7);
  });

  it('parses YAML lists, comma lists and scalars', () => {
    expect(parseValues('[0.1, 0.2]', 'x')).toEqual([0.1, 0.2]);
    expect(parseValues('1,2,4', 'x')).toEqual([1, 2, 4]);
    expect(parseValues(' 0.5 ', 'x')).toEqual([0.5]);
    expect(parseValues('[[200],[400]]', 'x')).toEqual([[200], [400]]);
    expect(parseValues('rkl2,trbdf2', 'x')).toEqual(['rkl2', 'trbdf2']);
  });

  it('rejects bad value lists with one-line messages', () => {
    for (const bad of ['linspace(0,1)', 'logspace(0,1,0)', 'linspace(0,1,2.5)', 'logspace(0,400,3)', '[]', '1,,2', '[.inf]', '']) {
      expect(() => parseValues(bad, '--set a=b'), bad).toThrow(InputError);
    }
    expect(() => parseSetArg('noise.eta')).toThrow(/PATH=VALUES/);
    expect(() => parseSetArg('noise..eta=1')).toThrow(/bad scenario path/);
    expect(() => parseValues('logspace(0,400,3)', 'where')).toThrow(/overflows/);
    // A misspelt generator must not be split at its commas into three string values.
    expect(() => parseValues('lnspace(1,2,3)', 'where')).toThrow(/unknown value generator 'lnspace'/);
  });
});

describe('sweep points', () => {
  const a = { path: 'noise.eta', values: [0.1, 0.2, 0.3] };
  const b = { path: 'noise.sigma', values: [1, 2] };

  it('Cartesian product: size is the product, last axis fastest, every pair once', () => {
    const pts = buildPoints([a, b], false);
    expect(pts).toHaveLength(6);
    expect(pts.map((p) => [p.params['noise.eta'], p.params['noise.sigma']])).toEqual([
      [0.1, 1], [0.1, 2], [0.2, 1], [0.2, 2], [0.3, 1], [0.3, 2],
    ]);
    expect(pts.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pts[3]!.overrides).toEqual(['noise.eta=0.2', 'noise.sigma=2']);
  });

  it('zip pairs values and needs equal lengths', () => {
    const pts = buildPoints([a, { path: 'noise.sigma', values: [1, 2, 3] }], true);
    expect(pts.map((p) => p.overrides.join(' '))).toEqual(['noise.eta=0.1 noise.sigma=1', 'noise.eta=0.2 noise.sigma=2', 'noise.eta=0.3 noise.sigma=3']);
    expect(() => buildPoints([a, b], true)).toThrow(/same number of values.*has 3.*has 2/);
    expect(() => buildPoints([a, a], false)).toThrow(/swept twice/);
  });

  it('no axes: one point, the base scenario', () => {
    expect(buildPoints([], false)).toEqual([{ index: 0, params: {}, overrides: [] }]);
  });

  it('overrides round-trip through the scenario loader', () => {
    // JSON text is YAML, so the loader must see exactly the number that was generated.
    const v = logspace(-2, 0, 9)[1]!;
    const [p] = buildPoints([{ path: 'noise.eta', values: [v] }], false);
    const s = parseScenarioText(MINI, 'mini.yaml', p!.overrides).scenario;
    expect(s.noise.model === 'multiplicative' && s.noise.eta).toBe(v);
  });

  it('a sweep file says the same as the command line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fps-sweepfile-'));
    const file = join(dir, 'sweep.yaml');
    writeFileSync(file, "scenario: base.yaml\nset:\n  noise.eta: logspace(-2,0,3)\n  noise.sigma: [1, 2]\n  time.end: 4\n");
    const doc = parseYaml("scenario: base.yaml\nset:\n  noise.eta: logspace(-2,0,3)\n  noise.sigma: [1, 2]\n  time.end: 4\n") as unknown;
    expect(looksLikeSweepFile(doc)).toBe(true);
    const sf = parseSweepFile(doc, file);
    expect(sf.scenario).toBe(join(dir, 'base.yaml'));
    const fromFile = buildPoints(sf.axes, sf.zip);
    const fromCli = buildPoints(['noise.eta=logspace(-2,0,3)', 'noise.sigma=[1,2]', 'time.end=4'].map(parseSetArg), false);
    expect(fromFile).toEqual(fromCli);
    expect(fromFile).toHaveLength(6);
    expect(() => parseSweepFile({ scenario: 'x', set: {}, zip: 'yes' }, file)).toThrow(/zip/);
    expect(() => parseSweepFile({ scenario: 'x', set: {}, extra: 1 }, file)).toThrow(/unknown field/);
  });
});

const MINI = `
name: mini
landscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }
domain: { bounds: [[-10, 10]], cells: [200] }
noise: { model: multiplicative, eta: 0.1, sigma: 10 }
initial: { gaussian: { mean: [1.5], std: [0.5] } }
time: { end: 1, reportEvery: 0.1 }
`;

describe('point keys', () => {
  it('depend on the resolved scenario, not on how it was spelled', () => {
    const base = parseScenarioText(MINI, 'mini.yaml').scenario;
    const viaSet = parseScenarioText(MINI, 'mini.yaml', ['noise.eta=0.1']).scenario;
    const reordered = parseScenarioText(MINI.replace('eta: 0.1, sigma: 10', 'sigma: 10, eta: 0.1'), 'mini.yaml').scenario;
    const other = parseScenarioText(MINI, 'mini.yaml', ['noise.eta=0.2']).scenario;
    const k = pointKey(base, '1.0.0');
    expect(pointKey(viaSet, '1.0.0')).toBe(k);
    expect(pointKey(reordered, '1.0.0')).toBe(k);
    expect(pointKey(other, '1.0.0')).not.toBe(k);
    expect(pointKey(base, '1.0.1')).not.toBe(k);
    expect(pointKey(base, '1.0.0', ['--gap'])).not.toBe(k);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
  });
});

describe('shards', () => {
  it('k/n splits the indices into n disjoint sets covering all (points k, k+n, … counted from 1)', () => {
    const n = 4;
    const owners = Array.from({ length: 11 }, (_, i) => [1, 2, 3, 4].filter((k) => inShard(i, parseShard(`${k}/${n}`))));
    owners.forEach((o) => expect(o).toHaveLength(1));
    // Shard 3/4 runs points 3, 7, 11 (1-based) = indices 2, 6, 10.
    expect(owners.flatMap((o, i) => (o[0] === 3 ? [i] : []))).toEqual([2, 6, 10]);
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '2']) expect(() => parseShard(bad), bad).toThrow(/--shard must be k\/n/);
  });

  it('auto reads Slurm arrays starting at 0 or 1, with COUNT or MIN/MAX, and with a step', () => {
    expect(shardFromSlurm({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '15' })).toEqual({ k: 1, n: 16 });
    expect(shardFromSlurm({ SLURM_ARRAY_TASK_ID: '16', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '16' })).toEqual({ k: 16, n: 16 });
    expect(shardFromSlurm({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '8' })).toEqual({ k: 3, n: 8 });
    expect(shardFromSlurm({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '30', SLURM_ARRAY_TASK_STEP: '2' })).toEqual({ k: 3, n: 16 });
    expect(parseShard('auto', { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ k: 3, n: 4 });
    expect(() => shardFromSlurm({})).toThrow(/SLURM_ARRAY_TASK_ID is not set/);
    expect(() => shardFromSlurm({ SLURM_ARRAY_TASK_ID: '2' })).toThrow(/COUNT or SLURM_ARRAY_TASK_MIN\/MAX/);
    expect(() => shardFromSlurm({ SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(/outside the array/);
  });
});

function rec(over: Partial<SweepRecord>): SweepRecord {
  return {
    key: 'k', index: 0, params: { 'noise.eta': 0.1 }, status: 'ok', error: null, errorKind: null, regime: 'converging',
    rates: { chi: { value: 1.5, window: [1, 2] }, kl: null, meanLoss: null }, gap: null,
    final: { l1: 0.1, kl: 0.01, chi2: 0.02, meanLoss: 0.3, massBelowDelta: 0.5 }, wallSeconds: 1, fpsolve: '0', scenario: 's', ...over,
  };
}

describe('records', () => {
  it('validation and numerical failures are final; crashes and timeouts are retried', () => {
    expect(isFinal(rec({}))).toBe(true);
    expect(isFinal(rec({ status: 'failed', errorKind: 'input' }))).toBe(true);
    expect(isFinal(rec({ status: 'failed', errorKind: 'numerical' }))).toBe(true);
    expect(isFinal(rec({ status: 'failed', errorKind: 'crash' }))).toBe(false);
    expect(isFinal(rec({ status: 'failed', errorKind: 'timeout' }))).toBe(false);
  });

  it('dedupe keeps one record per key, a final one over a retryable one, in index order', () => {
    const out = dedupeRecords([
      rec({ key: 'b', index: 1, status: 'failed', errorKind: 'crash' }),
      rec({ key: 'a', index: 0 }),
      rec({ key: 'b', index: 1, wallSeconds: 7 }),
      rec({ key: 'b', index: 1, status: 'failed', errorKind: 'timeout' }),
    ]);
    expect(out.map((r) => [r.key, r.status, r.wallSeconds])).toEqual([['a', 'ok', 1], ['b', 'ok', 7]]);
  });

  it('child exit codes map to failure kinds; interrupted runs leave no record', () => {
    const id = { key: 'k', index: 3, params: {}, fpsolve: '0', scenario: 's' };
    expect(recordFromChild(id, { ok: false, error: "f.yaml: field 'noise.eta': must be > 0\n", exitCode: 2, wallSeconds: 0.5 }, false)).toMatchObject({ status: 'failed', errorKind: 'input', error: "f.yaml: field 'noise.eta': must be > 0" });
    const crash = recordFromChild(id, { ok: false, error: 'file:///x/check.js:9\nimport { y } from "./z.js";\n         ^\nSyntaxError: no export named y\n    at foo', exitCode: 1, wallSeconds: 0.5 }, false);
    expect(crash).toMatchObject({ errorKind: 'crash', error: 'SyntaxError: no export named y' });
    expect(recordFromChild(id, { ok: false, error: 'killed', exitCode: null, wallSeconds: 0.5 }, false)?.errorKind).toBe('crash');
    expect(recordFromChild(id, { ok: false, error: 'killed', exitCode: null, wallSeconds: 0.5 }, true)).toBeNull();
    expect(recordFromChild(id, { ok: false, error: 'interrupted', exitCode: 143, wallSeconds: 0.5 }, false)).toBeNull();
  });

  it('summary rows follow the columns, one per point in index order', () => {
    const cols = summaryColumns(['noise.eta', 'domain.cells']);
    const rows = summaryRows([rec({ index: 2, params: { 'noise.eta': 0.3, 'domain.cells': [400] } }), rec({ index: 0, params: { 'noise.eta': 0.1, 'domain.cells': [200] } })], ['noise.eta', 'domain.cells']);
    expect(rows.map((r) => r.length)).toEqual([cols.length, cols.length]);
    expect(rows.map((r) => r[0])).toEqual([0, 2]);
    expect(rows[1]![cols.indexOf('domain.cells')]).toBe('[400]');
    expect(rows[1]![cols.indexOf('rate_chi')]).toBe(1.5);
    expect(rows[1]![cols.indexOf('rate_chi_t1')]).toBe(2);
    expect(wantsLog([0.01, 0.1, 1])).toBe(true);
    expect(wantsLog([1, 2, 4, 8])).toBe(false);
    expect(wantsLog([-1, 100])).toBe(false);
  });
});

describe('plots and progress', () => {
  it('the plot spec uses a log x axis for values spanning decades, one panel per measure with data, regime as colour', () => {
    const recs = [0.01, 0.1, 1].map((eta, i) => rec({ key: `k${i}`, index: i, params: { 'noise.eta': eta, 'domain.cells': [200 * (i + 1)] }, regime: i === 2 ? 'collapsing' : 'converging' }));
    recs.push(rec({ key: 'bad', index: 3, status: 'failed', errorKind: 'input', params: { 'noise.eta': -1 } }));
    const spec = plotSpec(recs, 'noise.eta') as unknown as { vconcat: { title: string; data: { values: { x: number; y: number; regime: string }[] }; encoding: { x: { scale: { type?: string } }; color: { field: string } } }[] };
    // Only rates.chi has values in these records: one panel, three ok points (the failed one is left out).
    expect(spec.vconcat.map((c) => c.title)).toEqual(['rates.chi']);
    expect(spec.vconcat[0]!.data.values.map((d) => d.x)).toEqual([0.01, 0.1, 1]);
    expect(spec.vconcat[0]!.encoding.x.scale.type).toBe('log');
    expect(spec.vconcat[0]!.encoding.color.field).toBe('regime');
    const cells = plotSpec(recs, 'domain.cells') as unknown as { vconcat: { data: { values: { x: number }[] }; encoding: { x: { scale: { type?: string } } } }[] };
    expect(cells.vconcat[0]!.data.values.map((d) => d.x)).toEqual([200, 400, 600]);
    expect(cells.vconcat[0]!.encoding.x.scale.type).toBeUndefined();
    expect(plotSpec([recs[3]!], 'noise.eta')).toBeNull();
  });

  it('progress on a non-terminal stream is plain lines with counts and no escape codes', () => {
    let text = '';
    const stream = { isTTY: false, write: (s: string) => { text += s; return true; } } as unknown as NodeJS.WriteStream;
    const p = createProgress({ stream, lineEverySeconds: 3600 });
    p.start(5, 2);
    p.pointDone(false);
    p.pointDone(true, 'point 3 failed: bad');
    p.pointDone(false);
    p.stop();
    expect(text).not.toMatch(/\x1b/);
    const lines = text.trim().split('\n');
    // start line, the failure, and the final count (the interval suppresses the others)
    expect(lines).toEqual(['sweep: 5 points, 2 already done', 'sweep: point 3 failed: bad', expect.stringMatching(/^sweep: 5\/5 done, 1 failed, /)]);
  });
});

describe('--set values of sweep points', () => {
  it('a plain decimal number is read as YAML reads it, without the YAML parser', () => {
    // What sweeps write (JSON.stringify of linspace/logspace values) and what people type.
    const texts = [
      ...linspace(0.05, 0.2, 128).map((v) => JSON.stringify(v)),
      ...logspace(-12, 12, 97).map((v) => JSON.stringify(v)),
      ...[1e21, 1e-7, 6.000000000000001e-7, 5e-324, 1.7976931348623157e308, 2 ** 53 + 2, -0].map((v) => JSON.stringify(v)),
      '0', '-0', '7', '-12', '9999999999999999', '9007199254740993', '0.1', '-0.000', '1.50', '3.141592653589793238', '1e5', '1E+5', '2.5e-3', '-1.0e-300', '1e400', '-1e-400',
    ];
    const before = overrideYamlParses.count;
    for (const t of texts) {
      const got = parseOverride(`noise.eta=${t}`).value;
      // The independent reading: the YAML library itself (core schema, as parseOverride uses it).
      const want = parseYaml(t) as unknown;
      expect(typeof got, t).toBe('number');
      expect(Object.is(got, want), `${t}: ${String(got)} vs YAML ${String(want)}`).toBe(true);
    }
    expect(overrideYamlParses.count).toBe(before);
  });

  it('anything else still goes through YAML: lists, strings, other number forms, errors', () => {
    const before = overrideYamlParses.count;
    const cases: [string, unknown][] = [['[512, 512]', [512, 512]], ['.5', 0.5], ['+3', 3], ['0x10', 16], ['1.', 1], ['.inf', Infinity], ['007', 7], ['abc', 'abc'], ['1e', '1e'], ['1_000', '1_000']];
    for (const [t, want] of cases) expect(parseOverride(`x.y=${t}`).value, t).toEqual(want);
    expect(overrideYamlParses.count).toBe(before + cases.length);
    expect(() => parseOverride('x.y=[1, 2')).toThrow(/not valid YAML/);
  });
});

