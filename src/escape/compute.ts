import type { FvOperator } from '../../solvers/operator.js';
import { solveAbsorbing, type AbsorbingOptions, type AbsorbingResult } from '../../solvers/absorbing.js';
import { InputError, NumericalFault } from '../errors.js';
import { checkDisjoint, eachSet, namedSets, parseSetSpec, resolveSet, type NamedSet, type ResolvedSet } from '../sets/sets.js';
import { checkReachable } from '../sets/reach.js';
import { basinLabels, zeroComponentSeeds } from '../diagnostics/basins.js';
import type { ComponentVerdict } from '../diagnostics/regime.js';
import { collapseGuard } from './collapse-guard.js';

/**
 * The committor and escape computations behind `fpsolve committor` / `fpsolve escape`, free of
 * the CLI: sets from their specs, the Dirichlet solves, and the averages over ρ₀.
 */

export interface EscapeInput {
  op: FvOperator;
  /** Zero-set components as the regime diagnostic found them (numbered zero1, zero2, … in this order). */
  zeros: readonly { location: number[]; cells: number[]; verdict?: ComponentVerdict; refinement?: string }[];
  /** Initial density ρ₀ per cell (any normalization; only ratios are used). */
  rho0: Float64Array;
  solver?: AbsorbingOptions;
}

export interface SetInfo {
  option: '--from' | '--to';
  label: string;
  cells: number;
  point: number[];
}

export interface SolveInfo {
  solver: string;
  iterations: number;
  residual: number;
  seconds: number;
}

export interface CommittorTarget {
  set: SetInfo;
  /** q = P(reach this set before every other set), per cell. */
  q: Float64Array;
  /** ∫ q ρ₀ / ∫ ρ₀: the probability that the process started from ρ₀ reaches this set first. */
  probability: number;
  solve: SolveInfo;
}

export interface CommittorResult {
  from: SetInfo | null;
  targets: CommittorTarget[];
  /** 1 − Σ probabilities: the probability of reaching --from first (0 without --from, up to round-off). */
  fromProbability: number;
  /** The sets `--to each` and the names could use, for the summary. */
  named: string[];
}

function info(option: '--from' | '--to', s: ResolvedSet): SetInfo {
  return { option, label: s.label, cells: s.cells, point: s.point };
}

function solveInfo(r: AbsorbingResult, seconds: number): SolveInfo {
  return { solver: r.solver, iterations: r.iterations, residual: r.residual, seconds };
}

function checked(r: AbsorbingResult, what: string): AbsorbingResult {
  if (!r.converged) throw new NumericalFault(`${what}: ${r.solver} did not converge (row residual ${r.residual.toExponential(2)} after ${r.iterations} iterations; docs/escape.md "Solver"): π spans too many orders on this grid for the solve, try a larger noise (noise.eta) or another grid (domain.cells)`, 'iteration-limit');
  for (const v of r.u) if (!Number.isFinite(v)) throw new NumericalFault(`${what}: the solution is not finite (${v})`, 'non-finite');
  return r;
}

/** ∫ u ρ₀ / ∫ ρ₀ over the cells (uniform cell volume cancels). */
export function average(u: Float64Array, rho0: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < u.length; i++) {
    const r = rho0[i];
    if (r > 0) {
      num += u[i] * r;
      den += r;
    }
  }
  return den > 0 ? num / den : NaN;
}

function named(input: EscapeInput): NamedSet[] {
  return namedSets(input.op.grid, input.op.problem.f, input.zeros);
}

/**
 * Committors to `to` (one set, or `each`: every zero component, or every minimum when f has
 * none), with `from` absorbing too. Each target's q is P(hit it before --from and before the
 * other targets), so the probabilities of the targets and of --from sum to 1.
 */
