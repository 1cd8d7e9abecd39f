import type { CollapseReport, SeriesPoint } from '../diagnostics/distances.js';
import type { RateFit } from '../diagnostics/rates.js';
import type { WallsReport } from '../diagnostics/walls.js';
import type { BasinsReport } from '../diagnostics/basins.js';
import type { RegimeComponent, RegimeName } from '../diagnostics/regime.js';
import type { Scenario } from '../scenario/types.js';
import type { ReportFailure } from '../failure-report.js';
import type { CriticalLimitReport } from '../estimators/critical-limit.js';

/** Spectral gap of the discrete generator (issue: Poincaré-rate estimates). */
export interface GapReport {
  /** λ₁: smallest nonzero eigenvalue of K v = λ M v (v ⊥_M 1). */
  value: number;
  /** λ₁..λ_k (k = --modes). */
  modes: number[];
  /** ‖Kv − λMv‖ / ‖Mv‖ per mode. */
  residuals: number[];
  /** How it was computed, e.g. 'Sturm bisection on the symmetric tridiagonal form'. */
  method: string;
  iterations: number;
  /** CG iterations of the shift-invert solves (n-D; 0 for the 1-D bisection). */
  innerIterations?: number;
  /**
   * Bound on the relative error of value as an eigenvalue of the discrete operator (1-D:
   * Demmel–Kahan; n-D: Kato–Temple from the residual and the Ritz gap). Meaningful only when converged.
   */
  relativeAccuracy: number;
  /** Absolute error bound per mode, as relativeAccuracy (absent in reports written before it existed). */
  errorBounds?: number[];
  /** False when the eigen-solver stopped before its tolerance: the text output then says "not converged". */
  converged?: boolean;
  /** Set when the run's fitted rate lies below λ₁ by more than the fit's uncertainty: why λ₁ is in doubt. */
  doubt?: string | null;
  /** Richardson extrapolation over this grid and one twice as fine, when asked. */
  /**
   * Richardson over h and h/2 of the same mode (matched by overlap after prolongation; docs/gap.md).
   * errorEstimate is null where the extrapolation is not second order (a zero of f in the box).
   */
  extrapolated: {
    value: number;
    coarse: number;
    fine: number;
    errorEstimate: number | null;
    fineCells?: number[];
    /** Symmetry class of the extrapolated mode (reflections of the box). */
    mode?: string;
    /** True when λ₁ on h and λ₁ on h/2 are different modes. */
    identityChanged?: boolean;
    /** Same-mode pairs extrapolated; value is the least of theirs. */
    pairs?: { mode: string; coarse: number; fine: number; value: number; overlap: number }[];
    /** False near a zero of f (no error bound); true otherwise. */
    secondOrder?: boolean;
    /** log2 of successive differences over 2h, h, h/2 (only computed near a zero of f). */
    observedOrder?: number | null;
  } | null;
  /** 'spectral gap' when π is integrable; 'grid value' in the collapsing regime or near a zero of f (multiplicative, ε = 0). */
  label: 'spectral gap' | 'grid value';
  /** rates.chi / λ₁ when a run report has both. */
  rateRatio: number | null;
  notes: string[];
}

/** Analytic estimates of the Poincaré rate (issue: Poincaré-rate estimates). */
export interface BoundsReport {
  /** 1-D Muckenhoupt bracket 1/(4B) ≤ λ₁ ≤ 2/B. */
  muckenhoupt: { lower: number; upper: number; B: number; median?: number; contains?: boolean | null } | null;
  /** Bakry–Émery: additive noise on a convex landscape, λ₁ ≥ inf ∇²f (the noise D cancels). */
  bakryEmery: { lower: number; kappa: number } | null;
  /** Eyring–Kramers / Mori et al. power-law prediction for multi-well landscapes. */
  kramers: {
    formula: string;
    minima: { x: number[]; f: number }[];
    saddles: { x: number[]; f: number }[];
    barriers: { from: number; saddle: number; barrier: number; prefactor: number; rate: number }[];
    predictedGap: number;
    ratioToComputed: number | null;
  } | null;
  notes: string[];
}

export type RunStatus = 'ok' | 'failed' | 'interrupted' | 'incomplete';

/** report.json of `fpsolve run` (every field is documented in README "report.json"). */
export interface RunReport {
  fpsolve: string;
  createdAt: string;
  status: RunStatus;
  /** Why the run stopped early (status ≠ ok). */
  error?: string;
  /** Why a "failed" run failed: kind (numerical, exit 3 / infrastructure, exit 75), reason and where (src/failure-report.ts). */
  failure?: ReportFailure;
  scenarioFile: string;
  scenario: Scenario;
  landscape: { source: string; doc?: string };
  regime: RegimeName;
  regimeReason: string;
  regimeDetails: {
    infF: number;
    argminF: number[];
    alpha: number | null;
    codimension: number | null;
    sublevelExponent: number | null;
    /** Each component of the zero set, judged locally (docs/regime.md). */
    components: RegimeComponent[];
  };
  /** E log f drift, E f growth and the mass near each zero component (docs/regime.md). */
  collapse?: CollapseReport;
  /** 'cpu' (float64 TypeScript) or 'gpu.js <mode>' (webasm, webgpu, headlessgl): what actually ran. */
  backend: string;
  /** Why this backend: the --backend choice and, for auto, what it found (docs/gpu.md). */
  backendReason?: string;
  device: string;
  precision: 'float64' | 'float32';
  /**
   * float32 backends: rescalings of Σρ by float64 factors. count and maxRelativeDrift: on the host
   * at report times; maxStepDrift: largest per-step drift, rescaled on the device.
   */
  massRenormalization?: { count: number; maxRelativeDrift: number; maxStepDrift: number };
  cells: number[];
  grid: { bounds: [number, number][]; cells: number[]; h: number[]; size: number };
  integrator: {
    name: string;
    description: string;
    /** Why this integrator: the scenario named it, or what `auto` saw (solvers/backend/choose.ts). */
    reason?: string;
    steps: number;
    rejectedSteps: number;
    dtMin: number | null;
    dtMax: number | null;
    explicitLimit: number;
    linearSolver: string | null;
    linearSolves: number;
    linearIterations: number;
    /** Float32 device corrections of iteratively refined solves (solvers/backend/refine.ts); only where the solves were refined. */
    linearRefinements?: number;
  };
  steps: number;
  wallSeconds: number;
  /** δ of the collapse diagnostic massBelowDelta. */
  delta: number;
  equilibrium: { meanLoss: number; note: string };
  series: SeriesPoint[];
  final: SeriesPoint;
  rates: { chi: RateFit | null; kl: RateFit | null; meanLoss: RateFit | null };
  /** Why each null rate is null (fit refused: too few points, plateau, sign changes, poor r²); only those. */
  rateRefusals?: { chi?: string; kl?: string; meanLoss?: string };
  /** Mass near and beyond the walls (src/diagnostics/walls.ts); absent in reports of older versions. */
  walls?: WallsReport;
  /** Limit weights det(H_i)^−1/2 at the critical noise beside π's basin masses (docs/regime.md); absent without zeros of f. */
  criticalLimit?: CriticalLimitReport;
  /** Basins of attraction: definitions, final and π masses, valley marginals (src/diagnostics/basins.ts); absent in older reports. */
  basins?: BasinsReport;
  /** Added by the gap estimator; null when not computed (e.g. --no-gap). */
  gap?: GapReport | null;
  bounds?: BoundsReport | null;
  notes: string[];
}
