// `--set` on a block with alternatives (#20.6): a path naming another alternative's field replaces
// the block instead of merging into it. Checked over every such block of the scenario schema, for
// every ordered pair of alternatives, with the schema validator as the judge: the plain merge is
// refused by it and the replacement is accepted.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { encodeNpy } from '../src/io/npy.js';
import { applyOverrides, parseOverride, parseScenarioText } from '../src/scenario/load.js';
import { clearOtherAlternatives, exclusiveBlocks, scenarioExclusiveBlocks, scenarioVariantBlocks, switchVariant, variantBlocks } from '../src/scenario/oneof.js';
import { schemaPath, schemaValidator } from '../src/schema.js';
import { expectInputError, tempDir } from './scenario-helpers.js';

type Json = Record<string, unknown>;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CSV = join(ROOT, 'scenarios', 'data', 'neuron.csv');
const CELLS = 40;
const dir = tempDir({ 'rho0.npy': encodeNpy(new Float64Array(CELLS).fill(0.25), [CELLS]) });
const NPY = join(dir, 'rho0.npy');

const teacher = { params: { w: 1 }, n: 50, seed: 1 };
const dataBlock = (alt: Json): Json => ({ model: 'linear', grid: ['w'], ...alt });

/**
 * Per block, per alternative: the block as a scenario holds it (`block`, with the optional shared
 * fields that a switch must drop where the schema has any) and the value a `--set` of that
 * alternative's field writes (`set`, complete, so that the result is a valid scenario).
 */
const FIXTURES: Record<string, Record<string, { block: Json; set: unknown }>> = {
  landscape: {
    expr: { block: { expr: 'c + b*x^2', params: { c: 1, b: 0.5 } }, set: 'x^2/2 + 1' },
    builtin: { block: { builtin: 'pearson', params: { c: 0.5 } }, set: 'pearson' },
    data: { block: { data: dataBlock({ teacher }) }, set: dataBlock({ teacher }) },
  },
  'landscape.data': {
    file: { block: dataBlock({ file: CSV, columns: { x: 'x', y: 'y' } }), set: CSV },
    teacher: { block: dataBlock({ teacher, fixed: { b: 0.1 } }), set: teacher },
  },
  initial: {
    gaussian: { block: { gaussian: { mean: [0.5], std: [0.3] } }, set: { mean: [-0.5], std: [0.4] } },
    uniform: { block: { uniform: { bounds: [[-1, 1]] } }, set: { bounds: [[0, 1.5]] } },
    file: { block: { file: NPY }, set: NPY },
  },
};

function scenario(): Json {
  return {
    name: 'oneof',
    landscape: { expr: 'x^2/2 + 1' },
    domain: { bounds: [[-2, 2]], cells: [CELLS] },
    noise: { model: 'additive', D: 0.5 },
    initial: { uniform: {} },
    time: { end: 0.1, reportEvery: 0.1 },
  };
}

/** The scenario with the block at `path` set to `block` (landscape.data sits inside a data landscape). */
function withBlock(path: string, block: Json): Json {
  const s = scenario();
  if (path === 'landscape.data') s['landscape'] = { data: block };
  else s[path] = block;
  return s;
}

const get = (o: Json, path: string): Json => path.split('.').reduce<Json>((a, k) => a[k] as Json, o);

/** Counted straight from the schema text: every oneOf whose branches all name fields, and every maxProperties: 1 mapping. */
function schemaBlockCount(): number {
  let n = 0;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) {
      const o = v as Json;
      if (Array.isArray(o['oneOf']) && (o['oneOf'] as Json[]).every((b) => Array.isArray(b['required']) || typeof b['properties'] === 'object')) n++;
      if (o['maxProperties'] === 1) n++;
      Object.values(o).forEach(visit);
    }
  };
  visit(JSON.parse(readFileSync(schemaPath('scenario'), 'utf8')));
  return n;
}

