import { solveDense } from './dense.js';
import { Grid } from './grid.js';
import type { PointFunction } from './quadrature.js';

/**
 * Cell weights of π = (f + ε)^−α next to an isolated minimum of f where π is sharply peaked.
 *
 * A Gauss rule cannot average f^−α over a cell that contains (or touches) a zero of f: near the
 * critical noise (α ↑ d/2) most of π's mass sits at scales far below h, and the error of any cell
 * rule there is a fixed fraction of the cell's mass, so basin masses converge only like
 * h^(d−2α) (oracles.md §7). Here the minimum is located by Newton's method on point values, f is
 * modelled as q = c + ½(x−x0)ᵀH(x−x0), and for each cell of the 5^d block around it
 *
 *     ∫_K f^−α = ∫_K q^−α (exact, below) + Gauss_K(f^−α − q^−α),
 *
 * where the remainder is O(|x−x0|) relative to q^−α, hence one order less singular.
 *
 * Exact box integrals of the model (ξ = (x − x0)/h, q̂ = ĉ + ½ξᵀĤξ):
 * - 3-D, ĉ = 0: q̂^−α is homogeneous of degree −2α, so div(ξ q̂^−α) = (3 − 2α) q̂^−α and
 *   ∫_box = (1/(3−2α)) Σ_faces a_F ∫_F q̂^−α dA (a_F = ξ·n on the face). On a face q̂ is a
 *   positive 2-D quadratic with a floor (the Schur complement), handled by the 2-D rule.
 * - 2-D, ĉ > 0: polar coordinates about the model's minimum, the radial integral in closed form
 *   ∫_0^R ρ(ĉ + Qρ²)^−α dρ = ĉ^(1−α)(1 − (1 + QR²/ĉ)^(1−α))/(2Q(α−1)), the box split into signed
 *   triangles (apex at the minimum, one per edge), and an adaptive Gauss rule in the angle.
 * - 1-D, ĉ > 0: ξ = √(2ĉ/λ) tan θ turns the integrand into ĉ^−α √(2ĉ/λ) cos^(2α−2) θ.
 * The 3-D floor (ĉ > 0) and the non-integrable cases (ĉ = 0 with d ≤ 2α) are left to the Gauss
 * rule: the latter is a grid artifact by nature (the density collapses, docs/design.md §1).
 */

/** Gauss–Legendre nodes and weights on [−1, 1] (Newton on the three-term recurrence). */
function gaussLegendre(n: number): { x: number[]; w: number[] } {
  const x: number[] = [];
  const w: number[] = [];
  for (let i = 1; i <= n; i++) {
    let z = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    x.push(z);
    w.push(2 / ((1 - z * z) * dp * dp));
  }
  return { x, w };
}

const GL = gaussLegendre(12);

function gl(fn: (t: number) => number, a: number, b: number): number {
  const m = 0.5 * (a + b);
  const r = 0.5 * (b - a);
  let s = 0;
  for (let i = 0; i < GL.x.length; i++) s += GL.w[i] * fn(m + r * GL.x[i]);
  return s * r;
}

/**
 * Adaptive Gauss–Legendre: bisect until two levels agree to `atol` (absolute, so that a piece
 * that is negligible for the sum it belongs to is not resolved for its own sake).
 */
function adaptive(fn: (t: number) => number, a: number, b: number, atol: number, depth = 0, whole = gl(fn, a, b)): number {
  const m = 0.5 * (a + b);
  const left = gl(fn, a, m);
  const right = gl(fn, m, b);
  const both = left + right;
  if (depth >= 30 || !Number.isFinite(both) || Math.abs(both - whole) <= atol) return both;
  return adaptive(fn, a, m, atol / 2, depth + 1, left) + adaptive(fn, m, b, atol / 2, depth + 1, right);
}

const RTOL = 1e-11;

/** ln ∫_l^u (c + ½λξ²)^−α dξ for c > 0, λ > 0. */
export function logInterval1(l: number, u: number, c: number, lambda: number, alpha: number): number {
  const s = Math.sqrt(lambda / (2 * c));
  const g = (t: number): number => Math.pow(Math.cos(t), 2 * alpha - 2);
  const [a, b] = [Math.atan(l * s), Math.atan(u * s)];
  const v = adaptive(g, a, b, RTOL * Math.abs(gl(g, a, b)));
  return -alpha * Math.log(c) + 0.5 * Math.log((2 * c) / lambda) + Math.log(v);
}

