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

// Test-only (FPSOLVE_TEST_FAULT=spurious-wake:<seed>): the wait below returns at once, without a new
// generation, in a seeded third of the calls, as a late notify makes it do on a loaded machine.
const spuriousSeed = testFault('spurious-wake');
let spuriousState = spuriousSeed === undefined ? 0 : ((Number(spuriousSeed) >>> 0) * 2246822519 + me) >>> 0 || 1;
function waitForGen(expected: number): void {
  if (spuriousSeed !== undefined) {
    let x = spuriousState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    spuriousState = x >>> 0;
    if (spuriousState % 3 === 0) return;
  }
  // Bounded waits: a thread blocked in an unbounded Atomics.wait cannot be terminated, and
  // would keep a finished process from exiting.
  Atomics.wait(control, SLOTS.GEN, expected, 100);
}

/**
 * Waits for the next generation, and returns once the counter has moved past the last one this
 * thread ran. An Atomics.wait that returns 'ok' is not proof of that: the caller adds to the
 * counter and then notifies, two steps; a thread that saw the new value without waiting, ran the
 * kernel and came back to wait could be woken by that same, late notify (the caller descheduled
 * between the two on a loaded machine). Seen on 2 busy cores: both threads woke with the counter
 * unchanged, ran the kernel they had just finished a second time (x += αp twice) and counted
 * themselves done twice, so the caller went on while a thread was still in its blocks: other
 * bits, once a CG that diverged.
 */
function nextGeneration(): void {
  for (;;) {
    const g = Atomics.load(control, SLOTS.GEN);
    if (g !== seen) {
      seen = g;
      return;
    }
    waitForGen(seen);
  }
}

// Test-only (FPSOLVE_TEST_FAULT=finish-twice): thread 1 reports every kernel done twice and
// thread 2 starts its blocks 1 ms late, so that a caller counting finishes would go on without
// thread 2's blocks; the caller waits for each thread's own generation stamp (team.ts DONE_AT).
const finishTwice = testFault('finish-twice') !== undefined;

/** Stamps this thread's slot with the generation it finished, then wakes the caller. */
function finish(): void {
  Atomics.store(control, SLOTS.DONE_AT + me, seen);
  Atomics.add(control, SLOTS.DONE, 1);
  Atomics.notify(control, SLOTS.DONE);
}

function loop(): void {
  for (;;) {
    nextGeneration();
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
    if (finishTwice && me === 2) Atomics.wait(sleeper, 0, 0, 1);
    try {
      for (let b = first; b < end; b++) partials[b] = kernel(a, is, p, control[SLOTS.EDGES + b], control[SLOTS.EDGES + b + 1]);
    } catch {
      // The caller reports it (a thread has no channel for the message while the caller waits).
      Atomics.store(control, SLOTS.FAILED, 1);
    }
    finish();
    if (finishTwice && me === 1) finish();
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
