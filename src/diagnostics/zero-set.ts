/**
 * The zero set of f, component by component, and its local structure (docs/regime.md).
 *
 * Integrability of π = f^−α is a local question at each zero: it depends on the exponent e of
 * vol{f < δ} ~ δ^e there, not on cell counts over the whole box (which mix components, feel the
 * walls and depend on h). So the grid is only used to *find* the components; each one is then
 * analysed from the landscape function itself: a refined minimizer, the Hessian's rank there
 * (symbolic when the landscape has derivatives), whether the zero set extends along the Hessian's
 * null directions (a valley), and, for degenerate zeros, the exponent measured along rays at
 * sub-grid scales.
 */
import { symmetricEigen } from '../../solvers/dense.js';
import type { Grid } from '../../solvers/grid.js';
import type { PointFunction } from '../../solvers/quadrature.js';

/** What a landscape may offer beyond point values (CompiledExpr has all three). */
export interface LandscapeDerivatives {
  at(p: readonly number[]): number;
  gradient(): readonly { at(p: readonly number[]): number }[];
  hessian(): readonly (readonly { at(p: readonly number[]): number }[])[];
  /** An enclosure of f over a box (interval arithmetic), or null: lets searches skip cells where f is far from 0. */
  bounds?(lo: readonly number[], hi: readonly number[]): { lo: number; hi: number } | null;
}

export type ComponentType = 'isolated quadratic' | 'linear at wall' | 'valley' | 'degenerate';

/** The local structure of one component of the zero set (before the α comparison). */
export interface ZeroAnalysis {
  /** Refined point of the component (the minimizer the local search converged to). */
  location: number[];
  fAtLocation: number;
  type: ComponentType;
  /** Eigenvalues of ∇²f at `location`, ascending. */
  hessianEigenvalues: number[];
  /** Where the Hessian came from. */
  hessianSource: 'symbolic' | 'finite differences';
  /** Rank of ∇²f transverse to the zero set (quadratic and valley components), else null. */
  codimension: number | null;
  /** Dimension of the zero set through `location` (0: a point; 1: a curve; 2: a surface). */
  zeroSetDimension: number;
  /** Box faces the component touches: 'x=lo' etc. */
  walls: string[];
  /** Axes along which f vanishes linearly at a wall (non-zero normal derivative). */
  linearWallAxes: number[];
  /**
   * e as a rational number when a closed form applies (quadratic rank k: k/2; linear at a wall:
   * 1 per wall axis plus half the tangential rank), else null.
   */
  exactExponent: { num: number; den: number } | null;
  /** e measured along rays from `location` at sub-grid scales. */
  measuredExponent: { value: number; uncertainty: number; scales: [number, number] } | null;
  /**
   * Upper bound on e that holds whatever the measurement says: a C² function vanishing with zero
   * gradient on an s-dimensional slice is ≤ C r², so vol{f < δ} ≥ c δ^(s/2).
   */
  exponentUpperBound: number | null;
  /** Grid cells of this component (centres near the zero set), for mass tracking. */
  cells: number[];
  /**
   * The local search ended at a tiny f > 0 along a flat direction of ∇²f: a zero it could not
   * reach, or a positive minimum; the grid cannot tell which (verdict 'undecided').
   */
  unresolved?: boolean;
  /**
   * Hessian eigenvalues counted in the rank that are still tiny (between 1e-8 and 1e-4 of the
   * largest, symbolic; 1e-4 to 1e-2 by differences): at the point found they may belong to a
   * degenerate direction (a curved valley of order > 2 the search stopped on), so e lies between
   * (num − rankUncertain)/den and num/den.
   */
  rankUncertain: number;
  /** ∇²f is not finite here, or f reaches 0 only as a power below 1 (a cusp): e measured directly. */
  nonSmooth?: boolean;
}

export interface ZeroSetResult {
  components: ZeroAnalysis[];
  /**
   * Candidate cells left unsearched (beyond the search budget) plus components found but not
   * analysed (beyond MAX_COMPONENTS): when > 0 a non-integrable zero may have gone unexamined.
   */
  unanalysed: number;
  /** The zero threshold used: f ≤ zeroTol counts as f = 0. */
  zeroTol: number;
}

const MAX_COMPONENTS = 32;

// ---------------------------------------------------------------------------------------------
// Small linear algebra (d ≤ 3)


// ---------------------------------------------------------------------------------------------

interface LocalF {
  dim: number;
  lo: readonly number[];
  hi: readonly number[];
  f(p: readonly number[]): number;
  grad(p: readonly number[]): number[];
  hess(p: readonly number[]): number[][];
  symbolic: boolean;
}

function pointEvaluator(f: PointFunction, dim: number): (p: readonly number[]) => number {
  const coords = Array.from({ length: dim }, () => new Float64Array(1));
  const out = new Float64Array(1);
  return (p) => {
    for (let k = 0; k < dim; k++) coords[k][0] = p[k];
    f(coords, out);
    return out[0];
  };
}

function makeLocal(grid: Grid, f: PointFunction, derivs: LandscapeDerivatives | undefined): LocalF {
  const dim = grid.dim;
  const at = derivs ? (p: readonly number[]) => derivs.at(p) : pointEvaluator(f, dim);
  const L = grid.hi.map((hi, k) => hi - grid.lo[k]);
  let grad: (p: readonly number[]) => number[];
  let hess: (p: readonly number[]) => number[][];
  let symbolic = false;
  let g: readonly { at(p: readonly number[]): number }[] | undefined;
  let H: readonly (readonly { at(p: readonly number[]): number }[])[] | undefined;
  try {
    g = derivs?.gradient();
    H = derivs?.hessian();
  } catch {
    // A landscape without derivatives everywhere (e.g. a data landscape's derived pieces): differences below.
    g = undefined;
    H = undefined;
  }
  if (g && H) {
    symbolic = true;
    grad = (p) => g!.map((gk) => gk.at(p));
    hess = (p) => H!.map((row) => row.map((hij) => hij.at(p)));
  } else {
    // Steps: small against the box (truncation), large against round-off of f ≈ 0 near a zero.
    const s1 = L.map((l) => 1e-7 * l);
    const s2 = L.map((l) => 1e-4 * l);
    grad = (p) =>
      p.map((_, k) => {
        const a = p.slice();
        const b = p.slice();
        a[k] += s1[k];
        b[k] -= s1[k];
        return (at(a) - at(b)) / (2 * s1[k]);
      });
    hess = (p) => {
      const h: number[][] = Array.from({ length: dim }, () => new Array<number>(dim).fill(0));
      const f0 = at(p);
      for (let i = 0; i < dim; i++) {
        for (let j = i; j < dim; j++) {
          let v: number;
          if (i === j) {
            const a = p.slice();
            const b = p.slice();
            a[i] += s2[i];
            b[i] -= s2[i];
            v = (at(a) - 2 * f0 + at(b)) / (s2[i] * s2[i]);
          } else {
            const q = (si: number, sj: number): number => {
              const c = p.slice();
              c[i] += si * s2[i];
              c[j] += sj * s2[j];
              return at(c);
            };
            v = (q(1, 1) - q(1, -1) - q(-1, 1) + q(-1, -1)) / (4 * s2[i] * s2[j]);
          }
          h[i][j] = v;
          h[j][i] = v;
        }
      }
      return h;
    };
  }
  return { dim, lo: grid.lo, hi: grid.hi, f: at, grad, hess, symbolic };
}

