/**
 * The multigrid preconditioner (solvers/multigrid.ts): the properties PCG needs (symmetric,
 * positive definite), the Galerkin construction (coarse operator = Pᵀ(I − θS)P, null vector kept),
 * PCG solutions that match a band-LU solve of the generator written in the test
 * (test/helpers/generator.ts), and iteration counts that stay flat (±30 %) from 128² to 512² on the 2-D reference problem of docs/peers.md, whose
 * coefficients span ~10^12 (π ∝ f^−5 with f from 0.05 to 13). Counts only: no timing assertions.
 */
import { describe, expect, it } from 'vitest';
import { buildOperator, gaussianBump } from './helpers/problems.js';
import { JacobiPreconditioner } from '../solvers/linear.js';
import { HostPcg } from './helpers/host-pcg.js';
import { Generator, maxAbs, maxAbsDiff } from './helpers/generator.js';
import { MultigridPreconditioner } from '../solvers/multigrid.js';
import type { FvOperator } from '../solvers/operator.js';
import { applyS } from '../solvers/kernels/operator-kernels.js';

// docs/peers.md "The reference problems", 2-D: f = 0.05 + (x² − 1)² + y² on [−2, 2]², ησ = 0.5.
const doubleWell = (n: number): FvOperator =>
  buildOperator([[-2, 2], [-2, 2]], [n, n], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
const quad3d = (): FvOperator =>
  buildOperator([[-2, 2], [-2, 2], [-2, 2]], [20, 18, 17], (x, y, z) => 0.2 + 0.5 * (x * x + 2 * y * y + 3 * z * z), { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** y = (I − θS) x */
function shifted(op: FvOperator, theta: number, x: Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  applyS(op, x, y);
  for (let i = 0; i < y.length; i++) y[i] = x[i] - theta * y[i];
  return y;
}

describe.each([
  { name: '2-D double well 64²', op: () => doubleWell(64) },
  { name: '3-D quadratic 20×18×17 (odd sizes)', op: quad3d },
])('multigrid on $name', ({ op: make }) => {
  const op = make();
  const n = op.grid.size;
  const theta = 0.05;
  const mg = new MultigridPreconditioner(op);
  mg.setup(theta);
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(0.7 * i) + 0.3 * Math.cos(0.013 * i * i));
  const y = Float64Array.from({ length: n }, (_, i) => Math.cos(1.1 * i) - 0.2);

  it('is a symmetric positive definite operator (PCG needs both)', () => {
    const bx = new Float64Array(n);
    const by = new Float64Array(n);
    mg.apply(x, bx);
    mg.apply(y, by);
    const a = dot(bx, y);
    const b = dot(x, by);
    expect(Math.abs(a - b)).toBeLessThan(1e-11 * Math.sqrt(dot(bx, bx) * dot(y, y)));
    expect(dot(bx, x)).toBeGreaterThan(0);
    expect(dot(by, y)).toBeGreaterThan(0);
  });

  it('builds each coarse level as the Galerkin product Pᵀ(I − θS)P and keeps √π in the range of P', () => {
    expect(mg.levels.length).toBeGreaterThan(1);
    const fine = mg.levels[0];
    const coarse = mg.levels[1];
    const agg = fine.agg as Int32Array;
    const pw = fine.pw as Float64Array;
    // P's columns are orthonormal and P s_c = √π: each aggregate's weights have unit norm and are ∝ √π.
    const norm2 = new Float64Array(coarse.size);
    for (let i = 0; i < n; i++) norm2[agg[i]] += pw[i] * pw[i];
    for (const v of norm2) expect(v).toBeCloseTo(1, 12);
    // ⟨Pᵀ A P xc, yc⟩ computed with the coarse stencil equals ⟨A P xc, P yc⟩ on the fine grid.
    const xc = Float64Array.from({ length: coarse.size }, (_, i) => Math.sin(0.3 * i + 1));
    const yc = Float64Array.from({ length: coarse.size }, (_, i) => Math.cos(0.5 * i));
    const px = new Float64Array(n);
    const py = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      px[i] = pw[i] * xc[agg[i]];
      py[i] = pw[i] * yc[agg[i]];
    }
    const fineForm = dot(shifted(op, theta, px), py);
    // coarse (I − θS_c) xc from the level's stencil arrays
    const [c0, c1, c2] = coarse.n;
    const strides = [c1 * c2, c2, 1];
    const axc = new Float64Array(coarse.size);
    for (let i = 0; i < coarse.size; i++) axc[i] = (1 + theta * coarse.d[i]) * xc[i];
    for (let k = 0; k < 3; k++) {
      const w = coarse.w[k];
      if (w.length === 0) continue;
      const nk = [c0, c1, c2][k];
      for (let i = 0; i < coarse.size; i++) {
        if (Math.floor(i / strides[k]) % nk === nk - 1) continue;
        axc[i] -= theta * w[i] * xc[i + strides[k]];
        axc[i + strides[k]] -= theta * w[i] * xc[i];
      }
    }
    const coarseForm = dot(axc, yc);
    expect(Math.abs(coarseForm - fineForm)).toBeLessThan(1e-10 * Math.sqrt(dot(axc, axc) * dot(yc, yc)));
  });

  it('solves (I − θA)x = b to the band-LU solution of the generator written in the test, conserving mass to round-off', async () => {
    const b = Float64Array.from({ length: n }, (_, i) => 1 + Math.sin(0.05 * i) ** 2);
    const exact = new Generator(op.problem).shiftedLu(theta).solve(b);
    const xm = b.slice();
    const xj = b.slice();
    const cgm = new HostPcg(op, mg, { tol: 1e-11, maxIterations: 5000 });
    const cgj = new HostPcg(op, new JacobiPreconditioner(op), { tol: 1e-11, maxIterations: 50000 });
    await cgm.solve(theta, b, xm);
    await cgj.solve(theta, b, xj);
    const top = maxAbs(exact);
    // the step moved the state (else agreement with b would pass for any solver)
    expect(maxAbsDiff(exact, b)).toBeGreaterThan(1e-3 * top);
    // CG stops at 1e-11 of the residual in the symmetric form; the error is that times the conditioning
    expect(maxAbsDiff(xm, exact)).toBeLessThan(1e-7 * top);
    expect(maxAbsDiff(xj, exact)).toBeLessThan(1e-7 * top);
    let sb = 0;
    let sx = 0;
    for (let i = 0; i < n; i++) {
      sb += b[i];
      sx += xm[i];
    }
    expect(Math.abs(sx - sb)).toBeLessThan(1e-12 * sb);
    // what multigrid is for: far fewer iterations than Jacobi on the same system
    expect(cgm.iterations).toBeLessThan(cgj.iterations / 3);
  });
});

describe('multigrid-PCG iteration counts on the 2-D reference problem', () => {
  it('stay within ±30 % from 128² to 512² at a fixed step (θ = 0.02, tolerance 1e-8)', async () => {
    const counts: number[] = [];
    for (const n of [128, 256, 512]) {
      const op = doubleWell(n);
      // A backward-Euler step from the reference start (Gaussian at (1, 0), std 0.2).
      const b = gaussianBump(op.grid, [1, 0], 0.2);
      const x = b.slice();
      const cg = new HostPcg(op, new MultigridPreconditioner(op), { tol: 1e-8, maxIterations: 2000 });
      await cg.solve(0.02, b, x);
      counts.push(cg.iterations);
    }
    const lo = Math.min(...counts);
    const hi = Math.max(...counts);
    expect(hi / lo, `iterations at 128², 256², 512²: ${counts.join(', ')}`).toBeLessThanOrEqual(1.3);
  });
});
