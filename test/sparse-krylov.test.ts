import { describe, expect, it } from 'vitest';
import { bicgstab, gmres } from '../solvers/sparse/krylov.js';
import { csrColumnSums, csrGalerkinAggregate } from '../solvers/sparse/ops.js';
import { csrFromRows, dense, luSolve, rng, generatorFromJumps } from './nonsym-helpers.js';
import type { Csr } from '../solvers/sparse/csr.js';

/** A random sparse non-symmetric M-matrix: s·I − B, B ≥ 0 with ~6 entries a row, columns dominated. */
function randomMMatrix(n: number, seed: number, dominance = 1.05): Csr {
  const r = rng(seed);
  const rows: [number, number][][] = Array.from({ length: n }, () => []);
  const colSum = new Float64Array(n);
  const rowSum = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < 6; t++) {
      const j = Math.floor(r() * n);
      if (j === i) continue;
      const v = r() * (t < 2 ? 5 : 1);
      rows[i].push([j, -v]);
      colSum[j] += v;
      rowSum[i] += v;
    }
  }
  for (let i = 0; i < n; i++) rows[i].push([i, dominance * Math.max(colSum[i], rowSum[i]) + 0.01]);
  return csrFromRows(n, rows);
}

function maxRelErr(x: Float64Array, ref: number[]): number {
  let e = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(x[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return e / m;
}

describe('Krylov solvers against a dense LU solve (random non-symmetric M-matrices)', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: GMRES(10) and BiCGStab agree with partial-pivoting LU`, () => {
      const n = 80;
      const a = csrMatrix(seed);
      const r = rng(100 + seed);
      const b = Float64Array.from({ length: n }, () => r() - 0.3);
      const ref = luSolve(dense(a), Array.from(b));
      const xg = new Float64Array(n);
      const sg = gmres(a, b, xg, { tol: 1e-12, maxIter: 500, restart: 10 });
      expect(sg.converged).toBe(true);
      expect(sg.relativeResidual).toBeLessThan(1e-12);
      expect(maxRelErr(xg, ref)).toBeLessThan(1e-9);
      const xb = new Float64Array(n);
      const sb = bicgstab(a, b, xb, { tol: 1e-12, maxIter: 500 });
      expect(sb.converged).toBe(true);
      expect(maxRelErr(xb, ref)).toBeLessThan(1e-9);
      // A Jacobi preconditioner (right-preconditioned: the residual tested is still b − Ax).
      const d = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) if (a.col[k] === i) d[i] = a.val[k];
      const precond = (v: Float64Array, z: Float64Array): void => {
        for (let i = 0; i < n; i++) z[i] = v[i] / d[i];
      };
      const xp = new Float64Array(n);
      expect(gmres(a, b, xp, { tol: 1e-12, maxIter: 500, restart: 10, precond }).converged).toBe(true);
      expect(maxRelErr(xp, ref)).toBeLessThan(1e-9);
    });
  }

  function csrMatrix(seed: number): Csr {
    return randomMMatrix(80, seed);
  }

  it('is deterministic: the same input gives the same bits', () => {
    const a = randomMMatrix(80, 7);
    const b = Float64Array.from({ length: 80 }, (_, i) => Math.sin(i));
    const x1 = new Float64Array(80);
    const x2 = new Float64Array(80);
    gmres(a, b, x1, { tol: 1e-10, maxIter: 200, restart: 7 });
    gmres(a, b, x2, { tol: 1e-10, maxIter: 200, restart: 7 });
    expect(Buffer.from(x1.buffer).equals(Buffer.from(x2.buffer))).toBe(true);
    const y1 = new Float64Array(80);
    const y2 = new Float64Array(80);
    bicgstab(a, b, y1, { tol: 1e-10, maxIter: 200 });
    bicgstab(a, b, y2, { tol: 1e-10, maxIter: 200 });
    expect(Buffer.from(y1.buffer).equals(Buffer.from(y2.buffer))).toBe(true);
  });

  it('reports BiCGStab breakdown instead of dividing by zero (r̂·Ar = 0 for a rotation)', () => {
    // A = [[0, 1], [−1, 0]], b = e₁: r̂ = r = e₁, v = A r = −e₂ ⟂ r̂, so α = ρ/(r̂·v) is 0/0·∞.
    const a = csrFromRows(2, [[[1, 1]], [[0, -1]]]);
    const b = Float64Array.of(1, 0);
    const x = new Float64Array(2);
    const st = bicgstab(a, b, x, { tol: 1e-12, maxIter: 50 });
    expect(st.converged).toBe(false);
    expect(st.breakdown).toBe('denominator');
    expect(Array.from(x).every(Number.isFinite)).toBe(true);
    // GMRES solves the same system exactly in two steps.
    const xg = new Float64Array(2);
    const sg = gmres(a, b, xg, { tol: 1e-12, maxIter: 50 });
    expect(sg.converged).toBe(true);
    expect(Array.from(xg)).toEqual([0, 1].map((v) => expect.closeTo(v, 12)));
  });

  it('stops at the hard iteration cap and says it did not converge (no NaN)', () => {
    const a = randomMMatrix(300, 11, 1.0001);
    const b = Float64Array.from({ length: 300 }, (_, i) => (i % 3) - 1);
    const x = new Float64Array(300);
    const st = gmres(a, b, x, { tol: 1e-14, maxIter: 4, restart: 3 });
    expect(st.iterations).toBe(4);
    expect(st.converged).toBe(false);
    expect(st.relativeResidual).toBeGreaterThan(1e-14);
    expect(Array.from(x).every(Number.isFinite)).toBe(true);
    const xb = new Float64Array(300);
    const sb = bicgstab(a, b, xb, { tol: 1e-14, maxIter: 2 });
    expect(sb.iterations).toBe(2);
    expect(sb.converged).toBe(false);
  });

  it('a preconditioner that returns NaN is reported as a non-finite breakdown, x stays finite', () => {
    const a = randomMMatrix(40, 5);
    const b = Float64Array.from({ length: 40 }, () => 1);
    const x = new Float64Array(40);
    const st = gmres(a, b, x, { tol: 1e-10, maxIter: 20, precond: (_r, z) => z.fill(NaN) });
    expect(st.breakdown).toBe('non-finite');
    expect(Array.from(x).every(Number.isFinite)).toBe(true);
  });
});

describe('Galerkin product of an aggregation', () => {
  it('equals R·A·P computed densely and keeps a generator a generator', () => {
    const r = rng(3);
    const n = 30;
    const jumps: [number, number, number][] = [];
    for (let i = 0; i < n; i++) for (let t = 0; t < 4; t++) jumps.push([i, Math.floor(r() * n), r()]);
    const a = generatorFromJumps(n, jumps.filter(([i, j]) => i !== j));
    const agg = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 3) % 7);
    const w = Float64Array.from({ length: n }, () => 0.1 + r());
    const tot = new Float64Array(7);
    for (let i = 0; i < n; i++) tot[agg[i]] += w[i];
    const pw = Float64Array.from(w, (v, i) => v / tot[agg[i]]);
    const c = csrGalerkinAggregate(a, agg, 7, pw);
    const ad = dense(a);
    const cd = dense(c);
    for (let I = 0; I < 7; I++) {
      for (let J = 0; J < 7; J++) {
        let s = 0;
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (agg[i] === I && agg[j] === J) s += ad[i][j] * pw[j];
        expect(cd[I][J]).toBeCloseTo(s, 13);
        if (I !== J) expect(cd[I][J]).toBeGreaterThanOrEqual(0);
      }
    }
    for (const s of csrColumnSums(c)) expect(Math.abs(s)).toBeLessThan(1e-13);
  });
});
