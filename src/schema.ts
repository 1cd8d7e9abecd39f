/**
 * The JSON Schemas fpsolve ships in schema/ (scenario files, baselines files), compiled once with
 * ajv, and the one piece of ajv error plumbing both loaders need.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Ajv as AjvClass, Options, ValidateFunction } from 'ajv';
import { packageRoot } from './paths.js';

export type SchemaName = 'scenario' | 'baselines';

export function schemaPath(name: SchemaName): string {
  return join(packageRoot(), 'schema', `${name}.schema.json`);
}

const compiled = new Map<SchemaName, ValidateFunction>();

/**
 * ajv options per schema. allErrors and verbose always: the loaders pick the most specific error
 * and quote the failing data and its schema in one-line messages.
 */
export function ajvOptions(name: SchemaName): Options {
  const common: Options = { allErrors: true, verbose: true, strict: true, strictNumbers: true };
  return name === 'scenario' ? { ...common, strictRequired: false } : { ...common, allowUnionTypes: true };
}

/** Where the build puts a schema's validator compiled ahead of time (src/schema-precompile.ts). */
export function precompiledPath(name: SchemaName): string {
  return join(packageRoot(), 'dist', 'schema', `${name}.validate.cjs`);
}

/** Fingerprint of a schema's text and options, written into its precompiled validator. */
export function schemaFingerprint(name: SchemaName, text: string): string {
  return createHash('sha256').update(text).update(JSON.stringify(ajvOptions(name))).digest('hex').slice(0, 16);
}

/**
 * The precompiled validator when the build made one for this very schema text; compiling the
 * scenario schema at run time costs ~85 ms, most of a small run's set-up.
 */
function precompiled(name: SchemaName, text: string): ValidateFunction | undefined {
  const file = precompiledPath(name);
  if (!existsSync(file)) return undefined;
  const mod = createRequire(import.meta.url)(file) as { fingerprint?: string; validate?: ValidateFunction };
  return mod.fingerprint === schemaFingerprint(name, text) ? mod.validate : undefined;
}

/**
 * Compiles a schema at run time, for a build without its precompiled validator (or a schema edited
 * since). ajv's compiler is loaded only here: a process that finds the precompiled validator loads
 * only the few ajv runtime helpers that validator requires.
 */
function compileNow(name: SchemaName, text: string): ValidateFunction {
  const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
  return new Ajv(ajvOptions(name)).compile(JSON.parse(text) as Record<string, unknown>);
}

/** The compiled validator of a shipped schema. */
export function schemaValidator(name: SchemaName): ValidateFunction {
  let v = compiled.get(name);
  if (v === undefined) {
    const text = readFileSync(schemaPath(name), 'utf8');
    v = precompiled(name, text) ?? compileNow(name, text);
    compiled.set(name, v);
  }
  return v;
}

/** ajv's instancePath (a JSON pointer) as path segments. */
export function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
