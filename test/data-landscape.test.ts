import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDatasetCsv, teacherDataset } from '../src/data/dataset.js';
import { MODELS } from '../src/data/models.js';
import { EmpiricalRisk } from '../src/data/risk.js';
import { resolveLandscape } from '../src/landscape/builtins.js';
import { parseScenarioText } from '../src/scenario/load.js';
import { expectInputError, rng, tempDir } from './scenario-helpers.js';

const XY = 'x,y\n-1,0.5\n0,1\n2,3.5\n3,3\n';

describe('dataset CSV', () => {
  it('reads named columns in any order, skipping comments and blank lines', () => {
    const d = parseDatasetCsv('# comment\nlabel,"y",x\n\n1,2,3\n4,5,6\n', { x: 'x', y: 'y' }, 'd.csv', 'f');
    expect(Array.from(d.x)).toEqual([3, 6]);
    expect(Array.from(d.y)).toEqual([2, 5]);
  });

  it('errors name the file, line and column', () => {
    expectInputError(() => parseDatasetCsv('x,y\n1,2\n3,abc\n', { x: 'x', y: 'y' }, 'd.csv', 'columns'), {
      file: 'd.csv',
      includes: ['line 3, column 2 ("y")', 'finite number', 'text that is not a number'],
    });
    expectInputError(() => parseDatasetCsv('x,y\n1,2,3\n', { x: 'x', y: 'y' }, 'd.csv', 'columns'), { includes: ['line 2: 3 fields', 'header has 2'] });
    expectInputError(() => parseDatasetCsv('a,b\n1,2\n', { x: 'x', y: 'b' }, 'd.csv', 'columns'), { includes: ['no column named "x"', 'has 2 columns'] });
    expectInputError(() => parseDatasetCsv('x,y\n', { x: 'x', y: 'y' }, 'd.csv', 'columns'), { includes: ['no rows'] });
  });
});

describe('empirical risk', () => {
  it('linear regression: f, gradient and Hessian equal the closed-form quadratic', () => {
    const d = parseDatasetCsv(XY, { x: 'x', y: 'y' }, 'd.csv', 'f');
    const risk = new EmpiricalRisk(MODELS.linear, d, [1, 2], [1, 1, 0]);
    // f(w, b) = ½ mean((w x + b − y)²) = ½ (w² Sxx + 2 w b Sx + b² − 2 w Sxy − 2 b Sy + Syy), S· = sample means.
    const xs = [-1, 0, 2, 3];
    const ys = [0.5, 1, 3.5, 3];
    const mean = (g: (i: number) => number): number => xs.reduce((a, _, i) => a + g(i), 0) / xs.length;
    const [Sxx, Sx, Sxy, Sy, Syy] = [mean((i) => xs[i]! ** 2), mean((i) => xs[i]!), mean((i) => xs[i]! * ys[i]!), mean((i) => ys[i]!), mean((i) => ys[i]! ** 2)];
    const r = rng(5);
    for (let t = 0; t < 10; t++) {
      const [w, b] = [r(-3, 3), r(-3, 3)];
      const f = 0.5 * (w * w * Sxx + 2 * w * b * Sx + b * b - 2 * w * Sxy - 2 * b * Sy + Syy);
      expect(risk.value([w, b])).toBeCloseTo(f, 12);
      expect(risk.gradientComponent([w, b], 0)).toBeCloseTo(w * Sxx + b * Sx - Sxy, 12);
      expect(risk.gradientComponent([w, b], 1)).toBeCloseTo(w * Sx + b - Sy, 12);
      expect(risk.hessianComponent([w, b], 0, 0)).toBeCloseTo(Sxx, 12);
      expect(risk.hessianComponent([w, b], 0, 1)).toBeCloseTo(Sx, 12);
    }
  });

  it('neuron: gradient and Hessian agree with central differences of f', () => {
    const d = teacherDataset('neuron', { params: { v: 1.5, w: -1, b: 0.3 }, n: 50, seed: 4, noise: 0.2 });
    const risk = new EmpiricalRisk(MODELS.neuron, d, [0, 1, 2], [1, 1, 0]);
    const th = [0.7, 0.4, -0.2];
    const h = 1e-5;
    for (let k = 0; k < 3; k++) {
      const up = th.slice();
      const dn = th.slice();
      up[k]! += h;
      dn[k]! -= h;
      const fd = (risk.value(up) - risk.value(dn)) / (2 * h);
      expect(Math.abs(risk.gradientComponent(th, k) - fd)).toBeLessThan(1e-8);
      for (let l = 0; l < 3; l++) {
        const fdh = (risk.gradientComponent(up, l) - risk.gradientComponent(dn, l)) / (2 * h);
        expect(Math.abs(risk.hessianComponent(th, k, l) - fdh)).toBeLessThan(1e-7);
      }
    }
  });

  it('gradient statistics: mean = ∇f, covariance = brute-force covariance of per-sample gradients', () => {
    const d = teacherDataset('neuron', { params: { v: 2, w: 1 }, n: 30, seed: 9, noise: 0.1 });
    const risk = new EmpiricalRisk(MODELS.neuron, d, [1, 2], [2, 1, 0]);
    const th = [0.3, 0.5];
    const st = risk.gradientStats(th);
    const g = Array.from(d.x, (x, i) => {
      const eps = 1e-6;
      // Per-sample gradient by differences of ℓ_i = (2 s(w x + b) − y)²/2.
      const li = (w: number, b: number): number => (2 / (1 + Math.exp(-(w * x + b))) - d.y[i]!) ** 2 / 2;
      return [(li(th[0]! + eps, th[1]!) - li(th[0]! - eps, th[1]!)) / (2 * eps), (li(th[0]!, th[1]! + eps) - li(th[0]!, th[1]! - eps)) / (2 * eps)];
    });
    const m = [0, 1].map((k) => g.reduce((a, v) => a + v[k]!, 0) / g.length);
    expect(st.mean[0]).toBeCloseTo(risk.gradientComponent(th, 0), 12);
    for (let k = 0; k < 2; k++) {
      for (let l = 0; l < 2; l++) {
        const c = g.reduce((a, v) => a + (v[k]! - m[k]!) * (v[l]! - m[l]!), 0) / g.length;
        expect(Math.abs(st.cov[k * 2 + l]! - c)).toBeLessThan(1e-8);
      }
    }
    expect(st.f).toBeCloseTo(risk.value(th), 14);
  });

  it('student–teacher without label noise: f = 0 exactly at the teacher, > 0 elsewhere', () => {
    const land = resolveLandscape(
      { data: { model: 'neuron', teacher: { params: { v: 1.2, w: 0.8, b: -0.4 }, n: 100, seed: 1 }, grid: ['w', 'b'], fixed: { v: 1.2 } } },
      2,
    );
    expect(land.compiled.at([0.8, -0.4])).toBe(0);
    expect(land.compiled.at([0.9, -0.4])).toBeGreaterThan(0);
    expect(land.compiled.gradient()[0]!.at([0.8, -0.4])).toBe(0);
    // Same seed, same data: the landscape is reproducible.
    const again = resolveLandscape({ data: { model: 'neuron', teacher: { params: { v: 1.2, w: 0.8, b: -0.4 }, n: 100, seed: 1 }, grid: ['w', 'b'], fixed: { v: 1.2 } } }, 2);
    expect(again.compiled.at([0.1, 0.2])).toBe(land.compiled.at([0.1, 0.2]));
  });
});

