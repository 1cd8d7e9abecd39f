/**
 * Monte-Carlo first passage (issue #17 items 2 and 3): particles of the scenario's SDE, stepped
 * by the Euler–Maruyama of em.ts, run until they enter set A or set B or reach a time limit.
 * Gives the fraction that hits B first with its Wilson interval, the mean hitting time with its
 * standard error, and the count still running. It is the independent check of the committor, the
 * mean first-passage time and the exit rate, so it shares nothing with the PDE but the landscape.
 *
 * Sets are masks over the grid's cells (1 = in the set: a particle is in it when the cell that
 * contains it is) or predicates on a point. Membership is tested at the end of every step only,
 * so a path that enters and leaves a set within one step is missed: the bias is O(√dt) at a
 * boundary crossed by noise, O(dt) where the drift carries paths across. Halving dt measures it.
 */
import type { Grid } from '../../solvers/grid.js';
import { Xoshiro128 } from '../data/rng.js';
import { advanceSde, type SdeSystem } from './em.js';
import { sampleFromCells } from './initial.js';

/** A target set: a mask over the grid's cells (nonzero = in the set), or a predicate on a point (θ_0, …, θ_{d−1}). */
export type TargetSet = Uint8Array | ((x: readonly number[]) => boolean);

export interface FirstPassageOptions {
  /** The grid the masks live on (needed when a set is a mask). */
  grid?: Grid;
  a: TargetSet;
  /** Without B every finished particle has hit A (a mean first-passage time to A). */
  b?: TargetSet | null;
  /** Euler–Maruyama step. */
  dt: number;
  /** Particles still outside A ∪ B at this time stop there and count as unfinished. */
  maxTime: number;
  seed: number;
  /** Two-sided confidence of the Wilson interval (default 0.95). */
  confidence?: number;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
  confidence: number;
}

export interface FirstPassageResult {
  particles: number;
  dt: number;
  maxTime: number;
  /** Steps taken (until the last particle finished or maxTime). */
  steps: number;
  hitA: number;
  hitB: number;
  unfinished: number;
  /** P(hit B before A) among the finished particles, with its Wilson score interval (null without B or with none finished). */
  probabilityB: Interval | null;
  /** Mean hitting time of A ∪ B over the finished particles and its standard error s/√n (null when none finished). */
  meanTime: { estimate: number; stdErr: number; count: number } | null;
  /** Per particle: hitting time (NaN if unfinished) and outcome (0 unfinished, 1 A, 2 B). */
  times: Float64Array;
  outcome: Uint8Array;
  description: string;
}

/** Standard normal quantile of (1 + confidence)/2 (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile needs 0 < p < 1 (got ${p})`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lowTail = 0.02425;
  if (p < lowTail || p > 1 - lowTail) {
    const q = Math.sqrt(-2 * Math.log(p < lowTail ? p : 1 - p));
    const x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < lowTail ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Wilson score interval for k successes in n trials (Wilson 1927): unlike p̂ ± z·sqrt(p̂(1−p̂)/n)
 * it stays inside [0, 1] and keeps its coverage when p̂ is 0, 1 or near them.
 */
export function wilsonInterval(k: number, n: number, confidence = 0.95): Interval {
  if (!(n > 0) || !(k >= 0 && k <= n)) throw new RangeError(`Wilson interval needs 0 ≤ k ≤ n, n > 0 (got k = ${k}, n = ${n})`);
  const z = normalQuantile(0.5 + confidence / 2);
  const p = k / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half), confidence };
}

/** Start points drawn from a density on the grid's cells (values per unit volume, as ρ₀ and the QSD are stored), uniform within each cell. */
export function startsFromDensity(grid: Grid, density: Float64Array, particles: number, seed: number): Float64Array[] {
  return sampleFromCells(
    grid,
    density.map((v) => v * grid.cellVolume),
    particles,
    new Xoshiro128(seed),
  );
}

/** Membership test of a set at particle p of the structure-of-arrays x. */
function membership(set: TargetSet, grid: Grid | undefined, name: string): (x: Float64Array[], p: number) => boolean {
  if (typeof set === 'function') {
    return (x, p) => set(x.map((xk) => xk[p]));
  }
  if (!grid) throw new RangeError(`set ${name} is a mask over cells, which needs the grid`);
  if (set.length !== grid.size) throw new RangeError(`set ${name}: the mask has ${set.length} entries, the grid ${grid.size} cells`);
  const d = grid.dim;
  return (x, p) => {
    let flat = 0;
    for (let k = 0; k < d; k++) {
      const i = Math.min(grid.n[k] - 1, Math.max(0, Math.floor((x[k][p] - grid.lo[k]) / grid.h[k])));
      flat += i * grid.strides[k];
    }
    return set[flat] !== 0;
  };
}

