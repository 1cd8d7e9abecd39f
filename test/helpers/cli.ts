import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'fpsolve.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (dist/, compiled by `npm test`'s tsc step) as a user would. */
export function fpsolve(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `fpsolve <args> --progress` and sends `signal` when the run prints its phase line
 * 'set-up: done, stepping' (written when stepping begins, not on a timer), so the signal lands
 * mid-run however loaded the machine is. `sent` is false if the line never came.
 */
export async function signalWhenStepping(
  args: string[],
  signal: NodeJS.Signals,
): Promise<{ code: number | null; sig: NodeJS.Signals | null; stderr: string; sent: boolean }> {
  const child = spawn(process.execPath, [BIN, ...args, '--progress'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.resume();
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!sent && stderr.includes('set-up: done, stepping')) {
      sent = true;
      child.kill(signal);
    }
  });
  const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('exit', (c, s) => r([c, s])));
  return { code, sig, stderr, sent };
}
