/**
 * The marginal of ρ along a valley of minimizers (issue #17 item 1): a 1-D manifold of minima
 * in 2-D/3-D (a zero component of type 'valley', or in the converging regime the valley of
 * minimizers of f − inf f) is parametrized by arc length along a shortest path through its
 * cells; every cell of the valley's basin goes to the nearest point of that curve, and masses
 * are summed in bins of arc length. Loops and branches are not simple curves: then there is no
 * marginal, only a note (the basin mass still says how much mass the valley holds).
 */
import type { Grid } from '../../solvers/grid.js';
import type { PointFunction } from '../../solvers/quadrature.js';
import { symmetricEigen } from '../../solvers/dense.js';
import { findZeroComponents, type LandscapeDerivatives } from './zero-set.js';

/** Centroid passes that move the shortest path onto the band's mid-line (a diagonal stretch of the path needs a few). */
const CENTROID_PASSES = 8;

export interface ValleyCurve {
  /** Points of the curve (smoothed cell centres of the path), from one end to the other. */
  points: number[][];
  /** Arc length at each point (0 at the first). */
  s: number[];
  length: number;
}

/** Arc-length coordinate of every cell of the valley's basin, and the bins it is summed in. */
export interface ValleyMap {
  curve: ValleyCurve;
  /** Cells of the basin and their arc-length coordinate (position of the nearest curve point). */
  cells: Int32Array;
  s: Float64Array;
  /** Bin centres (0, w, 2w, …, length) and width w. */
  binCentres: number[];
  binWidth: number;
}

/** Euclidean shortest paths through a cell set (3^d adjacency). */
function dijkstra(grid: Grid, inSet: Uint8Array, from: number, cost?: (i: number, j: number) => number): { dist: Float64Array; prev: Int32Array } {
  const n = grid.size;
  const dist = new Float64Array(n).fill(Infinity);
  const prev = new Int32Array(n).fill(-1);
  dist[from] = 0;
  // Binary heap of [distance, cell].
  const heap: [number, number][] = [[0, from]];
  const push = (e: [number, number]): void => {
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p][0] < heap[i][0] || (heap[p][0] === heap[i][0] && heap[p][1] <= heap[i][1])) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  };
  const pop = (): [number, number] => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        const less = (a: number, b: number): boolean => heap[a][0] < heap[b][0] || (heap[a][0] === heap[b][0] && heap[a][1] < heap[b][1]);
        if (l < heap.length && less(l, m)) m = l;
        if (r < heap.length && less(r, m)) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    }
    return top;
  };
  const idx = new Array<number>(grid.dim);
  while (heap.length > 0) {
    const [di, i] = pop();
    if (di > dist[i]) continue;
    for (let k = 0; k < grid.dim; k++) idx[k] = Math.floor(i / grid.strides[k]) % grid.n[k];
    const total = 3 ** grid.dim;
    for (let m = 0; m < total; m++) {
      let j = i;
      let q = 0;
      let r = m;
      let ok = true;
      for (let k = 0; k < grid.dim; k++) {
        const o = (r % 3) - 1;
        r = Math.floor(r / 3);
        const c = idx[k] + o;
        if (c < 0 || c >= grid.n[k]) ok = false;
        j += o * grid.strides[k];
        q += (o * grid.h[k]) ** 2;
      }
      if (!ok || q === 0 || inSet[j] === 0) continue;
      const nd = di + Math.sqrt(q) * (cost ? cost(i, j) : 1);
      if (nd < dist[j]) {
        dist[j] = nd;
        prev[j] = i;
        push([nd, j]);
      }
    }
  }
  return { dist, prev };
}

function farthest(cells: readonly number[], dist: Float64Array): number {
  let best = cells[0];
  for (const c of cells) if (dist[c] > dist[best] || (dist[c] === dist[best] && c < best)) best = c;
  return best;
}

