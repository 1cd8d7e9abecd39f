/**
 * Figures (issue 8 §1): each figure type is produced for a bundled scenario, rendered to PNG
 * (resvg), non-blank, and has the expected number of series.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { runScenario, type RunResult } from '../src/run/run.js';
import { buildRunFigures, snapshotTimes } from '../src/plot/run-figures.js';
import { distanceRows, distancesSpec } from '../src/plot/distances.js';
import { coarsenPlane, extractPlane } from '../src/plot/heatmap.js';
import { plotSpec } from '../src/sweep/summary.js';
import type { SweepRecord } from '../src/sweep/record.js';
import { renderFigure, type Figure } from '../src/plot/common.js';
import { markGroups, pixelStats, svgToPixels } from './report-helpers.js';

async function run(file: string, sets: string[], snapshots?: number[]): Promise<RunResult> {
  return runScenario(loadScenario(file, sets), snapshots ? { snapshots } : {});
}

function byName(figs: Figure[], name: string): Figure {
  const f = figs.find((x) => x.name === name);
  if (!f) throw new Error(`no figure '${name}' among ${figs.map((x) => x.name).join(', ')}`);
  return f;
}

/** A figure is drawn if a fair share of its pixels are not background and they vary. */
function expectNonBlank(svg: string): void {
  const s = pixelStats(svgToPixels(svg));
  expect(s.nonBackground).toBeGreaterThan(0.02);
  expect(s.variance).toBeGreaterThan(50);
}

describe('1-D figures (pearson-1d, 200 cells)', async () => {
  const end = 1;
  const result = await run('scenarios/pearson-1d.yaml', ['domain.cells=[200]', `time.end=${end}`], snapshotTimes(end));
  const figs = await buildRunFigures(result, { snapshots: result.snapshots });

  it('keeps ρ at the first report time at or after each requested time', () => {
    // Requested 0, 0.02, 0.1, 0.3, 1 with report times k·0.1: 0.02 and 0.1 both land on 0.1.
    const times = result.snapshots!.map((s) => s.t);
    expect(times).toEqual([0, 1, 3, 10].map((k) => result.report.series[k].t));
    [0, 0.1, 0.3, 1].forEach((t, k) => expect(times[k]).toBeCloseTo(t, 12));
    // The last snapshot is the final density itself.
    expect(result.snapshots?.[3].density).toEqual(result.density);
  });

  it.each(['density', 'density-log'])('%s: one line per snapshot plus π, non-blank PNG', (name) => {
    const f = byName(figs, name);
    expect(markGroups(f.svg, 'series')).toHaveLength(result.snapshots!.length + 1);
    expectNonBlank(f.svg);
  });

  it('distances: l1, kl, sqrt(chi2), E[f], one line per fitted rate and the gap line; non-blank PNG', () => {
    const f = byName(figs, 'distances');
    const fits = Object.values(result.report.rates).filter((r) => r !== null).length;
    expect(fits).toBeGreaterThan(0);
    expect(result.report.gap).toBeTruthy();
    expect(markGroups(f.svg, 'series')).toHaveLength(4 + fits + 1);
    expectNonBlank(f.svg);
  });

  it('fitted lines have the fitted slope, and the gap line slope −λ₁ (exact by construction)', async () => {
    const gap = { value: 0.75, label: 'spectral gap' as const };
    const rows = distanceRows({ ...result.report, gap });
    const slope = (label: string): number => {
      const r = rows.filter((x) => x.series === label);
      expect(r).toHaveLength(2);
      return Math.log(r[1].y / r[0].y) / (r[1].t - r[0].t);
    };
    const chi = result.report.rates.chi!;
    expect(slope(rows.find((r) => r.series.startsWith('fit sqrt(chi2)'))!.series)).toBeCloseTo(-chi.value, 10);
    expect(slope(rows.find((r) => r.series.startsWith('gap'))!.series)).toBeCloseTo(-0.75, 10);
    // The fit line passes through the data it was fitted to: its midpoint within 5% of sqrt(chi2) there.
    const fitRows = rows.filter((r) => r.series.startsWith('fit sqrt(chi2)'));
    const last = result.report.series.find((p) => p.t === fitRows[1].t)!;
    expect(fitRows[1].y / Math.sqrt(last.chi2!)).toBeGreaterThan(0.95);
    expect(fitRows[1].y / Math.sqrt(last.chi2!)).toBeLessThan(1.05);
    // With a gap the figure gets one more series.
    const svg = (await renderFigure('d', 'd', distancesSpec({ ...result.report, gap }))).svg;
    const fits = Object.values(result.report.rates).filter((r) => r !== null).length;
    expect(markGroups(svg, 'series')).toHaveLength(4 + fits + 1);
  });
});

