/**
 * Mixed-precision iterative refinement (solvers/backend/refine.ts, issue #22 item 1) under gpu.js
 * mode 'webasm' (the GPU kernels' float32 arithmetic, as WebAssembly on the CPU).
 * (a) One solve of (I − θA)x = b at 32² and 16³ against a band Cholesky solve of the generator
 *     written out in the test (test/helpers/generator.ts: the flux formula, none of the product's
 *     operator): the float64 residual, recomputed here, is 1e-10 of the right-hand side, and the
 *     float32 device CG alone (the same Pcg without refinement) is shown far from that.
 * (b) Whole runs of the bundled OU scenario at 64² (oracles.md §3 "Additive Ornstein–Uhlenbeck":
 *     the gap is min(k1, k2) = 1, so the χ² rate is checked against it) with TR-BDF2 and with the
 *     exponential integrator: final distances and fitted rates agree with the float64 CPU run to
 *     1e-4 relative; with refinement off (FPSOLVE_REFINE=0: float32 state, float32 CG) the same
 *     comparison misses 1e-4. In 1-D the host's tridiagonal solve replaces the device (exact and
 *     O(N)): the webasm run equals the CPU's bit for bit.
 * (c) Solves that cannot succeed end in one SolverFailure after a bounded number of corrections,
 *     never a hang or NaN: corrections too weak to gain anything (one CG iteration each at
 *     cond(I − θS) = 1e6: stagnation), and coefficients beyond float32's range (noise D = 1e39:
 *     non-finite corrections, the range named).
 */
import { describe, expect, it } from 'vitest';
import gpujs from 'gpu.js';
import { GpuJsBackend } from '../solvers/backend/gpujs.js';
import { Pcg } from '../solvers/backend/pcg.js';
import { RefinedBackend, RefinedSolver } from '../solvers/backend/refine.js';
import { SolverFailure } from '../solvers/base/failures.js';
import type { FvOperator } from '../solvers/operator.js';
import type { RunReport } from '../src/report/types.js';
import { Generator } from './helpers/generator.js';
import { relDiff, runOn, setupOf } from './gpu-helpers.js';

const GPU = (gpujs as unknown as { GPU: new (s: { mode: string }) => unknown }).GPU;

/** √π up to a constant, from ψ (not the operator's array): e^(−(ψ − min ψ)/2). */
function sqrtPiOf(psi: Float64Array): Float64Array {
  let m = Infinity;
  for (const p of psi) m = Math.min(m, p);
  return psi.map((p) => Math.exp(-(p - m) / 2));
}

function norm2(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s);
}

/** ‖(b − (I − θA)x)/√π‖ / ‖b/√π‖: the residual in the symmetric form, where CG measures it, from the test's generator. */
function symmetricResidual(gen: Generator, sqrtPi: Float64Array, theta: number, b: Float64Array, x: Float64Array): number {
  const ax = gen.apply(x);
  const r = new Float64Array(b.length);
  const bs = new Float64Array(b.length);
  for (let i = 0; i < b.length; i++) {
    r[i] = (b[i] - (x[i] - theta * ax[i])) / sqrtPi[i];
    bs[i] = b[i] / sqrtPi[i];
  }
  return norm2(r) / norm2(bs);
}

/**
 * (I − θA)⁻¹ b by a band Cholesky factorization of the symmetric form I − θS, S = diag(√π)⁻¹ A diag(√π),
 * assembled from the test's generator (S_ij = √(A_ij A_ji) on each face): a direct solve that shares
 * nothing with CG, refinement or the product's operator. Half band w: n·w²/2 multiply-adds.
 */
