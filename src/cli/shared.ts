import { Option } from 'commander';

/** `--set path=value`, repeatable; values are parsed as YAML by the scenario loader. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export const setOption = (): Option =>
  new Option('-s, --set <path=value>', "override a scenario field (repeatable), value parsed as YAML, e.g. --set noise.eta=0.05 --set 'domain.cells=[4000]'")
    .argParser(collect)
    .default([] as string[], 'none');

/**
 * The exit code a command's action decided on (commander actions return nothing useful).
 * Only the one command that runs per process sets it.
 */
let exitCode = 0;
export function setExitCode(code: number): void {
  exitCode = code;
}
export function takeExitCode(): number {
  const c = exitCode;
  exitCode = 0;
  return c;
}

/** Appended to a usage error, on the same line: every exit 2 is one line on stderr. */
export const USAGE_HINT = '(add --help for usage)';

/** The exit-code table promises one line on stderr: a multi-line message is folded. */
export function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