/** Distance from p to segment ab and the fraction along it of the nearest point. */
function toSegment(p: readonly number[], a: readonly number[], b: readonly number[]): { d: number; u: number } {
  let ab2 = 0;
  let dot = 0;
  for (let k = 0; k < p.length; k++) {
    ab2 += (b[k] - a[k]) ** 2;
    dot += (p[k] - a[k]) * (b[k] - a[k]);
  }
  const u = ab2 > 0 ? Math.min(1, Math.max(0, dot / ab2)) : 0;
  let q = 0;
  for (let k = 0; k < p.length; k++) q += (p[k] - a[k] - u * (b[k] - a[k])) ** 2;
  return { d: Math.sqrt(q), u };
}

/** Nearest point of the curve to p: its arc length and distance (brute force over the segments). */
export function projectOnCurve(curve: ValleyCurve, p: readonly number[]): { s: number; d: number } {
  const pts = curve.points;
  if (pts.length === 1) return { s: 0, d: Math.hypot(...p.map((v, k) => v - pts[0][k])) };
  let best = { s: 0, d: Infinity };
  for (let m = 0; m + 1 < pts.length; m++) {
    const { d, u } = toSegment(p, pts[m], pts[m + 1]);
    if (d < best.d) best = { s: curve.s[m] + u * (curve.s[m + 1] - curve.s[m]), d };
  }
  return best;
}

/**
 * The curve through a valley's cells: the shortest path between the two ends found by a double
 * sweep (farthest cell from any cell, then farthest from that), moved CENTROID_PASSES times to the centroids of
 * the cells nearest each of its points and smoothed by a 3-point average.
 * Returns a reason instead when the cells are not a simple open curve: a cell farther from the
 * path than the band's width allows (a loop's other half, a branch).
 */