const clip = (lf: LocalF, p: number[]): number[] => p.map((v, k) => Math.min(lf.hi[k], Math.max(lf.lo[k], v)));

/** Compass search inside the box: robust for any continuous f, whatever its degeneracy. */
function compassMin(lf: LocalF, start: readonly number[], step0: readonly number[], toUlp = false): { x: number[]; v: number } {
  let x = start.slice();
  let v = lf.f(x);
  let step = step0.slice();
  const span = lf.hi.map((hi, k) => hi - lf.lo[k]);
  // Smallest step: 1e-15 of the box, or (toUlp) a couple of units in the last place of x.
  const minStep = (k: number): number => (toUlp ? 2 * Number.EPSILON * Math.max(Math.abs(x[k]), 1e-3 * span[k]) : 1e-15 * span[k]);
  for (let iter = 0; iter < 4000 && step.some((s, k) => s > minStep(k)); iter++) {
    let improved = false;
    for (let k = 0; k < lf.dim && !improved; k++) {
      for (const sgn of [1, -1]) {
        const y = x.slice();
        y[k] = Math.min(lf.hi[k], Math.max(lf.lo[k], y[k] + sgn * step[k]));
        const w = lf.f(y);
        if (w < v) {
          x = y;
          v = w;
          improved = true;
          step[k] *= 2;
          break;
        }
      }
    }
    if (!improved) step = step.map((s) => s / 2);
  }
  return { x, v };
}

/**
 * Newton steps with the Hessian's pseudo-inverse (null directions left alone), projected on the
 * box, kept only while f decreases: converges quadratically onto a quadratic zero or valley, so
 * the Hessian is then taken on the zero set and not 1e-8 beside it.
 */
function newtonPolish(lf: LocalF, x0: readonly number[], v0: number, basis?: readonly (readonly number[])[], maxDist = Infinity): { x: number[]; v: number } {
  let x = x0.slice();
  let v = v0;
  const B = basis ?? x.map((_, k) => x.map((__, j) => (j === k ? 1 : 0)));
  if (B.length === 0) return { x, v };
  for (let it = 0; it < 200 && v > 0; it++) {
    const g = lf.grad(x);
    const H = lf.hess(x);
    // Hessian and gradient in the basis: Bᵀ H B, Bᵀ g.
    const gb = B.map((b) => b.reduce((a, bk, k) => a + bk * g[k], 0));
    const Hb = B.map((bi) => B.map((bj) => bi.reduce((a, bik, k) => a + bik * H[k].reduce((c, hkl, l) => c + hkl * bj[l], 0), 0)));
    const { values, vectors } = symmetricEigen(Hb);
    const top = Math.max(...values.map(Math.abs));
    if (!(top > 0)) break;
    const step = new Array<number>(lf.dim).fill(0);
    values.forEach((lam, m) => {
      if (Math.abs(lam) <= 1e-12 * top) return;
      const c = vectors[m].reduce((a, vm, i) => a + vm * gb[i], 0) / lam;
      vectors[m].forEach((vm, i) => B[i].forEach((bik, k) => (step[k] -= c * vm * bik)));
    });
    // Backtracking: on a curved valley the full step leaves the valley floor.
    let moved = false;
    for (let t = 1; t > 1e-6; t /= 2) {
      const y = clip(lf, x.map((xi, k) => xi + t * step[k]));
      // maxDist: stay in the neighbourhood asked about (not slide to another zero set nearby).
      if (Math.hypot(...y.map((yk, k) => yk - x0[k])) > maxDist) continue;
      const w = lf.f(y);
      if (w < v) {
        x = y;
        v = w;
        moved = true;
        break;
      }
    }
    if (!moved) break;
  }
  return { x, v };
}

// ---------------------------------------------------------------------------------------------
// Finding the components on the grid

/**
 * Cells whose centre lies within about a cell of the zero set: the Newton distance 2f/|∇f| (exact
 * for a quadratic normal profile, half the distance for a quartic, twice for a linear one) is at
 * most `reach`. Gradients are grid differences of the centre values.
 */
function nearZeroCells(grid: Grid, fc: Float64Array, zeroTol: number): Uint8Array {
  const mark = new Uint8Array(grid.size);
  const d = grid.dim;
  const hmax = Math.max(...grid.h);
  const reach = 1.5 * Math.sqrt(d) * hmax;
  const idx = new Array<number>(d).fill(0);
  for (let i = 0; i < grid.size; i++) {
    const v = fc[i];
    if (v <= zeroTol) {
      mark[i] = 1;
    } else {
      let g2 = 0;
      for (let k = 0; k < d; k++) {
        const s = grid.strides[k];
        const n = grid.n[k];
        const ik = idx[k];
        let gk: number;
        if (n === 1) gk = 0;
        else if (ik === 0) gk = (fc[i + s] - v) / grid.h[k];
        else if (ik === n - 1) gk = (v - fc[i - s]) / grid.h[k];
        else gk = (fc[i + s] - fc[i - s]) / (2 * grid.h[k]);
        g2 += gk * gk;
      }
      if (2 * v <= reach * Math.sqrt(g2)) mark[i] = 1;
    }
    // Advance the multi-index (last axis fastest).
    for (let k = d - 1; k >= 0; k--) {
      if (++idx[k] < grid.n[k]) break;
      idx[k] = 0;
    }
  }
  return mark;
}

/** Offsets of the 3^d − 1 neighbours, as multi-index steps. */
function neighbourSteps(d: number): number[][] {
  const out: number[][] = [];
  const rec = (pre: number[]): void => {
    if (pre.length === d) {
      if (pre.some((s) => s !== 0)) out.push(pre);
      return;
    }
    for (const s of [-1, 0, 1]) rec([...pre, s]);
  };
  rec([]);
  return out;
}

function forEachNeighbour(grid: Grid, i: number, steps: readonly number[][], fn: (j: number) => void): void {
  const idx = grid.index(i);
  for (const st of steps) {
    let j = 0;
    let ok = true;
    for (let k = 0; k < grid.dim; k++) {
      const m = idx[k] + st[k];
      if (m < 0 || m >= grid.n[k]) {
        ok = false;
        break;
      }
      j += m * grid.strides[k];
    }
    if (ok) fn(j);
  }
}

/** Connected sets of marked cells (3^d adjacency, so diagonal valleys stay connected), lowest first. */
function connectedSets(grid: Grid, mark: Uint8Array, fc: Float64Array): number[][] {
  const steps = neighbourSteps(grid.dim);
  const sets: number[][] = [];
  for (let i = 0; i < grid.size; i++) {
    if (mark[i] !== 1) continue;
    const set: number[] = [];
    const stack = [i];
    mark[i] = 2;
    while (stack.length > 0) {
      const c = stack.pop()!;
      set.push(c);
      forEachNeighbour(grid, c, steps, (j) => {
        if (mark[j] === 1) {
          mark[j] = 2;
          stack.push(j);
        }
      });
    }
    sets.push(set);
  }
  const minOf = (s: number[]): number => s.reduce((m, c) => Math.min(m, fc[c]), Infinity);
  return sets.map((s) => ({ s, m: minOf(s) })).sort((a, b) => a.m - b.m).map((x) => x.s);
}