export function computeCommittor(input: EscapeInput, from: string | undefined, to: string): CommittorResult {
  const grid = input.op.grid;
  const f = input.op.problem.f;
  const all = named(input);
  const fromSet = from === undefined ? null : resolveSet('--from', parseSetSpec('--from', from, grid.dim), grid, f, all);
  let targets: ResolvedSet[];
  if (to.trim() === 'each') {
    const each = eachSet(all).filter((s) => !(fromSet && fromSet.mask[s.cell]));
    if (each.length === 0) throw new InputError(`--to: 'each' found no ${all.length === 0 ? 'minimum or zero component' : 'set other than --from'} on this grid`);
    targets = each.map((s) => resolveSet('--to', parseSetSpec('--to', s.name, grid.dim), grid, f, all));
  } else {
    if (fromSet === null) throw new InputError("--from: required unless --to is 'each' (the committor to one set needs the set it competes with)");
    targets = [resolveSet('--to', parseSetSpec('--to', to, grid.dim), grid, f, all)];
  }
  const sets = [...(fromSet ? [{ option: '--from', set: fromSet }] : []), ...targets.map((t) => ({ option: '--to', set: t }))];
  for (let a = 0; a < sets.length; a++) for (let b = a + 1; b < sets.length; b++) checkDisjoint(grid, sets[a], sets[b]);
  const absorbed = new Uint8Array(grid.size);
  for (const s of sets) for (let i = 0; i < grid.size; i++) if (s.set.mask[i]) absorbed[i] = 1;
  checkReachable(
    input.op,
    absorbed,
    sets.map((s) => ({ option: s.option, label: s.set.label, mask: s.set.mask })),
  );
  const out: CommittorTarget[] = [];
  for (const t of targets) {
    const g = new Float64Array(grid.size);
    for (let i = 0; i < grid.size; i++) if (t.mask[i]) g[i] = 1;
    const t0 = performance.now();
    const r = checked(solveAbsorbing(input.op, absorbed, null, g, input.solver), `committor to '${t.label}'`);
    // The maximum principle holds for the exact discrete solution; clamp the solver's round-off.
    for (let i = 0; i < r.u.length; i++) r.u[i] = Math.min(1, Math.max(0, r.u[i]));
    out.push({ set: info('--to', t), q: r.u, probability: average(r.u, input.rho0), solve: solveInfo(r, (performance.now() - t0) / 1000) });
  }
  const sum = out.reduce((s, t) => s + t.probability, 0);
  return { from: fromSet ? info('--from', fromSet) : null, targets: out, fromProbability: fromSet ? 1 - sum : 0, named: all.map((s) => s.name) };
}

/**
 * Basin of attraction of a cell: its basin in src/diagnostics/basins.ts basinLabels (steepest
 * descent over the 3^d neighbours, seeded by the zero components), the partition the run reports
 * masses for, so `--to basin` leaves the same basin report.json counts.
 */
export function descentBasin(op: FvOperator, seed: number, zeros: readonly { location: number[]; cells: number[] }[] = []): Uint8Array {
  const { label } = basinLabels(op.grid, op.problem.f, zeroComponentSeeds(zeros, zeros.map((z) => z.cells)));
  const target = label[seed];
  return Uint8Array.from(label, (l) => (l === target ? 1 : 0));
}

export interface EscapeResult {
  from: SetInfo;
  /** The absorbing set: --to, every other well (no --to), or everything outside the descent basin of --from (`--to basin`). */
  to: SetInfo & { basinExit: boolean };
  /** Mean first-passage time to the absorbing set, per cell (0 on it). */
  T: Float64Array;
  /** E T from ρ₀. */
  meanFromRho0: number;
  /** T averaged over the --from set with weights π (a start in local equilibrium there). */
  meanFromSet: number;
  /** T at the --from set's point (its minimum, zero point or given point). */
  atPoint: number;
  /** 1 where the process has not yet been absorbed: the domain of the quasi-stationary distribution. */
  inside: Uint8Array;
  solve: SolveInfo;
  /** Undecided zero components outside the target: T may be infinite (src/escape/collapse-guard.ts). */
  collapseNote?: string;
}

/**
 * Mean first-passage time from --from to a target: `--to SET`; `--to basin`: out of the descent
 * basin of --from's point (the first crossing of the basin boundary, about half the transition
 * time: the committor is 1/2 at the saddle); no --to: to any other well, i.e. the union of the
 * default sets of every other zero component (or, when f has none, every other minimum). The last
 * is the transition Kramers' and Mori's laws describe: the saddle lies inside the region the
 * process is confined to, and the exit rate of its quasi-stationary distribution is their rate.
 */
