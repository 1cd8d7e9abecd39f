/**
 * Basins of attraction of the gradient flow of f on the grid (issue #17 item 1): every cell is
 * labelled by the minimum that discrete steepest descent over its 3^d neighbours reaches. The
 * labels are a pure function of the grid and the cell values of f, so that other diagnostics
 * (committor target sets, exit rates) can reuse them; the run reports the mass of ρ and of π
 * in each basin (basinReport, BasinMeter).
 */
import type { Grid } from '../../solvers/grid.js';
import type { PointFunction } from '../../solvers/quadrature.js';
import type { Regime } from './regime.js';
import { binAlong, minimizerValleys, positionAlong, valleyCurve, valleyMap, type ValleyMap } from './valley.js';
import type { LandscapeDerivatives } from './zero-set.js';
import { reuseKey, reuseLast } from '../resources/reuse.js';
import { nextCell } from './cell-walk.js';

/** One basin: where its minimum is and how big it is. */
export interface BasinInfo {
  /** 1-based; series.csv column mass_basin_<id>, check quantity basins.mass[<id>]. */
  id: number;
  /**
   * 'minimum': a sink cell or a plateau of equal sinks; 'zero component': a component of {f = 0}
   * (regimeDetails.components); 'valley of minimizers': a 1-D set where f = inf f > 0 (floor).
   */
  kind: BasinKind;
  /** For kind 'zero component': its 1-based index in report.json regimeDetails.components. */
  component: number | null;
  /** The minimum: the lowest sink cell's centre, or the component's refined location. */
  x: number[];
  /** f there (the cell average for a sink cell, f at the refined location for a component). */
  f: number;
  /** Cells whose descent ends in this basin. */
  cells: number;
  /** Sink cells merged into this basin (a plateau or a zero component spanning several cells). */
  sinkCells: number;
}

export type BasinKind = 'minimum' | 'zero component' | 'valley of minimizers';

/** A set of cells that must be one basin of its own (a zero component, a valley of minimizers). */
export interface BasinSeed {
  cells: readonly number[];
  location?: readonly number[];
  f?: number;
  kind?: BasinKind;
  /** 1-based index in regimeDetails.components, when it is one of them. */
  component?: number | null;
}

export interface BasinLabels {
  /** Basin index (0-based into `basins`, i.e. id − 1) of every cell. */
  label: Int32Array;
  basins: BasinInfo[];
}

/** Equal up to the round-off of evaluating f: such neighbours form a plateau (a flat valley floor). */
function sameLevel(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));
}

/** Visits the 3^d − 1 neighbours of cell i (inside the box), with their distance. */
function neighbourOffsets(grid: Grid): { dk: number[]; dist: number }[] {
  const out: { dk: number[]; dist: number }[] = [];
  const total = 3 ** grid.dim;
  for (let m = 0; m < total; m++) {
    const dk: number[] = [];
    let q = 0;
    let r = m;
    for (let k = 0; k < grid.dim; k++) {
      const o = (r % 3) - 1;
      r = Math.floor(r / 3);
      dk.push(o);
      q += (o * grid.h[k]) ** 2;
    }
    if (q > 0) out.push({ dk, dist: Math.sqrt(q) });
  }
  return out;
}

/**
 * The steepest-descent neighbour of every cell that is not a seed (−1: none lower), by
 * basinLabels' rule. Its own function, walking the multi-index incrementally: the pass over every
 * cell × 3^d − 1 neighbours runs once per run, in a function V8 optimizes on its own (inside
 * basinLabels each later loop's new feedback threw the optimized code away), without a division
 * per cell and axis to tell the outer layer.
 */
