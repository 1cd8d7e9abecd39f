/**
 * Issue #19.6 on small grids: the multigrid-PCG iteration count in 3-D (the 2-D band is
 * test/multigrid-iterations.test.ts), the scatter-add carry of the generated restriction kernels
 * (same bits as one read-add-store per cell), and the byte accounting of test/bench/limit.ts
 * against counts written by hand from the kernels' definitions.
 */
import { describe, expect, it } from 'vitest';
import { kernel, type KernelBackend } from '../solvers/kernels/registry.js';
import { sharedFloat64, sharedInt32 } from '../solvers/shared-memory.js';
import { wasmKernelsEnabled } from '../solvers/exec/arena.js';
import { MultigridPreconditioner } from '../solvers/multigrid.js';
import { JacobiPreconditioner } from '../solvers/linear.js';
import { HostPcg } from './helpers/host-pcg.js';
import { gaussianBump } from './helpers/problems.js';
import { bytesPerIteration, kernelBytes, referenceOperator } from './bench/limit.js';

/** Deterministic uniform [0, 1) numbers (a 32-bit LCG), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const counted = new Map<string, number>();

/** PCG iterations of one solve from the reference Gaussian (cached: both tests solve 64³ at θ = 0.02). */
async function count(n: number, theta: number, jacobi = false): Promise<number> {
  const key = `${n} ${theta} ${jacobi}`;
  const known = counted.get(key);
  if (known !== undefined) return known;
  const op = referenceOperator(n, 3);
  const b = gaussianBump(op.grid, [1, 0, 0], 0.2);
  const pre = jacobi ? new JacobiPreconditioner(op) : new MultigridPreconditioner(op);
  const cg = new HostPcg(op, pre, { tol: 1e-8, maxIterations: 20000 });
  await cg.solve(theta, b, b.slice());
  pre.dispose();
  op.dispose();
  counted.set(key, cg.iterations);
  return cg.iterations;
}

describe('multigrid-PCG iteration counts on the 3-D analogue f = 0.05 + (x²−1)² + y² + z²', () => {
  it('do not grow with the grid at a fixed conditioning θ·max(−S_ii) (θ ∝ h²), against Jacobi-PCG on the same systems', async () => {
    // θ = 0.02·(64/n)²: every grid as hard as 64³ at θ = 0.02 (θ·max(−S_ii) ≈ 100 on each).
    const sizes = [16, 32, 64];
    const mg: number[] = [];
    for (const n of sizes) mg.push(await count(n, 0.02 * (64 / n) ** 2));
    expect(Math.max(...mg) / Math.min(...mg), `multigrid at 16³, 32³, 64³: ${mg.join(', ')}`).toBeLessThanOrEqual(1.3);
    // Jacobi-PCG on the 16³ system: the multigrid counts come from the coarse levels, not from an easy system.
    const jac = await count(16, 0.02 * 16, true);
    expect(jac, `Jacobi at 16³: ${jac}, multigrid ${mg.join(', ')}`).toBeGreaterThan(2.5 * Math.max(...mg));
  }, 60_000);

  it('stay within ±30 % of their mean from 16³ to 64³ at the fixed step θ = 0.02 (tolerance 1e-8)', async () => {
    const c: number[] = [];
    for (const n of [16, 32, 64]) c.push(await count(n, 0.02));
    const mean = c.reduce((a, b) => a + b, 0) / c.length;
    for (const k of c) expect(Math.abs(k / mean - 1), `counts at 16³, 32³, 64³: ${c.join(', ')}`).toBeLessThanOrEqual(0.3);
  }, 60_000);
});

