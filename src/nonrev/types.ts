/**
 * The report, result and engine types of a run with a diffusion matrix (docs/nonreversible.md).
 * Type-only module. The engine is what the noise models (src/noise/), the monotone scheme
 * (solvers/anisotropic/) and the non-symmetric solvers (solvers/nonsym/) provide; the runner
 * (run.ts) takes it as a parameter so that tests can feed a hand-built one.
 */
import type { DiffusionField, GradientField } from '../../solvers/anisotropic/types.js';
import type { Csr } from '../../solvers/sparse/csr.js';
import type { Grid } from '../../solvers/grid.js';
import type { SeriesPoint } from '../diagnostics/distances.js';
import type { RateFit } from '../diagnostics/rates.js';
import type { ReportFailure } from '../failure-report.js';
import type { RegimeComponent, RegimeName } from '../diagnostics/regime.js';
import type { LoadedScenario, Scenario } from '../scenario/types.js';
import type { PairGenerator } from './generator.js';
import type { Snapshot } from '../run/types.js';

/** What a noise model builds for the scheme (src/noise/ buildDiffusion). */
export interface DiffusionSetupLike {
  field: DiffusionField;
  gradF: GradientField;
  description: string;
  /** The isotropic model this noise is compared with: D = (ησ/2)(f + ε)·I. */
  isotropicReference?: { etaSigma: number; eps: number };
}

export interface GeneratorStats {
  offsets: number[][];
  relaxation?: { max: number; cells: number; at?: number[] };
  upwindCells?: number;
  minRate?: number;
  maxRate?: number;
  explicitLimit?: number;
}

/** The monotone scheme's generator: rates per offset and the forward matrix A of dρ/dt = Aρ. */
export interface GeneratorLike extends PairGenerator {
  readonly forward: Csr;
  readonly stats: GeneratorStats;
}

export interface SteadyStateLike {
  rho: Float64Array;
  residual: number;
  iterations: number;
  method: string;
  /** Mass of the negative entries the solver clipped to 0, relative to the total. */
  clipped?: number;
}

/** Called between steps; true asks the stepper to stop there (ρ valid) and return the time reached. */
export type StepCheckpoint = (t: number) => boolean | Promise<boolean>;

export interface StepperLike {
  readonly name: string;
  readonly stats: { steps: number; rejected: number; dtMin: number; dtMax: number };
  readonly solver?: { name: string; solves: number; iterations: number };
  describe(): string;
  /** Advances ρ (in place) from t0 to t1 and returns the time reached (t1 unless a checkpoint stopped it). */
  advance(rho: Float64Array, t0: number, t1: number, checkpoint?: StepCheckpoint): Promise<number>;
}

export interface GapLike {
  re: number;
  im: number;
  residual: number;
  /** The solver's own error estimate of the eigenvalue, when it has one. */
  estimate?: number;
  ritz: { re: number; im: number }[];
  method?: string;
}

export interface NonrevEngine {
  buildDiffusion(loaded: LoadedScenario, grid: Grid): DiffusionSetupLike;
  assemble(grid: Grid, field: DiffusionField, gradF: GradientField): GeneratorLike;
  steadyState(a: Csr, grid: Grid, opts: { tolerance: number }): SteadyStateLike;
  stepper(a: Csr, grid: Grid, opts: { integrator: string; dt?: number; tolerance: number; reportEvery: number }): StepperLike;
  gap(a: Csr, grid: Grid, steady: Float64Array, opts: { tolerance: number }): GapLike;
}

/** report.json `steadyState`: the computed stationary law that replaces π. */
export interface SteadyStateReport {
  method: string;
  iterations: number;
  /** The solver's residual (its own norm). */
  residual: number;
  /** ‖Aρ‖₁ / Σ|A_ii|ρ_i recomputed from the generator: the unbalanced fraction of the outflow. */
  balance: number;
  /** min ρ_ss / max ρ_ss (a Krylov solve can leave round-off negatives; they are clipped for the distances). */
  minRelative: number;
  /** Mass of the negative entries the solver clipped to 0 (relative), when it clipped any. */
  clippedMass?: number;
  meanLoss: number;
  /** Mass of the steady state near each zero of f (same order as zeroComponents), when f has zeros. */
  massNearZero: number[];
  zeroComponents: { location: number[]; type: string }[];
}

/** report.json `nonReversible`. */
export interface NonReversibleReport {
  /** max over cells of |J| (J as a cell vector field, docs/nonreversible.md). */
  currentMax: number;
  currentMaxAt: number[] | null;
  /** ∫|J| dx. */
  currentL1: number;
  /** Schnakenberg's entropy production rate of the chain at the steady state (≥ 0, 0 iff detailed balance). */
  entropyProduction: number;
  /** Pairs with a one-way rate (upwind remainder where D is singular) and the probability flux through them. */
  oneWayPairs: number;
  oneWayFlux: number;
  /** The steady state against π of the isotropic model with the noise's ησ (when the noise has one). */
  isotropic: { etaSigma: number; eps: number; regime: RegimeName; integrable: boolean; l1: number | null; kl: number | null; note: string } | null;
  /** The best e^{−f/T} (moments matched): T and how far the steady state is from it. */
  gibbs: { T: number | null; l1: number | null; kl: number | null; note?: string };
  notes: string[];
}

/** report.json `gap` of a matrix run: the first non-zero eigenvalue μ₁ = re + i·im of the generator (re < 0). */
export interface NonsymGapReport {
  re: number;
  im: number;
  /** −re, the decay rate of the slowest mode (the quantity `gap` of a reversible run). */
  value: number;
  residual: number;
  estimate: number | null;
  method: string;
  ritz: { re: number; im: number }[];
  notes: string[];
}

export interface MatrixRunReport {
  fpsolve: string;
  createdAt: string;
  /** 'diffusion-matrix': distances and rates are against the computed steady state, not a π. */
  kind: 'diffusion-matrix';
  status: 'ok' | 'failed' | 'interrupted' | 'incomplete';
  error?: string;
  failure?: ReportFailure;
  scenarioFile: string;
  scenario: Scenario;
  landscape: { source: string; doc?: string };
  noise: { model: string; description: string };
  backend: string;
  device: string;
  precision: 'float64';
  cells: number[];
  grid: { bounds: [number, number][]; cells: number[]; h: number[]; size: number };
  scheme: GeneratorStats;
  integrator: { name: string; description: string; steps: number; rejectedSteps: number; dtMin: number | null; dtMax: number | null; linearSolver: string | null; linearSolves: number; linearIterations: number };
  steps: number;
  wallSeconds: number;
  delta: number;
  /** f's zero-set components (for massNearZero); the integrability verdicts of the reversible path are not given. */
  zeroComponents: Pick<RegimeComponent, 'location' | 'type'>[];
  equilibrium: { meanLoss: number; note: string };
  series: SeriesPoint[];
  final: SeriesPoint;
  rates: { chi: RateFit | null; kl: RateFit | null; meanLoss: RateFit | null };
  rateRefusals?: { chi?: string; kl?: string; meanLoss?: string };
  steadyState: SteadyStateReport;
  nonReversible: NonReversibleReport;
  gap?: NonsymGapReport | null;
  notes: string[];
}

export interface MatrixRunResult {
  kind: 'diffusion-matrix';
  report: MatrixRunReport;
  /** ρ at the last report time. */
  density: Float64Array;
  steady: Float64Array;
  /** The current of the steady state as a cell vector field, [cell][axis] flat. */
  current: Float64Array;
  grid: Grid;
  /** Cell averages of f. */
  f: Float64Array;
  snapshots?: Snapshot[];
}
