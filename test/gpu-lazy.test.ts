// The GPU packages (gpu.js, webgpu, gl) are optional peers (#20.1, #20.5): a CPU run must never
// import them, and asking for a gpu.js backend where gpu.js is absent is one line and exit 2. A
// Node resolve hook stands in for an install without them: it records every attempt to resolve
// one of them and answers as Node does for a package that is not installed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { autoMayProbeGpu } from '../solvers/backend/select.js';
import { fpsolve } from './helpers/cli.js';

const GPU_PACKAGES = ['gpu.js', 'webgpu', 'gl'];

function withoutGpuPackages(): { env: NodeJS.ProcessEnv; attempts: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'fpsolve-gpu-lazy-'));
  const log = join(dir, 'attempts.log');
  writeFileSync(log, '');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
const hidden = new Set(${JSON.stringify(GPU_PACKAGES)});
export async function resolve(specifier, context, next) {
  if (hidden.has(specifier)) {
    appendFileSync(${JSON.stringify(log)}, specifier + '\\n');
    const e = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}
`,
  );
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  return {
    env: { NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'register.mjs')).href}` },
    attempts: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
  };
}

describe('GPU packages load only when a GPU backend is asked for', () => {
  // Where a device node exists, auto is meant to probe (and so to import webgpu); this checks the CPU-only machine.
  it.skipIf(autoMayProbeGpu())('a 512² run with the default backend imports none of them and prints nothing on stderr', () => {
    const hidden = withoutGpuPackages();
    const out = mkdtempSync(join(tmpdir(), 'fpsolve-gpu-lazy-run-'));
    const r = fpsolve(['run', 'scenarios/ou-2d.yaml', '-q', '--no-gap', '--set', 'domain.cells=[512,512]', '--set', 'time.end=0.001', '--set', 'time.reportEvery=0.001', '-o', out], { env: hidden.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(hidden.attempts()).toEqual([]);
    // 512² is where auto would consider a GPU (AUTO_GPU_MIN_CELLS): the run got past the size test.
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { backend: string; backendReason: string };
    expect(report.backend).toBe('cpu');
    expect(report.backendReason).toContain('no GPU device node');
  });

  it('--version and validate never try to load them (start-up, #19.4)', () => {
    const hidden = withoutGpuPackages();
    for (const args of [['--version'], ['validate', 'scenarios/pearson-1d.yaml', 'scenarios/ou-2d.yaml']]) {
      const r = fpsolve(args, { env: hidden.env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
    }
    expect(hidden.attempts()).toEqual([]);
  });

  it('the hook does hide an installed package (so the run above proves something)', () => {
    const hidden = withoutGpuPackages();
    const r = fpsolve(['run', 'scenarios/pearson-1d.yaml', '-q', '--no-gap', '--backend', 'webasm', '--set', 'domain.cells=[200]', '--set', 'time.end=0.1', '--set', 'time.reportEvery=0.1', '-o', mkdtempSync(join(tmpdir(), 'fpsolve-gpu-lazy-w-'))], {
      env: hidden.env,
    });
    expect(hidden.attempts()).toContain('gpu.js');
    // Without gpu.js: exit 2, one line naming the option and what to install, no stack trace.
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fpsolve: --backend webasm: the npm package gpu\.js is not installed; [^\n]*npm install gpu\.js webgpu@\^0\.6\.2[^\n]*\n$/);
  });
});
