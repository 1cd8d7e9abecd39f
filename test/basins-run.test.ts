/**
 * Basin masses and the valley marginal in runs (issue #17 item 1, item 5): against quadratures
 * of π written here (docs/oracles.md §11 Basin masses and the Feng–Tu valley marginal), symmetry,
 * and the outputs that carry them (series.csv columns, report.json, summary, check, sweep).
 */
import { describe, expect, it } from 'vitest';
import { BasinMeter, basinSeriesColumns } from '../src/diagnostics/basins.js';
import { seriesTable } from '../src/diagnostics/distances.js';
import { setUp } from '../src/run/run.js';
import { formatSummary } from '../src/report/summary.js';
import { extractQuantity, parseQuantity } from '../src/check/quantity.js';
import { recordFromChild } from '../src/sweep/record.js';
import { summaryColumns, summaryRows } from '../src/sweep/summary.js';
import { basinFigureSpecs, basinMassRows } from '../src/plot/basins.js';
import { summaryRows as htmlSummaryRows } from '../src/report/html.js';
import { loadBundled, runBundled } from './helpers/run-inline.js';

/** Composite Simpson of g on [a, b] with n (even) panels. */
function simpson(g: (x: number) => number, a: number, b: number, n = 4000): number {
  const h = (b - a) / n;
  let s = g(a) + g(b);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * g(a + i * h);
  return (s * h) / 3;
}

/** A root of g in [a, b] by bisection (g changes sign there). */
function bisect(g: (x: number) => number, a: number, b: number): number {
  let lo = a;
  let hi = b;
  for (let k = 0; k < 200; k++) {
    const m = (lo + hi) / 2;
    if (Math.sign(g(m)) === Math.sign(g(lo))) lo = m;
    else hi = m;
  }
  return (lo + hi) / 2;
}

const DW = (expr: string, extra: string[] = []): string[] => [`landscape={expr: "${expr}"}`, 'domain.cells=[500]', ...extra];

