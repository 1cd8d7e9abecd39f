// Start-up (#19.4): the CLI bundle (dist/bundle/cli.cjs) is compiled from V8's code cache that the
// build made (bin/bundle-entry.js loadBundle, scripts/bundle.mjs), not from source at every start.
// Counted, never timed: the start-up record (Symbol.for('fpsolve.startup').codeCache) says whether V8
// was offered the cache and took it. A cache is offered only to the build it was made from: V8's own
// check compares little more than the source's length, so a stale cache of a same-length script
// would run the old code (shown below with vm.Script alone).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, fpsolve, ROOT } from './helpers/cli.js';
import { buildIdOf, bundleStaleness } from '../bin/bundle-entry.js';

/** A bundle-shaped script returning `value`, ending with a build-id line, in a new folder. */
function script(dir: string, value: string, id: string): string {
  const file = join(dir, 'cli.cjs');
  writeFileSync(file, `"use strict";\nmodule.exports = { value: () => ${JSON.stringify(value)}, imported: () => __fpsolveImport('node:path') };\n//# fpsolve-build ${id}\n`);
  return file;
}
const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

/**
 * loadBundle(file) in a new process (a process compiles a source once and keeps it: loading twice in
 * one would never consult the cache), calling the script's value() and import, then save() when
 * `write`; returns the record's codeCache and what the script returned.
 */
function loadIn(file: string, write = false): { codeCache: string; value: string; sep: string } {
  const code = `const { loadBundle } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'bin', 'bundle-entry.js')).href)});
const b = loadBundle(${JSON.stringify(file)});
const value = b.exports.value();
const { sep } = await b.exports.imported();
b.save();
process.stdout.write(JSON.stringify({ codeCache: globalThis[Symbol.for('fpsolve.startup')].codeCache, value, sep }));`;
  const env: NodeJS.ProcessEnv = { ...process.env, FPSOLVE_DEBUG: '' };
  if (write) env.FPSOLVE_CODE_CACHE_WRITE = '1';
  else delete env.FPSOLVE_CODE_CACHE_WRITE;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { codeCache: string; value: string; sep: string };
}

describe('bin/bundle-entry.js loadBundle: the code cache', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'fpsolve-code-cache-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is written only when asked (the build), then offered and taken; the script runs the same either way', () => {
    const file = script(fresh(), 'AAAA', ID_A);
    expect(loadIn(file)).toEqual({ codeCache: 'none', value: 'AAAA', sep: '/' });
    expect(existsSync(`${file}.cache`), 'no cache without FPSOLVE_CODE_CACHE_WRITE=1').toBe(false);
    loadIn(file, true);
    expect(readFileSync(`${file}.cache`).toString('latin1', 0, 64)).toBe(ID_A);
    // The launcher's import() is handed to the script (a vm.Script has none of its own on Node 20).
    expect(loadIn(file)).toEqual({ codeCache: 'accepted', value: 'AAAA', sep: '/' });
  });

  it("another build's cache is not offered, though V8 alone would run the old code from it", () => {
    const dir = fresh();
    const file = script(dir, 'AAAA', ID_A);
    loadIn(file, true);
    const staleCache = readFileSync(`${file}.cache`);
    // The next build: same length, other code and id; the old cache left beside it.
    const textA = readFileSync(file, 'utf8');
    script(dir, 'BBBB', ID_B);
    const textB = readFileSync(file, 'utf8');
    expect(textB.length).toBe(textA.length);
    // Independent of loadBundle: vm.Script given the stale bytes accepts them and runs A's code.
    const wrap = (t: string): string => `(function (exports, require, module, __filename, __dirname, __fpsolveImport) {\n${t}\n})`;
    const direct = new Script(wrap(textB), { filename: file, lineOffset: -1, cachedData: staleCache.subarray(64) });
    expect(direct.cachedDataRejected).toBe(false);
    const m = { exports: {} as { value?: () => string } };
    (direct.runInThisContext() as (...a: unknown[]) => void)(m.exports, null, m, file, dir, null);
    expect(m.exports.value!()).toBe('AAAA');
    // loadBundle compares the ids first: B compiles from source and returns B's value.
    expect(loadIn(file)).toEqual({ codeCache: 'none', value: 'BBBB', sep: '/' });
  });

  it('a cache V8 refuses (damaged, or another V8) is reported and the script still runs from source', () => {
    const file = script(fresh(), 'AAAA', ID_A);
    loadIn(file, true);
    const bytes = readFileSync(`${file}.cache`);
    for (let i = 64; i < bytes.length; i += 7) bytes[i]! ^= 0x5a;
    writeFileSync(`${file}.cache`, bytes);
    expect(loadIn(file)).toEqual({ codeCache: 'rejected', value: 'AAAA', sep: '/' });
  });

  it('buildIdOf reads the last build line only when it is 64 hex digits', () => {
    expect(buildIdOf(`x\n//# fpsolve-build ${ID_A}\n`)).toBe(ID_A);
    expect(buildIdOf('x\n//# fpsolve-build 1234\n')).toBeNull();
    expect(buildIdOf('x\n')).toBeNull();
  });
});

