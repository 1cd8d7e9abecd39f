/**
 * The build compiles the shipped JSON Schemas ahead of time (src/schema-precompile.ts) so that a
 * run does not spend ~85 ms compiling them. The precompiled validator must be the current schema's
 * (fingerprint) and must judge documents exactly as ajv compiling the schema at run time does (an
 * independent path through ajv): same verdicts, same errors, on the bundled scenarios and on
 * broken variants of them.
 */
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ajvOptions, precompiledPath, schemaFingerprint, schemaPath } from '../src/schema.js';
import { packageRoot } from '../src/paths.js';

describe('precompiled scenario validator', () => {
  const file = precompiledPath('scenario');
  const text = readFileSync(schemaPath('scenario'), 'utf8');

  it('exists after the build and carries the current schema fingerprint', () => {
    expect(existsSync(file)).toBe(true);
    const mod = createRequire(import.meta.url)(file) as { fingerprint: string };
    expect(mod.fingerprint).toBe(schemaFingerprint('scenario', text));
    expect(schemaFingerprint('scenario', text + ' ')).not.toBe(mod.fingerprint);
  });

  it('gives the verdicts and errors of a run-time compilation', () => {
    const pre = (createRequire(import.meta.url)(file) as { validate: ValidateFunction }).validate;
    const live = new Ajv(ajvOptions('scenario')).compile(JSON.parse(text) as Record<string, unknown>);
    const dir = join(packageRoot(), 'scenarios');
    const docs = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
    expect(docs.length).toBeGreaterThan(5);
    const broken = docs.flatMap((d) => [
      { ...d, name: 7 },
      { ...d, domain: { ...(d.domain as object), cells: [-3] } },
      { ...d, time: { ...(d.time as object), tolerance: 2 } },
      { ...d, extra: true },
    ]);
    let invalid = 0;
    for (const doc of [...docs, ...broken]) {
      const a = pre(doc);
      const b = live(doc);
      expect(a).toBe(b);
      if (!a) invalid++;
      const key = (v: ValidateFunction): string[] => (v.errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${e.message}`);
      expect(key(pre)).toEqual(key(live));
    }
    expect(invalid).toBe(broken.length);
  });
});