describe('restriction kernels: the scatter-add carried in a local gives the bits of one read-add-store per cell', () => {
  const backends: KernelBackend[] = wasmKernelsEnabled() ? ['js', 'wasm'] : ['js'];
  for (const backend of backends) {
    for (const dims of [[9, 13], [5, 6, 7]]) {
      it(`${dims.join('×')}, ${backend}: runs of equal indices, revisited targets, ranges split inside a run`, () => {
        const d = dims.length;
        const r = rng(7 + d);
        const size = dims.reduce((a, b) => a * b, 1);
        const strides = dims.map((_, k) => dims.slice(k + 1).reduce((a, b) => a * b, 1));
        const coarse = 17;
        // Runs of 1–3 equal indices, each target met again later (as an aggregate's second row is).
        const agg = sharedInt32(size);
        for (let i = 0; i < size; ) {
          const t = Math.floor(r() * coarse);
          const len = 1 + Math.floor(r() * 3);
          for (let k = 0; k < len && i < size; k++, i++) agg[i] = t;
        }
        const fill = (lo: number, hi: number): Float64Array => {
          const a = sharedFloat64(size);
          for (let i = 0; i < size; i++) a[i] = lo + (hi - lo) * r();
          return a;
        };
        const pw = fill(0.1, 1);
        const b = fill(-1, 1);
        const x = fill(-1, 1);
        const diag = fill(1, 3);
        const w = dims.map(() => fill(0, 2));
        const th = 0.37;
        // The sums as the descriptions write them (stencils.ts), added to bc one cell at a time in index order.
        const at = (a: Float64Array, j: number): number => (j >= 0 && j < size ? a[j] : 0);
        const wantSweep = new Float64Array(coarse);
        const wantRes = new Float64Array(coarse);
        for (let i = 0; i < size; i++) {
          let up = 0;
          let nb = 0;
          for (let k = d - 1; k >= 0; k--) {
            const s = strides[k];
            const t = w[k][i] * at(x, i + s);
            up = k === d - 1 ? t : up + t;
            nb = k === d - 1 ? t + at(w[k], i - s) * at(x, i - s) : nb + t + at(w[k], i - s) * at(x, i - s);
          }
          wantSweep[agg[i]] = wantSweep[agg[i]] + th * pw[i] * up;
          wantRes[agg[i]] = wantRes[agg[i]] + pw[i] * (b[i] - diag[i] * x[i] + th * nb);
        }
        const cuts = [0, 5, 6, Math.floor(size / 2) + 1, size - 3, size];
        const bc = sharedFloat64(coarse);
        const p = [th, ...strides.slice(0, -1), size];
        for (let j = 0; j + 1 < cuts.length; j++) kernel('restrictSweep', d, backend).range([pw, x, bc, ...w], [agg], p, cuts[j], cuts[j + 1]);
        expect(Array.from(bc)).toEqual(Array.from(wantSweep));
        bc.fill(0);
        for (let j = 0; j + 1 < cuts.length; j++) kernel('restrictResidual', d, backend).range([b, x, diag, pw, bc, ...w], [agg], p, cuts[j], cuts[j + 1]);
        expect(Array.from(bc)).toEqual(Array.from(wantRes));
      });
    }
  }
});

describe('bytes of one multigrid-PCG iteration (test/bench/limit.ts)', () => {
  it('counts each kernel from its description as the arrays its definition touches', () => {
    const N = 1000;
    // (I − θS)p in 2-D reads w0, w1, −S_ii, p and writes q; the CG update reads p, q, y, r and writes y, r.
    expect(kernelBytes('shifted2', N)).toBe(5 * 8 * N);
    expect(kernelBytes('cgUpdate', N)).toBe(6 * 8 * N);
    expect(kernelBytes('dot', N)).toBe(2 * 8 * N);
    // Forward sweep: reads b, x, 1/diag, w0, w1, writes x.
    expect(kernelBytes('gsForward2', N)).toBe(6 * 8 * N);
    // After the sweep: reads pw, x, w0, w1 and the i32 aggregate index; adds into the coarse b.
    expect(kernelBytes('restrictSweep2', N, N / 4)).toBe(4 * 8 * N + 4 * N + 16 * (N / 4));
    expect(kernelBytes('prolongAdd', N, N / 4)).toBe(3 * 8 * N + 4 * N + 8 * (N / 4));
  });

  it('walks the W-cycle below the finest level: level l is visited 2^(l−1) times', () => {
    const op = referenceOperator(64, 2);
    const mg = new MultigridPreconditioner(op);
    const lines = bytesPerIteration(mg, 2);
    const level = (l: number): number => lines.find((x) => x.what.startsWith(`multigrid level ${l} `))?.bytes ?? NaN;
    const lv = mg.levels;
    // Level 1 of 64² (32², not the coarsest): one visit, two coarse corrections.
    const one = 8 * lv[1].size + 2 * 6 * 8 * lv[1].size + kernelBytes('restrictSweep2', lv[1].size, lv[2].size) + kernelBytes('restrictResidual2', lv[1].size, lv[2].size) + 2 * kernelBytes('prolongAdd', lv[1].size, lv[2].size);
    expect(level(1)).toBe(one);
    // Level 2 (16², above the coarsest 8²): twice as many visits, one coarse correction each (the coarsest solve is exact).
    expect(lv.length).toBe(4);
    const two = 8 * lv[2].size + 2 * 6 * 8 * lv[2].size + kernelBytes('restrictSweep2', lv[2].size, lv[3].size) + kernelBytes('prolongAdd', lv[2].size, lv[3].size);
    expect(level(2)).toBe(2 * two);
    mg.dispose();
    op.dispose();
  });
});
