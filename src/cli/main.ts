import { Command, CommanderError } from 'commander';
import { FpsolveError, EXIT } from '../errors.js';
import { packageVersion } from '../paths.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { gapCommand } from './commands/gap.js';
import { checkCommand } from './commands/check.js';
import { sweepCommand } from './commands/sweep.js';
import { simulateCommand } from './commands/simulate.js';
import { workerCommand } from './commands/worker.js';
import { takeExitCode } from './shared.js';

export function buildProgram(): Command {
  const program = new Command('fpsolve')
    .description('Finite-volume solver for the Fokker–Planck equations of SGD: convergence to π, rates, spectral gaps')
    .version(packageVersion())
    .exitOverride()
    // Options after a command name belong to that command: `sweep merge … --out d` must not give --out to `sweep`.
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nRun `fpsolve <command> --help` for each command\'s options and examples.');
  for (const cmd of [runCommand(), validateCommand(), gapCommand(), sweepCommand(), checkCommand(), simulateCommand()]) program.addCommand(cmd.exitOverride());
  // Internal: the persistent process of src/parallel/worker-pool.ts, not for users.
  program.addCommand(workerCommand().exitOverride(), { hidden: true });
  return program;
}

/**
 * Errors that escape the command's promise (a throw in a timer or stream callback) and a closed
 * stdout (`fpsolve run --json | head`) would otherwise end the process with Node's stack trace.
 * Installed by bin/fpsolve.js only: tests call main() in-process and must keep their own handlers.
 */
export function installLastResortHandlers(): void {
  const die = (e: unknown): void => {
    const msg = e instanceof FpsolveError ? e.message : `internal error: ${(e as Error)?.message ?? String(e)}`;
    process.stderr.write(`fpsolve: ${msg}\n`);
    if (process.env.FPSOLVE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    process.exit(e instanceof FpsolveError ? e.exitCode : 70);
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
    if (e instanceof CommanderError) {
      // help and version end with code 0; usage errors with 2 (bad input)
      return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (e instanceof FpsolveError) {
      process.stderr.write(`fpsolve: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    process.stderr.write(`fpsolve: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.FPSOLVE_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    return 70;
  }
}
