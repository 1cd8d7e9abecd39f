import type { Grid } from '../../solvers/grid.js';
import { solveDense, symmetricEigen } from '../../solvers/dense.js';
import type { CompiledExpr } from '../landscape/expr.js';
import { orderByValue } from './value-order.js';

/** A critical point of f, located on the grid and refined by Newton on ∇f. */
export interface CriticalPoint {
  x: number[];
  f: number;
  /** Hessian eigenvalues, ascending. */
  hessianEigenvalues: number[];
  /** Whether Newton converged to a critical point of the expected index near the grid cell. */
  refined: boolean;
  /**
   * Where Newton ended, with the Hessian's eigenvalues there: at a degenerate critical point
   * (quartic minimum, flat or monkey saddle, valley) Newton converges only linearly and the
   * Hessian there is ≈ singular, which is what tells such a point apart.
   */
  newton: { x: number[]; hessianEigenvalues: number[]; converged: boolean; negatives: number };
  /** The point lies in a cell touching a wall (or Newton ran into the wall). */
  atWall: boolean;
}

/** Below this fraction of the largest |Hessian eigenvalue| around a pass an eigenvalue counts as 0. */
export const DEGENERATE_RELATIVE = 1e-6;

/**
 * Why the Eyring–Kramers / Mori prefactor does not apply at this point, or null when it does:
 * it needs a non-degenerate critical point of the given index (0: minimum, 1: saddle) inside
 * the box. `scale`: the largest |Hessian eigenvalue| among the points of the pass.
 */
export function kramersIssue(p: CriticalPoint, index: number, scale: number): string | null {
  const kind = index === 0 ? 'minimum' : 'saddle';
  // Newton's last iterate at a degenerate point is off by ~1e-13: print that as 0 so that repeats read (and dedupe) alike.
  const at = `(${p.newton.x.map((v) => (Math.abs(v) < 1e-9 ? 0 : +v.toPrecision(5))).join(', ')})`;
  const eig = p.newton.hessianEigenvalues;
  const eigText = eig.map((v) => v.toPrecision(3)).join(', ');
  const smallest = Math.min(...eig.map(Math.abs));
  if (!(scale > 0) || smallest <= DEGENERATE_RELATIVE * scale) {
    return (
      `the ${kind} near ${at} is degenerate: its Hessian eigenvalues (${eigText}) include ≈ 0 ` +
      (index === 0
        ? '(a flat, e.g. quartic, minimum or a valley of minimizers): sqrt(det H_m) = 0 and the escape rate is not of Kramers form'
        : '(a flat or monkey saddle): |λ₋| or det H_s = 0 and the escape rate is not of Kramers form')
    );
  }
  if (p.atWall) {
    return `the ${kind} near ${at} lies at a wall of the box: the reflecting wall cuts the ${index === 0 ? 'well' : 'pass'}, so the Gaussian integrals behind the formula do not hold`;
  }
  if (p.newton.negatives !== index) {
    return `the ${kind} near ${at} has ${p.newton.negatives} negative Hessian eigenvalue(s) (${eigText}), not ${index}: ${index === 1 ? 'not an index-1 saddle' : 'not a minimum'}`;
  }
  if (!p.refined) return `Newton did not converge to a ${kind} near ${at}`;
  return null;
}

/** One merge of two basins in the flooding of f: the lowest pass between their deepest minima. */
export interface BasinMerge {
  /** Flat cell indices of the two basins' lowest cells (deeper first) and of the pass cell. */
  deepCell: number;
  shallowCell: number;
  saddleCell: number;
}

/**
 * Flooding (union–find in increasing f over axis neighbours): every time two basins meet, the
 * meeting cell is the lowest pass between them, i.e. the grid's minimax (mountain-pass) saddle,
 * an approximation of an index-1 saddle. Returns all merges, in increasing pass height.
 */