export function valleyCurve(grid: Grid, cellsIn: readonly number[], fc?: Float64Array): ValleyCurve | { reason: string } {
  const cells = fc ? valleyFloorCells(grid, fc, cellsIn) : cellsIn;
  if (cells.length < 2) return { reason: 'the valley covers fewer than 2 cells on this grid' };
  const inSet = new Uint8Array(grid.size);
  for (const c of cells) inSet[c] = 1;
  const first = dijkstra(grid, inSet, Math.min(...cells));
  if (cells.some((c) => first.dist[c] === Infinity)) return { reason: "the valley's cells are not connected on this grid" };
  const a0 = farthest(cells, first.dist);
  const fromA0 = dijkstra(grid, inSet, a0);
  const b0 = farthest(cells, fromA0.dist);
  // The sweep's ends are corners of the band; the lowest cell at each end lies on its floor.
  const reach = 2 * Math.sqrt(grid.dim) * Math.max(...grid.h);
  const fromB0 = dijkstra(grid, inSet, b0);
  // Lowest f within a reach of the far end (ties to the lower index: both ends then fall on the
  // same side of a band whose floor is two cells wide, and the floor path runs straight).
  const lowestWhere = (from: Float64Array, far: number): number => {
    if (!fc) return far;
    let best = -1;
    for (const c of cells) {
      if (!(from[c] >= from[far] - reach)) continue;
      if (best < 0 || fc[c] < fc[best] || (fc[c] === fc[best] && c < best)) best = c;
    }
    return best < 0 ? far : best;
  };
  const a = lowestWhere(fromB0.dist, a0);
  const b = lowestWhere(fromA0.dist, b0);
  // Along the floor: steps cost more where f is higher across the band.
  let lo = Infinity;
  let hi = -Infinity;
  if (fc) for (const c of cells) (lo = Math.min(lo, fc[c])), (hi = Math.max(hi, fc[c]));
  const band = hi - lo;
  const cost = fc && band > 0 ? (i: number, j: number) => 1 + (fc[i] + fc[j] - 2 * lo) / band : undefined;
  const fromA = dijkstra(grid, inSet, a, cost);
  const path: number[] = [];
  for (let c = b; c >= 0; c = fromA.prev[c]) path.push(c);
  path.reverse();
  let points = path.map((c) => grid.centre(c));
  // A simple open curve: every cell of the valley near the floor path (the band's width allows
  // a few cells). A loop's other half or a branch lies far from it.
  {
    const raw: ValleyCurve = { points, s: [0], length: 0 };
    for (let m = 1; m < points.length; m++) raw.s.push(raw.s[m - 1] + Math.hypot(...points[m].map((v, k) => v - points[m - 1][k])));
    raw.length = raw.s[raw.s.length - 1];
    const allowed = Math.max(2 * reach, 0.15 * raw.length);
    let worst = 0;
    for (const c of cells) worst = Math.max(worst, projectOnCurve(raw, grid.centre(c)).d);
    if (worst > allowed) {
      return {
        reason: `the valley is not a simple open curve on this grid (a closed loop or branches: some of its cells lie ${+worst.toPrecision(3)} from the longest path along its floor, ${+raw.length.toPrecision(3)} long)`,
      };
    }
  }
  // The shortest path hugs one side of a band several cells wide and runs corner to corner; the
  // centroids of the cells nearest each of its points lie on the band's mid-line.
  const centres = cells.map((c) => grid.centre(c));
  for (let pass = 0; pass < CENTROID_PASSES; pass++) {
    const sum = points.map(() => new Array<number>(grid.dim).fill(0));
    const count = new Array<number>(points.length).fill(0);
    for (const p of centres) {
      let best = 0;
      let bestD = Infinity;
      points.forEach((q, m) => {
        let d = 0;
        for (let k = 0; k < grid.dim; k++) d += (p[k] - q[k]) ** 2;
        if (d < bestD) {
          bestD = d;
          best = m;
        }
      });
      count[best]++;
      for (let k = 0; k < grid.dim; k++) sum[best][k] += p[k];
    }
    const moved = points.map((q, m) => (count[m] > 0 ? sum[m].map((v) => v / count[m]) : q));
    points = moved.map((p, m) => (m === 0 || m === moved.length - 1 ? p : p.map((v, k) => (moved[m - 1][k] + 2 * v + moved[m + 1][k]) / 4)));
  }
  // The ends' centroids lean to the corner the path started from: continue the mid-line instead.
  const last = points.length - 1;
  if (last >= 3) {
    points[0] = points[1].map((v, k) => 2 * v - points[2][k]);
    points[last] = points[last - 1].map((v, k) => 2 * v - points[last - 2][k]);
  }
  // Stretched along the end segments until every cell of the valley projects inside the curve (the
  // floor path may stop a cell or two short of the valley's ends, where f rises along it).
  if (points.length >= 2) {
    for (const end of [0, points.length - 1]) {
      const p = points[end];
      const q = points[end === 0 ? 1 : end - 1];
      const dir = p.map((v, k) => v - q[k]);
      const len = Math.hypot(...dir);
      if (!(len > 0)) continue;
      let beyond = 0;
      for (const c of centres) {
        let dot = 0;
        for (let k = 0; k < grid.dim; k++) dot += (c[k] - p[k]) * dir[k];
        beyond = Math.max(beyond, dot / len);
      }
      // Not beyond the box: a valley that leaves it ends at the wall.
      let t = beyond / len;
      for (let k = 0; k < grid.dim; k++) {
        if (dir[k] > 0) t = Math.min(t, (grid.hi[k] - p[k]) / dir[k]);
        if (dir[k] < 0) t = Math.min(t, (grid.lo[k] - p[k]) / dir[k]);
      }
      points[end] = p.map((v, k) => v + Math.max(0, t) * dir[k]);
    }
  }
  // Oriented from the end with the smaller coordinates (x first), so that s grows with x along a valley in x.
  const pa = points[0];
  const pb = points[points.length - 1];
  const firstDiff = pa.findIndex((v, k) => Math.abs(v - pb[k]) > 1e-12 * (grid.hi[k] - grid.lo[k]));
  if (firstDiff >= 0 && pa[firstDiff] > pb[firstDiff]) points.reverse();
  const s = [0];
  for (let m = 1; m < points.length; m++) s.push(s[m - 1] + Math.hypot(...points[m].map((v, k) => v - points[m - 1][k])));
  const curve: ValleyCurve = { points, s, length: s[s.length - 1] };
  return curve;
}

