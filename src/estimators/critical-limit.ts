/**
 * The critical-noise limit (issue #17, item 4; docs/regime.md "The critical-noise limit";
 * docs/oracles.md §7). As ησ ↓ 4/(k − 2), α = 1 + 2/(ησ) ↑ k/2 and ∫ f^−α near each isolated
 * quadratic zero diverges like det(H_i)^−1/2 · R^(d−2α)/(d − 2α): π's mass concentrates on the
 * zeros with weights ∝ det(H_i)^−1/2 (times the fraction of the zero's neighbourhood inside the box
 * when it sits on a wall). This module states that prediction for the components the regime
 * analysis found, beside π's computed mass in each component's basin, and says how far ησ is
 * from the threshold, so that a user reads the agreement with the right expectation: the
 * corrections are of relative order d − 2α, not small far above the threshold.
 */
import { symmetricEigen } from '../../solvers/dense.js';
import type { Grid } from '../../solvers/grid.js';
import type { NoiseModel, Problem } from '../../solvers/problem.js';
import { basinLabels, massPerBasin, zeroComponentSeeds, type BasinLabels } from '../diagnostics/basins.js';
import type { Regime, RegimeComponent } from '../diagnostics/regime.js';
import type { ComponentType } from '../diagnostics/zero-set.js';
import type { CompiledExpr } from '../landscape/expr.js';

/** One zero-set component, in the order of report.json `regimeDetails.components`. */
export interface CriticalLimitComponent {
  /** 1-based index into regimeDetails.components. */
  component: number;
  location: number[];
  type: ComponentType;
  /** True when the limit weight below is predicted for it (a leading isolated quadratic zero). */
  covered: boolean;
  /** Why it is covered, has limit weight 0, or has no prediction. */
  why: string;
  /** det ∇²f at an isolated zero; det H_⊥ (product of the transverse eigenvalues) on a valley. */
  detH: number | null;
  /**
   * Fraction of the zero's local measure inside the box: 1 inside, 1/2 on one wall, the orthant
   * probability of N(0, H⁻¹) at an edge or corner (docs/regime.md).
   */
  wallFactor: number | null;
  /** Limit weight wallFactor·det(H)^−1/2 / Σ over the covered zeros; 0 for higher exponents; null: no prediction. */
  predictedWeight: number | null;
  /** π's mass in the component's basin (steepest descent of the cell values of f). */
  piMass: number;
  /** piMass / Σ piMass over the components with a prediction (null when this one has none). */
  piFraction: number | null;
  /** Valleys (zero sets of dimension 1): det H_⊥ and the predicted relative density along the curve. */
  manifold?: { x: number[]; detHPerp: number; density: number }[];
}

export interface CriticalLimitReport {
  etaSigma: number;
  alpha: number;
  /** Least sublevel exponent e over the components (k/2 for a quadratic zero of codimension k). */
  exponent: number | null;
  /** Codimension k of the leading components when quadratic. */
  codimension: number | null;
  /** ησ at which α = e: 4/(k − 2) for k ≥ 3; null when there is none (e ≤ 1: never integrable). */
  threshold: number | null;
  /** ησ − threshold (> 0: π exists). */
  distance: number | null;
  /** 2(e − α) = d − 2α for isolated zeros: the relative order of the corrections to the limit weights. */
  expectedDisagreement: number | null;
  /** max |piFraction − predictedWeight| over the covered components. */
  maxDeviation: number | null;
  /** π's mass in basins of no component (positive local minima). */
  otherMass: number;
  /** The spectrum bottom's approach to 0, h(ησ(k − 2) − 4)²/(16ησ), above the threshold (oracles.md §4). */
  slowingDown: { h: number; value: number } | null;
  basin: string;
  components: CriticalLimitComponent[];
  notes: string[];
}

const BASIN = 'the basins of report.json basins (src/diagnostics/basins.ts): steepest descent per unit length over the 3^d neighbours of the cell values of f, each zero component one basin';

const fmt = (v: number, p = 4): string => String(+v.toPrecision(p));