describe('2-D figures (ou-2d, 48×48)', async () => {
  const result = await run('scenarios/ou-2d.yaml', ['domain.cells=[48,48]', 'time.end=0.5']);
  const figs = await buildRunFigures(result);

  it('fields: heatmaps of ρ, π and log(ρ/π), one rect per cell; non-blank PNG', () => {
    expect(figs.map((f) => f.name)).toEqual(['fields', 'distances']);
    const f = byName(figs, 'fields');
    const groups = markGroups(f.svg, 'heatmap_0_\\d');
    expect(groups).toHaveLength(3);
    expect(groups[0]).toBe(48 * 48);
    expect(groups[1]).toBe(48 * 48);
    // log(ρ/π) leaves out exactly the cells where ρ ≤ 0 (underflow far from the Gaussian's centre).
    const positive = result.density.filter((v) => v > 0).length;
    expect(positive).toBeGreaterThan(48 * 48 * 0.5);
    expect(groups[2]).toBe(positive);
    expectNonBlank(f.svg);
  });

  it('distances figure for 2-D has the four measured series plus fits and the gap line', () => {
    const f = byName(figs, 'distances');
    const fits = Object.values(result.report.rates).filter((r) => r !== null).length;
    expect(markGroups(f.svg, 'series')).toHaveLength(4 + fits + (result.report.gap ? 1 : 0));
    expectNonBlank(f.svg);
  });
});

describe('3-D figures (quadratic-floor-3d, 12³)', async () => {
  const result = await run('scenarios/quadratic-floor-3d.yaml', ['domain.cells=[12,12,12]', 'time.end=0.2']);
  const figs = await buildRunFigures(result);

  it('fields: three mid-slices × (ρ, π, log(ρ/π)), 144 cells each; non-blank PNG', () => {
    const f = byName(figs, 'fields');
    const groups = markGroups(f.svg, 'heatmap_\\d_\\d');
    expect(groups).toEqual(new Array(9).fill(144));
    expectNonBlank(f.svg);
  });
});

describe('heatmap helpers', () => {
  // field value encodes its own index triple, so a plane's values say which cells were picked
  const n = [4, 5, 6];
  const field = Float64Array.from({ length: 120 }, (_, k) => 100 * Math.floor(k / 30) + 10 * (Math.floor(k / 6) % 5) + (k % 6));
  const grid = { n, lo: [0, 0, 0], h: [1, 1, 1] };

  it('extractPlane holds the fixed axis and keeps the others in order', () => {
    const p = extractPlane(field, grid, { axis: 1, at: 3 });
    expect([p.labelA, p.labelB]).toEqual(['x', 'z']);
    expect(p.values.length).toBe(4 * 6);
    for (let i = 0; i < 4; i++) for (let k = 0; k < 6; k++) expect(p.values[i * 6 + k]).toBe(100 * i + 30 + k);
  });

  it('coarsenPlane: block means conserve the total; logmeanexp is ln of the block mean of e^v', () => {
    const plane = { edgesA: Float64Array.from([0, 1, 2, 3, 4]), edgesB: Float64Array.from([0, 1, 2, 3, 4]), values: Float64Array.from({ length: 16 }, (_, k) => k * k), labelA: 'x', labelB: 'y' };
    const c = coarsenPlane(plane, 2, 'mean');
    expect(c.values.length).toBe(4);
    expect(c.values.reduce((a, b) => a + b, 0) * 4).toBe(plane.values.reduce((a, b) => a + b, 0));
    expect(Array.from(c.edgesA)).toEqual([0, 2, 4]);
    const l = coarsenPlane({ ...plane, values: plane.values.map((v) => -v) }, 2, 'logmeanexp');
    // block (0,0) holds cells 0, 1, 4, 5 → values 0, −1, −16, −25
    expect(l.values[0]).toBeCloseTo(Math.log((1 + Math.exp(-1) + Math.exp(-16) + Math.exp(-25)) / 4), 14);
    // deep values must not underflow to −∞: block (1,1) holds −100, −121, −196, −225
    expect(l.values[3]).toBeCloseTo(-100 + Math.log((1 + Math.exp(-21) + Math.exp(-96) + Math.exp(-125)) / 4), 12);
  });
});

describe('sweep curves (the figure `fpsolve sweep` writes)', () => {
  // Four points over noise.eta: rates.chi and gap where converging, rates.meanLoss everywhere.
  const rec = (index: number, eta: number, regime: string, chi: number | null, gap: number | null, meanLoss: number): SweepRecord => ({
    key: `k${index}`,
    index,
    params: { 'noise.eta': eta },
    status: 'ok',
    error: null,
    errorKind: null,
    regime,
    rates: { chi: chi === null ? null : { value: chi, window: [1, 2] }, kl: null, meanLoss: { value: meanLoss, window: [1, 2] } },
    gap,
    final: { l1: 0.1, kl: 0.01, chi2: 0.02, meanLoss: 0.1, massBelowDelta: 0 },
    wallSeconds: 0.1,
    fpsolve: '0.0.0',
    scenario: 't',
  });
  const records = [rec(0, 0.05, 'converging', 0.98, 1, 1.9), rec(1, 0.1, 'converging', 0.97, 0.99, 1.8), rec(2, 0.2, 'collapsing', null, null, 1.5), rec(3, 0.4, 'collapsing', null, null, 1.2)];

  it('one panel per measure with values, one symbol per finite value, regimes named; non-blank PNG', async () => {
    const spec = plotSpec(records, 'noise.eta');
    expect(spec).not.toBeNull();
    const svg = (await renderFigure('plot-noise-eta', 'sweep', spec!)).svg;
    // rates.chi (2) + rates.meanLoss (4) + gap (2); rates.kl has no value, so no panel
    expect(svg.match(/aria-roledescription="point"/g)?.length).toBe(8);
    expect(svg).toContain('collapsing');
    expect(svg).toContain('converging');
    expect(svg).not.toContain('rates.kl');
    expectNonBlank(svg);
  });
});
