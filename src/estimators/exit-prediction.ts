/**
 * Exit from a basin (issue #17 item 3): the quasi-stationary distribution (QSD) of the process
 * killed on leaving `inside`, its exit rate (the principal Dirichlet eigenvalue of the generator),
 * the mean exit time from the QSD, and beside them the Kramers (additive) or Mori power-law
 * (multiplicative) rate for escape from the basin's minimum over the lowest saddle on the way
 * out (docs/oracles.md §5 "Kramers' law").
 */
import { FvOperator } from '../../solvers/operator.js';
import type { Grid } from '../../solvers/grid.js';
import { diffusivity, potential, type Problem } from '../../solvers/problem.js';
import { principalDirichletMode, restrictedSolver, type PrincipalModeOptions, type RestrictedSolver } from '../../solvers/eigen/dirichlet.js';
import type { CompiledExpr } from '../landscape/expr.js';
import { kramersIssue, refineCriticalPoint } from './critical-points.js';
import { escapeRate, MIN_DEPTH_PSI, WALL_WIDTHS, wallCut } from './kramers.js';

export interface ExitPrediction {
  law: 'kramers' | 'mori' | null;
  /** Predicted exit rate κ (null when the law does not apply). */
  rate: number | null;
  /** Computed rate / predicted rate. */
  ratio: number | null;
  /** Why the law does not apply ("asymptotic law not applicable: …"), or a caveat where it does. */
  note?: string;
  /** The minimum and the saddle the prediction used. */
  minimum?: { x: number[]; f: number };
  saddle?: { x: number[]; f: number };
  /** ψ(saddle) − ψ(minimum), ψ = −ln π: the barrier in units of the noise. */
  barrierPsi?: number;
}

export interface ExitRateResult {
  /** Principal Dirichlet eigenvalue of the generator killed outside `inside`. */
  rate: number;
  /** The QSD as a density on the cells (Σ qsd·|K| = 1, zero outside `inside`). */
  qsd: Float64Array;
  /** Mean exit time started from the QSD, from the linear solve of L T = −1 (equals 1/rate for the exact QSD). */
  meanExitFromQsd: number;
  prediction: ExitPrediction;
  /** ‖(−S_II)v − λv‖ of the eigenvector (symmetric form), and solver details. */
  residual: number;
  converged: boolean;
  method: string;
}

export interface ExitRateOptions extends Omit<PrincipalModeOptions, 'solver'> {
  /** The symbolic landscape: without it there is no Kramers/Mori prediction (critical points need ∇f and ∇²f). */
  expr?: CompiledExpr;
  /** An operator already built for `problem` (else one is built and disposed here). */
  op?: FvOperator;
}

/**
 * The QSD of `inside` (1 = cell in the basin, 0 = absorbing), its exit rate and the asymptotic
 * prediction beside it. The killed generator is the finite-volume one with ρ = 0 on absorbed
 * cells, i.e. the same matrix (up to the similarity ρ = √π v) as the Dirichlet solves of the
 * committor and the mean first-passage time.
 */
export function exitRate(problem: Problem, inside: Uint8Array, opts: ExitRateOptions = {}): ExitRateResult {
  const own = !opts.op;
  const op = opts.op ?? new FvOperator(problem);
  let solver: RestrictedSolver | null = null;
  try {
    // One solver (and one multigrid hierarchy) for the eigen-solve and the mean exit time.
    solver = restrictedSolver(op, inside, opts.preconditioner);
    const mode = principalDirichletMode(op, inside, { ...opts, solver });
    const g = problem.grid;
    const v = mode.vector;
    const qsd = new Float64Array(g.size);
    let mass = 0;
    for (let i = 0; i < g.size; i++) {
      // The Perron vector is positive; entries below 0 are round-off of a vanishing tail.
      qsd[i] = inside[i] ? Math.max(0, op.sqrtPi[i] * v[i]) : 0;
      mass += qsd[i];
    }
    mass *= g.cellVolume;
    if (!(mass > 0) || !Number.isFinite(mass)) {
      throw new RangeError(
        'the QSD has no representable mass: the basin lies so far above the global minimum of −ln π (more than ~1400) that √π underflows there, and the symmetric form cannot carry its density',
      );
    }
    for (let i = 0; i < g.size; i++) qsd[i] /= mass;
    const meanExitFromQsd = meanExitFrom(op, solver, inside, v, mode.value);
    const prediction = opts.expr ? predictExit(g, opts.expr, problem, inside, qsd, mode.value) : notApplicable('no symbolic landscape was given, so the minimum and saddle cannot be refined');
    return { rate: mode.value, qsd, meanExitFromQsd, prediction, residual: mode.residual, converged: mode.converged, method: mode.method };
  } finally {
    solver?.dispose();
    if (own) op.dispose();
  }
}

