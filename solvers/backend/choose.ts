import { FvOperator } from '../operator.js';
import { CpuBackend, hasDirectShiftedSolve } from './cpu.js';
import { FLOAT32_SYMMETRIC_PSI_MAX } from './gpujs.js';
import { DeviceExplicitEuler, DeviceRkl2, type AsyncIntegrator } from './integrators.js';
import { DeviceBackwardEuler, DeviceTrBdf2 } from './implicit.js';
import { DeviceExponential, exponentialCgSettings } from './exponential.js';
import type { CgSettings } from './pcg.js';
import { refinedBackend, refinementEnabled } from './refine.js';
import { BackendUnavailable } from './select.js';
import type { Backend } from './types.js';
import { JacobiPreconditioner, type Preconditioner } from '../linear.js';
import { MultigridPreconditioner } from '../multigrid.js';
import { ConditionedPreconditioner } from '../preconditioner.js';

/**
 * CG preconditioner for 2-D/3-D implicit solves on the CPU: `auto` (default: Jacobi or multigrid
 * per solve, by the conditioning of I − θS), multigrid, or Jacobi (the simple floor, kept for
 * comparison). gpu.js backends use their own (`precondition`).
 */
export type PreconditionerChoice = 'auto' | 'multigrid' | 'jacobi';

export type IntegratorChoice = 'auto' | 'explicit' | 'rkl2' | 'backward-euler' | 'trbdf2' | 'exponential';

export interface IntegratorRequest {
  choice: IntegratorChoice;
  dt?: number;
  tolerance: number;
  /** The report interval: no step is longer. */
  reportEvery: number;
  end: number;
  /** What `auto` decides from besides the above (autoIntegrator); without it auto is TR-BDF2. */
  auto?: AutoContext;
}

/** What the run asks of `auto` beyond the time block. */
export interface AutoContext {
  /** Report intervals of the whole run, also when resuming (each is at least one exponential interval). */
  intervals: number;
  /**
   * Whether A is linear and does not depend on t, so that ρ(t + τ) = exp(τA)ρ(t). True for every
   * scenario today (landscapes are functions of x, y, z only; noise models have constant
   * parameters); a time-dependent landscape or noise must pass false.
   */
  linearTimeIndependent: boolean;
  /** The regime of setup.regime: a collapsing law leaves Krylov's reach as χ² to the grid π grows. */
  collapsing: boolean;
  /** Whether ‖ρ₀/√π‖² is finite (a start far in π's tail overflows it: the Krylov vectors cannot hold it). */
  startFits?: boolean;
  /** Whether the exponential integrator's extra Krylov vectors fit the memory limit. */
  exponentialFits: boolean;
  /** The integrator a resumed run's checkpoint was written with: auto keeps it (same numbers as uninterrupted). */
  resumedWith?: string;
}

/**
 * Report intervals above which auto prefers TR-BDF2 to the exponential integrator. Measured when
 * each exponential interval cost a Krylov basis of its own (≥ 2 solves, 5–10 away from π; since
 * issue #19 report times share one, so this limit is conservative, not re-measured) while
 * TR-BDF2's steps span several intervals' worth of work only when the intervals are long. On the
 * bundled 2-D/3-D scenarios (docs/performance.md, "time.integrator: auto") the exponential
 * integrator needed fewer CG iterations at 3, 20 and 30 intervals (403 vs 3118, 1240 vs 3515,
 * 3153 vs 3877) and more at 60 (ou-2d: 7530 vs 6131).
 */
export const AUTO_EXPONENTIAL_MAX_INTERVALS = 40;

/**
 * auto runs the exponential integrator at this multiple of `time.tolerance` (at most 0.1). The two
 * tolerances bound different things (TR-BDF2: each step's local error; exponential: each report
 * interval's change between Krylov approximations), and at equal values the exponential
 * integrator is far more accurate. The tolerance study (docs/performance.md, "Default tolerance";
 * test/bench/tolerance-study.ts), re-run after report times came to share one Krylov basis and
 * extended by the runs auto gives the exponential integrator that the bundled files do not (1-D
 * with ≤ 40 report intervals; ou-2d to t = 6 with reports every 0.15, whose E f decays at twice
 * the slowest rate and so carries the largest relative error late in the run): at 3e-4 every
 * quantity is within the stated accuracy, with a margin of ≥ 5× (ou-2d's E f distance 1.8e-3,
 * rate 1.3e-4), and below TR-BDF2's errors at 1e-6; at 1e-3 ou-2d's E f breaks it (1.2e-2, rate
 * 1.5e-3). So the default 1e-6 runs it at 3e-4 (it was 100 ×, 1e-4, when each report interval had
 * a basis of its own and the errors added up over intervals).
 */
export const AUTO_EXPONENTIAL_TOLERANCE_RATIO = 300;

/** The integrator auto runs, and why (one phrase, for report.json's integrator.reason). */
export interface AutoChoice {
  choice: Exclude<IntegratorChoice, 'auto'>;
  reason: string;
  /** The tolerance it runs at, where that is not time.tolerance. */
  tolerance?: number;
}

