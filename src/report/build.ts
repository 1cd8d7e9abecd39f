/**
 * The run report (report.json) assembled from what the run controller and its trackers
 * collected: series, rates, collapse diagnostics, integrator counters, notes.
 */
import type { AsyncIntegrator } from '../../solvers/backend/integrators.js';
import type { ResolvedBackend } from '../../solvers/backend/select.js';
import { exponentialNotes } from '../../solvers/backend/exponential.js';
import { collapseReport, type DistanceTracker, type SeriesPoint } from '../diagnostics/distances.js';
import { reportRates } from '../diagnostics/rates.js';
import { packageVersion } from '../paths.js';
import type { LoadedScenario } from '../scenario/types.js';
import type { Setup } from '../run/types.js';
import type { RunReport, RunStatus } from './types.js';
import { refinementField } from '../../solvers/backend/refine.js';

export interface ReportInput {
  loaded: LoadedScenario;
  setup: Setup;
  integrator: AsyncIntegrator;
  series: SeriesPoint[];
  status: RunStatus;
  error?: string;
  delta: number;
  tracker: DistanceTracker;
  wallSeconds: number;
  backend: ResolvedBackend;
}

export function buildReport(r: ReportInput): RunReport {
  const { setup, integrator, series } = r;
  const { grid, regime, op } = setup;
  // 'undecided': π may not exist, so it is read like 'collapsing' wherever the grid π would mislead.
  const collapsing = regime.regime !== 'converging';
  const meanLossPi = r.tracker.meanLossPi;
  const fitted = reportRates(series, { collapsing, meanLossPi, stepping: { integrator: integrator.name, dtMax: integrator.stats.dtMax > 0 ? integrator.stats.dtMax : null } });
  const { chi, kl, meanLoss } = fitted.rates;
  const notes: string[] = [];
  if (collapsing) {
    notes.push(
      `${regime.regime === 'undecided' ? 'π may not be integrable (regime "undecided" on this grid)' : 'π is not integrable (regime "collapsing")'}: l1, kl and chi2 are distances to the grid\'s π, an artifact that concentrates on the cells nearest the minimizers; read meanLoss, its rate, massBelowDelta, meanLogLoss and massNearZero instead.`,
    );
  }
  notes.push(...fitted.notes);
  const collapse = collapseReport(series);
  notes.push(...collapse.notes);
  notes.push(...exponentialNotes(integrator));
  // Kernel fall-backs and other backend remarks (BackendInfo.notes, when the backend gives any).
  notes.push(...((r.backend.info as { notes?: readonly string[] }).notes ?? []));
  const s = integrator.stats;
  const final = series[series.length - 1];
  // Only float32 states are renormalized (float64 mass is restored to round-off inside the steps).
  const massFix = r.backend.info.precision === 'float32' ? integrator.massCorrection : undefined;
  if (massFix && massFix.count > 0) {
    notes.push(
      `backend ${r.backend.info.name} is float32: each step's mass round-off (at most ${massFix.maxStepDrift.toExponential(2)} relative) was rescaled on the device by a float64-computed factor, and the remaining drift (at most ${massFix.maxRelativeDrift.toExponential(2)}) in float64 on the host at ${massFix.count} report times (docs/gpu.md).`,
    );
  }
  return {
    fpsolve: packageVersion(),
    createdAt: new Date().toISOString(),
    status: r.status,
    ...(r.error ? { error: r.error } : {}),
    scenarioFile: r.loaded.file,
    scenario: setup.scenario,
    landscape: { source: setup.landscape.source, ...(setup.landscape.doc ? { doc: setup.landscape.doc } : {}) },
    regime: regime.regime,
    regimeReason: regime.reason,
    regimeDetails: {
      infF: regime.infF,
      argminF: regime.argminF,
      alpha: regime.alpha ?? null,
      codimension: regime.codimension ?? null,
      sublevelExponent: regime.sublevelExponent ?? null,
      components: regime.components ?? [],
    },
    collapse,
    backend: r.backend.info.name,
    backendReason: r.backend.reason,
    device: r.backend.info.device,
    precision: r.backend.info.precision,
    ...(massFix ? { massRenormalization: { ...massFix } } : {}),
    cells: grid.n.slice(),
    grid: { bounds: grid.lo.map((lo, k) => [lo, grid.hi[k]] as [number, number]), cells: grid.n.slice(), h: grid.h.slice(), size: grid.size },
    integrator: {
      name: integrator.name,
      description: integrator.describe(),
      ...(integrator.reason ? { reason: integrator.reason } : {}),
      steps: s.steps,
      rejectedSteps: s.rejected,
      dtMin: Number.isFinite(s.dtMin) ? s.dtMin : null,
      dtMax: s.dtMax > 0 ? s.dtMax : null,
      explicitLimit: op.explicitLimit(),
      linearSolver: integrator.solver?.name ?? null,
      linearSolves: integrator.solver?.solves ?? 0,
      linearIterations: integrator.solver?.iterations ?? 0,
      ...refinementField(integrator.solver),
    },
    steps: s.steps,
    wallSeconds: r.wallSeconds,
    delta: r.delta,
    equilibrium: {
      meanLoss: meanLossPi,
      note: collapsing ? 'E_π[f] of the grid π (a grid artifact in the collapsing regime)' : 'E_π[f] of the discrete invariant density',
    },
    series,
    final,
    rates: { chi, kl, meanLoss },
    rateRefusals: fitted.refusals,
    notes,
  };
}
