import type { Grid } from '../grid.js';
import type { Problem } from '../problem.js';
import { bernoulli } from '../kernels/bernoulli.js';
import type { Csr } from '../sparse/csr.js';
import { canonicalOffset, fitsStencil, selling, sellingScratch, SELLING_TERMS, type SellingResult } from './selling.js';
import { splitDrift } from './pinv.js';
import type { AnisotropicGenerator, AssemblyStats, DiffusionField, GradientField, OffsetRates } from './types.js';

/**
 * The monotone finite-volume generator of ∂tρ = ∇·(ρ∇f) + ∇·∇·(Dρ) for a diffusion matrix D(θ)
 * (docs/design.md §2 "Diffusion matrices").
 *
 * In lattice coordinates y = H⁻¹θ (H = diag(h)) the flux reads H⁻¹J = −(D̃∇_yρ + ρc), with
 * D̃ = H⁻¹DH⁻¹ and c = H⁻¹(∇·D + ∇f). Per cell, Selling's decomposition D̃ = Σ_e w_e e eᵀ (w_e ≥ 0,
 * integer e) and the split c = D̃G + r (G = D̃⁺c) give
 *   H⁻¹J = −Σ_e w_e e (∂_eρ + ρ e·G) − ρ r,
 * a sum of one-dimensional drift–diffusion fluxes along the offsets plus a transport r outside
 * range(D̃). Each offset's flux between cells i and j = i + e is fitted exponentially (the
 * Scharfetter–Gummel flux of solvers/operator.ts) with w the average of the two cells' weights and
 * Δ = e·(G_i + G_j)/2 (the trapezoid rule for ∫ e·G along the segment); r is upwinded along the
 * axes. Every rate is ≥ 0 whatever D ≥ 0 is, so the generator is a Markov generator: mass is
 * conserved and ρ ≥ 0 is kept by exact and backward-Euler steps.
 *
 * Cell values (not midpoint values) are decomposed: one evaluation of D, ∇·D and ∇f and one
 * decomposition per cell instead of one per pair and offset (8 to 49 times fewer), at the same
 * second order where the field is smooth.
 */
export interface AssemblyOptions {
  /** Offsets of max-norm ≤ radius are allowed (default 1 in 1-D, 2 in 2-D and 3-D). */
  radius?: number;
  /**
   * Eigenvalues of D̃ below cutoff·λ_max count as 0 in the drift split (their drift component is
   * upwinded): bounds the fitted rates near singular directions. Default 1e-3.
   */
  pinvCutoff?: number;
  /** Relative precision of the bisection for the relaxation δ (default 1e-3). */
  relaxPrecision?: number;
}

/**
 * The exponentially fitted rates of one pair with weight w and potential difference Δ:
 * up = w·B(Δ) (i → j), down = w·B(−Δ) (j → i), B(z) = z/(e^z − 1), written exactly as
 * solvers/kernels/operator-kernels.ts faceCoefficients writes them (B(−a) = a + B(a) for a ≥ 0),
 * so that the reduction to the reversible scheme is exact to the bit.
 */
export function fittedRates(w: number, delta: number, up: Float64Array, down: Float64Array, i: number): void {
  const a = Math.abs(delta);
  const ba = bernoulli(a);
  const lo = w * ba;
  const hi = w * (a + ba);
  up[i] = delta >= 0 ? lo : hi;
  down[i] = delta >= 0 ? hi : lo;
}

interface OffsetTable {
  list: number[][];
  /** Key Σ (e_k + R)(2R + 1)^k → index in list, −1 for offsets outside the table. */
  index: Int32Array;
  radius: number;
}