/**
 * The floor of a valley: those of its cells nearest the valley line, and the like cells connected
 * to them (3^d adjacency). The zero-set search hands over a band several cells wide (every cell
 * within its reach of the valley), whose shortest path wanders across it; the one or two rows
 * nearest the line give a curve on the line at any offset. Falls back to the given cells.
 *
 * A valley through cell centres (an odd cell count across it) puts its row of cells at a strict
 * minimum of the cell values across the valley, where the centred difference is 0, so the
 * zero-set search's test (value ≤ reach × |gradient|) misses the row and the component keeps only
 * its home cell. Here each axis gets a quadratic model through the cell and its two neighbours,
 * v + g t + c t²/2: its minimum, less the cell-averaging offset c h²/24 of a parabola, is the floor
 * value across the valley at t* = −g/c, exact for f = a(t − t₀)² + m at any offset t₀. A cell is on
 * the floor when some axis puts t* within 3/4 of a cell (the one or two rows nearest the valley,
 * whatever the offset) and that floor value is the valley's own, up to a quarter of the cell's
 * height above it (round-off and the higher orders of f are far below that).
 */
export function valleyFloorCells(grid: Grid, fc: Float64Array, cells: readonly number[]): number[] {
  if (cells.length === 0) return [];
  const d = grid.dim;
  const idx = new Array<number>(d);
  const floorAt = (i: number): { value: number; onFloor: (floor: number) => boolean } => {
    for (let k = 0; k < d; k++) idx[k] = Math.floor(i / grid.strides[k]) % grid.n[k];
    const v = fc[i];
    const models: { m: number }[] = [];
    for (let k = 0; k < d; k++) {
      if (idx[k] === 0 || idx[k] === grid.n[k] - 1) continue;
      const s = grid.strides[k];
      const h = grid.h[k];
      const g = (fc[i + s] - fc[i - s]) / (2 * h);
      const c = (fc[i + s] + fc[i - s] - 2 * v) / (h * h);
      if (!(c > 0) || Math.abs(g / c) > 0.75 * h) continue;
      models.push({ m: v - (g * g) / (2 * c) - (c * h * h) / 24 });
    }
    const value = Math.min(v, ...models.map((q) => q.m));
    return { value, onFloor: (floor) => v - floor <= 0 || models.some((q) => q.m - floor <= 0.25 * (v - floor)) };
  };
  // The valley's floor: the lowest modelled value over its own cells (they lie on it).
  let floor = Infinity;
  for (const c of cells) floor = Math.min(floor, floorAt(c).value);
  if (!Number.isFinite(floor)) return cells.slice();
  const inSet = new Uint8Array(grid.size);
  const seen = new Uint8Array(grid.size);
  const stack: number[] = [];
  for (const c of cells) {
    seen[c] = 1;
    if (!floorAt(c).onFloor(floor)) continue;
    inSet[c] = 1;
    stack.push(c);
  }
  const total = 3 ** d;
  while (stack.length > 0) {
    const i = stack.pop() as number;
    for (let k = 0; k < d; k++) idx[k] = Math.floor(i / grid.strides[k]) % grid.n[k];
    const base = idx.slice();
    for (let m = 0; m < total; m++) {
      let j = i;
      let r = m;
      let ok = true;
      for (let k = 0; k < d; k++) {
        const o = (r % 3) - 1;
        r = Math.floor(r / 3);
        const c = base[k] + o;
        if (c < 0 || c >= grid.n[k]) ok = false;
        j += o * grid.strides[k];
      }
      if (!ok || seen[j]) continue;
      seen[j] = 1;
      if (floorAt(j).onFloor(floor)) {
        inSet[j] = 1;
        stack.push(j);
      }
    }
  }
  const out: number[] = [];
  for (let i = 0; i < grid.size; i++) if (inSet[i]) out.push(i);
  // Where the line runs diagonal to every axis (a ring), no axis model may hold a cell and the
  // floor breaks into pieces: the given band is then the better valley.
  if (out.length < 2 || !connected(grid, inSet, out[0], out.length)) return cells.slice();
  return out;
}