/**
 * Mean exit time from the start density √π·v: the backward equation −L T = 1 on the inside cells
 * (L = Aᵀ, A the ρ-form matrix, T = 0 on absorbed cells) becomes −S_II w = √π with w = √π T, and E[τ] = Σ ρ_i T_i / Σ ρ_i = Σ v_i w_i / Σ √π_i v_i
 * (no division by a small √π). Solved by restrictedSolver (solvers/absorbing.ts's restricted solve, Gram-form apply) to 1e-12: T is smooth across the
 * basin, so the face differences of w = √π T, and the solve, keep their relative accuracy.
 */
function meanExitFrom(op: FvOperator, solver: RestrictedSolver, inside: Uint8Array, v: Float64Array, rate: number): number {
  const n = solver.form.size;
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) b[i] = inside[i] ? op.sqrtPi[i] : 0;
  const w = new Float64Array(n);
  solver.solve(b, w, 1e-12, rate, 100000);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += v[i] * w[i];
    den += b[i] * v[i];
  }
  return num / den;
}

function notApplicable(why: string): ExitPrediction {
  return { law: null, rate: null, ratio: null, note: `asymptotic law not applicable: ${why}` };
}

/**
 * The lowest pass out of the basin: from the cell where the QSD peaks, flood in increasing f
 * (a minimax path search) until an absorbed cell is reached. The highest cell on that path is
 * the pass; it is a saddle only if it is an inside cell above the absorbed one reached (when the
 * absorbed cell is the highest, the boundary cuts the well's slope below any pass).
 */
function lowestExit(grid: Grid, fc: Float64Array, inside: Uint8Array, qsd: Float64Array): { minCell: number; passCell: number; exitCell: number } {
  // The basin's minimum is where the QSD peaks, not the lowest inside cell: an inside set may
  // also hold part of another well whose bottom lies next to the absorbing set (and is emptied fast).
  let minCell = -1;
  for (let i = 0; i < grid.size; i++) if (inside[i] && (minCell < 0 || qsd[i] > qsd[minCell])) minCell = i;
  const heap = new MinHeap(fc);
  const seen = new Uint8Array(grid.size);
  heap.push(minCell);
  seen[minCell] = 1;
  let level = -Infinity;
  let passCell = minCell;
  const idx = new Array<number>(grid.dim);
  while (heap.size > 0) {
    const c = heap.pop();
    if (!inside[c]) return { minCell, passCell: fc[c] >= level ? c : passCell, exitCell: c };
    if (fc[c] > level) {
      level = fc[c];
      passCell = c;
    }
    for (let k = 0; k < grid.dim; k++) idx[k] = Math.floor(c / grid.strides[k]) % grid.n[k];
    for (let k = 0; k < grid.dim; k++) {
      for (const dir of [-1, 1]) {
        const j = idx[k] + dir;
        if (j < 0 || j >= grid.n[k]) continue;
        const nb = c + dir * grid.strides[k];
        if (seen[nb]) continue;
        seen[nb] = 1;
        heap.push(nb);
      }
    }
  }
  return { minCell, passCell: -1, exitCell: -1 };
}

