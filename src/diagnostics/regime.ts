import type { Grid } from '../../solvers/grid.js';
import type { NoiseModel } from '../../solvers/problem.js';
import { alphaOf } from '../../solvers/problem.js';
import { centreValues, type PointFunction } from '../../solvers/quadrature.js';
import { findZeroComponents, localMinimum, type ComponentType, type LandscapeDerivatives, type ZeroAnalysis } from './zero-set.js';

/**
 * 'undecided': the grid cannot tell (a measured exponent within its uncertainty of α). Callers
 * treat it like 'collapsing' wherever a grid π would mislead: π may not exist.
 */
export type RegimeName = 'converging' | 'collapsing' | 'undecided';

export type ComponentVerdict = 'integrable' | 'not integrable' | 'undecided';

/** One component of the zero set in report.json (`regimeDetails.components`). */
export interface RegimeComponent {
  /** A refined point of the component (the minimizer found there). */
  location: number[];
  type: ComponentType;
  /** Box faces it touches (a zero on a wall sees a half-neighbourhood: same exponent). */
  walls: string[];
  /** Rank of ∇²f transverse to the zero set; null for degenerate zeros. */
  codimension: number | null;
  /** 0 for a point, 1 for a curve (valley), 2 for a surface. */
  zeroSetDimension: number;
  /** The exponent e of vol{f < δ} ~ δ^e used for the verdict. */
  exponent: number | null;
  /** e as a fraction when exact ('3/2'), else null (measured). */
  exponentExact: string | null;
  /** e measured from f along rays at sub-grid scales (a cross-check where e is exact). */
  exponentMeasured: { value: number; uncertainty: number; scales: [number, number] } | null;
  hessianEigenvalues: number[];
  hessianSource: 'symbolic' | 'finite differences';
  /** Grid cells assigned to this component (mass near it is tracked over them and their δ-basin). */
  cells: number;
  verdict: ComponentVerdict;
  reason: string;
  /** For 'undecided': what would decide. */
  refinement?: string;
}

export interface Regime {
  regime: RegimeName;
  /** Plain-words reason (report.json `regimeReason`). */
  reason: string;
  /** inf f over the box, located by a local search from the best cell centre. */
  infF: number;
  argminF: number[];
  /** e of the deciding component (the least integrable one), when inf f = 0. */
  sublevelExponent?: number;
  /** Its codimension (Hessian rank), when quadratic. */
  codimension?: number;
  alpha?: number;
  /** Every component of {f = 0} found on the grid, analysed locally (empty when inf f > 0 or π is bounded). */
  components?: RegimeComponent[];
  /** Cells of each component, same order (for the mass-near-zero diagnostic; not in report.json). */
  componentCells?: number[][];
}

const fmt = (v: number, p = 4): string => (Math.abs(v) < 1e-12 ? '0' : String(+v.toPrecision(p)));
const point = (x: readonly number[]): string => `(${x.map((v) => fmt(v, 6)).join(', ')})`;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function fraction(num: number, den: number): string {
  const g = gcd(num, den) || 1;
  return den / g === 1 ? String(num / g) : `${num / g}/${den / g}`;
}

/**
 * α < num/den with α = 1 + 2/(ησ), decided on ησ alone: ησ(num − den) > 2den. Equality up to
 * round-off of ησ (eta·sigma) is the boundary case, which is NOT integrable (∫ r^−1 dr diverges).
 */
function compareExact(etaSigma: number, num: number, den: number): 'below' | 'equal' | 'above' {
  const lhs = etaSigma * (num - den);
  const rhs = 2 * den;
  if (Math.abs(lhs - rhs) <= 1e-12 * rhs) return 'equal';
  return lhs > rhs ? 'below' : 'above';
}

/** ησ at which α = e (only for e > 1; for e ≤ 1 there is none: α > 1 always). */
const criticalEtaSigma = (e: number): number | null => (e > 1 ? 2 / (e - 1) : null);