/** Whether the `count` cells of `inSet` are one set under 3^d adjacency. */
function connected(grid: Grid, inSet: Uint8Array, from: number, count: number): boolean {
  return dijkstra(grid, inSet, from).dist.reduce((n, d, i) => n + (inSet[i] && d < Infinity ? 1 : 0), 0) === count;
}

/** Nearest point of the curve to p among the segments touching points m − 2 … m + 2. */
function projectNear(curve: ValleyCurve, p: readonly number[], m: number): { s: number; d: number } {
  const pts = curve.points;
  if (pts.length === 1) return { s: 0, d: Math.hypot(...p.map((v, k) => v - pts[0][k])) };
  let best = { s: 0, d: Infinity };
  for (let j = Math.max(0, m - 2); j < Math.min(pts.length - 1, m + 2); j++) {
    const { d, u } = toSegment(p, pts[j], pts[j + 1]);
    if (d < best.d) best = { s: curve.s[j] + u * (curve.s[j + 1] - curve.s[j]), d };
  }
  return best;
}

/**
 * Arc-length coordinates of the cells with `label[i] === basin`: each goes to the nearest point of
 * the curve. A breadth-first search through the basin from the cells holding the curve's points
 * gives each cell a nearby curve point; the projection is onto the segments around it (cells the
 * search does not reach are projected onto the whole curve). Cost: the basin's cells × a few
 * segments, not × the curve's length.
 */
export function valleyMap(grid: Grid, curve: ValleyCurve, label: Int32Array, basin: number): ValleyMap {
  const cells: number[] = [];
  for (let i = 0; i < grid.size; i++) if (label[i] === basin) cells.push(i);
  const near = new Int32Array(grid.size).fill(-1);
  let frontier: number[] = [];
  curve.points.forEach((p, m) => {
    let c = 0;
    for (let k = 0; k < grid.dim; k++) c += Math.min(grid.n[k] - 1, Math.max(0, Math.floor((p[k] - grid.lo[k]) / grid.h[k]))) * grid.strides[k];
    if (label[c] === basin && near[c] < 0) {
      near[c] = m;
      frontier.push(c);
    }
  });
  const idx = new Array<number>(grid.dim);
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const i of frontier) {
      for (let k = 0; k < grid.dim; k++) idx[k] = Math.floor(i / grid.strides[k]) % grid.n[k];
      for (let k = 0; k < grid.dim; k++) {
        for (const o of [-1, 1]) {
          const c = idx[k] + o;
          if (c < 0 || c >= grid.n[k]) continue;
          const j = i + o * grid.strides[k];
          if (near[j] >= 0 || label[j] !== basin) continue;
          near[j] = near[i];
          next.push(j);
        }
      }
    }
    frontier = next;
  }
  const s = new Float64Array(cells.length);
  cells.forEach((c, m) => {
    const p = grid.centre(c);
    // The search's curve point is near, not always nearest: refine over its neighbourhood, and
    // over the whole curve when the cell is farther from it than from the curve's ends.
    let pr = near[c] >= 0 ? projectNear(curve, p, near[c]) : projectOnCurve(curve, p);
    if (near[c] >= 0) {
      const ends = [curve.points[0], curve.points[curve.points.length - 1]].map((q) => Math.hypot(...p.map((v, k) => v - q[k])));
      if (pr.d > Math.min(...ends)) pr = projectOnCurve(curve, p);
    }
    s[m] = pr.s;
  });
  const hAlong = Math.min(...grid.h);
  const nBins = Math.max(1, Math.round(curve.length / hAlong)) + 1;
  const binWidth = curve.length / (nBins - 1 || 1);
  return { curve, cells: Int32Array.from(cells), s, binCentres: Array.from({ length: nBins }, (_, k) => k * binWidth), binWidth };
}

