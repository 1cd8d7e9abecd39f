import type { SeriesPoint } from '../diagnostics/distances.js';
import type { RateFit } from '../diagnostics/rates.js';
import type { RegimeName } from '../diagnostics/regime.js';
import type { Scenario } from '../scenario/types.js';

export type RunStatus = 'ok' | 'failed' | 'interrupted' | 'incomplete';

/** report.json of `fpsolve run` (every field is documented in README "report.json"). */
export interface RunReport {
  fpsolve: string;
  createdAt: string;
  status: RunStatus;
  /** Why the run stopped early (status ≠ ok). */
  error?: string;
  scenarioFile: string;
  scenario: Scenario;
  landscape: { source: string; doc?: string };
  regime: RegimeName;
  regimeReason: string;
  regimeDetails: { infF: number; argminF: number[]; alpha: number | null; codimension: number | null; sublevelExponent: number | null };
  backend: string;
  device: string;
  precision: 'float64' | 'float32';
  cells: number[];
  grid: { bounds: [number, number][]; cells: number[]; h: number[]; size: number };
  integrator: {
    name: string;
    description: string;
    steps: number;
    rejectedSteps: number;
    dtMin: number | null;
    dtMax: number | null;
    explicitLimit: number;
    linearSolver: string | null;
    linearSolves: number;
    linearIterations: number;
  };
  steps: number;
  wallSeconds: number;
  /** δ of the collapse diagnostic massBelowDelta. */
  delta: number;
  equilibrium: { meanLoss: number; note: string };
  series: SeriesPoint[];
  final: SeriesPoint;
  rates: { chi: RateFit | null; kl: RateFit | null; meanLoss: RateFit | null };
  notes: string[];
}