function describeType(z: ZeroAnalysis): string {
  const wall = z.walls.length > 0 ? ` on the wall ${z.walls.join(', ')}` : '';
  const eig = `Hessian eigenvalues ${z.hessianEigenvalues.map((v) => fmt(v)).join(', ')}`;
  switch (z.type) {
    case 'isolated quadratic':
      return `isolated quadratic zero${wall} (${eig}; codimension ${z.codimension})`;
    case 'linear at wall':
      return `zero on the wall ${z.walls.join(', ')} where f vanishes linearly across ${z.linearWallAxes.map((k) => 'xyz'[k]).join(', ')} (${eig})`;
    case 'valley':
      return `valley: a zero set of dimension ${z.zeroSetDimension}${wall}, codimension ${(z.codimension ?? 0) + z.linearWallAxes.length} (${eig})`;
    case 'degenerate':
      if (z.nonSmooth) return `non-smooth zero${wall} (f is not C² there, e.g. a cusp |x − x₀|^p with p < 1: no Hessian rank, e measured along rays)`;
      return `degenerate zero${wall} (${eig}: f vanishes faster than quadratically along ${z.hessianEigenvalues.length - (z.codimension ?? 0)} direction(s))`;
  }
}

function judge(z: ZeroAnalysis, alpha: number, etaSigma: number, grid: Grid): RegimeComponent {
  const base = {
    location: z.location,
    type: z.type,
    walls: z.walls,
    codimension: z.codimension,
    zeroSetDimension: z.zeroSetDimension,
    exponentMeasured: z.measuredExponent,
    hessianEigenvalues: z.hessianEigenvalues,
    hessianSource: z.hessianSource,
    cells: z.cells.length,
  };
  const what = describeType(z);
  const aText = `α = ${fmt(alpha)}`;
  if (z.unresolved) {
    return {
      ...base,
      exponent: null,
      exponentExact: null,
      verdict: 'undecided',
      reason: `the local search ended at f = ${z.fAtLocation.toPrecision(3)} > 0 along a flat direction of ∇²f (eigenvalues ${z.hessianEigenvalues.map((v) => fmt(v)).join(', ')}): a zero it could not reach (π not integrable there if e ≤ α) or a tiny positive minimum (π bounded); undecided on this grid`,
      refinement: `refine the grid (cells ×4 per axis: [${grid.n.map((n) => n * 4).join(', ')}]) so that the search starts nearer the minimum, or add a floor (noise.eps > 0) if f > 0 is meant`,
    };
  }
  if (z.exactExponent) {
    const { num, den } = z.exactExponent;
    const e = num / den;
    const eText = fraction(num, den);
    const cmp = num <= den ? 'above' : compareExact(etaSigma, num, den);
    if (z.rankUncertain > 0 && cmp === 'below') {
      // The barely non-zero eigenvalues might be degenerate directions: e ∈ ((num − r)/den, num/den].
      const lo = num - z.rankUncertain;
      if (!(lo > den && compareExact(etaSigma, lo, den) === 'below')) {
        return {
          ...base,
          exponent: e,
          exponentExact: null,
          verdict: 'undecided',
          reason: `${what}: ${z.rankUncertain} Hessian eigenvalue(s) are tiny against the largest, so e lies between ${fraction(lo, den)} and ${fraction(num, den)} and ${aText} falls in between: undecided on this grid`,
          refinement: `refine the grid (cells ×4 per axis: [${grid.n.map((n) => n * 4).join(', ')}]) so that the search lands on the zero itself, or move ησ above ${fmt((2 * den) / Math.max(lo - den, 1e-300), 4)}`,
        };
      }
    }
    const crit = num > den ? ` (threshold ησ = ${fmt((2 * den) / (num - den), 6)})` : ' (never: e ≤ 1 < α)';
    const verdict: ComponentVerdict = cmp === 'below' ? 'integrable' : 'not integrable';
    const why =
      cmp === 'below'
        ? `${aText} < e = ${eText}: integrable`
        : cmp === 'equal'
          ? `${aText} = e = ${eText} exactly: not integrable (the boundary case diverges like ∫ dr/r)`
          : `${aText} > e = ${eText}: not integrable${crit}`;
    return { ...base, exponent: e, exponentExact: eText, verdict, reason: `${what}: vol{f < δ} ~ δ^${eText}; ${why}` };
  }
  const m = z.measuredExponent;
  const bound = z.exponentUpperBound;
  // A C² zero with zero gradient has e ≤ s/2 on its s-dimensional slice; trust the bound only when
  // the measurement agrees with it (abs(x) has zero "Hessian" and e = 1 > 1/2).
  if (bound !== null && alpha >= bound * (1 - 1e-12) && (m === null || m.value <= bound + m.uncertainty)) {
    return {
      ...base,
      exponent: m?.value ?? null,
      exponentExact: null,
      verdict: 'not integrable',
      reason: `${what}: e ≤ ${bound} (f ≤ C|x − x₀|² on a ${2 * bound}-dimensional slice)${m ? `, measured e = ${fmt(m.value, 3)} ± ${fmt(m.uncertainty, 2)}` : ''}; ${aText} ≥ ${bound}: not integrable`,
    };
  }
  if (m === null) {
    const factor = 4;
    return {
      ...base,
      exponent: null,
      exponentExact: null,
      verdict: 'undecided',
      reason: `${what}: the sublevel exponent could not be measured (f does not rise on the rays within ${fmt(2 * Math.sqrt(grid.dim) * Math.max(...grid.h), 3)})`,
      refinement: `refine the grid (cells ×${factor} per axis: [${grid.n.map((n) => n * factor).join(', ')}]) so that the rays resolve the zero`,
    };
  }
  const eText = `${fmt(m.value, 3)} ± ${fmt(m.uncertainty, 2)}`;
  const scales = `radii ${fmt(m.scales[0], 2)} to ${fmt(m.scales[1], 2)}`;
  if (alpha > m.value + m.uncertainty) {
    return { ...base, exponent: m.value, exponentExact: null, verdict: 'not integrable', reason: `${what}: measured e = ${eText} (${scales}); ${aText} > e: not integrable` };
  }
  if (alpha < m.value - m.uncertainty) {
    return { ...base, exponent: m.value, exponentExact: null, verdict: 'integrable', reason: `${what}: measured e = ${eText} (${scales}); ${aText} < e: integrable` };
  }
  const crit = criticalEtaSigma(m.value);
  return {
    ...base,
    exponent: m.value,
    exponentExact: null,
    verdict: 'undecided',
    reason: `${what}: measured e = ${eText} (${scales}) cannot be told apart from ${aText}: undecided on this grid`,
    refinement:
      `the rays measure e at scales tied to the cell size: cells ×4 per axis ([${grid.n.map((n) => n * 4).join(', ')}]) measure four times further in` +
      (crit !== null ? `; or move ησ away from ≈ ${fmt(crit, 3)}, where α = e` : ''),
  };
}

