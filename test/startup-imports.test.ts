// Start-up (#19.4): a command loads what it needs when it needs it. `--version` loads no command,
// `validate` and a plain 1-D `run` neither all of mathjs (only its parser's files, see
// src/landscape/expr-parse.ts) nor ajv's compiler (the build precompiles the schemas), nor
// vega/vega-lite (figures), gpu.js/webgpu (GPU backends), zarrita (.zarr outputs) or
// cli-progress (a drawn bar). Checked by counting the files a real process loads, never by timing:
// a preloaded module records every file the ES module loader resolves and every CommonJS require.
// The CLI bundle (scripts/bundle.mjs) is one script holding every module; a module in it counts as
// loaded when its body ran: the entry's own modules at once, the others when esbuild's lazy wrapper
// first runs them, which the bundle records (Symbol.for('fpsolve.startup').evaluated, the paths of
// esbuild's `// path` comments). The same checks then hold per module.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fpsolve, ROOT } from './helpers/cli.js';
import { bundleStaleness } from '../bin/bundle-entry.js';

const BUNDLE = join(ROOT, 'dist', 'bundle', 'cli.cjs');

/**
 * The modules of the bundle and those among them that run as soon as it is loaded (no lazy wrapper:
 * the entry's static imports), as absolute paths. esbuild names each module in a `// path` comment
 * and keys each wrapper `__esm({ "path"() {…} })` / `__commonJS({ "path"(…) {…} })` by the same path.
 */
function bundleModules(): { all: string[]; eager: string[] } {
  const text = readFileSync(BUNDLE, 'utf8');
  const all = [...text.matchAll(/^\/\/ ((?:\.\.\/)*(?:[\w.@-]+\/)*?(?:dist|node_modules)\/\S+\.[cm]?js)$/gm)].map((m) => m[1]!);
  const wrapped = new Set([...text.matchAll(/= __(?:esm|commonJS)\(\{\n {2}"([^"]+)"\(/g)].map((m) => m[1]!));
  return { all: all.map((p) => join(ROOT, p)), eager: all.filter((p) => !wrapped.has(p)).map((p) => join(ROOT, p)) };
}

/**
 * Runs `fpsolve args…` and returns the exit code, every file it loaded (paths, deduplicated; the
 * bundle's evaluated modules included) and, when it ran the bundle, those modules.
 */
function loadedBy(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stderr: string; files: string[]; resolved: string[]; bundled: string[] | null } {
  const dir = mkdtempSync(join(tmpdir(), 'fpsolve-startup-imports-'));
  const log = join(dir, 'loaded.log');
  const evaluated = join(dir, 'evaluated.json');
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
import { appendFileSync, writeFileSync } from 'node:fs';
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});
// CommonJS requires (createRequire, and files a CommonJS package requires) bypass the hooks above.
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (...args) {
  const file = resolveFilename.apply(this, args);
  appendFileSync(${JSON.stringify(log)}, file + '\\n');
  return file;
};
process.on('exit', () => {
  const record = globalThis[Symbol.for('fpsolve.startup')];
  if (record && record.evaluated) writeFileSync(${JSON.stringify(evaluated)}, JSON.stringify(record.evaluated));
});
`,
  );
  const r = fpsolve(args, { env: { NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'register.mjs')).href}`, ...env } });
  const loaded = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean).map((u) => (u.startsWith('file:') ? new URL(u).pathname : u)))];
  let bundled: string[] | null = null;
  try {
    bundled = [...bundleModules().eager, ...(JSON.parse(readFileSync(evaluated, 'utf8')) as string[]).map((p) => join(ROOT, p))];
  } catch {
    // No record: the bundle did not run (dist/).
  }
  return { code: r.code ?? -1, stderr: r.stderr, files: [...new Set([...loaded, ...(bundled ?? [])])], resolved: loaded, bundled };
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

/** Is dist/bundle/ the build of dist/ now? Off a fresh `npm run build` (a `tsc` alone), bin/fpsolve.js runs dist/ instead. */
const bundleStale = bundleStaleness(ROOT);
/** Both builds bin/fpsolve.js may run: the bundle (when fresh: CI builds it, so there it must be) and dist/ (FPSOLVE_BUNDLE=0). */
const BUILDS: { name: string; env: NodeJS.ProcessEnv; skip: boolean }[] = [
  { name: 'bundle', env: {}, skip: bundleStale !== null && !process.env.CI },
  { name: 'dist', env: { FPSOLVE_BUNDLE: '0' }, skip: false },
];