function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Primitive offsets of max-norm ≤ R with canonical sign, axes first, then by max-norm and lexicographically. */
function offsetTable(dim: number, radius: number): OffsetTable {
  const side = 2 * radius + 1;
  const index = new Int32Array(side ** dim).fill(-1);
  const all: number[][] = [];
  for (let key = 0; key < side ** dim; key++) {
    const e: number[] = [];
    let k = key;
    for (let a = 0; a < dim; a++) {
      e.push((k % side) - radius);
      k = Math.floor(k / side);
    }
    if (e.reduce((g, v) => gcd(g, v), 0) !== 1) continue;
    if (canonicalOffset(e.slice()).some((v, a) => v !== e[a])) continue;
    all.push(e);
  }
  const norm1 = (e: number[]): number => e.reduce((s, v) => s + Math.abs(v), 0);
  const normInf = (e: number[]): number => Math.max(...e.map(Math.abs));
  // Axis offsets first, in axis order (the upwind transport finds axis a at index a).
  const rank = (e: number[]): number => (norm1(e) === 1 ? 0 : 1);
  all.sort((p, q) => rank(p) - rank(q) || normInf(p) - normInf(q) || norm1(p) - norm1(q) || cmpLex(q, p));
  const keyOf = (e: number[]): number => e.reduce((s, v, a) => s + (v + radius) * side ** a, 0);
  all.forEach((e, t) => {
    index[keyOf(e)] = t;
    index[keyOf(e.map((v) => -v))] = t;
  });
  return { list: all, index, radius };
}

function cmpLex(p: number[], q: number[]): number {
  for (let k = 0; k < p.length; k++) if (p[k] !== q[k]) return p[k] - q[k];
  return 0;
}

function tableIndex(t: OffsetTable, dim: number, off: Int32Array, at: number): number {
  const side = 2 * t.radius + 1;
  let key = 0;
  let mul = 1;
  for (let a = 0; a < dim; a++) {
    const v = off[at + a];
    if (v < -t.radius || v > t.radius) return -1;
    key += (v + t.radius) * mul;
    mul *= side;
  }
  return t.index[key];
}

/**
 * The generator of the diffusion matrix `field` and the landscape gradient `gradF` on `grid`, with
 * reflecting walls (pairs whose neighbour is outside the box carry no flux).
 * Throws RangeError naming the cell where D, ∇·D or ∇f is not finite.
 */