// ---------------------------------------------------------------------------------------------
// Local analysis of one zero

/** Unit directions spread over the sphere S^(s−1) (s = 1, 2, 3). */
function sphereDirections(s: number, count: number): number[][] {
  if (s === 1) return [[1], [-1]];
  if (s === 2) return Array.from({ length: count }, (_, i) => [Math.cos((2 * Math.PI * (i + 0.5)) / count), Math.sin((2 * Math.PI * (i + 0.5)) / count)]);
  const golden = Math.PI * (3 - Math.sqrt(5));
  return Array.from({ length: count }, (_, i) => {
    const z = 1 - (2 * (i + 0.5)) / count;
    const r = Math.sqrt(1 - z * z);
    return [r * Math.cos(golden * i), r * Math.sin(golden * i), z];
  });
}

/**
 * The exponent e of vol{f < δ} ~ δ^e near x, measured on the slice x + span(basis): along each ray
 * the first radius where f reaches δ (bisection in log r, clipped at the box), and the slice volume
 * (1/s)∫ r(u)^s du by the direction rule. δ spans levels whose radii run from R/2 down to about
 * 1e-4·R (all below the grid spacing when R is a few cells), so this reads f itself, not the grid.
 * Uncertainty: the change of the log-log slope between the upper and lower halves of the levels
 * (curvature of the power law) and between all directions and every other one (direction rule).
 */
export function rayExponent(
  fAt: (p: readonly number[]) => number,
  x: readonly number[],
  basis: readonly (readonly number[])[],
  lo: readonly number[],
  hi: readonly number[],
  R: number,
  count?: number,
  floor = 0,
): { value: number; uncertainty: number; scales: [number, number] } | null {
  const s = basis.length;
  if (s === 0) return null;
  const dirs = sphereDirections(s, count ?? (s === 2 ? 64 : 128)).map((c) => {
    const u = new Array<number>(x.length).fill(0);
    c.forEach((ci, a) => basis[a].forEach((b, k) => (u[k] += ci * b)));
    return u;
  });
  // Room along each ray before the box ends (a zero on a wall sees a half-neighbourhood).
  const room = dirs.map((u) => {
    let r = R;
    u.forEach((uk, k) => {
      if (uk > 1e-15) r = Math.min(r, (hi[k] - x[k]) / uk);
      else if (uk < -1e-15) r = Math.min(r, (lo[k] - x[k]) / uk);
    });
    return Math.max(0, r);
  });
  const at = (u: readonly number[], r: number): number => fAt(x.map((xk, k) => xk + r * u[k]));
  const f0 = fAt(x);
  const top: number[] = [];
  dirs.forEach((u, i) => {
    if (room[i] > 0) top.push(at(u, Math.min(room[i], R / 2)) - f0);
  });
  top.sort((a, b) => a - b);
  const dTop = top.length > 0 ? top[Math.floor(top.length / 2)] : 0;
  if (!(dTop > 0) || !Number.isFinite(dTop)) return null;
  const levels = 9;
  // Levels stay well above `floor` (f at a point known only to the resolution of x).
  const decades = floor > 0 ? Math.min(8, Math.log10(dTop / floor)) : 8;
  if (!(decades >= 1)) return null;
  const deltas = Array.from({ length: levels }, (_, j) => dTop * 10 ** (-(decades * j) / (levels - 1)));
  const radius = (u: readonly number[], rmax: number, delta: number): number => {
    if (rmax <= 0) return 0;
    if (at(u, rmax) - f0 < delta) return rmax;
    let a = Math.log(rmax) - 40; // e^−40: far below any δ considered here
    let b = Math.log(rmax);
    if (at(u, Math.exp(a)) - f0 >= delta) return 0;
    // 40 halvings of a 40-wide log interval: r to 4e-11 relative, far inside the fit's spread.
    for (let it = 0; it < 40; it++) {
      const m = 0.5 * (a + b);
      if (at(u, Math.exp(m)) - f0 < delta) a = m;
      else b = m;
    }
    return Math.exp(0.5 * (a + b));
  };
  const rs = deltas.map((delta) => dirs.map((u, i) => radius(u, room[i], delta)));
  const volume = (j: number, every: number): number => {
    let v = 0;
    rs[j].forEach((r, i) => {
      if (i % every === 0) v += r ** s;
    });
    return v;
  };
  const slope = (every: number, from: number, to: number): number => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let j = from; j <= to; j++) {
      const v = volume(j, every);
      if (v > 0) {
        xs.push(Math.log(deltas[j]));
        ys.push(Math.log(v));
      }
    }
    if (xs.length < 2) return NaN;
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxx = 0;
    let sxy = 0;
    xs.forEach((xv, i) => {
      sxx += (xv - mx) ** 2;
      sxy += (xv - mx) * (ys[i] - my);
    });
    return sxy / sxx;
  };
  const mid = Math.floor(levels / 2);
  const low = slope(1, mid, levels - 1);
  const high = slope(1, 0, mid);
  const coarse = slope(2, mid, levels - 1);
  if (!Number.isFinite(low)) return null;
  // Every ray still below the lowest level where the box or R ends: nothing was resolved (a slope
  // of 0 from clipped radii is not a measurement).
  if (rs[levels - 1].every((r, i) => r >= room[i] * (1 - 1e-12))) return null;
  // An unusable half (all radii 0 or clipped) leaves the power law unchecked: say so, not NaN.
  const uncertainty = Math.max(Number.isFinite(high) ? Math.abs(low - high) : 0.5, Number.isFinite(coarse) && s > 1 ? Math.abs(low - coarse) : 0, 0.01);
  const med = (j: number): number => {
    const v = rs[j].filter((r) => r > 0).sort((a, b) => a - b);
    return v.length > 0 ? v[Math.floor(v.length / 2)] : 0;
  };
  return { value: low, uncertainty, scales: [med(levels - 1), med(0)] };
}

/**
 * A measurement at radius R, and where its power law has not settled there (another landscape
 * takes over a few cells out, as in a min of two), again 10 and 100 times further in: the one with
 * the smallest uncertainty, which is what a finer grid would measure.
 */
function settledExponent(
  measure: (R: number) => ReturnType<typeof rayExponent>,
  R: number,
): ReturnType<typeof rayExponent> {
  let best = measure(R);
  for (const shrink of [10, 100]) {
    if (best !== null && best.uncertainty <= 0.05) break;
    const m = measure(R / shrink);
    if (m !== null && (best === null || m.uncertainty < best.uncertainty)) best = m;
  }
  return best;
}

function rank(values: readonly number[], ref: number, tol: number): number {
  return values.filter((v) => Math.abs(v) > tol * ref).length;
}

