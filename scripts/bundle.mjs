#!/usr/bin/env node
/**
 * The CLI as one CommonJS script, dist/bundle/cli.cjs, made by esbuild from tsc's output in dist/
 * (issue #19.4), with V8's code cache for it, dist/bundle/cli.cjs.cache. bin/fpsolve.js runs it when
 * this build is fresh, dist/src/cli/main.js otherwise.
 *
 * Why one script: a `validate` from dist/ resolves, reads and compiles some 220 files; bundled, it
 * reads one. And Node 20 compiles every ES module from source at every start (module.enableCompileCache
 * needs Node 22), which was ~25 % of a 1-D run's CPU: a script can be compiled from a code cache
 * instead (vm.Script cachedData; bin/bundle-entry.js loadBundle). The build makes the cache by running
 * validate and two short 1-D runs from the new script and saving V8's bytecode; it begins with the
 * script's build id (the sha256 written as its last line), so a cache is never offered to another
 * build (V8 checks little more than the source's length). A command still evaluates only its own
 * modules: src/cli/main.ts imports each command with `import()`, which esbuild turns into a lazy
 * init of the module inside the script; each init records the module's path in the start-up record
 * (Symbol.for('fpsolve.startup').evaluated), which test/startup-imports.test.ts reads.
 *
 * What stays outside the bundle, loaded from node_modules or dist/ as before:
 * - packages not in BUNDLED (vega, zarrita, gpu.js, webgpu, cli-progress, …): they are imported
 *   lazily where needed (through the launcher's import(), see dynamicImportsOf below), some are
 *   optional peers, some are native; and ajv's runtime helpers,
 *   which the precompiled validators (dist/schema/*.validate.cjs) require by path. mathjs's parser
 *   files are compiled in through a static table (mathjsFactoryTable below).
 * - worker threads and child processes: a kernel thread (solvers/exec/team-worker.js) imports the
 *   kernel table file the team names, and the WebGPU probe imports solvers/backend/select.js in a
 *   child. Both name files by `import.meta.url`, which a script does not have. So every
 *   `import.meta.url` of a bundled module is rewritten to the URL of its dist/ twin, relative to the
 *   script's own (fixed, whatever the install location): the
 *   threads then run the dist/ files built from the very same sources, as they do without the
 *   bundle, and packageRoot()/createRequire see the paths they always saw.
 *
 * What runs later than in dist/ (same code, same results; test/startup-work.test.ts counts it):
 * ndarray-ops builds each operation on its first call, and Node's built-ins are required rather
 * than imported, node:child_process and node:worker_threads on the first use of an export.
 *
 * A bundle older than its inputs would run code that is not the build of the sources. The build
 * writes dist/bundle/manifest.json after the script, listing every input file with its size and
 * mtime; bin/fpsolve.js uses the bundle only while all of them match (a `tsc` alone, as the team's
 * quick build does, makes it fall back to dist/). The code cache comes last and needs no manifest:
 * its build id ties it to the script. A linked source map (chained through tsc's maps to the .ts
 * sources) makes FPSOLVE_DEBUG stack traces name our files (with FPSOLVE_DEBUG the script is
 * required through Node's loader, which applies maps, and the cache is not used); the npm package
 * ships no maps.
 *
 *   node scripts/bundle.mjs        (after tsc and schema-precompile; `npm run build` runs all three)
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { dirname, join, relative, sep } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const outdir = join(dist, 'bundle');
const MANIFEST = join(outdir, 'manifest.json');
const CODE_CACHE = join(outdir, 'cli.cjs.cache');

/**
 * Packages compiled into the script: pure JavaScript that every command loads at start-up. Any
 * other package stays an import resolved from node_modules at run time, so a new dependency
 * behaves as it does from dist/ until it is listed here.
 */
const BUNDLED = new Set(['commander', 'yaml', 'ndarray', 'ndarray-ops']);

const packageOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
const posix = (p) => p.split(sep).join('/');
const ours = (file) => file.startsWith(dist + sep) && !file.includes(`${sep}node_modules${sep}`);

const MATHJS_FACTORIES = join(dist, 'src', 'landscape', 'mathjs-factories.js');