const bundleStale = bundleStaleness(ROOT);
const skipBundle = bundleStale !== null && !process.env.CI;

/** `fpsolve args…` with `nodeFlags`, and the start-up record's codeCache at exit. */
function codeCacheOf(args: string[], nodeFlags: string[] = []): { code: number | null; stdout: string; stderr: string; codeCache?: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fpsolve-code-cache-cli-'));
  const out = join(dir, 'record.json');
  const preload = join(dir, 'record.cjs');
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(globalThis[Symbol.for('fpsolve.startup')] || {})));\n`);
  const r = spawnSync(process.execPath, [...nodeFlags, '--require', preload, BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const rec = JSON.parse(readFileSync(out, 'utf8')) as { codeCache?: string };
  rmSync(dir, { recursive: true, force: true });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, codeCache: rec.codeCache };
}

describe('the built CLI bundle', () => {
  it.skipIf(skipBundle)('ends with the sha256 of its script as its build id, and its cache carries that id', () => {
    expect(bundleStale, 'npm run build bundles the CLI').toBeNull();
    const bytes = readFileSync(join(ROOT, 'dist', 'bundle', 'cli.cjs'));
    // ASCII, so the launcher decodes it as Latin-1 (UTF-8 decoding of 1.9 MB was ~30 ms per start).
    expect(bytes.every((b) => b < 0x80)).toBe(true);
    const text = bytes.toString('utf8');
    const id = buildIdOf(text);
    expect(id).not.toBeNull();
    expect(createHash('sha256').update(text.slice(0, text.lastIndexOf('//# fpsolve-build '))).digest('hex')).toBe(id);
    expect(readFileSync(join(ROOT, 'dist', 'bundle', 'cli.cjs.cache')).toString('latin1', 0, 64)).toBe(id);
  });

  it.skipIf(skipBundle)('validate and a 1-D run compile it from the code cache; without it (other V8 flags) they print the same', () => {
    const v = codeCacheOf(['validate', 'scenarios/pearson-1d.yaml']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.codeCache).toBe('accepted');
    const args = ['run', 'scenarios/pearson-1d.yaml', '-q', '--json', '--set', 'time.end=0.5', '--set', 'time.reportEvery=0.25'];
    const cached = codeCacheOf(args);
    expect(cached.code, cached.stderr).toBe(0);
    expect(cached.codeCache).toBe('accepted');
    // V8 refuses a cache made under other flags: compiled from source, the same report.
    const source = codeCacheOf(args, ['--stack-size=2000']);
    expect(source.code, source.stderr).toBe(0);
    expect(source.codeCache).toBe('rejected');
    const stable = (s: string): unknown => JSON.parse(s, (k, v: unknown) => (k === 'createdAt' || k === 'wallSeconds' ? undefined : v));
    expect(stable(source.stdout)).toEqual(stable(cached.stdout));
    // And dist/ (no bundle) agrees: the record then has no codeCache at all.
    const plain = fpsolve(args, { env: { FPSOLVE_BUNDLE: '0' } });
    expect(plain.code, plain.stderr).toBe(0);
    expect(stable(plain.stdout)).toEqual(stable(cached.stdout));
  });
});
