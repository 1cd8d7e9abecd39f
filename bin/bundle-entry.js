// Which build of the CLI bin/fpsolve.js runs: the esbuild bundle (dist/bundle/, scripts/bundle.mjs)
// when it is the build of what dist/ and node_modules hold now, else tsc's dist/src/cli/main.js.
// Required, not imported: see bin/fpsolve.js.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { readFileSync, statSync, existsSync } = require('node:fs');
const { join } = require('node:path');

/**
 * Whether dist/bundle/manifest.json still describes its inputs: every file it was built from has
 * the size and mtime it had then. A `tsc` after the bundle (the team's quick build) rewrites dist/
 * and so makes the bundle stale; running it would run code that is not the build of the sources.
 * Returns the reason it is not fresh, or null when it is.
 */
export function bundleStaleness(root) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(root, 'dist', 'bundle', 'manifest.json'), 'utf8'));
  } catch {
    return 'no dist/bundle/manifest.json';
  }
  if (!Array.isArray(manifest?.inputs) || manifest.inputs.length === 0) return 'dist/bundle/manifest.json lists no inputs';
  for (const [file, size, mtimeMs] of manifest.inputs) {
    const st = statSync(join(root, file), { throwIfNoEntry: false });
    if (!st) return `${file} is gone`;
    if (st.size !== size || st.mtimeMs !== mtimeMs) return `${file} changed after the bundle was built`;
  }
  return null;
}

/**
 * The module to import for the CLI: dist/bundle/main.js or dist/src/cli/main.js (null: neither).
 * FPSOLVE_BUNDLE=0 always takes dist/. In a checkout (src/ beside dist/) the bundle must be fresh;
 * an npm install has no sources to rebuild from, and npm resets the files' mtimes on extraction, so
 * there the bundle the package shipped is used as it is.
 */
export function cliEntry(root) {
  const bundle = join(root, 'dist', 'bundle', 'main.js');
  const plain = join(root, 'dist', 'src', 'cli', 'main.js');
  const checkout = existsSync(join(root, 'src', 'cli', 'main.ts'));
  if (process.env.FPSOLVE_BUNDLE !== '0' && existsSync(bundle) && (!checkout || bundleStaleness(root) === null)) return bundle;
  return existsSync(plain) ? plain : null;
}