/**
 * `time.integrator: auto`: the exponential integrator, which covers a whole report interval with a
 * handful of solves, when the operator is linear and time-independent, the report intervals are
 * few, π is representable in the symmetric form, the law does not collapse and its Krylov vectors
 * fit in memory; else adaptive TR-BDF2. On a float32 backend the same rule: its implicit solves are
 * refined to float64 residuals (refine.ts), so they are as accurate as the CPU's; only where √π
 * leaves float32's range (the device CG's symmetric form) is it RKL2, stencil work only.
 */
export function autoIntegrator(op: FvOperator, req: IntegratorRequest, precision: 'float64' | 'float32'): AutoChoice {
  if (precision === 'float32' && !refinementEnabled()) return { choice: 'rkl2', reason: 'auto: RKL2 on a float32 backend with refinement off (FPSOLVE_REFINE=0: float32 CG would cap the accuracy of implicit steps)' };
  if (precision === 'float32') {
    const psiMax = maxPsi(op);
    if (psiMax > FLOAT32_SYMMETRIC_PSI_MAX && !hostSolvesOnly(op)) return { choice: 'rkl2', reason: `auto: RKL2 on a float32 backend because ψ reaches ${psiMax.toPrecision(4)} > ${FLOAT32_SYMMETRIC_PSI_MAX}, beyond float32 for the device CG's symmetric form (stencil work only)` };
    const c = autoFloat64(op, req);
    const how = op.grid.dim === 1 ? 'in 1-D its tridiagonal solves run in float64 on the host' : 'its linear solves are device CG corrections refined to float64 residuals on the host';
    return { ...c, reason: `${c.reason}; on the float32 backend ${how}` };
  }
  return autoFloat64(op, req);
}

/** Whether `auto` will be RKL2 on a backend of this precision (the run checks RKL2's step budget before stepping then). */
export function autoRunsRkl2(op: FvOperator, precision: 'float64' | 'float32'): boolean {
  return precision === 'float32' && (!refinementEnabled() || (maxPsi(op) > FLOAT32_SYMMETRIC_PSI_MAX && !hostSolvesOnly(op)));
}

/**
 * Where the CPU solves implicit steps directly (1-D, hasDirectShiftedSolve) and refinement is on, they never reach the device (refine.ts: the state, the stencil
 * work and the tridiagonal solves are float64 on the host), so float32's range for √π does not limit
 * them: neuron-1d (ψ up to 2827) was refused on webasm though it ran on the CPU with the same arithmetic.
 */
function hostSolvesOnly(op: FvOperator): boolean {
  return refinementEnabled() && hasDirectShiftedSolve(op);
}

function maxPsi(op: FvOperator): number {
  let psiMax = 0;
  for (const p of op.problem.psi) if (p > psiMax) psiMax = p;
  return psiMax;
}

function autoFloat64(op: FvOperator, req: IntegratorRequest): AutoChoice {
  const a = req.auto;
  const rule = a ? byRule(op, req, a) : { choice: 'trbdf2' as const, reason: 'auto: TR-BDF2 because no run context was given' };
  const tolerance = Math.min(0.1, AUTO_EXPONENTIAL_TOLERANCE_RATIO * req.tolerance);
  // The rule reads the scenario only, so a resumed run normally gets the checkpoint's choice again; where
  // it would not (another --max-memory), the checkpoint's integrator at the same tolerance keeps its numbers.
  if (a?.resumedWith === 'trbdf2' && rule.choice !== 'trbdf2') return { choice: 'trbdf2', reason: "auto: TR-BDF2, as the checkpoint's run chose" };
  if (a?.resumedWith === 'exponential' && rule.choice !== 'exponential') return { choice: 'exponential', tolerance, reason: `auto: exponential at tolerance ${+tolerance.toPrecision(6)}, as the checkpoint's run chose` };
  return rule;
}

function byRule(op: FvOperator, req: IntegratorRequest, a: AutoContext): AutoChoice {
  const trbdf2 = (why: string): AutoChoice => ({ choice: 'trbdf2', reason: `auto: TR-BDF2 because ${why}` });
  if (!a.linearTimeIndependent) return trbdf2('the operator depends on time (exp(τA) does not apply)');
  if (!op.symmetricFormUsable()) return trbdf2('π spans more than float64 holds in the symmetric form ρ/√π the Krylov method needs');
  if (a.startFits === false) return trbdf2('the starting density overflows float64 in the symmetric form ρ/√π');
  if (a.collapsing) return trbdf2('the law collapses (χ² to the grid π outgrows what Krylov vectors in ρ/√π resolve)');
  if (a.intervals > AUTO_EXPONENTIAL_MAX_INTERVALS) return trbdf2(`${a.intervals} report intervals (> ${AUTO_EXPONENTIAL_MAX_INTERVALS}) make TR-BDF2's steps cheaper than one Krylov basis per interval`);
  if (!a.exponentialFits) return trbdf2('the exponential integrator\'s Krylov vectors exceed the memory limit');
  const tolerance = Math.min(0.1, AUTO_EXPONENTIAL_TOLERANCE_RATIO * req.tolerance);
  return {
    choice: 'exponential',
    tolerance,
    reason: `auto: exponential at tolerance ${+tolerance.toPrecision(6)} (${AUTO_EXPONENTIAL_TOLERANCE_RATIO} × time.tolerance, as accurate), the operator is linear and time-independent and ${a.intervals} report interval${a.intervals === 1 ? '' : 's'} (≤ ${AUTO_EXPONENTIAL_MAX_INTERVALS}) are few`,
  };
}

