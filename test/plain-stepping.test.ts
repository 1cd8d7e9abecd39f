/**
 * The savings in a plain 2-D/3-D run's stepping (issue #19 items 1 and 6, docs/performance.md
 * "Stepping, session 7"), each held by a count or a poisoned entry that fails if it is lost, and
 * each result compared with a solve written here:
 * - the multigrid's coarsest solve runs on the band of its Cholesky factor (levelBandwidth): the
 *   same x as Gaussian elimination of I − θS assembled here from the level's stencil, and entries
 *   outside the band are never read (NaN there changes nothing);
 * - PCG forms q = (I − θS)p and ⟨p, q⟩ in one pass (shiftedDot): one stencil pass per iteration,
 *   the shifted stencil itself only for the first and the true residual of each solve, with the
 *   solution of the band-LU solve of the generator written in the test (test/helpers/generator.ts)
 *   and the iteration count of the unfused loop, and the same bits with 1 and 2 kernel threads;
 *   the residuals around the loop (deviation, r₀, mass correction) each with its dot (lincombDot);
 * - the exponential integrator's Gram–Schmidt forms each projection's dot product in the pass of
 *   the subtraction before it (lincombDot): the same bits as the two passes apart, whose states
 *   test/exponential*.test.ts check against exact solutions, with a dot and a lincomb pass fewer
 *   per projection, counted; each report time's combination Σ c_j q_j takes three terms per pass
 *   (lincomb4), the bits of the lincomb chain;
 * - the run's health check at each report time reads ρ once (max, min, mass in one pass) and still
 *   names the first offending cell in index order and the mass drift, against a scan written here.
 * Counts only: no timing assertions.
 */
import { describe, expect, it } from 'vitest';
import { buildOperator } from './helpers/problems.js';
import { Generator, maxAbs, maxAbsDiff } from './helpers/generator.js';
import { MultigridPreconditioner, choleskyOf, choleskySolve, levelBandwidth, type MultigridLevel } from '../solvers/multigrid.js';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { Pcg } from '../solvers/backend/pcg.js';
import type { Backend, Field } from '../solvers/backend/types.js';
import type { FvOperator } from '../solvers/operator.js';
import { Grid } from '../solvers/grid.js';
import { DeviceExponential, exponentialCgSettings } from '../solvers/backend/exponential.js';
import { parseScenarioText } from '../src/scenario/load.js';
import { setUp } from '../src/run/run.js';
import { initialDensity } from '../src/run/initial.js';
import { checkHealth } from '../src/run/trackers.js';