/** Orthonormal complement (in R^d) of the span of `vs` (each unit, mutually orthogonal). */
function complement(d: number, vs: readonly number[][]): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < d && out.length + vs.length < d; k++) {
    const e = Array.from({ length: d }, (_, i) => (i === k ? 1 : 0));
    for (const v of [...vs, ...out]) {
      const c = v.reduce((a, vi, i) => a + vi * e[i], 0);
      for (let i = 0; i < d; i++) e[i] -= c * v[i];
    }
    const n = Math.hypot(...e);
    if (n > 1e-8) out.push(e.map((ei) => ei / n));
  }
  return out;
}

function analyseZero(grid: Grid, lf: LocalF, x: number[], v: number, cells: number[], zeroTol: number, fScale: number, cusp: boolean): ZeroAnalysis {
  const d = grid.dim;
  const span = grid.hi.map((hi, k) => hi - grid.lo[k]);
  const hmin = Math.min(...grid.h);
  const onLo = x.map((xk, k) => xk - grid.lo[k] <= 1e-9 * span[k]);
  const onHi = x.map((xk, k) => grid.hi[k] - xk <= 1e-9 * span[k]);
  const axisName = (k: number): string => ['x', 'y', 'z'][k];
  const walls: string[] = [];
  for (let k = 0; k < d; k++) {
    if (onLo[k]) walls.push(`${axisName(k)}=${grid.lo[k]}`);
    if (onHi[k]) walls.push(`${axisName(k)}=${grid.hi[k]}`);
  }
  const g = lf.grad(x);
  const H = lf.hess(x);
  // f is not C² here (|x − x₀|^p, p < 2 non-integer, or a kink): no rank, no exact exponent and
  // no quadratic bound; e is what f does along rays, measured above the level f already has here
  // (the point is known only to the resolution of x).
  const nonSmooth = (): ZeroAnalysis => {
    const identity = x.map((_, k) => x.map((__, j) => (j === k ? 1 : 0)));
    const R = 2 * Math.sqrt(d) * Math.max(...grid.h);
    // Levels above f at the point and above f a thousand units in the last place of x away: radii
    // below that are rounded to the floating-point grid of x and bend the fit.
    let floor = 1e3 * Math.max(v, 0);
    x.forEach((xk, k) => {
      const r = 4e3 * Number.EPSILON * Math.max(Math.abs(xk), 1e-3 * span[k]);
      for (const sgn of [1, -1]) {
        const y = x.slice();
        y[k] = Math.min(grid.hi[k], Math.max(grid.lo[k], xk + sgn * r));
        const w = lf.f(y) - v;
        if (Number.isFinite(w)) floor = Math.max(floor, w);
      }
    });
    return {
      location: x,
      fAtLocation: v,
      type: 'degenerate',
      nonSmooth: true,
      hessianEigenvalues: [],
      hessianSource: lf.symbolic ? 'symbolic' : 'finite differences',
      codimension: null,
      zeroSetDimension: 0,
      walls,
      linearWallAxes: [],
      exactExponent: null,
      measuredExponent: settledExponent((r) => rayExponent(lf.f, x, identity, grid.lo, grid.hi, r, undefined, floor), R),
      exponentUpperBound: null,
      cells,
      rankUncertain: 0,
    };
  };
  if (cusp || !g.every(Number.isFinite) || !H.every((row) => row.every(Number.isFinite))) return nonSmooth();
  const eig = symmetricEigen(H);
  // Rank tolerance: round-off of a symbolic Hessian is ~1e-15 of its entries; differences carry ~1e-8.
  const tol = lf.symbolic ? 1e-8 : 1e-4;
  const ref = Math.max(...eig.values.map(Math.abs), fScale / Math.max(...span) ** 2);
  // At a minimum of a C² function ∇²f ≥ 0: a clearly negative eigenvalue is a difference
  // quotient straddling a cusp (f'' of |x|^p, p < 1, is −∞ beside it), not a Hessian.
  if (eig.values.some((lam) => lam < -1e-2 * ref)) return nonSmooth();
  // f vanishing linearly at a wall: the normal derivative points into the box and is not round-off.
  const gTol = (lf.symbolic ? 1e-10 : 1e-5) * Math.max(fScale / Math.max(...span), ref * Math.max(...span));
  const linearWallAxes: number[] = [];
  for (let k = 0; k < d; k++) {
    if ((onLo[k] && g[k] > gTol) || (onHi[k] && g[k] < -gTol)) linearWallAxes.push(k);
  }
  const tangentAxes = Array.from({ length: d }, (_, k) => k).filter((k) => !linearWallAxes.includes(k));
  const Ht = tangentAxes.map((i) => tangentAxes.map((j) => H[i][j]));
  const eT = tangentAxes.length > 0 ? symmetricEigen(Ht) : { values: [], vectors: [] };
  const kT = rank(eT.values, ref, tol);
  const rankUncertain = eT.values.filter((lam) => Math.abs(lam) > tol * ref && Math.abs(lam) <= (lf.symbolic ? 1e-4 : 1e-2) * ref).length;
  // Null directions of the tangential Hessian, as vectors in R^d.
  const nullDirs: number[][] = [];
  eT.values.forEach((lam, m) => {
    if (Math.abs(lam) <= tol * ref) {
      const u = new Array<number>(d).fill(0);
      tangentAxes.forEach((ax, a) => (u[ax] = eT.vectors[m][a]));
      nullDirs.push(u);
    }
  });
  // Does the zero set extend along a null direction? Step one and two cells along it, fall back
  // onto the zero set with Newton (the null direction is left alone), and see if f is zero there.
  const valleyDirs: number[][] = [];
  for (const u of nullDirs) {
    let inside = 0;
    let zeroAll = true;
    for (const sgn of [1, -1]) {
      for (const cellsAway of [1, 2]) {
        const p = x.map((xk, k) => xk + sgn * cellsAway * hmin * u[k]);
        if (p.some((pk, k) => pk < grid.lo[k] || pk > grid.hi[k])) continue;
        inside++;
        const w = lf.f(p);
        // Fall back onto the zero set across u only: along u, Newton would walk back to x.
        const across = complement(d, [u, ...linearWallAxes.map((ax) => Array.from({ length: d }, (_, i) => (i === ax ? 1 : 0)))]);
        const pol = newtonPolish(lf, p, w, across);
        if (!(pol.v <= zeroTol)) zeroAll = false;
      }
    }
    if (inside > 0 && zeroAll) valleyDirs.push(u);
  }
  const zeroSetDimension = valleyDirs.length;
  const degenerateDirs = nullDirs.length - valleyDirs.length;
  let type: ComponentType;
  let exact: { num: number; den: number } | null = null;
  let codimension: number | null = null;
  if (degenerateDirs === 0) {
    codimension = kT;
    // Each linear wall axis adds 1 to e, each quadratic direction 1/2 (e = |A| + k/2 = (2|A| + k)/2).
    exact = { num: 2 * linearWallAxes.length + kT, den: 2 };
    type = zeroSetDimension > 0 ? 'valley' : linearWallAxes.length > 0 ? 'linear at wall' : 'isolated quadratic';
  } else {
    type = 'degenerate';
  }
  // Measure e on the slice transverse to the valley directions, a few cells wide.
  const slice = complement(d, valleyDirs);
  const R = 2 * Math.sqrt(d) * Math.max(...grid.h);
  let measured: ZeroAnalysis['measuredExponent'];
  if (degenerateDirs === 0) {
    measured = rayExponent(lf.f, x, slice, grid.lo, grid.hi, R);
    // A point zero where f itself disagrees with the Hessian's exponent (a difference-quotient
    // "Hessian" of a cusp is finite and positive, 2s^(p−2)): trust f, measured in all directions.
    if (exact && measured && zeroSetDimension === 0 && linearWallAxes.length === 0 && Math.abs(measured.value - exact.num / exact.den) > Math.max(3 * measured.uncertainty, 0.25)) {
      return nonSmooth();
    }
  } else {
    // Splitting lemma: near the zero f ≈ Q(z) + g(y) with Q the non-degenerate quadratic part
    // (range of the Hessian, rank kT) and g(y) = min over z of f: then vol{f < δ} ~ δ^(kT/2 + e_g)
    // (and +1 per linear wall axis). Rays straight through f would need directions finer than
    // the cone where the slow order wins, which no fixed rule resolves.
    const isValley = (u: readonly number[]): boolean => valleyDirs.includes(u as number[]);
    const degen = nullDirs.filter((u) => !isValley(u));
    const range: number[][] = [];
    eT.values.forEach((lam, m) => {
      if (Math.abs(lam) > tol * ref) {
        const u = new Array<number>(d).fill(0);
        tangentAxes.forEach((ax, a) => (u[ax] = eT.vectors[m][a]));
        range.push(u);
      }
    });
    // min over the range directions near p only: within half the distance from x, so that the
    // minimum taken is the local one and not another zero set a few cells across (a line beside
    // a degenerate point would make g ≡ 0).
    const reduced = (p: readonly number[]): number => {
      const w = lf.f(p);
      const reachP = 0.5 * Math.hypot(...p.map((pk, k) => pk - x[k]));
      return range.length === 0 ? w : newtonPolish(lf, p, w, range, reachP).v;
    };
    const eg = settledExponent((r) => rayExponent(reduced, x, degen, grid.lo, grid.hi, r, 24), R);
    const add = linearWallAxes.length + kT / 2;
    measured = eg === null ? null : { value: add + eg.value, uncertainty: eg.uncertainty, scales: eg.scales };
  }
  const upper = linearWallAxes.length === 0 && degenerateDirs > 0 ? slice.length / 2 : null;
  return {
    location: x,
    fAtLocation: v,
    type,
    hessianEigenvalues: eig.values,
    hessianSource: lf.symbolic ? 'symbolic' : 'finite differences',
    codimension,
    zeroSetDimension,
    walls,
    linearWallAxes,
    exactExponent: exact,
    measuredExponent: measured,
    exponentUpperBound: upper,
    cells,
    rankUncertain: degenerateDirs === 0 ? rankUncertain : 0,
  };
}

