/**
 * Same bits whatever the scheduling (README "Reproducibility"; docs/design.md on the kernel
 * team): with FPSOLVE_TEST_FAULT=block-order:<seed> every kernel of the team runs its blocks in
 * a seeded random order on the calling thread, or is handed to the workers, which start their
 * blocks a seeded 0–2 ms late (solvers/exec/team.ts): the mixes that a loaded machine produces
 * (workers still starting, the caller's blocks before, beside or after the others'), forced.
 * Each run must give the bits of an undisturbed one-thread run, for 1, 2 and 3 threads, with
 * TR-BDF2 + multigrid-PCG in 2-D and the exponential integrator in 3-D, the finest multigrid
 * level large enough to be smoothed block by block on the team. A kernel whose blocks read what
 * other blocks write in the same pass (Gauss–Seidel across a block edge without its ghost copy,
 * a restriction adding into another block's coarse cells), a reduction added in completion
 * order, or scratch shared between threads, gives other bits under some order and fails here.
 * Runs are child processes (test/helpers/schedule-run.ts, compiled), as the hook is read at start.
 *
 * Under vitest this thread runs the TypeScript sources and the kernel threads their dist/ build:
 * a stale or concurrently rewritten dist/ gave 2 threads other bits than 1 (PCG 372 iterations
 * against 369, once, in a full run). The team refuses such a build (staleBuild, checked here on
 * a scratch tree with set file times).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';
import { staleBuild } from '../solvers/exec/team.js';

interface RunLine {
  threads: number;
  iterations: number;
  hash: string;
}

/** A child run under FPSOLVE_TEST_FAULT=`fault` (a seed alone means block-order:<seed>; null: none). */
function runChild(which: string, threads: number[], fault: number | string | null): Promise<RunLine[]> {
  const script = join(packageRoot(), 'dist', 'test', 'helpers', 'schedule-run.js');
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FPSOLVE_THREADS;
  delete env.FPSOLVE_WASM;
  if (fault === null) delete env.FPSOLVE_TEST_FAULT;
  else env.FPSOLVE_TEST_FAULT = typeof fault === 'number' ? `block-order:${fault}` : fault;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, which, threads.join(',')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`schedule-run ${which} exited ${code}: ${err}`));
      else resolve(out.trim().split('\n').map((l) => JSON.parse(l) as RunLine));
    });
  });
}

describe('thread-count bit identity under forced scheduling mixes', () => {
  const cases: { which: string; runs: { seed: number; threads: number[] }[] }[] = [
    { which: 'trbdf2-2d', runs: [{ seed: 11, threads: [1, 2, 3] }, { seed: 12, threads: [3, 2] }] },
    { which: 'exponential-3d', runs: [{ seed: 13, threads: [1, 2, 3] }, { seed: 14, threads: [3, 2] }] },
  ];
  for (const { which, runs } of cases) {
    it(`${which}: every seed and thread count gives the undisturbed one-thread bits`, async () => {
      const [base] = await runChild(which, [1], null);
      // A real solve, not a trivial one: the comparison below would be empty otherwise.
      expect(base.iterations).toBeGreaterThan(20);
      const disturbed = (await Promise.all(runs.map((r) => runChild(which, r.threads, r.seed)))).flat();
      expect(disturbed.map((r) => r.threads).sort()).toEqual(runs.flatMap((r) => r.threads).sort());
      for (const r of disturbed) expect({ threads: r.threads, iterations: r.iterations, hash: r.hash }).toEqual({ threads: r.threads, iterations: base.iterations, hash: base.hash });
    });
  }
});

/**
 * The hand-over between the caller and its kernel threads, under the two ways it was seen or can
 * be made to break: a thread's Atomics.wait returning without a new kernel (a late notify of the
 * kernel it had just run, seen under load on 2 cores: the thread ran that kernel again, x += αp
 * twice, and counted itself done twice — other bits, once a CG that diverged; the thread now
 * waits until the generation counter moves), and a thread answering twice while another is still in its blocks (the caller
 * now waits for each thread's own generation stamp, not for a count of answers). Either bug gives
 * other bits or a failed solve here: reverting either fix fails this test (checked by hand when
 * the fixes were made, 2026-12-08).
 */
describe('kernel hand-over: one run per kernel and thread, and the caller waits for every thread', () => {
  it('exponential-3d: a spurious wake-up of the threads changes nothing', async () => {
    const [base] = await runChild('exponential-3d', [1], null);
    const runs = (await Promise.all([runChild('exponential-3d', [2, 3], 'spurious-wake:21'), runChild('exponential-3d', [3], 'spurious-wake:22')])).flat();
    expect(runs.map((r) => r.threads)).toEqual([2, 3, 3]);
    for (const r of runs) expect({ threads: r.threads, iterations: r.iterations, hash: r.hash }).toEqual({ threads: r.threads, iterations: base.iterations, hash: base.hash });
  });

  it('trbdf2-2d: a thread that answers twice does not let the caller go on without the others', async () => {
    const [base] = await runChild('trbdf2-2d', [1], null);
    const [r] = await runChild('trbdf2-2d', [3], 'finish-twice');
    expect({ iterations: r.iterations, hash: r.hash }).toEqual({ iterations: base.iterations, hash: base.hash });
  });
});

describe('staleBuild: threads from TypeScript sources need dist/ to be their build', () => {
  it('accepts a build newer than its sources and older than the process, and names a source edited since, a missing twin or a rebuild during the run', () => {
    const root = mkdtempSync(join(tmpdir(), 'fpsolve-stale-'));
    try {
      mkdirSync(join(root, 'solvers', 'exec'), { recursive: true });
      mkdirSync(join(root, 'dist', 'solvers', 'exec'), { recursive: true });
      const files = ['solvers/a.ts', 'solvers/exec/b.ts'];
      const at = (rel: string, seconds: number): void => {
        writeFileSync(join(root, rel), '');
        utimesSync(join(root, rel), seconds, seconds);
      };
      const t0 = 1_700_000_000;
      const started = (t0 + 100) * 1000;
      for (const f of files) at(f, t0);
      for (const f of files) at(`dist/${f.replace(/\.ts$/, '.js')}`, t0 + 10);
      writeFileSync(join(root, 'solvers', 'exec', 'types.d.ts'), '');
      expect(staleBuild(root, started)).toBeNull();
      at('solvers/exec/b.ts', t0 + 20);
      expect(staleBuild(root, started)).toBe('solvers/exec/b.ts is newer than its build');
      at('dist/solvers/exec/b.js', t0 + 200);
      expect(staleBuild(root, started)).toBe('solvers/exec/b.ts was rebuilt after this process started');
      at('dist/solvers/exec/b.js', t0 + 30);
      expect(staleBuild(root, started)).toBeNull();
      at('solvers/c.ts', t0);
      expect(staleBuild(root, started)).toBe('solvers/c.ts is not built');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('holds for this checkout (the suite builds before it runs)', () => {
    expect(staleBuild(packageRoot(), performance.timeOrigin)).toBeNull();
  });
});