function choleskySolve(gen: Generator, sqrtPi: Float64Array, theta: number, b: Float64Array): Float64Array {
  const n = gen.n;
  const w = gen.band;
  const W = w + 1;
  // L[i, j] (i − w ≤ j ≤ i) at i·W + (j − i + w); the lower band of I − θS first
  const L = new Float64Array(n * W);
  for (let i = 0; i < n; i++) L[i * W + w] = 1 + theta * gen.outflow[i];
  for (const { i, j, up, down } of gen.faces) L[j * W + (i - j + w)] = -theta * Math.sqrt(up * down);
  for (let i = 0; i < n; i++) {
    for (let j = Math.max(0, i - w); j <= i; j++) {
      let s = L[i * W + (j - i + w)];
      const m0 = Math.max(0, i - w);
      const oi = i * W - i + w;
      const oj = j * W - j + w;
      for (let m = m0; m < j; m++) s -= L[oi + m] * L[oj + m];
      L[i * W + (j - i + w)] = j === i ? Math.sqrt(s) : s / L[j * W + w];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] / sqrtPi[i];
    for (let m = Math.max(0, i - w); m < i; m++) s -= L[i * W + (m - i + w)] * y[m];
    y[i] = s / L[i * W + w];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let m = i + 1; m <= Math.min(n - 1, i + w); m++) s -= L[m * W + (i - m + w)] * y[m];
    y[i] = s / L[i * W + w];
  }
  return y.map((v, i) => v * sqrtPi[i]);
}

function relErr(x: Float64Array, ref: Float64Array): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - ref[i]));
    n = Math.max(n, Math.abs(ref[i]));
  }
  return d / n;
}

async function withDevice<T>(op: FvOperator, f: (rb: RefinedBackend) => Promise<T>, preconditioner?: 'jacobi' | 'multigrid'): Promise<T> {
  const rb = new RefinedBackend(await GpuJsBackend.create(GPU, op, 'webasm', preconditioner ? { preconditioner } : {}), op);
  try {
    return await f(rb);
  } finally {
    rb.dispose();
  }
}