/**
 * ln ∫ over [lo0, hi0] × [lo1, hi1] of (c + ½(y−y0)ᵀH(y−y0))^−α dy, for c > 0, H 2×2 SPD, α > 1.
 * Signed triangles: each edge contributes sign(b)·∫dθ ∫_0^R(θ) ρ(…)dρ, b the signed distance from
 * y0 to the edge's line (positive when y0 is on the box side).
 */
export function logRect2(lo: readonly number[], hi: readonly number[], c: number, y0: readonly number[], H: readonly number[][], alpha: number): number {
  // With y0 outside the box every ray from it crosses the boundary twice, once into and once out
  // of the box, so the signed sum of any function of the direction alone vanishes: the radial
  // integral's constant term ĉ^(1−α)/(2Q(α−1)) is dropped there. Kept, it would be a large term
  // that cancels (relative loss ~ (ĉ + r²)/ĉ for a cell at distance r: 1e-8 at ĉ = 1e-3).
  const inside = y0[0] >= lo[0] && y0[0] <= hi[0] && y0[1] >= lo[1] && y0[1] <= hi[1];
  const edges: { g: (theta: number) => number; a: number; b: number; sign: number }[] = [];
  for (let j = 0; j < 2; j++) {
    const t = 1 - j;
    for (const upper of [false, true]) {
      const v = (upper ? hi[j] : lo[j]) - y0[j];
      const b = upper ? v : -v;
      if (b === 0) continue;
      const ab = Math.abs(b);
      const t1 = lo[t] - y0[t];
      const t2 = hi[t] - y0[t];
      const g = (theta: number): number => {
        // Unit direction from y0 and the distance R to the edge along it.
        const dir = [0, 0];
        dir[j] = v > 0 ? Math.cos(theta) : -Math.cos(theta);
        dir[t] = Math.sin(theta);
        const R = ab / Math.cos(theta);
        const Q = 0.5 * (H[0][0] * dir[0] * dir[0] + 2 * H[0][1] * dir[0] * dir[1] + H[1][1] * dir[1] * dir[1]);
        const l = (1 - alpha) * Math.log1p((Q * R * R) / c);
        // (1 − (1 + x)^(1−α)) / (α − 1), without cancellation for small x or α near 1.
        return (inside ? -Math.expm1(l) : -Math.exp(l)) / (2 * Q * (alpha - 1));
      };
      edges.push({ g, a: Math.atan2(t1, ab), b: Math.atan2(t2, ab), sign: b > 0 ? 1 : -1 });
    }
  }
  // An edge at a tiny distance from y0 spans a thin triangle: negligible, but sharply featured in θ.
  const scale = edges.reduce((s, e) => s + Math.abs(gl(e.g, e.a, e.b)), 0);
  let sum = 0;
  for (const e of edges) sum += e.sign * adaptive(e.g, e.a, e.b, RTOL * scale);
  return (1 - alpha) * Math.log(c) + Math.log(sum);
}

