/**
 * Every report time from one shift-invert Krylov basis (issue #19, solvers/backend/exponential.ts
 * `Span`): the integrator keeps the space built from the state at the start of a report interval
 * and evaluates exp((t_k − t_0)A)ρ(t_0) for the report times after it from that space, extending
 * it only while the error control asks for more. Checked against the semi-discrete exact solution
 * (a dense eigen-decomposition of the symmetric form S = Π^(−1/2) A Π^(1/2), written here:
 * ρ(t) = √π V e^(tΛ) Vᵀ (ρ₀/√π), oracles.md §12 Semi-discrete exact solution by eigen-expansion), against the
 * per-interval integrator (a fresh basis per report interval, the method before #19), and by
 * counting solves on the 2-D reference problem.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DeviceExponential, exponentialCgSettings } from '../solvers/backend/exponential.js';
import { cpuBackend } from '../solvers/backend/choose.js';
import { exactSolution, relL1 } from './helpers/exact-semidiscrete.js';
import type { FvOperator } from '../solvers/operator.js';
import { loadScenario, parseScenarioText } from '../src/scenario/load.js';
import { setUp } from '../src/run/run.js';
import { initialDensity } from '../src/run/initial.js';

function problem(text: string): { op: FvOperator; rho: Float64Array } {
  const loaded = parseScenarioText(text, 'span.yaml', []);
  const setup = setUp(loaded);
  return { op: setup.op, rho: initialDensity(setup.grid, setup.scenario.initial, loaded) };
}

/** ρ(t) = √π V e^(tΛ) Vᵀ (ρ₀/√π) with S = VΛVᵀ assembled from the stencil (test/helpers/exact-semidiscrete.ts). */
function exact(op: FvOperator, rho0: Float64Array): (t: number) => Float64Array {
  return exactSolution(op, rho0).at;
}

function integrator(op: FvOperator, tolerance: number, dtMax: number, oneBasis: boolean): DeviceExponential {
  return new DeviceExponential(cpuBackend(op), op, { tolerance, dtMax, oneBasis }, exponentialCgSettings(tolerance));
}

/** The states at the report times k·end/n, k = 1..n. */
async function reports(integ: DeviceExponential, rho0: Float64Array, end: number, n: number): Promise<Float64Array[]> {
  const rho = rho0.slice();
  const out: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    await integ.advance(rho, (k * end) / n, ((k + 1) * end) / n);
    out.push(rho.slice());
  }
  return out;
}

const cases: { name: string; text: string; end: number; n: number }[] = [
  {
    // Metastable: the slow mode (hopping between the wells) decays on a time ~e^(1/D)/… ≫ the
    // run, while the intra-well modes relax within the first report interval.
    name: '1-D double well (x² − 1)², D = 0.15, start in one well',
    text: 'name: m\nlandscape: { expr: "(x^2 - 1)^2" }\ndomain: { bounds: [[-2, 2]], cells: [120] }\nnoise: { model: additive, D: 0.15 }\ninitial: { gaussian: { mean: [1], std: [0.15] } }\ntime: { end: 2, reportEvery: 0.1 }\n',
    end: 2,
    n: 20,
  },
  {
    // Fast and slow modes: curvature 16 across (y), a double well along x.
    name: '2-D (x² − 1)² + 8y², D = 0.4, start off both axes',
    text: 'name: m\nlandscape: { expr: "(x^2 - 1)^2 + 8*y^2" }\ndomain: { bounds: [[-1.8, 1.8], [-1, 1]], cells: [16, 12] }\nnoise: { model: additive, D: 0.4 }\ninitial: { gaussian: { mean: [0.7, 0.3], std: [0.4, 0.3] } }\ntime: { end: 1, reportEvery: 0.1 }\n',
    end: 1,
    n: 10,
  },
];

describe('one Krylov basis for all report times against the exact eigen-expansion', () => {
  for (const c of cases) {
    it(`${c.name}: at every report time within the tolerance of exp(tA)ρ₀; fewer solves than a basis per interval`, async () => {
      const { op, rho } = problem(c.text);
      const at = exact(op, rho);
      const refs = Array.from({ length: c.n }, (_, k) => at(((k + 1) * c.end) / c.n));
      // Not vacuous: the state moves by O(1) between the first and the last report.
      expect(relL1(refs[0], refs[c.n - 1])).toBeGreaterThan(0.05);
      for (const tol of [1e-4, 1e-8]) {
        const one = integrator(op, tol, c.end / c.n, true);
        const per = integrator(op, tol, c.end / c.n, false);
        const a = await reports(one, rho, c.end, c.n);
        const b = await reports(per, rho, c.end, c.n);
        let worst = 0;
        // Krylov throughout (no TR-BDF2 hand-over, whose own error would be measured instead).
        expect(one.fallback).toBeUndefined();
        for (let k = 0; k < c.n; k++) {
          const e = relL1(a[k], refs[k]);
          worst = Math.max(worst, e);
          expect(e, `t = ${((k + 1) * c.end) / c.n}`).toBeLessThan(10 * tol);
          // and the per-interval method, the same tolerance's stated accuracy
          expect(relL1(b[k], refs[k])).toBeLessThan(10 * c.n * tol);
        }
        // The per-interval method at a tight tolerance is an independent path to the same numbers.
        if (tol === 1e-8) for (let k = 0; k < c.n; k++) expect(relL1(a[k], b[k])).toBeLessThan(20 * tol);
        console.log(`${c.name} tol ${tol}: worst L1 ${worst.toExponential(2)}, solves one basis ${one.solver.solves} per interval ${per.solver.solves}`);
        expect(one.solver.solves).toBeLessThan(per.solver.solves);
        // One accepted evaluation per report interval, a restart (fresh basis) now and then.
        expect(one.stats.steps).toBeLessThanOrEqual(c.n + 2);
      }
    });
  }
});