/** Φ₂/Φ₃ orthant probabilities of a centred Gaussian from its correlations (Sheppard; Plackett). */
export function orthantProbability(corr: readonly (readonly number[])[]): number {
  const m = corr.length;
  if (m === 0) return 1;
  if (m === 1) return 0.5;
  const as = (r: number): number => Math.asin(Math.max(-1, Math.min(1, r)));
  if (m === 2) return 0.25 + as(corr[0][1]) / (2 * Math.PI);
  if (m === 3) return 0.125 + (as(corr[0][1]) + as(corr[0][2]) + as(corr[1][2])) / (4 * Math.PI);
  throw new RangeError(`orthant probability in ${m} dimensions is not needed for d ≤ 3`);
}

function inverse(H: readonly (readonly number[])[]): number[][] {
  const { values, vectors } = symmetricEigen(H.map((r) => r.slice()));
  const d = H.length;
  const out = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  values.forEach((lam, m) => {
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i][j] += (vectors[m][i] * vectors[m][j]) / lam;
  });
  return out;
}

/**
 * Fraction of the measure f^−α near a quadratic zero on the walls that lies inside the box. With
 * y = H^−1/2 z the integral over a cone C is det(H)^−1/2 times a radial integral times the solid
 * angle of H^1/2 C, which is the probability that y ~ N(0, H⁻¹) falls in C. One wall: exactly 1/2
 * for every H (f is even in y about the zero); several: the orthant probability of the
 * correlations of H⁻¹, signed by the side of each wall.
 */
export function wallFactor(H: readonly (readonly number[])[], sides: readonly { axis: number; sign: 1 | -1 }[]): number {
  if (sides.length === 0) return 1;
  if (sides.length === 1) return 0.5;
  const S = inverse(H);
  const corr = sides.map((a) => sides.map((b) => (a.sign * b.sign * S[a.axis][b.axis]) / Math.sqrt(S[a.axis][a.axis] * S[b.axis][b.axis])));
  return orthantProbability(corr);
}

/** Hessian of f at p: symbolic when the landscape has one, else central differences. */
export type HessianAt = (p: readonly number[]) => number[][];

export function hessianOf(compiled: { at(p: readonly number[]): number; hessian?(): readonly (readonly { at(p: readonly number[]): number }[])[] }, grid: Grid): HessianAt {
  try {
    const H = compiled.hessian?.();
    if (H) {
      const fd = differences(compiled, grid);
      // A quotient such as 1/(1/q₁ + 1/q₂) has 0/0 in its symbolic second derivatives at a zero.
      return (p) => {
        const v = H.map((row) => row.map((h) => h.at(p)));
        return v.every((row) => row.every(Number.isFinite)) ? v : fd(p);
      };
    }
  } catch {
    // A landscape without symbolic second derivatives: differences below.
  }
  return differences(compiled, grid);
}

function differences(compiled: { at(p: readonly number[]): number }, grid: Grid): HessianAt {
  const s = grid.hi.map((hi, k) => 1e-4 * (hi - grid.lo[k]));
  return (p) => {
    const d = p.length;
    const at = (di: number, si: number, dj: number, sj: number): number => {
      const q = p.slice();
      q[di] += si * s[di];
      q[dj] += sj * s[dj];
      return compiled.at(q);
    };
    const H = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        H[i][j] = H[j][i] = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * s[i] * s[j]);
      }
    }
    return H;
  };
}

/**
 * π's mass in the basin of each component, by the run's basin partition (src/diagnostics/basins.ts
 * basinLabels seeded by the zero components), so these are report.json basins' π masses. Returns
 * the masses and what fell in no component's basin (positive local minima).
 */
export function basinMasses(
  grid: Grid,
  f: Float64Array,
  logPi: Float64Array,
  components: readonly { location: readonly number[] }[],
  componentCells: readonly (readonly number[])[],
  labels?: BasinLabels,
): { masses: number[]; other: number } {
  // A run has labelled its basins already (BasinMeter, seeded by the same components): reuse them.
  const { label, basins } = labels ?? basinLabels(grid, f, zeroComponentSeeds(components, componentCells));
  const pi = Float64Array.from(logPi, Math.exp);
  const all = massPerBasin(label, basins.length, pi, grid.cellVolume);
  const masses = all.slice(0, components.length);
  let other = 0;
  for (let k = components.length; k < all.length; k++) other += all[k];
  return { masses, other };
}

