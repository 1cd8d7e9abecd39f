/**
 * Test-only fault injection (docs/reliability.md "Testing faults"). FPSOLVE_TEST_FAULT names one
 * fault; nothing outside the tests sets it, and without it every function here is a no-op. The
 * faults are real where they can be (a kernel thread really ends, a worker process really exits);
 * only 'infrastructure-once' is a thrown stand-in, for a device loss no test machine can cause.
 * - `thread-exit`: kernel thread 1 ends itself (process.exit in the thread) at its first kernel;
 * - `block-order:<seed>`: kernel teams run blocks in seeded random orders and mixes of threads
 *   (solvers/exec/team.ts), to show results do not depend on scheduling;
 * - `spurious-wake:<seed>`: a kernel thread's wait for the next kernel returns at once, without a
 *   new generation, in a seeded third of the calls (solvers/exec/team-worker.ts), as a late notify does under load;
 * - `finish-twice`: kernel thread 1 reports every kernel done twice while thread 2 starts its blocks
 *   1 ms late, so a caller that counted finishes would go on without thread 2's blocks;
 * - `infrastructure-once:<file>`: the first advance of a run throws InfrastructureFailure
 *   ('device-lost') unless <file> exists, and creates it, so a retry succeeds;
 * - `worker-exit-once:<file>`: a sweep worker process exits at its first run request unless <file>
 *   exists, and creates it.
 */
import { openSync, closeSync } from 'node:fs';
import { InfrastructureFailure } from './failures.js';

export type TestFaultName = 'thread-exit' | 'block-order' | 'spurious-wake' | 'finish-twice' | 'infrastructure-once' | 'worker-exit-once';

/** The fault asked for, if it is `name`: its argument ('' when none). */
export function testFault(name: TestFaultName): string | undefined {
  const v = process.env.FPSOLVE_TEST_FAULT;
  if (!v) return undefined;
  const i = v.indexOf(':');
  const [n, arg] = i < 0 ? [v, ''] : [v.slice(0, i), v.slice(i + 1)];
  return n === name ? arg : undefined;
}

/**
 * True the first time any process calls it for `file` (which it creates, exclusively, so two
 * processes racing for it cannot both win); false once the file exists.
 */
export function firstTime(file: string): boolean {
  try {
    closeSync(openSync(file, 'wx'));
    return true;
  } catch {
    return false;
  }
}

/** `infrastructure-once`: throws the injected failure the first time, across processes. */
export function injectInfrastructureFault(): void {
  const file = testFault('infrastructure-once');
  if (file && firstTime(file)) throw new InfrastructureFailure('device-lost', 'the device was lost (injected by FPSOLVE_TEST_FAULT, tests only)');
}
