import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, scenarioSchemaPath } from '../src/scenario/load.js';
import { packageRoot, packageVersion } from '../src/paths.js';

type Schema = Record<string, unknown>;
const schema = JSON.parse(readFileSync(scenarioSchemaPath(), 'utf8')) as Schema;

/** Every named property schema in the tree, with its dotted path. */
function properties(s: Schema, path: string, out: [string, Schema][] = []): [string, Schema][] {
  const props = (s['properties'] ?? {}) as Record<string, Schema>;
  for (const [k, v] of Object.entries(props)) {
    out.push([path ? `${path}.${k}` : k, v]);
    properties(v, path ? `${path}.${k}` : k, out);
  }
  for (const [k, v] of Object.entries((s['definitions'] ?? {}) as Record<string, Schema>)) properties(v, `#${k}`, out);
  return out;
}

describe('schema/scenario.schema.json', () => {
  it('is found from the package root, which is this repository', () => {
    expect(scenarioSchemaPath()).toBe(join(packageRoot(), 'schema', 'scenario.schema.json'));
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { name: string; version: string };
    expect(pkg.name).toBe('fpsolve');
    expect(packageVersion()).toBe(pkg.version);
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('compiles under ajv strict mode', () => {
    const ajv = new Ajv({ strict: true, strictRequired: false });
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  it('describes every field, for editors', () => {
    const all = properties(schema, '');
    expect(all.length).toBeGreaterThan(25);
    const undescribed = all.filter(([, s]) => typeof s['description'] !== 'string' || (s['description'] as string).length < 5).map(([p]) => p);
    expect(undescribed).toEqual([]);
  });

  it('forbids unknown fields on every object', () => {
    const open = properties(schema, '')
      .filter(([, s]) => s['type'] === 'object' && s['properties'] !== undefined && s['additionalProperties'] !== false)
      .map(([p]) => p);
    // noise is closed by its if/then branches; everything else directly.
    expect(open).toEqual(['noise']);
    expect(schema['additionalProperties']).toBe(false);
  });

  it('states the defaults the loader fills', () => {
    const time = (schema['properties'] as Record<string, Schema>)['time']!['properties'] as Record<string, Schema>;
    expect(time['integrator']!['default']).toBe(DEFAULTS.integrator);
    expect(time['tolerance']!['default']).toBe(DEFAULTS.tolerance);
    expect((schema['properties'] as Record<string, Schema>)['diagnostics']!['default']).toEqual({});
  });

  it('accepts the example scenario and rejects a typo, on its own (without our loader)', () => {
    const ajv = new Ajv({ strict: true, strictRequired: false });
    const validate = ajv.compile(schema);
    const good = {
      name: 'pearson-1d',
      landscape: { expr: 'c + b*x^2', params: { c: 0.1, b: 0.5 } },
      domain: { bounds: [[-10, 10]], cells: [2000] },
      noise: { model: 'multiplicative', eta: 0.1, sigma: 10 },
      initial: { gaussian: { mean: [1.5], std: [0.2] } },
      time: { end: 5, reportEvery: 0.05 },
      diagnostics: { delta: 0.01 },
    };
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, noise: { model: 'multiplicative', eta: 0.1, sigma: 10, D: 1 } })).toBe(false);
    expect(validate({ ...good, noise: { model: 'additive', D: 1 } })).toBe(true);
  });
});
