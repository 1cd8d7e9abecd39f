import type { Grid } from '../../solvers/grid.js';
import type { NoiseModel } from '../../solvers/problem.js';
import { alphaOf } from '../../solvers/problem.js';
import { centreValues, type PointFunction } from '../../solvers/quadrature.js';

export type RegimeName = 'converging' | 'collapsing';

export interface Regime {
  regime: RegimeName;
  /** Plain-words reason (report.json `regimeReason`). */
  reason: string;
  /** inf f over the box, located by a local search from the best cell centre. */
  infF: number;
  argminF: number[];
  /** Growth exponent e of vol{f < δ} ~ δ^e near the zero set (k/2 for a codimension-k quadratic zero), when inf f = 0. */
  sublevelExponent?: number;
  /** Codimension k = 2e, assuming f vanishes quadratically. */
  codimension?: number;
  alpha?: number;
}

function evalAt(f: PointFunction, p: readonly number[]): number {
  const coords = p.map((v) => Float64Array.of(v));
  const out = new Float64Array(1);
  f(coords, out);
  return out[0];
}

/** Compass search for a local minimum inside the box (robust for any continuous f). */
function localMin(f: PointFunction, grid: Grid, start: number[]): { x: number[]; v: number } {
  let x = start.slice();
  let v = evalAt(f, x);
  let step = grid.h.map((h) => h);
  for (let iter = 0; iter < 400 && step.some((s, k) => s > 1e-14 * (grid.hi[k] - grid.lo[k])); iter++) {
    let improved = false;
    for (let k = 0; k < grid.dim && !improved; k++) {
      for (const sgn of [1, -1]) {
        const y = x.slice();
        y[k] = Math.min(grid.hi[k], Math.max(grid.lo[k], y[k] + sgn * step[k]));
        const w = evalAt(f, y);
        if (w < v) {
          x = y;
          v = w;
          improved = true;
          break;
        }
      }
    }
    if (!improved) step = step.map((s) => s / 2);
  }
  return { x, v };
}

/**
 * Tells whether π is a probability density on the box (DESIGN.md §1, oracles.md §4).
 * Multiplicative noise without floor: π = f^−α is integrable near the zero set of f iff
 * α < e, where vol{f < δ} ~ δ^e; for a quadratic zero of codimension k, e = k/2, i.e. ησ > 4/(k−2).
 */
export function classifyRegime(grid: Grid, landscape: PointFunction, noise: NoiseModel): Regime {
  const fc = centreValues(grid, landscape);
  let best = 0;
  let fmax = -Infinity;
  for (let i = 0; i < fc.length; i++) {
    if (fc[i] < fc[best]) best = i;
    if (fc[i] > fmax) fmax = fc[i];
  }
  const { x: argmin, v: infF } = localMin(landscape, grid, grid.centre(best));
  const base: Pick<Regime, 'infF' | 'argminF'> = { infF, argminF: argmin };
  // Round-off of the local search (1e-16 instead of 0) would only distract in the report.
  const at = `x = (${argmin.map((v, k) => (Math.abs(v) < 1e-9 * (grid.hi[k] - grid.lo[k]) ? 0 : +v.toPrecision(6))).join(', ')})`;
  if (noise.kind === 'additive') {
    return { regime: 'converging', reason: `additive noise (D = ${noise.D}): π = exp(−f/D) is integrable on the bounded box`, ...base };
  }
  const alpha = alphaOf(noise);
  if (noise.eps > 0) {
    return { regime: 'converging', reason: `multiplicative noise with floor ε = ${noise.eps}: f + ε > 0, so π = (f + ε)^−α (α = ${alpha.toPrecision(4)}) is integrable`, alpha, ...base };
  }
  const scale = Math.max(fmax, 1e-300);
  if (infF > 1e-12 * scale) {
    return { regime: 'converging', reason: `inf f = ${infF.toPrecision(4)} > 0 on the box (at ${at}): π = f^−α (α = ${alpha.toPrecision(4)}) is integrable`, alpha, ...base };
  }
  // Growth of the sublevel-set volume near the zero set, measured by counting cells: take the
  // levels below which 1/64 and 1/8 of the cells lie. Both sets then span many cells across the
  // zero set (a valley is resolved transversally, not just its nearest row of cells) while
  // staying in the region where f is close to its leading-order behaviour.
  const sorted = Float64Array.from(fc).sort();
  const n1 = Math.floor(grid.size / 64);
  const n2 = 8 * n1;
  let e: number | undefined;
  if (n1 >= 8) {
    const d1 = sorted[n1] - infF;
    const d2 = sorted[n2] - infF;
    if (d1 > 0 && d2 > d1) e = Math.log(n2 / n1) / Math.log(d2 / d1);
  }
  const k = e === undefined ? undefined : 2 * e;
  const kText = k === undefined ? 'unresolved on this grid' : `≈ ${k.toFixed(2)} (vol{f < δ} ~ δ^${e!.toFixed(2)})`;
  const integrable = e !== undefined && alpha < e;
  const threshold = k !== undefined && k > 2.5 ? `ησ > 4/(k − 2) ≈ ${(4 / (Math.round(k) - 2)).toPrecision(3)}` : 'k ≥ 3 (never for k ≤ 2)';
  if (integrable) {
    return {
      regime: 'converging',
      reason: `inf f = 0 at ${at}, zero set of codimension ${kText}; π = f^−α with α = ${alpha.toPrecision(4)} is integrable there since α < k/2 (${threshold})`,
      alpha,
      sublevelExponent: e,
      codimension: k,
      ...base,
    };
  }
  return {
    regime: 'collapsing',
    reason:
      `inf f = 0 at ${at}, zero set of codimension ${kText}; π = f^−α with α = 1 + 2/(ησ) = ${alpha.toPrecision(4)} ` +
      `is not integrable there (needs α < k/2, i.e. ${threshold}). The density collapses onto the minimizers instead of ` +
      `converging; the discrete π is a grid artifact (it concentrates on the cells nearest the zero set as h → 0), ` +
      `so distances to it and its spectral gap are grid values, not properties of the SDE.`,
    alpha,
    sublevelExponent: e,
    codimension: k,
    ...base,
  };
}
