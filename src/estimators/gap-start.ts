import type { FvOperator } from '../../solvers/operator.js';
import { Grid } from '../../solvers/grid.js';
import { basinLabels, type BasinSeed } from '../diagnostics/basins.js';
import type { Regime } from '../diagnostics/regime.js';

/**
 * Basins whose indicators enter the start block at most. The slow modes of m wells are close to
 * combinations of the m indicators; beyond a handful of wells the extra vectors make every
 * Rayleigh–Ritz step dearer while the parity block and the solves find the rest anyway.
 */
export const MAX_START_BASINS = 8;

/**
 * Cells per axis of the grid the basins are labelled on. Labelling walks the 3^d neighbours of
 * every cell (~1 s at 512², as much as ten multigrid-CG iterations, more than the start saves),
 * while a start vector needs the basins only to within a few cells: the first solve moves the
 * step of the indicator to the transition layer anyway. On 64² it costs ~1/64 of that.
 */
export const LABEL_CELLS = 64;

/** Fine cell → cell of the grid with at most LABEL_CELLS per axis (blocks of whole cells), and that grid's cell-mean f. */
function coarseLabels(g: Grid, f: Float64Array, seedCells: readonly (readonly number[])[]): { map: Int32Array; label: Int32Array; count: number } {
  const m = g.n.map((nk) => Math.min(nk, LABEL_CELLS));
  const coarse = new Grid(g.lo.map((lo, k) => [lo, g.hi[k]] as [number, number]), m);
  // Per axis, the coarse offset of each fine index; cells are walked in storage order (last axis fastest).
  const offs = g.n.map((nk, k) => Int32Array.from({ length: nk }, (_, ik) => Math.floor((ik * m[k]) / nk) * coarse.strides[k]));
  const map = new Int32Array(g.size);
  const idx = new Array<number>(g.dim).fill(0);
  const last = g.dim - 1;
  const lastOff = offs[last];
  const nLast = g.n[last];
  for (let i = 0; i < g.size; i += nLast) {
    let base = 0;
    for (let k = 0; k < last; k++) base += offs[k][idx[k]];
    for (let t = 0; t < nLast; t++) map[i + t] = base + lastOff[t];
    for (let k = last - 1; k >= 0; k--) {
      if (++idx[k] < g.n[k]) break;
      idx[k] = 0;
    }
  }
  const fc = new Float64Array(coarse.size);
  const cnt = new Float64Array(coarse.size);
  for (let i = 0; i < g.size; i++) {
    fc[map[i]] += f[i];
    cnt[map[i]]++;
  }
  for (let c = 0; c < coarse.size; c++) fc[c] /= cnt[c];
  // Each zero component one basin, as the run labels them (on the coarse cells it covers).
  const seeds: BasinSeed[] = seedCells.map((cells) => ({ cells: [...new Set(cells.map((i) => map[i]))] }));
  const lab = basinLabels(coarse, fc, seeds);
  return { map, label: lab.label, count: lab.basins.length };
}

/**
 * Start vectors for the n-D eigen-solver: √π·1_B for the basins B of attraction of f (steepest
 * descent on the grid, src/diagnostics/basins.ts), the heaviest in π first. For a metastable
 * landscape the generator's slow modes are, up to the transition layers at the passes where √π
 * is tiny, combinations of these, so shift-invert from them converges in one or two steps
 * (the monomial start block needs several: a smooth x·√π is far from the sharp step of a double
 * well's λ₁ mode). Empty with one basin (its indicator is √π itself, the null vector) and in 1-D
 * (bisection there needs no start). `labels`: basin labels already made for this grid (a run's),
 * else they are computed here on a grid of at most LABEL_CELLS per axis with the regime's zero
 * components as seeds, as the run does (none without a regime: on a refined grid the
 * components' cells are another grid's).
 */
export function basinStartVectors(op: FvOperator, regime: Regime | null, labels?: { label: Int32Array; basins: readonly unknown[] }): Float64Array[] {
  const g = op.grid;
  if (g.dim < 2) return [];
  let label: Int32Array;
  let count: number;
  if (labels) {
    label = labels.label;
    count = labels.basins.length;
  } else {
    const c = coarseLabels(g, op.problem.f, regime?.componentCells ?? []);
    label = new Int32Array(g.size);
    for (let i = 0; i < g.size; i++) label[i] = c.label[c.map[i]];
    count = c.count;
  }
  const s = op.sqrtPi;
  const mass = new Float64Array(count);
  for (let i = 0; i < g.size; i++) mass[label[i]] += s[i] * s[i];
  const order = Array.from({ length: count }, (_, b) => b)
    .filter((b) => mass[b] > 0)
    .sort((a, b) => mass[b] - mass[a] || a - b)
    .slice(0, MAX_START_BASINS);
  if (order.length < 2) return [];
  const slot = new Int32Array(count).fill(-1);
  order.forEach((b, j) => (slot[b] = j));
  const out = order.map(() => new Float64Array(g.size));
  for (let i = 0; i < g.size; i++) {
    const j = slot[label[i]];
    if (j >= 0) out[j][i] = s[i];
  }
  return out;
}
