/**
 * Grid checks of a diffusion matrix: symmetric expressions (matrix model, at the cell centres),
 * finite values and positive semi-definiteness at every cell centre and every face midpoint (the
 * points where a finite-volume scheme evaluates D). Each failure is one InputError naming the
 * cell or face, the point and the value.
 */
import type { Grid } from '../../solvers/grid.js';
import type { DiffusionField } from '../../solvers/anisotropic/types.js';
import type { CompiledExpr } from '../landscape/expr.js';
import { InputError } from '../errors.js';
import { eig2, symEig } from './linalg.js';

/** Relative tolerance of the symmetry check (D_ij against D_ji at the cell centres). */
export const SYMMETRY_TOL = 1e-12;
/** An eigenvalue below −PSD_TOL·max(1, |λmax|) is negative (round-off of an exactly singular D stays far above). */
export const PSD_TOL = 1e-12;

/** Points per batch: bounds the memory of the checks on 10⁷-cell grids. */
const BATCH = 1 << 15;

const fmt = (v: number): string => (Number.isFinite(v) && v !== 0 && Math.abs(v) >= 1e-4 && Math.abs(v) < 1e6 ? String(+v.toPrecision(6)) : String(v === 0 ? 0 : Number.isFinite(v) ? v.toExponential(6) : v));
const pointText = (x: ArrayLike<number>, d: number): string => `(${Array.from({ length: d }, (_, k) => fmt(x[k]!)).join(', ')})`;

/**
 * Every evaluation point of the grid in batches: cell centres, then the faces normal to each axis
 * (lo + j·h along it, j = 0..n, walls included). `visit` gets the coordinates and a namer for the
 * point at offset q of the batch.
 */
export function forEachGridPoint(grid: Grid, visit: (coords: Float64Array[], count: number, name: (q: number) => string) => void): void {
  const d = grid.dim;
  const sets: { n: number[]; offset: number[]; what: (idx: number[]) => string }[] = [
    { n: grid.n.slice(), offset: new Array<number>(d).fill(0.5), what: (idx) => `cell (${idx.join(', ')})` },
  ];
  for (let a = 0; a < d; a++) {
    const n = grid.n.slice();
    n[a] = n[a]! + 1;
    const offset = new Array<number>(d).fill(0.5);
    offset[a] = 0;
    sets.push({
      n,
      offset,
      what: (idx) => {
        const lo = idx.slice();
        lo[a] = idx[a]! - 1;
        const wall = idx[a] === 0 ? 'lower wall' : idx[a] === grid.n[a] ? 'upper wall' : undefined;
        return wall ? `face of cell (${idx.map((v, k) => (k === a && v > 0 ? v - 1 : v)).join(', ')}) on the ${wall} of axis ${a}` : `face between cells (${lo.join(', ')}) and (${idx.join(', ')})`;
      },
    });
  }
  const coords = Array.from({ length: d }, () => new Float64Array(BATCH));
  for (const set of sets) {
    const total = set.n.reduce((p, v) => p * v, 1);
    const strides = new Array<number>(d);
    let s = 1;
    for (let k = d - 1; k >= 0; k--) {
      strides[k] = s;
      s *= set.n[k]!;
    }
    const idxOf = (flat: number): number[] => strides.map((st, k) => Math.floor(flat / st) % set.n[k]!);
    for (let start = 0; start < total; start += BATCH) {
      const m = Math.min(BATCH, total - start);
      for (let k = 0; k < d; k++) {
        const c = coords[k]!;
        const st = strides[k]!;
        const nk = set.n[k]!;
        const lo = grid.lo[k]!;
        const h = grid.h[k]!;
        const off = set.offset[k]!;
        for (let q = 0; q < m; q++) c[q] = lo + ((Math.floor((start + q) / st) % nk) + off) * h;
      }
      visit(
        coords.map((c) => c.subarray(0, m)),
        m,
        (q) => set.what(idxOf(start + q)),
      );
    }
  }
}

/** Batch evaluation of D, when a model has a faster one than point by point. */
export type EvalMany = (coords: readonly Float64Array[], out: readonly Float64Array[]) => void;

/**
 * Finite values and λmin ≥ −PSD_TOL·max(1, |λmax|) at every cell centre and face midpoint.
 * `field` names the scenario field in errors.
 */