function steepestDescent(
  grid: Grid,
  fc: Float64Array,
  seedOf: Int32Array,
  flat: Int32Array,
  invDist: Float64Array,
  nbrs: (i: number, visit: (j: number, dist: number) => void) => void,
): Int32Array {
  const n = grid.size;
  const d = grid.dim;
  const sizes = Int32Array.from(grid.n);
  const idx = new Int32Array(d);
  // How many axes are at their first or last cell (all of them at cell 0): the cell is interior when none is.
  let atEdge = d;
  const next = new Int32Array(n).fill(-1);
  const edge = { best: -1, bestSlope: 0, fi: 0 };
  const visitEdge = (j: number, dist: number): void => {
    const fi = edge.fi;
    if (fc[j] >= fi || sameLevel(fc[j], fi)) return;
    const slope = (fi - fc[j]) / dist;
    if (slope > edge.bestSlope || (slope === edge.bestSlope && j < edge.best)) {
      edge.bestSlope = slope;
      edge.best = j;
    }
  };
  for (let i = 0; i < n; i++) {
    if (seedOf[i] < 0) {
      const fi = fc[i];
      if (atEdge === 0) {
        let best = -1;
        let bestSlope = 0;
        for (let o = 0; o < flat.length; o++) {
          const j = i + flat[o];
          const fj = fc[j];
          if (fj >= fi || sameLevel(fj, fi)) continue;
          const slope = (fi - fj) * invDist[o];
          if (slope > bestSlope || (slope === bestSlope && j < best)) {
            bestSlope = slope;
            best = j;
          }
        }
        next[i] = best;
      } else {
        edge.best = -1;
        edge.bestSlope = 0;
        edge.fi = fi;
        nbrs(i, visitEdge);
        next[i] = edge.best;
      }
    }
    // Advance the multi-index (last axis fastest), keeping the count of axes at an end.
    atEdge = nextCell(idx, sizes, atEdge);
  }
  return next;
}

/**
 * Basin index of every cell: seeds their own, sinks `sinkBasin`'s, every other cell that of the
 * cell its descent path ends in (each path walked once, then labelled back along a typed stack:
 * a JS array emptied per cell by `length = 0` gave its storage back each time and cost more than
 * the walk at 512²).
 */
function followDescent(next: Int32Array, seedOf: Int32Array, sinkBasin: (j: number) => number): Int32Array {
  const n = next.length;
  const label = new Int32Array(n).fill(-1);
  const path = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let j = i;
    let depth = 0;
    while (label[j] < 0) {
      if (seedOf[j] >= 0) {
        label[j] = seedOf[j];
        break;
      }
      if (next[j] < 0) {
        label[j] = sinkBasin(j);
        break;
      }
      path[depth++] = j;
      j = next[j];
    }
    const b = label[j];
    for (let t = 0; t < depth; t++) label[path[t]] = b;
  }
  return label;
}

/**
 * Labels every cell by its basin of attraction. Each cell points to the neighbour (of 3^d) with
 * the steepest descent (f_i − f_j)/|x_i − x_j| > 0, ties to the lowest index; a cell without a
 * lower neighbour is a sink. Sinks on a plateau that has a way down drain across it (a shelf is
 * not a minimum); the remaining sinks that touch at equal f merge into one basin (a flat valley
 * floor). `seeds` (zero components of f, in report order) each become one basin, ids 1..n in
 * their order, whatever the descent inside them; the other basins follow, deepest first (ties by
 * the lowest cell index), so the numbering is deterministic.
 */