/**
 * Runs the particles `start` (one Float64Array per axis; not modified) until each enters A or B
 * or maxTime passes. A is tested before B, so a point in both counts for A. Deterministic: the
 * same seed, start and step give the same result.
 */
export function firstPassage(sys: SdeSystem, start: readonly Float64Array[], opts: FirstPassageOptions): FirstPassageResult {
  const d = start.length;
  const N = d > 0 ? start[0].length : 0;
  if (d !== sys.lo.length) throw new RangeError(`start points have ${d} coordinates, the system ${sys.lo.length}`);
  if (!(N > 0)) throw new RangeError('first passage needs at least one particle');
  if (!(opts.dt > 0) || !Number.isFinite(opts.dt)) throw new RangeError(`dt must be a positive finite number (got ${opts.dt})`);
  if (!(opts.maxTime > 0) || !Number.isFinite(opts.maxTime)) throw new RangeError(`maxTime must be a positive finite number (got ${opts.maxTime})`);
  const confidence = opts.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must lie in (0, 1) (got ${confidence})`);
  const inA = membership(opts.a, opts.grid, 'A');
  const inB = opts.b ? membership(opts.b, opts.grid, 'B') : null;
  const rng = new Xoshiro128(opts.seed);
  const x = start.map((xk) => Float64Array.from(xk));
  const ids = Int32Array.from({ length: N }, (_, i) => i);
  const times = new Float64Array(N).fill(NaN);
  const outcome = new Uint8Array(N);
  let active = N;
  const settle = (t: number): void => {
    let keep = 0;
    for (let p = 0; p < active; p++) {
      const hit = inA(x, p) ? 1 : inB && inB(x, p) ? 2 : 0;
      if (hit) {
        times[ids[p]] = t;
        outcome[ids[p]] = hit;
        continue;
      }
      if (keep !== p) {
        ids[keep] = ids[p];
        for (let k = 0; k < d; k++) x[k][keep] = x[k][p];
      }
      keep++;
    }
    active = keep;
  };
  settle(0);
  const steps = Math.ceil(opts.maxTime / opts.dt - 1e-9);
  let taken = 0;
  for (let s = 1; s <= steps && active > 0; s++) {
    const t0 = (s - 1) * opts.dt;
    const t1 = s * opts.dt;
    advanceSde(
      sys,
      x.map((xk) => xk.subarray(0, active)),
      rng,
      t0,
      t1,
      opts.dt,
    );
    taken = s;
    settle(t1);
  }
  let hitA = 0;
  let hitB = 0;
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < N; i++) {
    if (outcome[i] === 1) hitA++;
    else if (outcome[i] === 2) hitB++;
    else continue;
    sum += times[i];
  }
  const finished = hitA + hitB;
  const mean = finished > 0 ? sum / finished : NaN;
  for (let i = 0; i < N; i++) if (outcome[i]) sum2 += (times[i] - mean) ** 2;
  const noise = sys.noise;
  const sde = noise.kind === 'multiplicative' ? `dθ = −∇f dt + sqrt(ησ (f + ε)) dW (ησ = ${noise.etaSigma}, ε = ${noise.eps})` : `dθ = −∇f dt + sqrt(2D) dW (D = ${noise.D})`;
  return {
    particles: N,
    dt: opts.dt,
    maxTime: opts.maxTime,
    steps: taken,
    hitA,
    hitB,
    unfinished: N - finished,
    probabilityB: inB && finished > 0 ? wilsonInterval(hitB, finished, confidence) : null,
    meanTime: finished > 0 ? { estimate: mean, stdErr: finished > 1 ? Math.sqrt(sum2 / (finished - 1) / finished) : Infinity, count: finished } : null,
    times,
    outcome,
    description:
      `Euler–Maruyama for ${sde}, step ${opts.dt}, reflecting walls; sets tested at the end of each step ` +
      `(a crossing within a step is missed: bias O(√dt)); ${N} particles, seed ${opts.seed}, up to t = ${opts.maxTime}`,
  };
}