/** Transverse eigen-directions (the k largest |eigenvalues|) and the null ones of H. */
function split(H: readonly (readonly number[])[], k: number): { detPerp: number; along: number[][]; across: number[][]; values: number[] } {
  const { values, vectors } = symmetricEigen(H.map((r) => r.slice()));
  const order = values.map((_, i) => i).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]));
  const across = order.slice(0, k);
  return {
    detPerp: across.reduce((p, i) => p * values[i], 1),
    across: across.map((i) => vectors[i]),
    along: order.slice(k).map((i) => vectors[i]),
    values,
  };
}

/**
 * Points along a valley curve through x0 (zero set of dimension 1), about `count` over the box,
 * each pulled back onto {f = 0} by Newton steps across it, with det H_⊥ there.
 */
function traceValley(grid: Grid, fAt: (p: readonly number[]) => number, hess: HessianAt, grad: ((p: readonly number[]) => number[]) | null, x0: readonly number[], k: number, fScale: number, count = 48): { x: number[]; detHPerp: number }[] {
  const span = Math.max(...grid.hi.map((hi, a) => hi - grid.lo[a]));
  const step = span / count;
  const inBox = (p: readonly number[]): boolean => p.every((v, a) => v >= grid.lo[a] && v <= grid.hi[a]);
  const gradient = grad ?? ((p: readonly number[]) => p.map((_, a) => {
    const e = 1e-7 * span;
    const q = p.slice();
    const r = p.slice();
    q[a] += e;
    r[a] -= e;
    return (fAt(q) - fAt(r)) / (2 * e);
  }));
  const project = (p: number[]): number[] => {
    let x = p.slice();
    for (let it = 0; it < 30; it++) {
      const H = hess(x);
      const g = gradient(x);
      const { values, vectors } = symmetricEigen(H.map((r) => r.slice()));
      const order = values.map((_, i) => i).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]));
      const dx = new Array<number>(x.length).fill(0);
      for (const i of order.slice(0, k)) {
        const c = vectors[i].reduce((a, v, j) => a + v * g[j], 0) / values[i];
        for (let j = 0; j < x.length; j++) dx[j] -= c * vectors[i][j];
      }
      x = x.map((v, j) => v + dx[j]);
      if (Math.hypot(...dx) < 1e-13 * span) break;
    }
    return x;
  };
  const out: { x: number[]; detHPerp: number; s: number }[] = [{ x: x0.slice(), detHPerp: split(hess(x0), k).detPerp, s: 0 }];
  // The regime analysis's zero threshold: f ≤ 1e-12 of its typical size counts as 0.
  const fTol = 1e-10 * fScale;
  for (const sgn of [1, -1]) {
    let x = x0.slice();
    let dir = split(hess(x0), k).along[0].map((v) => sgn * v);
    for (let n = 1; n <= count; n++) {
      const y = project(x.map((v, a) => v + step * dir[a]));
      if (!inBox(y) || !(fAt(y) <= fTol)) break;
      // Closed curve: back at the start.
      if (n > 2 && Math.hypot(...y.map((v, a) => v - x0[a])) < 0.5 * step) break;
      const sp = split(hess(y), k);
      const t = sp.along[0];
      const dot = t.reduce((a, v, j) => a + v * dir[j], 0);
      dir = t.map((v) => (dot < 0 ? -v : v));
      x = y;
      out.push({ x: y, detHPerp: sp.detPerp, s: sgn * n });
    }
  }
  return out.sort((a, b) => a.s - b.s).map(({ x, detHPerp }) => ({ x, detHPerp }));
}

export interface CriticalLimitInput {
  grid: Grid;
  noise: NoiseModel;
  regime: Regime;
  /** Cell averages of f and ln π (normalized), as the Problem holds them. */
  f: Float64Array;
  logPi: Float64Array;
  fAt: (p: readonly number[]) => number;
  hessianAt: HessianAt;
  gradientAt?: (p: readonly number[]) => number[];
  /** The run's basin labels (BasinMeter), seeded by the zero components; computed here when absent. */
  labels?: BasinLabels;
}

