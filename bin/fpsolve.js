#!/usr/bin/env node
// Thin launcher: the CLI is compiled from TypeScript to dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write(`fpsolve: ${entry} is missing; run 'npm run build' in ${root} first\n`);
  process.exit(2);
}
const { main, installLastResortHandlers } = await import(pathToFileURL(entry).href);
installLastResortHandlers?.();
process.exitCode = await main(process.argv);
