#!/usr/bin/env node
/**
 * `npm run build`, skipped when dist/ was built from exactly the sources there are now.
 *
 * Why: npm runs a package's prepare scripts (here postprepare → build, ~30 s of tsc on the dev
 * machine) on `npm ci`/`npm install` in a clone and, depending on the npm version, again when
 * `npx fpsolve` links the clone into its cache. The second build is pointless: nothing changed.
 * The stamp is a SHA-256 over the compiler's inputs' paths and bytes (src, solvers, test,
 * schema, tsconfig.json, this script) and the TypeScript version, not over mtimes (a fresh clone
 * gives every file a new mtime, a `git checkout` can give an old one). A build that fails or is
 * killed writes no stamp, so the next call builds again. `--force` always builds (prepack and
 * `npm run build` keep building unconditionally; only postprepare uses this). The CLI bundle
 * (scripts/bundle.mjs) is rebuilt whenever it is stale, whatever the stamp says (see below).
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const STAMP = join(root, 'dist', '.build-stamp');
/** What the build reads (tsconfig.json "include", the schema compiled by schema-precompile). */
const INPUTS = ['src', 'solvers', 'test', 'schema', 'tsconfig.json', 'scripts/build-if-stale.mjs', 'scripts/bundle.mjs'];
/** What the build must have left for the stamp to count (a dist/ emptied by hand is rebuilt). */
const OUTPUTS = ['dist/src/cli/main.js', 'dist/src/library/index.js', 'dist/schema/scenario.validate.cjs'];

function files(p, out) {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return out;
  if (st.isDirectory()) for (const name of readdirSync(p).sort()) files(join(p, name), out);
  else if (st.isFile()) out.push(p);
  return out;
}

export function sourceHash() {
  const h = createHash('sha256');
  for (const input of INPUTS) {
    for (const f of files(join(root, input), [])) {
      h.update(relative(root, f).split('\\').join('/') + '\0');
      h.update(readFileSync(f));
      h.update('\0');
    }
  }
  let ts = 'none';
  try {
    ts = createRequire(join(root, 'package.json'))('typescript/package.json').version;
  } catch {
    // No TypeScript: the build below fails with npm's own message.
  }
  h.update(`typescript ${ts}`);
  return h.digest('hex');
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const force = process.argv.includes('--force');
const hash = sourceHash();
const fresh = !force && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hash && OUTPUTS.every((f) => existsSync(join(root, f)));
if (fresh) {
  process.stderr.write('fpsolve: dist/ is up to date with the sources (build skipped; npm run build forces one)\n');
} else {
  // A half-done build must not look finished: the stamp goes before, and comes back only after success.
  rmSync(STAMP, { force: true });
  run(process.execPath, [createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc'), '-p', 'tsconfig.json']);
  run(process.execPath, [join(root, 'dist', 'src', 'schema-precompile.js')]);
  writeFileSync(STAMP, hash + '\n');
}
// The CLI bundle (scripts/bundle.mjs, ~1 s) has its own freshness: its manifest vouches for its
// inputs by size and mtime, so a reinstall of node_modules makes it stale while the sources' hash
// above still matches. bin/fpsolve.js would fall back to dist/ (correct, slower start-up).
const BUNDLER = join(root, 'scripts', 'bundle.mjs');
if (existsSync(BUNDLER)) {
  const { bundleStaleness } = await import(pathToFileURL(join(root, 'bin', 'bundle-entry.js')).href);
  if (!fresh || bundleStaleness(root) !== null) run(process.execPath, [BUNDLER]);
}
