// Which build of the CLI bin/fpsolve.js runs: the esbuild bundle (dist/bundle/, scripts/bundle.mjs)
// when it is the build of what dist/ and node_modules hold now, else tsc's dist/src/cli/main.js.
// Required, not imported: see bin/fpsolve.js.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { readFileSync, statSync, existsSync } = require('node:fs');
const { dirname, join, sep } = require('node:path');

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
  const at = under(root);
  for (const [file, size, mtimeMs] of manifest.inputs) {
    const st = statSync(at(file), { throwIfNoEntry: false });
    if (!st) return `${file} is gone`;
    if (st.size !== size || st.mtimeMs !== mtimeMs) return `${file} changed after the bundle was built`;
  }
  return null;
}

/**
 * join(root, file) for the manifest's paths (posix, relative, normalized: `dist/…`, `../…/node_modules/…`)
 * without path.join per file: its character-by-character normalization of ~220 paths, run cold,
 * was the largest part of this check (~10 ms per process). Only the leading `../` need resolving,
 * lexically as join does; the rest is appended as it is.
 */
export function under(root) {
  const bases = [root];
  return (file) => {
    let ups = 0;
    while (file.startsWith('../', 3 * ups)) ups++;
    while (bases.length <= ups) bases.push(dirname(bases[bases.length - 1]));
    return `${bases[ups]}${sep}${file.slice(3 * ups)}`;
  };
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
