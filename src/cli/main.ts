import { Command, CommanderError } from 'commander';
import { errnoReason, EXIT, FpsolveError, isIoFailure } from '../errors.js';
import { packageVersion } from '../paths.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { gapCommand } from './commands/gap.js';
import { checkCommand } from './commands/check.js';
import { sweepCommand } from './commands/sweep.js';
import { simulateCommand } from './commands/simulate.js';
import { workerCommand } from './commands/worker.js';
import { committorCommand } from './commands/committor.js';
import { escapeCommand } from './commands/escape.js';
import { oneLine, takeExitCode, USAGE_HINT } from './commands/shared.js';
import { describeFailure } from '../failure-report.js';
import { asInfrastructureFailure, SolverFailure } from '../../solvers/base/failures.js';

/**
 * A typed failure that escaped a command (a gap solve, a simulation, set-up running out of memory):
 * its one-line message and exit code (3 numerical, 75 infrastructure), else undefined.
 */
function typedFailure(e: unknown): { message: string; exitCode: number } | undefined {
  if (!(e instanceof SolverFailure) && !asInfrastructureFailure(e)) return undefined;
  const f = describeFailure(e);
  return { message: f.message, exitCode: f.exitCode };
}

export function buildProgram(): Command {
  const program = new Command('fpsolve')
    .description('Finite-volume solver for the Fokker–Planck equations of SGD: convergence to π, rates, spectral gaps')
    .version(packageVersion())
    .exitOverride()
    // Options after a command name belong to that command: `sweep merge … --out d` must not give --out to `sweep`.
    .enablePositionalOptions()
    .addHelpText('after', '\nRun `fpsolve <command> --help` for each command\'s options and examples.');
  for (const cmd of [runCommand(), validateCommand(), gapCommand(), sweepCommand(), checkCommand(), simulateCommand(), committorCommand(), escapeCommand()]) program.addCommand(cmd.exitOverride());
  // Internal: the persistent process of src/parallel/worker-pool.ts, not for users.
  program.addCommand(workerCommand().exitOverride(), { hidden: true });
  // A usage error is one line on stderr like every exit 2 (the hint folded in); addCommand does not pass settings down, so each command gets it.
  const oneLineErrors = (c: Command): void => {
    c.configureOutput({ outputError: (str, write) => write(`${oneLine(str)} ${USAGE_HINT}\n`) });
    c.commands.forEach(oneLineErrors);
  };
  oneLineErrors(program);
  return program;
}

/**
 * Errors that escape the command's promise (a throw in a timer or stream callback) and a closed
 * stdout (`fpsolve run --json | head`) would otherwise end the process with Node's stack trace.
 * Installed by bin/fpsolve.js only: tests call main() in-process and must keep their own handlers.
 */
export function installLastResortHandlers(): void {
  const die = (e: unknown): void => {
    const io = !(e instanceof FpsolveError) && isIoFailure(e);
    const typed = typedFailure(e);
    const msg = e instanceof FpsolveError ? e.message : io ? `${e.path ?? 'an output'}: cannot write: ${errnoReason(e)}` : typed ? typed.message : `internal error: ${(e as Error)?.message ?? String(e)}`;
    process.stderr.write(`fpsolve: ${oneLine(msg)}\n`);
    if (process.env.FPSOLVE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    process.exit(e instanceof FpsolveError ? e.exitCode : io ? EXIT.ioError : typed ? typed.exitCode : 70);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  // The reader went away: nothing more can be shown, and that is not an error of the run.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(process.exitCode ?? 0) : die(e)));
}

/** Runs the CLI and returns the exit code; never lets a stack trace reach the user. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return takeExitCode();
  } catch (e) {
    takeExitCode();
    if (e instanceof CommanderError) {
      // help and version end with code 0; usage errors with 2 (bad input)
      return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (e instanceof FpsolveError) {
      process.stderr.write(`fpsolve: ${oneLine(e.message)}\n`);
      return e.exitCode;
    }
    const typed = typedFailure(e);
    if (typed) {
      process.stderr.write(`fpsolve: ${oneLine(typed.message)}\n`);
      return typed.exitCode;
    }
    if (isIoFailure(e)) {
      // A write that bypassed the output helpers still failed for the storage's sake, not ours.
      const path = (e as NodeJS.ErrnoException).path ?? 'an output';
      process.stderr.write(`fpsolve: ${path}: cannot write: ${errnoReason(e)}\n`);
      return EXIT.ioError;
    }
    const err = e as Error;
    process.stderr.write(`fpsolve: internal error: ${oneLine(err?.message ?? String(e))}\n`);
    if (process.env.FPSOLVE_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    return 70;
  }
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

let cliRunning = false;

/**
 * Runs the CLI in this process as `fpsolve <args…>` would, with stdout and stderr captured, and
 * returns the exit code instead of exiting: for tests that drive thousands of commands (a process
 * per command costs about half a second). process.stdout/stderr.write are redirected for the
 * duration, so calls must not overlap; process.exit is not intercepted (no command calls it except
 * on a second SIGINT/SIGTERM).
 */
export async function runCli(args: readonly string[]): Promise<CliResult> {
  if (cliRunning) throw new Error('runCli: calls must not overlap (stdout and stderr are redirected per call)');
  cliRunning = true;
  let stdout = '';
  let stderr = '';
  const capture =
    (sink: (s: string) => void) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const cb = rest.find((r): r is () => void => typeof r === 'function');
      cb?.();
      return true;
    };
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = capture((s) => (stdout += s)) as typeof process.stdout.write;
  process.stderr.write = capture((s) => (stderr += s)) as typeof process.stderr.write;
  try {
    const exitCode = await main(['node', 'fpsolve', ...args]);
    return { exitCode, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    cliRunning = false;
  }
}