/** Cells whose value is ≤ every one of their 3^d neighbours: each basin of f the grid resolves has one. */
function discreteMinima(grid: Grid, fc: Float64Array): number[] {
  const d = grid.dim;
  const steps = neighbourSteps(d);
  const out: number[] = [];
  const idx = new Array<number>(d).fill(0);
  for (let i = 0; i < grid.size; i++) {
    const v = fc[i];
    // Axis neighbours first: cheap, and rule out almost every cell. A non-finite value starts nothing.
    let low = Number.isFinite(v);
    for (let k = 0; k < d && low; k++) {
      const s = grid.strides[k];
      if (idx[k] > 0 && fc[i - s] < v) low = false;
      else if (idx[k] < grid.n[k] - 1 && fc[i + s] < v) low = false;
    }
    if (low) {
      for (const st of steps) {
        let j = i;
        let ok = true;
        for (let k = 0; k < d; k++) {
          const m = idx[k] + st[k];
          if (m < 0 || m >= grid.n[k]) {
            ok = false;
            break;
          }
          j += st[k] * grid.strides[k];
        }
        if (ok && fc[j] < v) {
          low = false;
          break;
        }
      }
      if (low) out.push(i);
    }
    for (let k = d - 1; k >= 0; k--) {
      if (++idx[k] < grid.n[k]) break;
      idx[k] = 0;
    }
  }
  return out.sort((a, b) => fc[a] - fc[b]);
}

/**
 * The value a numeric sort of `a` would put at index k (a is reordered; its values are finite or
 * ±∞, never NaN). A radix selection on the top bits of the values' order-preserving integer keys:
 * one counting pass over the top 16 bits and one over the next 16 among the values of the
 * bucket holding rank k, then a native sort of what is left (values agreeing in their top 32
 * bits). Linear in n whatever the order of the values: the quickselect it replaced ran 140 ms
 * cold on a 512² double well (many ties, structured order), most of `lowestCells`.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function kthSmallest(a: Float64Array, k: number): number {
  const n = a.length;
  if (n <= 64) return a.sort()[k];
  // Order-preserving keys of the high 32 bits: negatives have every bit flipped, others the sign bit set.
  const hiWords = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  const hiAt = LITTLE_ENDIAN ? 1 : 0;
  const key = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = hiWords[2 * i + hiAt];
    key[i] = h & 0x80000000 ? ~h >>> 0 : (h | 0x80000000) >>> 0;
  }
  const count = new Uint32Array(65536);
  for (let i = 0; i < n; i++) count[key[i] >>> 16]++;
  let top = 0;
  let below = 0;
  while (below + count[top] <= k) below += count[top++];
  count.fill(0);
  for (let i = 0; i < n; i++) if (key[i] >>> 16 === top) count[key[i] & 0xffff]++;
  let low = 0;
  while (below + count[low] <= k) below += count[low++];
  const want = ((top << 16) | low) >>> 0;
  let m = 0;
  const rest = new Float64Array(count[low]);
  for (let i = 0; i < n; i++) if (key[i] === want) rest[m++] = a[i];
  return rest.sort()[k - below];
}

/** The k cells with the lowest finite values among those `keep` accepts, lowest first (a typed sort finds the cut). */
function lowestCells(size: number, keep: (i: number) => boolean, fc: Float64Array, k: number): number[] {
  if (k <= 0) return [];
  let n = 0;
  const vals = new Float64Array(size);
  for (let i = 0; i < size; i++) if (keep(i) && Number.isFinite(fc[i])) vals[n++] = fc[i];
  // Only the k-th value is needed: a selection instead of sorting every cell (a 512² grid's sort cost ~30 ms per call).
  const cut = n > k ? kthSmallest(vals.subarray(0, n), k - 1) : Infinity;
  const out: number[] = [];
  for (let i = 0; i < size; i++) if (keep(i) && fc[i] <= cut) out.push(i);
  return out.sort((a, b) => fc[a] - fc[b]).slice(0, k);
}

