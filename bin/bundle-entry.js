// Which build of the CLI bin/fpsolve.js runs: the esbuild bundle (dist/bundle/cli.cjs,
// scripts/bundle.mjs) when it is the build of what dist/ and node_modules hold now, else tsc's
// dist/src/cli/main.js; and how the bundle is compiled (from V8's code cache when it has one).
// Required, not imported: see bin/fpsolve.js.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { readFileSync, statSync, existsSync, writeFileSync, renameSync } = require('node:fs');
const { dirname, join, sep } = require('node:path');
const { isAscii } = require('node:buffer');

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
 * The CLI's module: dist/bundle/cli.cjs (run it with loadBundle) or dist/src/cli/main.js (import it); null: neither.
 * FPSOLVE_BUNDLE=0 always takes dist/. In a checkout (src/ beside dist/) the bundle must be fresh;
 * an npm install has no sources to rebuild from, and npm resets the files' mtimes on extraction, so
 * there the bundle the package shipped is used as it is.
 */
export function cliEntry(root) {
  const bundle = join(root, 'dist', 'bundle', 'cli.cjs');
  const plain = join(root, 'dist', 'src', 'cli', 'main.js');
  const checkout = existsSync(join(root, 'src', 'cli', 'main.ts'));
  if (process.env.FPSOLVE_BUNDLE !== '0' && existsSync(bundle) && (!checkout || bundleStaleness(root) === null)) return bundle;
  return existsSync(plain) ? plain : null;
}

/** The line scripts/bundle.mjs ends cli.cjs with: the build's id (sha256 of the script above it). */
const BUILD_MARK = '//# fpsolve-build ';
const ID_LENGTH = 64;

/** The build id a script ends with, or null. */
export function buildIdOf(source) {
  const at = source.lastIndexOf(BUILD_MARK);
  if (at < 0) return null;
  const id = source.slice(at + BUILD_MARK.length, at + BUILD_MARK.length + ID_LENGTH);
  return /^[0-9a-f]{64}$/.test(id) ? id : null;
}

/**
 * Runs dist/bundle/cli.cjs and returns its exports (main, installLastResortHandlers).
 *
 * Node 20 compiles ES modules from source on every start (its compile cache needs Node 22), and
 * a 1-D run's ~1.5 MB of JavaScript costs ~25 % of its CPU in parsing and compiling. A script
 * (vm.Script) can be compiled from V8's code cache instead: dist/bundle/cli.cjs.cache, the bytecode
 * the build saved after running validate and three short runs from the script (scripts/bundle.mjs). The cache starts with the build id of the
 * script it was made from; another build's is not offered to V8, and V8 itself refuses one from
 * another V8 or other flags (then the script compiles from source: same code, slower start).
 *
 * The script is wrapped as CommonJS is, plus `__fpsolveImport`: the import() of this ES module,
 * for the packages the bundle imports at run time (a script's own import() needs a flag on Node 20).
 * With FPSOLVE_CODE_CACHE_WRITE=1 (the build), `save()` writes the cache from what ran so far.
 */
export function loadBundle(file) {
  if (process.env.FPSOLVE_DEBUG) {
    // Node maps stack traces through source maps only for the modules its loaders load, not for a
    // vm.Script: FPSOLVE_DEBUG requires the script (no code cache), with __fpsolveImport a global.
    globalThis.__fpsolveImport = (spec) => import(spec);
    return { exports: require(file), save() {} };
  }
  const vm = require('node:vm');
  // The build writes it in ASCII (scripts/bundle.mjs ascii()): Latin-1 then decodes it exactly, in
  // ~1 ms, where UTF-8 decoding takes 10–30 ms for 1.9 MB. Any other text is decoded as UTF-8.
  const bytes = readFileSync(file);
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const id = buildIdOf(source);
  const cacheFile = `${file}.cache`;
  let cachedData;
  try {
    const cache = readFileSync(cacheFile);
    if (id !== null && cache.toString('latin1', 0, ID_LENGTH) === id) cachedData = cache.subarray(ID_LENGTH);
  } catch {
    // No cache (a build without one, or removed): compile from source.
  }
  // The head on a line of its own (lineOffset −1): the script's lines and columns stay its source map's.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __fpsolveImport) {\n${source}\n})`, {
    filename: file,
    lineOffset: -1,
    ...(cachedData ? { cachedData } : {}),
  });
  const startup = (globalThis[Symbol.for('fpsolve.startup')] ??= {});
  startup.codeCache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file), (spec) => import(spec));
  return {
    exports: module.exports,
    save() {
      if (process.env.FPSOLVE_CODE_CACHE_WRITE !== '1' || id === null) return;
      const tmp = `${cacheFile}.tmp-${process.pid}`;
      writeFileSync(tmp, Buffer.concat([Buffer.from(id, 'latin1'), script.createCachedData()]));
      renameSync(tmp, cacheFile);
    },
  };
}
