import type { Problem } from '../../solvers/problem.js';
import type { PointFunction } from '../../solvers/quadrature.js';
import { linearFit } from './rates.js';
import { basinSeriesColumns } from './basins.js';

/** One row of the time series (report.json `series`, series.csv). */
export interface SeriesPoint {
  t: number;
  mass: number;
  minDensity: number;
  /** E[f] under ρ (cell-averaged f). */
  meanLoss: number;
  /** ‖ρ − π‖₁ = 2·TV, with ρ normalized by its mass and π normalized on the grid. */
  l1: number;
  /** KL(ρ | π). */
  kl: number;
  /** χ² = ‖ρ/π − 1‖²_{L²(π)}; null only if it exceeds the float64 range (see log10Chi2). */
  chi2: number | null;
  log10Chi2: number;
  /** Mass in {f < δ} (collapse diagnostic; always computed). */
  massBelowDelta: number;
  /**
   * E[log f] under ρ (log of the cell averages of f); null where f ≤ 0 somewhere (additive noise
   * on a signed f). Its drift is the almost-sure collapse rate (docs/regime.md).
   */
  meanLogLoss?: number | null;
  /**
   * Mass near each zero-set component (report.json `regimeDetails.components`, same order): the
   * component's own cells plus the cells of {f < δ} reached from them, each cell given to the
   * nearest component.
   */
  massNearZero?: number[];
  /** Fraction of the mass in each basin of attraction (report.json `basins.basins`, same order; src/diagnostics/basins.ts). */
  massBasin?: number[];
  /** Mean arc-length position along each valley (report.json `basins.valleys`, same order) and its standard deviation. */
  valleyMean?: (number | null)[];
  valleySpread?: (number | null)[];
}

/**
 * Distances of ρ to the discrete π. Everything is computed from ln π (never π itself where it
 * matters) so that χ² stays finite-or-logged even when ρ sits where π underflows.
 */
/** The grid shape the distance loops need (solvers/grid.ts Grid has it). */
export interface GridShape {
  readonly dim: number;
  readonly n: readonly number[];
  readonly strides: readonly number[];
  readonly size: number;
  readonly cellVolume: number;
}

/**
 * A target law other than a Problem's π (a diffusion-matrix run measures against the steady state it
 * computed): the cell values of f and ln of the normalized target density, every entry finite.
 */
export interface TargetLaw {
  readonly grid: GridShape;
  readonly f: Float64Array;
  readonly logTarget: Float64Array;
}

export class DistanceTracker {
  private readonly grid: GridShape;
  private readonly f: Float64Array;
  private readonly logPi: Float64Array;
  /** exp(ln π) per cell, kept: every report needs it (the same bits as computing it there). */
  private readonly pi: Float64Array;
  readonly delta: number;
  /** E_π[f]: the equilibrium mean loss of the discrete π. */
  readonly meanLossPi: number;

  /** Component label of each cell (−1: near none); null when there are no components. */
  private readonly label: Int32Array | null;
  private readonly nComponents: number;
  private readonly logF: Float64Array | null;

  /**
   * `componentCells`: the cells of each zero-set component (Regime.componentCells). `landscape`:
   * f at points, for cell averages of log f (without it, the log of the cell averages of f).
   * `cellLogF`: those averages already computed where the landscape is smooth on the cell (NaN
   * elsewhere; Setup.cellLogF, from π's quadrature nodes), handed over: only the NaN cells are
   * evaluated here.
   */
  constructor(problem: Problem | TargetLaw, delta: number, componentCells: readonly (readonly number[])[] = [], landscape?: PointFunction, cellLogF?: Float64Array) {
    this.grid = problem.grid;
    this.f = problem.f;
    // A Problem's own arrays (computed once, shared with the walls, basins and outputs; never written here).
    this.logPi = 'logTarget' in problem ? problem.logTarget : problem.logPiShared();
    this.pi = 'logTarget' in problem ? this.logPi.map((v) => Math.exp(v)) : problem.piShared();
    this.delta = delta;
    // The report's component lists stop at 127 (the label type once was Int8); kept so every report keeps its shape.
    this.nComponents = Math.min(componentCells.length, 127);
    this.label = this.nComponents > 0 ? zeroNeighbourhoodLabels(problem.grid, problem.f, delta, componentCells.slice(0, this.nComponents)) : null;
    let positive = true;
    for (let i = 0; i < problem.f.length && positive; i++) positive = problem.f[i] > 0;
    // E log f is the collapse diagnostic of the scalar models; a target law has no regime to read it for.
    this.logF = positive && !('logTarget' in problem) ? cellLogAverages(problem, landscape, cellLogF) : null;
    let m = 0;
    const vol = problem.grid.cellVolume;
    for (let i = 0; i < problem.f.length; i++) m += this.pi[i] * problem.f[i] * vol;
    this.meanLossPi = m;
  }

