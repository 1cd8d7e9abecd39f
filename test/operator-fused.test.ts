/**
 * The fused stencil passes of FvOperator.apply / applySymmetric (generated from
 * solvers/kernels/stencils.ts, in 1-D, 2-D and 3-D) must equal the face-by-face definition
 * (operator.ts header: flux fw·ρ_i − bw·ρ_j through each face; S_ij = sym on each face,
 * S_ii = −outflow) to round-off, including the degenerate shapes where a whole axis has one or two
 * cells.
 */
import { describe, expect, it } from 'vitest';
import { buildOperator } from './helpers/problems.js';
import { applyA, applyS } from '../solvers/kernels/operator-kernels.js';

const shapes: number[][] = [[1, 9], [9, 1], [2, 7], [7, 2], [33, 17], [9], [2], [3, 4, 5], [5, 1, 3], [1, 1, 6]];
const bounds: [number, number][] = [[-2, 2], [-1.5, 2], [-1, 1.5]];

describe.each(shapes.map((n) => [n.join('×'), n] as const))('fused kernels on %s cells', (_name, n) => {
  const op = buildOperator(bounds.slice(0, n.length), n, (...x) => 0.05 + (x[0] * x[0] - 1) ** 2 + x.slice(1).reduce((a, y) => a + y * y, 0), { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
  const g = op.grid;
  const rho = Float64Array.from({ length: g.size }, (_, i) => 1 + Math.sin(1.7 * i) ** 2);

  it('apply equals the face-by-face flux sum and conserves mass', () => {
    const ref = new Float64Array(g.size);
    for (let k = 0; k < g.dim; k++) {
      const s = g.strides[k];
      for (let i = 0; i + s < g.size; i++) {
        if (Math.floor(i / s) % g.n[k] === g.n[k] - 1) continue;
        const flux = op.fwd[k][i] * rho[i] - op.bwd[k][i] * rho[i + s];
        ref[i] -= flux;
        ref[i + s] += flux;
      }
    }
    const out = new Float64Array(g.size);
    applyA(op, rho, out);
    let scale = 0;
    let total = 0;
    for (let i = 0; i < g.size; i++) {
      scale = Math.max(scale, op.outflow[i] * rho[i]);
      total += out[i];
    }
    for (let i = 0; i < g.size; i++) expect(Math.abs(out[i] - ref[i])).toBeLessThanOrEqual(1e-14 * scale);
    expect(Math.abs(total)).toBeLessThan(1e-13 * scale * g.size);
  });

  it('applySymmetric equals −outflow·v plus the face weights times the neighbours', () => {
    const ref = new Float64Array(g.size);
    for (let i = 0; i < g.size; i++) ref[i] = -op.outflow[i] * rho[i];
    for (let k = 0; k < g.dim; k++) {
      const s = g.strides[k];
      for (let i = 0; i + s < g.size; i++) {
        if (Math.floor(i / s) % g.n[k] === g.n[k] - 1) continue;
        ref[i] += op.sym[k][i] * rho[i + s];
        ref[i + s] += op.sym[k][i] * rho[i];
      }
    }
    const out = new Float64Array(g.size);
    applyS(op, rho, out);
    let scale = 0;
    for (let i = 0; i < g.size; i++) scale = Math.max(scale, op.outflow[i] * rho[i]);
    for (let i = 0; i < g.size; i++) expect(Math.abs(out[i] - ref[i])).toBeLessThanOrEqual(1e-14 * scale);
  });
});
