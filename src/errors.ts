/**
 * Errors that reach the user. Every failure the CLI reports goes through one of these so that
 * the exit code says what kind of failure it was (see README "Exit codes").
 */
export const EXIT = {
  ok: 0,
  regression: 1,
  badInput: 2,
  numericalFault: 3,
  interrupted: 130,
  terminated: 143,
} as const;

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
    const where = [opts.file, opts.field ? `field '${opts.field}'` : undefined].filter(Boolean).join(': ');
    super(where ? `${where}: ${message}` : message, EXIT.badInput);
    this.name = 'InputError';
    this.file = opts.file;
    this.field = opts.field;
  }
}

/** The numerics went wrong (NaN, negative density, mass drift). Exit code 3. */
export class NumericalFault extends FpsolveError {
  constructor(message: string) {
    super(message, EXIT.numericalFault);
    this.name = 'NumericalFault';
  }
}