/**
 * Tells whether π is a probability density on the box (docs/design.md §1 and §4, oracles.md §4,
 * docs/regime.md). Multiplicative noise without floor: π = f^−α is integrable near a zero of f
 * iff α < e, where vol{f < δ} ~ δ^e there (e = k/2 for a quadratic zero of codimension k; the
 * boundary α = e is not integrable). Each component of the zero set is judged on its own; π is a
 * density iff every component is integrable.
 */
/**
 * The last zero-set analysis and what it was of. The analysis depends on the landscape and the
 * grid only, not on the noise, so the points of a noise sweep run in one worker
 * (src/parallel/worker-pool.ts) share it: it was about half of such a point's CPU time
 * (bench/results-sweep.md). Only callers that can name the landscape completely pass a key.
 */
let lastZeroSet: { key: string; result: ReturnType<typeof findZeroComponents> } | undefined;

function zeroSetOf(key: string | undefined, compute: () => ReturnType<typeof findZeroComponents>): ReturnType<typeof findZeroComponents> {
  if (key !== undefined && lastZeroSet?.key === key) return lastZeroSet.result;
  const result = compute();
  if (key !== undefined) lastZeroSet = { key, result };
  return result;
}

/**
 * `zeroSetKey`: a text that determines the landscape (expression or builtin with its params) and
 * the grid (bounds and cells) completely; a repeated key reuses the previous zero-set analysis.
 */