function predictExit(grid: Grid, expr: CompiledExpr, problem: Problem, inside: Uint8Array, qsd: Float64Array, computed: number): ExitPrediction {
  const noise = problem.noise;
  const coords = Array.from({ length: grid.dim }, (_, k) => grid.coordinateField(k));
  const fc = new Float64Array(grid.size);
  expr.evalPoints(coords, fc);
  const { minCell, passCell, exitCell } = lowestExit(grid, fc, inside, qsd);
  if (exitCell < 0) return notApplicable('no absorbed cell can be reached from the basin');
  if (passCell === exitCell || !inside[passCell]) {
    return notApplicable(
      `the absorbing set is reached on the well's slope (f = ${fc[exitCell].toPrecision(4)} at (${fmt(grid.centre(exitCell))}) is the highest point of the lowest way out), not over a saddle inside the basin`,
    );
  }
  const m = refineCriticalPoint(expr, grid, grid.centre(minCell), 0);
  const s = refineCriticalPoint(expr, grid, grid.centre(passCell), 1);
  let scale = 0;
  for (const p of [m, s]) for (const v of p.newton.hessianEigenvalues) scale = Math.max(scale, Math.abs(v));
  const issues = [kramersIssue(m, 0, scale), kramersIssue(s, 1, scale)].filter((v): v is string => v !== null);
  if (issues.length === 0) {
    for (const [p, kind] of [
      [m, 'minimum'],
      [s, 'saddle'],
    ] as const) {
      const cut = wallCut(p, grid, noise);
      if (cut) issues.push(`the ${kind} at (${fmt(p.x)}) is ${cut}`);
    }
  }
  if (issues.length > 0) return notApplicable(`${issues.join('; ')}. The Eyring–Kramers and Mori et al. formulas (oracles.md §5) need a non-degenerate minimum and index-1 saddle inside the box`);
  if (noise.kind === 'multiplicative' && !(m.f + noise.eps > 0)) return notApplicable(`the minimum at (${fmt(m.x)}) has f + ε = 0: the power-law rate is not defined there`);
  const barrierPsi = potential(noise, s.f) - potential(noise, m.f);
  const pts = { minimum: { x: m.x, f: m.f }, saddle: { x: s.x, f: s.f }, barrierPsi };
  if (!(barrierPsi >= MIN_DEPTH_PSI)) {
    return { ...notApplicable(`the barrier is ${barrierPsi.toPrecision(3)} in −ln π, below ${MIN_DEPTH_PSI}: the basin is not metastable`), ...pts };
  }
  // The formula is the rate of reaching the far side of the pass; absorption on the pass itself
  // is reached twice as often (half the crossings come back), so the absorbed cells must lie
  // clearly downhill of the saddle, as far as its Gaussian width along the unstable direction.
  const width = Math.sqrt(diffusivity(noise, s.f) / Math.abs(s.hessianEigenvalues[0]));
  const dist = distanceToAbsorbed(grid, inside, s.x);
  if (dist < WALL_WIDTHS * width) {
    return {
      ...notApplicable(
        `the absorbing set comes within ${dist.toPrecision(3)} of the saddle at (${fmt(s.x)}), inside ${WALL_WIDTHS} thermal widths sqrt(D/|λ₋|) = ${width.toPrecision(3)}: the rate is then between κ and 2κ (absorption on the pass itself doubles it)`,
      ),
      ...pts,
    };
  }
  const predicted = escapeRate(m, s, noise, grid.dim).rate;
  const note = barrierPsi < 8 ? `the barrier is only ${barrierPsi.toFixed(1)} in −ln π; the asymptotic formula is then accurate to tens of percent at best` : undefined;
  return { law: noise.kind === 'additive' ? 'kramers' : 'mori', rate: predicted, ratio: computed / predicted, ...(note ? { note } : {}), ...pts };
}

/** Distance from x to the nearest face of an absorbed cell (the absorbing boundary). */
function distanceToAbsorbed(grid: Grid, inside: Uint8Array, x: readonly number[]): number {
  let best = Infinity;
  for (let i = 0; i < grid.size; i++) {
    if (inside[i]) continue;
    const c = grid.centre(i);
    let d2 = 0;
    for (let k = 0; k < grid.dim; k++) {
      const gap = Math.max(0, Math.abs(x[k] - c[k]) - grid.h[k] / 2);
      d2 += gap * gap;
    }
    if (d2 < best) best = d2;
  }
  return Math.sqrt(best);
}

function fmt(x: readonly number[]): string {
  return x.map((v) => +v.toPrecision(5)).join(', ');
}

/** Binary min-heap of cell indices keyed by key[cell]. */
class MinHeap {
  private readonly a: number[] = [];
  constructor(private readonly key: Float64Array) {}
  get size(): number {
    return this.a.length;
  }
  push(c: number): void {
    const a = this.a;
    const k = this.key;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[a[p]] <= k[c]) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = c;
  }
  pop(): number {
    const a = this.a;
    const k = this.key;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const m = r < a.length && k[a[r]] < k[a[l]] ? r : l;
        if (k[a[m]] >= k[last]) break;
        a[i] = a[m];
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}
