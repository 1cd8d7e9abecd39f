import { loadBundled } from './helpers/run-inline.js';
import { runScenario, setUp, type RunResult, type Setup } from '../src/run/run.js';
import type { BackendChoice } from '../solvers/backend/select.js';
import { initialDensity } from '../src/run/initial.js';
import type { Backend } from '../solvers/backend/types.js';
import type { FvOperator } from '../solvers/operator.js';
import { DeviceExplicitEuler } from '../solvers/backend/integrators.js';
import { Pcg } from '../solvers/backend/pcg.js';


/** A bundled scenario run in-process on one backend, without the gap estimate (not under test here). */
export async function runOn(name: string, overrides: string[], backend: BackendChoice): Promise<RunResult> {
  return runScenario(loadBundled(name, overrides), { backend, gap: false });
}

/** Setup and initial density of a bundled scenario (for driving integrators directly). */
export function setupOf(name: string, overrides: string[]): { setup: Setup; rho: Float64Array } {
  const loaded = loadBundled(name, overrides);
  const setup = setUp(loaded);
  return { setup, rho: initialDensity(setup.grid, setup.scenario.initial, loaded) };
}

export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
}

/**
 * The leak measurement of issue 4 §3: RSS growth over 1000 explicit steps on a backend, after a
 * 10-step warm-up (kernel compilation and first allocations). Disposes the backend.
 */
export async function leakRun(backend: Backend, op: FvOperator, rho: Float64Array): Promise<{ steps: number; grownBytes: number; x: Float64Array }> {
  const e = new DeviceExplicitEuler(backend, op);
  const x = rho.slice();
  await e.advance(x, 0, 10 * e.dt);
  const before = process.memoryUsage().rss;
  await e.advance(x, 10 * e.dt, 1010 * e.dt);
  const grownBytes = process.memoryUsage().rss - before;
  backend.dispose();
  return { steps: e.stats.steps, grownBytes, x };
}

/** Seeded numbers in [−1, 1) for the device multigrid tests (test/gpu-multigrid*.test.ts). */
export function pseudoRandom(n: number, seed: number): Float64Array {
  const v = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2 ** 31 - 1;
  }
  return v;
}

export const dotOf = (a: Float64Array, b: Float64Array): number => a.reduce((acc, x, i) => acc + x * b[i], 0);

/** CG iterations of one solve of (I − θA) x = ρ0 from x = ρ0 (how an implicit step starts). */
export async function cgIterations(backend: Backend, op: FvOperator, rho: Float64Array, theta: number): Promise<number> {
  const pcg = new Pcg(backend, op, { tol: 1e-5, maxIterations: 2000 });
  const b = backend.field();
  const x = backend.field();
  await backend.upload(b, rho);
  await backend.upload(x, rho);
  await pcg.solve(theta, b, x);
  return pcg.iterations;
}

/** The backend's preconditioner applied once to the host vector v (upload, precondition at θ, download). */
export async function preconditionOnce(backend: Backend, theta: number, v: Float64Array): Promise<Float64Array> {
  const r = backend.field();
  const out = backend.field();
  await backend.upload(r, v);
  await backend.precondition(theta, r, out);
  const z = new Float64Array(v.length);
  await backend.download(out, z);
  return z;
}

/**
 * The symmetry of a preconditioner's apply on two seeded vectors u, w (oracles.md §17): the
 * asymmetry |⟨Mu, w⟩ − ⟨u, Mw⟩|, its scale √(⟨Mu, Mu⟩⟨w, w⟩), and ⟨Mu, u⟩.
 */
export function symmetryOf(apply: (x: Float64Array, out: Float64Array) => void, n: number): { asymmetry: number; scale: number; energy: number } {
  const u = pseudoRandom(n, 11);
  const w = pseudoRandom(n, 13);
  const mu = new Float64Array(n);
  const mw = new Float64Array(n);
  apply(u, mu);
  apply(w, mw);
  return { asymmetry: Math.abs(dotOf(mu, w) - dotOf(u, mw)), scale: Math.sqrt(dotOf(mu, mu) * dotOf(w, w)), energy: dotOf(mu, u) };
}
