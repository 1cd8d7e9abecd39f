#!/usr/bin/env node
// Thin launcher: the CLI is compiled from TypeScript to dist/ by `npm install` (prepare) or
// `npm run build`, which also bundles it into dist/bundle/ (scripts/bundle.mjs, a faster start).
// Built-ins are required, not imported: an ES import of node:fs builds a facade that reads all its
// exports, and its getters load fs streams and promises (scripts/bundle.mjs does the same).
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { readFileSync } = require('node:fs');
const { fileURLToPath, pathToFileURL } = require('node:url');
const { dirname, join } = require('node:path');

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);

if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Fast path (#19.4): the version needs no module of the CLI, only package.json (what commander
  // would print: the version and a newline, exit 0).
  process.stdout.write(`${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`);
} else {
  const { cliEntry, loadBundle } = await import('./bundle-entry.js');
  const entry = cliEntry(root);
  if (entry === null) {
    process.stderr.write(`fpsolve: ${join(root, 'dist', 'src', 'cli', 'main.js')} is missing; run 'npm run build' in ${root} first\n`);
    process.exit(2);
  }
  // Stack traces (printed only with FPSOLVE_DEBUG) then name the TypeScript sources, not the bundle.
  if (process.env.FPSOLVE_DEBUG) process.setSourceMapsEnabled?.(true);
  const bundle = entry.endsWith('.cjs') ? loadBundle(entry) : null;
  const { main, installLastResortHandlers } = bundle ? bundle.exports : await import(pathToFileURL(entry).href);
  installLastResortHandlers?.();
  process.exitCode = await main(process.argv);
}