const isLeadingCandidate = (c: RegimeComponent): boolean => c.type === 'isolated quadratic' && c.exponentExact !== null && c.verdict !== 'undecided';

/**
 * The criticalLimit block of report.json, or null where there is no zero of f for π to
 * concentrate on (additive noise, a floor ε > 0, inf f > 0).
 */
export function criticalLimit(inp: CriticalLimitInput): CriticalLimitReport | null {
  const { grid, noise, regime } = inp;
  if (noise.kind !== 'multiplicative' || noise.eps > 0) return null;
  const comps = regime.components ?? [];
  if (comps.length === 0) return null;
  const etaSigma = noise.etaSigma;
  const alpha = 1 + 2 / etaSigma;
  const d = grid.dim;
  const notes: string[] = [];
  const cellsOf = regime.componentCells ?? comps.map(() => []);
  const sorted = Float64Array.from(inp.f, Math.abs).sort();
  const fScale = Math.max(sorted[Math.floor(sorted.length / 2)], 1e-300);
  const { masses, other } = basinMasses(grid, inp.f, inp.logPi, comps, cellsOf, inp.labels);
  const exps = comps.map((c) => c.exponent);
  const known = exps.every((e): e is number => e !== null);
  const eMin = known ? Math.min(...(exps as number[])) : null;
  // A measured exponent is only known to its uncertainty: within it of e_min, a component leads too.
  const spread = (c: RegimeComponent): number => (c.exponentExact === null ? (c.exponentMeasured?.uncertainty ?? 0) : 0);
  const argMin = eMin === null ? undefined : comps.find((c) => c.exponent === eMin);
  const atMin = (c: RegimeComponent): boolean =>
    eMin !== null && c.exponent !== null && c.exponent - eMin <= 1e-9 * Math.max(1, eMin) + spread(c) + (argMin ? spread(argMin) : 0);
  const leaders = comps.filter(atMin);
  const leadersQuadratic = leaders.length > 0 && leaders.every(isLeadingCandidate);
  const k = leadersQuadratic ? leaders[0].codimension : null;
  const threshold = eMin !== null && eMin > 1 ? 2 / (eMin - 1) : null;
  const predictable = leadersQuadratic && threshold !== null;
  // The radial factor R^(d−2α) changes across a basin by a relative amount of order d − 2α: that is
  // the size of the corrections to the limit weights (oracles.md §7).
  const expectedDisagreement = eMin !== null && threshold !== null ? 2 * (eMin - alpha) : null;
  const components: CriticalLimitComponent[] = comps.map((c, i) => {
    const base = { component: i + 1, location: c.location.slice(), type: c.type, piMass: masses[i] };
    const H = inp.hessianAt(c.location);
    if (c.type === 'valley') {
      const kk = c.codimension ?? 0;
      const sp = split(H, kk);
      const manifold =
        c.zeroSetDimension === 1 && kk > 0 ? traceValley(grid, inp.fAt, inp.hessianAt, inp.gradientAt ?? null, c.location, kk, fScale) : [{ x: c.location.slice(), detHPerp: sp.detPerp }];
      const top = Math.max(...manifold.map((m) => m.detHPerp ** -0.5));
      const codimText = kk < 3 ? `codimension ${kk} < 3: π = f^−α is not integrable near it for any ησ (oracles.md §4), so there is no critical noise; the density is the collapse limit, ` : '';
      return {
        ...base,
        covered: false,
        why: `valley (zero set of dimension ${c.zeroSetDimension}): ${codimText}∝ det(H_⊥)^−1/2 along the manifold (oracles.md §7), given in 'manifold' relative to its largest value; no point weight`,
        detH: sp.detPerp,
        wallFactor: null,
        predictedWeight: null,
        piFraction: null,
        manifold: manifold.map((m) => ({ x: m.x, detHPerp: m.detHPerp, density: m.detHPerp ** -0.5 / top })),
      };
    }
    const isolated = c.type === 'isolated quadratic';
    const det = isolated && H.length === d ? split(H, d).detPerp : null;
    const sides: { axis: number; sign: 1 | -1 }[] = [];
    c.location.forEach((v, a) => {
      const span = grid.hi[a] - grid.lo[a];
      if (v - grid.lo[a] <= 1e-9 * span) sides.push({ axis: a, sign: 1 });
      else if (grid.hi[a] - v <= 1e-9 * span) sides.push({ axis: a, sign: -1 });
    });
    const wf = isolated && det !== null && det > 0 ? wallFactor(H, sides) : null;
    let why: string;
    let covered = false;
    if (!predictable) {
      why =
        eMin === null
          ? 'no prediction: the exponent of some component is unknown on this grid (regime undecided there)'
          : threshold === null
            ? `no prediction: the least exponent is e = ${fmt(eMin)} ≤ 1, so π is not integrable for any ησ (no critical noise; codimension k ≥ 3 is needed, oracles.md §4)`
            : 'no prediction: the least integrable components are not all isolated quadratic zeros (a degenerate zero, a zero where f vanishes linearly at a wall, or a valley has the same exponent; their weights depend on more than the Hessian)';
    } else if (!atMin(c)) {
      why = `limit weight 0: its exponent e = ${fmt(c.exponent ?? NaN)} exceeds the leading e = ${fmt(eMin!)}, so its mass stays finite while the leading zeros' diverges as ησ ↓ ${fmt(threshold!)}`;
    } else {
      covered = true;
      why = `isolated quadratic zero of codimension ${c.codimension}${sides.length ? `, on ${sides.length} wall(s): × ${fmt(wf ?? NaN)} (the part of its neighbourhood inside the box)` : ''}: weight ∝ ${sides.length ? 'factor · ' : ''}det(H)^−1/2`;
    }
    return { ...base, covered, why, detH: det, wallFactor: wf, predictedWeight: null, piFraction: null };
  });
  if (predictable) {
    const raw = components.map((c) => (c.covered && c.detH !== null && c.wallFactor !== null ? c.wallFactor * c.detH ** -0.5 : 0));
    const total = raw.reduce((a, b) => a + b, 0);
    const piTotal = components.reduce((a, c) => a + c.piMass, 0);
    components.forEach((c, i) => {
      c.predictedWeight = total > 0 ? raw[i] / total : null;
      c.piFraction = piTotal > 0 ? c.piMass / piTotal : null;
    });
  }
  const dev = components.filter((c) => c.covered && c.predictedWeight !== null && c.piFraction !== null).map((c) => Math.abs(c.piFraction! - c.predictedWeight!));
  const slowingDown =
    predictable && k !== null && etaSigma * (k - 2) > 4
      ? (() => {
          const h = Math.min(...components.filter((c) => c.covered).map((c) => Math.min(...comps[c.component - 1].hessianEigenvalues.filter((v) => v > 0))));
          return { h, value: (h * (etaSigma * (k - 2) - 4) ** 2) / (16 * etaSigma) };
        })()
      : null;
  if (predictable) {
    if (expectedDisagreement! <= 0) {
      notes.push(
        `ησ = ${fmt(etaSigma)} is at or below the threshold ${fmt(threshold!)}: π is not integrable and the computed masses are the grid π's (an artifact that depends on h); the limit weights describe ησ slightly above the threshold`,
      );
    } else {
      notes.push(
        `ησ = ${fmt(etaSigma)} is ${fmt(etaSigma - threshold!)} above the threshold ${fmt(threshold!)}: the limit weights hold as ησ ↓ ${fmt(threshold!)}, with corrections of relative order d − 2α = ${fmt(expectedDisagreement!, 3)}${expectedDisagreement! > 0.3 ? ' (large: do not expect agreement this far above the threshold)' : ''}`,
      );
    }
  }
  if (other > 1e-3) notes.push(`${fmt(other, 3)} of π's mass lies in basins of no zero of f (positive local minima); the fractions are over the zeros' basins`);
  return {
    etaSigma,
    alpha,
    exponent: eMin,
    codimension: k,
    threshold,
    distance: threshold !== null ? etaSigma - threshold : null,
    expectedDisagreement,
    maxDeviation: dev.length ? Math.max(...dev) : null,
    otherMass: other,
    slowingDown,
    basin: BASIN,
    components,
    notes,
  };
}