export function basinLabels(grid: Grid, fc: Float64Array, seeds: readonly BasinSeed[] = []): BasinLabels {
  const n = grid.size;
  const d = grid.dim;
  const offs = neighbourOffsets(grid);
  // Flat offsets and inverse distances, so that interior cells (all but the outer layer) need no bounds checks.
  const flat = Int32Array.from(offs, (o) => o.dk.reduce((a, dk, k) => a + dk * grid.strides[k], 0));
  const invDist = Float64Array.from(offs, (o) => 1 / o.dist);
  const idx = new Int32Array(d);
  const interior = (i: number): boolean => {
    let inside = true;
    for (let k = 0; k < d; k++) {
      const m = Math.floor(i / grid.strides[k]) % grid.n[k];
      idx[k] = m;
      if (m === 0 || m === grid.n[k] - 1) inside = false;
    }
    return inside;
  };
  const nbrs = (i: number, visit: (j: number, dist: number) => void): void => {
    if (interior(i)) {
      for (let o = 0; o < flat.length; o++) visit(i + flat[o], offs[o].dist);
      return;
    }
    for (let o = 0; o < offs.length; o++) {
      let inside = true;
      for (let k = 0; k < d && inside; k++) {
        const m = idx[k] + offs[o].dk[k];
        if (m < 0 || m >= grid.n[k]) inside = false;
      }
      if (inside) visit(i + flat[o], offs[o].dist);
    }
  };
  // Seeds first: their cells are roots labelled with the seed's basin.
  const seedOf = new Int32Array(n).fill(-1);
  seeds.forEach((s, c) => {
    for (const i of s.cells) if (seedOf[i] < 0) seedOf[i] = c;
  });
  const next = steepestDescent(grid, fc, seedOf, flat, invDist, nbrs);
  // Shelves: a sink at the level of a neighbour that drains (or is a seed) drains through it,
  // breadth first from the sinks that touch such a neighbour (sinks are few: only they are visited).
  const drains = new Uint8Array(n);
  const sinkList: number[] = [];
  for (let i = 0; i < n; i++) {
    if (next[i] >= 0 || seedOf[i] >= 0) drains[i] = 1;
    else sinkList.push(i);
  }
  let frontier: number[] = [];
  for (const i of sinkList) {
    let to = -1;
    nbrs(i, (j) => {
      if (drains[j] === 1 && sameLevel(fc[j], fc[i]) && (to < 0 || j < to)) to = j;
    });
    if (to >= 0) {
      next[i] = to;
      frontier.push(i);
    }
  }
  for (const i of frontier) drains[i] = 1;
  while (frontier.length > 0) {
    const grown: number[] = [];
    for (const i of frontier) {
      nbrs(i, (j) => {
        if (drains[j] === 0 && sameLevel(fc[j], fc[i])) {
          drains[j] = 1;
          next[j] = i;
          grown.push(j);
        }
      });
    }
    grown.sort((a, b) => a - b);
    frontier = grown;
  }
  // The remaining sinks: plateaus of equal f, merged by union–find over 3^d neighbours.
  const parent = new Int32Array(n).fill(-1);
  const find = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r];
    while (parent[i] !== r) {
      const up = parent[i];
      parent[i] = r;
      i = up;
    }
    return r;
  };
  const sinks: number[] = [];
  for (let i = 0; i < n; i++) {
    if (drains[i] === 0) {
      parent[i] = i;
      sinks.push(i);
    }
  }
  for (const i of sinks) {
    nbrs(i, (j) => {
      if (parent[j] >= 0 && sameLevel(fc[i], fc[j])) {
        const a = find(i);
        const b = find(j);
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    });
  }
  // Basins: seeds in their order, then plateaus by depth (lowest cell, ties by index).
  const basins: BasinInfo[] = seeds.map((s, c) => {
    let low = s.cells[0] ?? 0;
    for (const i of s.cells) if (fc[i] < fc[low] || (fc[i] === fc[low] && i < low)) low = i;
    return { id: c + 1, kind: s.kind ?? 'zero component', component: s.component === undefined ? c + 1 : s.component, x: s.location ? [...s.location] : grid.centre(low), f: s.f ?? fc[low], cells: 0, sinkCells: s.cells.length };
  });
  const rootBasin = new Map<number, number>();
  const plateaus = new Map<number, { low: number; count: number }>();
  for (const i of sinks) {
    const r = find(i);
    const p = plateaus.get(r);
    if (!p) plateaus.set(r, { low: i, count: 1 });
    else {
      p.count++;
      if (fc[i] < fc[p.low]) p.low = i;
    }
  }
  const order = [...plateaus.entries()].sort((a, b) => fc[a[1].low] - fc[b[1].low] || a[1].low - b[1].low);
  for (const [r, p] of order) {
    rootBasin.set(r, basins.length);
    basins.push({ id: basins.length + 1, kind: 'minimum', component: null, x: grid.centre(p.low), f: fc[p.low], cells: 0, sinkCells: p.count });
  }
  const label = followDescent(next, seedOf, (j) => rootBasin.get(find(j))!);
  for (let i = 0; i < n; i++) basins[label[i]].cells++;
  return { label, basins };
}

