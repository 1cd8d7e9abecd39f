/**
 * Typed failures of a solve (issue #21 item 5, docs/reliability.md "Exit codes"). A leaf: no
 * imports, so every solver, kernel thread and the CLI can throw or read these without an edge
 * back into src/.
 *
 * Two kinds, because they call for opposite responses:
 * - SolverFailure: the numerics went wrong (a step that cannot be made small enough, CG that does
 *   not converge, a value that is not finite). Running the same input again gives the same
 *   failure, bit for bit, so it is recorded and never retried (exit 3).
 * - InfrastructureFailure: the machine failed the solve (a kernel thread or a device lost, memory
 *   refused). Nothing about the input says it will happen again, so a sweep retries the point once,
 *   and `fpsolve run` exits 75 (EX_TEMPFAIL, "try again").
 */

export type SolverFailureReason = 'diverged' | 'breakdown' | 'iteration-limit' | 'step-underflow' | 'non-finite';
export type InfrastructureReason = 'thread-lost' | 'device-lost' | 'out-of-memory';

/** Where a solver failure happened, as far as the thrower knows it. */
export interface SolverFailureContext {
  /** The solver that failed, e.g. 'PCG (multigrid V(1,1))' or 'TR-BDF2'. */
  solver?: string;
  /** Accepted time steps before the failure. */
  step?: number;
  /** Model time reached. */
  time?: number;
  /** Iterations of the failing iterative solve. */
  iterations?: number;
  /** Flat index of the cell where the failure shows first or most. */
  cell?: number;
  /** Relative residual (iterative solves) or error ratio (adaptive steps) at the failure. */
  residual?: number;
  /** The last step size tried. */
  dt?: number;
}

export class SolverFailure extends Error {
  readonly kind = 'solver' as const;
  readonly reason: SolverFailureReason;
  readonly context: SolverFailureContext;
  constructor(reason: SolverFailureReason, message: string, context: SolverFailureContext = {}) {
    super(message);
    this.name = 'SolverFailure';
    this.reason = reason;
    this.context = context;
  }
}

export class InfrastructureFailure extends Error {
  readonly kind = 'infrastructure' as const;
  readonly reason: InfrastructureReason;
  /** What failed, for the one-line message and the report (the thrower's words, or the platform's). */
  readonly detail: string;
  constructor(reason: InfrastructureReason, detail: string) {
    super(detail);
    this.name = 'InfrastructureFailure';
    this.reason = reason;
    this.detail = detail;
  }
}

// V8's words when an ArrayBuffer/typed array (incl. SharedArrayBuffer) cannot be allocated, and
// WebAssembly.Memory's when it cannot grow or be created. A RangeError for an impossible length
// ("Invalid typed array length") is a bug or an input, not the machine, so it is not matched.
const OUT_OF_MEMORY = /Array buffer allocation failed|WebAssembly\.Memory[^:]*: (could not allocate memory|Unable to grow|Maximum memory size exceeded)|\bOut of memory\b/i;

/**
 * The InfrastructureFailure an error amounts to: itself, or an allocation RangeError from the
 * platform as 'out-of-memory'; undefined for any other error (a solver failure or a bug).
 */
export function asInfrastructureFailure(e: unknown): InfrastructureFailure | undefined {
  if (e instanceof InfrastructureFailure) return e;
  if (e instanceof RangeError && OUT_OF_MEMORY.test(e.message)) return new InfrastructureFailure('out-of-memory', `memory could not be allocated (${e.message})`);
  return undefined;
}
