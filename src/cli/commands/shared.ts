import { escapeControls } from '../../errors.js';
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

/** Longest message printed: a guard behind the per-site truncation (showText) for text echoed unquoted. */
export const MAX_MESSAGE = 2000;

/**
 * The exit-code table promises one line on stderr: a multi-line message is folded, any other
 * control character (a terminal escape in a key or a --set) is escaped, and the length is capped.
 */
export function oneLine(s: string): string {
  const line = escapeControls(s.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ').trim());
  return line.length <= MAX_MESSAGE ? line : `${line.slice(0, MAX_MESSAGE)}…`;
}