/**
 * src/landscape/mathjs-factories.ts as a static table of its FACTORY_FILES, so that esbuild compiles
 * mathjs's factory files into the bundle (that module's header says why). Undefined when a file is
 * missing (a mathjs release that moved them): the module is then bundled as it is, requiring them
 * at run time, and expr-parse.ts falls back to `mathjs/number` as it does from dist/.
 */
async function mathjsFactoryTable() {
  const { FACTORY_FILES } = await import(pathToFileURL(MATHJS_FACTORIES).href);
  const cjs = join(dirname(createRequire(join(root, 'package.json')).resolve('mathjs/package.json')), 'lib', 'cjs');
  const paths = FACTORY_FILES.map((f) => join(cjs, f));
  if (!paths.every((p) => existsSync(p))) return undefined;
  return [
    ...paths.map((p, i) => `import * as f${i} from ${JSON.stringify(p)};`),
    `const TABLE = { ${FACTORY_FILES.map((f, i) => `${JSON.stringify(f)}: f${i}`).join(', ')} };`,
    'export const FACTORY_FILES = Object.keys(TABLE);',
    'export function loadFactory(file) {',
    '  const m = TABLE[file];',
    "  if (m === undefined) throw new Error(`mathjs factory ${file} is not in the CLI bundle (src/landscape/mathjs-factories.ts FACTORY_FILES)`);",
    '  return m;',
    '}',
  ].join('\n');
}

const SCHEMA = join(dist, 'src', 'schema.js');
const PRECOMPILED_REQUIRE = 'const mod = createRequire(import.meta.url)(file);';

/**
 * src/schema.ts requires a schema's precompiled validator (dist/schema/<name>.validate.cjs, written by
 * src/schema-precompile.ts) by path at run time; in the bundle those files are compiled in, so that
 * their 140 kB of code (one large function) comes from the code cache too. The same files, required
 * at the same point, fingerprint checked as before; a bundle built before them, or without them, keeps
 * the require by path. Inputs of the bundle, so a rebuilt validator makes the bundle stale.
 */
function precompiledValidatorsIn(text) {
  const names = ['scenario', 'baselines'].filter((n) => existsSync(join(dist, 'schema', `${n}.validate.cjs`)));
  if (names.length === 0 || text.split(PRECOMPILED_REQUIRE).length !== 2) return text;
  const table = names.map((n) => `name === ${JSON.stringify(n)} ? require(${JSON.stringify(`../schema/${n}.validate.cjs`)}) : `).join('');
  return text.replace(PRECOMPILED_REQUIRE, `const mod = ${table}createRequire(import.meta.url)(file);`);
}