/** ∫ over the box [lo, hi] (3-D) of (½ξᵀHξ)^−α dξ, H SPD, α < 3/2 (divergence theorem, see top). */
export function box3Homogeneous(lo: readonly number[], hi: readonly number[], H: readonly number[][], alpha: number): number {
  let sum = 0;
  for (let k = 0; k < 3; k++) {
    const o = [0, 1, 2].filter((i) => i !== k);
    const Hyy = o.map((i) => o.map((jj) => H[i][jj]));
    const Hyk = o.map((i) => H[i][k]);
    const det = Hyy[0][0] * Hyy[1][1] - Hyy[0][1] * Hyy[1][0];
    const inv = [
      [Hyy[1][1] / det, -Hyy[0][1] / det],
      [-Hyy[1][0] / det, Hyy[0][0] / det],
    ];
    const w = [inv[0][0] * Hyk[0] + inv[0][1] * Hyk[1], inv[1][0] * Hyk[0] + inv[1][1] * Hyk[1]];
    const schur = H[k][k] - (Hyk[0] * w[0] + Hyk[1] * w[1]);
    for (const upper of [false, true]) {
      const u = upper ? hi[k] : lo[k];
      const a = upper ? u : -u;
      if (u === 0) continue;
      // In units of |u| the face's floor is ½·schur whatever u is: ∫_F = |u|^(2−2α) ∫_{F/|u|}, so
      // a face through a point next to the zero neither underflows nor loses its share |u|^(3−2α).
      const au = Math.abs(u);
      const y0 = [-Math.sign(u) * w[0], -Math.sign(u) * w[1]];
      const flo = [lo[o[0]] / au, lo[o[1]] / au];
      const fhi = [hi[o[0]] / au, hi[o[1]] / au];
      sum += Math.sign(a) * Math.exp((3 - 2 * alpha) * Math.log(au) + logRect2(flo, fhi, 0.5 * schur, y0, Hyy, alpha));
    }
  }
  return sum / (3 - 2 * alpha);
}

/** An isolated minimum of f in grid units: f(x0 + h∘ξ) ≈ c + ½ξᵀHξ (c includes the floor ε). */
export interface LocalMinimum {
  /** Position in grid units: ξ = (x − lo)/h, so cell i spans [i, i + 1] along each axis. */
  xi: number[];
  c: number;
  H: number[][];
}

function choleskyOk(H: readonly number[][]): boolean {
  const d = H.length;
  const L = H.map((r) => r.map(() => 0));
  let maxDiag = 0;
  for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, H[i][i]);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = H[i][j];
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      if (i === j) {
        // A near-singular H is a valley (a zero set of codimension < d), not an isolated zero.
        if (!(s > 1e-8 * maxDiag)) return false;
        L[i][i] = Math.sqrt(s);
      } else L[i][j] = s / L[j][j];
    }
  }
  return true;
}

/** H x = g by the one dense elimination (solvers/dense.ts); NaN where H is singular, which the Newton loop rejects. */
function solve(H: readonly number[][], g: readonly number[]): number[] {
  return solveDense(H, g) ?? g.map(() => NaN);
}

/** f at points given in grid units. */
function evalGridUnits(grid: Grid, f: PointFunction, pts: readonly (readonly number[])[]): Float64Array {
  const coords = Array.from({ length: grid.dim }, (_, k) => Float64Array.from(pts, (p) => grid.lo[k] + p[k] * grid.h[k]));
  const out = new Float64Array(pts.length);
  f(coords, out);
  return out;
}

/** Gradient and Hessian (grid units) by central differences of step s. */
function derivatives(grid: Grid, f: PointFunction, xi: readonly number[], s: number): { g: number[]; H: number[][]; f0: number } {
  const d = grid.dim;
  const pts: number[][] = [xi.slice()];
  const shift = (dk: number[]): number[] => xi.map((v, k) => v + dk[k] * s);
  for (let k = 0; k < d; k++) {
    const e = new Array<number>(d).fill(0);
    e[k] = 1;
    pts.push(shift(e), shift(e.map((v) => -v)));
  }
  for (let k = 0; k < d; k++) {
    for (let l = k + 1; l < d; l++) {
      for (const [a, b] of [[1, 1], [1, -1], [-1, 1], [-1, -1]]) {
        const e = new Array<number>(d).fill(0);
        e[k] = a;
        e[l] = b;
        pts.push(shift(e));
      }
    }
  }
  const v = evalGridUnits(grid, f, pts);
  const g: number[] = [];
  const H = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let k = 0; k < d; k++) {
    g.push((v[1 + 2 * k] - v[2 + 2 * k]) / (2 * s));
    H[k][k] = (v[1 + 2 * k] - 2 * v[0] + v[2 + 2 * k]) / (s * s);
  }
  let p = 1 + 2 * d;
  for (let k = 0; k < d; k++) {
    for (let l = k + 1; l < d; l++) {
      H[k][l] = H[l][k] = (v[p] - v[p + 1] - v[p + 2] + v[p + 3]) / (4 * s * s);
      p += 4;
    }
  }
  return { g, H, f0: v[0] };
}