describe('data landscapes in scenarios', () => {
  const scenario = (data: string, noise = '{ model: multiplicative, eta: 0.1, sigma: 1 }'): string =>
    `name: t\nlandscape:\n  data: ${data}\ndomain: { bounds: [[-2, 4], [-2, 2]], cells: [24, 16] }\nnoise: ${noise}\ninitial: { uniform: {} }\ntime: { end: 1, reportEvery: 0.5 }\n`;

  it('loads a CSV relative to the scenario and evaluates the risk at quadrature points', () => {
    const dir = tempDir({ 'd.csv': XY });
    const file = join(dir, 's.yaml');
    writeFileSync(file, scenario('{ model: linear, file: d.csv, grid: [w, b] }'));
    const loaded = parseScenarioText(scenario('{ model: linear, file: d.csv, grid: [w, b] }'), file);
    const land = resolveLandscape(loaded.scenario.landscape, 2, file);
    const coords = [Float64Array.of(1, 0.5), Float64Array.of(0, -1)];
    const out = new Float64Array(2);
    land.compiled.evalPoints(coords, out);
    // f(1, 0) = ½ mean((x − y)²) = ½ (2.25 + 1 + 2.25 + 0)/4
    expect(out[0]).toBeCloseTo(5.5 / 8, 14);
  });

  it('rejects bad data specs with the field named', () => {
    const dir = tempDir({ 'd.csv': XY });
    const file = join(dir, 's.yaml');
    const load = (data: string, noise?: string) => () => parseScenarioText(scenario(data, noise), file);
    expectInputError(load('{ model: linear, file: d.csv, grid: [v, b] }'), { file, field: 'landscape.data.grid.0', includes: ['w, b'] });
    expectInputError(load('{ model: linear, file: d.csv, grid: [w] }'), { file, field: 'landscape.data.grid', includes: ['2 axes'] });
    expectInputError(load('{ model: neuron, file: d.csv, grid: [w, b], fixed: { w: 1 } }'), { file, field: 'landscape.data.fixed.w' });
    expectInputError(load('{ model: linear, file: nope.csv, grid: [w, b] }'), { file, field: 'landscape.data.file', includes: ['no such file'] });
    expectInputError(load('{ model: linear, grid: [w, b] }'), { file, field: 'landscape.data' });
    expectInputError(load('{ model: ridge, file: d.csv, grid: [w, b] }'), { file, field: 'landscape.data.model' });
    expectInputError(() => parseScenarioText(scenario('{ model: linear, file: d.csv, grid: [w, b] }').replace('data:', 'expr: "x^2"\n  params: {}\n  data:'), file), {
      file,
      field: 'landscape',
    });
  });
});
