/**
 * Pieces every fpsolve figure shares: size, the mark names tests and the HTML report look for,
 * and helpers that keep data a log axis can show.
 */
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from './vega.js';

/** A rendered figure: written as figures/<name>.svg and inlined in report.html. */
export interface Figure {
  /** File stem, [a-z0-9-] only. */
  name: string;
  title: string;
  svg: string;
}

export const PLOT_WIDTH = 520;
export const PLOT_HEIGHT = 320;

/**
 * The widest a rendered figure should be (px): report.html's page is at most 1280 px wide, and
 * in a 1200-px window, less a vertical scrollbar, about 1180 px. (The page also scales a wider
 * SVG down, but then its text shrinks too.)
 */
export const FIGURE_MAX_WIDTH = 1160;

/**
 * Layer names, so a rendered SVG's mark groups say what they draw (vega puts the name in the
 * group's class, e.g. `<g class="mark-line role-mark series_marks">`): one path per series.
 */
export const MARK = { series: 'series', heatmap: 'heatmap', regime: 'regime' } as const;

/**
 * Config shared by all figures. aria is off because it writes a description attribute per
 * mark item, which triples the size of a heatmap's SVG and says nothing a reader needs.
 */
export const BASE_CONFIG = {
  aria: false,
  view: { stroke: '#888' },
  legend: { labelLimit: 320 },
} as const;

/** Smallest positive value kept on log axes: below it float64 has only denormals. */
export const LOG_FLOOR = 1e-300;

/** A value a log axis can place, or null. */
export function logPlottable(v: number | null | undefined): number | null {
  return v !== null && v !== undefined && Number.isFinite(v) && v > LOG_FLOOR ? v : null;
}

/** Compact label for a number in legends and titles. */
export function fmtNum(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e5 ? String(+v.toPrecision(digits)) : v.toExponential(digits - 1);
}

/** Renders a spec into a named figure. */
export async function renderFigure(name: string, title: string, spec: TopLevelSpec): Promise<Figure> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new RangeError(`figure name must match [a-z0-9-]+, got '${name}'`);
  return { name, title, svg: await renderSvg(spec) };
}