/**
 * Newton's method from a cell centre, with difference steps shrinking as it converges (an exact
 * quadratic is found in one step; a smooth f to the rounding level of f near its minimum).
 * Returns null when the minimum is not isolated (H not positive definite), leaves the 3^d block
 * around the start cell, or leaves the box.
 */
function locateMinimum(grid: Grid, f: PointFunction, start: readonly number[], eps: number): LocalMinimum | null {
  // Start from the lowest of the cell's centre, face centres, edge midpoints and corners: a zero
  // on any of them (common: symmetric boxes put zeros on cell faces or corners) is found exactly.
  const d = grid.dim;
  const probes: number[][] = [];
  for (let q = 0; q < 3 ** d; q++) {
    let r = q;
    const p: number[] = [];
    for (let k = d - 1; k >= 0; k--) {
      p[k] = start[k] + 0.5 * ((r % 3) - 1);
      r = Math.floor(r / 3);
    }
    probes.push(p);
  }
  const pv = evalGridUnits(grid, f, probes);
  let best = 0;
  for (let q = 1; q < probes.length; q++) if (pv[q] < pv[best]) best = q;
  let xi = probes[best];
  let s = 0.25;
  for (let it = 0; it < 20; it++) {
    const { g, H } = derivatives(grid, f, xi, s);
    if (!H.every((r) => r.every(Number.isFinite))) return null;
    // Away from the minimum f need not be convex: shift H (Levenberg) until it is positive definite.
    const tr = H.reduce((acc, r, k) => acc + Math.abs(r[k]), 0) / d;
    let mu = 0;
    let Hs = H;
    while (!choleskyOk(Hs)) {
      mu = mu === 0 ? 1e-3 * tr : 2 * mu;
      if (!(mu < 1e6 * tr)) return null;
      Hs = H.map((r, k) => r.map((v, l) => (k === l ? v + mu : v)));
    }
    const step = solve(Hs, g);
    // Damped: on a coarse grid f need not be quadratic over a cell, and a full step may overshoot.
    const damp = Math.min(1, 0.5 / Math.max(...step.map(Math.abs)));
    for (let k = 0; k < step.length; k++) step[k] *= damp;
    // A zero on a wall: the early steps (wide difference stencils) land a little outside the box.
    // Pulled back onto the wall, Newton converges onto it, and the model integral then skips the
    // face through the zero (the cell holds the half of the zero's ball inside the box).
    xi = xi.map((v, k) => {
      const w = v - step[k];
      return w < 0 && w >= -0.01 ? 0 : w > grid.n[k] && w <= grid.n[k] + 0.01 ? grid.n[k] : w;
    });
    if (!xi.every((v, k) => Math.abs(v - start[k]) <= 1.5 && v >= 0 && v <= grid.n[k])) return null;
    const size = Math.max(...step.map(Math.abs));
    if (size < 1e-13 && s <= 1e-3 && mu === 0) break;
    s = Math.max(1e-3, Math.min(s / 4, 4 * size));
  }
  // Converged to within rounding of a wall from inside: on it. The model integral then skips the
  // face through the zero instead of integrating a face 1e-16 away, scaled by 1/|u|.
  xi = xi.map((v, k) => (Math.abs(v) <= 1e-9 ? 0 : Math.abs(v - grid.n[k]) <= 1e-9 ? grid.n[k] : v));
  const { H, f0 } = derivatives(grid, f, xi, 1e-2);
  if (!choleskyOk(H) || !Number.isFinite(f0)) return null;
  return { xi, c: Math.max(0, f0) + eps, H };
}

