/**
 * Long eigen-solves are written as generators that `yield` at count-based checkpoints (every so
 * many CG iterations or Sturm counts, never by elapsed time, so the numbers cannot depend on
 * load). The sync driver ignores the checkpoints; the async one returns to the event loop at each
 * and stops when the signal is aborted, which is what lets SIGINT/SIGTERM end a gap computation.
 */
export type Steps<T> = Generator<void, T, void>;

/** Thrown by runAsync when its signal was aborted at a checkpoint. */
export class EigenInterrupted extends Error {
  constructor() {
    super('interrupted by a signal during the eigen-solve');
    this.name = 'EigenInterrupted';
  }
}

export function runSync<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** `onCheckpoint(n)`: after the n-th checkpoint (progress output; it cannot change the result). */
export async function runAsync<T>(steps: Steps<T>, signal?: AbortSignal, onCheckpoint?: (n: number) => void): Promise<T> {
  for (let n = 1; ; n++) {
    if (signal?.aborted) {
      steps.return(undefined as never);
      throw new EigenInterrupted();
    }
    const r = steps.next();
    if (r.done) return r.value;
    onCheckpoint?.(n);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
