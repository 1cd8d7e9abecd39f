import { FvOperator } from '../operator.js';
import { CpuBackend } from './cpu.js';
import { FLOAT32_SYMMETRIC_PSI_MAX } from './gpujs.js';
import { DeviceExplicitEuler, DeviceRkl2, type AsyncIntegrator } from './integrators.js';
import { DeviceBackwardEuler, DeviceTrBdf2 } from './implicit.js';
import { DeviceExponential, exponentialCgSettings } from './exponential.js';
import type { CgSettings } from './pcg.js';
import { BackendUnavailable } from './select.js';
import type { Backend } from './types.js';
import { JacobiPreconditioner, type Preconditioner } from '../linear.js';
import { MultigridPreconditioner } from '../multigrid.js';
import { ConditionedPreconditioner } from '../preconditioner.js';

/**
 * CG preconditioner for 2-D/3-D implicit solves on the CPU: `auto` (default: Jacobi or multigrid
 * per solve, by the conditioning of I − θS), multigrid, or Jacobi (the simple floor, kept for
 * comparison). gpu.js backends always use Jacobi.
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
 * distance gets; float32 backends raise it.
 */
export function cgSettings(tolerance: number): CgSettings {
  return { tol: Math.max(1e-10, tolerance * 1e-3), maxIterations: 20000 };
}

/** float32 CG works on √π = e^(−ψ/2), which leaves float32's range beyond ψ = 170: refused before any step. */
function checkFloat32SymmetricForm(backend: Backend, op: FvOperator, choice: IntegratorChoice): void {
  if (backend.info.precision !== 'float32') return;
  let psiMax = 0;
  for (const p of op.problem.psi) if (p > psiMax) psiMax = p;
  if (psiMax > FLOAT32_SYMMETRIC_PSI_MAX) {
    throw new BackendUnavailable(`${choice} on ${backend.info.name} needs √π = e^(−ψ/2) in float32, but ψ reaches ${psiMax.toPrecision(4)} > ${FLOAT32_SYMMETRIC_PSI_MAX} on this grid: use integrator rkl2 or explicit, or --backend cpu`);
  }
}

/**
 * Builds the integrator a scenario asks for on a backend (default: float64 on the CPU). `auto` is
 * adaptive TR-BDF2 in float64: a run to equilibrium then costs a number of steps that grows slowly
 * with the end time, not end/explicit-limit. On a float32 (gpu.js) backend `auto` is RKL2: stencil
 * work only, what a GPU does well, and no float32 CG, whose tolerance floor would cap the accuracy
 * of the adaptive steps.
 */
export function selectIntegrator(op: FvOperator, req: IntegratorRequest, backend: Backend = new CpuBackend(op)): AsyncIntegrator {
  const choice = req.choice === 'auto' ? (backend.info.precision === 'float32' ? 'rkl2' : 'trbdf2') : req.choice;
  switch (choice) {
    case 'explicit':
      return new DeviceExplicitEuler(backend, op, req.dt);
    case 'rkl2': {
      return new DeviceRkl2(backend, op, req.dt ?? Math.min(req.reportEvery, RKL2_DEFAULT_STEP_FACTOR * op.explicitLimit()));
    }
    case 'backward-euler':
      checkFloat32SymmetricForm(backend, op, choice);
      return new DeviceBackwardEuler(backend, op, req.dt ?? Math.min(req.reportEvery, req.end / 100), cgSettings(req.tolerance));
    case 'trbdf2':
      checkFloat32SymmetricForm(backend, op, choice);
      return new DeviceTrBdf2(backend, op, { tolerance: req.tolerance, dt0: req.dt, dtMax: req.reportEvery }, cgSettings(req.tolerance));
    case 'exponential':
      checkFloat32SymmetricForm(backend, op, choice);
      return new DeviceExponential(backend, op, { tolerance: req.tolerance, dt0: req.dt, dtMax: req.reportEvery, fallbackCg: cgSettings(req.tolerance) }, exponentialCgSettings(req.tolerance));
  }
}
