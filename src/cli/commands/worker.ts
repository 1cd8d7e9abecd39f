/**
 * `fpsolve worker` (hidden): a persistent process for src/parallel/worker-pool.ts. It loads fpsolve
 * once and then runs scenario after scenario, one request per stdin line, one response per stdout
 * line, each the same run `fpsolve run <file> --json --quiet --set … <extraArgs>` would make:
 *
 *   request:  {"id": 1, "scenarioFile": "s.yaml", "overrides": ["noise.eta=0.1"], "extraArgs": ["--no-gap"]}
 *   response: {"id": 1, "exitCode": 0, "report": {…}}   or   {"id": 1, "exitCode": 2, "error": "one line"}
 *
 * SIGTERM/SIGINT stop the run in progress the way they stop `fpsolve run` (report kept, status
 * "interrupted", exit code 143/130), answer it, and end the worker; so does the end of stdin (the
 * pool closed or its process died: nobody is left to read further results).
 */
import { createInterface } from 'node:readline';
import { Command, CommanderError } from 'commander';
import { EXIT, FpsolveError } from '../../errors.js';
import { describeFailure } from '../../failure-report.js';
import { asInfrastructureFailure, SolverFailure } from '../../../solvers/base/failures.js';
import { firstTime, testFault } from '../../../solvers/base/fault-injection.js';
import { reportJson } from '../../report/write.js';
import { oneLine, setExitCode, USAGE_HINT } from './shared.js';
import { executeRun, runCommand, type RunCliOptions } from './run.js';
import type { LoadedScenario } from '../../scenario/types.js';

export interface WorkerRequest {
  id: number;
  scenarioFile: string;
  overrides: string[];
  extraArgs: string[];
}

export interface WorkerResponse {
  id: number;
  exitCode: number;
  /** Present when the run produced a report (exit 0, 3, 130, 143). */
  report?: unknown;
  /** What `fpsolve run` would print on stderr, without its `fpsolve: ` prefix. */
  error?: string;
}

/** The options `fpsolve run` would see for this request; its own parser, so every flag means the same. */
function parseRunArgs(req: WorkerRequest): { file: string; opts: RunCliOptions } {
  let parsed: { file: string; opts: RunCliOptions } | undefined;
  let stderr = '';
  const cmd = runCommand()
    .exitOverride()
    .configureOutput({ writeOut: (s) => void (stderr += s), writeErr: (s) => void (stderr += s) })
    .action((file: string, opts: RunCliOptions) => {
      parsed = { file, opts };
    });
  const argv = [req.scenarioFile, '--json', '--quiet', ...req.overrides.flatMap((o) => ['--set', o]), ...req.extraArgs];
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    // Worded as `fpsolve run` words it (src/cli/main.ts): one line with the usage hint.
    if (e instanceof CommanderError) throw new ParseFailure(e.exitCode === 0 ? EXIT.ok : EXIT.badInput, stderr.trim() ? `${oneLine(stderr)} ${USAGE_HINT}` : e.message);
    throw e;
  }
  if (!parsed) throw new ParseFailure(EXIT.badInput, 'no scenario file given');
  return parsed;
}

class ParseFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

function isRequest(v: unknown): v is WorkerRequest {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const strings = (x: unknown): boolean => Array.isArray(x) && x.every((s) => typeof s === 'string');
  return typeof r['id'] === 'number' && typeof r['scenarioFile'] === 'string' && strings(r['overrides']) && strings(r['extraArgs']);
}

/** One request answered as `fpsolve run --json` would answer it (also run in-process by src/parallel/in-process.ts). */
export async function answer(req: WorkerRequest, signal: AbortSignal, loaded?: LoadedScenario): Promise<WorkerResponse> {
  try {
    const { file, opts } = parseRunArgs(req);
    for (const flag of ['out', 'plots', 'html', 'vti', 'zarr', 'snapshots', 'checkpoints', 'stopAfter', 'resume'] as const) {
      // Every point of a sweep would write into the same directory: refuse rather than overwrite.
      if (opts[flag] !== undefined && opts[flag] !== false) throw new ParseFailure(EXIT.badInput, `--${flag.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} cannot be used for a sweep point or check case (each run reports by JSON)`);
    }
    const { result, exitCode } = await executeRun(file, opts, { signal, ...(loaded !== undefined ? { loaded } : {}) });
    // Parsed back so the pool gets exactly the object `fpsolve run --json` prints (non-finite numbers as null).
    const report = JSON.parse(reportJson(result.report)) as unknown;
    // A worker runs many points: each point's arena space goes back now, not when the collector gets to it.
    if ('setup' in result) {
      result.setup.op.dispose();
      result.setup.problem.dispose();
    }
    return { id: req.id, exitCode, report };
  } catch (e) {
    if (e instanceof ParseFailure) return { id: req.id, exitCode: e.exitCode, error: e.message };
    if (e instanceof FpsolveError) return { id: req.id, exitCode: e.exitCode, error: e.message };
    // Out of memory in set-up, say: exit 75 as `fpsolve run` would, so that the sweep retries it.
    if (e instanceof SolverFailure || asInfrastructureFailure(e)) {
      const f = describeFailure(e);
      return { id: req.id, exitCode: f.exitCode, error: f.message };
    }
    return { id: req.id, exitCode: 70, error: `internal error: ${(e as Error)?.message ?? String(e)}` };
  }
}

/** Serves requests from stdin until stdin ends or a signal arrives; resolves when the worker should exit. */
export async function serveWorker(): Promise<void> {
  // The protocol owns stdout: anything else a library prints there goes to stderr instead.
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  const send = (r: WorkerResponse): void => void stdoutWrite(JSON.stringify(r) + '\n');

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const pending: string[] = [];
  let wake: (() => void) | null = null;
  let stopCode: number | null = null;
  let running: AbortController | null = null;
  const stop = (code: number): void => {
    stopCode ??= code;
    running?.abort(stopCode);
    wake?.();
  };
  const onSigint = (): void => stop(EXIT.interrupted);
  const onSigterm = (): void => stop(EXIT.terminated);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  lines.on('line', (l) => {
    pending.push(l);
    wake?.();
  });
  lines.on('close', () => stop(EXIT.terminated));
  try {
    while (stopCode === null) {
      const line = pending.shift();
      if (line === undefined) {
        await new Promise<void>((r) => (wake = r));
        wake = null;
        continue;
      }
      if (line.trim() === '') continue;
      let req: unknown;
      try {
        req = JSON.parse(line);
      } catch {
        req = undefined;
      }
      if (!isRequest(req)) {
        process.stderr.write(`fpsolve worker: ignored a malformed request line\n`);
        continue;
      }
      // Test-only (FPSOLVE_TEST_FAULT=worker-exit-once:<file>): this process dies as the OOM killer would end it.
      const dieOnce = testFault('worker-exit-once');
      if (dieOnce && firstTime(dieOnce)) process.kill(process.pid, 'SIGKILL');
      running = new AbortController();
      const res = await answer(req, running.signal);
      running = null;
      send(res);
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    lines.close();
    process.stdin.destroy();
  }
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('(internal) serve `fpsolve run --json` requests over stdin/stdout for sweep and check')
    .action(async () => {
      await serveWorker();
      setExitCode(EXIT.ok);
    });
}
