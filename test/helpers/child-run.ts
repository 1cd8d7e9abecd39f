/**
 * The reference for the worker pool's tests: one scenario run as a fresh `fpsolve run --json`
 * process, the plain path a user would take (test/worker-pool.test.ts compares the pool to it).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import type { RunReport } from '../../src/report/types.js';
import type { ChildRunRequest, ChildRunResult } from '../../src/parallel/run-request.js';

export function runInChild(req: ChildRunRequest): Promise<ChildRunResult> {
  const bin = join(packageRoot(), 'bin', 'fpsolve.js');
  const args = [bin, 'run', req.scenarioFile, '--json', '--quiet', ...req.overrides.flatMap((o) => ['--set', o]), ...(req.extraArgs ?? [])];
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timer: NodeJS.Timeout | undefined;
    if (req.timeoutSeconds !== undefined) {
      timer = setTimeout(() => child.kill('SIGTERM'), req.timeoutSeconds * 1000);
    }
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), (req.killGraceSeconds ?? 5) * 1000);
      killTimer.unref();
    };
    if (req.signal?.aborted) onAbort();
    else req.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanUp = (): void => {
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      req.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (e) => {
      cleanUp();
      resolve({ ok: false, error: `could not start fpsolve: ${e.message}`, exitCode: null, wallSeconds: (performance.now() - started) / 1000 });
    });
    child.on('close', (code) => {
      cleanUp();
      const wallSeconds = (performance.now() - started) / 1000;
      const stderr = Buffer.concat(err).toString('utf8').trim().replace(/^fpsolve: /, '');
      const stdout = Buffer.concat(out).toString('utf8');
      if (stdout.trim().startsWith('{')) {
        try {
          const report = JSON.parse(stdout) as RunReport;
          resolve({ ok: true, report, exitCode: code ?? 0, wallSeconds });
          return;
        } catch {
          // fall through: a torn report is an error
        }
      }
      resolve({ ok: false, error: stderr || `fpsolve exited with code ${code}`, exitCode: code, wallSeconds });
    });
  });
}
