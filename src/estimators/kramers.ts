import type { Grid } from '../../solvers/grid.js';
import { alphaOf, diffusivity, potential, type NoiseModel } from '../../solvers/problem.js';
import type { CompiledExpr } from '../landscape/expr.js';
import type { BoundsReport } from '../report/types.js';
import { floodMerges, kramersIssue, refineCriticalPoint, type CriticalPoint } from './critical-points.js';

export type KramersReport = NonNullable<BoundsReport['kramers']>;

/** Basins whose depth in ψ = −ln π is below this are not metastable: merged silently. */
export const MIN_DEPTH_PSI = 2;

/**
 * Escape rate from minimum m over saddle s (oracles.md §5).
 * Additive (Eyring–Kramers; Bovier, Eckhoff, Gayrard & Klein 2004):
 *   κ = |λ₋(H_s)|/(2π) · sqrt(det H_m / |det H_s|) · exp(−(f_s − f_m)/D).
 * Multiplicative (Mori, Ziyin, Liu & Ueda, ICML 2022), with g = f + ε:
 *   κ = |λ₋(H_s)|/(2π) · sqrt(det H_m / |det H_s|) · (g_s/g_m)^−(α − d/2).
 */
export function escapeRate(m: CriticalPoint, s: CriticalPoint, noise: NoiseModel, dim: number): { prefactor: number; rate: number } {
  const detM = m.hessianEigenvalues.reduce((a, b) => a * b, 1);
  const detS = s.hessianEigenvalues.reduce((a, b) => a * b, 1);
  const prefactor = (Math.abs(s.hessianEigenvalues[0]) / (2 * Math.PI)) * Math.sqrt(detM / Math.abs(detS));
  if (noise.kind === 'additive') return { prefactor, rate: prefactor * Math.exp(-(s.f - m.f) / noise.D) };
  const gm = m.f + noise.eps;
  const gs = s.f + noise.eps;
  return { prefactor, rate: prefactor * Math.pow(gs / gm, -(alphaOf(noise) - dim / 2)) };
}

export interface KramersResult {
  report: KramersReport | null;
  notes: string[];
  /** Why there is no prediction although the landscape has several metastable basins. */
  notApplicable?: string;
}

/**
 * Minima and index-1 saddles from the grid (cell-centre f, flooding), refined by Newton with the
 * landscape's symbolic gradient and Hessian, then the escape rates over every metastable pass.
 * The predicted λ₁ is that of the slowest pass, the two-state value κ(a→b) + κ(b→a) (two
 * symmetric wells: 2κ).
 */