/** `centre`: f at the cell centres when the caller has them (setUp: from π's quadrature; the same values), handed over. */
export function classifyRegime(grid: Grid, landscape: PointFunction, noise: NoiseModel, derivs?: LandscapeDerivatives, zeroSetKey?: string, centre?: Float64Array): Regime {
  const fc = centre ?? Float64Array.from(centreValues(grid, landscape));
  let best = 0;
  for (let i = 1; i < fc.length; i++) if (fc[i] < fc[best]) best = i;
  const none = { components: [] as RegimeComponent[], componentCells: [] as number[][] };
  const refined = (): { infF: number; argminF: number[] } => {
    const m = localMinimum(grid, landscape, grid.centre(best), derivs);
    return { infF: m.v, argminF: m.x };
  };
  if (noise.kind === 'additive') {
    return { regime: 'converging', reason: `additive noise (D = ${noise.D}): π = exp(−f/D) is integrable on the bounded box`, ...refined(), ...none };
  }
  const alpha = alphaOf(noise);
  if (noise.eps > 0) {
    return {
      regime: 'converging',
      reason: `multiplicative noise with floor ε = ${noise.eps}: f + ε > 0, so π = (f + ε)^−α (α = ${alpha.toPrecision(4)}) is integrable`,
      alpha,
      ...refined(),
      ...none,
    };
  }
  // Typical size of f on the box (median of a sample of cells): thresholds relative to it are
  // blind to a huge maximum in a corner.
  const stride = Math.max(1, Math.floor(fc.length / 100000));
  const sample = new Float64Array(Math.ceil(fc.length / stride));
  for (let i = 0, j = 0; i < fc.length; i += stride, j++) sample[j] = Math.abs(fc[i]);
  // A typed array sorts numerically in native code: a comparator sort of these 100000 values cost
  // ~35 ms of a 512² set-up (issue #19). Same order for finite values, so the same median.
  sample.sort();
  const fScale = Math.max(sample[Math.floor(sample.length / 2)], fc[best], 1e-300);
  const zs = zeroSetOf(zeroSetKey, () => findZeroComponents(grid, landscape, fc, fScale, derivs));
  const components = zs.components.map((z) => judge(z, alpha, noise.etaSigma, grid));
  const componentCells = zs.components.map((z) => z.cells);
  if (components.length === 0 && zs.unanalysed > 0) {
    const m = refined();
    return {
      regime: 'undecided',
      reason: `no zero found by the local searches that ran, but ${zs.unanalysed} candidate cells near small values of f were beyond the search budget: undecided on this grid (a coarser grid or a smaller box lets every candidate be searched); inf f found = ${m.infF.toPrecision(4)} at x = ${point(m.argminF)}`,
      alpha,
      ...m,
      ...none,
    };
  }
  if (components.length === 0) {
    const m = refined();
    return {
      regime: 'converging',
      reason: `inf f = ${m.infF.toPrecision(4)} > 0 on the box (at x = ${point(m.argminF)}; no zero found by the local searches): π = f^−α (α = ${alpha.toPrecision(4)}) is integrable`,
      alpha,
      ...m,
      ...none,
    };
  }
  // The deciding component: non-integrable first, then undecided, then the one with least margin.
  const rankOf = (c: RegimeComponent): number => (c.verdict === 'not integrable' ? 0 : c.verdict === 'undecided' ? 1 : 2);
  const order = components.map((c, i) => i).sort((a, b) => rankOf(components[a]) - rankOf(components[b]) || (components[a].exponent ?? 0) - (components[b].exponent ?? 0));
  const lead = components[order[0]];
  const leadZ = zs.components[order[0]];
  // Unexamined candidates or components could hide a non-integrable zero: no 'converging' then.
  const regime: RegimeName =
    lead.verdict === 'not integrable' ? 'collapsing' : lead.verdict === 'undecided' || zs.unanalysed > 0 ? 'undecided' : 'converging';
  const n = components.length;
  const list = components.map((c, i) => `[${i + 1}] at x = ${point(c.location)}: ${c.reason}`).join('; ');
  const head = `inf f = 0: ${n} component${n > 1 ? 's' : ''} of the zero set, π = f^−α with α = 1 + 2/(ησ) = ${alpha.toPrecision(4)} (ησ = ${fmt(noise.etaSigma, 6)}) is integrable iff α < e at every one`;
  const tail =
    regime === 'collapsing'
      ? '. The density collapses onto the non-integrable zeros instead of converging; the discrete π is a grid artifact (it concentrates on the cells nearest the zero set as h → 0), so distances to it and its spectral gap are grid values, not properties of the SDE.'
      : regime === 'undecided'
        ? `. Undecided on this grid: ${lead.verdict === 'undecided' ? (lead.refinement ?? '') : 'not every candidate cell was searched'}. Until then treat the grid's π as possibly an artifact (as in the collapsing regime).`
        : '.';
  const skipped =
    zs.unanalysed > 0
      ? ` (${zs.unanalysed} further candidate cells or components were beyond the search budget and not examined${regime === 'undecided' && lead.verdict !== 'undecided' ? ': undecided, since one of them may not be integrable; a coarser grid, or a smaller box around the zeros, lets every candidate be searched' : ''})`
      : '';
  return {
    regime,
    reason: `${head}: ${list}${skipped}${tail}`,
    infF: leadZ.fAtLocation,
    argminF: leadZ.location,
    alpha,
    ...(lead.exponent !== null ? { sublevelExponent: lead.exponent } : {}),
    ...(lead.codimension !== null ? { codimension: lead.codimension } : {}),
    components,
    componentCells,
  };
}