/**
 * basinLabels, kept for the next run of this process when its grid, f and seeds are the same (a
 * sweep over ησ: the basins of f do not change; src/resources/reuse.ts).
 */
export function reuseBasinLabels(grid: Grid, fc: Float64Array, seeds: readonly BasinSeed[]): BasinLabels {
  const key = reuseKey([grid.lo, grid.hi, grid.n, seeds]);
  return reuseLast('basin-labels', grid.size, key, [fc], () => basinLabels(grid, fc, seeds), (b) => ({ label: b.label.slice(), basins: structuredClone(b.basins) }));
}

/** Sum of a cell field per basin, times the cell volume (ρ: mass per basin). */
export function massPerBasin(label: Int32Array, count: number, field: Float64Array, cellVolume: number): number[] {
  const m = new Array<number>(count).fill(0);
  for (let i = 0; i < label.length; i++) m[label[i]] += field[i];
  return m.map((v) => v * cellVolume);
}

// ---------------------------------------------------------------------------------------------
// What a run reports: masses per basin at every report time, the valley marginal at the end.

/** Basins reported one by one; further ones (a rugged landscape) are summed into the last column's note. */
export const MAX_REPORTED_BASINS = 32;

/** A valley's marginal in report.json (`basins.valleys`), or why there is none. */
export interface ValleyReport {
  /** Id of the valley's basin. */
  basin: number;
  /** 1-based index in regimeDetails.components, null for a valley of minimizers at f = inf f > 0. */
  component: number | null;
  /** Why there is no marginal (a loop or branches): then only the basin mass describes the valley. */
  note?: string;
  /** Arc length of the curve, its ends and a few of its points (for plotting). */
  length?: number;
  ends?: [number[], number[]];
  /** Bin centres along the valley (0 … length) and the bin width. */
  binCentres?: number[];
  binWidth?: number;
  /** Final ρ's mass in each bin (fractions of the total mass: they sum to the basin's mass). */
  finalMass?: number[];
  /** π's, when π is integrable (regime converging); else null. */
  piMass?: number[] | null;
  /** Mean and standard deviation of the arc-length position within the basin: final ρ and π. */
  finalMean?: number | null;
  finalSpread?: number | null;
  piMean?: number | null;
  piSpread?: number | null;
}

/** report.json `basins` (docs/outputs.md). */
export interface BasinsReport {
  method: string;
  /** Each basin with its final mass and π's mass (null when π is not integrable), fractions of the total. */
  basins: (BasinInfo & { finalMass: number; piMass: number | null })[];
  /** Basins found beyond MAX_REPORTED_BASINS (their masses are not reported). */
  unreported: number;
  valleys: ValleyReport[];
  notes: string[];
}

/** The per-report-time measurement: masses per basin and the valleys' mean position and spread. */
export interface BasinPoint {
  massBasin: number[];
  valleyMean?: (number | null)[];
  valleySpread?: (number | null)[];
}

interface SetupLike {
  grid: Grid;
  problem: { f: Float64Array; pi(): Float64Array };
  regime: Regime;
  landscape: { evalPoints: PointFunction; compiled?: unknown };
}

/**
 * The zero components of f as basin seeds (ids 1..n in report order), the one definition shared by
 * the run's basins and the critical limit's π masses (src/estimators/critical-limit.ts), so the
 * two report the same numbers.
 */
export function zeroComponentSeeds(comps: readonly { location: readonly number[] }[], cellsOf: readonly (readonly number[])[]): BasinSeed[] {
  return comps.map((c, k) => ({ cells: cellsOf[k] ?? [], location: c.location, f: 0, kind: 'zero component', component: k + 1 }));
}

/** Labels and valley maps of a run, built once at set-up; `measure` is called at every report time. */
export class BasinMeter {
  readonly labels: BasinLabels;
  readonly valleys: { basin: number; component: number | null; map: ValleyMap | null; note?: string }[];
  private readonly grid: Grid;
  private readonly reported: number;