  measure(t: number, rho: Float64Array): SeriesPoint {
    const vol = this.grid.cellVolume;
    let mass = 0;
    let minD = Infinity;
    for (let i = 0; i < rho.length; i++) {
      mass += rho[i];
      if (rho[i] < minD) minD = rho[i];
    }
    mass *= vol;
    const invMass = mass > 0 ? 1 / mass : 0;
    const logInvMass = Math.log(invMass);
    const sums = this.sums(rho, invMass, logInvMass, true) ?? this.sums(rho, invMass, logInvMass, false)!;
    const { meanLoss, l1, kl, below, meanLog, near } = sums;
    const logChi2 = sums.logChi2 + Math.log(vol);
    // Without log-form terms the plain sum is the more exact value (no log/exp round trip).
    const chi2 = sums.lseMax === -Infinity && sums.direct > 0 ? sums.direct * vol : Math.exp(logChi2);
    return {
      t,
      mass,
      minDensity: minD,
      meanLoss: meanLoss * vol,
      l1: l1 * vol,
      kl: Math.max(0, kl * vol),
      chi2: Number.isFinite(chi2) ? chi2 : null,
      // χ² = 0 in float64 (ρ equal to π to the last bit, as the exponential integrator can leave it): below the smallest double.
      log10Chi2: logChi2 > -Infinity ? logChi2 / Math.LN10 : Math.log10(Number.MIN_VALUE),
      massBelowDelta: below * vol,
      meanLogLoss: this.logF ? meanLog * vol : null,
      massNearZero: near.map((m) => m * vol),
    };
  }

  /**
   * One pass over the cells for every sum of a report point. χ² = Σ π (u − 1)², u = ρ/π: where π
   * is a normal number (≥ 1e-100) and ρ/mass ≤ 1e100 the term is (ρ/mass − π)²/π, a plain sum
   * without transcendental functions; elsewhere (π underflowing, ρ huge) it is ln[π (u − 1)²]
   * in a running log-sum-exp, as all terms once were (four transcendental functions per cell:
   * most of a report point's cost). `direct` false, or a plain sum that overflowed (returns
   * undefined), puts every term in the log-sum-exp.
   */
  private sums(rho: Float64Array, invMass: number, logInvMass: number, direct: boolean):
    | { meanLoss: number; l1: number; kl: number; below: number; meanLog: number; near: number[]; direct: number; lseMax: number; logChi2: number }
    | undefined {
    const f = this.f;
    const lp = this.logPi;
    const piCell = this.pi;
    const label = this.label;
    const logF = this.logF;
    const delta = this.delta;
    const near = new Array<number>(this.nComponents).fill(0);
    let meanLoss = 0;
    let l1 = 0;
    let kl = 0;
    let below = 0;
    let meanLog = 0;
    let plain = 0;
    let lseMax = -Infinity;
    let lseSum = 0;
    // Every sum adds its terms in cell order, as one loop over everything did, so the split changes
    // no bit: the sums that need no logarithm and are not always present run in loops of their
    // own below (with them in this loop, a 512² report point cost twice as much).
    for (let i = 0; i < rho.length; i++) {
      const r = rho[i] > 0 ? rho[i] : 0;
      const rn = r * invMass;
      const pi = piCell[i];
      meanLoss += rn * f[i];
      l1 += Math.abs(rn - pi);
      if (r > 0) kl += rn * (Math.log(r) + logInvMass - lp[i]);
      if (direct && pi >= 1e-100 && rn <= 1e100) {
        const d = rn - pi;
        plain += (d * d) / pi;
        continue;
      }
      let term: number;
      if (r > 0) {
        const lu = Math.log(r) + logInvMass - lp[i];
        term = lu > 40 ? 2 * lu + lp[i] : 2 * Math.log(Math.abs(Math.expm1(lu))) + lp[i];
      } else {
        term = lp[i];
      }
      if (term > lseMax) {
        lseSum = lseSum * Math.exp(lseMax - term) + 1;
        lseMax = term;
      } else if (term > -Infinity) {
        lseSum += Math.exp(term - lseMax);
      }
    }
    if (!Number.isFinite(plain)) return undefined;
    for (let i = 0; i < rho.length; i++) if (f[i] < delta) below += rho[i];
    if (logF) {
      for (let i = 0; i < rho.length; i++) {
        const r = rho[i] > 0 ? rho[i] : 0;
        meanLog += r * invMass * logF[i];
      }
    }
    if (label) for (let i = 0; i < rho.length; i++) if (label[i] >= 0) near[label[i]] += rho[i];
    const logLse = lseMax + Math.log(lseSum);
    let logChi2: number;
    if (plain > 0 && lseMax > -Infinity) {
      const lp0 = Math.log(plain);
      const m = Math.max(lp0, logLse);
      logChi2 = m + Math.log(Math.exp(lp0 - m) + Math.exp(logLse - m));
    } else logChi2 = plain > 0 ? Math.log(plain) : logLse;
    return { meanLoss, l1, kl, below, meanLog, near, direct: plain, lseMax, logChi2 };
  }
}