describe('--set on a block with alternatives', () => {
  const blocks = scenarioExclusiveBlocks();

  it('finds every one-of block of the scenario schema, and the fixtures cover each alternative', () => {
    expect(blocks).toHaveLength(schemaBlockCount());
    for (const b of blocks) {
      const fx = FIXTURES[b.path.join('.')];
      expect(fx, `no fixtures for ${b.path.join('.')}`).toBeDefined();
      expect(b.alternatives.map((a) => a.find((k) => fx![k]) ?? `(${a.join(', ')})`).sort()).toEqual(Object.keys(fx!).sort());
    }
  });

  const validate = schemaValidator('scenario');
  for (const [path, alts] of Object.entries(FIXTURES)) {
    for (const [from, { block }] of Object.entries(alts)) {
      for (const [to, { set }] of Object.entries(alts)) {
        if (from === to) continue;
        it(`${path}: from ${from}, --set ${path}.${to}=… replaces the block`, () => {
          const raw = withBlock(path, block);
          // The base is valid, and the plain merge the loader used to do is not: this pair is a real test.
          expect(validate(structuredClone(raw)), JSON.stringify(validate.errors)).toBe(true);
          const merged = structuredClone(raw);
          get(merged, path)[to] = set;
          expect(validate(merged)).toBe(false);

          const loaded = parseScenarioText(stringify(raw), join(dir, 'oneof.yaml'), [`${path}.${to}=${JSON.stringify(set)}`]);
          const got = get(loaded.scenario as unknown as Json, path);
          expect(got[to]).toEqual(set);
          expect(got).not.toHaveProperty(from);
          // What stays: only what every alternative requires (landscape.data's model and grid).
          const b = blocks.find((x) => x.path.join('.') === path)!;
          for (const k of Object.keys(got)) expect([to, ...b.required], `${path}.${k} kept`).toContain(k);
          for (const k of b.required) expect(got[k]).toEqual(block[k]);
        });
      }
    }
  }

  it('a --set within the current alternative merges, keeping its other fields', () => {
    const s = stringify(withBlock('landscape', { expr: 'c + b*x^2', params: { c: 1, b: 0.5 } }));
    expect(parseScenarioText(s, join(dir, 'a.yaml'), ['landscape.params.c=2']).scenario.landscape).toEqual({ expr: 'c + b*x^2', params: { c: 2, b: 0.5 } });
    const g = stringify(withBlock('initial', { gaussian: { mean: [0.5], std: [0.3] } }));
    expect(parseScenarioText(g, join(dir, 'b.yaml'), ['initial.gaussian.std=[0.6]']).scenario.initial).toEqual({ gaussian: { mean: [0.5], std: [0.6] } });
    const d = stringify(withBlock('landscape.data', dataBlock({ file: CSV, columns: { x: 'x', y: 'y' } })));
    const data = get(parseScenarioText(d, join(dir, 'c.yaml'), ['landscape.data.fixed.b=0.2']).scenario as unknown as Json, 'landscape.data');
    expect(data).toEqual(dataBlock({ file: CSV, columns: { x: 'x', y: 'y' }, fixed: { b: 0.2 } }));
  });

  it('a deeper path into another alternative starts that alternative afresh; later --set merge into it', () => {
    const s = stringify(withBlock('initial', { gaussian: { mean: [0.5], std: [0.3] } }));
    expect(parseScenarioText(s, join(dir, 'd.yaml'), ['initial.uniform.bounds=[[-1, 0]]']).scenario.initial).toEqual({ uniform: { bounds: [[-1, 0]] } });
    const l = stringify(withBlock('landscape', { builtin: 'pearson', params: { c: 0.5 } }));
    const land = parseScenarioText(l, join(dir, 'e.yaml'), ['landscape.expr=a + x^2', 'landscape.params.a=3']).scenario.landscape;
    expect(land).toEqual({ expr: 'a + x^2', params: { a: 3 } });
    // An incomplete alternative is the schema's to refuse, naming the missing field and the --set.
    expectInputError(() => parseScenarioText(s, join(dir, 'f.yaml'), ['initial.file=no-such.npy']), { field: 'initial.file' });
    expectInputError(() => parseScenarioText(stringify(withBlock('initial', { file: NPY })), join(dir, 'g.yaml'), ['initial.gaussian.mean=[0]']), {
      field: 'initial.gaussian.std',
      includes: ['required field is missing'],
    });
  });

  describe('on a schema where one field belongs to several alternatives', () => {
    const schema = {
      type: 'object',
      properties: {
        box: { type: 'object', required: ['id'], properties: { id: {}, a: {}, b: {}, c: {}, d: {}, note: {} }, oneOf: [{ required: ['a', 'b'] }, { required: ['a', 'c'] }, { required: ['d'] }] },
        list: { type: 'array', items: { type: 'object', maxProperties: 1, properties: { p: {}, q: {} } } },
      },
    };
    const found = exclusiveBlocks(schema);

    it('reads both shapes, through list items, and the shared required fields', () => {
      expect(found).toEqual([
        { path: ['box'], alternatives: [['a', 'b'], ['a', 'c'], ['d']], required: ['id'] },
        { path: ['list', '*'], alternatives: [['p'], ['q']], required: [] },
      ]);
    });

    it('drops the other alternatives, keeps what can still be one of those the field belongs to', () => {
      const fromD = { id: 1, d: 1, note: 'x' };
      clearOtherAlternatives(fromD, ['box'], 'a', 'box.a=1', found);
      expect(fromD).toEqual({ id: 1 });
      const fromB = { id: 1, a: 0, b: 2, note: 'x' };
      clearOtherAlternatives(fromB, ['box'], 'a', 'box.a=1', found);
      expect(fromB).toEqual({ id: 1, a: 0, b: 2, note: 'x' });
      const item = { p: 1 };
      clearOtherAlternatives(item, ['list', 3], 'q', 'list.3.q=1', found);
      expect(item).toEqual({});
    });

    it('refuses, naming the path, when the fields there fit none of the alternatives alone', () => {
      const both = { id: 1, b: 2, c: 3 };
      const msg = expectInputError(() => clearOtherAlternatives(both, ['box'], 'a', 'box.a=1', found));
      expect(msg).toMatch(/^--set box\.a=1: ambiguous: 'a' belongs to 2 alternatives of 'box' .*holds b, c/);
      expect(msg).not.toContain('\n');
      expect(both).toEqual({ id: 1, b: 2, c: 3 });
    });
  });

  it('fpsolve run --set initial.file=… on a gaussian scenario runs from the file (the issue’s case)', () => {
    const file = join(dir, 'cli.yaml');
    const s = withBlock('initial', { gaussian: { mean: [0.5], std: [0.3] } });
    (s['time'] as Json)['end'] = 0.01;
    (s['time'] as Json)['reportEvery'] = 0.01;
    writeFileSync(file, stringify(s));
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'fpsolve.js'), 'run', file, '--set', `initial.file=${NPY}`, '--no-gap', '--json'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { series: { t: number; meanLoss: number }[] };
    // Both densities have mass 1, so tell them apart by E f at t = 0: the file's uniform 0.25 on
    // [−2, 2] gives E[x²/2 + 1] = 1 + 2/3 exactly (cell averages of a quadratic), the Gaussian 1.17.
    const first = report.series[0]!;
    expect(first.t).toBe(0);
    expect(first.meanLoss).toBeCloseTo(1 + 2 / 3, 10);
  });
});