/** Summary lines (console and HTML): one per component with a number to show. */
export function formatCriticalLimitLines(c: CriticalLimitReport): string[] {
  const p = (v: number | null, n = 4): string => (v === null || !Number.isFinite(v) ? '–' : fmt(v, n));
  const head =
    c.threshold !== null
      ? `critical-noise limit: threshold ησ = ${p(c.threshold)} (k = ${c.codimension ?? '–'}), ησ = ${p(c.etaSigma)}, expected disagreement O(d − 2α) = ${p(c.expectedDisagreement, 3)}`
      : `critical-noise limit: none (least exponent e = ${p(c.exponent)} ≤ 1 or unknown: no threshold)`;
  const lines = [head];
  for (const k of c.components) {
    const at = `(${k.location.map((v) => p(v, 4)).join(', ')})`;
    if (k.predictedWeight !== null) lines.push(`  [${k.component}] at ${at}: limit weight ${p(k.predictedWeight)}, π mass fraction ${p(k.piFraction)}${k.covered ? '' : ` (${k.why})`}`);
    else if (k.manifold) {
      const dens = k.manifold.map((m) => m.density);
      lines.push(`  [${k.component}] valley at ${at}: predicted density ∝ det(H_⊥)^−1/2 over ${k.manifold.length} points, from ${p(Math.min(...dens), 3)} to 1 of its largest; ${k.why}`);
    } else lines.push(`  [${k.component}] at ${at}: π mass ${p(k.piMass)}; ${k.why}`);
  }
  return lines;
}