/**
 * Cells of {f < δ} labelled by the component that reaches them first in a breadth-first search
 * from all components' cells at once (face neighbours): a discrete nearest-component partition of
 * the δ-sublevel set, so two components' masses never count the same cell.
 */
export function zeroNeighbourhoodLabels(grid: GridShape, f: ArrayLike<number>, delta: number, componentCells: readonly (readonly number[])[]): Int32Array {
  const label = new Int32Array(grid.size).fill(-1);
  let queue: number[] = [];
  componentCells.forEach((cells, c) => {
    for (const i of cells) {
      if (label[i] < 0) {
        label[i] = c;
        queue.push(i);
      }
    }
  });
  while (queue.length > 0) {
    const next: number[] = [];
    for (const i of queue) {
      for (let k = 0; k < grid.dim; k++) {
        const s = grid.strides[k];
        const ik = Math.floor(i / s) % grid.n[k];
        // Lower neighbour, then upper (no array per cell and axis: this visits all of {f < δ}).
        for (let side = 0; side < 2; side++) {
          const j = side === 0 ? (ik > 0 ? i - s : -1) : ik < grid.n[k] - 1 ? i + s : -1;
          if (j >= 0 && label[j] < 0 && f[j] < delta) {
            label[j] = label[i];
            next.push(j);
          }
        }
      }
    }
    queue = next;
  }
  return label;
}

/** The collapse diagnostics of a run (report.json `collapse`). */
export interface CollapseReport {
  /**
   * d/dt E[log f], fitted by least squares over the tail (the second half of the report times):
   * the almost-sure collapse rate when negative. null without log f or with too few points.
   */
  logLossDrift: { value: number; window: [number, number]; r2: number; points: number } | null;
  /** d/dt log E[f] over the same window (E f may grow while every path collapses). */
  meanLossGrowth: number | null;
  /** Final mass near each zero-set component (same order as regimeDetails.components). */
  finalMassNearZero: number[];
  notes: string[];
}

export function collapseReport(series: readonly SeriesPoint[]): CollapseReport {
  const notes: string[] = [];
  const last = series[series.length - 1];
  const tEnd = last?.t ?? 0;
  const tail = series.filter((p) => p.t >= tEnd / 2 && p.t > 0);
  const withLog = tail.filter((p): p is SeriesPoint & { meanLogLoss: number } => typeof p.meanLogLoss === 'number' && Number.isFinite(p.meanLogLoss));
  let drift: CollapseReport['logLossDrift'] = null;
  if (withLog.length >= 3) {
    const fit = linearFit(
      withLog.map((p) => p.t),
      withLog.map((p) => p.meanLogLoss),
    );
    drift = { value: fit.slope, window: [withLog[0].t, withLog[withLog.length - 1].t], r2: fit.r2, points: withLog.length };
  }
  const withMean = tail.filter((p) => p.meanLoss > 0 && Number.isFinite(p.meanLoss));
  const growth =
    withMean.length >= 3
      ? linearFit(
          withMean.map((p) => p.t),
          withMean.map((p) => Math.log(p.meanLoss)),
        ).slope
      : null;
  if (drift !== null && growth !== null && drift.value < 0 && growth > 0) {
    notes.push(
      `E f grows (d/dt log E f ≈ ${growth.toPrecision(3)}) while E log f drifts down (${drift.value.toPrecision(3)} per unit time): ` +
        'every path still collapses; E f is carried by rare excursions (e.g. 3-D f = |θ|², ησ = 3: L f = (3ησ − 4) f > 0, yet log|θ_t| → −∞ a.s.; oracles.md §2). Read the collapse rate off E log f, not E f.',
    );
  }
  return { logLossDrift: drift, meanLossGrowth: growth, finalMassNearZero: last?.massNearZero?.slice() ?? [], notes };
}

