import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { InputError } from '../src/errors.js';
import { resolveLandscape } from '../src/landscape/builtins.js';
import { loadScenario, parseOverride, parseScenarioText } from '../src/scenario/load.js';
import { expectInputError, tempDir } from './scenario-helpers.js';

const PEARSON_YAML = `# the issue's example
name: pearson-1d
description: optional text
landscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }
domain: { bounds: [[-10, 10]], cells: [2000] }
noise: { model: multiplicative, eta: 0.1, sigma: 10 }
initial: { gaussian: { mean: [1.5], std: [0.2] } }
time: { end: 5, reportEvery: 0.05 }
diagnostics: { delta: 0.01 }
`;

type Json = Record<string, unknown>;

function base(): Json {
  return {
    name: 'pearson-1d',
    landscape: { expr: 'c + b*x^2', params: { c: 0.1, b: 0.5 } },
    domain: { bounds: [[-10, 10]], cells: [2000] },
    noise: { model: 'multiplicative', eta: 0.1, sigma: 10 },
    initial: { gaussian: { mean: [1.5], std: [0.2] } },
    time: { end: 5, reportEvery: 0.05 },
  };
}

/** base() with one edit applied; `undefined` deletes the field. */
function edited(path: string, value: unknown): Json {
  const s = base();
  const keys = path.split('.');
  let cur = s as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return s;
}

const asYaml = (s: Json): string => stringify(s);

describe('loading valid scenarios', () => {
  it("loads the issue's YAML example and fills defaults", () => {
    const dir = tempDir({ 'pearson.yaml': PEARSON_YAML });
    const file = join(dir, 'pearson.yaml');
    const { scenario, file: f, baseDir } = loadScenario(file);
    expect(f).toBe(file);
    expect(baseDir).toBe(dir);
    expect(scenario.name).toBe('pearson-1d');
    expect(scenario.description).toBe('optional text');
    expect(scenario.landscape).toEqual({ expr: 'c + b*x^2', params: { c: 0.1, b: 0.5 } });
    expect(scenario.domain).toEqual({ bounds: [[-10, 10]], cells: [2000] });
    expect(scenario.noise).toEqual({ model: 'multiplicative', eta: 0.1, sigma: 10 });
    expect(scenario.initial).toEqual({ gaussian: { mean: [1.5], std: [0.2] } });
    expect(scenario.time).toEqual({ end: 5, reportEvery: 0.05, integrator: 'auto', tolerance: 1e-6 });
    expect(scenario.diagnostics).toEqual({ delta: 0.01 });
  });

  it('loads JSON by extension, .yml as YAML, and defaults diagnostics to {}', () => {
    const dir = tempDir({ 's.json': JSON.stringify(base(), null, 2), 's.yml': asYaml(base()) });
    const a = loadScenario(join(dir, 's.json')).scenario;
    const b = loadScenario(join(dir, 's.yml')).scenario;
    expect(a).toEqual(b);
    expect(a.diagnostics).toEqual({});
    expect(a.description).toBeUndefined();
  });

  it('keeps explicit time settings and accepts every documented shape', () => {
    const dir = tempDir({ 'init.npy': new Uint8Array([0x93]) });
    const variants: Json[] = [
      edited('time', { end: 1, reportEvery: 1, integrator: 'trbdf2', dt: 1e-3, tolerance: 0.1 }),
      edited('noise', { model: 'multiplicative', eta: 0.1, sigma: 10, eps: 0 }),
      edited('noise', { model: 'additive', D: 0.1 }),
      edited('initial', { uniform: {} }),
      edited('initial', { uniform: { bounds: [[-1, 1]] } }),
      edited('initial', { file: 'init.npy' }),
      edited('landscape', { builtin: 'pearson' }),
      edited('landscape', { builtin: 'double-well', params: { floor: 0.01 } }),
      { ...base(), domain: { bounds: [[-1, 1], [0, 2], [-3, 3]], cells: [8, 8, 8] }, landscape: { expr: 'x^2 + y^2 + z^2' }, initial: { gaussian: { mean: [0, 1, 0], std: [1, 1, 1] } } },
    ];
    for (const v of variants) {
      const { scenario } = parseScenarioText(JSON.stringify(v), join(dir, 'v.json'));
      expect(scenario.noise).toEqual(v['noise']);
      expect(scenario.initial).toEqual(v['initial']);
    }
    const t = parseScenarioText(JSON.stringify(variants[0]), 'x.json').scenario.time;
    expect(t).toEqual({ end: 1, reportEvery: 1, integrator: 'trbdf2', dt: 1e-3, tolerance: 0.1 });
  });

  it('resolves initial.file against the scenario directory, not the working directory', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'rho0.npy'), 'x');
    const scen = asYaml(edited('initial', { file: 'data/rho0.npy' }));
    writeFileSync(join(dir, 's.yaml'), scen);
    expect(loadScenario(join(dir, 's.yaml')).scenario.initial).toEqual({ file: 'data/rho0.npy' });
    expectInputError(() => parseScenarioText(scen, join(dir, 'data', 's.yaml')), { field: 'initial.file', includes: ['no such file', join(dir, 'data', 'data', 'rho0.npy')] });
  });
});

