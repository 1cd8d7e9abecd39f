// The CLI bundle (scripts/bundle.mjs, issue #19.4) and bin/fpsolve.js's choice between it and dist/:
// the bundle is used only while it is the build of what dist/ holds, it computes what dist/ computes
// (the dist/ build is the reference: same sources, no bundler), its kernel threads still run, and
// the `--version` fast path prints what commander prints.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fpsolve, ROOT } from './helpers/cli.js';
import { bundleStaleness, cliEntry } from '../bin/bundle-entry.js';
import { runCli } from '../src/cli/main.js';

/** A package root with dist/src/cli/main.js, a bundle (cli.cjs) whose manifest lists one input, and optionally src/. */
function fixture(withSources: boolean): { root: string; input: string } {
  const root = mkdtempSync(join(tmpdir(), 'fpsolve-bundle-entry-'));
  mkdirSync(join(root, 'dist', 'src', 'cli'), { recursive: true });
  mkdirSync(join(root, 'dist', 'bundle'), { recursive: true });
  const input = join(root, 'dist', 'src', 'cli', 'main.js');
  writeFileSync(input, 'export {};\n');
  writeFileSync(join(root, 'dist', 'bundle', 'cli.cjs'), 'module.exports = {};\n');
  const st = statSync(input);
  writeFileSync(join(root, 'dist', 'bundle', 'manifest.json'), JSON.stringify({ inputs: [['dist/src/cli/main.js', st.size, st.mtimeMs]] }));
  if (withSources) {
    mkdirSync(join(root, 'src', 'cli'), { recursive: true });
    writeFileSync(join(root, 'src', 'cli', 'main.ts'), 'export {};\n');
  }
  return { root, input };
}