/**
 * The fallback cells (searched only for a zero whose basin shows in no cell value) less those
 * where f provably stays above `level` on the whole box the search starts in (cellMinimum's box:
 * the cell widened by 3/4 of a cell each side). Below `level` lies everything a search reports (a
 * zero: f ≤ 1e-12 of fScale; an unresolved tiny minimum: ≤ 1e-6 of it); on such a box it ends at a
 * positive minimum, or on the box face, and reports nothing. First the whole domain (f ≥ 0.05 on
 * a double well with a floor: no fallback search at all), then cell by cell. Same candidate list,
 * same order, fewer entries: a search that would have left its box and happened on a zero
 * elsewhere no longer runs, but that zero lies in cells whose boxes are not bounded away from 0,
 * which keep their own searches (test/zero-set-cell-search.test.ts compares with the exhaustive
 * search on many landscapes).
 */
function withoutProvablyPositive(grid: Grid, derivs: LandscapeDerivatives | undefined, cellsOf: () => number[], level: number): number[] {
  const bounds = derivs?.bounds?.bind(derivs);
  if (!bounds || !(level > 0)) return cellsOf();
  const whole = bounds(grid.lo, grid.hi);
  // Before the cells are chosen: their selection (a pass and a sort over the grid) is wasted then.
  if (whole && whole.lo > level) return [];
  const cells = cellsOf();
  if (cells.length === 0) return cells;
  const lo = new Array<number>(grid.dim);
  const hi = new Array<number>(grid.dim);
  return cells.filter((c) => {
    const x = grid.centre(c);
    for (let k = 0; k < grid.dim; k++) {
      lo[k] = Math.max(grid.lo[k], x[k] - 0.75 * grid.h[k]);
      hi[k] = Math.min(grid.hi[k], x[k] + 0.75 * grid.h[k]);
    }
    const b = bounds(lo, hi);
    return !(b && b.lo > level);
  });
}

/**
 * Marks, among the `budget` lowest unmarked cells, those whose centre is within `reach` of a zero
 * by the Newton distance 2f/|∇f| with the exact gradient: grid differences across a kink (a
 * min of two landscapes) can miss a zero whose basin is narrower than a cell.
 */
function markBySymbolicGradient(grid: Grid, lf: LocalF, fc: Float64Array, mark: Uint8Array, reach: number, budget: number): void {
  // One point array for all cells (grid.centre's arithmetic, without its two arrays per cell).
  const p = new Array<number>(grid.dim);
  for (const i of lowestCells(grid.size, (i) => mark[i] === 0, fc, budget)) {
    for (let k = 0; k < grid.dim; k++) p[k] = grid.lo[k] + ((Math.floor(i / grid.strides[k]) % grid.n[k]) + 0.5) * grid.h[k];
    const g = lf.grad(p);
    const gn = Math.hypot(...g);
    if (Number.isFinite(gn) && 2 * fc[i] <= reach * gn) mark[i] = 1;
  }
}

/**
 * Minimum of f over the box of a cell widened by a quarter cell on each side (clipped to the
 * domain), from its centre; null when it sits on a widened face inside the domain: f's minimum
 * near this cell is in another cell, whose own search finds it.
 *
 * Runs once per candidate cell (up to MAX_SEARCHES, ~20 evaluations of f each), so it allocates
 * nothing per step: the array-per-trial-point form spent most of its time in allocation and GC
 * (issue #19: ~40 % of `validate`'s set-up). It visits the same points in the same order as a
 * plain compass search (axis by axis, + before −, the first decrease taken, all steps halved
 * together when none), so it returns the same point bit for bit (test/zero-set-cell-search.test.ts).
 */
export function cellMinimum(grid: Grid, lf: { dim: number; f(p: readonly number[]): number }, c: number): number[] | null {
  const d = lf.dim;
  let x = grid.centre(c);
  const lo = new Array<number>(d);
  const hi = new Array<number>(d);
  for (let k = 0; k < d; k++) {
    lo[k] = Math.max(grid.lo[k], x[k] - 0.75 * grid.h[k]);
    hi[k] = Math.min(grid.hi[k], x[k] + 0.75 * grid.h[k]);
  }
  let v = lf.f(x);
  let y = x.slice();
  const step = grid.h.map((h) => h / 4);
  let more = step.some((s, k) => s > 1e-3 * grid.h[k]);
  for (let iter = 0; iter < 400 && more; iter++) {
    let improved = false;
    for (let k = 0; k < d && !improved; k++) {
      for (let sgn = 1; sgn >= -1; sgn -= 2) {
        for (let j = 0; j < d; j++) y[j] = x[j];
        y[k] = Math.min(hi[k], Math.max(lo[k], y[k] + sgn * step[k]));
        const w = lf.f(y);
        if (w < v) {
          const t = x;
          x = y;
          y = t;
          v = w;
          improved = true;
          break;
        }
      }
    }
    if (!improved) {
      more = false;
      for (let k = 0; k < d; k++) {
        step[k] /= 2;
        if (step[k] > 1e-3 * grid.h[k]) more = true;
      }
    }
  }
  for (let k = 0; k < d; k++) {
    if ((x[k] - lo[k] <= 2e-3 * grid.h[k] && lo[k] > grid.lo[k]) || (hi[k] - x[k] <= 2e-3 * grid.h[k] && hi[k] < grid.hi[k])) return null;
  }
  return x;
}

/**
 * Is the end point of a search, where f = v > 0 above the zero threshold, a zero the search could
 * not reach exactly (a cusp |x − x₀|^p with p < 1: no Newton step, and the compass search stops at
 * the resolution of x)? It is when f falls off by a power law toward it, min over the axis
 * directions of f(x ± r e_k) ~ c r^p for r from h/10 down over at least three decades, and that
 * power law continued to the resolution of x (a few 1e-15 of the box) reaches v. A positive minimum
 * v₀ flattens out at v₀ instead (f − v₀ ~ r² gives a slope of 0 once c r² < v₀).
 */
function powerLawZero(grid: Grid, lf: LocalF, x: readonly number[], v: number): boolean {
  if (!(v > 0) || !Number.isFinite(v)) return false;
  const hbar = Math.max(...grid.h);
  const g: number[] = [];
  for (let k = 1; k <= 14; k++) {
    const r = hbar * 10 ** -k;
    let m = Infinity;
    for (let a = 0; a < lf.dim; a++) {
      for (const sgn of [1, -1]) {
        const y = x.slice();
        y[a] += sgn * r;
        if (y[a] < grid.lo[a] || y[a] > grid.hi[a]) continue;
        m = Math.min(m, lf.f(y));
      }
    }
    if (!(m >= 100 * v) || !Number.isFinite(m)) break;
    g.push(m);
  }
  if (g.length < 4) return false;
  // Decade slopes: each must show f still falling (not a plateau at v₀).
  const slopes = g.slice(1).map((gk, i) => Math.log10(g[i] / gk));
  if (slopes.some((s) => !(s > 0.05))) return false;
  const p = Math.min(...slopes.slice(-2));
  const kLast = g.length;
  // The search ends within a few units in the last place of x of the zero.
  const res = 4 * Number.EPSILON * Math.max(...x.map((xk, k) => Math.max(Math.abs(xk), 1e-3 * (grid.hi[k] - grid.lo[k]))));
  const kRes = Math.log10(hbar / res);
  return v <= 2 * g[kLast - 1] * 10 ** (-p * Math.max(0, kRes - kLast));
}