export function assembleGenerator(grid: Grid, field: DiffusionField, gradF: GradientField, opts: AssemblyOptions = {}): AnisotropicGenerator {
  const d = grid.dim;
  if (field.dim !== d) throw new RangeError(`diffusion field has dimension ${field.dim}, grid has ${d}`);
  const N = grid.size;
  const R = opts.radius ?? (d === 1 ? 1 : 2);
  if (!(Number.isInteger(R) && R >= 1 && R <= 4)) throw new RangeError(`stencil radius must be an integer in [1, 4] (got ${R})`);
  const cutoff = opts.pinvCutoff ?? 1e-3;
  const precision = opts.relaxPrecision ?? 1e-3;
  const S = SELLING_TERMS[d];
  const table = offsetTable(d, R);
  const slotIdx = new Int32Array(N * S).fill(-1);
  const slotW = new Float64Array(N * S);
  const G = new Float64Array(N * d);
  const Rm = new Float64Array(N * d);
  const x = new Float64Array(d);
  const Dm = new Float64Array(d * d);
  const Dl = new Float64Array(d * d);
  const div = new Float64Array(d);
  const gf = new Float64Array(d);
  const c = new Float64Array(d);
  const g = new Float64Array(d);
  const r = new Float64Array(d);
  const res = sellingScratch(d);
  const h = grid.h;
  const idx = new Array<number>(d).fill(0);
  let relaxMax = 0;
  let relaxCells = 0;
  let relaxAt: number[] | undefined;
  let upwindCells = 0;

  for (let i = 0; i < N; i++) {
    for (let a = 0; a < d; a++) x[a] = grid.lo[a] + (idx[a] + 0.5) * h[a];
    field.evalD(x, Dm);
    field.evalDivD(x, div);
    gradF(x, gf);
    let tr = 0;
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        // Symmetrized so that a field whose two halves differ by rounding still decomposes.
        Dl[a * d + b] = (0.5 * (Dm[a * d + b] + Dm[b * d + a])) / (h[a] * h[b]);
        if (!Number.isFinite(Dl[a * d + b])) throw new RangeError(`D[${a}][${b}]/(h_${a}·h_${b}) is ${Dl[a * d + b]} at θ = (${Array.from(x).join(', ')}) (D[${a}][${b}] = ${Dm[a * d + b]}, h = ${h.join(', ')}): allowed |D_ij| < 1.7e308·h_i·h_j`);
      }
      tr += Dl[a * d + a];
      c[a] = (div[a] + gf[a]) / h[a];
      if (!Number.isFinite(c[a])) throw new RangeError(`the drift (∇·D + ∇f)_${a}/h_${a} is ${c[a]} at θ = (${Array.from(x).join(', ')}) ((∇·D)_${a} = ${div[a]}, ∂_${a}f = ${gf[a]}): both must be finite, with a sum below 1.7e308·h_${a}`);
    }
    if (tr > 0) {
      const negligible = 1e-13 * tr;
      let delta = 0;
      if (!fitsStencil(d, selling(d, Dl, res), R, negligible)) {
        delta = relax(d, Dl, tr, R, precision, res);
        for (let a = 0; a < d; a++) Dl[a * d + a] += delta * tr;
        relaxCells++;
        if (delta > relaxMax) {
          relaxMax = delta;
          relaxAt = Array.from(x);
        }
      }
      let s = 0;
      for (let t = 0; t < res.count; t++) {
        const w = res.weights[t];
        if (!(w > 0)) continue;
        const p = tableIndex(table, d, res.offsets, d * t);
        // Only rounding-level weights can miss the table (fitsStencil let them through).
        if (p < 0) continue;
        slotIdx[i * S + s] = p;
        slotW[i * S + s] = w;
        s++;
      }
      if (splitDrift(d, Dl, c, cutoff, g, r)) upwindCells++;
    } else {
      // D = 0 (a non-positive trace is zero for a PSD field): all drift is transport.
      for (let a = 0; a < d; a++) {
        g[a] = 0;
        r[a] = c[a];
      }
      if (r.some((v) => v !== 0)) upwindCells++;
    }
    for (let a = 0; a < d; a++) {
      G[i * d + a] = g[a];
      Rm[i * d + a] = r[a];
    }
    for (let a = d - 1; a >= 0; a--) {
      if (++idx[a] < grid.n[a]) break;
      idx[a] = 0;
    }
  }

  const used = new Uint8Array(table.list.length);
  for (let k = 0; k < slotIdx.length; k++) if (slotIdx[k] >= 0) used[slotIdx[k]] = 1;
  // Axis offsets carry the upwind transport.
  if (upwindCells > 0) for (let a = 0; a < d; a++) used[a] = 1;

  // Cell weights per used offset, gathered in one pass over the slots.
  const slot = new Int32Array(table.list.length).fill(-1);
  let nUsed = 0;
  for (let p = 0; p < table.list.length; p++) if (used[p]) slot[p] = nUsed++;
  const wcells = Array.from({ length: nUsed }, () => new Float64Array(N));
  for (let k = 0; k < slotIdx.length; k++) if (slotIdx[k] >= 0) wcells[slot[slotIdx[k]]][Math.floor(k / S)] += slotW[k];
  const pairs: OffsetRates[] = [];
  for (let p = 0; p < table.list.length; p++) {
    if (!used[p]) continue;
    const e = table.list[p];
    const wcell = wcells[slot[p]];
    const up = new Float64Array(N);
    const down = new Float64Array(N);
    const axis = e.reduce((s, v) => s + Math.abs(v), 0) === 1 ? e.findIndex((v) => v !== 0) : -1;
    const step = e.reduce((s, v, a) => s + v * grid.strides[a], 0);
    forEachPair(grid, e, (i) => {
      const j = i + step;
      const w = 0.5 * (wcell[i] + wcell[j]);
      let delta = 0;
      for (let a = 0; a < d; a++) if (e[a] !== 0) delta += e[a] * (G[i * d + a] + G[j * d + a]);
      fittedRates(w, 0.5 * delta, up, down, i);
      if (axis >= 0) {
        const v = -0.5 * (Rm[i * d + axis] + Rm[j * d + axis]);
        if (v > 0) up[i] += v;
        else down[i] -= v;
      }
    });
    pairs.push({ offset: e.slice(), up, down });
  }
  reflectAtWalls(grid, table.list, used, slot, wcells, G, pairs);
  const forward = forwardMatrix(grid, pairs);
  return { grid, pairs, forward, stats: statsOf(grid, pairs, forward, { max: relaxMax, cells: relaxCells, at: relaxAt }, upwindCells) };
}

