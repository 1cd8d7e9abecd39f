import { Problem, isFault } from '../../solvers/problem.js';
import type { MultigridPreconditioner } from '../../solvers/multigrid.js';
import { FvOperator } from '../../solvers/operator.js';
import { Grid } from '../../solvers/grid.js';
import { generatorModesSteps, parityComponent, type GeneratorModes, type Steps } from '../../solvers/eigen/index.js';
import type { PointFunction } from '../../solvers/quadrature.js';
import type { Regime } from '../diagnostics/regime.js';
import { FpsolveError, NumericalFault } from '../errors.js';
import { InfrastructureFailure, SolverFailure } from '../../solvers/base/failures.js';
import type { GapReport } from '../report/types.js';
import type { Preconditioner } from '../../solvers/linear.js';

export interface SolveOptions {
  preconditioner?: (op: FvOperator) => Preconditioner;
  /** Extra start vectors for the n-D solver on this operator (gap-start.ts: basin indicators). */
  startVectors?: (op: FvOperator) => Float64Array[];
  /** A multigrid hierarchy already built for this operator, taken over by the solve (ModesOptions.multigrid). */
  multigrid?: (op: FvOperator) => MultigridPreconditioner | undefined;
}

export function* solveModes(op: FvOperator, k: number, o: SolveOptions): Steps<GeneratorModes> {
  let r: GeneratorModes;
  try {
    r = yield* generatorModesSteps(op, { modes: k, preconditioner: o.preconditioner?.(op), startVectors: o.startVectors?.(op), multigrid: o.multigrid?.(op) });
  } catch (e) {
    // A lost thread or refused memory stays an infrastructure failure (exit 75, src/failure-report.ts).
    if (e instanceof RangeError || e instanceof FpsolveError || e instanceof InfrastructureFailure) throw e;
    throw new NumericalFault(`the eigen-solver failed: ${(e as Error).message}`, e instanceof SolverFailure ? e.reason : undefined);
  }
  if (r.values.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new NumericalFault(`the eigen-solver returned ${r.values.join(', ')} for the spectral gap (${r.method})`, r.values.every(Number.isFinite) ? 'diverged' : 'non-finite');
  }
  return r;
}

export interface ZeroOfF {
  note: string;
}

/**
 * A zero of f in the box under multiplicative noise without floor (converging regime, α < e).
 * π = f^−α is singular there, and the discrete λ₁ approaches the continuum value far slower than
 * h² (3-D |x|², ησ = 6: 4.40, 2.72, 2.15, 1.84, 1.50, 1.31 at 8³..64³ against ≈ 0.09).
 */
export function zeroOfF(op: FvOperator, regime: Regime): ZeroOfF | null {
  const noise = op.problem.noise;
  if (noise.kind !== 'multiplicative' || noise.eps > 0) return null;
  const comps = regime.components ?? [];
  if (comps.length === 0 && regime.sublevelExponent === undefined) return null;
  const es = noise.etaSigma;
  let bottom = '';
  // oracles.md §4: at an isotropic quadratic zero of codimension k the continuum spectrum starts at
  // h(ησ(k − 2) − 4)²/(16ησ), which can lie far below every grid λ₁.
  for (const c of comps) {
    const k = c.codimension;
    const h = c.hessianEigenvalues.filter((v) => v > 0);
    if (k === null || h.length === 0 || es * (k - 2) <= 4) continue;
    const hmin = Math.min(...h);
    const v = (hmin * (es * (k - 2) - 4) ** 2) / (16 * es);
    bottom = `; at the zero (${c.location.map((x) => +x.toPrecision(4)).join(', ')}) the continuum spectrum may start as low as h(ησ(k − 2) − 4)²/(16ησ) = ${v.toPrecision(4)} (h = ${+hmin.toPrecision(4)}, k = ${k}; oracles.md §4), possibly essential spectrum, not an isolated eigenvalue`;
    break;
  }
  if (!bottom) bottom = '; the continuum bottom of the spectrum there may be essential spectrum of the form h(ησ(k − 2) − 4)²/(16ησ) (oracles.md §4)';
  return {
    note:
      `grid value: f has a zero in the box and the noise is multiplicative without floor, so π = f^−α is singular there; the discrete λ₁ converges slowly (not like h²) toward the continuum value and can sit far above it` +
      bottom,
  };
}

/** Fine cell → coarse parent cell for a grid and its refinement by 2. */
function parentMap(coarse: Grid, fine: Grid): Int32Array {
  const out = new Int32Array(fine.size);
  for (let j = 0; j < fine.size; j++) {
    let p = 0;
    for (let k = 0; k < fine.dim; k++) p += Math.floor((Math.floor(j / fine.strides[k]) % fine.n[k]) / 2) * coarse.strides[k];
    out[j] = p;
  }
  return out;
}

/** cos² of the angle between the coarse vector injected into the fine cells and a fine vector. */
function overlap2(parent: Int32Array, v: Float64Array, w: Float64Array): number {
  let d = 0;
  let nv = 0;
  let nw = 0;
  for (let j = 0; j < w.length; j++) {
    const a = v[parent[j]];
    d += a * w[j];
    nv += a * a;
    nw += w[j] * w[j];
  }
  return nv > 0 && nw > 0 ? (d * d) / (nv * nw) : 0;
}