export function checkPsdOnGrid(grid: Grid, D: DiffusionField, opts: { file?: string; field: string; evalMany?: EvalMany }): void {
  const d = grid.dim;
  const out = Array.from({ length: d * d }, () => new Float64Array(BATCH));
  const m = new Float64Array(d * d);
  const x = new Float64Array(d);
  const vals = new Float64Array(d);
  forEachGridPoint(grid, (coords, count, name) => {
    const views = out.map((o) => o.subarray(0, count));
    if (opts.evalMany) opts.evalMany(coords, views);
    else {
      for (let q = 0; q < count; q++) {
        for (let k = 0; k < d; k++) x[k] = coords[k]![q]!;
        D.evalD(x, m);
        for (let e = 0; e < d * d; e++) views[e]![q] = m[e]!;
      }
    }
    for (let q = 0; q < count; q++) {
      for (let e = 0; e < d * d; e++) m[e] = views[e]![q]!;
      for (let e = 0; e < d * d; e++) {
        if (!Number.isFinite(m[e]!)) {
          for (let k = 0; k < d; k++) x[k] = coords[k]![q]!;
          const i = Math.floor(e / d);
          throw new InputError(`D[${i}][${e % d}] is ${m[e]} at ${name(q)}, x = ${pointText(x, d)}: D must be finite on the whole grid`, { file: opts.file, field: opts.field });
        }
        // The scheme works with D/(h_i h_j): a finite D that overflows there would only fail at assembly.
        const i = Math.floor(e / d);
        const j = e % d;
        if (!Number.isFinite(m[e]! / (grid.h[i]! * grid.h[j]!))) {
          for (let k = 0; k < d; k++) x[k] = coords[k]![q]!;
          throw new InputError(`D[${i}][${j}] = ${fmt(m[e]!)} at ${name(q)}, x = ${pointText(x, d)} overflows the scheme's D/(h_${i}·h_${j}) (h = ${grid.h.map((v) => fmt(v)).join(', ')}): allowed |D_ij| < 1.7e308·h_i·h_j`, { file: opts.file, field: opts.field });
        }
      }
      if (d === 1) vals[0] = m[0]!;
      else if (d === 2) eig2(m[0]!, 0.5 * (m[1]! + m[2]!), m[3]!, vals);
      else symEig(m, d, vals);
      const lmin = vals[0]!;
      const lmax = vals[d - 1]!;
      if (lmin < -PSD_TOL * Math.max(1, Math.abs(lmax))) {
        for (let k = 0; k < d; k++) x[k] = coords[k]![q]!;
        throw new InputError(
          `D is not positive semi-definite at ${name(q)}, x = ${pointText(x, d)}: smallest eigenvalue ${fmt(lmin)} (largest ${fmt(lmax)}); allowed: every eigenvalue ≥ −${PSD_TOL}·max(1, |λmax|) at every cell centre and face midpoint`,
          { file: opts.file, field: opts.field },
        );
      }
    }
  });
}

/**
 * The matrix model's D_ij and D_ji written differently must agree at every cell centre to
 * SYMMETRY_TOL relative to max(|D_ij|, |D_ji|, sqrt|D_ii D_jj|) (the scale of an off-diagonal
 * entry of a PSD matrix).
 */
export function checkSymmetryOnGrid(grid: Grid, entries: CompiledExpr[][], texts: readonly (readonly unknown[])[], file?: string): void {
  const d = grid.dim;
  const pairs: [number, number][] = [];
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) if (texts[i]![j] !== texts[j]![i]) pairs.push([i, j]);
  if (pairs.length === 0) return;
  const coords = Array.from({ length: d }, (_, k) => grid.coordinateField(k));
  const at = (i: number, j: number): Float64Array => {
    const o = new Float64Array(grid.size);
    entries[i]![j]!.evalPoints(coords, o);
    return o;
  };
  for (const [i, j] of pairs) {
    const a = at(i, j);
    const b = at(j, i);
    const di = at(i, i);
    const dj = at(j, j);
    for (let c = 0; c < grid.size; c++) {
      const scale = Math.max(Math.abs(a[c]!), Math.abs(b[c]!), Math.sqrt(Math.abs(di[c]! * dj[c]!)));
      const diff = Math.abs(a[c]! - b[c]!);
      if (diff > SYMMETRY_TOL * scale || (Number.isNaN(diff) && !(Number.isNaN(a[c]!) && Number.isNaN(b[c]!)))) {
        const x = grid.centre(c);
        throw new InputError(
          `D must be symmetric: D[${i}][${j}] = ${fmt(a[c]!)} but D[${j}][${i}] = ${fmt(b[c]!)} at cell (${grid.index(c).join(', ')}), x = ${pointText(x, d)} (allowed relative difference ${SYMMETRY_TOL})`,
          { file, field: `noise.D.${j}.${i}` },
        );
      }
    }
  }
}
