import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Grid } from '../solvers/grid.js';
import { parseDatasetCsv } from '../src/data/dataset.js';
import { MODELS } from '../src/data/models.js';
import { EmpiricalRisk } from '../src/data/risk.js';
import { fitNoiseFromData, symmetricEigenvalues } from '../src/data/noise.js';
import { parseScenarioText } from '../src/scenario/load.js';
import { expectInputError, tempDir } from './scenario-helpers.js';

/** Rows (x, w*·x + e) for every x in xs and e in ±s: residuals at θ* = (w*, 0) are independent of x. */
function balanced(xs: number[], wStar: number, s: number): string {
  const rows = xs.flatMap((x) => [s, -s].map((e) => `${x},${wStar * x + e}`));
  return `x,y\n${rows.join('\n')}\n`;
}

const linear = (csv: string): EmpiricalRisk => new EmpiricalRisk(MODELS.linear, parseDatasetCsv(csv, { x: 'x', y: 'y' }, 'd.csv', 'f'), [1, 2], [1, 1, 0]);

describe('noise from data', () => {
  it('symmetric eigenvalues of small matrices', () => {
    expect(symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2).map((v) => +v.toFixed(12))).toEqual([3, 1]);
    const ev = symmetricEigenvalues(Float64Array.of(4, 1, 0, 1, 3, 1, 0, 1, 2), 3);
    // Characteristic polynomial of [[4,1,0],[1,3,1],[0,1,2]]: eigenvalues 3 and 3 ± √3.
    expect(ev[0]).toBeCloseTo(3 + Math.sqrt(3), 12);
    expect(ev[1]).toBeCloseTo(3, 12);
    expect(ev[2]).toBeCloseTo(3 - Math.sqrt(3), 12);
  });

  it('isotropic case: Σ = s² I = 2f I at the minimizer, so the local σ is 2/B and nothing is flagged', () => {
    // x = ±1 with residuals ±s independent of x: Σ(θ*) = s² E[(x,1)(x,1)ᵀ] = s² I and f(θ*) = s²/2 (docs/landscapes.md).
    const s = 0.3;
    const risk = linear(balanced([-1, 1], 0.5, s));
    const B = 4;
    const fit = fitNoiseFromData(risk, new Grid([[-0.5, 1.5], [-1, 1]], [3, 3]), 0.1, B, 0);
    expect(fit.atMinimum.theta[0]).toBeCloseTo(0.5, 14);
    expect(fit.atMinimum.f).toBeCloseTo(s * s / 2, 14);
    expect(fit.atMinimum.eigenvalues[0]).toBeCloseTo((s * s) / B, 14);
    expect(fit.atMinimum.eigenvalues[1]).toBeCloseTo((s * s) / B, 14);
    expect(fit.atMinimum.anisotropy).toBeCloseTo(1, 12);
    expect(fit.atMinimum.effectiveRank).toBeCloseTo(2, 12);
    expect(fit.atMinimum.localSigma).toBeCloseTo(2 / B, 12);
    expect(fit.warnings.filter((w) => /anisotropic|low rank/.test(w))).toEqual([]);
    // σ is the mean over cells of (tr Σ/(dB))/f: recompute it independently.
    const g = new Grid([[-0.5, 1.5], [-1, 1]], [3, 3]);
    let sum = 0;
    for (let i = 0; i < g.size; i++) {
      const st = risk.gradientStats(g.centre(i));
      sum += (st.cov[0]! + st.cov[3]!) / (2 * B) / st.f;
    }
    expect(fit.sigma).toBeCloseTo(sum / g.size, 12);
    expect(fit.assumptions.join(' ')).toContain('with replacement');
  });

  it('anisotropic case: x = ±3 gives Σ(θ*) = s² diag(9, 1), flagged with its ratio 9', () => {
    const fit = fitNoiseFromData(linear(balanced([-3, 3], 0.5, 0.3)), new Grid([[-0.5, 1.5], [-1, 1]], [3, 3]), 0.1, 1, 0);
    expect(fit.atMinimum.anisotropy).toBeCloseTo(9, 10);
    expect(fit.atMinimum.effectiveRank).toBeCloseTo(100 / 82, 10); // (9+1)²/(81+1)
    const w = fit.warnings.find((m) => m.includes('anisotropic'));
    expect(w).toBeDefined();
    expect(w).toContain('λmax/λmin = 9');
  });

  it('low-rank case: x ≡ 1 makes every per-sample gradient ∝ (1, 1), so Σ has rank 1', () => {
    const csv = 'x,y\n1,0\n1,1\n1,2\n1,0.5\n';
    const fit = fitNoiseFromData(linear(csv), new Grid([[-1, 1], [-1, 1]], [4, 4]), 0.1, 2, 0);
    // Σ = Var(y)·[[1,1],[1,1]]: eigenvalues 2 Var(y)/B and 0; Var(y) = 0.546875.
    expect(fit.atMinimum.eigenvalues[0]).toBeCloseTo((2 * 0.546875) / 2, 12);
    expect(Math.abs(fit.atMinimum.eigenvalues[1]!)).toBeLessThan(1e-14);
    expect(fit.atMinimum.effectiveRank).toBeCloseTo(1, 12);
    expect(fit.atMinimum.anisotropy).toBeNull();
    expect(fit.warnings.some((m) => m.includes('low rank') && m.includes('effective rank'))).toBe(true);
  });

  it('the loader turns noise from-data into a multiplicative model with the fitted σ', () => {
    const dir = tempDir({ 'd.csv': balanced([-1, 1], 0.5, 0.3) });
    const file = join(dir, 's.yaml');
    const text = (noise: string, landscape = '{ data: { model: linear, file: d.csv, grid: [w, b] } }'): string =>
      `name: t\nlandscape: ${landscape}\ndomain: { bounds: [[-0.5, 1.5], [-1, 1]], cells: [3, 3] }\nnoise: ${noise}\ninitial: { uniform: {} }\ntime: { end: 1, reportEvery: 0.5 }\n`;
    const loaded = parseScenarioText(text('{ model: from-data, eta: 0.1, batch: 4 }'), file);
    const nfd = loaded.scenario.noiseFromData!;
    expect(loaded.scenario.noise).toEqual({ model: 'multiplicative', eta: 0.1, sigma: nfd.sigma, eps: 0 });
    expect(nfd.atMinimum.localSigma).toBeCloseTo(0.5, 12);
    expectInputError(() => parseScenarioText(text('{ model: from-data, eta: 0.1, batch: 4 }', '{ expr: "x^2 + y^2" }'), file), {
      file,
      field: 'noise.model',
      includes: ['data landscape'],
    });
    expectInputError(() => parseScenarioText(text('{ model: from-data, eta: 0.1, batch: 0 }'), file), { file, field: 'noise.batch' });
    expectInputError(() => parseScenarioText(text('{ model: from-data, eta: 0.1 }'), file), { file, field: 'noise.batch' });
  });
});