describe('start-up loads only what the command needs', () => {
  it('--version loads nothing but the launcher: no package, no module of the CLI', () => {
    const r = loadedBy(['--version']);
    expect(r.code).toBe(0);
    expect([...packages(r.files).keys()]).toEqual([]);
    expect(r.files.filter((f) => f.startsWith(ROOT) && !f.endsWith('/bin/fpsolve.js'))).toEqual([]);
  });

  it.skipIf(BUILDS[0]!.skip)('bin/fpsolve.js runs the bundle while it is fresh, dist/ when told (FPSOLVE_BUNDLE=0)', () => {
    expect(bundleStale, 'npm run build bundles the CLI').toBeNull();
    const bundled = loadedBy(['validate', 'scenarios/pearson-1d.yaml']);
    expect(bundled.code, bundled.stderr).toBe(0);
    expect(bundled.bundled).toContain(join(ROOT, 'dist', 'src', 'cli', 'main.js'));
    expect(bundled.bundled).toContain(join(ROOT, 'dist', 'src', 'cli', 'commands', 'validate.js'));
    // Lazily: of the ~350 modules in the script, validate runs neither the other commands' nor the figures'.
    const { all } = bundleModules();
    expect(all.length).toBeGreaterThan(300);
    expect(bundled.bundled!.length).toBeLessThan(all.length - 50);
    // No module of ours is loaded from dist/src or dist/solvers beside the bundle (one module, one copy);
    // the scenario schema's precompiled validator is compiled in too (scripts/bundle.mjs), not required by path.
    expect(bundled.files.filter((f) => /\/dist\/(src|solvers)\//.test(f) && !bundled.bundled!.includes(f))).toEqual([]);
    const validator = join(ROOT, 'dist', 'schema', 'scenario.validate.cjs');
    expect(bundled.bundled).toContain(validator);
    expect(bundled.resolved).not.toContain(validator);
    const plain = loadedBy(['validate', 'scenarios/pearson-1d.yaml'], { FPSOLVE_BUNDLE: '0' });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.bundled).toBeNull();
    expect(plain.files).toContain(join(ROOT, 'dist', 'src', 'cli', 'main.js'));
    expect(plain.resolved).toContain(validator);
  });

  describe.each(BUILDS)('from $name', ({ env, skip }) => {
    it.skipIf(skip)('validate loads mathjs\'s parser only, ajv\'s runtime only, and none of the figure, GPU, Zarr or progress packages', () => {
      const r = loadedBy(['validate', 'scenarios/pearson-1d.yaml'], env);
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

    it.skipIf(skip)('a 1-D run without figures loads none of them either', () => {
      const out = mkdtempSync(join(tmpdir(), 'fpsolve-startup-imports-run-'));
      const r = loadedBy(['run', 'scenarios/pearson-1d.yaml', '-q', ...SHORT_RUN, '-o', out], env);
      expect(r.code, r.stderr).toBe(0);
      const pk = packages(r.files);
      for (const p of NEVER_AT_START) expect(pk.has(p), p).toBe(false);
      expect(r.files.filter((f) => HEAVY_ENTRY.test(f))).toEqual([]);
      // Nor the diffusion-matrix solver, the figures or the HTML report (src/cli/commands/run.ts imports them when used).
      expect(r.files.filter((f) => /\/dist\/(src\/nonrev|src\/plot|solvers\/nonsym|solvers\/anisotropic)\/|\/dist\/src\/report\/html\.js$/.test(f))).toEqual([]);
      // The record sees them when asked for: figures and the HTML report.
      const withFigures = loadedBy(['run', 'scenarios/pearson-1d.yaml', '-q', ...SHORT_RUN, '--plots', '--html', '-o', out], env);
      expect(withFigures.code, withFigures.stderr).toBe(0);
      expect(withFigures.files.filter((f) => /\/dist\/src\/plot\/run-figures\.js$|\/dist\/src\/report\/html\.js$/.test(f))).toHaveLength(2);
    });

  });

  it('the record sees a package that is loaded when asked for (so the checks above can fail)', () => {
    const out = mkdtempSync(join(tmpdir(), 'fpsolve-startup-imports-zarr-'));
    const r = loadedBy(['run', 'scenarios/pearson-1d.yaml', '-q', ...SHORT_RUN, '--zarr', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(packages(r.files).get('zarrita')).toBeGreaterThan(0);
  });

  it('a sweep logged to a file (no terminal, no plots) draws no bar: no cli-progress, in it or its workers', () => {
    const out = mkdtempSync(join(tmpdir(), 'fpsolve-startup-imports-sweep-'));
    const r = loadedBy(['sweep', 'scenarios/pearson-1d.yaml', '--set', 'noise.eta=0.05,0.1', ...SHORT_RUN.filter((a) => a !== '--no-gap'), '--run-arg=--no-gap', '--jobs', '1', '--no-plots', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const pk = packages(r.files);
    for (const p of NEVER_AT_START) expect(pk.has(p), p).toBe(false);
  });
});