describe('--set overrides', () => {
  const dir = tempDir({ 'p.yaml': PEARSON_YAML });
  const file = join(dir, 'p.yaml');

  it('noise.eta=0.05, domain.cells=[4000], landscape.params.b=2', () => {
    const { scenario } = loadScenario(file, ['noise.eta=0.05', 'domain.cells=[4000]', 'landscape.params.b=2']);
    expect(scenario.noise).toEqual({ model: 'multiplicative', eta: 0.05, sigma: 10 });
    expect(scenario.domain.cells).toEqual([4000]);
    expect(scenario.landscape.params).toEqual({ c: 0.1, b: 2 });
    expect(resolveLandscape(scenario.landscape, 1).compiled.at([1])).toBeCloseTo(2.1, 14);
  });

  it('indexes lists, adds fields, takes strings and maps, applies in order', () => {
    const s = loadScenario(file, [
      'domain.cells.0=512',
      'noise.eps=0.01',
      'time.integrator=rkl2',
      'name=other',
      'initial={uniform: {}}',
      'noise.eta=1',
      'noise.eta=2',
    ]).scenario;
    expect(s.domain.cells).toEqual([512]);
    expect(s.noise).toEqual({ model: 'multiplicative', eta: 2, sigma: 10, eps: 0.01 });
    expect(s.time.integrator).toBe('rkl2');
    expect(s.name).toBe('other');
    expect(s.initial).toEqual({ uniform: {} });
  });

  it('switches to 2-D when all axis fields are set together', () => {
    const s = loadScenario(file, ['domain.bounds=[[-1,1],[-2,2]]', 'domain.cells=[64,32]', 'landscape.expr=c + b*(x^2+y^2)', 'initial.gaussian={mean: [0,0], std: [1,1]}']).scenario;
    expect(s.domain).toEqual({ bounds: [[-1, 1], [-2, 2]], cells: [64, 32] });
  });

  it('validates overridden values and says they came from --set', () => {
    expectInputError(() => loadScenario(file, ['noise.eta=-1']), { file, field: 'noise.eta', includes: ['> 0', '(got -1)', '--set noise.eta=-1'] });
    expectInputError(() => loadScenario(file, ['domain.cells=[1]']), { file, field: 'domain.cells.0', includes: ['>= 2', '--set domain.cells=[1]'] });
    expectInputError(() => loadScenario(file, ['landscape.params.B=2']), { file, field: 'landscape.params.B', includes: ['not used'] });
  });

  const bad: { set: string; says: string }[] = [
    { set: 'noise.eta', says: "no '='" },
    { set: '=1', says: 'empty path' },
    { set: 'noise..eta=1', says: 'bad path segment' },
    { set: 'noise.eta=', says: 'empty value' },
    { set: 'noise.eta=[1,', says: 'not valid YAML' },
    { set: 'domain.cells=[1, 2', says: 'not valid YAML' },
    { set: '__proto__.polluted=1', says: 'bad path segment' },
    { set: 'landscape.constructor.x=1', says: 'bad path segment' },
    { set: '0.x=1', says: 'start with a field name' },
    { set: 'noise.eta.x=1', says: "'noise.eta' is 0.1" },
    { set: 'domain.cells.5=2', says: 'past the end' },
    { set: 'domain.cells.x=2', says: 'is a list' },
    { set: 'noise eta=1', says: 'bad path segment' },
  ];
  for (const { set, says } of bad) {
    it(`rejects --set ${JSON.stringify(set)}`, () => {
      const msg = expectInputError(() => loadScenario(file, [set]), { includes: [says, '--set', JSON.stringify(set)] });
      expect(msg).toContain('PATH=VALUE');
    });
  }

  it('parseOverride splits at the first = and parses the value as YAML', () => {
    expect(parseOverride('landscape.expr=x == 1')).toEqual({ spec: 'landscape.expr=x == 1', path: ['landscape', 'expr'], value: 'x == 1' });
    expect(parseOverride('domain.cells.1=7').path).toEqual(['domain', 'cells', 1]);
    expect(parseOverride('domain.cells=[512, 512]').value).toEqual([512, 512]);
    expect(parseOverride('noise.eta=1e-3').value).toBe(0.001);
  });

  it('cannot pollute Object.prototype', () => {
    expect(() => loadScenario(file, ['__proto__.polluted=1'])).toThrow(InputError);
    expectInputError(() => parseScenarioText('{"__proto__": {"polluted": 1}, "name": "a"}', 'p.json'), { file: 'p.json', includes: ['not a scenario file'] });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('bad scenarios give one-line InputErrors naming file and field (exit code 2)', () => {
  const cases: { what: string; scen: Json; field: string; says: readonly string[] }[] = [
    { what: 'missing top-level field', scen: edited('noise', undefined), field: 'noise', says: ['required'] },
    { what: 'missing name', scen: edited('name', undefined), field: 'name', says: ['required'] },
    { what: 'missing nested field', scen: edited('noise.sigma', undefined), field: 'noise.sigma', says: ['required', 'noise scale'] },
    { what: 'missing cells', scen: edited('domain.cells', undefined), field: 'domain.cells', says: ['required'] },
    { what: 'missing additive D', scen: edited('noise', { model: 'additive' }), field: 'noise.D', says: ['required'] },
    { what: 'missing noise model', scen: edited('noise', { eta: 1, sigma: 1 }), field: 'noise.model', says: ['required'] },
    { what: 'eta not a number', scen: edited('noise.eta', 'abc'), field: 'noise.eta', says: ['must be a finite number', '(got "abc")'] },
    { what: 'eta = 0', scen: edited('noise.eta', 0), field: 'noise.eta', says: ['> 0', '(got 0)'] },
    { what: 'eta < 0', scen: edited('noise.eta', -0.1), field: 'noise.eta', says: ['> 0', '(got -0.1)'] },
    { what: 'sigma <= 0', scen: edited('noise.sigma', 0), field: 'noise.sigma', says: ['> 0'] },
    { what: 'eps < 0', scen: edited('noise.eps', -1e-3), field: 'noise.eps', says: ['>= 0', '(got -0.001)'] },
    { what: 'additive D = 0', scen: edited('noise', { model: 'additive', D: 0 }), field: 'noise.D', says: ['> 0'] },
    { what: 'additive with eta', scen: edited('noise', { model: 'additive', D: 1, eta: 0.1 }), field: 'noise.eta', says: ['unknown field', 'model, D'] },
    { what: 'unknown noise model', scen: edited('noise.model', 'gaussian'), field: 'noise.model', says: ['multiplicative, additive', '"gaussian"'] },
    { what: 'noise not a mapping', scen: edited('noise', 3), field: 'noise', says: ['model: additive, D', '(got 3)'] },
    { what: 'cells < 2', scen: edited('domain.cells', [1]), field: 'domain.cells.0', says: ['integer >= 2', '(got 1)'] },
    { what: 'cells not integer', scen: edited('domain.cells', [100.5]), field: 'domain.cells.0', says: ['integer'] },
    { what: 'cells too many', scen: edited('domain.cells', [2e8]), field: 'domain.cells.0', says: ['<= 100000000'] },
    { what: 'cells not a list', scen: edited('domain.cells', 2000), field: 'domain.cells', says: ['a list'] },
    { what: 'bounds reversed', scen: edited('domain.bounds', [[10, -10]]), field: 'domain.bounds.0', says: ['lo < hi', '[10,-10]'] },
    { what: 'bounds empty interval', scen: edited('domain.bounds', [[1, 1]]), field: 'domain.bounds.0', says: ['lo < hi'] },
    { what: 'bounds not a pair', scen: edited('domain.bounds', [[0, 1, 2]]), field: 'domain.bounds.0', says: ['exactly 2 entries'] },
    { what: 'bounds entry not a number', scen: edited('domain.bounds', [[0, 'one']]), field: 'domain.bounds.0.1', says: ['number'] },
    { what: 'bounds/cells lengths differ', scen: edited('domain.cells', [100, 100]), field: 'domain.cells', says: ['one entry per axis', '1 axis'] },
    { what: 'zero axes', scen: edited('domain', { bounds: [], cells: [] }), field: 'domain.bounds', says: ['1 to 3 entries'] },
    { what: 'four axes', scen: edited('domain', { bounds: [[0, 1], [0, 1], [0, 1], [0, 1]], cells: [2, 2, 2, 2] }), field: 'domain.bounds', says: ['1 to 3 entries', 'not 4'] },
    { what: 'end = 0', scen: edited('time.end', 0), field: 'time.end', says: ['>= 1e-300'] },
    { what: 'reportEvery = 0', scen: edited('time.reportEvery', 0), field: 'time.reportEvery', says: ['>= 1e-300'] },
    { what: 'reportEvery > end', scen: edited('time.reportEvery', 6), field: 'time.reportEvery', says: ['<= time.end (5)', '(got 6)'] },
    { what: 'dt <= 0', scen: edited('time.dt', -1), field: 'time.dt', says: ['>= 1e-300'] },
    { what: 'tolerance too big', scen: edited('time.tolerance', 0.5), field: 'time.tolerance', says: ['>= 1e-14 and <= 0.1'] },
    { what: 'tolerance 0', scen: edited('time.tolerance', 0), field: 'time.tolerance', says: ['>= 1e-14 and <= 0.1'] },
    { what: 'unknown integrator', scen: edited('time.integrator', 'rk4'), field: 'time.integrator', says: ['auto, explicit, rkl2, backward-euler, trbdf2'] },
    { what: 'top-level typo', scen: (() => { const s = base(); s['nosie'] = s['noise']; delete s['noise']; return s; })(), field: 'nosie', says: ['unknown field', "did you mean 'noise'"] },
    { what: 'nested typo', scen: edited('noise', { model: 'multiplicative', etta: 0.1, sigma: 10 }), field: 'noise.etta', says: ["did you mean 'eta'"] },
    { what: 'time typo', scen: edited('time.report_every', 1), field: 'time.report_every', says: ["did you mean 'reportEvery'"] },
    { what: 'landscape with both forms', scen: edited('landscape', { expr: 'x^2', builtin: 'pearson' }), field: 'landscape', says: ['{ expr, params } or { builtin, params }'] },
    { what: 'landscape with neither form', scen: edited('landscape', { params: { b: 1 } }), field: 'landscape', says: ['{ expr, params } or { builtin, params }'] },
    { what: 'landscape param not a number', scen: edited('landscape.params', { c: 0.1, b: 'big' }), field: 'landscape.params.b', says: ['finite number'] },
    { what: 'landscape param bad name', scen: edited('landscape.params', { 'b-2': 1 }), field: 'landscape.params.b-2', says: ['letters, digits'] },
    { what: 'unknown variable', scen: edited('landscape.expr', 'c + b*w^2'), field: 'landscape.expr', says: ["unknown name 'w'"] },
    { what: 'variable of another dimension', scen: edited('landscape.expr', 'c + b*x*y'), field: 'landscape.expr', says: ["variable 'y'", '1-D'] },
    { what: 'unknown function', scen: edited('landscape.expr', 'c + b*gamma(x)'), field: 'landscape.expr', says: ["unknown function 'gamma'"] },
    { what: 'escape attempt', scen: edited('landscape.expr', 'import({}) + c + b'), field: 'landscape.expr', says: ["'import'"] },
    { what: 'unused param', scen: edited('landscape.expr', 'c + x^2'), field: 'landscape.params.b', says: ['not used'] },
    { what: 'unknown builtin', scen: edited('landscape', { builtin: 'himmelblau' }), field: 'landscape.builtin', says: ['unknown builtin', 'pearson', '"himmelblau"'] },
    { what: 'unknown builtin param', scen: edited('landscape', { builtin: 'pearson', params: { k: 1 } }), field: 'landscape.params.k', says: ["builtin 'pearson'", 'c, b'] },
    { what: 'builtin in the wrong dimension', scen: edited('landscape', { builtin: 'rosenbrock' }), field: 'landscape.builtin', says: ['2-D only'] },
    { what: 'initial with two forms', scen: edited('initial', { uniform: {}, file: 'x.npy' }), field: 'initial', says: ['exactly one of'] },
    { what: 'initial empty', scen: edited('initial', {}), field: 'initial', says: ['exactly one of'] },
    { what: 'gaussian mean length', scen: edited('initial.gaussian', { mean: [0, 0], std: [1] }), field: 'initial.gaussian.mean', says: ['one entry per axis (1)'] },
    { what: 'gaussian std length', scen: edited('initial.gaussian', { mean: [0], std: [1, 1] }), field: 'initial.gaussian.std', says: ['one entry per axis (1)'] },
    { what: 'gaussian std <= 0', scen: edited('initial.gaussian', { mean: [0], std: [0] }), field: 'initial.gaussian.std.0', says: ['> 0'] },
    { what: 'gaussian mean outside', scen: edited('initial.gaussian', { mean: [11], std: [1] }), field: 'initial.gaussian.mean.0', says: ['inside the domain [-10, 10]'] },
    { what: 'gaussian missing std', scen: edited('initial.gaussian', { mean: [0] }), field: 'initial.gaussian.std', says: ['required'] },
    { what: 'uniform bounds outside', scen: edited('initial', { uniform: { bounds: [[-20, 0]] } }), field: 'initial.uniform.bounds.0', says: ['inside the domain'] },
    { what: 'uniform bounds reversed', scen: edited('initial', { uniform: { bounds: [[1, 0]] } }), field: 'initial.uniform.bounds.0', says: ['lo < hi'] },
    { what: 'uniform bounds count', scen: edited('initial', { uniform: { bounds: [[0, 1], [0, 1]] } }), field: 'initial.uniform.bounds', says: ['per axis (1)'] },
    { what: 'initial file missing', scen: edited('initial', { file: 'nope.npy' }), field: 'initial.file', says: ['no such file', 'nope.npy'] },
    { what: 'delta <= 0', scen: edited('diagnostics', { delta: 0 }), field: 'diagnostics.delta', says: ['> 0'] },
    { what: 'diagnostics typo', scen: edited('diagnostics', { detla: 1 }), field: 'diagnostics.detla', says: ["did you mean 'delta'"] },
    { what: 'name with a slash', scen: edited('name', '../etc'), field: 'name', says: ['letters, digits'] },
    { what: 'name empty', scen: edited('name', ''), field: 'name', says: ['must not be empty'] },
    { what: 'description not text', scen: edited('description', 42), field: 'description', says: ['a string'] },
  ];

  for (const c of cases) {
    it(`${c.what} (YAML and JSON)`, () => {
      expectInputError(() => parseScenarioText(asYaml(c.scen), 'scen.yaml'), { file: 'scen.yaml', field: c.field, includes: c.says });
      expectInputError(() => parseScenarioText(JSON.stringify(c.scen), 'scen.json'), { file: 'scen.json', field: c.field, includes: c.says });
    });
  }

  it('non-finite YAML numbers are rejected', () => {
    const text = PEARSON_YAML.replace('eta: 0.1', 'eta: .inf');
    expectInputError(() => parseScenarioText(text, 's.yaml'), { file: 's.yaml', field: 'noise.eta', includes: ['finite', 'Infinity'] });
    const nan = PEARSON_YAML.replace('[[-10, 10]]', '[[-10, .nan]]');
    expectInputError(() => parseScenarioText(nan, 's.yaml'), { file: 's.yaml', field: 'domain.bounds.0.1' });
  });

  it('a scenario that is not a mapping', () => {
    expectInputError(() => parseScenarioText('- a\n- b\n', 's.yaml'), { file: 's.yaml', includes: ['must be a mapping'] });
    expectInputError(() => parseScenarioText('', 's.yaml'), { file: 's.yaml', includes: ['must be a mapping'] });
    expectInputError(() => parseScenarioText('42', 's.json'), { file: 's.json', includes: ['must be a mapping', '(got a number)'] });
  });

  it('YAML tags are data, never code', () => {
    const text = PEARSON_YAML.replace('name: pearson-1d', 'name: !!js/function "function () { return 1 }"');
    expectInputError(() => parseScenarioText(text, 's.yaml'), { file: 's.yaml', field: 'name' });
  });
});

describe('malformed files and missing files', () => {
  it('malformed YAML names file and line', () => {
    const text = 'name: a\nlandscape: { expr: "x^2"\ndomain: {}\n';
    const msg = expectInputError(() => parseScenarioText(text, 'bad.yaml'), { file: 'bad.yaml', includes: ['malformed YAML', 'line '] });
    expect(msg).toMatch(/line [23]/);
  });

  it('YAML indentation error on line 4', () => {
    const text = 'name: a\nnoise:\n  model: additive\n D: 1\n';
    expectInputError(() => parseScenarioText(text, 'bad.yml'), { file: 'bad.yml', includes: ['malformed YAML at line 4'] });
  });

  it('duplicate YAML keys are an error with the line of the duplicate', () => {
    const text = 'name: a\nname: b\n';
    expectInputError(() => parseScenarioText(text, 'dup.yaml'), { file: 'dup.yaml', field: 'name', includes: ['duplicate key "name" (lines 1 and 2)'] });
  });

  it('malformed JSON names file and line', () => {
    const text = '{\n  "name": "a",\n  "noise": { "eta": 0.1, }\n}\n';
    expectInputError(() => parseScenarioText(text, 'bad.json'), { file: 'bad.json', includes: ['malformed JSON at line 3'] });
    expectInputError(() => parseScenarioText('{"name": "a",', 'cut.json'), { file: 'cut.json', includes: ['malformed JSON at line 1'] });
  });

  it('trailing garbage in JSON, several YAML documents and alias bombs are malformed', () => {
    const j = expectInputError(() => parseScenarioText('{"a": 1}\n x', 't.json'), { file: 't.json', includes: ['malformed JSON at line 2'] });
    expect(j).not.toContain('position');
    expectInputError(() => parseScenarioText('a: 1\n---\nb: 2\n', 'two.yaml'), { file: 'two.yaml', includes: ['malformed YAML at line 2', 'one YAML document'] });
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${new Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');
    expectInputError(() => parseScenarioText(bomb, 'bomb.yaml'), { file: 'bomb.yaml', includes: ['malformed YAML'] });
  });

  it('missing file names the file', () => {
    const path = join(tempDir(), 'absent.yaml');
    expectInputError(() => loadScenario(path), { file: path, includes: ['no such file'] });
    expect(() => loadScenario(path)).toThrow(/^\/.*absent\.yaml: /);
  });

  it('a directory is not a scenario', () => {
    const dir = tempDir();
    expectInputError(() => loadScenario(dir), { file: dir, includes: ['directory'] });
  });

  it('a malformed --set is reported even when the file is fine', () => {
    const dir = tempDir({ 'p.yaml': PEARSON_YAML });
    expectInputError(() => loadScenario(join(dir, 'p.yaml'), ['eta']), { includes: ['--set "eta"'] });
  });
});
