/**
 * The one preconditioned conjugate-gradient iteration of fpsolve. Every CG solve runs this loop:
 * the implicit time steps (solvers/backend/pcg.ts: (I − θS) on a Backend's fields, async), the
 * spectral gap's singular solves (solvers/eigen/pcg.ts: −S deflated of √π, host arrays, sync with
 * checkpoints) and any later host-side SPD solve (hostPcg below: Dirichlet problems, tests).
 *
 * The loop is parametrized by what differs between them: the operator, the preconditioner (which
 * also applies any projection: on a singular system z = P M⁻¹ P r keeps the iterates on the
 * complement of the null space), the vector kernels and the stopping rule. Callers form the first
 * residual themselves (each has its own warm start and residual norm) and hand in r₀ and x₀.
 *
 * Sync and async in one body: the loop is a generator; an operation that returns a promise is
 * yielded and its value sent back by the async driver (pcgAsync), while host operations return
 * plain values and never suspend. CHECKPOINT is yielded every `checkpointEvery` iterations for
 * the count-based checkpoints of long solves (solvers/eigen/steps.ts); the async driver skips it.
 * The order of the operations is exactly that of the loops it replaced, so the time-stepping
 * runs are bit-for-bit unchanged.
 */
import { dot } from './vec.js';

export type Awaitable<T> = T | PromiseLike<T>;

/** The vector operations one PCG needs, on any vector type V (host arrays, backend fields). */
export interface PcgOps<V> {
  /** q ← A p. */
  apply(p: V, q: V): Awaitable<void>;
  /** q ← A p, returning ⟨p, q⟩ (one pass where the kernel allows); apply and dot when absent. */
  applyDot?(p: V, q: V): Awaitable<number>;
  /** z ← M⁻¹ r (including any projection onto the complement of A's null space). */
  precondition(r: V, z: V): Awaitable<void>;
  dot(a: V, b: V): Awaitable<number>;
  /** to ← from. */
  copy(from: V, to: V): Awaitable<void>;
  /** x ← x + αp, r ← r − αq; returns ‖r‖² (fused: one pass where the kernel allows). */
  update(alpha: number, p: V, q: V, x: V, r: V): Awaitable<number>;
  /** p ← z + βp. */
  direction(z: V, beta: number, p: V): Awaitable<void>;
}

export interface PcgVectors<V> {
  /** Iterate (in: x₀, out: the solution). */
  x: V;
  /** Residual b − A x (in: r₀). */
  r: V;
  z: V;
  p: V;
  q: V;
}

export interface PcgLoopOptions {
  /** Stop once ‖r‖ ≤ stop. */
  stop: number;
  maxIterations: number;
  /**
   * On ⟨p, Ap⟩ ≤ 0 (not SPD in floating point): 'stop' ends the loop there (the singular solves,
   * where the projected system has run out of directions); 'note' records it and iterates on
   * (the time steps: the failure is named only if the tolerance is then missed).
   */
  onBreakdown: 'stop' | 'note';
  /** Yield CHECKPOINT every so many iterations (0 or absent: never). */
  checkpointEvery?: number;
}

export interface PcgLoopResult {
  iterations: number;
  /** ‖r‖ of the last iterate (the recursive residual). */
  rnorm: number;
  /** ⟨p, Ap⟩ ≤ 0 was met at a finite value. */
  breakdown: boolean;
}

/** Yielded at count-based checkpoints. */
export const CHECKPOINT: unique symbol = Symbol('pcg checkpoint');
export type PcgYield = typeof CHECKPOINT | PromiseLike<unknown>;
export type PcgSteps<T> = Generator<PcgYield, T, unknown>;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** The PCG iteration from x₀ with residual r₀ (‖r₀‖ = rnorm0). */
export function* pcgLoop<V>(ops: PcgOps<V>, v: PcgVectors<V>, rnorm0: number, o: PcgLoopOptions): PcgSteps<PcgLoopResult> {
  const { x, r, z, p, q } = v;
  const every = o.checkpointEvery ?? 0;
  let rnorm = rnorm0;
  let it = 0;
  let breakdown = false;
  // Each operation: its value, or (when it returned a promise) the value the driver sends back.
  let t: unknown;
  if (rnorm > o.stop) {
    if (isThenable((t = ops.precondition(r, z)))) yield t;
    if (isThenable((t = ops.copy(z, p)))) yield t;
    t = ops.dot(r, z);
    let rz = (isThenable(t) ? yield t : t) as number;
    while (it < o.maxIterations) {
      if (ops.applyDot) t = ops.applyDot(p, q);
      else {
        if (isThenable((t = ops.apply(p, q)))) yield t;
        t = ops.dot(p, q);
      }
      const pq = (isThenable(t) ? yield t : t) as number;
      if (!(pq > 0)) {
        if (Number.isFinite(pq)) breakdown = true;
        if (o.onBreakdown === 'stop') break;
      }
      t = ops.update(rz / pq, p, q, x, r);
      rnorm = Math.sqrt((isThenable(t) ? yield t : t) as number);
      it++;
      if (every > 0 && it % every === 0) yield CHECKPOINT;
      if (rnorm <= o.stop || !Number.isFinite(rnorm)) break;
      if (isThenable((t = ops.precondition(r, z)))) yield t;
      t = ops.dot(r, z);
      const rzNew = (isThenable(t) ? yield t : t) as number;
      const beta = rzNew / rz;
      rz = rzNew;
      if (isThenable((t = ops.direction(z, beta, p)))) yield t;
    }
  }
  return { iterations: it, rnorm, breakdown };
}