describe('basin masses in 1-D double wells (oracles.md §11 Basin masses)', () => {
  it('symmetric well started symmetric: equal masses at every report time; π gives each half 1/2; they sum to 1', async () => {
    const { report } = await runBundled('double-well-1d', DW('(x^2-1)^2/4 + 0.05', ['initial={gaussian: {mean: [0], std: [0.3]}}', 'time.end=20', 'time.reportEvery=5']));
    const b = report.basins!;
    expect(b.basins.length).toBe(2);
    for (const p of report.series) {
      const [m1, m2] = p.massBasin!;
      expect(Math.abs(m1 - m2)).toBeLessThan(1e-10);
      expect(Math.abs(m1 + m2 - 1)).toBeLessThan(1e-14);
    }
    // π = f^−α, α = 1 + 2/(ησ) = 3; each half by quadrature.
    const pi = (x: number): number => ((x * x - 1) ** 2 / 4 + 0.05) ** -3;
    const left = simpson(pi, -2.5, 0);
    const right = simpson(pi, 0, 2.5);
    expect(left / (left + right)).toBeCloseTo(0.5, 12);
    for (const x of b.basins) expect(Math.abs(x.piMass! - left / (left + right))).toBeLessThan(1e-12);
    expect(formatSummary(report)).toMatch(/mass by basin: 1 at \(-?0\.995\) 0\.5 \(π 0\.5\), 2 at \(-?0\.995\) 0\.5 \(π 0\.5\)/);
  });

  it("asymmetric well: π's basin masses as quadratures split at the exact barrier; ρ tends to them", async () => {
    // f = (x² − 1)²/4 + 0.1x + 0.2 > 0: the barrier x* solves f′ = x³ − x + 0.1 = 0 near 0.1.
    const f = (x: number): number => (x * x - 1) ** 2 / 4 + 0.1 * x + 0.2;
    const xs = bisect((x) => x ** 3 - x + 0.1, -0.5, 0.5);
    // ησ = 2 (α = 2): hops are quick, so t = 60 is near equilibrium.
    const { report } = await runBundled('double-well-1d', DW('(x^2-1)^2/4 + 0.1*x + 0.2', ['noise={model: multiplicative, eta: 0.1, sigma: 20}', 'time.end=60', 'time.reportEvery=10']));
    const pi = (x: number): number => f(x) ** -2;
    const left = simpson(pi, -2.5, xs);
    const right = simpson(pi, xs, 2.5);
    const b = report.basins!;
    expect(b.basins.length).toBe(2);
    // Deepest first: the left well (f(−1) ≈ 0.1) is basin 1.
    expect(b.basins[0].x[0]).toBeLessThan(0);
    const exact = [left / (left + right), right / (left + right)];
    // The grid splits at a cell face within h/2 of x*, where π is small: measured 8.1e-5 (π) and 8.3e-5 (ρ at t = 60).
    b.basins.forEach((x, k) => expect(Math.abs(x.piMass! - exact[k])).toBeLessThan(4e-4));
    b.basins.forEach((x, k) => expect(Math.abs(x.finalMass - exact[k])).toBeLessThan(5e-4));
    for (const p of report.series) expect(Math.abs(p.massBasin!.reduce((a, v) => a + v, 0) - 1)).toBeLessThan(1e-14);
    // series.csv carries one massBasin_<id> column per basin, equal to the series values.
    const table = seriesTable(report.series);
    const col = table.columns.indexOf('massBasin_1');
    expect(col).toBeGreaterThan(0);
    expect(table.rows.map((r) => r[col])).toEqual(report.series.map((p) => p.massBasin![0]));
    // The check quantity and the sweep's summary columns read the same final mass.
    const q = parseQuantity('basins.mass[1]')!;
    expect(extractQuantity(report, q)).toEqual({ ok: true, value: b.basins[0].finalMass });
    expect(extractQuantity(report, parseQuantity('basins.mass[3]')!).ok).toBe(false);
    const rec = recordFromChild({ key: 'k', index: 0, params: { 'noise.sigma': 20 }, fpsolve: 'x', scenario: 's' }, { ok: true, report, exitCode: 0, wallSeconds: 1 }, false)!;
    const cols = summaryColumns(['noise.sigma'], [rec]);
    const row = summaryRows([rec], ['noise.sigma'])[0];
    expect(row[cols.indexOf('basin_mass_2')]).toBe(b.basins[1].finalMass);
    // The figure: ρ's mass per basin at every report time and π's level; the HTML table's row.
    const figs = basinFigureSpecs('dw', report.series, b);
    expect(figs.map((f) => f.name)).toEqual(['basins']);
    const rows = basinMassRows(report.series, b);
    expect(rows.filter((r) => r.kind === 'ρ').length).toBe(2 * report.series.length);
    expect(rows.filter((r) => r.kind === 'π').map((r) => r.mass)).toEqual([b.basins[0].piMass, b.basins[0].piMass, b.basins[1].piMass, b.basins[1].piMass]);
    expect(htmlSummaryRows(report).find(([k]) => k === 'mass by basin')?.[1]).toMatch(/^1 at \(-1\.0\d+\) 0\.\d+ \(π 0\.\d+\), 2 at/);
  });
});

