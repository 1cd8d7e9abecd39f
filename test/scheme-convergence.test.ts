/**
 * Second-order convergence under grid refinement against an exact solution.
 * Additive OU, f = κx²/2, noise D: from N(m₀, s₀²) the law at t is
 * N(m₀e^{−κt}, s₀²e^{−2κt} + (D/κ)(1 − e^{−2κt})) (docs/oracles.md §3, extended to a Gaussian start
 * by linearity of the Gaussian transition law).
 */
import { describe, expect, it } from 'vitest';
import { buildOperator } from './helpers/problems.js';
import { DeviceTrBdf2 } from '../solvers/backend/implicit.js';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { cgSettings } from '../solvers/backend/choose.js';
import { initialDensity } from '../src/run/initial.js';
import { normalInterval } from '../solvers/special.js';

const kappa = 1;
const D = 0.25;
const m0 = 1;
const s0 = 0.3;
const T = 0.5;

async function l1ErrorAt(n: number): Promise<number> {
  const op = buildOperator([[-3, 3]], [n], (x) => 0.5 * kappa * x * x, { kind: 'additive', D });
  const g = op.grid;
  const rho = initialDensity(g, { gaussian: { mean: [m0], std: [s0] } }, { file: 't', baseDir: '.' });
  await new DeviceTrBdf2(new CpuBackend(op), op, { tolerance: 1e-11, dtMax: 0.05 }, cgSettings(1e-11)).advance(rho, 0, T);
  const m = m0 * Math.exp(-kappa * T);
  const s = Math.sqrt(s0 * s0 * Math.exp(-2 * kappa * T) + (D / kappa) * (1 - Math.exp(-2 * kappa * T)));
  let err = 0;
  for (let i = 0; i < n; i++) {
    const a = g.lo[0] + i * g.h[0];
    const exact = normalInterval((a - m) / s, (a + g.h[0] - m) / s) / g.h[0];
    err += Math.abs(rho[i] - exact) * g.h[0];
  }
  return err;
}

describe('grid refinement against the exact OU law', () => {
  it('L1 error decreases with order 2 ± 0.25', async () => {
    const errs: number[] = [];
    for (const n of [40, 80, 160, 320]) errs.push(await l1ErrorAt(n));
    const orders = errs.slice(1).map((e, k) => Math.log2(errs[k] / e));
    for (const p of orders) {
      expect(p).toBeGreaterThan(1.75);
      expect(p).toBeLessThan(2.25);
    }
    expect(errs[3]).toBeLessThan(1e-3);
  });
});