/** The criticalLimit of a set-up problem (its grid π, regime and landscape), or null without zeros of f. */
export function criticalLimitOf(setup: { grid: Grid; problem: Problem; regime: Regime; landscape: { compiled: CompiledExpr } }, labels?: BasinLabels): CriticalLimitReport | null {
  const { grid, problem, regime, landscape } = setup;
  const compiled = landscape.compiled;
  let gradientAt: ((p: readonly number[]) => number[]) | undefined;
  try {
    const g = compiled.gradient();
    gradientAt = (p) => g.map((gk) => gk.at(p));
  } catch {
    gradientAt = undefined;
  }
  return criticalLimit({
    grid,
    noise: problem.noise,
    regime,
    f: problem.f,
    logPi: problem.logPi(),
    fAt: (p) => compiled.at(p),
    hessianAt: hessianOf(compiled, grid),
    ...(gradientAt ? { gradientAt } : {}),
    ...(labels ? { labels } : {}),
  });
}

/** Rows of report.html's summary table: the threshold line and one row per component. */
export function criticalLimitRows(c: CriticalLimitReport): [string, string][] {
  const [head, ...rest] = formatCriticalLimitLines(c);
  return [['critical-noise limit', head.replace(/^critical-noise limit: /, '')], ...rest.map((l): [string, string] => {
    const m = /^\s*\[(\d+)\] (.*)$/.exec(l);
    return m ? [`  component ${m[1]}`, m[2]] : ['', l.trim()];
  })];
}

/** What a sweep keeps of a point's criticalLimit (results.jsonl `critical`): enough for summary.csv and the phase diagram. */
export interface CriticalSummary {
  etaSigma: number;
  threshold: number | null;
  codimension: number | null;
  expectedDisagreement: number | null;
  maxDeviation: number | null;
  slowingDown: { h: number; value: number } | null;
  components: { location: number[]; piMass: number; piFraction: number | null; predictedWeight: number | null }[];
}

export function criticalSummary(c: CriticalLimitReport): CriticalSummary {
  return {
    etaSigma: c.etaSigma,
    threshold: c.threshold,
    codimension: c.codimension,
    expectedDisagreement: c.expectedDisagreement,
    maxDeviation: c.maxDeviation,
    slowingDown: c.slowingDown,
    components: c.components.map((k) => ({ location: k.location, piMass: k.piMass, piFraction: k.piFraction, predictedWeight: k.predictedWeight })),
  };
}
