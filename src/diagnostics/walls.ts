/**
 * How much the box's reflecting walls matter (issue #15 item 6): the mass of π and of the final
 * ρ in the outer layer of cells, and for π an estimate of the mass a whole-space π would have
 * beyond the box. When these are measurable, whole-space results (exact spectra, moments,
 * Kramers rates) describe a different problem than the one solved.
 */
import type { Grid } from '../../solvers/grid.js';
import type { Problem } from '../../solvers/problem.js';
import type { Regime } from './regime.js';
import { nextCell } from './cell-walk.js';

/** Fractions of mass above this are "measurable": they move λ₁ visibly (Pearson b = c = ησ = 1 on [−5, 5]: ~1e-4 beyond the box, λ₁ = 2.014 instead of 2). */
export const WALL_MASS_THRESHOLD = 1e-6;

export interface WallsReport {
  /** Fraction of the final ρ's mass in the cells that touch a wall. */
  rhoOuterMass: number;
  /** Fraction of the discrete π's mass in the cells that touch a wall; null when π is not integrable. */
  piOuterMass: number | null;
  /**
   * Estimated mass of π beyond the box, relative to its mass in the box: on each wall π is
   * continued outward as the power law r^−k measured between the two outermost cells (r: distance
   * from argmin f along the wall's axis), giving π_wall·r_wall/(k − 1) per unit wall area.
   * Faster (exponential) tails make this an overestimate. null when π is not integrable or
   * does not decay towards a wall (see tailNote).
   */
  piBeyondBox: number | null;
  /** Smallest tail exponent k measured at the walls (π ~ r^−k); null when none was measured. */
  tailExponent: number | null;
  /** Why piBeyondBox is null, when it is. */
  tailNote?: string;
  /** The threshold for the note (WALL_MASS_THRESHOLD). */
  threshold: number;
}

function logSumExp(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const v of values) s += Math.exp(v - m);
  return m + Math.log(s);
}

/**
 * Fraction of the mass of a cell field that lies in the outer layer of cells. The multi-index
 * advances with the flat index (no division per cell and axis): this runs over every cell for ρ
 * and for π once per run. Same summation order as a plain loop over the cells.
 */
export function outerLayerFraction(grid: Grid, field: Float64Array): number {
  const d = grid.dim;
  const sizes = Int32Array.from(grid.n);
  const idx = new Int32Array(d);
  // Axes at their first or last cell (all at cell 0): the cell is outer when any is.
  let atEdge = d;
  let outer = 0;
  let total = 0;
  for (let i = 0; i < grid.size; i++) {
    const v = field[i];
    total += v;
    if (atEdge > 0) outer += v;
    atEdge = nextCell(idx, sizes, atEdge);
  }
  return total > 0 ? outer / total : 0;
}

/** The cells whose index along axis k is j, in increasing flat index (a slab: runs of strides[k] cells). */
function slabCells(grid: Grid, k: number, j: number): Int32Array {
  const stride = grid.strides[k];
  const block = stride * grid.n[k];
  const blocks = grid.size / block;
  const out = new Int32Array(blocks * stride);
  let t = 0;
  for (let b = 0; b < blocks; b++) {
    const base = b * block + j * stride;
    for (let r = 0; r < stride; r++) out[t++] = base + r;
  }
  return out;
}

