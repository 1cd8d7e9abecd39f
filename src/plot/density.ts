/**
 * 1-D figure: the density ρ at several times against the invariant density π, on a linear or a
 * log y axis (the log axis shows the tails, where π's power law and ρ's approach to it live).
 */
import type { TopLevelSpec } from 'vega-lite';
import { BASE_CONFIG, MARK, PLOT_HEIGHT, PLOT_WIDTH, fmtNum } from './common.js';

export interface DensitySnapshot {
  t: number;
  density: Float64Array;
}

export interface DensityFigureInput {
  /** Cell centres (uniform spacing). */
  x: Float64Array;
  /** π normalized on the grid (Σ π h = 1). */
  pi: Float64Array;
  /** ρ at increasing times; each is normalized by its own mass before plotting. */
  snapshots: readonly DensitySnapshot[];
  logScale?: boolean;
  title?: string;
  /** Cells are block-averaged down to at most this many points per curve (default 800). */
  maxPoints?: number;
  /** On a log axis, values below max·logRange are dropped (default 1e-14). */
  logRange?: number;
}

/** Sequential colours (viridis stops) for the snapshots, early to late. */
const SNAPSHOT_COLOURS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];

/** Block averages of v over groups of `k` consecutive cells (the last group may be shorter); always a new array. */
function coarsen(v: Float64Array, k: number): Float64Array {
  if (k <= 1) return v.slice();
  const out = new Float64Array(Math.ceil(v.length / k));
  for (let b = 0; b < out.length; b++) {
    let s = 0;
    const end = Math.min(v.length, (b + 1) * k);
    for (let i = b * k; i < end; i++) s += v[i];
    out[b] = s / (end - b * k);
  }
  return out;
}

function pickColours(n: number): string[] {
  if (n <= 1) return [SNAPSHOT_COLOURS[4]];
  return Array.from({ length: n }, (_, i) => SNAPSHOT_COLOURS[Math.round((i * (SNAPSHOT_COLOURS.length - 1)) / (n - 1))]);
}

/** Series labels, one per snapshot then π, made unique when times print alike. */
export function densitySeriesLabels(snapshots: readonly DensitySnapshot[]): string[] {
  const seen = new Set<string>();
  const labels = snapshots.map((s) => {
    let l = `ρ at t = ${fmtNum(s.t, 4)}`;
    for (let k = 2; seen.has(l); k++) l = `ρ at t = ${fmtNum(s.t, 4)} (${k})`;
    seen.add(l);
    return l;
  });
  return [...labels, 'π'];
}

export function densitySpec(input: DensityFigureInput): TopLevelSpec {
  const { x, pi, snapshots } = input;
  if (pi.length !== x.length) throw new RangeError(`densitySpec: π has ${pi.length} cells but x has ${x.length}`);
  for (const s of snapshots) {
    if (s.density.length !== x.length) throw new RangeError(`densitySpec: ρ at t = ${s.t} has ${s.density.length} cells but x has ${x.length}`);
  }
  const h = x.length > 1 ? x[1] - x[0] : 1;
  const k = Math.max(1, Math.ceil(x.length / (input.maxPoints ?? 800)));
  const xs = coarsen(x, k);
  const labels = densitySeriesLabels(snapshots);
  const curves: Float64Array[] = snapshots.map((s) => {
    let mass = 0;
    for (const v of s.density) mass += v;
    mass *= h;
    const c = coarsen(s.density, k);
    if (mass > 0) for (let i = 0; i < c.length; i++) c[i] /= mass;
    return c;
  });
  curves.push(coarsen(pi, k));
  let max = 0;
  for (const c of curves) for (const v of c) if (v > max) max = v;
  const floor = input.logScale ? max * (input.logRange ?? 1e-14) : -Infinity;
  const values: { x: number; y: number; series: string; kind: 'rho' | 'pi' }[] = [];
  curves.forEach((c, s) => {
    for (let i = 0; i < c.length; i++) {
      const y = c[i];
      if (!Number.isFinite(y) || (input.logScale && !(y > floor))) continue;
      values.push({ x: xs[i], y, series: labels[s], kind: s === snapshots.length ? 'pi' : 'rho' });
    }
  });
  const colours = [...pickColours(snapshots.length), '#000000'];
  return {
    title: input.title ?? `density ρ(t) and invariant density π${input.logScale ? ' (log scale)' : ''}`,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    config: BASE_CONFIG,
    data: { values },
    name: MARK.series,
    mark: { type: 'line', strokeWidth: 1.6, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'x', scale: { domain: [x[0] - h / 2, x[x.length - 1] + h / 2], nice: false } },
      y: {
        field: 'y',
        type: 'quantitative',
        title: input.logScale ? 'density (log)' : 'density',
        scale: input.logScale ? { type: 'log' } : { zero: true },
      },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: labels, range: colours }, sort: labels },
      // A field of its own: sharing 'series' with color would merge the two legends into none.
      strokeDash: { field: 'kind', type: 'nominal', legend: null, scale: { domain: ['rho', 'pi'], range: [[1, 0], [6, 3]] } },
    },
  } as unknown as TopLevelSpec;
}