describe('valley marginal (oracles.md §11 Feng–Tu valley marginal)', () => {
  it("feng-tu-2d: π's marginal along the valley y = 0 is the quadrature across it at each x", () => {
    const setup = setUp(loadBundled('feng-tu-2d'));
    const meter = new BasinMeter(setup);
    const pi = setup.problem.pi();
    const rep = meter.report(pi, true, () => pi);
    expect(rep.basins.length).toBe(1);
    expect(rep.basins[0].kind).toBe('valley of minimizers');
    expect(rep.valleys.length).toBe(1);
    const v = rep.valleys[0];
    expect(v.note).toBeUndefined();
    // The valley runs along y = 0 from the first to the last column of cells (h = 1/32).
    const h = 1 / 32;
    expect(v.ends![0][0]).toBeCloseTo(-1 + h / 2, 2);
    expect(v.ends![1][0]).toBeCloseTo(1 - h / 2, 2);
    expect(Math.abs(v.ends![0][1]) + Math.abs(v.ends![1][1])).toBeLessThan(h / 4);
    // π ∝ (e^{2x} y²/2 + 0.2)^−2 (α = 2); its mass in the column of cells at x, by quadrature.
    const density = (x: number, y: number): number => (Math.exp(2 * x) * y * y / 2 + 0.2) ** -2;
    const column = (x: number): number => simpson((xx) => simpson((y) => density(xx, y), -2, 2, 400), x - h / 2, x + h / 2, 8);
    const xsCols = Array.from({ length: 64 }, (_, k) => -1 + (k + 0.5) * h);
    const masses = xsCols.map(column);
    const z = masses.reduce((a, b) => a + b, 0);
    expect(v.piMass!.length).toBe(64);
    let worst = 0;
    v.binCentres!.forEach((s, k) => {
      const x = v.ends![0][0] + s;
      const col = Math.round((x + 1) / h - 0.5);
      expect(col).toBe(k);
      worst = Math.max(worst, Math.abs(v.piMass![k] / (masses[k] / z) - 1));
    });
    // Both are quadratures of the same π over the same columns (measured 1.6e-11): a bin holding a
    // cell of the wrong column would be off by the column-to-column change of π, ~1e-2.
    expect(worst).toBeLessThan(1e-6);
    // The mean position along the valley, against the quadrature's.
    const mean = xsCols.reduce((a, x, k) => a + (x - xsCols[0]) * masses[k], 0) / z;
    expect(Math.abs(v.piMean! - mean)).toBeLessThan(1e-6);
  });

  // A valley through cell centres (odd cell counts across it) sits at a strict minimum of the cell
  // values across it, where the zero-set search's gradient test fails: it used to report "the
  // valley covers fewer than 2 cells" there. π ∝ (e^{2x}(y − y₀)²/2 + 0.2)^−2 (α = 2) per column of
  // cells by Simpson, at offsets y₀ on a centre row, on a face and in between, odd and even counts.
  // Bins are min(h) wide: h_x ≤ h_y makes them the columns of cells.
  for (const [y0, nx, ny] of [
    [0, 8, 15],
    [0, 8, 16],
    [0, 16, 31],
    [0.1, 8, 15],
    [0.1, 8, 16],
    [-0.3, 12, 21],
  ] as const) {
    it(`valley y = ${y0} on ${nx}×${ny}: the marginal per column against Simpson, the curve on the line`, () => {
      const setup = setUp(loadBundled('feng-tu-2d', [`landscape={expr: "exp(2*x)*(y - (${y0}))^2/2 + 0.2"}`, `domain.cells=[${nx},${ny}]`]));
      const pi = setup.problem.pi();
      const rep = new BasinMeter(setup).report(pi, true, () => pi);
      expect(rep.valleys.length).toBe(1);
      const v = rep.valleys[0];
      expect(v.note).toBeUndefined();
      const hy = 4 / ny;
      for (const e of v.ends!) expect(Math.abs(e[1] - y0)).toBeLessThan(hy / 2);
      expect(v.piMass!.length).toBe(nx);
      const h = 2 / nx;
      const masses = Array.from({ length: nx }, (_, k) =>
        simpson((x) => simpson((y) => (Math.exp(2 * x) * (y - y0) ** 2 / 2 + 0.2) ** -2, -2, 2, 800), -1 + k * h, -1 + (k + 1) * h, 40),
      );
      const z = masses.reduce((a, b) => a + b, 0);
      // The grid's π is a Gauss-rule cell average of f^−α: far closer than the ~40 % change per column.
      masses.forEach((m, k) => expect(Math.abs(v.piMass![k] / (m / z) - 1)).toBeLessThan(3e-3));
    });
  }

  it('a tilted valley y = x/2 (12×15 and 12×16): found, and its curve within a cell of the line', () => {
    for (const ny of [15, 16]) {
      const setup = setUp(loadBundled('feng-tu-2d', ['landscape={expr: "exp(x)*(y - x/2)^2/2 + 0.2"}', `domain.cells=[12,${ny}]`]));
      const pi = setup.problem.pi();
      const rep = new BasinMeter(setup).report(pi, true, () => pi);
      expect(rep.valleys.length).toBe(1);
      const v = rep.valleys[0];
      expect(v.note, `12×${ny}`).toBeUndefined();
      // Distance of the curve's ends from the line y = x/2, against one cell's height.
      for (const e of v.ends!) expect(Math.abs(e[1] - e[0] / 2) / Math.hypot(1, 0.5)).toBeLessThan(4 / ny);
      // The curve runs along the line: its ends span most of the box in x.
      expect(v.ends![1][0] - v.ends![0][0]).toBeGreaterThan(1.5);
    }
  });

  it('a ring of zeros (collapse regime) is one basin; no marginal, a note says why', () => {
    const setup = setUp(loadBundled('feng-tu-2d', ['landscape={expr: "(x^2+y^2-1)^2"}', 'domain.bounds=[[-2,2],[-2,2]]', 'domain.cells=[48,48]']));
    expect(setup.regime.regime).toBe('collapsing');
    const meter = new BasinMeter(setup);
    expect(meter.labels.basins.length).toBe(1);
    expect(meter.labels.basins[0].kind).toBe('zero component');
    const rep = meter.report(setup.problem.f, false, () => setup.problem.pi());
    expect(rep.basins[0].piMass).toBeNull();
    expect(rep.valleys[0].note).toMatch(/closed loop or branches/);
    expect(rep.notes.join(' ')).toMatch(/no marginal along it/);
    expect(basinSeriesColumns([meter.measure(setup.problem.f)]).columns).toEqual(['massBasin_1', 'valleyMean_1', 'valleySpread_1']);
  });
});

