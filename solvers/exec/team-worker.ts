/**
 * A kernel thread of solvers/exec/team.ts: waits for a generation, runs its blocks of the named
 * kernel on shared arrays, posts their partial results. New arrays arrive by message, which is read
 * only when the team asks the thread to leave its wait loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { attachThreadArena, threadArenaView } from './arena.js';
import { LEAVE_LOOP, SLOTS, STOP, type RangeKernel, type RegisterMessage, type TeamShared } from './team.js';
import { testFault } from '../base/fault-injection.js';

const shared = workerData as TeamShared;
// The kernel table (and, through it, the WebAssembly module the arena instantiates) comes from
// the module the team names, so that this execution layer imports no numerics.
const { RANGE_KERNELS } = (await import(pathToFileURL(shared.table).href)) as { RANGE_KERNELS: Record<string, RangeKernel> };
const KERNEL_NAMES = Object.keys(RANGE_KERNELS);
if (shared.memory) attachThreadArena(shared.memory);
const control = new Int32Array(shared.control);
const params = new Float64Array(shared.params);
const partials = new Float64Array(shared.partials);
const me = shared.index;
const floats: Float64Array[] = [];
const ints: Int32Array[] = [];
// A thread that ends while the team still runs (an uncaught error, process.exit) says so on its way
// out, so the caller throws 'thread-lost' at once instead of waiting for it (team.ts LOST).
process.on('exit', () => {
  if (Atomics.load(control, SLOTS.KERNEL) === STOP) return;
  Atomics.store(control, SLOTS.FAILED, SLOTS.LOST);
  finish();
});
const exitAtFirstKernel = me === 1 && testFault('thread-exit') !== undefined;
// Test-only (FPSOLVE_TEST_FAULT=block-order:<seed>, team.ts): this thread sometimes starts its
// blocks late, by a seeded 0–2 ms, so the caller's blocks run before, beside or after them.
const delaySeed = testFault('block-order');
let delayState = delaySeed === undefined ? 0 : ((Number(delaySeed) >>> 0) * 2654435761 + me) >>> 0 || 1;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
function testDelay(): void {
  let x = delayState;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  delayState = x >>> 0;
  if (delayState % 4 === 0) Atomics.wait(sleeper, 0, 0, (delayState >>> 8) % 3);
}
// From 0, not the current generation: a kernel signalled before this thread started must still run.
let seen = 0;

function finish(): void {
  Atomics.add(control, SLOTS.DONE, 1);
  Atomics.notify(control, SLOTS.DONE);
}

function loop(): void {
  for (;;) {
    // Bounded waits: a thread blocked in an unbounded Atomics.wait cannot be terminated, and
    // would keep a finished process from exiting.
    while (Atomics.wait(control, SLOTS.GEN, seen, 100) === 'timed-out');
    seen = Atomics.load(control, SLOTS.GEN);
    const k = Atomics.load(control, SLOTS.KERNEL);
    if (k === STOP) return;
    if (k === LEAVE_LOOP) {
      finish();
      return;
    }
    const a: Float64Array[] = [];
    for (let j = 0; j < control[SLOTS.N_ARRAYS]; j++) a.push(floats[control[SLOTS.ARRAY_IDS + j]]);
    const is: Int32Array[] = [];
    for (let j = 0; j < control[SLOTS.N_INTS]; j++) is.push(ints[control[SLOTS.INT_IDS + j]]);
    const p: number[] = [];
    for (let j = 0; j < control[SLOTS.N_PARAMS]; j++) p.push(params[j]);
    // This thread's group of whole blocks, one kernel call and one partial result per block.
    const first = control[SLOTS.RANGES + 2 * me];
    const end = control[SLOTS.RANGES + 2 * me + 1];
    const kernel = RANGE_KERNELS[KERNEL_NAMES[k]];
    if (exitAtFirstKernel) process.exit(1);
    if (delaySeed !== undefined) testDelay();
    try {
      for (let b = first; b < end; b++) partials[b] = kernel(a, is, p, control[SLOTS.EDGES + b], control[SLOTS.EDGES + b + 1]);
    } catch {
      // The caller reports it (a thread has no channel for the message while the caller waits).
      Atomics.store(control, SLOTS.FAILED, 1);
    }
    finish();
  }
}

parentPort?.on('message', (msg: RegisterMessage) => {
  for (const r of msg.register) {
    if ('at' in r) {
      if (r.int) ints[r.id] = threadArenaView('i32', r.at, r.length) as Int32Array;
      else floats[r.id] = threadArenaView('f64', r.at, r.length) as Float64Array;
    } else if (r.int) ints[r.id] = new Int32Array(r.buffer);
    else floats[r.id] = new Float64Array(r.buffer);
  }
  loop();
  if (Atomics.load(control, SLOTS.KERNEL) === STOP) parentPort?.close();
});

Atomics.store(control, SLOTS.READY + me, 1);
loop();