  constructor(setup: SetupLike) {
    const { grid, regime, problem } = setup;
    this.grid = grid;
    const comps = regime.components ?? [];
    const cellsOf = regime.componentCells ?? [];
    const seeds = zeroComponentSeeds(comps, cellsOf);
    const valleySeeds: { seed: number; component: number | null }[] = comps.flatMap((c, k) => (c.type === 'valley' && c.zeroSetDimension === 1 && grid.dim >= 2 ? [{ seed: k, component: k + 1 }] : []));
    if (comps.length === 0 && grid.dim >= 2) {
      const derivs = setup.landscape.compiled as LandscapeDerivatives | undefined;
      const hasDerivs = derivs !== undefined && typeof derivs.at === 'function' && typeof derivs.gradient === 'function';
      for (const v of minimizerValleys(grid, setup.landscape.evalPoints, problem.f, regime.infF, hasDerivs ? derivs : undefined, regime.argminF)) {
        valleySeeds.push({ seed: seeds.length, component: null });
        seeds.push({ cells: v.cells, location: v.location, f: regime.infF, kind: 'valley of minimizers', component: null });
      }
    }
    this.labels = reuseBasinLabels(grid, problem.f, seeds);
    this.reported = Math.min(this.labels.basins.length, MAX_REPORTED_BASINS);
    this.valleys = valleySeeds.map(({ seed, component }) => {
      const curve = valleyCurve(grid, seeds[seed].cells, problem.f);
      if ('reason' in curve) return { basin: seed + 1, component, map: null, note: curve.reason };
      return { basin: seed + 1, component, map: valleyMap(grid, curve, this.labels.label, seed) };
    });
  }

  measure(rho: Float64Array): BasinPoint {
    const all = massPerBasin(this.labels.label, this.labels.basins.length, rho, this.grid.cellVolume);
    let total = 0;
    for (const m of all) total += m;
    const inv = total > 0 ? 1 / total : 0;
    const point: BasinPoint = { massBasin: all.slice(0, this.reported).map((m) => m * inv) };
    if (this.valleys.length > 0) {
      const pos = this.valleys.map((v) => (v.map ? positionAlong(v.map, rho) : { mean: null, spread: null }));
      point.valleyMean = pos.map((p) => p.mean);
      point.valleySpread = pos.map((p) => p.spread);
    }
    return point;
  }

  /** report.json `basins`: definitions, final and π masses, the valleys' marginals. */
  report(rho: Float64Array, piIntegrable: boolean, pi: () => Float64Array): BasinsReport {
    const vol = this.grid.cellVolume;
    const fracs = (field: Float64Array): number[] => {
      const m = massPerBasin(this.labels.label, this.labels.basins.length, field, vol);
      const t = m.reduce((a, b) => a + b, 0);
      return m.map((v) => (t > 0 ? v / t : 0));
    };
    const finalM = fracs(rho);
    const piField = piIntegrable ? pi() : null;
    const piM = piField ? fracs(piField) : null;
    const totalOf = (field: Float64Array): number => {
      let t = 0;
      for (const v of field) t += v;
      return t * vol;
    };
    const notes: string[] = [];
    const n = this.labels.basins.length;
    if (n > this.reported) notes.push(`basins: ${n} basins on this grid; the ${this.reported} deepest-numbered are reported (ids 1..${this.reported}), the other ${n - this.reported} hold ${(1 - finalM.slice(0, this.reported).reduce((a, b) => a + b, 0)).toPrecision(3)} of the final mass`);
    const valleys: ValleyReport[] = this.valleys.map((v) => {
      if (!v.map) {
        notes.push(`basins: valley of basin ${v.basin}: ${v.note}; no marginal along it, its basin mass stands for it`);
        return { basin: v.basin, component: v.component, note: v.note };
      }
      const tr = totalOf(rho);
      const finalMass = binAlong(v.map, rho, vol).map((m) => m / tr);
      const pos = positionAlong(v.map, rho);
      let piMass: number[] | null = null;
      let pp: { mean: number | null; spread: number | null } = { mean: null, spread: null };
      if (piField) {
        const tp = totalOf(piField);
        piMass = binAlong(v.map, piField, vol).map((m) => m / tp);
        pp = positionAlong(v.map, piField);
      }
      const pts = v.map.curve.points;
      return {
        basin: v.basin,
        component: v.component,
        length: v.map.curve.length,
        ends: [pts[0].slice(), pts[pts.length - 1].slice()],
        binCentres: v.map.binCentres,
        binWidth: v.map.binWidth,
        finalMass,
        piMass,
        finalMean: pos.mean,
        finalSpread: pos.spread,
        piMean: pp.mean,
        piSpread: pp.spread,
      };
    });
    return {
      method: 'discrete steepest descent of the cell averages of f over the 3^d neighbours (ties to the lowest index); equal-f sinks merge; each zero component (or valley of minimizers) is one basin',
      basins: this.labels.basins.slice(0, this.reported).map((b, k) => ({ ...b, finalMass: finalM[k], piMass: piM ? piM[k] : null })),
      unreported: n - this.reported,
      valleys,
      notes,
    };
  }
}