/** RKL2's default step when none is given: the stability interval of 20 stages. */
const RKL2_DEFAULT_STAGES = 20;
/** That default step in units of the explicit limit, (s² + s − 2)/4; src/run/budget.ts bounds the work it implies. */
export const RKL2_DEFAULT_STEP_FACTOR = (RKL2_DEFAULT_STAGES * RKL2_DEFAULT_STAGES + RKL2_DEFAULT_STAGES - 2) / 4;

export function preconditioner(op: FvOperator, choice: PreconditionerChoice): Preconditioner {
  // Multigrid keeps the iteration count per solve nearly flat in the grid size (docs/performance.md).
  return choice === 'jacobi' ? new JacobiPreconditioner(op) : choice === 'multigrid' ? new MultigridPreconditioner(op) : new ConditionedPreconditioner(op);
}

/** The float64 CPU backend with the chosen CG preconditioner. */
export function cpuBackend(op: FvOperator, choice: PreconditionerChoice = 'auto'): CpuBackend {
  return new CpuBackend(op, preconditioner(op, choice));
}

/**
 * CG settings for implicit steps with a step tolerance: the linear tolerance sits 10³ below the
 * step's error tolerance (at 10² the reference problem's L1 error grew by a quarter). It is
 * relative to the deviation from π (pcg.ts), so it never shows in rates however small the
 * distance gets; on a float32 backend the refinement (refine.ts) meets it with a float64 residual (the unrefined float32 Pcg raises it).
 */
export function cgSettings(tolerance: number): CgSettings {
  return { tol: Math.max(1e-10, tolerance * 1e-3), maxIterations: 20000 };
}

/** float32 CG works on √π = e^(−ψ/2), which leaves float32's range beyond ψ = 170: refused before any step. */
function checkFloat32SymmetricForm(backend: Backend, op: FvOperator, choice: IntegratorChoice): void {
  if (backend.info.precision !== 'float32' || hostSolvesOnly(op)) return;
  const psiMax = maxPsi(op);
  if (psiMax > FLOAT32_SYMMETRIC_PSI_MAX) {
    throw new BackendUnavailable(`${choice} on ${backend.info.name} needs √π = e^(−ψ/2) in float32, but ψ reaches ${psiMax.toPrecision(4)} > ${FLOAT32_SYMMETRIC_PSI_MAX} on this grid: use integrator rkl2 or explicit, or --backend cpu`);
  }
}

/**
 * Builds the integrator a scenario asks for on a backend (default: float64 on the CPU); `auto` as
 * autoIntegrator decides. The integrator's `reason` says which and why.
 */
export function selectIntegrator(op: FvOperator, req: IntegratorRequest, backend: Backend = new CpuBackend(op)): AsyncIntegrator {
  const auto = req.choice === 'auto' ? autoIntegrator(op, req, backend.info.precision) : undefined;
  const integrator = build(op, auto?.tolerance !== undefined ? { ...req, tolerance: auto.tolerance } : req, auto?.choice ?? (req.choice as Exclude<IntegratorChoice, 'auto'>), backend);
  integrator.reason = auto?.reason ?? `time.integrator: ${req.choice}`;
  return integrator;
}

function build(op: FvOperator, req: IntegratorRequest, choice: Exclude<IntegratorChoice, 'auto'>, backend: Backend): AsyncIntegrator {
  switch (choice) {
    case 'explicit':
      return new DeviceExplicitEuler(backend, op, req.dt);
    case 'rkl2': {
      return new DeviceRkl2(backend, op, req.dt ?? Math.min(req.reportEvery, RKL2_DEFAULT_STEP_FACTOR * op.explicitLimit()), req.tolerance);
    }
    // Implicit steps on a float32 backend: float64 state on the host, device solves refined (refine.ts).
    case 'backward-euler':
      checkFloat32SymmetricForm(backend, op, choice);
      return new DeviceBackwardEuler(refinedBackend(backend, op), op, req.dt ?? Math.min(req.reportEvery, req.end / 100), cgSettings(req.tolerance));
    case 'trbdf2':
      checkFloat32SymmetricForm(backend, op, choice);
      return new DeviceTrBdf2(refinedBackend(backend, op), op, { tolerance: req.tolerance, dt0: req.dt, dtMax: req.reportEvery }, cgSettings(req.tolerance));
    case 'exponential':
      checkFloat32SymmetricForm(backend, op, choice);
      return new DeviceExponential(refinedBackend(backend, op), op, { tolerance: req.tolerance, dt0: req.dt, dtMax: req.reportEvery, fallbackCg: cgSettings(req.tolerance) }, exponentialCgSettings(req.tolerance));
  }
}