describe('solve counts on the 2-D reference problem (bench/reference-2d.yaml) at 64²', () => {
  it('ten report intervals cost fewer solves than 10 × one interval, and at most 3× one interval; a basis per interval costs more', async () => {
    const loaded = loadScenario(join(__dirname, '..', 'bench', 'reference-2d.yaml'), ['domain.cells=[64,64]']);
    const setup = setUp(loaded);
    const rho = initialDensity(setup.grid, setup.scenario.initial, loaded);
    const op = setup.op;
    const counts: Record<string, number> = {};
    for (const tol of [1e-2, 1e-4]) {
      const single = integrator(op, tol, 1, true);
      await reports(single, rho, 1, 1);
      const ten = integrator(op, tol, 0.1, true);
      await reports(ten, rho, 1, 10);
      const per = integrator(op, tol, 0.1, false);
      await reports(per, rho, 1, 10);
      counts[`one ${tol}`] = single.solver.solves;
      counts[`ten ${tol}`] = ten.solver.solves;
      counts[`per ${tol}`] = per.solver.solves;
    }
    console.log(JSON.stringify(counts));
    for (const tol of [1e-2, 1e-4]) {
      expect(counts[`ten ${tol}`]).toBeLessThan(10 * counts[`one ${tol}`]);
      expect(counts[`ten ${tol}`]).toBeLessThanOrEqual(3 * counts[`one ${tol}`]);
      expect(counts[`ten ${tol}`]).toBeLessThan(counts[`per ${tol}`]);
    }
  });
});

describe('checkpoint and resume with a basis kept across report times', () => {
  it('a run restored from the state at a report time inside a span continues bit for bit, with the same counts', async () => {
    const { op, rho } = problem(cases[1].text);
    const tol = 1e-6;
    const whole = integrator(op, tol, 0.1, true);
    const a = await reports(whole, rho, 1, 10);
    // Stop after the fourth report time: the state there plus saveState(), through JSON as in state.json.
    const first = integrator(op, tol, 0.1, true);
    const x = rho.slice();
    for (let k = 0; k < 4; k++) await first.advance(x, k / 10, (k + 1) / 10);
    const saved = JSON.parse(JSON.stringify(first.saveState())) as ReturnType<DeviceExponential['saveState']>;
    // Not vacuous: the span started before the checkpoint (its origin is not the checkpointed state).
    const span = saved.span as { t: number; built: number };
    expect(span.t).toBeLessThan(0.4);
    expect(span.built).toBeGreaterThan(0);
    const second = integrator(op, tol, 0.1, true);
    second.restoreState(saved);
    const y = x.slice();
    for (let k = 4; k < 10; k++) {
      await second.advance(y, k / 10, (k + 1) / 10);
      expect(Buffer.from(y.buffer).equals(Buffer.from(a[k].buffer)), `t = ${(k + 1) / 10}`).toBe(true);
    }
    expect(second.solver.solves).toBe(whole.solver.solves);
    expect(second.solver.iterations).toBe(whole.solver.iterations);
    expect(second.stats.steps).toBe(whole.stats.steps);
  });

  it('a span start that does not match the checkpoint (edited state.json) is dropped: a fresh basis from the checkpointed density, still within the tolerance', async () => {
    const { op, rho } = problem(cases[1].text);
    const tol = 1e-6;
    const at = exact(op, rho);
    const first = integrator(op, tol, 0.1, true);
    const x = rho.slice();
    for (let k = 0; k < 4; k++) await first.advance(x, k / 10, (k + 1) / 10);
    const saved = first.saveState();
    const span = saved.span as { origin: string };
    // Twice the mass: a start that cannot have led to this state.
    const origin = new Float64Array(new Uint8Array(Buffer.from(span.origin, 'base64')).buffer);
    for (let i = 0; i < origin.length; i++) origin[i] *= 2;
    span.origin = Buffer.from(origin.buffer).toString('base64');
    const second = integrator(op, tol, 0.1, true);
    second.restoreState(saved);
    const y = x.slice();
    for (let k = 4; k < 10; k++) {
      await second.advance(y, k / 10, (k + 1) / 10);
      // Had the doubled start been used, the mass restore would have been refused and the state doubled.
      expect(relL1(y, at((k + 1) / 10))).toBeLessThan(10 * tol);
    }
  });
});
