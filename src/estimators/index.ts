import type { FvOperator } from '../../solvers/operator.js';
import type { PointFunction } from '../../solvers/quadrature.js';
import type { Regime } from '../diagnostics/regime.js';
import type { RateFit } from '../diagnostics/rates.js';
import type { CompiledExpr } from '../landscape/expr.js';
import type { BoundsReport, GapReport } from '../report/types.js';
import { bakryEmery } from './bakry-emery.js';
import { computeGap, computeGapAsync, type GapOptions } from './gap.js';
import { kramersPrediction } from './kramers.js';
import { muckenhouptBracket } from './muckenhoupt.js';

export { computeGap, computeGapAsync, GapInterrupted, type GapOptions, type GapInput, type GapResult } from './gap.js';
export { muckenhouptBracket, type MuckenhouptBracket } from './muckenhoupt.js';
export { bakryEmery } from './bakry-emery.js';
export { kramersPrediction, escapeRate, type KramersResult } from './kramers.js';
export { floodMerges, refineCriticalPoint, type CriticalPoint, type BasinMerge } from './critical-points.js';

export interface EstimatorInput {
  op: FvOperator;
  regime: Regime;
  landscape: PointFunction;
  /** Symbolic landscape (gradient and Hessian for Bakry–Émery and the Newton refinement of Kramers). */
  compiled: CompiledExpr;
}

export interface Estimates {
  gap: GapReport;
  bounds: BoundsReport;
}

/** Analytic estimates around a computed λ₁ (docs/design.md §4). None is given as if π existed when it does not. */
export function computeBounds(input: EstimatorInput, lambda1: number | null): BoundsReport {
  const { op, regime, compiled } = input;
  const notes: string[] = [];
  if (regime.regime !== 'converging') {
    notes.push(`no Muckenhoupt, Bakry–Émery or Kramers estimate: π is ${regime.regime === 'undecided' ? 'perhaps ' : ''}not integrable (regime "${regime.regime}"), so there is no Poincaré constant to bracket; the grid gap only describes the grid's π`);
    return { muckenhoupt: null, bakryEmery: null, kramers: null, notes };
  }
  let muckenhoupt: BoundsReport['muckenhoupt'] = null;
  if (op.grid.dim === 1) {
    const m = muckenhouptBracket(op);
    if (m) {
      const contains = lambda1 === null ? null : m.lower <= lambda1 * (1 + 1e-12) && lambda1 <= m.upper * (1 + 1e-12);
      muckenhoupt = { lower: m.lower, upper: m.upper, B: m.B, median: m.median, contains };
      if (contains === false) notes.push(`muckenhoupt: λ₁ = ${lambda1} lies outside [${m.lower}, ${m.upper}]: this should not happen; please report it`);
    } else notes.push('muckenhoupt: B is not finite on this grid (a face with zero conductance)');
  } else notes.push('muckenhoupt: a 1-D bracket; not computed in dimension ' + op.grid.dim);
  // Both need derivatives of the landscape; one that has none (e.g. tabulated data) costs the
  // estimate, not the report.
  let bakry: BoundsReport['bakryEmery'] = null;
  try {
    const be = bakryEmery(op.grid, compiled, op.problem.noise);
    if ('reason' in be) notes.push(be.reason);
    else {
      bakry = be;
      notes.push('bakryEmery bounds the continuous λ₁; the discrete λ₁ may sit below it by the O(h²) discretization error');
    }
  } catch (e) {
    notes.push(`Bakry–Émery: not computed (${(e as Error).message})`);
  }
  let kramers: BoundsReport['kramers'] = null;
  try {
    const kr = kramersPrediction(op.grid, compiled, op.problem.noise, lambda1);
    notes.push(...kr.notes);
    kramers = kr.report;
  } catch (e) {
    notes.push(`kramers: not computed (${(e as Error).message})`);
  }
  return { muckenhoupt, bakryEmery: bakry, kramers, notes };
}

/** Spectral gap and analytic bounds together (what `gap` prints and `run` stores). */
export function estimate(input: EstimatorInput, o: GapOptions = {}): Estimates {
  const gap = computeGap(input, o).report;
  const bounds = computeBounds(input, gap.value);
  return { gap, bounds };
}

/** estimate() that yields to the event loop during the eigen-solve and throws GapInterrupted when `signal` is aborted. */
export async function estimateAsync(input: EstimatorInput, o: GapOptions = {}, signal?: AbortSignal): Promise<Estimates> {
  const gap = (await computeGapAsync(input, o, signal)).report;
  const bounds = computeBounds(input, gap.value);
  return { gap, bounds };
}

/**
 * Relative uncertainty of a fitted tail rate: the fit's own when it reports one, else the 1 %
 * agreement of local slopes that fitTailRate demands over its window, doubled for the
 * integrator's error (backward Euler turns e^{−λt} into (1 + λΔt)^{−t/Δt}, a slightly slower decay).
 */
export function rateUncertainty(fit: RateFit): number {
  const own = (fit as RateFit & { uncertainty?: number }).uncertainty;
  return typeof own === 'number' && Number.isFinite(own) && own > 0 ? own / fit.value : 0.02;
}

