/**
 * The phase diagram over ησ of a sweep across the critical noise (issue #17, item 4;
 * examples/critical-noise/): the regime of each point as a colour band, λ₁ against ησ on a log
 * scale with the predicted critical slowing down h(ησ(k − 2) − 4)²/(16ησ) (oracles.md §4), and
 * π's mass in each minimizer's basin with the limit weights det(H_i)^−1/2/Σ_j as horizontal lines
 * (oracles.md §7). ησ is read from each point's criticalLimit, so any swept field that moves η or
 * σ gives the same figure.
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../io/atomic.js';
import type { SweepRecord } from '../sweep/record.js';
import { fmtNum, logPlottable } from './common.js';
import { renderSvg } from './vega.js';

export const PHASE_FILE = 'phase-diagram.svg';

const REGIMES = { domain: ['converging', 'collapsing', 'undecided'], range: ['#1f77b4', '#d62728', '#7f7f7f'] };

type Point = { etaSigma: number; regime: string; gap: number | null; index: number; record: SweepRecord };

/** Vega-Lite spec of the phase diagram, or null when fewer than two points carry a criticalLimit with a threshold. */
export function phaseSpec(records: readonly SweepRecord[]): TopLevelSpec | null {
  const pts: Point[] = records
    .filter((r) => r.status === 'ok' && r.critical && Number.isFinite(r.critical.etaSigma))
    .map((r) => ({ etaSigma: r.critical!.etaSigma, regime: r.regime ?? 'unknown', gap: r.gap, index: r.index, record: r }))
    .sort((a, b) => a.etaSigma - b.etaSigma);
  const withThreshold = pts.filter((p) => p.record.critical!.threshold !== null);
  if (pts.length < 2 || withThreshold.length === 0) return null;
  const c0 = withThreshold[0].record.critical!;
  const threshold = c0.threshold!;
  const k = c0.codimension;
  const lo = pts[0].etaSigma;
  const hi = pts[pts.length - 1].etaSigma;
  // Bands reach halfway to the neighbouring points (half the nearest gap at the ends).
  const band = pts.map((p, i) => {
    const left = i > 0 ? (pts[i - 1].etaSigma + p.etaSigma) / 2 : p.etaSigma - ((pts[1]?.etaSigma ?? p.etaSigma + 1) - p.etaSigma) / 2;
    const right = i < pts.length - 1 ? (p.etaSigma + pts[i + 1].etaSigma) / 2 : p.etaSigma + (p.etaSigma - pts[i - 1].etaSigma) / 2;
    return { x: left, x2: right, regime: p.regime, etaSigma: p.etaSigma, index: p.index };
  });
  const xDomain = [band[0].x, band[band.length - 1].x2];
  const x = { field: 'etaSigma', type: 'quantitative' as const, title: 'ησ', scale: { domain: xDomain, nice: false, zero: false } };
  const thresholdRule = {
    data: { values: [{ etaSigma: threshold, label: `threshold ησ = 4/(k − 2) = ${fmtNum(threshold, 4)}` }] },
    mark: { type: 'rule' as const, strokeDash: [4, 3], color: '#333' },
    encoding: { x, tooltip: [{ field: 'label', type: 'nominal' as const }] },
  };
  const regimeChart = {
    title: `regime (dashed: threshold ησ = ${fmtNum(threshold, 4)})`,
    width: 520,
    height: 40,
    layer: [
      {
        data: { values: band },
        mark: { type: 'rect' as const, opacity: 0.8 },
        encoding: {
          x: { ...x, field: 'x' },
          x2: { field: 'x2' },
          color: { field: 'regime', type: 'nominal' as const, title: 'regime', scale: REGIMES },
          tooltip: [{ field: 'etaSigma', type: 'quantitative' as const }, { field: 'regime', type: 'nominal' as const }],
        },
      },
      thresholdRule,
    ],
  };
  const gapPts = pts.flatMap((p) => {
    const y = logPlottable(p.gap);
    return y === null ? [] : [{ etaSigma: p.etaSigma, gap: y, regime: p.regime, index: p.index }];
  });
  const sd = withThreshold.find((p) => p.record.critical!.slowingDown !== null)?.record.critical!.slowingDown ?? null;
  const curve: { etaSigma: number; predicted: number }[] = [];
  if (sd && k !== null && hi > threshold) {
    const from = Math.max(threshold, lo);
    for (let i = 1; i <= 120; i++) {
      const es = from + ((hi - from) * i) / 120;
      const v = (sd.h * (es * (k - 2) - 4) ** 2) / (16 * es);
      if (v > 0) curve.push({ etaSigma: es, predicted: v });
    }
  }
  const gapLayers: object[] = [];
  if (gapPts.length > 0) {
    gapLayers.push({
      data: { values: gapPts },
      mark: { type: 'point' as const, filled: true, size: 60 },
      encoding: {
        x,
        y: { field: 'gap', type: 'quantitative' as const, title: 'λ₁', scale: { type: 'log' as const } },
        color: { field: 'regime', type: 'nominal' as const, title: 'regime', scale: REGIMES },
        tooltip: [{ field: 'index', type: 'quantitative' as const }, { field: 'gap', type: 'quantitative' as const }],
      },
    });
  }
  if (curve.length > 0) {
    gapLayers.push({
      name: 'slowing_down',
      data: { values: curve },
      mark: { type: 'line' as const, color: '#555', strokeDash: [6, 3] },
      encoding: { x, y: { field: 'predicted', type: 'quantitative' as const, scale: { type: 'log' as const } } },
    });
  }
  const gapChart =
    gapLayers.length > 0
      ? [
          {
            // Where π is not integrable λ₁ is a grid value; the curve is the shape of the slowing down, not a fit.
            title: `λ₁ (points)${curve.length ? ` and h(ησ(k − 2) − 4)²/(16ησ), h = ${fmtNum(sd!.h)} (dashed)` : ''}`,
            width: 520,
            height: 200,
            layer: [...gapLayers, thresholdRule],
          },
        ]
      : [];
  const labelOf = (loc: readonly number[], i: number): string => `${i + 1}: (${loc.map((v) => fmtNum(v, 3)).join(', ')})`;
  const massPts = pts.flatMap((p) => {
    const comps = p.record.critical!.components;
    const total = comps.reduce((a, c) => a + c.piMass, 0);
    return total > 0 ? comps.map((c, i) => ({ etaSigma: p.etaSigma, mass: c.piMass / total, component: labelOf(c.location, i), regime: p.regime })) : [];
  });
  const weights = (withThreshold.find((p) => p.record.critical!.components.some((c) => c.predictedWeight !== null))?.record.critical!.components ?? []).flatMap((c, i) =>
    c.predictedWeight !== null ? [{ weight: c.predictedWeight, component: labelOf(c.location, i) }] : [],
  );
  const compColor = { field: 'component', type: 'nominal' as const, title: 'minimizer' };
  const massChart = {
    title: "π's mass per minimizer's basin (points) and limit weights (dotted)",
    width: 520,
    height: 200,
    layer: [
      {
        data: { values: massPts },
        mark: { type: 'line' as const, point: { filled: true, size: 50 } },
        encoding: {
          x,
          y: { field: 'mass', type: 'quantitative' as const, title: 'mass fraction', scale: { domain: [0, 1] } },
          color: compColor,
          tooltip: [{ field: 'mass', type: 'quantitative' as const }, { field: 'regime', type: 'nominal' as const }],
        },
      },
      ...(weights.length
        ? [
            {
              name: 'limit_weights',
              data: { values: weights },
              mark: { type: 'rule' as const, strokeDash: [2, 2], strokeWidth: 2 },
              encoding: { y: { field: 'weight', type: 'quantitative' as const }, color: compColor },
            },
          ]
        : []),
      thresholdRule,
    ],
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'phase diagram over ησ',
    config: { aria: false },
    vconcat: [regimeChart, ...gapChart, massChart],
    resolve: { scale: { color: 'independent', y: 'independent' } },
  } as TopLevelSpec;
}

/** Writes phase-diagram.svg when the sweep crosses a critical noise; returns its path or null. */
export async function writePhaseDiagram(dir: string, records: readonly SweepRecord[]): Promise<string | null> {
  const spec = phaseSpec(records);
  if (spec === null) return null;
  const file = join(dir, PHASE_FILE);
  writeFileAtomic(file, await renderSvg(spec));
  return file;
}
