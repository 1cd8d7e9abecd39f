import type { Grid } from '../../solvers/grid.js';
import { AXIS_NAMES } from '../field/field.js';
import { InputError } from '../errors.js';
import { basinLabels } from '../diagnostics/basins.js';

/**
 * Target sets of the committor and escape commands, on the grid's cells.
 *
 * Spec syntax (one option value): `BASE[:radius=R | :sublevel=C]` where BASE is
 * - `minN`: the N-th discrete local minimum of the cell values of f, lowest first;
 * - `zeroN`: the N-th component of the zero set, numbered as the report's regime line prints them ([N]);
 * - `x=..,y=..,z=..`: a point of the box (every axis named).
 * `radius=R`: cells whose centre lies within Euclidean distance R of the point (of the minimum,
 * of the zero component's refined point). `sublevel=C`: the connected component (axis neighbours)
 * of {f ≤ f(seed) + C} containing the seed cell, where f is the cell average. Without either:
 * a zero component is its own cells (those the regime diagnostic assigned to it), a minimum or
 * point the ball of radius DEFAULT_RADIUS_CELLS cells.
 */

/** The default ball of a minimum or point: 2 cells, so that a set is never a single cell that a small shift would miss. */
export const DEFAULT_RADIUS_CELLS = 2;
/** At most this many minima are named (lowest first): a rough landscape can have thousands. */
export const MAX_NAMED_MINIMA = 32;

export interface NamedSet {
  /** 'min1', 'zero2', … */
  name: string;
  kind: 'minimum' | 'zero';
  /** The minimum's cell centre, or the zero component's refined point. */
  point: number[];
  /** The cell holding `point`. */
  cell: number;
  /** A zero component's own cells (the regime diagnostic's assignment). */
  cells?: number[];
}

export interface SetSpec {
  /** The text as given, for messages. */
  text: string;
  base: { name: string } | { point: number[] };
  radius?: number;
  sublevel?: number;
}

export interface ResolvedSet {
  /** A short label: the spec text. */
  label: string;
  mask: Uint8Array;
  cells: number;
  /** The seed point (minimum, zero point or given point). */
  point: number[];
}

/** The cell holding x (clamped to the box). */
export function cellOf(grid: Grid, x: readonly number[]): number {
  let flat = 0;
  for (let k = 0; k < grid.dim; k++) {
    const i = Math.min(grid.n[k] - 1, Math.max(0, Math.floor((x[k] - grid.lo[k]) / grid.h[k])));
    flat += i * grid.strides[k];
  }
  return flat;
}

/** Calls visit(j) for each axis neighbour j of cell i. */
export function forNeighbours(grid: Grid, i: number, visit: (j: number) => void): void {
  for (let k = 0; k < grid.dim; k++) {
    const s = grid.strides[k];
    const ik = Math.floor(i / s) % grid.n[k];
    if (ik > 0) visit(i - s);
    if (ik < grid.n[k] - 1) visit(i + s);
  }
}

/**
 * The minima of the cell values of f: the bottoms of the basins of src/diagnostics/basins.ts
 * basinLabels (steepest descent over the 3^d neighbours; a flat patch of sinks is one minimum, its
 * lowest cell; a shelf with a way down is none), so minN names the run report's basin N when f
 * has no zeros. Lowest first (ties by cell index), at most MAX_NAMED_MINIMA.
 */
export function discreteMinima(grid: Grid, f: Float64Array): number[] {
  return basinLabels(grid, f)
    .basins.slice(0, MAX_NAMED_MINIMA)
    .map((b) => cellOf(grid, b.x));
}

/** The named sets of a problem: zero components (when inf f = 0) and discrete minima. */
export function namedSets(grid: Grid, f: Float64Array, zeros: readonly { location: number[]; cells: number[] }[]): NamedSet[] {
  const out: NamedSet[] = [];
  zeros.forEach((z, k) => out.push({ name: `zero${k + 1}`, kind: 'zero', point: z.location.slice(), cell: cellOf(grid, z.location), cells: z.cells }));
  discreteMinima(grid, f).forEach((c, k) => out.push({ name: `min${k + 1}`, kind: 'minimum', point: grid.centre(c), cell: c }));
  return out;
}

