/**
 * scripts/build-if-stale.mjs (postprepare): skips the build when dist/ was built from the same
 * sources, builds when any input changed, when an output is missing, and never leaves a stamp
 * after a failed build. Run on a stand-in project: the real script, a three-file src/ and, as
 * its `typescript`, a stand-in compiler (copies src/*.ts to dist/src/*.js, fails on a file that
 * says so, records each call), so that a build takes milliseconds instead of the real tsc's
 * seconds to minutes on a loaded machine. What the build emitted is checked by running it and
 * by the compiler's call count, not by the script's messages.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fpsolve-build-stamp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function project(): string {
  const p = join(dir, 'proj');
  mkdirSync(join(p, 'scripts'), { recursive: true });
  mkdirSync(join(p, 'src', 'cli'), { recursive: true });
  mkdirSync(join(p, 'src', 'library'), { recursive: true });
  copyFileSync(join(ROOT, 'scripts', 'build-if-stale.mjs'), join(p, 'scripts', 'build-if-stale.mjs'));
  const ts = join(p, 'node_modules', 'typescript');
  mkdirSync(join(ts, 'bin'), { recursive: true });
  writeFileSync(join(ts, 'package.json'), '{ "name": "typescript", "version": "0.0.0-test" }\n');
  writeFileSync(join(ts, 'bin', 'tsc'), FAKE_TSC);
  writeFileSync(join(p, 'package.json'), '{ "name": "stamp-test" }\n');
  writeFileSync(
    join(p, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], strict: true, outDir: 'dist', rootDir: '.' }, include: ['src'] }),
  );
  writeFileSync(join(p, 'src', 'cli', 'main.ts'), 'console.log(41);\n');
  writeFileSync(join(p, 'src', 'library', 'index.ts'), 'export const lib = 1;\n');
  // Stands in for the real schema precompiler: the build's second step writes dist/schema/.
  writeFileSync(
    join(p, 'src', 'schema-precompile.ts'),
    "const { mkdirSync, writeFileSync } = require('node:fs');\nmkdirSync('dist/schema', { recursive: true });\nwriteFileSync('dist/schema/scenario.validate.cjs', 'module.exports = 1;\\n');\n",
  );
  return p;
}

/** The stand-in compiler: src/**.ts → dist/src/**.js verbatim; exit 1 on a file holding "BROKEN"; appends to calls.log. */
const FAKE_TSC = `const fs = require('node:fs'), path = require('node:path');
fs.appendFileSync('calls.log', 'tsc\\n');
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
for (const f of walk('src')) {
  const text = fs.readFileSync(f, 'utf8');
  if (text.includes('BROKEN')) { console.error(f + ': error'); process.exit(1); }
  const out = path.join('dist', f.replace(/\\.ts$/, '.js'));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);
}
`;
const calls = (p: string): number => (existsSync(join(p, 'calls.log')) ? readFileSync(join(p, 'calls.log'), 'utf8').split('\n').filter(Boolean).length : 0);

const build = (p: string) => spawnSync(process.execPath, [join(p, 'scripts', 'build-if-stale.mjs')], { cwd: p, encoding: 'utf8' });
const runMain = (p: string): string => execFileSync(process.execPath, [join(p, 'dist', 'src', 'cli', 'main.js')], { encoding: 'utf8' }).trim();
const mtime = (f: string): number => statSync(f).mtimeMs;

describe('scripts/build-if-stale.mjs', () => {
  it('builds once, skips while the sources are the same, rebuilds on a change, a missing output or after a failure', () => {
    const p = project();
    const main = join(p, 'dist', 'src', 'cli', 'main.js');
    const first = build(p);
    expect(first.status, first.stderr).toBe(0);
    expect(calls(p)).toBe(1);
    expect(runMain(p)).toBe('41');
    expect(existsSync(join(p, 'dist', 'schema', 'scenario.validate.cjs'))).toBe(true);
    const stamp = readFileSync(join(p, 'dist', '.build-stamp'), 'utf8');

    // Unchanged: nothing is rewritten. A rewrite would give main.js a new mtime; replace it with a marker to be sure.
    writeFileSync(main, 'console.log("not rebuilt");\n');
    const before = mtime(main);
    const second = build(p);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/up to date/);
    expect(runMain(p)).toBe('not rebuilt');
    expect(mtime(main)).toBe(before);
    expect(calls(p)).toBe(1);

    // A touched but identical file (new mtime, same bytes) is no change: the stamp hashes contents.
    writeFileSync(join(p, 'src', 'library', 'index.ts'), 'export const lib = 1;\n');
    expect(build(p).stderr).toMatch(/up to date/);
    expect(calls(p)).toBe(1);

    // A changed source: rebuilt, and the output is the new source's.
    writeFileSync(join(p, 'src', 'cli', 'main.ts'), 'console.log(42);\n');
    const third = build(p);
    expect(third.status, third.stderr).toBe(0);
    expect(runMain(p)).toBe('42');
    expect(calls(p)).toBe(2);
    expect(readFileSync(join(p, 'dist', '.build-stamp'), 'utf8')).not.toBe(stamp);

    // An output removed by hand: rebuilt although the sources are the same.
    rmSync(join(p, 'dist', 'schema'), { recursive: true });
    expect(build(p).status).toBe(0);
    expect(calls(p)).toBe(3);
    expect(existsSync(join(p, 'dist', 'schema', 'scenario.validate.cjs'))).toBe(true);

    // A build that fails exits non-zero and leaves no stamp, so the next call tries again (and fails again).
    writeFileSync(join(p, 'src', 'cli', 'main.ts'), 'BROKEN\n');
    const bad = build(p);
    expect(bad.status).not.toBe(0);
    expect(existsSync(join(p, 'dist', '.build-stamp'))).toBe(false);
    expect(build(p).status).not.toBe(0);
    expect(calls(p)).toBe(5);
  });
});