/** Our modules: `import.meta.url` → the URL of the module's dist/ twin (see the header). */
const distTwinUrls = {
  name: 'dist-twin-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!ours(args.path)) return undefined;
      if (args.path === MATHJS_FACTORIES) {
        const contents = await mathjsFactoryTable();
        if (contents) return { contents, loader: 'js', resolveDir: dirname(args.path) };
      }
      let text = readFileSync(args.path, 'utf8');
      if (args.path === SCHEMA) text = precompiledValidatorsIn(text);
      if (text.includes('import.meta.url')) {
        const rel = posix(relative(outdir, args.path));
        text = text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, __fpsolveBundleUrl).href`);
      }
      // tsc's map, inlined with absolute sources: esbuild then chains it, so the bundle's maps name
      // the .ts files rather than dist/'s .js (the lines edited above keep their mappings' lines).
      const mapFile = `${args.path}.map`;
      if (existsSync(mapFile)) {
        const map = JSON.parse(readFileSync(mapFile, 'utf8'));
        map.sources = map.sources.map((s) => posix(join(dirname(args.path), s)));
        map.sourceRoot = '';
        text = text.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n') + `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
      }
      return { contents: text, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

/**
 * ndarray-ops builds every one of its ~150 operations when it is imported (a `new Function` each,
 * then cwise's compiler): 20–40 ms of every command, for the five operations fpsolve calls
 * (sum, sup, assign, divseq, muls), and those only when writing fields or building a run's initial
 * density. In the bundle each operation is built on its first call instead: the same compile of
 * the same arguments, deferred, so the same code runs (test/startup-work.test.ts counts the
 * operations built). Left as it is if its source no longer has the expected shape.
 */
const NDARRAY_OPS_HEAD = 'var compile = require("cwise-compiler")';
const NDARRAY_OPS_MAKEOP = 'function makeOp(user_args) {';
/** pcompile, which makeOp calls: eager inside the deferred makeOp (one build per operation). */
const NDARRAY_OPS_PCOMPILE = 'return compile({';
const lazyNdarrayOps = {
  name: 'lazy-ndarray-ops',
  setup(b) {
    b.onLoad({ filter: /[\\/]ndarray-ops[\\/]ndarray-ops\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (![NDARRAY_OPS_HEAD, NDARRAY_OPS_MAKEOP, NDARRAY_OPS_PCOMPILE].every((t) => text.split(t).length === 2)) return undefined;
      // The count of operations built goes to the process's start-up record (Symbol.for('fpsolve.startup'),
      // see solvers/kernels/wasm-prebuilt.ts), which tests read.
      const lazy = [
        'var __cwiseCompile = require("cwise-compiler")',
        "var __startup = globalThis[Symbol.for('fpsolve.startup')] || (globalThis[Symbol.for('fpsolve.startup')] = {})",
        '__startup.ndarrayOpsBuilt = 0',
        'function __lazyOp(make) { var f = null; return function () { if (f === null) { f = make(); __startup.ndarrayOpsBuilt++ } return f.apply(this, arguments) } }',
        'function compile(a) { return __lazyOp(function () { return __cwiseCompile(a) }) }',
        'function makeOp(u) { return __lazyOp(function () { return __makeOp(u) }) }',
      ].join('\n');
      const contents = text
        .replace(NDARRAY_OPS_HEAD, lazy)
        .replace(NDARRAY_OPS_MAKEOP, 'function __makeOp(user_args) {')
        .replace(NDARRAY_OPS_PCOMPILE, 'return __cwiseCompile({');
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

/**
 * Node's built-in modules, imported with `import` statements, are required instead: an ES import
 * of a built-in builds an ES module facade that reads every export once, getters included, and
 * node:fs's getters load its streams and promises (~10 ms of every start). A required built-in is
 * the same object; esbuild reads each named import off it where it is used.
 */
const BUILTIN_NS = 'fpsolve-builtin';
/**
 * Built-ins required on first use of one of their exports rather than when the importing chunk
 * is evaluated: node:child_process loads net and dgram (~10 ms) and is needed only to spawn (the
 * WebGPU probe, sweep workers); worker_threads only to start kernel threads. Their export names
 * are read here, from the Node that bundles; each becomes a getter of the required module.
 */
const LAZY_BUILTINS = new Set(['child_process', 'worker_threads']);

function builtinShim(spec) {
  const name = spec.replace(/^node:/, '');
  if (!LAZY_BUILTINS.has(name)) return `module.exports = require(${JSON.stringify(spec)});\n`;
  const keys = Object.keys(createRequire(import.meta.url)(spec));
  return [
    'var m;',
    `function get() { return m || (m = require(${JSON.stringify(spec)})); }`,
    `module.exports = { ${keys.map((k) => `get ${JSON.stringify(k)}() { return get()[${JSON.stringify(k)}]; }`).join(', ')} };`,
    '',
  ].join('\n');
}

/** Bare imports from our modules: compiled in only when in BUNDLED. */
const externals = {
  name: 'externals',
  setup(b) {
    b.onLoad({ filter: /.*/, namespace: BUILTIN_NS }, (args) => ({ contents: builtinShim(args.path), loader: 'js' }));
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (isBuiltin(args.path)) {
        // commander requires node:child_process when it is evaluated (for executable subcommands, unused here).
        const shim = args.namespace !== BUILTIN_NS && (args.kind === 'import-statement' || (args.kind === 'require-call' && LAZY_BUILTINS.has(args.path.replace(/^node:/, ''))));
        return shim ? { path: args.path, namespace: BUILTIN_NS } : { path: args.path, external: true };
      }
      if (!ours(args.importer)) return undefined;
      return BUNDLED.has(packageOf(args.path)) ? undefined : { path: args.path, external: true };
    });
  },
};

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('fpsolve: esbuild is not installed (npm ci installs it); no bundle built, bin/fpsolve.js runs dist/\n');
  rmSync(MANIFEST, { force: true });
  process.exit(0);
}

// Whatever happens below, an old manifest must not vouch for a half-written bundle.
rmSync(MANIFEST, { force: true });
const result = await esbuild.build({
  entryPoints: { cli: join(dist, 'src', 'cli', 'main.js') },
  absWorkingDir: root,
  bundle: true,
  // One CommonJS script, not code-split ES modules: only a script can be compiled from V8's code
  // cache on Node 20 (see the header). Each command's modules stay behind esbuild's lazy init
  // functions (src/cli/main.ts imports commands with `import()`), so they are compiled into the
  // file but evaluated only when the command runs.
  splitting: false,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outdir,
  entryNames: '[name]',
  outExtension: { '.js': '.cjs' },
  sourcemap: 'linked',
  sourcesContent: false,
  charset: 'ascii',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  write: false,
  // A script has no `import()` of its own (vm.Script needs --experimental-vm-modules for it):
  // esbuild turns each dynamic import of a package left outside into a require, which
  // dynamicImportsOf() below hands to bin/bundle-entry.js's import().
  supported: { 'dynamic-import': false },
  plugins: [externals, distTwinUrls, lazyNdarrayOps],
});

/**
 * What esbuild writes for `import(x)` of a module outside the bundle when the target has no dynamic
 * import: `Promise.resolve().then(() => __toESM(require(x), 1))`. Those packages (vega, zarrita, gpu.js…)
 * may be ES modules, which Node 20 cannot require: each becomes `__fpsolveImport(x)`, the launcher's
 * own import() (bin/bundle-entry.js passes it to the script). Throws if any is left in another shape.
 */
const DYNAMIC_IMPORT = /Promise\.resolve\(\)\.then\(\(\) => __toESM\(require\(("[^"\n]*"|[A-Za-z_$][\w$]*)\)(?:, 1)?\)\)/g;
function dynamicImportsOf(text) {
  const out = text.replace(DYNAMIC_IMPORT, '__fpsolveImport($1)');
  if (/Promise\.resolve\(\)\.then\(\(\) => __toESM\(require\(/.test(out)) throw new Error('scripts/bundle.mjs: a dynamic import of an external module has a shape dynamicImportsOf() does not know');
  return out;
}

/**
 * esbuild's lazy module wrappers (`__esm` for our ES modules, `__commonJS` for packages) run a
 * module's body on its first use; each then records the module's path (the key esbuild gives it,
 * the path of its `// path` comment) in the start-up record, so that tests can list what a command
 * evaluated (test/startup-imports.test.ts). Throws if esbuild's helpers change shape.
 */
const INIT_KEYS = ['fn[__getOwnPropNames(fn)[0]]', 'cb[__getOwnPropNames(cb)[0]]'];
function recordEvaluated(text) {
  let out = text;
  for (const k of INIT_KEYS) {
    if (out.split(k).length !== 2) throw new Error(`scripts/bundle.mjs: esbuild's module wrapper no longer has ${k}`);
    out = out.replace(k, k.replace(/\[(__getOwnPropNames\(\w+\)\[0\])\]/, '[__fpsolveEvaluated($1)]'));
  }
  const record = 'var __fpsolveBundleUrl = require("node:url").pathToFileURL(__filename).href;\n' +
    "var __fpsolveStartup = globalThis[Symbol.for('fpsolve.startup')] || (globalThis[Symbol.for('fpsolve.startup')] = {});\n" +
    'var __fpsolveEvaluated = (k) => ((__fpsolveStartup.evaluated || (__fpsolveStartup.evaluated = [])).push(k), k);\n';
  return out.replace(/^"use strict";\n/, (m) => m + record);
}

/**
 * The script in ASCII: Node decodes a 1.9 MB file with any other character through its slow UTF-8
 * path into a two-byte string (~30 ms per start, against ~1 ms). esbuild's `charset: 'ascii'`
 * escapes strings, templates, regular expressions and names; what it leaves are comments, where
 * each UTF-16 unit becomes \\uXXXX (a comment's text does not matter; in code, JavaScript would
 * read the escape as the character). Throws if any remains.
 */
function ascii(text) {
  const out = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (/[^\x00-\x7f]/.test(out)) throw new Error('scripts/bundle.mjs: the script is not ASCII');
  return out;
}

const js = result.outputFiles.find((f) => f.path.endsWith('.cjs'));
if (!js) throw new Error('scripts/bundle.mjs: esbuild wrote no cli.cjs');
// The build's identity, the script's last line: a code cache made from another build is never used.
const text = ascii(recordEvaluated(dynamicImportsOf(js.text)));
const buildId = createHash('sha256').update(text).digest('hex');
const outputs = result.outputFiles.map((f) => ({ path: f.path, contents: f === js ? Buffer.from(`${text}//# fpsolve-build ${buildId}\n`) : f.contents }));

// One build in dist/bundle: an earlier build's files (the code-split chunks of builds before the
// script, an old cache) go.
mkdirSync(outdir, { recursive: true });
const keep = new Set(outputs.map((f) => f.path));
for (const name of readdirSync(outdir)) if (!keep.has(join(outdir, name))) rmSync(join(outdir, name), { force: true });
for (const f of outputs) {
  const tmp = `${f.path}.tmp-${process.pid}`;
  writeFileSync(tmp, f.contents);
  renameSync(tmp, f.path);
}

// A package's files are vouched for by its package.json (npm rewrites it on every install of it):
// fewer files for bin/fpsolve.js to stat on each start.
const packageJsonOf = (p) => {
  const m = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(p);
  return m ? join(m[1], 'package.json') : p;
};
const inputs = [...new Set(Object.keys(result.metafile.inputs).map((p) => packageJsonOf(join(root, p))))]
  .filter((p) => existsSync(p))
  .sort()
  .map((p) => {
    const st = statSync(p);
    return [posix(relative(root, p)), st.size, st.mtimeMs];
  });
writeFileSync(`${MANIFEST}.tmp-${process.pid}`, JSON.stringify({ esbuild: esbuild.version, inputs }) + '\n');
renameSync(`${MANIFEST}.tmp-${process.pid}`, MANIFEST);
// The code cache, made after the manifest (the runs below must find the bundle fresh; a cache is
// vouched for by the build id it carries, not by the manifest): V8's bytecode of the script after
// validate and three runs in one process, made by this Node; bin/bundle-entry.js compiles from it.
// The runs take the common paths: the bundled 1-D scenario as shipped (TR-BDF2, Thomas solves, the
// gap), a short one (the exponential integrator) and a small 2-D one (CG, multigrid set-up). A
// function none of them ran compiles from source when first called, as without a cache; a Node
// whose V8 or flags differ refuses the cache and compiles the script (same code, slower start).
// Best effort: the bundle runs without it.
const TRAINING = [
  ['validate', 'scenarios/pearson-1d.yaml'],
  ['run', 'scenarios/pearson-1d.yaml', '-q'],
  ['run', 'scenarios/pearson-1d.yaml', '-q', '--no-gap', '--set', 'time.end=0.2'],
  ['run', 'scenarios/ou-2d.yaml', '-q', '--set', 'domain.cells=[32,32]', '--set', 'time.end=0.2', '--set', 'time.reportEvery=0.1'],
];
const trainer = `const { loadBundle } = await import(${JSON.stringify(pathToFileURL(join(root, 'bin', 'bundle-entry.js')).href)});
const b = loadBundle(${JSON.stringify(join(outdir, 'cli.cjs'))});
for (const args of ${JSON.stringify(TRAINING)}) if ((await b.exports.main(['node', 'fpsolve', ...args])) !== 0) throw new Error(args.join(' ') + ' failed');
b.save();`;
const cached = spawnSync(process.execPath, ['--input-type=module', '-e', trainer], {
  cwd: root,
  env: { ...process.env, FPSOLVE_DEBUG: undefined, FPSOLVE_CODE_CACHE_WRITE: '1' },
  stdio: ['ignore', 'ignore', 'pipe'],
  encoding: 'utf8',
});
if (cached.status !== 0 || !existsSync(CODE_CACHE)) process.stderr.write(`fpsolve: no code cache written for the bundle (${cached.stderr.trim() || `exit ${cached.status}`}); it runs without\n`);

process.stderr.write(`fpsolve: bundled ${inputs.length} files into ${posix(relative(root, join(outdir, 'cli.cjs')))}${existsSync(CODE_CACHE) ? ' (with its code cache)' : ''}\n`);