/** Runs PCG steps whose operations may be async: awaits them, skips checkpoints. */
export async function pcgAsync<T>(steps: PcgSteps<T>): Promise<T> {
  let sent: unknown;
  for (;;) {
    const s = steps.next(sent);
    if (s.done) return s.value;
    sent = s.value === CHECKPOINT ? undefined : await s.value;
  }
}

/**
 * PCG steps with host (sync) operations as solvers/eigen/steps.ts Steps: a plain `yield` at each
 * checkpoint. An async operation here is a programming error.
 */
export function* pcgCheckpoints<T>(steps: PcgSteps<T>): Generator<void, T, void> {
  for (;;) {
    const s = steps.next();
    if (s.done) return s.value;
    if (s.value !== CHECKPOINT) throw new Error('pcgCheckpoints: an operation returned a promise in a host solve');
    yield;
  }
}

/** Runs PCG steps with host operations to the end. */
export function pcgSync<T>(steps: PcgSteps<T>): T {
  for (;;) {
    const s = steps.next();
    if (s.done) return s.value;
    if (s.value !== CHECKPOINT) throw new Error('pcgSync: an operation returned a promise in a host solve');
  }
}

/** Host-array kernels for PcgOps (x, r updated in one pass with ‖r‖²; p ← z + βp). */
export const HOST_KERNELS = {
  dot,
  copy(from: Float64Array, to: Float64Array): void {
    to.set(from);
  },
  update(alpha: number, p: Float64Array, q: Float64Array, x: Float64Array, r: Float64Array): number {
    let s = 0;
    for (let i = 0; i < x.length; i++) {
      x[i] += alpha * p[i];
      const ri = r[i] - alpha * q[i];
      r[i] = ri;
      s += ri * ri;
    }
    return s;
  },
  direction(z: Float64Array, beta: number, p: Float64Array): void {
    for (let i = 0; i < p.length; i++) p[i] = z[i] + beta * p[i];
  },
};

export interface HostPcgOptions {
  /** Stop when ‖r‖ ≤ max(relTol·‖r₀‖, absTol). */
  relTol: number;
  absTol?: number;
  maxIterations: number;
  /** Default 'stop'. */
  onBreakdown?: 'stop' | 'note';
}

export interface HostPcgResult extends PcgLoopResult {
  /** ‖r₀‖. */
  rnorm0: number;
}

/**
 * Solves A x = b on host arrays (x: initial guess in, solution out) with the one PCG loop.
 * `apply` and `precondition` define the system; A must be SPD (or SPD on the complement of its
 * null space, with `precondition` projecting onto it and b in the range).
 */
export function hostPcg(
  apply: (p: Float64Array, q: Float64Array) => void,
  precondition: (r: Float64Array, z: Float64Array) => void,
  b: Float64Array,
  x: Float64Array,
  o: HostPcgOptions,
): HostPcgResult {
  const n = b.length;
  const r = new Float64Array(n);
  const q = new Float64Array(n);
  apply(x, q);
  for (let i = 0; i < n; i++) r[i] = b[i] - q[i];
  const rnorm0 = Math.sqrt(HOST_KERNELS.dot(r, r));
  const ops: PcgOps<Float64Array> = { ...HOST_KERNELS, apply, precondition };
  const res = pcgSync(
    pcgLoop(ops, { x, r, z: new Float64Array(n), p: new Float64Array(n), q }, rnorm0, {
      stop: Math.max(o.relTol * rnorm0, o.absTol ?? 0),
      maxIterations: o.maxIterations,
      onBreakdown: o.onBreakdown ?? 'stop',
    }),
  );
  return { ...res, rnorm0 };
}