interface Cluster {
  /** Mode indices (a degenerate eigenvalue is one cluster: its vectors are any basis of it). */
  idx: number[];
  value: number;
  name: string;
}

const AXES = ['x', 'y', 'z'];

/** Degenerate values grouped, each named by the reflection classes its vectors lie in. */
function clusters(g: Grid, m: GeneratorModes): Cluster[] {
  const out: Cluster[] = [];
  for (let i = 0; i < m.values.length; i++) {
    const last = out[out.length - 1];
    const v = m.values[i];
    const tol = 1e-6 * Math.abs(v) + 10 * (m.errorBounds[i] ?? 0);
    if (last && Math.abs(v - m.values[last.idx[last.idx.length - 1]]) <= tol) last.idx.push(i);
    else out.push({ idx: [i], value: v, name: '' });
  }
  for (const c of out) {
    c.value = c.idx.reduce((s, i) => s + m.values[i], 0) / c.idx.length;
    const w = new Array<number>(2 ** g.dim).fill(0);
    for (const i of c.idx) {
      const v = m.vectors[i];
      let n2 = 0;
      for (const x of v) n2 += x * x;
      for (let cls = 0; cls < w.length; cls++) {
        const p = parityComponent(g, v, cls);
        let s = 0;
        for (const x of p) s += x * x;
        w[cls] += n2 > 0 ? s / n2 : 0;
      }
    }
    const classes = w.map((x, cls) => ({ cls, x })).filter((e) => e.x >= 0.05 * c.idx.length);
    const total = classes.reduce((s, e) => s + e.x, 0);
    const clsName = (cls: number): string =>
      g.dim === 1 ? (cls ? 'odd' : 'even') : AXES.slice(0, g.dim).map((a, k) => `${(cls >> k) & 1 ? 'odd' : 'even'} in ${a}`).join(', ');
    const mult = c.idx.length > 1 ? ` (${c.idx.length}-fold)` : '';
    if (total < 0.95 * c.idx.length || classes.length > c.idx.length) c.name = `λ ≈ ${c.value.toPrecision(6)}${mult}, no reflection symmetry`;
    else c.name = classes.map((e) => clsName(e.cls)).join(' | ') + mult;
  }
  return out;
}

interface Match {
  coarse: Cluster[];
  fine: Cluster[];
  /** ov[a][b]: overlap of coarse cluster a with fine cluster b (1 = same subspace). */
  ov: number[][];
}

function match(cg: Grid, cm: GeneratorModes, fg: Grid, fm: GeneratorModes, parent: Int32Array): Match {
  const coarse = clusters(cg, cm);
  const fine = clusters(fg, fm);
  const ov = coarse.map((a) =>
    fine.map((b) => {
      let s = 0;
      for (const i of a.idx) for (const j of b.idx) s += overlap2(parent, cm.vectors[i], fm.vectors[j]);
      // A cluster cut at the end of the computed modes may hold fewer vectors than its partner.
      return s / Math.min(a.idx.length, b.idx.length);
    }),
  );
  return { coarse, fine, ov };
}

const argmax = (xs: number[]): number => xs.reduce((b, x, i) => (x > xs[b] ? i : b), 0);
/** Overlap that makes two clusters the same mode (a smooth mode injected keeps cos² ≈ 1 − O(h²)). */
const SAME = 0.5;

export interface RefineInput {
  op: FvOperator;
  landscape: PointFunction;
}

/**
 * Richardson extrapolation of the same mode over h and h/2. Modes are matched by the overlap of
 * the coarse eigenvector injected into the fine cells (and named by reflection class), because λ₁
 * on the two grids can be different modes: extrapolating one with the other mixes two limits.
 */