/**
 * Pairs of a non-axis offset whose partner lies outside the box are reflected, not dropped: the
 * jump i → i + e lands on the mirror image of i + e in the wall (and the mirror cell jumps back to
 * i), with i's weight along e and the potential difference along the jump made. Dropping them would enforce zero flux along
 * every such offset at the wall instead of zero normal flux: with a low-rank D whose offsets all
 * point out of the wall, the drift along the wall has no pair to ride on and mass is trapped in
 * the wall cells (a rank-one D along (1, √2) on an OU gave μ₁ = −0.018 at 32², −0.074 at 128²,
 * exact −1). Axis offsets reflect onto the cell itself, so the axis-only scheme (the reduction to
 * the reversible one) is unchanged.
 */
function reflectAtWalls(grid: Grid, list: readonly number[][], used: Uint8Array, slot: Int32Array, wcells: Float64Array[], G: Float64Array, pairs: OffsetRates[]): void {
  const d = grid.dim;
  const N = grid.size;
  const byKey = new Map<string, OffsetRates>();
  for (const pr of pairs) byKey.set(pr.offset.join(','), pr);
  const idx = new Array<number>(d);
  const m = new Array<number>(d);
  const rate = new Float64Array(2);
  const back = new Float64Array(2);
  for (let p = 0; p < list.length; p++) {
    if (!used[p]) continue;
    const e = list[p];
    if (e.reduce((s, v) => s + Math.abs(v), 0) === 1) continue;
    const wcell = wcells[slot[p]];
    for (let i = 0; i < N; i++) {
      const w = wcell[i];
      if (!(w > 0)) continue;
      let rest = i;
      for (let a = 0; a < d; a++) {
        idx[a] = Math.floor(rest / grid.strides[a]);
        rest -= idx[a] * grid.strides[a];
      }
      for (const sgn of [1, -1]) {
        let outside = false;
        let ok = true;
        let same = true;
        for (let a = 0; a < d; a++) {
          let t = idx[a] + sgn * e[a];
          if (t < 0 || t >= grid.n[a]) {
            outside = true;
            t = t < 0 ? -1 - t : 2 * grid.n[a] - 1 - t;
            if (t < 0 || t >= grid.n[a]) ok = false;
          }
          m[a] = t;
          if (t !== idx[a]) same = false;
        }
        if (!outside || !ok || same) continue;
        let j = 0;
        for (let a = 0; a < d; a++) j += m[a] * grid.strides[a];
        const off = m.map((v, a) => v - idx[a]);
        // The potential difference along the jump actually made (trapezoid, as inside the box): a
        // gradient G keeps detailed balance, so commuting H and D still carry no current.
        let delta = 0;
        for (let a = 0; a < d; a++) delta += 0.5 * off[a] * (G[i * d + a] + G[j * d + a]);
        // rate[0]: i → mirror, back[0]: mirror → i.
        fittedRates(w, delta, rate, back, 0);
        const canon = canonicalOffset(off.slice());
        const flipped = canon.some((v, a) => v !== off[a]);
        const key = canon.join(',');
        let pr = byKey.get(key);
        if (!pr) {
          pr = { offset: canon, up: new Float64Array(N), down: new Float64Array(N) };
          byKey.set(key, pr);
          pairs.push(pr);
        }
        // A pair is stored at its lower cell: up is the jump along +canon.
        if (!flipped) {
          pr.up[i] += rate[0];
          pr.down[i] += back[0];
        } else {
          pr.up[j] += back[0];
          pr.down[j] += rate[0];
        }
      }
    }
  }
}

