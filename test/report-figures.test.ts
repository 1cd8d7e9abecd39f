/**
 * Figures (issue 8 §1, issue 20 §5): each figure type is produced for a bundled scenario, rendered
 * to PNG (resvg), non-blank, and has the expected number of series; the heatmaps' data are the
 * density itself (indexed in the test from the cell edges), the small multiples share one colour
 * scale, and the log colour scale is chosen exactly when the rule computed here says so.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { runScenario, type RunResult } from '../src/run/run.js';
import ndarray from 'ndarray';
import { buildRunFigures, runFigureSpecs, snapshotTimes, timePanels } from '../src/plot/run-figures.js';
import { distanceRows, distancesSpec } from '../src/plot/distances.js';
import { marginal } from '../src/plot/marginals.js';
import { coarsenPlane, extractPlane, heatmapRows, heatmapSpec, panelDims, wantsLogColour, LOG_COLOUR_FLOOR, LOG_COLOUR_RATIO, PANEL_SIZE, type Plane } from '../src/plot/heatmap.js';
import { fieldView } from '../src/field/field.js';
import { plotSpec } from '../src/sweep/summary.js';
import type { SweepRecord } from '../src/sweep/record.js';
import { renderFigure, type Figure } from '../src/plot/common.js';
import { markGroups, pixelStats, svgToPixels } from './report-helpers.js';

async function run(file: string, sets: string[], snapshots?: number[]): Promise<RunResult> {
  return runScenario(loadScenario(file, sets), snapshots ? { snapshots } : {});
}

/** A heatmap panel of a spec, as vega-lite receives it. */
interface PanelSpec {
  name: string;
  width: number;
  height: number;
  title: string | { text: string };
  data: { values: { a0: number; a1: number; b0: number; b1: number; v: number }[] };
  encoding: { color: { scale: { type?: string; domain?: number[] } } };
}

/** Every heatmap panel of a spec, in order (walks vconcat/hconcat). */
function panelsOf(spec: unknown): PanelSpec[] {
  const out: PanelSpec[] = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.name === 'string' && o.name.startsWith('heatmap_')) out.push(o as unknown as PanelSpec);
    for (const k of ['vconcat', 'hconcat']) if (Array.isArray(o[k])) (o[k] as unknown[]).forEach(walk);
  };
  walk(spec);
  return out;
}

/**
 * Checks that a panel draws `field` (C order, shape n) cell by cell: each rect's cell is found
 * from its lower edges, and its value is the field there (floored as the log scale says).
 */
function expectPanelIsField(p: PanelSpec, field: Float64Array, n: [number, number], lo: [number, number], h: [number, number], floor = -Infinity): void {
  const seen = new Set<number>();
  for (const r of p.data.values) {
    const i = Math.round((r.a0 - lo[0]) / h[0]);
    const j = Math.round((r.b0 - lo[1]) / h[1]);
    expect(Math.abs(r.a0 - (lo[0] + i * h[0]))).toBeLessThan(1e-12);
    expect(Math.abs(r.b0 - (lo[1] + j * h[1]))).toBeLessThan(1e-12);
    const k = i * n[1] + j;
    expect(seen.has(k)).toBe(false);
    seen.add(k);
    expect(r.v).toBe(Math.max(field[k], floor));
  }
  expect(seen.size).toBe(field.filter((v) => Number.isFinite(v)).length);
}

