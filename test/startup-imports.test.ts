// Start-up (#19.4): a command loads what it needs when it needs it. `--version` loads no command,
// `validate` and a plain 1-D `run` neither all of mathjs (only its parser's files, see
// src/landscape/expr-parse.ts) nor ajv's compiler (the build precompiles the schemas), nor
// vega/vega-lite (figures), gpu.js/webgpu (GPU backends), zarrita (.zarr outputs) or
// cli-progress (a drawn bar). Checked by counting the files a real process loads, never by timing:
// a preloaded module records every file the ES module loader resolves and every CommonJS require.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fpsolve } from './helpers/cli.js';

/** Runs `fpsolve args…` and returns the exit code and every file it loaded (paths, deduplicated). */
function loadedBy(args: string[]): { code: number; stderr: string; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'fpsolve-startup-imports-'));
  const log = join(dir, 'loaded.log');
  writeFileSync(log, '');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}
`,
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import Module, { register } from 'node:module';
import { appendFileSync } from 'node:fs';
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});
// CommonJS requires (createRequire, and files a CommonJS package requires) bypass the hooks above.
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (...args) {
  const file = resolveFilename.apply(this, args);
  appendFileSync(${JSON.stringify(log)}, file + '\\n');
  return file;
};
`,
  );
  const r = fpsolve(args, { env: { NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'register.mjs')).href}` } });
  const files = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean).map((u) => (u.startsWith('file:') ? new URL(u).pathname : u)))];
  return { code: r.code ?? -1, stderr: r.stderr, files };
}

/** The npm packages among the loaded files, with how many files of each. */
function packages(files: readonly string[]): Map<string, number> {
  const count = new Map<string, number>();
  for (const f of files) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f);
    if (m) count.set(m[1]!, (count.get(m[1]!) ?? 0) + 1);
  }
  return count;
}

const NEVER_AT_START = ['vega', 'vega-lite', 'gpu.js', 'webgpu', 'gl', 'zarrita', '@zarrita/storage', 'cli-progress'];
/** The files that mean all of mathjs (its entry points and factory indexes) or ajv's compiler. */
const HEAVY_ENTRY = /node_modules\/(mathjs\/lib\/(esm|cjs)\/(index|number|entry\/\w+|factories\w*)\.js|ajv\/dist\/(ajv|core|compile\/index)\.js)$/;
const SHORT_RUN = ['--set', 'time.end=0.01', '--set', 'time.reportEvery=0.01', '--no-gap'];

describe('start-up loads only what the command needs', () => {
  it('--version loads no command and no package but commander', () => {
    const r = loadedBy(['--version']);
    expect(r.code).toBe(0);
    expect([...packages(r.files).keys()]).toEqual(['commander']);
    expect(r.files.filter((f) => f.includes('/cli/commands/') && !f.endsWith('shared.js'))).toEqual([]);
  });

  it('validate loads mathjs\'s parser only, ajv\'s runtime only, and none of the figure, GPU, Zarr or progress packages', () => {
    const r = loadedBy(['validate', 'scenarios/pearson-1d.yaml']);
    expect(r.code, r.stderr).toBe(0);
    const pk = packages(r.files);
    for (const p of NEVER_AT_START) expect(pk.has(p), p).toBe(false);
    expect(r.files.filter((f) => HEAVY_ENTRY.test(f))).toEqual([]);
    // The parser's factories and their helpers: about 45 files of mathjs's ~1000.
    expect(pk.get('mathjs')).toBeGreaterThan(0);
    expect(pk.get('mathjs')).toBeLessThan(80);
    // Only the validate command's module, not every command's.
    expect(r.files.filter((f) => /\/cli\/commands\/(run|gap|sweep|check|simulate|worker)\.js$/.test(f))).toEqual([]);
  });

  it('a 1-D run without figures loads none of them either', () => {
    const r = loadedBy(['run', 'scenarios/pearson-1d.yaml', '-q', ...SHORT_RUN]);
    expect(r.code, r.stderr).toBe(0);
    const pk = packages(r.files);
    for (const p of NEVER_AT_START) expect(pk.has(p), p).toBe(false);
    expect(r.files.filter((f) => HEAVY_ENTRY.test(f))).toEqual([]);
  });

  it('a sweep logged to a file (no terminal, no plots) draws no bar: no cli-progress, in it or its workers', () => {
    const out = mkdtempSync(join(tmpdir(), 'fpsolve-startup-imports-sweep-'));
    const r = loadedBy(['sweep', 'scenarios/pearson-1d.yaml', '--set', 'noise.eta=0.05,0.1', ...SHORT_RUN.filter((a) => a !== '--no-gap'), '--run-arg=--no-gap', '--jobs', '1', '--no-plots', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const pk = packages(r.files);
    for (const p of NEVER_AT_START) expect(pk.has(p), p).toBe(false);
  });

  it('the record sees a package that is loaded when asked for (so the checks above can fail)', () => {
    const out = mkdtempSync(join(tmpdir(), 'fpsolve-startup-imports-zarr-'));
    const r = loadedBy(['run', 'scenarios/pearson-1d.yaml', '-q', ...SHORT_RUN, '--zarr', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(packages(r.files).get('zarrita')).toBeGreaterThan(0);
  });
});
