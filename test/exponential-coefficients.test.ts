/**
 * The exponential integrator evaluates every report time from one Krylov basis (solvers/backend/
 * exponential.ts `evaluate`). Each approximation needs the eigen-decomposition of the Krylov
 * matrix T_m (issue #19.5: these were the largest cost of a 1-D sweep point). T_m does not change
 * once m vectors exist and does not depend on the report time, so each span decomposes each size
 * at most once, and the spaces smaller than the error control can accept (span.used − 1 vectors)
 * not at all. Counted, not timed: at most one decomposition per Krylov vector built (one solve
 * each in 1-D), where decomposing every size at every report time, as before, cost about
 * (vectors per report time) × (report times). The states are checked against the semi-discrete
 * exact solution (oracles.md §12 Semi-discrete exact solution by eigen-expansion,
 * test/helpers/exact-semidiscrete.ts).
 */
import { describe, expect, it } from 'vitest';
import { DeviceExponential, exponentialCgSettings } from '../solvers/backend/exponential.js';
import { cpuBackend } from '../solvers/backend/choose.js';
import { exactSolution, relL1 } from './helpers/exact-semidiscrete.js';
import { parseScenarioText } from '../src/scenario/load.js';
import { setUp } from '../src/run/run.js';
import { initialDensity } from '../src/run/initial.js';

// Metastable 1-D double well: intra-well modes relax within the first report interval, the hop
// between the wells much later, so later report times need the space the first one built.
const TEXT = 'name: m\nlandscape: { expr: "(x^2 - 1)^2" }\ndomain: { bounds: [[-2, 2]], cells: [160] }\nnoise: { model: additive, D: 0.15 }\ninitial: { gaussian: { mean: [1], std: [0.15] } }\ntime: { end: 2, reportEvery: 0.1 }\n';

describe('the exponential integrator decomposes only the Krylov matrices it compares', () => {
  for (const tol of [1e-3, 1e-8]) {
    it(`tolerance ${tol}: states within the tolerance of exp(tA)ρ₀ at 20 report times, at most one decomposition per Krylov vector`, async () => {
      const loaded = parseScenarioText(TEXT, 'coef.yaml', []);
      const setup = setUp(loaded);
      const rho0 = initialDensity(setup.grid, setup.scenario.initial, loaded);
      const at = exactSolution(setup.op, rho0).at;
      const n = 20;
      const integ = new DeviceExponential(cpuBackend(setup.op), setup.op, { tolerance: tol, dtMax: 0.1 }, exponentialCgSettings(tol));
      const rho = rho0.slice();
      let worst = 0;
      for (let k = 0; k < n; k++) {
        await integ.advance(rho, k * 0.1, (k + 1) * 0.1);
        worst = Math.max(worst, relL1(rho, at((k + 1) * 0.1)));
      }
      expect(integ.fallback).toBeUndefined();
      expect(worst).toBeLessThan(10 * tol);
      const vectors = integ.solver.solves;
      // Not vacuous: later report times reuse a space of many vectors (decomposing every size at
      // every report time would then cost several times the vectors).
      expect(vectors).toBeGreaterThan(8);
      expect(integ.coefficientSolves).toBeLessThanOrEqual(vectors);
      integ.dispose();
    });
  }
});
