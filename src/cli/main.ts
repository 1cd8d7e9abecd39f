import { Command, CommanderError } from 'commander';
import { errnoReason, EXIT, FpsolveError, isIoFailure } from '../errors.js';
import { packageVersion } from '../paths.js';
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

/**
 * Every command, in the order `--help` lists them, with the import that defines it. A command's
 * module pulls in what its action needs (the scenario loader, the solvers, mathjs's parser, ajv's
 * validators, zarrita…), so a process imports only the module of the command it runs and
 * `--version` imports none (test/startup-imports.test.ts). A new command is one line here.
 */
const COMMANDS: readonly { name: string; hidden?: true; load: () => Promise<Command> }[] = [
  { name: 'run', load: async () => (await import('./commands/run.js')).runCommand() },
  { name: 'validate', load: async () => (await import('./commands/validate.js')).validateCommand() },
  { name: 'gap', load: async () => (await import('./commands/gap.js')).gapCommand() },
  { name: 'sweep', load: async () => (await import('./commands/sweep.js')).sweepCommand() },
  { name: 'check', load: async () => (await import('./commands/check.js')).checkCommand() },
  { name: 'simulate', load: async () => (await import('./commands/simulate.js')).simulateCommand() },
  { name: 'committor', load: async () => (await import('./commands/committor.js')).committorCommand() },
  { name: 'escape', load: async () => (await import('./commands/escape.js')).escapeCommand() },
  // Internal: the persistent process of src/parallel/worker-pool.ts, not for users.
  { name: 'worker', hidden: true, load: async () => (await import('./commands/worker.js')).workerCommand() },
];

/**
 * The commands a command line needs defined: the one it names; none for a bare `--version`; all of
 * them for help, a mistyped name (commander suggests the nearest) or no command at all. The
 * program's own options (-V/--version, -h/--help) take no value, so the first word that is not an
 * option is the command's name.
 */
function commandsFor(args: readonly string[]): typeof COMMANDS {
  const word = args.find((a) => !a.startsWith('-'));
  const named = COMMANDS.filter((c) => c.name === word);
  if (named.length > 0) return named;
  const versionOnly = word === undefined && args.some((a) => a === '-V' || a === '--version') && !args.some((a) => a === '-h' || a === '--help');
  return versionOnly ? [] : COMMANDS;
}

/** The program, with the commands that `argv` (process.argv: node, script, args…) needs defined; all of them by default. */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('fpsolve')
    .description('Finite-volume solver for the Fokker–Planck equations of SGD: convergence to π, rates, spectral gaps')
    .version(packageVersion())
    .exitOverride()
    // Options after a command name belong to that command: `sweep merge … --out d` must not give --out to `sweep`.
    .enablePositionalOptions()
    .addHelpText('after', '\nRun `fpsolve <command> --help` for each command\'s options and examples.');
  const wanted = argv === undefined ? COMMANDS : commandsFor(argv.slice(2));
  const commands = await Promise.all(wanted.map(async (c) => ({ cmd: await c.load(), hidden: c.hidden === true })));
  for (const { cmd, hidden } of commands) program.addCommand(cmd.exitOverride(), { hidden });
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
  try {
    // Inside the try: a command module that fails to load (a broken install) is reported like any other failure.
    const program = await buildProgram(argv);
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