/** Mass of a cell field (times the cell volume) in each arc-length bin. */
export function binAlong(map: ValleyMap, field: Float64Array, cellVolume: number): number[] {
  const out = new Array<number>(map.binCentres.length).fill(0);
  const last = out.length - 1;
  for (let m = 0; m < map.cells.length; m++) {
    const k = map.binWidth > 0 ? Math.min(last, Math.max(0, Math.round(map.s[m] / map.binWidth))) : 0;
    out[k] += field[map.cells[m]] * cellVolume;
  }
  return out;
}

/** Mean and standard deviation of the arc-length position under the field restricted to the basin. */
export function positionAlong(map: ValleyMap, field: Float64Array): { mean: number | null; spread: number | null } {
  let m0 = 0;
  let m1 = 0;
  for (let m = 0; m < map.cells.length; m++) {
    const v = Math.max(0, field[map.cells[m]]);
    m0 += v;
    m1 += v * map.s[m];
  }
  if (!(m0 > 0)) return { mean: null, spread: null };
  const mean = m1 / m0;
  let m2 = 0;
  for (let m = 0; m < map.cells.length; m++) m2 += Math.max(0, field[map.cells[m]]) * (map.s[m] - mean) ** 2;
  return { mean, spread: Math.sqrt(m2 / m0) };
}

/** A valley of minimizers: its cells and, when it is a zero component of the report, its index (0-based). */
export interface ValleyCells {
  cells: number[];
  location: number[];
  component: number | null;
}

/**
 * Valleys of minimizers (1-D zero sets of f − inf f) when f > 0 on the box (a floor, or a
 * positive minimum): the zero components of the regime do not see them, so the zero-set search
 * runs on the shifted landscape. Only 1-D valleys in 2-D/3-D are returned.
 */
export function minimizerValleys(grid: Grid, f: PointFunction, fc: Float64Array, infF: number, derivs?: LandscapeDerivatives, argmin?: readonly number[]): ValleyCells[] {
  if (grid.dim < 2 || !Number.isFinite(infF)) return [];
  // The zero-set search costs seconds on big grids: run it only where the minimum found has a flat
  // direction (a non-degenerate minimum is isolated; a valley through it makes ∇²f singular there).
  if (derivs && argmin) {
    const H = derivs.hessian().map((row) => row.map((e) => e.at(argmin)));
    const { values } = symmetricEigen(H);
    const top = Math.max(...values.map(Math.abs));
    if (values.every((v) => Number.isFinite(v)) && top > 0 && Math.min(...values.map(Math.abs)) > 1e-6 * top) return [];
  }
  const shifted: PointFunction = (coords, out) => {
    f(coords, out);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(0, out[i] - infF);
  };
  const fcs = fc.map((v) => Math.max(0, v - infF));
  const stride = Math.max(1, Math.floor(fcs.length / 100000));
  const sample: number[] = [];
  for (let i = 0; i < fcs.length; i += stride) sample.push(fcs[i]);
  sample.sort((a, b) => a - b);
  const fScale = Math.max(sample[Math.floor(sample.length / 2)], 1e-300);
  const sd: LandscapeDerivatives | undefined = derivs ? { at: (p) => Math.max(0, derivs.at(p) - infF), gradient: () => derivs.gradient(), hessian: () => derivs.hessian() } : undefined;
  const zs = findZeroComponents(grid, shifted, fcs, fScale, sd);
  return zs.components.filter((z) => z.type === 'valley' && z.zeroSetDimension === 1).map((z) => ({ cells: z.cells, location: z.location, component: null }));
}