/** Mass beyond the box of the power-law continuation of π (see WallsReport.piBeyondBox), in logs. */
/** Exported for test/analysis-walls.test.ts. */
export function tailBeyond(grid: Grid, logPi: Float64Array, centre: readonly number[]): { mass: number | null; exponent: number | null; note?: string } {
  const parts: number[] = [];
  let minK = Infinity;
  for (let k = 0; k < grid.dim; k++) {
    if (grid.n[k] < 2) continue;
    const transverse = grid.cellVolume / grid.h[k];
    for (const side of [0, 1] as const) {
      const wall = side === 0 ? grid.lo[k] : grid.hi[k];
      const rWall = Math.abs(wall - centre[k]);
      const bIdx = side === 0 ? 0 : grid.n[k] - 1;
      const step = side === 0 ? grid.strides[k] : -grid.strides[k];
      const rB = Math.abs(grid.lo[k] + (bIdx + 0.5) * grid.h[k] - centre[k]);
      const rC = Math.abs(grid.lo[k] + (bIdx + (side === 0 ? 1.5 : -0.5)) * grid.h[k] - centre[k]);
      // argmin f in the outer cells: "outward" has no direction there; the outer-layer mass says it all.
      if (!(rB > rC && rC > 0)) continue;
      // The wall's slab only (was: every cell, tested by division).
      for (const i of slabCells(grid, k, bIdx)) {
        const lb = logPi[i];
        const lc = logPi[i + step];
        if (lb === -Infinity) continue;
        const kExp = (lc - lb) / Math.log(rB / rC);
        minK = Math.min(minK, kExp);
        if (!(kExp > 1)) {
          return {
            mass: null,
            exponent: kExp,
            note: `π does not decay towards the wall at ${['x', 'y', 'z'][k]} = ${wall} fast enough to extrapolate (π ~ r^−k with k = ${kExp.toPrecision(3)} ≤ 1 between the two outermost cells): the box cuts off a tail of unknown mass`,
          };
        }
        const logFace = lb - kExp * Math.log(rWall / rB);
        parts.push(logFace + Math.log(rWall / (kExp - 1)) + Math.log(transverse));
      }
    }
  }
  return { mass: Math.exp(logSumExp(parts)), exponent: Number.isFinite(minK) ? minK : null };
}

/**
 * The walls diagnostic for a run: the report field and, when a mass is above
 * WALL_MASS_THRESHOLD, a note saying which.
 */
export function wallDiagnostics(grid: Grid, problem: Problem, rho: Float64Array, regime: Regime): { report: WallsReport; notes: string[] } {
  const rhoOuterMass = outerLayerFraction(grid, rho);
  // 'undecided' is read like 'collapsing': the grid π may not be a density there.
  const integrable = regime.regime === 'converging';
  let piOuterMass: number | null = null;
  let tail: { mass: number | null; exponent: number | null; note?: string } = { mass: null, exponent: null };
  if (integrable) {
    piOuterMass = outerLayerFraction(grid, problem.piShared());
    tail = tailBeyond(grid, problem.logPiShared(), regime.argminF);
  }
  const report: WallsReport = {
    rhoOuterMass,
    piOuterMass,
    piBeyondBox: tail.mass,
    tailExponent: tail.exponent,
    ...(tail.note ? { tailNote: tail.note } : {}),
    threshold: WALL_MASS_THRESHOLD,
  };
  const e = (v: number): string => v.toExponential(2);
  const over: string[] = [];
  if (piOuterMass !== null && piOuterMass > WALL_MASS_THRESHOLD) over.push(`π has ${e(piOuterMass)} of its mass in the outer layer of cells`);
  if (tail.mass !== null && tail.mass > WALL_MASS_THRESHOLD) {
    over.push(`a whole-space π would have an estimated ${e(tail.mass)} of the box's mass beyond it (tail ~ r^−${tail.exponent!.toPrecision(3)})`);
  }
  if (tail.note) over.push(tail.note);
  if (rhoOuterMass > WALL_MASS_THRESHOLD) over.push(`the final ρ has ${e(rhoOuterMass)} of its mass in the outer layer of cells`);
  const notes =
    over.length === 0
      ? []
      : [
          `walls: ${over.join('; ')} (threshold ${WALL_MASS_THRESHOLD}): the reflecting walls shape this solution, so whole-space results (exact spectra and moments, Kramers/Mori rates) do not apply as they are; enlarge domain.bounds to see how much they move.`,
        ];
  return { report, notes };
}

/** Adds `walls` and its note to a run report (the one call in runScenario). */
export function attachWalls(report: { walls?: WallsReport; notes: string[] }, setup: { grid: Grid; problem: Problem; regime: Regime }, rho: Float64Array): void {
  const w = wallDiagnostics(setup.grid, setup.problem, rho, setup.regime);
  report.walls = w.report;
  report.notes.push(...w.notes);
}