/**
 * series.csv: the scalar columns, then one massNearZero_<k> column per component (k from 1), then
 * the basin columns (basinSeriesColumns).
 */
export function seriesTable(series: readonly SeriesPoint[]): { columns: string[]; rows: (number | null)[][] } {
  const scalar = ['t', 'mass', 'minDensity', 'meanLoss', 'l1', 'kl', 'chi2', 'log10Chi2', 'massBelowDelta', 'meanLogLoss'] as const;
  const n = series[0]?.massNearZero?.length ?? 0;
  const basins = basinSeriesColumns(series);
  const columns = [...scalar, ...Array.from({ length: n }, (_, k) => `massNearZero_${k + 1}`), ...basins.columns];
  const rows = series.map((p, r) => [...scalar.map((c) => p[c] ?? null), ...Array.from({ length: n }, (_, k) => p.massNearZero?.[k] ?? null), ...basins.rows[r]]);
  return { columns, rows };
}

/**
 * Cell averages of log f by the 2^d-point Gauss rule (nodes ±h/(2√3): exact for cubics, and never
 * the cell centre, where a zero of f often sits). log of the cell average of f instead would be
 * biased by Var_K(f)/(2f²) ~ h²/r² near a zero, which changes as the law moves and shows up as a
 * false drift of E log f. Cells where a node hits f ≤ 0 fall back to log of the cell average.
 * `given` (see the constructor): the cells it has are kept (from the 3^d-point rule of π's nodes,
 * exact for quintics, where ln f is smooth on the cell: test/setup-logf.test.ts compares both
 * rules with a high-order quadrature); the rule above runs on its NaN cells only.
 */
function cellLogAverages(problem: Problem, landscape: PointFunction | undefined, given?: Float64Array): Float64Array {
  const f = problem.f;
  if (!landscape) return f.map(Math.log);
  const grid = problem.grid;
  let todo: Int32Array;
  let out: Float64Array;
  if (given && given.length === grid.size) {
    out = given;
    let n = 0;
    for (let i = 0; i < grid.size; i++) if (Number.isNaN(given[i])) n++;
    todo = new Int32Array(n);
    for (let i = 0, j = 0; i < grid.size; i++) if (Number.isNaN(given[i])) todo[j++] = i;
  } else {
    out = new Float64Array(grid.size);
    todo = new Int32Array(grid.size);
    for (let i = 0; i < grid.size; i++) todo[i] = i;
  }
  const d = grid.dim;
  const node = 1 / (2 * Math.sqrt(3));
  const corners = 1 << d;
  const CHUNK = 4096;
  const coords = Array.from({ length: d }, () => new Float64Array(CHUNK));
  const vals = new Float64Array(CHUNK);
  const offs = Array.from({ length: corners }, (_, c) => Array.from({ length: d }, (_, k) => ((c >> k) & 1 ? node : -node)));
  for (let start = 0; start < todo.length; start += CHUNK) {
    const len = Math.min(CHUNK, todo.length - start);
    const acc = new Float64Array(len);
    const bad = new Uint8Array(len);
    const cs = len === CHUNK ? coords : coords.map((a) => a.subarray(0, len));
    const o = len === CHUNK ? vals : vals.subarray(0, len);
    for (const off of offs) {
      for (let i = 0; i < len; i++) {
        const flat = todo[start + i];
        for (let k = 0; k < d; k++) {
          const ik = Math.floor(flat / grid.strides[k]) % grid.n[k];
          coords[k][i] = grid.lo[k] + (ik + 0.5 + off[k]) * grid.h[k];
        }
      }
      landscape(cs, o);
      for (let i = 0; i < len; i++) {
        if (o[i] > 0 && Number.isFinite(o[i])) acc[i] += Math.log(o[i]) / corners;
        else bad[i] = 1;
      }
    }
    for (let i = 0; i < len; i++) {
      const c = todo[start + i];
      out[c] = bad[i] ? Math.log(f[c]) : acc[i];
    }
  }
  return out;
}
