/**
 * The JSON Schemas fpsolve ships in schema/ (scenario files, baselines files), compiled once with
 * ajv, and the one piece of ajv error plumbing both loaders need.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { packageRoot } from './paths.js';

export type SchemaName = 'scenario' | 'baselines';

export function schemaPath(name: SchemaName): string {
  return join(packageRoot(), 'schema', `${name}.schema.json`);
}

const compiled = new Map<SchemaName, ValidateFunction>();

/**
 * The compiled validator of a shipped schema. allErrors and verbose always: the loaders pick the
 * most specific error and quote the failing data and its schema in one-line messages.
 */
export function schemaValidator(name: SchemaName, options: Options = {}): ValidateFunction {
  let v = compiled.get(name);
  if (v === undefined) {
    const schema = JSON.parse(readFileSync(schemaPath(name), 'utf8')) as Record<string, unknown>;
    v = new Ajv({ allErrors: true, verbose: true, strict: true, strictNumbers: true, ...options }).compile(schema);
    compiled.set(name, v);
  }
  return v;
}

/** ajv's instancePath (a JSON pointer) as path segments. */
export function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