/** Adds `basins` and its notes to a run report (the one call in runScenario). */
export function attachBasins(report: { basins?: BasinsReport; notes: string[]; regime: string }, meter: BasinMeter, rho: Float64Array, pi: () => Float64Array): void {
  const b = meter.report(rho, report.regime === 'converging', pi);
  report.basins = b;
  report.notes.push(...b.notes);
}

/** series.csv columns massBasin_<id> (basin id, from 1), then valleyMean_<k> and valleySpread_<k> per valley (k: its place in basins.valleys, from 1). */
export function basinSeriesColumns(series: readonly { massBasin?: number[]; valleyMean?: (number | null)[]; valleySpread?: (number | null)[] }[]): {
  columns: string[];
  rows: (number | null)[][];
} {
  // The widest point: a run resumed from a checkpoint written before basins existed has early points without them.
  let nb = 0;
  let nv = 0;
  for (const p of series) {
    nb = Math.max(nb, p.massBasin?.length ?? 0);
    nv = Math.max(nv, p.valleyMean?.length ?? 0);
  }
  const columns = [...Array.from({ length: nb }, (_, k) => `massBasin_${k + 1}`), ...Array.from({ length: nv }, (_, k) => [`valleyMean_${k + 1}`, `valleySpread_${k + 1}`]).flat()];
  const rows = series.map((p) => [
    ...Array.from({ length: nb }, (_, k) => p.massBasin?.[k] ?? null),
    ...Array.from({ length: nv }, (_, k) => [p.valleyMean?.[k] ?? null, p.valleySpread?.[k] ?? null]).flat(),
  ]);
  return { columns, rows };
}

const short = (v: number, p = 3): string => (Math.abs(v) < 1e-12 ? '0' : String(+v.toPrecision(p)));
const at = (x: readonly number[]): string => `(${x.map((v) => short(v, 4)).join(', ')})`;

/** The text summary's lines: "mass by basin: …" (two or more basins) and one line per valley with a marginal. */
export function basinSummaryLines(b: BasinsReport | undefined): string[] {
  if (!b || b.basins.length === 0) return [];
  const parts = b.basins.map((x) => `${x.id} at ${at(x.x)} ${short(x.finalMass)}${x.piMass !== null ? ` (π ${short(x.piMass)})` : ''}`);
  // One basin holds all the mass: nothing to say beyond its valley, if any.
  const lines = b.basins.length >= 2 ? [`mass by basin: ${parts.join(', ')}${b.unreported > 0 ? `; ${b.unreported} more not reported` : ''}`] : [];
  for (const v of b.valleys) {
    if (v.note) continue;
    const pi = v.piMean !== null && v.piMean !== undefined ? ` (π ${short(v.piMean)} ± ${short(v.piSpread ?? NaN)})` : '';
    lines.push(`${lines.length > 0 ? '  ' : ''}valley of basin ${v.basin} from ${at(v.ends![0])} to ${at(v.ends![1])}, length ${short(v.length!)}: mean position along it ${short(v.finalMean ?? NaN)} ± ${short(v.finalSpread ?? NaN)}${pi}`);
  }
  return lines;
}