export function* refineSteps(
  input: RefineInput,
  primary: GeneratorModes,
  k: number,
  o: SolveOptions,
  nearZero: boolean,
): Steps<{ extrapolated: NonNullable<GapReport['extrapolated']>; notes: string[] }> {
  const { op } = input;
  const grid = op.grid;
  const notes: string[] = [];
  const fineGrid = grid.refined(2);
  const built = Problem.build(fineGrid, input.landscape, op.problem.noise);
  if (isFault(built)) throw new NumericalFault(`the landscape fails on the refined grid ${fineGrid.n.join('×')} (${built.reason} at ${built.point.join(', ')})`);
  const fineOp = new FvOperator(built);
  const parent = parentMap(grid, fineGrid);
  const cap = Math.min(24, grid.size - 2);
  // Enough modes for a degenerate multiplet of the lowest odd class plus the lowest even mode.
  let m = Math.min(Math.max(k, grid.dim + 2), cap);
  let cm: GeneratorModes = primary;
  let fm: GeneratorModes;
  let mt: Match;
  let pc: number;
  let pf: number;
  for (;;) {
    if (cm.values.length < m) cm = yield* solveModes(op, m, o);
    fm = yield* solveModes(fineOp, m, o);
    mt = match(grid, cm, fineGrid, fm, parent);
    pc = argmax(mt.ov[0]);
    pf = argmax(mt.ov.map((r) => r[0]));
    if ((mt.ov[0][pc] >= SAME && mt.ov[pf][0] >= SAME) || m >= cap) break;
    m = Math.min(2 * m, cap);
  }
  const pairs: NonNullable<NonNullable<GapReport['extrapolated']>['pairs']> = [];
  const add = (a: number, b: number): void => {
    if (mt.ov[a][b] < SAME || pairs.some((p) => p.mode === mt.coarse[a].name && p.coarse === mt.coarse[a].value)) return;
    const c = mt.coarse[a].value;
    const f = mt.fine[b].value;
    pairs.push({ mode: mt.coarse[a].name, coarse: c, fine: f, value: (4 * f - c) / 3, overlap: mt.ov[a][b] });
  };
  add(0, pc);
  add(pf, 0);
  const unmatched = pairs.length === 0;
  if (unmatched) {
    // No partner among the computed modes: extrapolating λ₁ with λ₁ is all that is left, and is said.
    const c = primary.values[0];
    const f = fm.values[0];
    pairs.push({ mode: mt.coarse[0].name, coarse: c, fine: f, value: (4 * f - c) / 3, overlap: mt.ov[0][0] });
    notes.push(
      `refine: λ₁ on h and h/2 could not be matched as one mode (best overlap of the eigenvectors ${Math.max(...mt.ov[0]).toFixed(3)} < ${SAME} within ${m} modes); the extrapolation of λ₁(h) with λ₁(h/2) may mix two modes`,
    );
  }
  const best = pairs.reduce((b, p) => (p.value < b.value ? p : b), pairs[0]);
  const identityChanged = !unmatched && pc !== 0;
  if (identityChanged) {
    notes.push(
      `refine: λ₁ changes identity between the grids: on h it is the mode [${mt.coarse[0].name}] (${mt.coarse[0].value.toPrecision(6)}), on h/2 the mode [${mt.fine[0].name}] (${mt.fine[0].value.toPrecision(6)}); ` +
        `each mode was extrapolated with its own partner (${pairs.map((p) => `[${p.mode}]: ${p.coarse.toPrecision(6)}, ${p.fine.toPrecision(6)} → ${p.value.toPrecision(6)}`).join('; ')}) and the extrapolated λ₁ is the least of these`,
    );
  }
  if (!fm.converged) notes.push('not converged on the refined grid: the extrapolation inherits its residual-sized error');
  let observedOrder: number | null = null;
  let secondOrder = true;
  let errorEstimate: number | null = Math.abs(best.value - best.fine);
  if (nearZero) {
    observedOrder = yield* orderOn2h(input, grid, cm, mt, best, m, o);
    secondOrder = false;
    errorEstimate = null;
    notes.push(
      `refine: not second order near the zero of f; no error bound: the extrapolated ${best.value.toPrecision(6)} is a grid value, not the continuum λ₁` +
        (observedOrder === null ? '' : ` (observed order on 2h, h, h/2: ${observedOrder.toPrecision(3)}${Math.abs(observedOrder - 2) > 0.3 ? ', not the scheme\'s 2' : ', but with the singular π at the zero this is not evidence of the asymptotic regime'})`),
    );
    if (best.value < 0) notes.push('refine: the extrapolation came out negative, which a gap cannot be');
  }
  return {
    extrapolated: {
      value: best.value,
      coarse: best.coarse,
      fine: best.fine,
      errorEstimate,
      fineCells: fineGrid.n.slice(),
      mode: best.mode,
      identityChanged,
      pairs,
      secondOrder,
      observedOrder,
    },
    notes,
  };
}

/** Observed order of the extrapolated mode from a third, coarser grid (cheap: 2^−d of the cells). */
function* orderOn2h(
  input: RefineInput,
  grid: Grid,
  cm: GeneratorModes,
  mt: Match,
  best: { coarse: number; fine: number },
  m: number,
  o: SolveOptions,
): Steps<number | null> {
  if (grid.n.some((n) => n % 2 !== 0 || n / 2 < 4)) return null;
  const cg = new Grid(
    grid.lo.map((lo, k) => [lo, grid.hi[k]] as [number, number]),
    grid.n.map((n) => n / 2),
  );
  const built = Problem.build(cg, input.landscape, input.op.problem.noise);
  if (isFault(built)) return null;
  const cop = new FvOperator(built);
  const mm = Math.min(m, cg.size - 2);
  if (mm < 1) return null;
  const ccm = yield* solveModes(cop, mm, o);
  const a = mt.coarse.findIndex((c) => c.value === best.coarse);
  if (a < 0) return null;
  const sub = match(cg, ccm, grid, cm, parentMap(cg, grid));
  const col = sub.ov.map((r) => r[a]);
  const j = argmax(col);
  if (col[j] < SAME) return null;
  const l2h = sub.coarse[j].value;
  const r = (l2h - best.coarse) / (best.coarse - best.fine);
  return r > 0 && Number.isFinite(r) ? Math.log2(r) : null;
}
