/**
 * The per-point cost of a 1-D ησ sweep's exponential integrator (issue #19.5): a later report time
 * of a Krylov span whose solves are direct accepts the space an earlier report time passed with
 * one more passing comparison, instead of adding a vector at every report time (solvers/backend/
 * exponential.ts `knownSpace`). Counted (solves, spans) and checked against the semi-discrete exact
 * solution ρ(t) = √π V e^(tΛ) Vᵀ (ρ₀/√π) (oracles.md §12 Semi-discrete exact solution by
 * eigen-expansion) on the sweep's problem, Pearson's f = c + b x² (oracles.md §1 Pearson).
 */
import { describe, expect, it } from 'vitest';
import { DeviceExponential, exponentialCgSettings } from '../solvers/backend/exponential.js';
import { cpuBackend } from '../solvers/backend/choose.js';
import { exactSolution, relL1 } from './helpers/exact-semidiscrete.js';
import { parseScenarioText } from '../src/scenario/load.js';
import { setUp } from '../src/run/run.js';
import { initialDensity } from '../src/run/initial.js';

/** The sweep's scenario (scenarios/pearson-1d.yaml) on a grid the dense exact solution can take. */
const pearson = (eta: number, cells: number): string =>
  `name: p\nlandscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }\ndomain: { bounds: [[-10, 10]], cells: [${cells}] }\nnoise: { model: multiplicative, eta: ${eta}, sigma: 10 }\ninitial: { gaussian: { mean: [1.5], std: [0.2] } }\ntime: { end: 16, reportEvery: 1 }\n`;

const REPORTS = 16;
/** auto's exponential tolerance for the default time.tolerance (300 × 1e-6, solvers/backend/choose.ts). */
const TOL = 3e-4;

describe('a 1-D sweep point: one Krylov span to equilibrium', () => {
  for (const eta of [0.05, 0.2]) {
    it(`η = ${eta} (ησ = ${eta * 10}): every report time within the tolerance of exp(tA)ρ₀, one span, at most 20 solves for 16 report times`, async () => {
      const setup = setUp(parseScenarioText(pearson(eta, 200), 'p.yaml', []));
      const op = setup.op;
      const rho0 = initialDensity(setup.grid, setup.scenario.initial, parseScenarioText(pearson(eta, 200), 'p.yaml', []));
      const exact = exactSolution(op, rho0);
      const integ = new DeviceExponential(cpuBackend(op), op, { tolerance: TOL, dtMax: 1 }, exponentialCgSettings(TOL));
      const rho = rho0.slice();
      let worst = 0;
      for (let k = 0; k < REPORTS; k++) {
        await integ.advance(rho, k, k + 1);
        const ref = exact.at(k + 1);
        worst = Math.max(worst, relL1(rho, ref));
        expect(relL1(rho, ref), `t = ${k + 1}`).toBeLessThan(10 * TOL);
      }
      // Not vacuous: the run reaches π (λ₁ = 1 for every ησ, oracles.md §1: e^−16 of the start's distance).
      expect(relL1(exact.at(REPORTS), exact.at(0))).toBeGreaterThan(1);
      expect(integ.fallback).toBeUndefined();
      // Before: every later report time took one vector more than the last, 24 (the most) by
      // t ≈ 12, then a second span: 31–32 solves here and on the sweep's 2000 cells.
      console.log(`η = ${eta}: ${integ.solver.solves} solves, worst relative L1 to exp(tA)ρ₀ ${worst.toExponential(2)}`);
      expect(integ.solver.solves).toBeLessThanOrEqual(20);
      expect(integ.stats.steps).toBe(REPORTS);
      expect(integ.stats.rejected).toBe(0);
    });
  }

  it('a tighter tolerance still tightens the result (the saving does not cap the accuracy)', async () => {
    const text = pearson(0.1, 200);
    const setup = setUp(parseScenarioText(text, 'p.yaml', []));
    const op = setup.op;
    const rho0 = initialDensity(setup.grid, setup.scenario.initial, parseScenarioText(text, 'p.yaml', []));
    const exact = exactSolution(op, rho0);
    const worst: number[] = [];
    for (const tol of [1e-3, 1e-6]) {
      const integ = new DeviceExponential(cpuBackend(op), op, { tolerance: tol, dtMax: 1 }, exponentialCgSettings(tol));
      const rho = rho0.slice();
      let w = 0;
      for (let k = 0; k < REPORTS; k++) {
        await integ.advance(rho, k, k + 1);
        w = Math.max(w, relL1(rho, exact.at(k + 1)));
      }
      expect(w).toBeLessThan(10 * tol);
      worst.push(w);
    }
    expect(worst[1]).toBeLessThan(worst[0]);
  });
});
