/**
 * End-of-sweep outputs: summary.csv (one row per point, in point order) and one SVG per swept
 * parameter with the rates and the gap against it, points marked by regime.
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeCsv, type CsvCell } from '../io/csv.js';
import { writeFileAtomic } from '../io/atomic.js';
import { renderSvg } from '../plot/vega.js';
import { writePhaseDiagram } from '../plot/phase.js';
import type { SweepRecord } from './record.js';
import type { JsonValue } from './points.js';

const RATE_NAMES = ['chi', 'kl', 'meanLoss'] as const;
const FINAL_NAMES = ['l1', 'kl', 'chi2', 'meanLoss', 'massBelowDelta'] as const;

/** A parameter value as one CSV cell: numbers stay numbers, anything else is its JSON text. */
function paramCell(v: JsonValue | undefined): CsvCell {
  if (v === undefined || v === null) return null;
  return typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v);
}

/** Most zero-set components any record's criticalLimit has: one pair of columns each. */
export function criticalComponentCount(records: readonly SweepRecord[]): number {
  return records.reduce((m, r) => Math.max(m, r.critical?.components.length ?? 0), 0);
}

/** Critical-noise columns (docs/regime.md): present only when some point has a criticalLimit. */
function criticalColumns(n: number): string[] {
  if (n === 0) return [];
  return ['etaSigma', 'critical_threshold', 'critical_expectedDisagreement', 'critical_maxDeviation', ...Array.from({ length: n }, (_, k) => [`piFraction_${k + 1}`, `limitWeight_${k + 1}`]).flat()];
}

function criticalCells(r: SweepRecord, n: number): CsvCell[] {
  if (n === 0) return [];
  const c = r.critical;
  return [
    c?.etaSigma ?? null,
    c?.threshold ?? null,
    c?.expectedDisagreement ?? null,
    c?.maxDeviation ?? null,
    ...Array.from({ length: n }, (_, k) => [c?.components[k]?.piFraction ?? null, c?.components[k]?.predictedWeight ?? null]).flat(),
  ];
}

/** How many basin and valley columns the records need (points may differ: a swept parameter can add a minimum). */
function basinCounts(records: readonly SweepRecord[]): { basins: number; valleys: number } {
  let basins = 0;
  let valleys = 0;
  for (const r of records) {
    basins = Math.max(basins, r.basins?.mass.length ?? 0);
    valleys = Math.max(valleys, r.basins?.valleyMean.length ?? 0);
  }
  return { basins, valleys };
}

/** basin_mass_<id> (final mass fraction of basin id, docs/outputs.md) and valley_mean_<k>, after the other columns. */
function basinColumns(records: readonly SweepRecord[]): string[] {
  const n = basinCounts(records);
  return [...Array.from({ length: n.basins }, (_, k) => `basin_mass_${k + 1}`), ...Array.from({ length: n.valleys }, (_, k) => `valley_mean_${k + 1}`)];
}

export function summaryColumns(paramPaths: readonly string[], records: readonly SweepRecord[] = []): string[] {
  return [
    'index',
    ...paramPaths,
    'status',
    'regime',
    ...RATE_NAMES.flatMap((n) => [`rate_${n}`, `rate_${n}_t0`, `rate_${n}_t1`]),
    'gap',
    ...FINAL_NAMES.map((n) => `final_${n}`),
    ...criticalColumns(criticalComponentCount(records)),
    'wallSeconds',
    'error',
    'key',
    ...basinColumns(records),
  ];
}

export function summaryRows(records: readonly SweepRecord[], paramPaths: readonly string[]): CsvCell[][] {
  const n = basinCounts(records);
  const criticalComponents = criticalComponentCount(records);
  return [...records]
    .sort((a, b) => a.index - b.index)
    .map((r) => [
      r.index,
      ...paramPaths.map((p) => paramCell(r.params[p])),
      r.status,
      r.regime,
      ...RATE_NAMES.flatMap((n) => {
        const f = r.rates[n];
        return f ? [f.value, f.window[0], f.window[1]] : [null, null, null];
      }),
      r.gap,
      ...FINAL_NAMES.map((n) => r.final?.[n] ?? null),
      ...criticalCells(r, criticalComponents),
      r.wallSeconds,
      r.error,
      r.key,
      ...Array.from({ length: n.basins }, (_, k) => r.basins?.mass[k] ?? null),
      ...Array.from({ length: n.valleys }, (_, k) => r.basins?.valleyMean[k] ?? null),
    ]);
}

