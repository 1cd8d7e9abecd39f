/**
 * Build step (`npm run build`, after tsc): compiles the shipped JSON Schemas to standalone
 * validators (ajv's standalone code) in dist/schema/, stamped with a fingerprint of the schema
 * text and options. src/schema.ts uses one only when the fingerprint matches, so an edited schema
 * is never checked by a stale validator: it is compiled at run time instead.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { ajvOptions, precompiledPath, schemaFingerprint, schemaPath, type SchemaName } from './schema.js';

for (const name of ['scenario', 'baselines'] as SchemaName[]) {
  const text = readFileSync(schemaPath(name), 'utf8');
  const ajv = new Ajv({ ...ajvOptions(name), code: { source: true } });
  const validate = ajv.compile(JSON.parse(text) as Record<string, unknown>);
  // A CommonJS module: its default export arrives as the `default` property under NodeNext.
  const code = standalone.default(ajv, validate);
  const file = precompiledPath(name);
  mkdirSync(dirname(file), { recursive: true });
  // Write then rename, so a run started during the build never loads half a validator. Not
  // src/io/atomic.ts: files at the root of src/ import no subdirectory (no directory-level cycles),
  // and a build step needs neither its fsync nor its OutputError.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${code}\nmodule.exports.validate = module.exports;\nmodule.exports.fingerprint = ${JSON.stringify(schemaFingerprint(name, text))};\n`);
  renameSync(tmp, file);
}

// The WebAssembly kernel module's bytes, stored for solvers/kernels/wasm-prebuilt.ts (#19.4). A
// dynamic import: the schemas above must not wait on, or fail with, the kernel generator.
{
  const { generateKernelModule } = await import('../solvers/kernels/wasm-module.js');
  const { writePrebuilt } = await import('../solvers/kernels/wasm-prebuilt.js');
  writePrebuilt(fileURLToPath(new URL('../solvers/kernels/wasm-module.js', import.meta.url)), generateKernelModule());
}