/**
 * Are the zeros found at p and q on one connected piece of the zero set? Points every quarter
 * cell along the segment, each pulled onto the zero set by Newton, must reach f ≈ 0 within a
 * quarter cell of where they started (a valley, straight or gently curved); between two distinct
 * zeros the middle points are pulled half the separation away, or not to 0 at all.
 */
function connected(grid: Grid, lf: LocalF, p: readonly number[], q: readonly number[], vmax: number): boolean {
  const dist = Math.hypot(...p.map((pk, k) => (pk - q[k]) / grid.h[k]));
  const n = Math.max(2, Math.ceil(dist * 4));
  for (let i = 1; i < n; i++) {
    const t = i / n;
    const y = p.map((pk, k) => pk + t * (q[k] - pk));
    const pol = newtonPolish(lf, y, lf.f(y));
    if (!(pol.v <= vmax)) return false;
    if (Math.hypot(...pol.x.map((xk, k) => (xk - y[k]) / grid.h[k])) > 0.3) return false;
  }
  return true;
}

const MAX_SEARCHES = 2000;
const SYMBOLIC_MARK_BUDGET = 20000;

/**
 * Every component of {f = 0} the grid can see, each analysed locally. `fc` holds f at the cell
 * centres; `fScale` is a typical size of f on the box (for the zero and rank thresholds).
 *
 * Candidates: every discrete local minimum of the cell values, then every cell whose centre is
 * within about a cell of the zero set (Newton distance with grid and, where there is one, exact
 * gradients), closest first. Each candidate's own neighbourhood is searched (a minimum on its
 * widened box, refined only when inside it), so a zero whose basin is lost in a neighbour's
 * descent (a flat quartic zero beside a steep quadratic one) is still found from its own cells.
 */
export function findZeroComponents(grid: Grid, f: PointFunction, fc: Float64Array, fScale: number, derivs?: LandscapeDerivatives): ZeroSetResult {
  const lf = makeLocal(grid, f, derivs);
  // f ≤ 1e-12 of its size on the box: a zero up to the round-off of evaluating f.
  const zeroTol = 1e-12 * fScale;
  const reach = 1.5 * Math.sqrt(grid.dim) * Math.max(...grid.h);
  const mark = nearZeroCells(grid, fc, zeroTol);
  if (lf.symbolic) markBySymbolicGradient(grid, lf, fc, mark, reach, SYMBOLIC_MARK_BUDGET);
  const minima = discreteMinima(grid, fc);
  // Near-zero cells, closest to the zero set first (Newton distance over the grid gradient is not
  // stored: the value itself orders cells of one basin the same way).
  const near: number[] = [];
  for (let i = 0; i < grid.size; i++) if (mark[i] === 1) near.push(i);
  near.sort((a, b) => fc[a] - fc[b]);
  const queued = new Uint8Array(grid.size);
  const candidates: number[] = [];
  for (const c of [...minima, ...near]) {
    if (queued[c] === 0) {
      queued[c] = 1;
      candidates.push(c);
    }
  }
  const primary = candidates.length;
  // Then every other cell, lowest first, while the search budget lasts: a zero whose basin is
  // narrower than the distance to the nearest centre (a min of two landscapes) shows in no cell
  // value or gradient, but a search on the cell's own box falls into it.
  candidates.push(...withoutProvablyPositive(grid, derivs, () => lowestCells(grid.size, (i) => queued[i] === 0, fc, Math.max(0, MAX_SEARCHES - primary)), 1e-6 * fScale));
  const zeroPoints: { x: number[]; v: number; comp: number; cusp: boolean }[] = [];
  let nextComp = 0;
  const tiny: ZeroAnalysis[] = [];
  const cellDist = (a: readonly number[], b: readonly number[]): number => {
    let q = 0;
    for (let k = 0; k < a.length; k++) q += ((a[k] - b[k]) / grid.h[k]) ** 2;
    return Math.sqrt(q);
  };
  const cellIdx = (x: readonly number[]): number[] => x.map((xk, k) => Math.min(grid.n[k] - 1, Math.max(0, Math.floor((xk - grid.lo[k]) / grid.h[k]))));
  /** Cells whose centre is within `radius` cells of x (a box of multi-indices, filtered). */
  const cellsAround = (x: readonly number[], radius: number): number[] => {
    const base = cellIdx(x);
    const r = Math.ceil(radius) + 1;
    const out: number[] = [];
    const rec = (k: number, flat: number): void => {
      if (k === grid.dim) {
        if (cellDist(grid.centre(flat), x) < radius) out.push(flat);
        return;
      }
      for (let m = Math.max(0, base[k] - r); m <= Math.min(grid.n[k] - 1, base[k] + r); m++) rec(k + 1, flat + m * grid.strides[k]);
    };
    rec(0, 0);
    return out;
  };
  // Cells near an end point already searched, and the zero points filed by cell: O(1) look-ups.
  const covered = new Uint8Array(grid.size);
  const pointsByCell = new Map<number, number[]>();
  const fileCell = (x: readonly number[]): number => cellIdx(x).reduce((a, m, k) => a + m * grid.strides[k], 0);
  const flatTol = lf.symbolic ? 1e-8 : 1e-4;
  const spanMax = Math.max(...grid.hi.map((hi, k) => hi - grid.lo[k]));
  let searches = 0;
  let unanalysed = 0;
  for (const [ci, c] of candidates.entries()) {
    if (covered[c] === 1) continue;
    if (searches >= MAX_SEARCHES) {
      if (ci < primary) unanalysed++;
      continue;
    }
    searches++;
    const start = cellMinimum(grid, lf, c);
    if (start === null) continue;
    const cm = compassMin(lf, start, grid.h.map((h) => h / 8));
    const pol = newtonPolish(lf, cm.x, cm.v);
    for (const j of cellsAround(pol.x, 1)) covered[j] = 1;
    let exact = pol.v <= zeroTol;
    let cusp = false;
    if (!exact) {
      // Down to the last bits of x: a cusp keeps falling there, a positive minimum does not.
      const fine = compassMin(lf, pol.x, pol.x.map((xk, k) => 1e-13 * (grid.hi[k] - grid.lo[k])), true);
      if (fine.v < pol.v) {
        pol.x = fine.x;
        pol.v = fine.v;
      }
      exact = pol.v <= zeroTol;
      cusp = !exact && powerLawZero(grid, lf, pol.x, pol.v);
    }
    if (!exact && !cusp) {
      // A positive minimum with a non-degenerate Hessian is exactly that (π bounded there). A
      // tiny value along a flat direction may be a zero the search crawls towards too slowly.
      if (!(pol.v <= 1e-6 * fScale) || tiny.some((o) => cellDist(o.location, pol.x) < 2)) continue;
      const z = analyseZero(grid, lf, pol.x, pol.v, [], zeroTol, fScale, false);
      const refEig = Math.max(...z.hessianEigenvalues.map(Math.abs), fScale / spanMax ** 2);
      const flat = z.hessianEigenvalues.some((lam) => !(Math.abs(lam) > flatTol * refEig));
      if (flat) tiny.push({ ...z, unresolved: true });
      continue;
    }
    // One component per connected piece of the zero set: the zero points found so far that this one
    // joins (the same point, or a short stretch of the same valley); pieces it bridges merge, so a
    // curved valley met from many cells stays one component.
    const vmax = Math.max(zeroTol, 10 * pol.v);
    const joined = new Set<number>();
    const nearby = cellsAround(pol.x, 3.5).flatMap((j) => pointsByCell.get(j) ?? []);
    for (const zp of nearby.map((i) => zeroPoints[i])) {
      if (joined.has(zp.comp)) continue;
      const dist = cellDist(zp.x, pol.x);
      if (dist < 0.5 || (dist < 3 && connected(grid, lf, zp.x, pol.x, Math.max(vmax, 10 * zp.v)))) joined.add(zp.comp);
    }
    let comp = nextComp;
    if (joined.size > 0) {
      const [keep, ...drop] = [...joined].sort((a, b) => a - b);
      for (const zp of zeroPoints) if (drop.includes(zp.comp)) zp.comp = keep;
      comp = keep;
    } else nextComp++;
    zeroPoints.push({ x: pol.x, v: pol.v, comp, cusp });
    const home = fileCell(pol.x);
    pointsByCell.set(home, [...(pointsByCell.get(home) ?? []), zeroPoints.length - 1]);
  }
  // Analysed once the pieces are known, at the first point found on each (the lowest start).
  const components: ZeroAnalysis[] = [];
  const done = new Set<number>();
  const setOf = zeroPoints.length > 0 ? nearZeroSetOf(grid, fc, mark) : new Int32Array(0);
  // Transverse rank at x, if the zero set goes on through x along a null direction of ∇²f (one
  // cell along it, Newton across lands on f ≈ 0): a stretch of valley, not a degenerate point.
  const valleyRank = (x: readonly number[], v: number): number | null => {
    const { values, vectors } = symmetricEigen(lf.hess(x));
    const top = Math.max(...values.map(Math.abs));
    const nullAt = values.findIndex((lam) => !(Math.abs(lam) > flatTol * top));
    if (nullAt < 0) return null;
    const u = vectors[nullAt];
    const hmin = Math.min(...grid.h);
    for (const sgn of [1, -1]) {
      const p = x.map((xk, k) => xk + sgn * hmin * u[k]);
      if (p.some((pk, k) => pk < grid.lo[k] || pk > grid.hi[k])) continue;
      const pol = newtonPolish(lf, p, lf.f(p), complement(grid.dim, [u]));
      return pol.v <= Math.max(zeroTol, 10 * v) ? values.length - values.filter((lam) => !(Math.abs(lam) > flatTol * top)).length : null;
    }
    return null;
  };
  for (const zp of zeroPoints) {
    if (done.has(zp.comp)) continue;
    done.add(zp.comp);
    // A stretch of a valley the searches did not link up (a long line or a surface met from cells
    // more than 3 apart): itself on a valley of the same transverse rank, in the same near-zero set
    // or on a straight chord to it, so the same component (and the same exact exponent: merging
    // cannot change a verdict).
    const home = setOf[fileCell(zp.x)];
    const rankHere = zp.cusp || !components.some((z) => z.zeroSetDimension > 0) ? null : valleyRank(zp.x, zp.v);
    const valley = components.find(
      (z) =>
        z.zeroSetDimension > 0 &&
        !z.nonSmooth &&
        z.linearWallAxes.length === 0 &&
        rankHere !== null &&
        rankHere === z.codimension &&
        ((home >= 0 && setOf[fileCell(z.location)] === home) ||
          // A straight stretch whose middle the cell values do not show (another branch of a min is lower at the centres).
          (cellDist(z.location, zp.x) <= 64 && connected(grid, lf, z.location, zp.x, Math.max(zeroTol, 10 * zp.v, 10 * z.fAtLocation)))),
    );
    if (valley) continue;
    if (components.length >= MAX_COMPONENTS) {
      unanalysed++;
      continue;
    }
    components.push(analyseZero(grid, lf, zp.x, zp.v, [], zeroTol, fScale, zp.cusp));
  }
  // A zero beside an undecided tiny minimum settles it: that one was the search crawling to this.
  for (const z of tiny) if (!zeroPoints.some((zp) => cellDist(zp.x, z.location) < 2) && components.length < MAX_COMPONENTS) components.push(z);
  assignCells(grid, fc, mark, components);
  return { components, unanalysed, zeroTol };
}