// docs/peers.md "The reference problems", 2-D: f = 0.05 + (x² − 1)² + y² on [−2, 2]², ησ = 0.5.
const doubleWell = (n: number): FvOperator =>
  buildOperator([[-2, 2], [-2, 2]], [n, n], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
const quad3d = (): FvOperator =>
  buildOperator([[-2, 2], [-2, 2], [-2, 2]], [20, 18, 17], (x, y, z) => 0.2 + 0.5 * (x * x + 2 * y * y + 3 * z * z), { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });

/** Dense I − θS of a level, assembled from its face weights by multi-index (not by the stencil kernels). */
function denseShifted(lv: MultigridLevel, theta: number): number[][] {
  const m = lv.size;
  const a = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  const [n0, n1, n2] = lv.n;
  for (let i0 = 0; i0 < n0; i0++)
    for (let i1 = 0; i1 < n1; i1++)
      for (let i2 = 0; i2 < n2; i2++) {
        const i = (i0 * n1 + i1) * n2 + i2;
        a[i][i] += 1 + theta * lv.d[i];
        const up: [boolean, number][] = [
          [i0 + 1 < n0, (i0 + 1) * n1 * n2 + i1 * n2 + i2],
          [i1 + 1 < n1, i0 * n1 * n2 + (i1 + 1) * n2 + i2],
          [i2 + 1 < n2, i0 * n1 * n2 + i1 * n2 + i2 + 1],
        ];
        up.forEach(([inside, j], k) => {
          if (!inside) return;
          const w = lv.w[k][i];
          a[i][j] -= theta * w;
          a[j][i] -= theta * w;
        });
      }
  return a;
}

/** Gaussian elimination with partial pivoting. */
function gauss(a0: number[][], b0: Float64Array): Float64Array {
  const m = b0.length;
  const a = a0.map((r) => r.slice());
  const b = Array.from(b0);
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    [b[c], b[p]] = [b[p], b[c]];
    for (let r = c + 1; r < m; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k < m; k++) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  const x = new Float64Array(m);
  for (let r = m - 1; r >= 0; r--) {
    let t = b[r];
    for (let k = r + 1; k < m; k++) t -= a[r][k] * x[k];
    x[r] = t / a[r][r];
  }
  return x;
}

/** L with NaN in every entry of its lower triangle outside the band. */
function poisonOutsideBand(l: Float64Array, m: number, bw: number): number {
  let poisoned = 0;
  for (let i = 0; i < m; i++)
    for (let k = 0; k < i - bw; k++) {
      l[i * m + k] = NaN;
      poisoned++;
    }
  return poisoned;
}

describe.each([
  { name: '2-D double well 64² (coarsest 8×8)', op: () => doubleWell(64), bw: 8 },
  { name: '3-D quadratic 20×18×17 (odd sizes)', op: quad3d, bw: undefined },
])('the coarsest multigrid solve on its band: $name', ({ op: make, bw: wantBw }) => {
  const op = make();
  const theta = 0.05;
  const mg = new MultigridPreconditioner(op);
  mg.setup(theta);
  const lv = mg.levels[mg.levels.length - 1];
  const m = lv.size;
  const bw = levelBandwidth(lv);
  const b = Float64Array.from({ length: m }, (_, i) => Math.sin(0.9 * i) + 0.5);

  it('is narrower than the level and gives Gaussian elimination\'s solution', () => {
    if (wantBw !== undefined) expect(bw).toBe(wantBw);
    expect(bw).toBeLessThan(m / 2);
    const x = new Float64Array(m);
    choleskySolve(choleskyOf(lv, theta), m, b, x, bw);
    const exact = gauss(denseShifted(lv, theta), b);
    expect(maxAbsDiff(x, exact)).toBeLessThan(1e-12 * maxAbs(exact));
  });

  it('never reads the factor outside the band (NaN there: the same x; the dense solve would take it in)', () => {
    const l = choleskyOf(lv, theta);
    const clean = new Float64Array(m);
    choleskySolve(l, m, b, clean, bw);
    expect(poisonOutsideBand(l, m, bw)).toBeGreaterThan(0);
    const x = new Float64Array(m);
    choleskySolve(l, m, b, x, bw);
    expect(Array.from(x)).toEqual(Array.from(clean));
    const dense = new Float64Array(m);
    choleskySolve(l, m, b, dense);
    expect(dense.some((v) => Number.isNaN(v))).toBe(true);
  });

  it('is what the preconditioner\'s cycle runs (its factor poisoned outside the band: the same M⁻¹r)', () => {
    const n = op.grid.size;
    const r = Float64Array.from({ length: n }, (_, i) => Math.cos(0.37 * i) + 0.1);
    const before = new Float64Array(n);
    mg.apply(r, before);
    poisonOutsideBand((mg as unknown as { chol: Float64Array }).chol, m, bw);
    const after = new Float64Array(n);
    mg.apply(r, after);
    expect(after.every(Number.isFinite)).toBe(true);
    expect(Array.from(after)).toEqual(Array.from(before));
  });
});

/** Counts the backend's grid passes by primitive. */
function counted(backend: Backend): Record<string, number> {
  const calls: Record<string, number> = {};
  const rec = backend as unknown as Record<string, unknown>;
  for (const name of ['shifted', 'shiftedDot', 'dot', 'cgUpdate', 'precondition', 'lincomb', 'lincombDot', 'lincomb4', 'copy', 'dots', 'subtractCombination']) {
    const f = rec[name];
    if (typeof f !== 'function') continue;
    calls[name] = 0;
    rec[name] = (...args: unknown[]) => {
      calls[name]++;
      return (f as (...a: unknown[]) => unknown).apply(backend, args);
    };
  }
  return calls;
}

async function solveOnce(op: FvOperator, backend: Backend, theta: number, rho: Float64Array): Promise<{ x: Float64Array; iterations: number }> {
  const pcg = new Pcg(backend, op, { tol: 1e-11, maxIterations: 2000 });
  const bf = backend.field();
  const xf = backend.field();
  await backend.upload(bf, rho);
  await backend.upload(xf, rho);
  await pcg.solve(theta, bf, xf);
  const x = new Float64Array(op.grid.size);
  await backend.download(xf, x);
  return { x, iterations: pcg.iterations };
}

describe('PCG with q = (I − θS)p and ⟨p, q⟩ in one pass', () => {
  const op = doubleWell(64);
  const n = op.grid.size;
  const theta = 0.02;
  const rho = Float64Array.from({ length: n }, (_, i) => 1 + Math.sin(0.05 * i) ** 2);

  it('takes one stencil pass per iteration and solves (I − θA)x = b to the band-LU solution written in the test', async () => {
    const backend = new CpuBackend(op);
    const calls = counted(backend);
    const { x, iterations } = await solveOnce(op, backend, theta, rho);
    const exact = new Generator(op.problem).shiftedLu(theta).solve(rho);
    expect(maxAbsDiff(exact, rho)).toBeGreaterThan(1e-3 * maxAbs(exact));
    expect(maxAbsDiff(x, exact)).toBeLessThan(1e-7 * maxAbs(exact));
    expect(iterations).toBeGreaterThan(3);
    // The fused pass once per iteration; the plain stencil only for r₀ and the true residual.
    expect(calls.shiftedDot).toBe(iterations);
    expect(calls.shifted).toBe(2);
    // Around the loop: the deviation, r₀ and the mass correction each with their dot in the same pass.
    expect(calls.lincombDot).toBe(3);
    backend.dispose();
  });

  it('takes the unfused loop\'s iterations, to its solution within round-off', async () => {
    const fused = new CpuBackend(op);
    const plain = new CpuBackend(op);
    (plain as unknown as { shiftedDot?: unknown }).shiftedDot = undefined;
    (plain as unknown as { lincombDot?: unknown }).lincombDot = undefined;
    const calls = counted(plain);
    const a = await solveOnce(op, fused, theta, rho);
    const b = await solveOnce(op, plain, theta, rho);
    expect(calls.shifted).toBe(b.iterations + 2);
    expect(a.iterations).toBe(b.iterations);
    expect(maxAbsDiff(a.x, b.x)).toBeLessThan(1e-12 * maxAbs(b.x));
    fused.dispose();
    plain.dispose();
  });

  it('gives the same bits with 1 and 2 kernel threads (the team\'s fixed blocks)', async () => {
    const one = new CpuBackend(op, undefined, { blocks: 8, threads: 1 });
    const two = new CpuBackend(op, undefined, { blocks: 8, threads: 2 });
    const a = await solveOnce(op, one, theta, rho);
    const b = await solveOnce(op, two, theta, rho);
    expect(a.iterations).toBe(b.iterations);
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    one.dispose();
    two.dispose();
  });
});

describe('the health check at a report time', () => {
  const grid = new Grid([[0, 1], [0, 2]], [30, 20]);
  const n = grid.size;
  const healthy = Float64Array.from({ length: n }, (_, i) => 0.5 + 0.25 * Math.sin(0.1 * i));
  let sum = 0;
  for (const v of healthy) sum += v;
  const mass0 = sum * grid.cellVolume;

  /** ρ behind a proxy that counts reads of its cells. */
  function countingReads(rho: Float64Array): { view: Float64Array; reads: () => number } {
    let reads = 0;
    const view = new Proxy(rho, {
      get(target, key) {
        if (typeof key === 'string' && /^[0-9]+$/.test(key)) reads++;
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    return { view, reads: () => reads };
  }

  it('reads each cell once on a healthy state', () => {
    const { view, reads } = countingReads(healthy);
    expect(() => checkHealth(view, grid, 0.5, 3, 1e-9, mass0)).not.toThrow();
    expect(reads()).toBe(n);
  });

  it('names the first cell below −tol·max ρ (a scan written here) and the mass drift', () => {
    const rho = healthy.slice();
    rho[400] = -1e-3;
    rho[123] = -2e-3;
    rho[50] = -1e-12; // within round-off of max ρ: not the one named
    let max = 0;
    for (const v of rho) max = Math.max(max, v);
    const first = rho.findIndex((v) => v < -1e-9 * max);
    expect(first).toBe(123);
    expect(() => checkHealth(rho, grid, 0.5, 3, 1e-9, mass0)).toThrow(new RegExp(`negative density .* in cell ${first} at`));
    const drifted = healthy.slice();
    drifted[7] *= 1.001;
    expect(() => checkHealth(drifted, grid, 0.5, 3, 1e-9, mass0)).toThrow(/mass drifted/);
    const nan = healthy.slice();
    nan[300] = NaN;
    nan[301] = -5;
    expect(() => checkHealth(nan, grid, 0.5, 3, 1e-9, mass0)).toThrow(/density became NaN in cell 300/);
  });
});

describe('the exponential integrator\'s Gram–Schmidt', () => {
  // The reference landscape (docs/peers.md) on a small grid: a Krylov space of several vectors.
  const TEXT =
    'name: gs\nlandscape: { expr: "0.05 + (x^2 - 1)^2 + y^2" }\ndomain: { bounds: [[-2, 2], [-2, 2]], cells: [40, 40] }\nnoise: { model: multiplicative, eta: 0.05, sigma: 10 }\ninitial: { gaussian: { mean: [1, 0], std: [0.2, 0.2] } }\ntime: { end: 0.4, reportEvery: 0.1 }\n';

  interface GsRun {
    rho: Float64Array;
    calls: Record<string, number>;
    vectors: number;
    /** max |⟨v_i, v_j⟩ − δ_ij| over ê, q_0 … q_m of the last span. */
    orthogonality: number;
  }

  /** block: the classical block passes (dots, subtractCombination); fused: lincombDot and lincomb4. */
  async function run(opts: { fused: boolean; block: boolean; threads?: number }): Promise<GsRun> {
    const loaded = parseScenarioText(TEXT, 'gs.yaml', []);
    const setup = setUp(loaded);
    const rho = initialDensity(setup.grid, setup.scenario.initial, loaded);
    // threads: a team of 8 fixed blocks on a grid below the default threshold.
    const backend = new CpuBackend(setup.op, undefined, opts.threads ? { blocks: 8, threads: opts.threads } : {});
    const rec = backend as unknown as Record<string, unknown>;
    if (!opts.fused) rec.lincombDot = rec.lincomb4 = undefined;
    if (!opts.block) rec.dots = rec.subtractCombination = undefined;
    const calls = counted(backend);
    const tol = 3e-4;
    const integ = new DeviceExponential(backend, setup.op, { tolerance: tol, dtMax: 0.1 }, exponentialCgSettings(tol));
    for (let k = 0; k < 4; k++) await integ.advance(rho, k * 0.1, (k + 1) * 0.1);
    expect(integ.fallback).toBeUndefined();
    const vectors = integ.solver.solves;
    // The last span's basis, read back from the integrator (private: a test of its invariant).
    const priv = integ as unknown as { q: Field[]; span: { m: number }; eq: Field };
    const vs = [priv.eq, ...priv.q.slice(0, priv.span.m + 1)].map((f) => {
      const v = new Float64Array(backend.size);
      void backend.download(f, v);
      return v;
    });
    let orthogonality = 0;
    for (let i = 0; i < vs.length; i++)
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let c = 0; c < vs[i].length; c++) s += vs[i][c] * vs[j][c];
        orthogonality = Math.max(orthogonality, Math.abs(s - (i === j ? 1 : 0)));
      }
    expect(vs.length).toBeGreaterThan(4);
    integ.dispose();
    return { rho, calls, vectors, orthogonality };
  }

  it('per vector (modified, no block passes): the bits of lincomb then dot, with one pass per projection instead of two, and of the lincomb chain of each report time with a third of its passes', async () => {
    const a = await run({ fused: true, block: false });
    const b = await run({ fused: false, block: false });
    expect(a.vectors).toBe(b.vectors);
    expect(a.vectors).toBeGreaterThan(4);
    expect(Array.from(a.rho)).toEqual(Array.from(b.rho));
    // Vector k + 1 is projected against ê, q_0 … q_k twice and then normed: 2(k + 2) subtractions.
    const V = a.vectors;
    // Each vector's solve: three residuals with their dots (PCG around its loop).
    const projections = V * (V + 3) + 3 * V;
    expect(a.calls.lincombDot).toBe(projections);
    expect(b.calls.dot - a.calls.dot).toBe(projections);
    // Each report time's combination ê, q_0, q_1, … takes three links of the chain per lincomb4 pass.
    expect(a.calls.lincomb4).toBeGreaterThan(0);
    expect(b.calls.lincomb - a.calls.lincomb).toBe(projections + 3 * a.calls.lincomb4);
  });

  it('in block form (classical twice): 2 dot passes and 2 combination passes per vector instead of 2(k + 2) subtractions, the modified form\'s state to round-off, the basis orthonormal to round-off', async () => {
    const blk = await run({ fused: true, block: true });
    const mgs = await run({ fused: true, block: false });
    const V = blk.vectors;
    expect(V).toBe(mgs.vectors);
    expect(blk.calls.dots).toBe(2 * V);
    expect(blk.calls.subtractCombination).toBe(2 * V);
    // Only PCG's three residuals per solve remain lincombDot passes (V(V + 3) fewer).
    expect(blk.calls.lincombDot).toBe(3 * V);
    expect(mgs.calls.lincombDot - blk.calls.lincombDot).toBe(V * (V + 3));
    // The two orders of the same projections differ at round-off, far below the 3e-4 asked.
    const scale = maxAbs(mgs.rho);
    expect(maxAbsDiff(blk.rho, mgs.rho) / scale).toBeLessThan(1e-10);
    // CGS2 keeps QᵀQ = I to O(ε) (Giraud, Langou & Rozložník 2005), as modified twice did.
    expect(blk.orthogonality).toBeLessThan(1e-13);
    expect(mgs.orthogonality).toBeLessThan(1e-13);
  });

  it('in block form on the kernel threads: the same bits with 1 and 2 threads, and the unthreaded state to round-off', async () => {
    const one = await run({ fused: true, block: true, threads: 1 });
    const two = await run({ fused: true, block: true, threads: 2 });
    const plain = await run({ fused: true, block: true });
    expect(two.calls.dots).toBe(one.calls.dots);
    expect(Array.from(two.rho)).toEqual(Array.from(one.rho));
    expect(maxAbsDiff(one.rho, plain.rho) / maxAbs(plain.rho)).toBeLessThan(1e-10);
    expect(one.orthogonality).toBeLessThan(1e-13);
  });
});