/** What `--to each` means: every zero component when f has zeros, else every named minimum. */
export function eachSet(named: readonly NamedSet[]): NamedSet[] {
  const zeros = named.filter((s) => s.kind === 'zero');
  return zeros.length > 0 ? zeros : named.filter((s) => s.kind === 'minimum');
}

function bad(option: string, message: string): InputError {
  return new InputError(`${option}: ${message}`);
}

const SYNTAX = "expected NAME (min1, zero1, …) or a point x=..,y=.., optionally followed by ':radius=R' or ':sublevel=C'";

/** Parses one set spec; `option` ('--from', '--to') names it in errors. */
export function parseSetSpec(option: string, text: string, dim: number): SetSpec {
  const t = text.trim();
  if (t === '') throw bad(option, `empty set spec (${SYNTAX})`);
  const parts = t.split(':');
  if (parts.length > 2) throw bad(option, `'${text}': more than one ':' (${SYNTAX})`);
  const spec: SetSpec = { text: t, base: { name: '' } };
  const head = parts[0].trim();
  if (head.includes('=')) {
    const point = new Array<number>(dim).fill(NaN);
    for (const kv of head.split(',')) {
      const [key, value, ...rest] = kv.split('=');
      const axis = AXIS_NAMES.slice(0, dim).indexOf(key.trim() as (typeof AXIS_NAMES)[number]);
      if (rest.length > 0 || axis < 0) throw bad(option, `'${text}': '${kv}' is not one of ${AXIS_NAMES.slice(0, dim).map((a) => `${a}=<number>`).join(', ')}`);
      const v = Number(value);
      if (value === undefined || value.trim() === '' || !Number.isFinite(v)) throw bad(option, `'${text}': ${key.trim()} must be a finite number (got '${value ?? ''}')`);
      point[axis] = v;
    }
    const missing = point.map((v, k) => (Number.isNaN(v) ? AXIS_NAMES[k] : null)).filter((v) => v !== null);
    if (missing.length > 0) throw bad(option, `'${text}': the point needs every axis of this ${dim}-D box (missing ${missing.join(', ')})`);
    spec.base = { point };
  } else {
    if (!/^(min|zero)[1-9][0-9]*$/.test(head)) throw bad(option, `'${text}': unknown set name '${head}' (${SYNTAX})`);
    spec.base = { name: head };
  }
  if (parts.length === 2) {
    const m = /^\s*(radius|sublevel)\s*=\s*(.+)$/.exec(parts[1]);
    if (!m) throw bad(option, `'${text}': after ':' expected radius=R or sublevel=C`);
    const v = Number(m[2]);
    if (!Number.isFinite(v) || !(v > 0)) throw bad(option, `'${text}': ${m[1]} must be a number > 0 (got '${m[2].trim()}')`);
    if (m[1] === 'radius') spec.radius = v;
    else spec.sublevel = v;
  }
  return spec;
}

function fmtPoint(p: readonly number[]): string {
  return `(${p.map((v) => +v.toPrecision(4)).join(', ')})`;
}

/**
 * The cells of a spec on the grid. Errors (one line, naming the option): an unknown name, a
 * point outside the box, a set with no cell.
 */