/** Cells that may hold an isolated minimum where π is peaked at the cell scale. */
function candidates(grid: Grid, fAvg: Float64Array, eps: number): number[] {
  const d = grid.dim;
  const out: { i: number; r: number }[] = [];
  const idx = new Array<number>(d).fill(0);
  const { n, strides } = grid;
  for (let i = 0; i < grid.size; i++) {
    const v = fAvg[i] + eps;
    let isMin = true;
    let maxN = 0;
    // Most cells have a lower neighbour: stop at the first one.
    for (let k = 0; k < d && isMin; k++) {
      if (idx[k] > 0) {
        const w = fAvg[i - strides[k]] + eps;
        if (w < v) isMin = false;
        else if (w > maxN) maxN = w;
      }
      if (idx[k] < n[k] - 1) {
        const w = fAvg[i + strides[k]] + eps;
        if (w < v) isMin = false;
        else if (w > maxN) maxN = w;
      }
    }
    // f changing by a factor ≥ 2 within one cell: π is peaked at the cell scale or below.
    if (isMin && maxN >= 2 * v) out.push({ i, r: maxN / v });
    for (let k = d - 1; k >= 0; k--) {
      if (++idx[k] < n[k]) break;
      idx[k] = 0;
    }
  }
  out.sort((a, b) => b.r - a.r);
  return out.slice(0, 256).map((o) => o.i);
}

/** Whether the model integral exists in closed form here (see the top of this file). */
function modelHandled(dim: number, cHat: number, alpha: number): boolean {
  if (dim === 3) return cHat === 0 && alpha < 1.5;
  return cHat > 0;
}

/** ln of the cell average of q̂^−α over the unit cell [lo, lo + 1]^d (ξ relative to x0). */
function logModelAverage(lo: readonly number[], cHat: number, Ht: readonly number[][], alpha: number): number {
  const d = lo.length;
  const hi = lo.map((v) => v + 1);
  if (d === 1) return logInterval1(lo[0], hi[0], cHat, Ht[0][0], alpha);
  if (d === 2) return logRect2(lo, hi, cHat, [0, 0], Ht, alpha);
  return Math.log(box3Homogeneous(lo, hi, Ht, alpha));
}

/** Calls fn for every cell of the 5^d block (clipped at the walls) around a located minimum. */
function forBlock(grid: Grid, m: LocalMinimum, fn: (cell: number) => void): void {
  const d = grid.dim;
  const ranges = m.xi.map((v, k) => [Math.max(0, Math.floor(v) - 2), Math.min(grid.n[k] - 1, Math.floor(v) + 2)]);
  const visit = (k: number, cell: number): void => {
    if (k === d) return fn(cell);
    for (let v = ranges[k][0]; v <= ranges[k][1]; v++) visit(k + 1, cell + v * grid.strides[k]);
  };
  visit(0, 0);
}

const G3 = [-Math.sqrt(3 / 5) / 2, 0, Math.sqrt(3 / 5) / 2];
const W3 = [5 / 18, 8 / 18, 5 / 18];

/**
 * Replaces psi (−ln of the cell average of (f + ε)^−α, unshifted) in the 5^d block of cells around
 * every isolated minimum where π is peaked at the cell scale, by the model integral plus the Gauss
 * remainder (see the top of this file). fAvg: cell averages of f. Returns the minima used.
 */