/**
 * Cells of each component, for mass tracking: the connected near-zero set holding it, split by
 * nearest component when a set holds several; a component outside every set gets its own cell.
 */
/** Index of the connected near-zero set (3^d adjacency) of each cell, −1 outside them. */
function nearZeroSetOf(grid: Grid, fc: Float64Array, mark: Uint8Array): Int32Array {
  const m = Uint8Array.from(mark, (v) => (v === 1 ? 1 : 0));
  const setOf = new Int32Array(grid.size).fill(-1);
  connectedSets(grid, m, fc).forEach((s, i) => s.forEach((c) => (setOf[c] = i)));
  return setOf;
}

function assignCells(grid: Grid, fc: Float64Array, mark: Uint8Array, components: ZeroAnalysis[]): void {
  if (components.length === 0) return;
  const m = Uint8Array.from(mark, (v) => (v === 1 ? 1 : 0));
  const sets = connectedSets(grid, m, fc);
  const setOf = new Int32Array(grid.size).fill(-1);
  sets.forEach((s, i) => s.forEach((c) => (setOf[c] = i)));
  const cellOf = (x: readonly number[]): number =>
    x.reduce((acc, xk, k) => acc + Math.min(grid.n[k] - 1, Math.max(0, Math.floor((xk - grid.lo[k]) / grid.h[k]))) * grid.strides[k], 0);
  const owners = new Map<number, number[]>();
  components.forEach((z, i) => {
    z.cells = [];
    const home = cellOf(z.location);
    const s = setOf[home];
    if (s < 0) {
      z.cells.push(home);
      return;
    }
    owners.set(s, [...(owners.get(s) ?? []), i]);
  });
  for (const [s, own] of owners) {
    for (const c of sets[s]) {
      const p = grid.centre(c);
      let best = own[0];
      let bestD = Infinity;
      for (const i of own) {
        const dist = Math.hypot(...components[i].location.map((xk, k) => (xk - p[k]) / grid.h[k]));
        if (dist < bestD) {
          bestD = dist;
          best = i;
        }
      }
      components[best].cells.push(c);
    }
  }
}

/** The local minimum of f reached from `start` by a compass search in the box (for inf f when there is no zero). */
export function localMinimum(grid: Grid, f: PointFunction, start: readonly number[], derivs?: LandscapeDerivatives): { x: number[]; v: number } {
  const lf = makeLocal(grid, f, derivs);
  return compassMin(lf, start, grid.h.map((h) => h / 2));
}