/** Per value-selected block, per variant: the block in that variant, and the --set values the variant needs besides the selector. */
const VARIANTS: Record<string, Record<string, { block: Json; sets: Record<string, unknown> }>> = {
  noise: {
    multiplicative: { block: { model: 'multiplicative', eta: 0.1, sigma: 2, eps: 0.01 }, sets: { eta: 0.2, sigma: 1 } },
    additive: { block: { model: 'additive', D: 0.3 }, sets: { D: 0.1 } },
    'from-data': { block: { model: 'from-data', eta: 0.1, batch: 4, eps: 0 }, sets: { eta: 0.05, batch: 8 } },
    matrix: { block: { model: 'matrix', D: [['0.1', 0], [0, '0.2']], params: {} }, sets: { D: [[0.1]] } },
    hessian: { block: { model: 'hessian', eta: 0.1, sigma: 2, eps: 0.01, scale: 'constant' }, sets: { eta: 0.2, sigma: 1 } },
    'low-rank': { block: { model: 'low-rank', eta: 0.1, sigma: 2, scale: 'loss', vectors: [['1', 0]], params: {} }, sets: { eta: 0.2, sigma: 1, vectors: [[1]] } },
    data: { block: { model: 'data', eta: 0.1, batch: 4 }, sets: { eta: 0.05, batch: 8 } },
  },
};