export function correctSingularCells(grid: Grid, f: PointFunction, fAvg: Float64Array, eps: number, alpha: number, psi: Float64Array): LocalMinimum[] {
  const d = grid.dim;
  const used: LocalMinimum[] = [];
  // Zeros where π = f^−α is not integrable (ĉ = 0 with 2α ≥ d): the cell average of π is infinite in
  // the cell holding the zero and a Gauss rule gives its neighbours arbitrary, too-large values, which
  // flattens the grid π's peak and slows the collapse (3-D |θ|², ησ = 3: the E log f drift 30 % off).
  // There the whole block keeps π of the cell average of f, one consistent rule (as before the cell
  // averages of π were introduced), since the discrete π is a grid artifact in any case.
  const artifacts: LocalMinimum[] = [];
  for (const i of candidates(grid, fAvg, eps)) {
    const centre: number[] = [];
    let rem = i;
    for (let k = 0; k < d; k++) {
      const ik = Math.floor(rem / grid.strides[k]);
      rem -= ik * grid.strides[k];
      centre.push(ik + 0.5);
    }
    const m = locateMinimum(grid, f, centre, eps);
    if (!m) continue;
    if (used.some((u) => u.xi.every((v, k) => Math.abs(v - m.xi[k]) < 0.5))) continue;
    const kappa = m.H.reduce((s, r, k) => s + r[k], 0) / d;
    // Below this the minimum is a zero as far as float64 locates it (|ξ − ξ0| ~ 1e-8 at best).
    const cHat = m.c / kappa <= 1e-14 ? 0 : m.c / kappa;
    if (!modelHandled(d, cHat, alpha)) {
      if (cHat === 0 && !(2 * alpha < d) && !artifacts.some((u) => u.xi.every((v, k) => Math.abs(v - m.xi[k]) < 0.5))) artifacts.push(m);
      continue;
    }
    used.push(m);
  }
  for (const m of artifacts) {
    forBlock(grid, m, (cell) => {
      psi[cell] = alpha * Math.log(fAvg[cell] + eps);
    });
  }
  if (used.length === 0) return used;
  // Each cell of a block is corrected with its nearest minimum's model.
  const owner = new Map<number, number>();
  const dist = new Map<number, number>();
  used.forEach((m, z) => {
    const base = m.xi.map((v) => Math.floor(v));
    const span = d === 1 ? 2 : 2;
    const ranges = base.map((b, k) => [Math.max(0, b - span), Math.min(grid.n[k] - 1, b + span)]);
    const visit = (k: number, idx: number[]): void => {
      if (k === d) {
        const cell = idx.reduce((s, v, kk) => s + v * grid.strides[kk], 0);
        const r = Math.max(...idx.map((v, kk) => Math.abs(v + 0.5 - m.xi[kk])));
        if (!(dist.get(cell)! <= r)) {
          owner.set(cell, z);
          dist.set(cell, r);
        }
        return;
      }
      for (let v = ranges[k][0]; v <= ranges[k][1]; v++) visit(k + 1, [...idx, v]);
    };
    visit(0, []);
  });
  const cells = [...owner.keys()];
  // f at the 3^d Gauss nodes of every block cell.
  const nq = 3 ** d;
  const pts: number[][] = [];
  const cellIdx: number[][] = [];
  for (const cell of cells) {
    let rem = cell;
    const idx: number[] = [];
    for (let k = 0; k < d; k++) {
      idx.push(Math.floor(rem / grid.strides[k]));
      rem -= idx[k] * grid.strides[k];
    }
    cellIdx.push(idx);
    for (let q = 0; q < nq; q++) {
      let r = q;
      const p: number[] = [];
      for (let k = d - 1; k >= 0; k--) {
        p[k] = idx[k] + 0.5 + G3[r % 3];
        r = Math.floor(r / 3);
      }
      pts.push(p);
    }
  }
  const fv = evalGridUnits(grid, f, pts);
  cells.forEach((cell, ci) => {
    const m = used[owner.get(cell)!];
    const kappa = m.H.reduce((s, r, k) => s + r[k], 0) / d;
    const cHat = m.c / kappa <= 1e-14 ? 0 : m.c / kappa;
    const Ht = m.H.map((r) => r.map((v) => v / kappa));
    const lo = cellIdx[ci].map((v, k) => v - m.xi[k]);
    const L = logModelAverage(lo, cHat, Ht, alpha) - alpha * Math.log(kappa);
    if (!Number.isFinite(L)) return;
    let ratio = 1;
    for (let q = 0; q < nq; q++) {
      let r = q;
      let w = 1;
      const xi: number[] = [];
      for (let k = d - 1; k >= 0; k--) {
        xi[k] = lo[k] + 0.5 + G3[r % 3];
        w *= W3[r % 3];
        r = Math.floor(r / 3);
      }
      let qq = 0;
      for (let k = 0; k < d; k++) for (let l = 0; l < d; l++) qq += 0.5 * xi[k] * Ht[k][l] * xi[l];
      const fq = fv[ci * nq + q] + eps;
      // At a node (almost) on the zero both terms are infinite while their difference is not
      // integrable by a point rule: leave that node's remainder out (an O(h^(d+1−2α)) error).
      if (!(fq > 0) || (cHat === 0 && qq < 1e-3)) continue;
      ratio += w * (Math.exp(-alpha * Math.log(fq) - L) - Math.exp(-alpha * Math.log(kappa * (cHat + qq)) - L));
    }
    // A remainder as large as the model means the model does not describe f here.
    if (ratio > 0.25 && ratio < 4) psi[cell] = -L - Math.log(ratio);
  });
  return used;
}