/**
 * The smallest δ (to `precision` relative, by bisection) for which D + δ·tr(D)·I decomposes on the
 * stencil; the decomposition at that δ is left in res. Diagonal dominance is enough for the
 * max-norm-1 stencil, which gives the first upper bound; it is doubled if Selling's superbase
 * still leaves the stencil.
 */
function relax(d: number, D: Float64Array, tr: number, radius: number, precision: number, res: SellingResult): number {
  const trial = new Float64Array(d * d);
  const fits = (delta: number): boolean => {
    trial.set(D);
    for (let a = 0; a < d; a++) trial[a * d + a] += delta * tr;
    // A superbase that leaves this box will not come back within the stencil in the few flips
    // left (2-D offsets are the superbase vectors turned by 90°, 3-D ones their cross products):
    // cutting it short costs at most a slightly larger δ and keeps the bisection cheap.
    return fitsStencil(d, selling(d, trial, res, 64, d === 2 ? 2 * radius + 2 : 2 * radius * radius + 2), radius, 1e-13 * tr * (1 + d * delta));
  };
  let hi = 0;
  for (let a = 0; a < d; a++) {
    let off = 0;
    for (let b = 0; b < d; b++) if (b !== a) off += Math.abs(D[a * d + b]);
    hi = Math.max(hi, (off - D[a * d + a]) / tr);
  }
  hi = Math.max(hi * (1 + 1e-9), 1e-12);
  for (let t = 0; !fits(hi); t++) {
    if (t > 60) throw new RangeError('diffusion matrix cannot be relaxed onto the stencil');
    hi *= 2;
  }
  let lo = 0;
  while (hi - lo > precision * hi) {
    const mid = 0.5 * (lo + hi);
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  fits(hi);
  return hi;
}

/** Calls visit(i) for every cell i whose neighbour i + e is inside the box, in increasing i. */
function forEachPair(grid: Grid, e: readonly number[], visit: (i: number) => void): void {
  const d = grid.dim;
  const lo = e.map((v) => Math.max(0, -v));
  const hi = e.map((v, a) => grid.n[a] - Math.max(0, v));
  if (hi.some((v, a) => v <= lo[a])) return;
  const idx = lo.slice();
  for (;;) {
    let i = 0;
    for (let a = 0; a < d; a++) i += idx[a] * grid.strides[a];
    // The innermost axis is contiguous: one loop over it.
    const last = d - 1;
    for (let k = lo[last]; k < hi[last]; k++) visit(i + (k - lo[last]) * grid.strides[last]);
    let a = last - 1;
    for (; a >= 0; a--) {
      if (++idx[a] < hi[a]) break;
      idx[a] = lo[a];
    }
    if (a < 0) return;
  }
}

/**
 * A with dρ_i/dt = Σ_j (ρ_j q_ji − ρ_i q_ij) as CSR: row i holds up[i − e] at column i − e (jumps
 * into i from below), down[i] at i + e (from above) and the out-flow on the diagonal. Every in-box
 * neighbour of a used offset is stored, rate 0 or not, so the pattern depends on the grid and the
 * offsets only.
 */
export function forwardMatrix(grid: Grid, pairs: readonly OffsetRates[]): Csr {
  const d = grid.dim;
  const N = grid.size;
  interface Slot { step: number; vec: number[]; p: number; kind: 0 | 1 | 2 }
  const slots: Slot[] = [{ step: 0, vec: new Array(d).fill(0), p: -1, kind: 0 }];
  pairs.forEach((pr, p) => {
    const step = pr.offset.reduce((s, v, a) => s + v * grid.strides[a], 0);
    slots.push({ step: -step, vec: pr.offset.map((v) => -v), p, kind: 1 });
    slots.push({ step, vec: pr.offset.slice(), p, kind: 2 });
  });
  slots.sort((a, b) => a.step - b.step);
  const nS = slots.length;
  const steps = Int32Array.from(slots.map((s) => s.step));
  const kind = Int8Array.from(slots.map((s) => s.kind));
  // Slot t is in the box for row index idx iff lo[t·d + a] ≤ idx[a] < hi[t·d + a] on every axis.
  const lo = new Int32Array(nS * d);
  const hi = new Int32Array(nS * d);
  slots.forEach((s, t) => {
    for (let a = 0; a < d; a++) {
      lo[t * d + a] = Math.max(0, -s.vec[a]);
      hi[t * d + a] = grid.n[a] - Math.max(0, s.vec[a]);
    }
  });
  const ups = slots.map((s) => (s.p >= 0 ? pairs[s.p].up : null));
  const downs = slots.map((s) => (s.p >= 0 ? pairs[s.p].down : null));
  const idx = new Int32Array(d);
  const valid = new Uint8Array(nS);
  // The validity of every slot for the current row; returns how many are valid.
  // Rows at least `reach` cells from every wall have every slot in the box.
  const reach = new Int32Array(d);
  for (const sl of slots) for (let a = 0; a < d; a++) reach[a] = Math.max(reach[a], Math.abs(sl.vec[a]));
  const mark = (): number => {
    let inner = true;
    for (let a = 0; a < d; a++) if (idx[a] < reach[a] || idx[a] >= grid.n[a] - reach[a]) inner = false;
    if (inner) {
      valid.fill(1);
      return nS;
    }
    let cnt = 0;
    for (let t = 0; t < nS; t++) {
      let ok = 1;
      for (let a = 0; a < d; a++) {
        const v = idx[a];
        if (v < lo[t * d + a] || v >= hi[t * d + a]) {
          ok = 0;
          break;
        }
      }
      valid[t] = ok;
      cnt += ok;
    }
    return cnt;
  };
  const next = (): void => {
    for (let a = d - 1; a >= 0; a--) {
      if (++idx[a] < grid.n[a]) return;
      idx[a] = 0;
    }
  };
  const rowPtr = new Int32Array(N + 1);
  for (let i = 0; i < N; i++) {
    rowPtr[i + 1] = rowPtr[i] + mark();
    next();
  }
  const col = new Int32Array(rowPtr[N]);
  const val = new Float64Array(rowPtr[N]);
  idx.fill(0);
  for (let i = 0; i < N; i++) {
    mark();
    let k = rowPtr[i];
    let diagAt = -1;
    let out = 0;
    for (let t = 0; t < nS; t++) {
      if (!valid[t]) continue;
      const j = i + steps[t];
      col[k] = j;
      if (kind[t] === 0) diagAt = k;
      else if (kind[t] === 1) {
        // Neighbour below (j = i − e): jumps j → i at up[j]; i's own jumps to j at down[j].
        val[k] = ups[t]![j];
        out += downs[t]![j];
      } else {
        val[k] = downs[t]![i];
        out += ups[t]![i];
      }
      k++;
    }
    val[diagAt] = -out;
    next();
  }
  return { rows: N, cols: N, rowPtr, col, val };
}

function statsOf(grid: Grid, pairs: readonly OffsetRates[], forward: Csr, relaxation: AssemblyStats['relaxation'], upwindCells: number): AssemblyStats {
  let minRate = Infinity;
  let maxRate = 0;
  for (const pr of pairs) {
    forEachPair(grid, pr.offset, (i) => {
      const lo = Math.min(pr.up[i], pr.down[i]);
      const hi = Math.max(pr.up[i], pr.down[i]);
      if (lo < minRate) minRate = lo;
      if (hi > maxRate) maxRate = hi;
    });
  }
  let maxOut = 0;
  for (let i = 0; i < forward.rows; i++) {
    for (let k = forward.rowPtr[i]; k < forward.rowPtr[i + 1]; k++) if (forward.col[k] === i && -forward.val[k] > maxOut) maxOut = -forward.val[k];
  }
  const out: AssemblyStats = {
    offsets: pairs.map((p) => p.offset.slice()),
    relaxation: relaxation.at ? relaxation : { max: relaxation.max, cells: relaxation.cells },
    upwindCells,
    minRate: minRate === Infinity ? 0 : minRate,
    maxRate,
    explicitLimit: maxOut > 0 ? 1 / maxOut : Infinity,
  };
  return out;
}

/**
 * The exact reduction: the reversible problem's scheme (solvers/operator.ts) as offset rates,
 * axis offsets with w = D_σ/h² and Δ = ψ_j − ψ_i, so that `forward` applies the same A as
 * FvOperator's applyA (same formulas, same order of the face terms).
 */
export function generatorFromProblem(problem: Problem): AnisotropicGenerator {
  const grid = problem.grid;
  const psi = problem.psi;
  const pairs: OffsetRates[] = [];
  for (let k = 0; k < grid.dim; k++) {
    const e = new Array<number>(grid.dim).fill(0);
    e[k] = 1;
    const up = new Float64Array(grid.size);
    const down = new Float64Array(grid.size);
    const D = problem.faceD[k];
    const inv = 1 / (grid.h[k] * grid.h[k]);
    const stride = grid.strides[k];
    forEachPair(grid, e, (i) => fittedRates(D[i] * inv, psi[i + stride] - psi[i], up, down, i));
    pairs.push({ offset: e, up, down });
  }
  const forward = forwardMatrix(grid, pairs);
  return { grid, pairs, forward, stats: statsOf(grid, pairs, forward, { max: 0, cells: 0 }, 0) };
}

/**
 * The net probability current across each pair, J = ρ_i up[i] − ρ_j down[i] (lattice units: per
 * unit volume and time along the offset), one array per entry of gen.pairs (0 outside the box).
 */
export function pairCurrents(gen: AnisotropicGenerator, rho: Float64Array): Float64Array[] {
  return gen.pairs.map((pr) => {
    const out = new Float64Array(gen.grid.size);
    const step = pr.offset.reduce((s, v, a) => s + v * gen.grid.strides[a], 0);
    forEachPair(gen.grid, pr.offset, (i) => {
      out[i] = rho[i] * pr.up[i] - rho[i + step] * pr.down[i];
    });
    return out;
  });
}

/**
 * The physical current vector J at each cell centre (one array per axis): the lattice flux
 * Σ_e e·F_e with F_e averaged over the pair below and the pair above the cell, scaled by h per axis.
 * Second order where ρ and the field are smooth; at the walls the missing pair counts as 0.
 */
export function cellCurrent(gen: AnisotropicGenerator, rho: Float64Array): Float64Array[] {
  const g = gen.grid;
  const J = Array.from({ length: g.dim }, () => new Float64Array(g.size));
  const F = pairCurrents(gen, rho);
  gen.pairs.forEach((pr, p) => {
    const step = pr.offset.reduce((s, v, a) => s + v * g.strides[a], 0);
    forEachPair(g, pr.offset, (i) => {
      const f = 0.5 * F[p][i];
      for (let a = 0; a < g.dim; a++) {
        if (pr.offset[a] === 0) continue;
        const v = f * pr.offset[a] * g.h[a];
        J[a][i] += v;
        J[a][i + step] += v;
      }
    });
  });
  return J;
}