describe('iterative refinement of float32 device solves (webasm)', () => {
  for (const [name, cells, theta] of [
    ['double-well-2d', 'domain.cells=[32,32]', 0.02],
    ['quadratic-floor-3d', 'domain.cells=[16,16,16]', 0.05],
  ] as const) {
    it(`${name} ${cells}: (I − θA)x = b to a float64 residual of 1e-10, as a band Cholesky solves it; float32 CG alone does not`, async () => {
      const { setup, rho } = setupOf(name, [cells]);
      const op = setup.op;
      const gen = new Generator(setup.problem);
      const sqrtPi = sqrtPiOf(setup.problem.psi);
      const exact = choleskySolve(gen, sqrtPi, theta, rho);
      // the direct solve itself: its residual is round-off
      expect(symmetricResidual(gen, sqrtPi, theta, rho, exact)).toBeLessThan(1e-13);
      const kappa = 1 + 2 * theta * Math.max(...gen.outflow);
      // a system where the solve matters: x is far from b, and float32 is not exact on it
      expect(relErr(rho, exact)).toBeGreaterThan(1e-2);
      expect(kappa).toBeGreaterThan(10);
      await withDevice(op, async (rb) => {
        const solver = new RefinedSolver(rb, op, { tol: 1e-10, maxIterations: 2000 });
        const [b, x] = [rb.field(), rb.field()];
        await rb.upload(b, rho);
        await rb.upload(x, rho);
        await solver.solve(theta, b, x);
        const out = new Float64Array(rho.length);
        await rb.download(x, out);
        expect(symmetricResidual(gen, sqrtPi, theta, rho, out)).toBeLessThan(1e-10);
        expect(relErr(out, exact)).toBeLessThan(kappa * 1e-10);
        // several corrections, each a float32 CG on the device
        expect(solver.refinements).toBeGreaterThanOrEqual(2);
        expect(solver.iterations).toBeGreaterThan(solver.refinements);
        expect(solver.solves).toBe(1);

        // The same device CG without refinement, asked for the same: float32 stops it far short.
        const dev = rb.device;
        const pcg = new Pcg(dev, op, { tol: 1e-10, maxIterations: 2000 });
        const [bd, xd] = [dev.field(), dev.field()];
        await dev.upload(bd, rho);
        await dev.upload(xd, rho);
        await pcg.solve(theta, bd, xd).catch(() => undefined);
        await dev.download(xd, out);
        expect(symmetricResidual(gen, sqrtPi, theta, rho, out)).toBeGreaterThan(1e-8);
        expect(relErr(out, exact)).toBeGreaterThan(1e-8);
      });
    });
  }

  it('corrections that cannot make progress (one CG iteration each, cond(I − θS) = 1e6) end in one SolverFailure after a few, not a loop', async () => {
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[32,32]']);
    const op = setup.op;
    const gen = new Generator(setup.problem);
    const theta = 1e6 / (2 * Math.max(...gen.outflow));
    await withDevice(op, async (rb) => {
      const solver = new RefinedSolver(rb, op, { tol: 1e-9, maxIterations: 1 });
      const [b, x] = [rb.field(), rb.field()];
      await rb.upload(b, rho);
      await rb.upload(x, rho);
      const err = await solver.solve(theta, b, x).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SolverFailure);
      const f = err as SolverFailure;
      expect(f.message.split('\n')).toHaveLength(1);
      expect(f.message).toMatch(/^iterative refinement on gpu\.js webasm stagnated: 2 float32 corrections in a row did not halve the float64 residual/);
      expect(f.message).toContain('condition up to 1.00e+6; each correction ran at most 1 CG iterations');
      expect(f.message).not.toMatch(/NaN/);
      expect(solver.refinements).toBeLessThanOrEqual(10);
      expect(solver.iterations).toBe(solver.refinements);
    }, 'jacobi'); // one Jacobi-CG iteration gains almost nothing at this conditioning; one device V-cycle would
  });

  it('coefficients beyond float32 (noise D = 1e39) end in one non-finite SolverFailure naming the range, with no NaN handed back', async () => {
    const { setup, rho } = setupOf('ou-2d', ['domain.cells=[32,32]', 'noise.D=1e39']);
    const op = setup.op;
    await withDevice(op, async (rb) => {
      const solver = new RefinedSolver(rb, op, { tol: 1e-9, maxIterations: 100 });
      const [b, x] = [rb.field(), rb.field()];
      await rb.upload(b, rho);
      await rb.upload(x, rho);
      const err = await solver.solve(1e-3, b, x).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SolverFailure);
      const f = err as SolverFailure;
      expect(f.reason).toBe('non-finite');
      expect(f.message.split('\n')).toHaveLength(1);
      expect(f.message).toMatch(/^a float32 CG correction on gpu\.js webasm became NaN in cell \d+ .*leave float32's range/);
      expect(solver.refinements).toBe(1);
      // x is untouched (the solve writes it only on success)
      const out = new Float64Array(rho.length);
      await rb.download(x, out);
      expect(out).toEqual(rho);
    });
  });
});

/** Final distances and fitted rates, the numbers a user reads. */
function readings(r: RunReport): Record<string, number> {
  const out: Record<string, number> = {};
  const f = r.final;
  for (const k of ['l1', 'kl', 'chi2', 'meanLoss'] as const) {
    const v = f[k];
    if (typeof v === 'number') out[k] = v;
  }
  for (const k of ['chi', 'kl', 'meanLoss'] as const) {
    const v = r.rates[k];
    if (v) out[`rate ${k}`] = v.value;
  }
  return out;
}

/** Largest relative difference over the readings, and which. */
function worst(a: Record<string, number>, b: Record<string, number>): { key: string; diff: number } {
  let key = '';
  let diff = 0;
  for (const k of Object.keys(b)) {
    const d = relDiff(a[k], b[k]);
    if (!(d <= diff)) {
      key = k;
      diff = d;
    }
  }
  return { key, diff };
}