describe('bin/bundle-entry.js: which build bin/fpsolve.js runs', () => {
  it('a checkout runs the bundle only while every input has the size and mtime its manifest recorded', () => {
    const { root, input } = fixture(true);
    try {
      expect(bundleStaleness(root)).toBeNull();
      expect(cliEntry(root)).toBe(join(root, 'dist', 'bundle', 'cli.cjs'));
      // tsc rewrote the file (same size, later mtime): the bundle is not its build any more.
      utimesSync(input, new Date(), new Date(Date.now() + 5000));
      expect(bundleStaleness(root)).toMatch(/dist\/src\/cli\/main\.js changed/);
      expect(cliEntry(root)).toBe(input);
      rmSync(input);
      expect(bundleStaleness(root)).toMatch(/gone/);
      expect(cliEntry(root)).toBeNull();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('no manifest (a build without esbuild, or one cut short) means dist/', () => {
    const { root, input } = fixture(true);
    try {
      rmSync(join(root, 'dist', 'bundle', 'manifest.json'));
      expect(bundleStaleness(root)).toMatch(/no dist\/bundle\/manifest\.json/);
      expect(cliEntry(root)).toBe(input);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('an npm install (no src/ to rebuild from, mtimes reset by npm) runs the shipped bundle; FPSOLVE_BUNDLE=0 never does', () => {
    const { root, input } = fixture(false);
    const before = process.env.FPSOLVE_BUNDLE;
    try {
      rmSync(join(root, 'dist', 'bundle', 'manifest.json'));
      expect(cliEntry(root)).toBe(join(root, 'dist', 'bundle', 'cli.cjs'));
      process.env.FPSOLVE_BUNDLE = '0';
      expect(cliEntry(root)).toBe(input);
    } finally {
      if (before === undefined) delete process.env.FPSOLVE_BUNDLE;
      else process.env.FPSOLVE_BUNDLE = before;
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('scripts/build-if-stale.mjs (npm install\'s build) and the bundle', () => {
  // A stand-in project: the real build-if-stale.mjs and bin/bundle-entry.js; as tsc, a copy of
  // src/*.ts to dist/src/*.js; as scripts/bundle.mjs, a script that writes dist/bundle/cli.cjs and a
  // manifest of dist/src/cli/main.js. Each stand-in records its call, so what ran is counted.
  function project(): string {
    const p = mkdtempSync(join(tmpdir(), 'fpsolve-bundle-stale-'));
    for (const d of ['scripts', 'bin', 'src/cli', 'src/library', 'node_modules/typescript/bin']) mkdirSync(join(p, d), { recursive: true });
    copyFileSync(join(ROOT, 'scripts', 'build-if-stale.mjs'), join(p, 'scripts', 'build-if-stale.mjs'));
    copyFileSync(join(ROOT, 'bin', 'bundle-entry.js'), join(p, 'bin', 'bundle-entry.js'));
    writeFileSync(join(p, 'package.json'), '{ "name": "bundle-stale-test", "type": "module" }\n');
    writeFileSync(join(p, 'tsconfig.json'), '{}\n');
    writeFileSync(join(p, 'node_modules', 'typescript', 'package.json'), '{ "name": "typescript", "version": "0.0.0-test" }\n');
    writeFileSync(
      join(p, 'node_modules', 'typescript', 'bin', 'tsc'),
      `const fs = require('node:fs'), path = require('node:path');
fs.appendFileSync('calls.log', 'tsc\\n');
for (const f of ['src/cli/main.ts', 'src/library/index.ts', 'src/schema-precompile.ts']) {
  const out = path.join('dist', f.replace(/\\.ts$/, '.js'));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, fs.readFileSync(f));
}
`,
    );
    writeFileSync(join(p, 'src', 'cli', 'main.ts'), 'export const x = 1;\n');
    writeFileSync(join(p, 'src', 'library', 'index.ts'), 'export const lib = 1;\n');
    writeFileSync(join(p, 'src', 'schema-precompile.ts'), "import { mkdirSync, writeFileSync } from 'node:fs';\nmkdirSync('dist/schema', { recursive: true });\nwriteFileSync('dist/schema/scenario.validate.cjs', 'module.exports = 1;\\n');\n");
    writeFileSync(
      join(p, 'scripts', 'bundle.mjs'),
      `import { appendFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
appendFileSync('calls.log', 'bundle\\n');
mkdirSync('dist/bundle', { recursive: true });
writeFileSync('dist/bundle/cli.cjs', 'module.exports = {};\\n');
const st = statSync('dist/src/cli/main.js');
writeFileSync('dist/bundle/manifest.json', JSON.stringify({ inputs: [['dist/src/cli/main.js', st.size, st.mtimeMs]] }));
`,
    );
    return p;
  }
  const calls = (p: string): string[] => (existsSync(join(p, 'calls.log')) ? readFileSync(join(p, 'calls.log'), 'utf8').split('\n').filter(Boolean) : []);
  const build = (p: string): void => {
    const r = spawnSync(process.execPath, [join(p, 'scripts', 'build-if-stale.mjs')], { cwd: p, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  };

  it('bundles after a build, not when all is fresh, and on its own when only the bundle went stale', () => {
    const p = project();
    try {
      build(p);
      expect(calls(p)).toEqual(['tsc', 'bundle']);
      expect(bundleStaleness(p)).toBeNull();
      build(p);
      expect(calls(p)).toEqual(['tsc', 'bundle']);
      // A reinstall or a `tsc` by hand rewrote a bundled input; the sources did not change.
      utimesSync(join(p, 'dist', 'src', 'cli', 'main.js'), new Date(), new Date(Date.now() + 5000));
      expect(bundleStaleness(p)).not.toBeNull();
      build(p);
      expect(calls(p)).toEqual(['tsc', 'bundle', 'bundle']);
      expect(bundleStaleness(p)).toBeNull();
    } finally {
      rmSync(p, { recursive: true, force: true });
    }
  });
});

describe('fpsolve --version fast path', () => {
  it('prints what commander prints for the version, from package.json, exit 0', async () => {
    const viaCommander = await runCli(['--version']);
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(viaCommander).toMatchObject({ exitCode: 0, stdout: `${version}\n`, stderr: '' });
    for (const flag of ['--version', '-V']) {
      const r = fpsolve([flag]);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: viaCommander.stdout, stderr: '' });
    }
  });
});

/** The bundle is what CI builds (npm test); after a `tsc` alone bin/fpsolve.js runs dist/ and these comparisons would compare dist/ with itself. */
const stale = bundleStaleness(ROOT);
const skipBundle = stale !== null && !process.env.CI;

/** report.json without what differs between two runs of the same computation (its date and wall time). */
function stableReport(dir: string): unknown {
  return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'), (k, v: unknown) =>
    k === 'createdAt' || k === 'wallSeconds' ? undefined : v,
  );
}

describe('the bundle computes what dist/ computes', () => {
  it.skipIf(skipBundle)('validate and a 1-D run (gap included): same stdout, same report, same density bits', () => {
    expect(stale, 'npm run build bundles the CLI').toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'fpsolve-bundle-same-'));
    try {
      // Every bundled scenario: the bundle's mathjs parser (compiled in) reads each landscape as dist/'s does.
      const files = readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.yaml')).map((f) => `scenarios/${f}`);
      expect(files.length).toBeGreaterThan(5);
      const v = [fpsolve(['validate', ...files]), fpsolve(['validate', ...files], { env: { FPSOLVE_BUNDLE: '0' } })];
      expect(v[0]).toEqual(v[1]);
      expect(v[0]!.code, v[0]!.stderr).toBe(0);
      expect(v[0]!.stdout.trim().split('\n')).toHaveLength(files.length);
      const args = ['run', 'scenarios/pearson-1d.yaml', '-q', '--set', 'time.end=1', '--set', 'time.reportEvery=0.25'];
      const b = fpsolve([...args, '-o', join(dir, 'bundle')]);
      const d = fpsolve([...args, '-o', join(dir, 'dist')], { env: { FPSOLVE_BUNDLE: '0' } });
      expect(b.code, b.stderr).toBe(0);
      expect(d.code, d.stderr).toBe(0);
      expect(readFileSync(join(dir, 'bundle', 'density.npy')).equals(readFileSync(join(dir, 'dist', 'density.npy')))).toBe(true);
      const rb = stableReport(join(dir, 'bundle')) as { gap?: { value?: number } };
      expect(rb).toEqual(stableReport(join(dir, 'dist')));
      // And both are right: docs/oracles.md §1 Pearson, spectral gap 2b = 1.
      expect(Math.abs(rb.gap!.value! - 1)).toBeLessThan(2e-3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(skipBundle)('kernel threads started from the bundle run dist/\'s worker and give the one-thread bits', () => {
    // 512² is the smallest grid the CPU backend splits across threads (solvers/backend/cpu.ts).
    const dir = mkdtempSync(join(tmpdir(), 'fpsolve-bundle-threads-'));
    try {
      const file = join(dir, 'big.yaml');
      writeFileSync(
        file,
        'name: bundle-threads\nlandscape: { expr: "(x^2 + y^2)/2" }\ndomain: { bounds: [[-2, 2], [-2, 2]], cells: [512, 512] }\nnoise: { model: additive, D: 0.1 }\ninitial: { gaussian: { mean: [0.5, 0], std: [0.3, 0.3] } }\ntime: { end: 0.002, reportEvery: 0.001, integrator: explicit }\n',
      );
      const runs = [1, 2].map((t) => {
        const out = join(dir, `t${t}`);
        const r = fpsolve(['run', file, '-q', '--no-gap', '-o', out], { env: { FPSOLVE_THREADS: String(t) } });
        expect(r.code, r.stderr).toBe(0);
        return { out, report: readFileSync(join(out, 'report.json'), 'utf8') };
      });
      expect(runs[1]!.report).toMatch(/2 kernel threads/);
      expect(runs[0]!.report).not.toMatch(/2 kernel threads/);
      expect(readFileSync(join(runs[0]!.out, 'density.npy')).equals(readFileSync(join(runs[1]!.out, 'density.npy')))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(skipBundle)('the source map leads from the bundle back to TypeScript sources that exist', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle', 'manifest.json'), 'utf8')) as { inputs: [string, number, number][] };
    const ours = manifest.inputs.filter(([f]) => f.startsWith('dist/src/') || f.startsWith('dist/solvers/'));
    expect(ours.length).toBeGreaterThan(50);
    const map = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle', 'cli.cjs.map'), 'utf8')) as { sources: string[] };
    // The built-in shims (scripts/bundle.mjs) are virtual modules, named by their namespace.
    const sources = map.sources.filter((s) => !s.startsWith('fpsolve-builtin:')).map((s) => join(ROOT, 'dist', 'bundle', s));
    expect(sources.length).toBeGreaterThan(300);
    expect(sources).toContain(join(ROOT, 'src', 'cli', 'main.ts'));
    expect(sources).toContain(join(ROOT, 'solvers', 'linear.ts'));
    for (const s of sources) expect(existsSync(s), s).toBe(true);
  });
});