/** Counted from the schema text: allOf lists of if/then whose if tests one field against a const. */
function schemaVariantCount(): number {
  let n = 0;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) {
      const o = v as Json;
      if (Array.isArray(o['allOf']) && (o['allOf'] as Json[]).some((p) => typeof p['if'] === 'object' && typeof p['then'] === 'object')) n++;
      Object.values(o).forEach(visit);
    }
  };
  visit(JSON.parse(readFileSync(schemaPath('scenario'), 'utf8')));
  return n;
}

describe('--set of the field that selects a variant (noise.model)', () => {
  const blocks = scenarioVariantBlocks();
  const validate = schemaValidator('scenario');

  it('finds every value-selected block of the schema, and the fixtures cover each variant', () => {
    expect(blocks).toHaveLength(schemaVariantCount());
    for (const b of blocks) expect(Object.keys(b.variants).sort()).toEqual(Object.keys(VARIANTS[b.path.join('.')] ?? {}).sort());
  });

  for (const [path, variants] of Object.entries(VARIANTS)) {
    for (const [from, { block }] of Object.entries(variants)) {
      for (const [to, { sets }] of Object.entries(variants)) {
        if (from === to) continue;
        it(`${path}: from ${from}, --set ${path}.model=${to} drops what ${to} does not take`, () => {
          const raw = scenario();
          raw[path] = structuredClone(block);
          expect(validate(structuredClone(raw)), JSON.stringify(validate.errors)).toBe(true);
          const specs = [`${path}.model=${to}`, ...Object.entries(sets).map(([k, v]) => `${path}.${k}=${JSON.stringify(v)}`)];
          const allowed = blocks.find((b) => b.path.join('.') === path)!.variants[to]!;
          // The plain merge keeps the old variant's fields, which the new one refuses (when it has one to refuse:
          // hessian's fields are all low-rank's too).
          const merged = structuredClone(raw);
          Object.assign(merged[path] as Json, { model: to, ...sets });
          if (Object.keys(block).some((k) => !allowed.includes(k))) expect(validate(merged)).toBe(false);
          applyOverrides(raw, specs.map(parseOverride));
          // The schema alone judges (from-data also needs a data landscape, a semantic check).
          expect(validate(raw), JSON.stringify(validate.errors)).toBe(true);
          for (const k of Object.keys(raw[path] as Json)) expect(allowed, k).toContain(k);
          // Fields both variants take keep their values unless set again (eps from multiplicative to from-data).
          for (const [k, v] of Object.entries(block)) if (k !== 'model' && allowed.includes(k) && !(k in sets)) expect((raw[path] as Json)[k]).toEqual(v);
        });
      }
    }
  }

  it('the same variant, or a value the schema does not know, leaves the block alone', () => {
    const same = { model: 'multiplicative', eta: 0.1, sigma: 2 };
    switchVariant(same, ['noise'], 'model', 'multiplicative');
    expect(same).toEqual({ model: 'multiplicative', eta: 0.1, sigma: 2 });
    const unknown = { model: 'multiplicative', eta: 0.1, sigma: 2 };
    switchVariant(unknown, ['noise'], 'model', 'brownian');
    expect(unknown).toEqual({ model: 'multiplicative', eta: 0.1, sigma: 2 });
    const msg = expectInputError(() => parseScenarioText(stringify({ ...scenario(), noise: { model: 'additive', D: 0.2 } }), join(dir, 'v.yaml'), ['noise.model=brownian']), { field: 'noise.model' });
    expect(msg).toContain('multiplicative, additive, from-data');
  });

  it('reads variants from a schema by the selector field and its const values only', () => {
    const schema = {
      type: 'object',
      properties: {
        shape: {
          type: 'object',
          allOf: [
            { if: { properties: { kind: { const: 'box' } } }, then: { properties: { kind: {}, w: {}, h: {} } } },
            { if: { properties: { kind: { const: 'disc' } } }, then: { $ref: '#/definitions/disc' } },
          ],
        },
      },
      definitions: { disc: { properties: { kind: {}, r: {} } } },
    };
    const found = variantBlocks(schema);
    expect(found).toEqual([{ path: ['shape'], discriminator: 'kind', variants: { box: ['kind', 'w', 'h'], disc: ['kind', 'r'] } }]);
    const shape = { kind: 'box', w: 1, h: 2 };
    switchVariant(shape, ['shape'], 'kind', 'disc', found);
    expect(shape).toEqual({ kind: 'box' });
  });
});
