/**
 * The walls diagnostic (issue #15 item 6): mass of π and ρ in the outer cells and the mass a
 * whole-space π has beyond the box, against the Student-t law of docs/oracles.md §1 Pearson
 * (b = c = ησ = 1: π ∝ (1 + x²)^−3, heavy tails), whose tail masses are computed here by
 * quadrature.
 */
import { describe, expect, it } from 'vitest';
import { wallDiagnostics, WALL_MASS_THRESHOLD } from '../src/diagnostics/walls.js';
import { setUp } from '../src/run/run.js';
import { formatSummary } from '../src/report/summary.js';
import { loadBundled, runBundled } from './helpers/run-inline.js';

const PEARSON = (L: number, cells: number): string[] => [
  `domain.bounds=[[${-L}, ${L}]]`,
  `domain.cells=[${cells}]`,
  'landscape.params={c: 1, b: 1}',
  'noise={model: multiplicative, eta: 0.1, sigma: 10}',
];

/** ∫_a^b (1 + x²)^−3 dx by composite Simpson in θ = atan x (integrand cos⁴θ, smooth). */
function studentMass(a: number, b: number): number {
  const ta = Math.atan(a);
  const tb = b === Infinity ? Math.PI / 2 : Math.atan(b);
  const n = 2000;
  const h = (tb - ta) / n;
  let s = 0;
  for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.cos(ta + i * h) ** 4;
  return (s * h) / 3;
}

describe('walls: Pearson (docs/oracles.md §1 Pearson, Student-t π ∝ (1 + x²)^−3)', () => {
  it.each([
    [5, 1000, true],
    [50, 2000, false],
  ])('box [−%d, %d] with %d cells: mass beyond the box and in the outer cells as the exact law', (L, cells, noted) => {
    const s = setUp(loadBundled('pearson-1d', PEARSON(L, cells)));
    const { report, notes } = wallDiagnostics(s.grid, s.problem, s.problem.pi(), s.regime);
    const inBox = studentMass(-L, L);
    const beyond = (2 * studentMass(L, Infinity)) / inBox;
    const h = (2 * L) / cells;
    const outer = (2 * studentMass(L - h, L)) / inBox;
    // The power law continued from the outermost cells: k = 6x²/(1 + x²) there, 5.77 at x = 5 (1% high), 6.00 at 50.
    expect(Math.abs(report.piBeyondBox! / beyond - 1)).toBeLessThan(L === 5 ? 0.03 : 2e-3);
    expect(Math.abs(report.tailExponent! - 6)).toBeLessThan(L === 5 ? 0.25 : 0.01);
    expect(Math.abs(report.piOuterMass! / outer - 1)).toBeLessThan(0.02);
    expect(beyond > WALL_MASS_THRESHOLD).toBe(noted);
    expect(notes.length).toBe(noted ? 1 : 0);
    if (noted) expect(notes[0]).toMatch(/beyond it .*whole-space results/);
  });

  it('a run reports walls in report.json and in the summary; ρ near π has π\'s outer mass', async () => {
    const { report, density, setup } = await runBundled('pearson-1d', [...PEARSON(5, 500), 'time.end=4', 'time.reportEvery=0.5']);
    const w = report.walls!;
    const n = density.length;
    let total = 0;
    for (const v of density) total += v;
    expect(w.rhoOuterMass).toBeCloseTo((density[0] + density[n - 1]) / total, 15);
    const piOuter = wallDiagnostics(setup.grid, setup.problem, setup.problem.pi(), setup.regime).report.piOuterMass!;
    expect(Math.abs(w.rhoOuterMass / piOuter - 1)).toBeLessThan(0.2);
    expect(formatSummary(report)).toMatch(/walls: mass in the outer cells: π .*beyond the box ≈ 1\.\d+e-4/);
    expect(report.notes.some((x) => x.startsWith('walls:'))).toBe(true);
  });

  it('collapsing regime: no π masses (π is not integrable), ρ still measured', () => {
    const s = setUp(loadBundled('gbm-collapse-1d', ['domain.cells=[200]']));
    const { report } = wallDiagnostics(s.grid, s.problem, s.problem.pi(), s.regime);
    expect(report.piOuterMass).toBeNull();
    expect(report.piBeyondBox).toBeNull();
    expect(report.rhoOuterMass).toBeGreaterThan(0);
  });
});