export function computeEscape(input: EscapeInput, from: string, to: string | undefined): EscapeResult {
  const op = input.op;
  const grid = op.grid;
  const f = op.problem.f;
  const all = named(input);
  const fromSet = resolveSet('--from', parseSetSpec('--from', from, grid.dim), grid, f, all);
  let target: ResolvedSet;
  let basinExit = false;
  let blame: '--from' | '--to' = '--to';
  const t = to?.trim() ?? '';
  if (t === 'basin') {
    const basin = descentBasin(op, nearestCell(grid, fromSet), input.zeros);
    for (let i = 0; i < grid.size; i++) if (fromSet.mask[i]) basin[i] = 1;
    const mask = Uint8Array.from(basin, (b) => 1 - b);
    let cells = 0;
    for (const v of mask) cells += v;
    if (cells === 0) throw new InputError(`--to: the descent basin of --from '${fromSet.label}' is the whole box, so there is no basin boundary to cross: give a target set`);
    target = { label: `outside the basin of ${fromSet.label}`, mask, cells, point: fromSet.point };
    basinExit = true;
  } else if (t === '') {
    const others = eachSet(all).filter((s) => !fromSet.mask[s.cell]);
    if (others.length === 0) throw new InputError(`--from: '${fromSet.label}' is the only ${all.some((s) => s.kind === 'zero') ? 'zero component' : 'minimum'} on this grid, so there is no other well to reach: give --to (a set, or 'basin' for the time to leave its basin)`);
    const sets = others.map((s) => resolveSet('--to', parseSetSpec('--to', s.name, grid.dim), grid, f, all));
    const mask = new Uint8Array(grid.size);
    for (const s of sets) for (let i = 0; i < grid.size; i++) if (s.mask[i]) mask[i] = 1;
    let cells = 0;
    for (const v of mask) cells += v;
    target = { label: `any other well (${others.map((s) => s.name).join(', ')})`, mask, cells, point: sets[0].point };
    checkDisjoint(grid, { option: '--from', set: fromSet }, { option: '--from', set: target });
    blame = '--from';
  } else {
    target = resolveSet('--to', parseSetSpec('--to', t, grid.dim), grid, f, all);
    checkDisjoint(grid, { option: '--from', set: fromSet }, { option: '--to', set: target });
  }
  checkReachable(op, target.mask, [{ option: blame, label: target.label, mask: target.mask }]);
  const collapseNote = collapseGuard(input.zeros, target.mask, fromSet.label, target.label);
  const t0 = performance.now();
  const r = checked(solveAbsorbing(op, target.mask, new Float64Array(grid.size).fill(1), null, input.solver), `mean first-passage time to '${target.label}'`);
  const seconds = (performance.now() - t0) / 1000;
  // π-weighted mean over the --from set (weights e^{−ψ}, ψ ≥ 0 shifted, so no overflow).
  let num = 0;
  let den = 0;
  for (let i = 0; i < grid.size; i++) {
    if (!fromSet.mask[i]) continue;
    const w = Math.exp(-op.problem.psi[i]);
    num += w * r.u[i];
    den += w;
  }
  const inside = Uint8Array.from(target.mask, (b) => 1 - b);
  return {
    from: info('--from', fromSet),
    to: { ...info('--to', target), basinExit },
    T: r.u,
    meanFromRho0: average(r.u, input.rho0),
    // π underflowing on the whole set (ψ > ~745 there): the plain mean over its cells.
    meanFromSet: den > 0 ? num / den : average(r.u, Float64Array.from(fromSet.mask)),
    atPoint: r.u[nearestCell(grid, fromSet)],
    inside,
    solve: solveInfo(r, seconds),
    ...(collapseNote ? { collapseNote } : {}),
  };
}

/** The set's cell nearest to its point. */
function nearestCell(grid: FvOperator['grid'], s: ResolvedSet): number {
  let best = -1;
  let bd = Infinity;
  for (let i = 0; i < s.mask.length; i++) {
    if (!s.mask[i]) continue;
    const c = grid.centre(i);
    let d = 0;
    for (let k = 0; k < grid.dim; k++) d += (c[k] - s.point[k]) ** 2;
    if (d < bd) {
      bd = d;
      best = i;
    }
  }
  return best;
}
