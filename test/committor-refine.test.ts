import { describe, expect, it } from 'vitest';
import { committor } from '../solvers/absorbing.js';
import { buildOperator } from './helpers/problems.js';
import { computeCommittor } from '../src/escape/compute.js';
import { NumericalFault } from '../src/errors.js';
import type { FvOperator } from '../solvers/operator.js';

/**
 * The committor at small multiplicative noise (issue #17): CG's √π-weighted stopping test said
 * "converged" after 1–3 iterations with q wrong where π is small, so the solve is refined on the
 * generator rows (solvers/absorbing.ts, docs/escape.md "Solver").
 */
const f = (x: number, y: number): number => 0.05 + (x * x - 1) ** 2 + y * y;

function well(etaSigma: number): FvOperator {
  return buildOperator(
    [
      [-2, 2],
      [-2, 2],
    ],
    [24, 24],
    f,
    { kind: 'multiplicative', etaSigma, eps: 0 },
  );
}

/** Cells within r of (cx, 0), and the mirror index x ↦ −x of every cell (24 columns). */
function ball(op: FvOperator, cx: number, r: number): Uint8Array {
  const g = op.grid;
  return Uint8Array.from({ length: g.size }, (_, i) => {
    const c = g.centre(i);
    return (c[0] - cx) ** 2 + c[1] ** 2 <= r * r ? 1 : 0;
  });
}
/** The cell at the mirror image x ↦ −x of cell i (24 cells along x). */
function mirrorOf(op: FvOperator): (i: number) => number {
  const st = op.grid.strides[0];
  return (i) => {
    const ix = Math.floor(i / st) % 24;
    return i + (23 - 2 * ix) * st;
  };
}

describe('committor at small noise: every cell, not only where π is large', () => {
  for (const es of [0.1, 0.05, 0.025]) {
    it(`ησ = ${es}: q + q(mirror) = 1 in every cell for mirror-image sets (oracles.md §9 "Symmetric sets", the same reflection argument in every cell)`, () => {
      const op = well(es);
      const mirror = mirrorOf(op);
      const A = ball(op, -1, 0.35);
      const B = ball(op, 1, 0.35);
      for (let i = 0; i < A.length; i++) expect(B[mirror(i)]).toBe(A[i]);
      const r = committor(op, A, B);
      expect(r.converged).toBe(true);
      let worst = 0;
      for (let i = 0; i < A.length; i++) worst = Math.max(worst, Math.abs(r.u[i] + r.u[mirror(i)] - 1));
      expect(worst).toBeLessThan(1e-8);
    });
  }

  it('an iteration budget too small to meet the test is refused, not returned as converged', () => {
    const op = well(0.025);
    const r = committor(op, ball(op, -1, 0.35), ball(op, 1, 0.35), { maxIterations: 2 });
    expect(r.converged).toBe(false);
    expect(() => computeCommittor({ op, zeros: [], rho0: new Float64Array(op.grid.size).fill(1), solver: { maxIterations: 2 } }, 'min1', 'min2')).toThrow(NumericalFault);
  });
});