export function writeSummaryCsv(dir: string, records: readonly SweepRecord[], paramPaths: readonly string[]): string {
  const path = join(dir, 'summary.csv');
  writeCsv(path, summaryColumns(paramPaths, records), summaryRows(records, paramPaths));
  return path;
}

/** The measures plotted against each parameter. */
export const PLOT_MEASURES = ['rates.chi', 'rates.kl', 'rates.meanLoss', 'gap'] as const;
type Measure = (typeof PLOT_MEASURES)[number];

function measure(r: SweepRecord, m: Measure): number | null {
  const v = m === 'gap' ? r.gap : r.rates[m.slice('rates.'.length) as (typeof RATE_NAMES)[number]]?.value ?? null;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Numeric x when every value is a number or a one-element numeric list (e.g. domain.cells=[[200],[400]]). */
function numericX(v: JsonValue | undefined): number | null {
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return v[0];
  return null;
}

/** Log scale when the values are positive and span more than a decade. */
export function wantsLog(values: readonly number[]): boolean {
  if (values.length < 2 || values.some((v) => !(v > 0))) return false;
  return Math.max(...values) / Math.min(...values) > 10;
}

/** Vega-Lite spec of one parameter's figure, or null when no point has a value to plot. */
export function plotSpec(records: readonly SweepRecord[], path: string): TopLevelSpec | null {
  const ok = records.filter((r) => r.status === 'ok');
  const xs = ok.map((r) => numericX(r.params[path]));
  const numeric = xs.every((x) => x !== null && Number.isFinite(x));
  const xValues = xs.filter((x): x is number => x !== null);
  const charts = PLOT_MEASURES.flatMap((m) => {
    const data = ok.flatMap((r, i) => {
      const y = measure(r, m);
      if (y === null) return [];
      const x = numeric ? xs[i]! : JSON.stringify(r.params[path] ?? null);
      return [{ x, y, regime: r.regime ?? 'unknown', index: r.index }];
    });
    if (data.length === 0) return [];
    const yLog = wantsLog(data.map((d) => d.y));
    return [
      {
        title: m,
        width: 360,
        height: 160,
        data: { values: data },
        mark: { type: 'point' as const, filled: true, size: 60 },
        encoding: {
          x: numeric
            ? { field: 'x', type: 'quantitative' as const, title: path, scale: wantsLog(xValues) ? { type: 'log' as const } : { zero: false } }
            : { field: 'x', type: 'nominal' as const, title: path },
          y: { field: 'y', type: 'quantitative' as const, title: m, scale: yLog ? { type: 'log' as const } : { zero: false } },
          color: { field: 'regime', type: 'nominal' as const, title: 'regime', scale: { domain: ['converging', 'collapsing', 'undecided'], range: ['#1f77b4', '#d62728', '#7f7f7f'] } },
          shape: { field: 'regime', type: 'nominal' as const, title: 'regime', scale: { domain: ['converging', 'collapsing', 'undecided'], range: ['circle', 'triangle-up', 'square'] } },
          tooltip: [{ field: 'index', type: 'quantitative' as const }],
        },
      },
    ];
  });
  if (charts.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `sweep: rates and gap against ${path}`,
    vconcat: charts,
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

/** File name of a parameter's figure; scenario paths hold only [A-Za-z0-9_.-]. */
export const plotFileName = (path: string): string => `plot-${path}.svg`;

/** Writes one SVG per swept parameter; returns the paths written. */
export async function writePlots(dir: string, records: readonly SweepRecord[], paramPaths: readonly string[]): Promise<string[]> {
  const written: string[] = [];
  for (const p of paramPaths) {
    const spec = plotSpec(records, p);
    if (spec === null) continue;
    const file = join(dir, plotFileName(p));
    writeFileAtomic(file, await renderSvg(spec));
    written.push(file);
  }
  const phase = await writePhaseDiagram(dir, records);
  if (phase !== null) written.push(phase);
  return written;
}