describe('three minima in 2-D (oracles.md §11 Basin masses)', () => {
  it("π's basin masses (additive noise, π ∝ e^{−f/D}) against a finer quadrature labelled by the continuous gradient flow", () => {
    const wells = [
      { c: [-1, -0.8], a: 1, s: 0.6 },
      { c: [1.1, -0.5], a: 0.8, s: 0.5 },
      { c: [0.1, 1.2], a: 0.9, s: 0.7 },
    ];
    const expr = `2 + 0.05*(x^2+y^2) ${wells.map((w) => `- ${w.a}*exp(-((x-(${w.c[0]}))^2+(y-(${w.c[1]}))^2)/${2 * w.s ** 2})`).join(' ')}`;
    const D = 0.1;
    const setup = setUp(loadBundled('ou-2d', [`landscape={expr: "${expr}"}`, 'domain.bounds=[[-2.5,2.5],[-2.5,2.5]]', 'domain.cells=[50,50]', `noise={model: additive, D: ${D}}`]));
    const meter = new BasinMeter(setup);
    const pi = setup.problem.pi();
    const rep = meter.report(pi, true, () => pi);
    expect(rep.basins.length).toBe(3);
    const f = (x: number, y: number): number => 2 + 0.05 * (x * x + y * y) - wells.reduce((acc, w) => acc + w.a * Math.exp(-((x - w.c[0]) ** 2 + (y - w.c[1]) ** 2) / (2 * w.s ** 2)), 0);
    const grad = (x: number, y: number): [number, number] => {
      let gx = 0.1 * x;
      let gy = 0.1 * y;
      for (const w of wells) {
        const e = w.a * Math.exp(-((x - w.c[0]) ** 2 + (y - w.c[1]) ** 2) / (2 * w.s ** 2));
        gx += (e * (x - w.c[0])) / w.s ** 2;
        gy += (e * (y - w.c[1])) / w.s ** 2;
      }
      return [gx, gy];
    };
    // Which reported basin the flow from (x, y) ends in: the one whose minimum is nearest the end point.
    const basinOf = (x0: number, y0: number): number => {
      let x = x0;
      let y = y0;
      for (let s = 0; s < 3000; s++) {
        const [gx, gy] = grad(x, y);
        if (Math.hypot(gx, gy) < 1e-6) break;
        x = Math.min(2.5, Math.max(-2.5, x - 0.1 * gx));
        y = Math.min(2.5, Math.max(-2.5, y - 0.1 * gy));
      }
      let best = 0;
      rep.basins.forEach((b, k) => {
        if (Math.hypot(b.x[0] - x, b.x[1] - y) < Math.hypot(rep.basins[best].x[0] - x, rep.basins[best].x[1] - y)) best = k;
      });
      return best;
    };
    // Midpoint rule on a grid 3× finer than the solver's.
    const n = 150;
    const h = 5 / n;
    const mass = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const x = -2.5 + (i + 0.5) * h;
        const y = -2.5 + (j + 0.5) * h;
        mass[basinOf(x, y)] += Math.exp(-f(x, y) / D);
      }
    }
    const z = mass[0] + mass[1] + mass[2];
    // The grid's basin boundaries follow the flow to within a cell or two (h = 0.1) across the passes,
    // where π is a few e-folds below its peak: measured 1.4e-3 (masses 0.565, 0.338, 0.097).
    rep.basins.forEach((b, k) => expect(Math.abs(b.piMass! - mass[k] / z), `basin ${b.id} at (${b.x})`).toBeLessThan(5e-3));
    expect(Math.abs(rep.basins.reduce((a, b) => a + b.piMass!, 0) - 1)).toBeLessThan(1e-14);
  });
});