export function floodMerges(grid: Grid, fc: Float64Array): BasinMerge[] {
  const n = grid.size;
  const dim = grid.dim;
  const order = orderByValue(fc);
  // parent[c] < 0: not flooded yet. A root is its component's first flooded cell, hence its lowest
  // (ties: lowest index), so the root index is also the basin's lowest cell.
  const parent = new Int32Array(n).fill(-1);
  const find = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r];
    while (parent[i] !== r) {
      const next = parent[i];
      parent[i] = r;
      i = next;
    }
    return r;
  };
  const strides = Int32Array.from(grid.strides);
  const sizes = Int32Array.from(grid.n);
  const roots = new Int32Array(2 * dim);
  const merges: BasinMerge[] = [];
  for (let o = 0; o < n; o++) {
    const c = order[o];
    parent[c] = c;
    let nRoots = 0;
    for (let k = 0; k < dim; k++) {
      const j = Math.floor(c / strides[k]) % sizes[k];
      // Axis neighbours in the order −1, +1 per axis: the order roots are met in decides ties below.
      for (let side = 0; side < 2; side++) {
        let nb: number;
        if (side === 0) {
          if (j === 0) continue;
          nb = c - strides[k];
        } else {
          if (j === sizes[k] - 1) continue;
          nb = c + strides[k];
        }
        if (parent[nb] < 0) continue;
        const r = find(nb);
        let seen = false;
        for (let t = 0; t < nRoots && !seen; t++) seen = roots[t] === r;
        if (seen) continue;
        // Insertion by the root's lowest f, after equals: the stable order the merges are read in.
        let t = nRoots++;
        while (t > 0 && fc[roots[t - 1]] - fc[r] > 0) {
          roots[t] = roots[t - 1];
          t--;
        }
        roots[t] = r;
      }
    }
    if (nRoots === 0) continue;
    const deep = roots[0];
    for (let t = 1; t < nRoots; t++) {
      merges.push({ deepCell: deep, shallowCell: roots[t], saddleCell: c });
      parent[roots[t]] = deep;
    }
    parent[c] = deep;
  }
  return merges;
}

/**
 * Newton on ∇f = 0 from a grid point, with steps capped at two cells and the iterate kept in the
 * box. Accepted when it converges within `radius` cells of the start with the expected number of
 * negative Hessian eigenvalues; otherwise the grid point is returned with refined = false.
 */
export function refineCriticalPoint(expr: CompiledExpr, grid: Grid, start: number[], index: number, radius = 4): CriticalPoint {
  const d = grid.dim;
  const grad = expr.gradient();
  const hess = expr.hessian();
  const H = (p: number[]): number[][] => hess.map((row) => row.map((e) => e.at(p)));
  const G = (p: number[]): number[] => grad.map((e) => e.at(p));
  let x = start.slice();
  let ok = false;
  for (let it = 0; it < 60; it++) {
    const g = G(x);
    const step = solveDense(H(x), g.map((v) => -v));
    if (!step || step.some((v) => !Number.isFinite(v))) break;
    let scale = 1;
    for (let k = 0; k < d; k++) scale = Math.min(scale, (2 * grid.h[k]) / Math.max(Math.abs(step[k]), 1e-300));
    x = x.map((v, k) => Math.min(grid.hi[k], Math.max(grid.lo[k], v + scale * step[k])));
    if (step.every((v, k) => Math.abs(v) <= 1e-13 * Math.max(1, Math.abs(x[k]), grid.hi[k] - grid.lo[k]))) {
      ok = true;
      break;
    }
  }
  const near = x.every((v, k) => Math.abs(v - start[k]) <= radius * grid.h[k]);
  const eig = symmetricEigen(H(x)).values;
  const negatives = eig.filter((v) => v < 0).length;
  const zeros = eig.some((v) => v === 0);
  const inOuterCell = (p: number[]): boolean => p.some((v, k) => v <= grid.lo[k] + grid.h[k] || v >= grid.hi[k] - grid.h[k]);
  const atWall = inOuterCell(start) || inOuterCell(x);
  const newton = { x, hessianEigenvalues: eig, converged: ok, negatives };
  if (ok && near && negatives === index && !zeros && x.every((v, k) => v > grid.lo[k] && v < grid.hi[k])) {
    return { x, f: expr.at(x), hessianEigenvalues: eig, refined: true, newton, atWall };
  }
  return { x: start, f: expr.at(start), hessianEigenvalues: symmetricEigen(H(start)).values, refined: false, newton, atWall };
}
