import type { SolverFailureReason } from '../solvers/base/failures.js';

/**
 * Errors that reach the user. Every failure the CLI reports goes through one of these so that
 * the exit code says what kind of failure it was (see README "Exit codes").
 */
export const EXIT = {
  ok: 0,
  regression: 1,
  badInput: 2,
  numericalFault: 3,
  /** EX_IOERR of sysexits.h: writing an output failed part way (disk full, I/O error). */
  ioError: 74,
  /**
   * EX_TEMPFAIL of sysexits.h: the machine, not the numerics, failed the run (a kernel thread or
   * device lost, memory refused; solvers/base/failures.ts): the same input may well succeed if run again.
   */
  infrastructure: 75,
  interrupted: 130,
  terminated: 143,
} as const;

/** Longest piece of user text (a key, a path, a --set argument) echoed into a message. */
export const MAX_ECHO = 80;

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators: each would break the one-line
// promise or carry a terminal escape (ESC [31m …) into the user's terminal or CI log.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Control characters written JSON-style (\n, \u001b), so that echoed text stays on one line and inert. */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, (c) => {
    const j = JSON.stringify(c);
    return j.length === 4 ? j.slice(1, -1) : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** User text echoed unquoted (where a message's style has no quotes): escaped and cut to `max` characters + "…". */
export function clipText(s: string, max = MAX_ECHO): string {
  return escapeControls(s.length > max ? `${s.slice(0, max)}…` : s);
}

/**
 * User text as echoed in a message: quoted, control characters escaped, at most `max` characters
 * (+ "…") so that a 100 000-character argument does not become a 100 KB error line.
 */
export function showText(s: string, max = MAX_ECHO): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return escapeControls(JSON.stringify(cut));
}

/** How a message names a field: `field 'noise.eta'`, with a user-made key escaped and cut to MAX_ECHO. */
export function fieldLabel(field: string): string {
  const cut = field.length > MAX_ECHO ? `${field.slice(0, MAX_ECHO)}…` : field;
  return `field '${escapeControls(cut)}'`;
}

export class FpsolveError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'FpsolveError';
    this.exitCode = exitCode;
  }
}

/** Bad input: a scenario field, a CLI option or an input file. Exit code 2. */
export class InputError extends FpsolveError {
  /** File the problem is in, if any. */
  readonly file?: string;
  /** Dotted path of the offending field, e.g. `noise.eta`. */
  readonly field?: string;
  constructor(message: string, opts: { file?: string; field?: string } = {}) {
    const where = [opts.file === undefined ? undefined : escapeControls(opts.file), opts.field ? fieldLabel(opts.field) : undefined].filter(Boolean).join(': ');
    super(where ? `${where}: ${message}` : message, EXIT.badInput);
    this.name = 'InputError';
    this.file = opts.file;
    this.field = opts.field;
  }
}

/**
 * The numerics went wrong (NaN, negative density, mass drift). Exit code 3. `reason` classifies it
 * as a solver's SolverFailure does (src/failure-report.ts puts it in report.json `failure`).
 */
export class NumericalFault extends FpsolveError {
  readonly reason?: SolverFailureReason;
  constructor(message: string, reason?: SolverFailureReason) {
    super(message, EXIT.numericalFault);
    this.name = 'NumericalFault';
    this.reason = reason;
  }
}

/**
 * Writing an output failed after the run had started (disk full, quota, I/O error, the
 * filesystem turned read-only). Exit code 74. A location that is unusable from the start is an
 * InputError, found before any work is done (src/io/out-path.ts).
 */
export class OutputError extends FpsolveError {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path}: cannot write: ${reason}`, EXIT.ioError);
    this.name = 'OutputError';
    this.path = path;
  }
}

/** errno codes that mean the storage, not the program, failed a write. */
const IO_FAILURES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EFBIG', 'ESTALE', 'ENXIO']);

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EROFS: 'read-only file system',
  EFBIG: 'file too large for the file system',
  ESTALE: 'stale network file handle',
  ENXIO: 'no such device',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a parent is not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'name too long',
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
};

/** A short human reason for a Node filesystem error, without Node's `CODE: …, syscall 'path'` decoration. */
export function errnoReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && REASONS[code] !== undefined) return `${REASONS[code]} (${code})`;
  const msg = (e as Error | undefined)?.message ?? String(e);
  return msg.split('\n')[0]!;
}

/** Whether `e` is an operating-system error of a write that the storage refused (see IO_FAILURES). */
export function isIoFailure(e: unknown): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && IO_FAILURES.has(code);
}

/**
 * The error to report for a failed output write to `path`: an FpsolveError passes through, any
 * operating-system error becomes an OutputError (exit 74) naming the path; a programming error is rethrown as is.
 */
export function asOutputError(e: unknown, path: string): unknown {
  if (e instanceof FpsolveError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return new OutputError(path, errnoReason(e));
  return e;
}