describe('whole runs on webasm agree with float64 to 1e-4 with refinement, and miss it without', () => {
  // ou-2d relaxes to π at rate 1 (oracles.md §3): by t = 3 KL is 1.3e-2, so the late report times sit
  // where float32's error (the state's 6e-8 per cell, the raised tolerances) is a visible part of the distance.
  const base = ['domain.cells=[64,64]', 'time.end=3', 'time.reportEvery=0.1'];
  for (const integrator of ['trbdf2', 'exponential']) {
    it(`ou-2d 64², ${integrator}`, async () => {
      // TR-BDF2 at 1e-5 (float32 alone raises it to 1e-4 anyway): half the steps of the default 1e-6
      const overrides = [...base, `time.integrator=${integrator}`, ...(integrator === 'trbdf2' ? ['time.tolerance=1e-5'] : [])];
      const cpu = (await runOn('ou-2d', overrides, 'cpu')).report;
      const refined = (await runOn('ou-2d', overrides, 'webasm')).report;
      const saved = process.env.FPSOLVE_REFINE;
      process.env.FPSOLVE_REFINE = '0';
      let plain: RunReport;
      try {
        plain = (await runOn('ou-2d', overrides, 'webasm')).report;
      } finally {
        if (saved === undefined) delete process.env.FPSOLVE_REFINE;
        else process.env.FPSOLVE_REFINE = saved;
      }
      for (const r of [cpu, refined, plain]) expect(r.status).toBe('ok');
      expect(refined.backend).toBe('gpu.js webasm');
      // The device's preconditioner is multigrid on 2-D grids since h6/gpu-mg, Jacobi before.
      expect(refined.integrator.linearSolver).toMatch(/^PCG \((Jacobi|multigrid \(device, float32.*\))\) in float32 on gpu\.js webasm, refined in float64$/);
      expect(refined.notes.join(' ')).toContain('iteratively refined until their float64 residual meets the float64 tolerance');
      expect(refined.integrator.linearRefinements).toBeGreaterThanOrEqual(refined.integrator.linearSolves);
      expect(plain.integrator.linearSolver).toMatch(/^PCG \((Jacobi|multigrid \(device, float32.*\))\)$/);
      const ref = readings(cpu);
      // the fits the comparison is about are there: χ², KL and E f rates, and the distances
      expect(Object.keys(ref).sort()).toEqual(['chi2', 'kl', 'l1', 'meanLoss', 'rate chi', 'rate kl', 'rate meanLoss']);
      // the same report times, and the χ² rate is the OU gap min(k1, k2) = 1 (oracles.md §3)
      expect(refined.series.map((p) => p.t)).toEqual(cpu.series.map((p) => p.t));
      expect(relDiff(ref['rate chi'], 1)).toBeLessThan(0.05);
      const good = worst(readings(refined), ref);
      expect(good.diff, `refined ${good.key}`).toBeLessThan(1e-4);
      const bad = worst(readings(plain), ref);
      expect(bad.diff, `float32 alone ${bad.key}`).toBeGreaterThan(1e-4);
    });
  }

  it('in 1-D the implicit steps take the host\'s tridiagonal solve: a webasm TR-BDF2 run is the CPU run, bit for bit, and says so', async () => {
    const overrides = ['domain.cells=[300]', 'time.end=0.5', 'time.reportEvery=0.05', 'time.integrator=trbdf2'];
    const cpu = await runOn('pearson-1d', overrides, 'cpu');
    const web = await runOn('pearson-1d', overrides, 'webasm');
    expect(web.report.backend).toBe('gpu.js webasm');
    expect(web.report.integrator.linearSolver).toBe('tridiagonal (Thomas)');
    expect(web.report.notes.join(' ')).toMatch(/in 1-D the state and the tridiagonal solves run in float64 on the host/);
    expect(web.report.steps).toBe(cpu.report.steps);
    expect(Buffer.from(web.density.buffer).equals(Buffer.from(cpu.density.buffer))).toBe(true);
  });
});