export function resolveSet(option: string, spec: SetSpec, grid: Grid, f: Float64Array, named: readonly NamedSet[]): ResolvedSet {
  let point: number[];
  let zeroCells: number[] | undefined;
  if ('name' in spec.base) {
    const name = spec.base.name;
    const found = named.find((s) => s.name === name);
    if (!found) {
      const list = named.map((s) => s.name);
      throw bad(option, `'${spec.text}': no set named '${name}' on this grid (named sets: ${list.length > 0 ? list.join(', ') : 'none'}; or give a point x=..,y=..)`);
    }
    point = found.point;
    zeroCells = found.cells;
  } else {
    point = spec.base.point;
    for (let k = 0; k < grid.dim; k++) {
      if (!(point[k] >= grid.lo[k] && point[k] <= grid.hi[k])) {
        throw bad(option, `'${spec.text}': ${AXIS_NAMES[k]} = ${point[k]} is outside the box [${grid.lo[k]}, ${grid.hi[k]}]`);
      }
    }
  }
  const mask = new Uint8Array(grid.size);
  const seed = cellOf(grid, point);
  if (spec.sublevel !== undefined) {
    // Mirror-image cells carry values equal up to round-off of their quadrature; a relative
    // tolerance keeps such ties on the same side, so that symmetric wells get mirror-image sets.
    const level = f[seed] + spec.sublevel + TIE_TOL * (Math.abs(f[seed]) + spec.sublevel);
    const stack = [seed];
    mask[seed] = 1;
    while (stack.length > 0) {
      const c = stack.pop() as number;
      forNeighbours(grid, c, (j) => {
        if (!mask[j] && f[j] <= level) {
          mask[j] = 1;
          stack.push(j);
        }
      });
    }
  } else if (spec.radius === undefined && zeroCells && zeroCells.length > 0) {
    for (const c of zeroCells) mask[c] = 1;
  } else {
    const r = spec.radius ?? DEFAULT_RADIUS_CELLS * Math.max(...grid.h);
    ballCells(grid, point, r, mask);
  }
  let cells = 0;
  for (let i = 0; i < mask.length; i++) cells += mask[i];
  if (cells === 0) {
    const half = 0.5 * Math.hypot(...grid.h);
    throw bad(option, `'${spec.text}' holds no grid cell (no cell centre within radius ${spec.radius} of ${fmtPoint(point)}): use a radius of at least ${half.toPrecision(3)} (half a cell diagonal) or a sublevel`);
  }
  if (cells === grid.size) throw bad(option, `'${spec.text}' covers the whole box: nothing is left to solve on (use a smaller radius or sublevel)`);
  return { label: spec.text, mask, cells, point: point.slice() };
}

/**
 * Relative tolerance on the set comparisons (d² ≤ r², f ≤ level). Cell centres and cell averages
 * of mirror-image cells differ by round-off, and a radius of whole cells (the default 2h) puts
 * centres exactly on the sphere: without it one well's set keeps a cell its mirror image drops.
 */
export const TIE_TOL = 1e-9;

/** Marks the cells whose centre lies within r of x (scans only the bounding box of the ball). */
function ballCells(grid: Grid, x: readonly number[], r: number, mask: Uint8Array): void {
  const lo: number[] = [];
  const hi: number[] = [];
  for (let k = 0; k < grid.dim; k++) {
    // One cell of slack each way: the tolerance below may admit a centre just past the ball.
    lo.push(Math.max(0, Math.floor((x[k] - r - grid.lo[k]) / grid.h[k] - 0.5) - 1));
    hi.push(Math.min(grid.n[k] - 1, Math.ceil((x[k] + r - grid.lo[k]) / grid.h[k] - 0.5) + 1));
  }
  const r2 = r * r * (1 + TIE_TOL);
  const rec = (k: number, flat: number, d2: number): void => {
    if (k === grid.dim) {
      if (d2 <= r2) mask[flat] = 1;
      return;
    }
    for (let i = lo[k]; i <= hi[k]; i++) {
      const c = grid.lo[k] + (i + 0.5) * grid.h[k];
      rec(k + 1, flat + i * grid.strides[k], d2 + (c - x[k]) ** 2);
    }
  };
  rec(0, 0, 0);
}

/** Throws when two resolved sets share a cell (named by the second one's option). */
export function checkDisjoint(grid: Grid, a: { option: string; set: ResolvedSet }, b: { option: string; set: ResolvedSet }): void {
  for (let i = 0; i < a.set.mask.length; i++) {
    if (a.set.mask[i] && b.set.mask[i]) {
      throw bad(b.option, `'${b.set.label}' overlaps ${a.option} '${a.set.label}' (both hold the cell at ${fmtPoint(grid.centre(i))}): use smaller radii or sublevels`);
    }
  }
}
