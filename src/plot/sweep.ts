/**
 * Sweep figure: the fitted convergence rate and the spectral gap against one swept parameter,
 * each point's shape marking its regime (converging to π, or collapsing onto the minimizers).
 */
import type { TopLevelSpec } from 'vega-lite';
import { BASE_CONFIG, MARK, PLOT_HEIGHT, PLOT_WIDTH } from './common.js';

export interface SweepCurvePoint {
  /** The swept parameter's value at this point. */
  value: number;
  /** Fitted decay rate (e.g. rates.chi.value, or rates.meanLoss.value when collapsing); null if none. */
  rate: number | null;
  /** Spectral gap λ₁; null if not computed. */
  gap: number | null;
  /** Regime name of the run, e.g. 'converging' or 'collapsing'. */
  regime: string;
}

export interface SweepCurvesInput {
  /** Parameter name for the x axis, e.g. 'noise.eta'. */
  parameter: string;
  points: readonly SweepCurvePoint[];
  logX?: boolean;
  logY?: boolean;
  title?: string;
  /** Legend names of the two curves (default 'fitted rate', 'spectral gap'). */
  rateLabel?: string;
  gapLabel?: string;
}

/** The rows drawn: one per point and curve with a finite, plottable value. */
export function sweepRows(input: SweepCurvesInput): { x: number; y: number; quantity: string; regime: string }[] {
  const rateLabel = input.rateLabel ?? 'fitted rate';
  const gapLabel = input.gapLabel ?? 'spectral gap';
  const ok = (v: number | null, log: boolean | undefined): v is number => v !== null && Number.isFinite(v) && (!log || v > 0);
  const rows: { x: number; y: number; quantity: string; regime: string }[] = [];
  const sorted = [...input.points].sort((a, b) => a.value - b.value);
  for (const p of sorted) {
    if (!ok(p.value, input.logX)) continue;
    if (ok(p.rate, input.logY)) rows.push({ x: p.value, y: p.rate, quantity: rateLabel, regime: p.regime });
    if (ok(p.gap, input.logY)) rows.push({ x: p.value, y: p.gap, quantity: gapLabel, regime: p.regime });
  }
  return rows;
}

export function sweepCurvesSpec(input: SweepCurvesInput): TopLevelSpec {
  const rows = sweepRows(input);
  const quantities = [...new Set(rows.map((r) => r.quantity))];
  const regimes = [...new Set(rows.map((r) => r.regime))].sort();
  const x = { field: 'x', type: 'quantitative', title: input.parameter, scale: input.logX ? { type: 'log' } : { zero: false } };
  const y = { field: 'y', type: 'quantitative', title: 'rate', scale: input.logY ? { type: 'log' } : { zero: true } };
  const colour = { field: 'quantity', type: 'nominal', title: null, scale: { domain: quantities, scheme: 'set1' } };
  return {
    title: input.title ?? `rate and gap against ${input.parameter}`,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    config: BASE_CONFIG,
    data: { values: rows },
    layer: [
      { name: MARK.series, mark: { type: 'line', strokeWidth: 1.6 }, encoding: { x, y, color: colour } },
      {
        name: MARK.regime,
        mark: { type: 'point', filled: true, size: 60 },
        encoding: { x, y, color: colour, shape: { field: 'regime', type: 'nominal', title: 'regime', scale: { domain: regimes } } },
      },
    ],
  } as unknown as TopLevelSpec;
}