/** The rule, written out: log when collapsing, or when max exceeds 10³ × the mean of max(v, 0). */
function ruleSaysLog(values: ArrayLike<number>, regime: string): boolean {
  const finite = Array.from(values).filter((v) => Number.isFinite(v));
  const max = Math.max(0, ...finite);
  const mean = finite.reduce((a, v) => a + Math.max(v, 0), 0) / finite.length;
  return max > 0 && (regime === 'collapsing' || max / mean > 1e3);
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
  const result = await run('scenarios/ou-2d.yaml', ['domain.cells=[48,48]', 'time.end=0.5'], snapshotTimes(0.5));
  const figs = await buildRunFigures(result, { snapshots: result.snapshots });
  const specs = runFigureSpecs(result, { snapshots: result.snapshots });
  const g = result.report.grid;
  const lo: [number, number] = [g.bounds[0][0], g.bounds[1][0]];
  const h: [number, number] = [g.h[0], g.h[1]];

  it('fields: heatmaps of ρ, π and log(ρ/π), one rect per cell; non-blank PNG', () => {
    expect(figs.map((f) => f.name)).toEqual(['fields', 'density-time', 'marginals', 'distances']);
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

  it('the ρ heatmap is the density reshaped, at least 480 px on a square box, on the scale the rule picks', () => {
    const [rho, pi] = panelsOf(specs.find((s) => s.name === 'fields')!.spec);
    expect(rho.name).toBe('heatmap_0_0');
    const log = ruleSaysLog(result.density, result.report.regime);
    expect(rho.encoding.color.scale.type === 'log').toBe(log);
    let max = 0;
    for (const v of result.density) max = Math.max(max, v);
    expectPanelIsField(rho, result.density, [48, 48], lo, h, log ? LOG_COLOUR_FLOOR * max : -Infinity);
    // π: exp of ln π, the same cells
    const piField = result.setup.problem.pi();
    expect(pi.data.values).toHaveLength(48 * 48);
    for (const r of pi.data.values) {
      const k = Math.round((r.a0 - lo[0]) / h[0]) * 48 + Math.round((r.b0 - lo[1]) / h[1]);
      expect(Math.abs(r.v - piField[k])).toBeLessThanOrEqual(1e-12 * Math.max(...piField));
    }
    expect([rho.width, rho.height]).toEqual([PANEL_SIZE, PANEL_SIZE]);
    expect(PANEL_SIZE).toBeGreaterThanOrEqual(480);
  });

  it('density-time: one panel per kept snapshot, each the snapshot reshaped, on one shared colour scale', () => {
    const snaps = result.snapshots!;
    expect(snaps.length).toBeGreaterThanOrEqual(3);
    const spec = specs.find((s) => s.name === 'density-time')!.spec as unknown as { resolve: { scale: { color: string } } };
    const panels = panelsOf(spec);
    expect(panels).toHaveLength(snaps.length);
    expect(spec.resolve.scale.color).toBe('shared');
    let max = 0;
    for (const s of snaps) for (const v of s.density) max = Math.max(max, v);
    const log = snaps.some((s) => ruleSaysLog(s.density, result.report.regime));
    panels.forEach((p, k) => {
      expect(p.title).toBe(`t = ${+snaps[k].t.toPrecision(4)}`);
      expect(p.encoding.color.scale.domain).toEqual(log ? [LOG_COLOUR_FLOOR * max, max] : [0, max]);
      expectPanelIsField(p, snaps[k].density, [48, 48], lo, h, log ? LOG_COLOUR_FLOOR * max : -Infinity);
    });
    const svg = byName(figs, 'density-time').svg;
    expect(markGroups(svg, 'heatmap_t\\d')).toEqual(new Array(snaps.length).fill(48 * 48));
    // one legend for all panels
    expect((svg.match(/role-legend"/g) ?? []).length).toBe(1);
    expectNonBlank(svg);
  });

  it('marginals: ∫ρ dy and ∫ρ dx at each kept time and π\'s, equal to sums over the grid done here', () => {
    const snaps = result.snapshots!;
    const spec = specs.find((s) => s.name === 'marginals')!.spec as unknown as { hconcat: { name: string; data: { values: { x: number; y: number; series: string; kind: string }[] } }[] };
    expect(spec.hconcat.map((p) => p.name)).toEqual(['series_0', 'series_1']);
    const piField = result.setup.problem.pi();
    for (const axis of [0, 1]) {
      const rows = spec.hconcat[axis].data.values;
      const sums = (f: Float64Array): number[] =>
        Array.from({ length: 48 }, (_, i) => {
          let s = 0;
          for (let j = 0; j < 48; j++) s += axis === 0 ? f[i * 48 + j] : f[j * 48 + i];
          return s * h[1 - axis];
        });
      const check = (label: string, f: Float64Array, normalize: boolean): void => {
        let m = sums(f);
        const mass = m.reduce((a, b) => a + b, 0) * h[axis];
        if (normalize) m = m.map((v) => v / mass);
        const got = rows.filter((r) => r.series === label);
        expect(got).toHaveLength(48);
        got.forEach((r, i) => {
          expect(r.x).toBeCloseTo(lo[axis] + (i + 0.5) * h[axis], 12);
          expect(Math.abs(r.y - m[i])).toBeLessThanOrEqual(1e-12 * Math.max(...m));
        });
      };
      snaps.forEach((sn) => check(`ρ at t = ${+sn.t.toPrecision(4)}`, sn.density, true));
      check('π', piField, false);
    }
    expect(markGroups(byName(figs, 'marginals').svg, 'series_\\d')).toHaveLength(2 * (snaps.length + 1));
    expectNonBlank(byName(figs, 'marginals').svg);
  });

  it('distances figure for 2-D has the four measured series plus fits and the gap line', () => {
    const f = byName(figs, 'distances');
    const fits = Object.values(result.report.rates).filter((r) => r !== null).length;
    expect(markGroups(f.svg, 'series')).toHaveLength(4 + fits + (result.report.gap ? 1 : 0));
    expectNonBlank(f.svg);
  });

  it('without snapshots there is no density-time figure (and nothing fails)', () => {
    expect(runFigureSpecs(result).map((s) => s.name)).toEqual(['fields', 'marginals', 'distances']);
  });
});

describe('2-D collapse (feng-tu-2d without its floor, 32×48): log colour scales, said on the figure', async () => {
  const result = await run('scenarios/feng-tu-2d.yaml', ['landscape.params.floor=0', 'domain.cells=[32,48]', 'time.end=0.5', 'time.reportEvery=0.05'], snapshotTimes(0.5));
  const specs = runFigureSpecs(result, { snapshots: result.snapshots });
  const g = result.report.grid;

  it('regime collapsing → ρ and π on log scales floored at 1e-6·max; log(ρ/π) stays diverging', async () => {
    expect(result.report.regime).toBe('collapsing');
    const [rho, pi, ratio] = panelsOf(specs.find((s) => s.name === 'fields')!.spec);
    expect(rho.encoding.color.scale.type).toBe('log');
    expect(pi.encoding.color.scale.type).toBe('log');
    expect(ratio.encoding.color.scale.type).toBeUndefined();
    let max = 0;
    for (const v of result.density) max = Math.max(max, v);
    expect(rho.encoding.color.scale.domain).toEqual([LOG_COLOUR_FLOOR * max, max]);
    expectPanelIsField(rho, result.density, [32, 48], [g.bounds[0][0], g.bounds[1][0]], [g.h[0], g.h[1]], LOG_COLOUR_FLOOR * max);
    // a tall box (2 × 4): 480 px high, 240 wide
    expect([rho.width, rho.height]).toEqual([PANEL_SIZE / 2, PANEL_SIZE]);
    const svg = (await renderFigure('fields', 'f', specs.find((s) => s.name === 'fields')!.spec)).svg;
    expect(svg).toContain('log colour scale: values below 1e-6·max');
    expect(svg).toContain('ρ (log colour scale)');
    expectNonBlank(svg);
  });

  it('the small multiples are all on one log scale too, and say so once', async () => {
    const panels = panelsOf(specs.find((s) => s.name === 'density-time')!.spec);
    expect(panels).toHaveLength(result.snapshots!.length);
    for (const p of panels) expect(p.encoding.color.scale.type).toBe('log');
    const svg = (await renderFigure('density-time', 't', specs.find((s) => s.name === 'density-time')!.spec)).svg;
    // once as text (the aria label of the subtitle repeats it, escaped as an attribute)
    expect(svg.match(/>log colour scale: values below/g)).toHaveLength(1);
    expect(svg).not.toContain('(log colour scale)');
  });
});

describe('log colour rule and layout (synthetic fields)', () => {
  const spike = (n: number, rest: number): Float64Array => Float64Array.from({ length: n }, (_, k) => (k === 0 ? 1 : rest));

  it('log exactly when max > 10³ × mean of the non-negative part, or the regime is collapsing', () => {
    expect(LOG_COLOUR_RATIO).toBe(1e3);
    const cases: [Float64Array, string][] = [
      [spike(500, 0), 'converging'], // ratio 500
      [spike(2000, 0), 'converging'], // ratio 2000
      [spike(500, -1), 'converging'], // negatives are not mass: still 500 (a raw mean would be < 0)
      [spike(1200, 1e-5), 'converging'], // mean (1 + 0.01199)/1200: ratio 1186
      [spike(1000, 1e-4), 'converging'], // ratio 1000/1.0999 < 10³
      [Float64Array.from([1, 1, 1, NaN]), 'collapsing'],
      [new Float64Array(10), 'collapsing'], // nothing to show on a log scale
      [Float64Array.from([NaN, 2, 2]), 'undecided'],
    ];
    const got = cases.map(([v, r]) => wantsLogColour(v, r));
    expect(got).toEqual(cases.map(([v, r]) => ruleSaysLog(v, r)));
    expect(got).toEqual([false, true, false, true, false, true, false, false]);
  });

  it('small multiples: one peaked snapshot puts every panel on the log scale, with one shared top', () => {
    const grid = { n: [40, 40], lo: [0, 0], h: [0.025, 0.025] };
    const flat = new Float64Array(1600).fill(1);
    const peaked = new Float64Array(1600);
    peaked[41 * 20] = 1600;
    const panels = timePanels([{ t: 0, density: flat }, { t: 1, density: peaked }], grid, 'converging');
    expect(panels.map((p) => [p.log, p.max])).toEqual([[true, 1600], [true, 1600]]);
    const lin = timePanels([{ t: 0, density: flat }, { t: 1, density: flat.map((v) => 2 * v) }], grid, 'converging');
    expect(lin.map((p) => [p.log, p.max])).toEqual([[false, 2], [false, 2]]);
    // the peaked panel: zeros drawn at the floor, the peak as it is
    const rows = heatmapRows(panels[1], 240, 240);
    expect(rows.filter((r) => r.v === 1600)).toHaveLength(1);
    expect(rows.filter((r) => r.v === LOG_COLOUR_FLOOR * 1600)).toHaveLength(1599);
  });

  it('panels keep the box aspect with the longer side at PANEL_SIZE; default columns fit the page', () => {
    const plane = (ea: number, eb: number): Plane => ({ edgesA: Float64Array.from([0, ea]), edgesB: Float64Array.from([0, eb]), values: Float64Array.from([1]), labelA: 'x', labelB: 'y' });
    expect(panelDims(plane(4, 2), 480)).toEqual({ width: 480, height: 240 });
    expect(panelDims(plane(1, 3), 480)).toEqual({ width: 160, height: 480 });
    expect(panelDims(plane(100, 1), 480)).toEqual({ width: 480, height: 60 });
    const panels = (ea: number, eb: number) => [0, 1, 2].map((k) => ({ title: `p${k}`, plane: plane(ea, eb), scale: 'sequential' as const, legend: 'ρ' }));
    const rowsOf = (spec: unknown): number[] => (spec as { vconcat: { hconcat: unknown[] }[] }).vconcat.map((r) => r.hconcat.length);
    // square 480-px panels: two per row (3 × 560 px would overflow FIGURE_MAX_WIDTH, 1160 px)
    expect(rowsOf(heatmapSpec([panels(1, 1)], 't'))).toEqual([2, 1]);
    // tall boxes (240 px wide) fit three to a row
    expect(rowsOf(heatmapSpec([panels(1, 2)], 't'))).toEqual([3]);
    // each group starts a row
    expect(rowsOf(heatmapSpec([panels(1, 2), panels(1, 2)], 't'))).toEqual([3, 3]);
    // five 240-px panels on a shared scale: four fit a row, so rows of 3 and 2, not 4 and 1
    const five = [0, 1, 2, 3, 4].map((k) => ({ title: `p${k}`, plane: plane(1, 1), scale: 'sequential' as const, legend: 'ρ', max: 1 }));
    expect(rowsOf(heatmapSpec([five], 't', { size: 240, sharedColour: true }))).toEqual([3, 2]);
    expect(rowsOf(heatmapSpec([five], 't', { size: 240, sharedColour: true, columns: 4 }))).toEqual([4, 1]);
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
    const p = extractPlane(fieldView(grid, field), grid, { axis: 1, at: 3 });
    expect([p.labelA, p.labelB]).toEqual(['x', 'z']);
    expect(p.values.length).toBe(4 * 6);
    for (let i = 0; i < 4; i++) for (let k = 0; k < 6; k++) expect(p.values[i * 6 + k]).toBe(100 * i + 30 + k);
  });

  it('extractPlane reads a view through its strides: the same field stored x-fastest gives the same planes', () => {
    // Fortran order: cell (i, j, k) at i + 4 j + 20 k
    const fortran = new Float64Array(120);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) for (let k = 0; k < 6; k++) fortran[i + 4 * j + 20 * k] = field[i * 30 + j * 6 + k];
    const view = ndarray(fortran, [4, 5, 6], [1, 4, 20]);
    for (const axis of [0, 1, 2]) {
      const at = [2, 3, 4][axis];
      expect(Array.from(extractPlane(view, grid, { axis, at }).values)).toEqual(Array.from(extractPlane(fieldView(grid, field), grid, { axis, at }).values));
    }
    // marginals through the same two layouts: sums over the other two axes, written out here
    for (const axis of [0, 1, 2]) {
      const want = new Array(n[axis]).fill(0);
      for (let k = 0; k < 120; k++) want[[Math.floor(k / 30), Math.floor(k / 6) % 5, k % 6][axis]] += field[k];
      expect(Array.from(marginal(view, grid, axis))).toEqual(want);
      expect(Array.from(marginal(fieldView(grid, field), grid, axis))).toEqual(want);
    }
    expect(() => extractPlane(ndarray(field, [4, 30]), grid, { axis: 0, at: 0 })).toThrow(/shape 4×30/);
    expect(() => fieldView(grid, field.subarray(1))).toThrow(/119 values/);
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