/** What compareRate needs of report.integrator. */
export interface StepInfo {
  name: string;
  dtMin: number | null;
  dtMax: number | null;
}

/** The step of a fixed-step backward-Euler run, else null (adaptive steps have no single map). */
export function fixedBackwardEulerStep(i: StepInfo | undefined): number | null {
  if (!i || i.name !== 'backward-euler' || i.dtMin === null || i.dtMax === null) return null;
  if (!(i.dtMin > 0) || Math.abs(i.dtMax - i.dtMin) > 1e-12 * i.dtMax) return null;
  return i.dtMax;
}

/**
 * Compares the run's fitted χ rate with λ₁: for t → ∞, χ(t)^(1/2) ∝ e^{−λ₁t} (docs/design.md §4), so the
 * ratio should be 1 once the tail is exponential.
 */
export function compareRate(gap: GapReport, fitted: RateFit | null, endTime: number, integrator?: StepInfo): void {
  let chi = fitted;
  if (!chi) {
    gap.notes.push('rates.chi could not be fitted, so it is not compared with λ₁');
    return;
  }
  const dt = fixedBackwardEulerStep(integrator);
  if (dt !== null) {
    // Backward Euler with a fixed step damps the mode λ by (1 + λΔt)^−n exactly, so the fitted rate is
    // r = ln(1 + λΔt)/Δt, not λ; mapping it back is exact for the discrete operator, whatever r·Δt is.
    const mapped = Math.expm1(chi.value * dt) / dt;
    gap.rateRatio = mapped / gap.value;
    if (Number.isFinite(gap.rateRatio) && Math.abs(gap.rateRatio - 1) <= Math.max(0.02, 2 * rateUncertainty(chi))) {
      gap.doubt = null;
      gap.notes.push(
        `rates.chi = ${chi.value.toPrecision(6)} is the integrator's (1 + λΔt)^−n decay (backward Euler, fixed Δt = ${dt}): mapped back, λ = (e^{rΔt} − 1)/Δt = ${mapped.toPrecision(6)}, ${gap.rateRatio.toPrecision(5)} × λ₁`,
      );
      return;
    }
    chi = { ...chi, value: mapped, note: chi.note && /largest step/.test(chi.note) ? undefined : chi.note };
    gap.notes.push(`rates.chi = ${(Math.log1p(mapped * dt) / dt).toPrecision(6)} mapped back through backward Euler's (1 + λΔt)^−n decay (Δt = ${dt}) to λ = ${mapped.toPrecision(6)} before comparing with λ₁`);
  }
  gap.rateRatio = chi.value / gap.value;
  if (!Number.isFinite(gap.rateRatio)) {
    // λ₁ is 0 (or below float64's range) on this grid: there is no ratio to print, only the reason.
    gap.rateRatio = null;
    gap.doubt = null;
    gap.notes.push(`rates.chi is not compared with λ₁ = ${gap.value.toPrecision(4)}: the ratio is not a finite number`);
    return;
  }
  const off = Math.abs(gap.rateRatio - 1);
  // χ(t)^(1/2) decays at the slowest mode present in the data, never faster than λ₁ allows
  // (Poincaré): a well-fitted rate clearly below λ₁ means the solver's λ₁ is not the lowest mode.
  const unc = rateUncertainty(chi);
  const slack = unc + (gap.converged === false ? 0 : gap.relativeAccuracy);
  // Over a window where e^{−λ₁t} falls by less than ~40 % the fit cannot resolve the rate to the
  // stated relative uncertainty (ln χ moves by round-off only, e.g. a landscape scaled by 1e-300).
  const resolvable = gap.value * (chi.window[1] - chi.window[0]) >= 0.5;
  if (!chi.note && resolvable && gap.rateRatio < 1 - slack) {
    gap.doubt =
      `λ₁ is in doubt: the run's fitted χ rate ${chi.value.toPrecision(6)} lies below λ₁ = ${gap.value.toPrecision(6)} by ${(100 * (1 - gap.rateRatio)).toFixed(2)} %, ` +
      `more than the fit's uncertainty (${(100 * unc).toFixed(1)} %); the decay rate of any solution is at least λ₁, so a slower mode exists that the eigen-solver did not report, or the integrator's error is larger than assumed`;
    gap.notes.push(gap.doubt);
  } else gap.doubt = null;
  if (chi.note) gap.notes.push(`rates.chi / λ₁ = ${gap.rateRatio.toPrecision(4)}, but the tail was not yet exponential: the run was too short to measure λ₁ from the time series`);
  else if (off > 0.02) {
    const tScale = 1 / gap.value;
    gap.notes.push(
      `rates.chi / λ₁ = ${gap.rateRatio.toPrecision(4)}: ` +
        (endTime < 5 * tScale
          ? `the run ends at t = ${endTime}, less than 5/λ₁ = ${(5 * tScale).toPrecision(3)}: too short for the slowest mode to dominate the tail`
          : 'the fitted tail is dominated by a faster mode or by the integrator\'s error'),
    );
  }
}