export function kramersPrediction(grid: Grid, expr: CompiledExpr, noise: NoiseModel, computedGap: number | null): KramersResult {
  const coords = Array.from({ length: grid.dim }, (_, k) => grid.coordinateField(k));
  const fc = new Float64Array(grid.size);
  expr.evalPoints(coords, fc);
  const psiAt = (f: number): number => potential(noise, f);
  const merges = floodMerges(grid, fc).filter((mg) => psiAt(fc[mg.saddleCell]) - psiAt(fc[mg.shallowCell]) >= MIN_DEPTH_PSI);
  if (merges.length === 0) {
    return { report: null, notes: [`kramers: one metastable basin on the grid (no pass with depth ≥ ${MIN_DEPTH_PSI} in −ln π): no multi-well prediction`] };
  }
  const notes: string[] = [];
  const minima: CriticalPoint[] = [];
  const minimumCells: number[] = [];
  const minIndex = (cell: number): number => {
    const at = minimumCells.indexOf(cell);
    if (at >= 0) return at;
    minimumCells.push(cell);
    minima.push(refineCriticalPoint(expr, grid, grid.centre(cell), 0));
    return minima.length - 1;
  };
  const saddles: CriticalPoint[] = [];
  const barriers: KramersReport['barriers'] = [];
  const issues = new Set<string>();
  let predicted = Infinity;
  for (const mg of merges) {
    const a = minIndex(mg.deepCell);
    const b = minIndex(mg.shallowCell);
    const s = refineCriticalPoint(expr, grid, grid.centre(mg.saddleCell), 1);
    saddles.push(s);
    const si = saddles.length - 1;
    // Degeneracy is relative: the scale is the stiffest curvature among the three points of the pass.
    let scale = 0;
    for (const p of [minima[a], minima[b], s]) for (const v of p.newton.hessianEigenvalues) scale = Math.max(scale, Math.abs(v));
    const passIssues = [kramersIssue(minima[a], 0, scale), kramersIssue(minima[b], 0, scale), kramersIssue(s, 1, scale)].filter((v): v is string => v !== null);
    if (passIssues.length === 0) {
      for (const [p, kind] of [[minima[a], 'minimum'], [minima[b], 'minimum'], [s, 'saddle']] as const) {
        const cut = wallCut(p, grid, noise);
        if (cut) passIssues.push(`the ${kind} at (${fmtPoint(p.x)}) is ${cut}`);
      }
    }
    if (passIssues.length > 0) {
      passIssues.forEach((v) => issues.add(v));
      continue;
    }
    let pair = 0;
    for (const from of [a, b]) {
      const m = minima[from];
      if (noise.kind === 'multiplicative' && !(m.f + noise.eps > 0)) {
        notes.push(`kramers: minimum at (${fmtPoint(m.x)}) has f + ε = 0: the power-law rate is not defined there`);
        pair = NaN;
        continue;
      }
      const { prefactor, rate } = escapeRate(m, s, noise, grid.dim);
      barriers.push({ from, saddle: si, barrier: s.f - m.f, prefactor, rate });
      pair += rate;
    }
    if (Number.isFinite(pair) && pair < predicted) predicted = pair;
  }
  // λ₁ is set by the slowest pass; with one pass out of reach of the formula, which one that is is unknown.
  if (issues.size > 0) {
    const reason = `${[...issues].join('; ')}. The Eyring–Kramers and Mori et al. formulas (oracles.md §5) need non-degenerate minima and index-1 saddles inside the box`;
    return { report: null, notes: [...notes, `kramers: not applicable: ${reason}`], notApplicable: reason };
  }
  const depth = Math.max(...merges.map((mg) => psiAt(fc[mg.saddleCell]) - psiAt(fc[mg.shallowCell])));
  if (depth < 8) notes.push(`kramers: the deepest barrier is only ${depth.toFixed(1)} in −ln π; the asymptotic formula is then accurate to tens of percent at best`);
  const formula =
    noise.kind === 'additive'
      ? 'Eyring–Kramers: κ = |λ₋(H_s)|/(2π)·sqrt(det H_m/|det H_s|)·exp(−Δf/D); λ₁ ≈ κ(a→b) + κ(b→a) over the slowest pass'
      : 'Mori et al. power law: κ = |λ₋(H_s)|/(2π)·sqrt(det H_m/|det H_s|)·((f_s+ε)/(f_m+ε))^−(α−d/2); λ₁ ≈ κ(a→b) + κ(b→a) over the slowest pass';
  return {
    report: {
      formula,
      minima: minima.map((m) => ({ x: m.x, f: m.f })),
      saddles: saddles.map((s) => ({ x: s.x, f: s.f })),
      barriers,
      predictedGap: Number.isFinite(predicted) ? predicted : NaN,
      ratioToComputed: computedGap && Number.isFinite(predicted) ? predicted / computedGap : null,
    },
    notes,
  };
}

/** Gaussian widths from a critical point to the nearest wall below which the wall cuts the Laplace integrals (3σ: 0.13% one-sided). */
export const WALL_WIDTHS = 3;

/**
 * Whether a wall lies within WALL_WIDTHS thermal widths of a critical point: the formula's
 * Gaussian integrals around the point then run into the reflecting wall. The width is
 * sqrt(D/|λ|) for the softest Hessian eigenvalue λ, with D the diffusion coefficient at the
 * point (additive D; multiplicative (ησ/2)(f + ε)), the worst direction.
 */
export function wallCut(p: CriticalPoint, grid: Grid, noise: NoiseModel): string | null {
  const soft = Math.min(...p.hessianEigenvalues.map(Math.abs));
  const D = diffusivity(noise, p.f);
  const width = Math.sqrt(D / soft);
  let nearest = Infinity;
  for (let k = 0; k < grid.dim; k++) nearest = Math.min(nearest, p.x[k] - grid.lo[k], grid.hi[k] - p.x[k]);
  if (nearest >= WALL_WIDTHS * width) return null;
  return `${nearest.toPrecision(3)} from a wall, within ${WALL_WIDTHS} thermal widths sqrt(D/|λ|) = ${width.toPrecision(3)} (D = ${D.toPrecision(3)} there): the reflecting wall cuts the Gaussian integrals behind the formula`;
}

function fmtPoint(x: number[]): string {
  return x.map((v) => +v.toPrecision(5)).join(', ');
}
