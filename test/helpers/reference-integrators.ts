/**
 * Reference implementations for tests only: the plain synchronous float64 explicit Euler and
 * RKL2 that fpsolve shipped before the stencil integrators were written once against the Backend
 * (solvers/backend/integrators.ts). They are an independent code path (direct loops over
 * Float64Array, no Backend), so agreement to the last bit checks the Backend abstraction.
 */
import type { FvOperator } from '../../solvers/operator.js';
import { newStats, record, substeps, type IntegratorStats } from '../../solvers/integrators.js';
import { restoreSum, sum } from '../../solvers/vec.js';

/** The synchronous counterpart of AsyncIntegrator (same pause contract), for the references. */
export interface Integrator {
  readonly name: string;
  readonly stats: IntegratorStats;
  /** The linear solver's counters, for implicit integrators. */
  readonly solver?: { readonly name: string; iterations: number; solves: number };
  advance(rho: Float64Array, t0: number, t1: number, pause?: () => boolean): number;
  describe(): string;
}

/**
 * Explicit Euler with dt ≤ 1/max(−A_ii): the positivity limit (also within the stability limit
 * 2/λ_max by Gershgorin), so every step is a convex combination and ρ stays ≥ 0.
 */
export class ExplicitEuler implements Integrator {
  readonly name = 'explicit';
  readonly stats = newStats();
  readonly dt: number;
  readonly limit: number;
  private readonly op: FvOperator;
  private readonly k: Float64Array;
  constructor(op: FvOperator, dt?: number) {
    this.op = op;
    this.limit = op.explicitLimit();
    this.dt = dt ?? 0.9 * this.limit;
    this.k = new Float64Array(op.grid.size);
  }
  advance(rho: Float64Array, t0: number, t1: number, pause?: () => boolean): number {
    const m = substeps(t0, t1, this.dt);
    const dt = (t1 - t0) / m;
    const total = sum(rho);
    for (let s = 0; s < m; s++) {
      this.op.apply(rho, this.k);
      for (let i = 0; i < rho.length; i++) rho[i] += dt * this.k[i];
      record(this.stats, dt);
      if (s + 1 < m && pause?.()) {
        restoreSum(rho, total);
        return t0 + (s + 1) * dt;
      }
    }
    restoreSum(rho, total);
    return t1;
  }
  describe(): string {
    return `explicit Euler, dt ≤ ${this.dt.toPrecision(4)} (positivity limit ${this.limit.toPrecision(4)})`;
  }
}

/**
 * RKL2 super-time-stepping (Meyer, Balsara & Aslam 2014): s stages of stencil work give a stable
 * second-order step (s² + s − 2)/4 times the explicit limit, with no linear solves.
 */
export class Rkl2 implements Integrator {
  readonly name = 'rkl2';
  readonly stats = newStats();
  readonly dt: number;
  readonly stages: number;
  private readonly op: FvOperator;
  private readonly y0: Float64Array;
  private readonly y1: Float64Array;
  private readonly y2: Float64Array;
  private readonly l0: Float64Array;
  private readonly lj: Float64Array;
  private readonly limit: number;

  constructor(op: FvOperator, dt: number) {
    this.op = op;
    this.limit = op.explicitLimit();
    // smallest s with (s² + s − 2)/4 · limit ≥ dt, at least 2 stages
    let s = 2;
    while (((s * s + s - 2) / 4) * this.limit < dt) s++;
    this.stages = s;
    this.dt = dt;
    const n = op.grid.size;
    this.y0 = new Float64Array(n);
    this.y1 = new Float64Array(n);
    this.y2 = new Float64Array(n);
    this.l0 = new Float64Array(n);
    this.lj = new Float64Array(n);
  }

  private step(rho: Float64Array, dt: number): void {
    const s = this.stages;
    const n = rho.length;
    const b = (j: number): number => (j < 2 ? 1 / 3 : (j * j + j - 2) / (2 * j * (j + 1)));
    const w1 = 4 / (s * s + s - 2);
    const { y0, l0, lj } = this;
    let yPrev2 = this.y1; // Y_{j-2}
    let yPrev = this.y2; // Y_{j-1}
    y0.set(rho);
    this.op.apply(y0, l0);
    const mu1 = b(1) * w1;
    for (let i = 0; i < n; i++) yPrev[i] = y0[i] + mu1 * dt * l0[i];
    yPrev2.set(y0);
    for (let j = 2; j <= s; j++) {
      const bj = b(j);
      const bj1 = b(j - 1);
      const bj2 = b(j - 2);
      const mu = ((2 * j - 1) / j) * (bj / bj1);
      const nu = (-(j - 1) / j) * (bj / bj2);
      const muT = mu * w1;
      const gammaT = -(1 - bj1) * muT;
      this.op.apply(yPrev, lj);
      const out = yPrev2; // reuse Y_{j-2}'s storage for Y_j
      for (let i = 0; i < n; i++) {
        out[i] = mu * yPrev[i] + nu * yPrev2[i] + (1 - mu - nu) * y0[i] + muT * dt * lj[i] + gammaT * dt * l0[i];
      }
      yPrev2 = yPrev;
      yPrev = out;
    }
    rho.set(yPrev);
    record(this.stats, dt);
  }

  advance(rho: Float64Array, t0: number, t1: number, pause?: () => boolean): number {
    const m = substeps(t0, t1, this.dt);
    const dt = (t1 - t0) / m;
    const total = sum(rho);
    for (let k = 0; k < m; k++) {
      this.step(rho, dt);
      if (k + 1 < m && pause?.()) {
        restoreSum(rho, total);
        return t0 + (k + 1) * dt;
      }
    }
    restoreSum(rho, total);
    return t1;
  }

  describe(): string {
    return `RKL2, ${this.stages} stages, dt ≤ ${this.dt.toPrecision(4)} (${((this.stages * this.stages + this.stages - 2) / 4).toFixed(1)}× the explicit limit ${this.limit.toPrecision(4)})`;
  }
}

