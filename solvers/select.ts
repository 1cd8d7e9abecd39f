import { FvOperator } from './operator.js';
import { BackwardEuler, TrBdf2, type Integrator } from './integrators.js';
import { CpuBackend } from './backend/cpu.js';
import type { AsyncIntegrator } from './backend/integrators.js';
import { deviceIntegrator } from './backend/select.js';
import { CgSolver, JacobiPreconditioner, TridiagonalSolver, type ShiftedSolver } from './linear.js';
import { MultigridPreconditioner } from './multigrid.js';
import { ConditionedPreconditioner } from './preconditioner.js';

/**
 * CG preconditioner for 2-D/3-D implicit solves: `auto` (default: Jacobi or multigrid per solve,
 * by the conditioning of I − θS), multigrid, or Jacobi (the simple floor, kept for comparison).
 */
export type PreconditionerChoice = 'auto' | 'multigrid' | 'jacobi';

export type IntegratorChoice = 'auto' | 'explicit' | 'rkl2' | 'backward-euler' | 'trbdf2';

export interface IntegratorRequest {
  choice: IntegratorChoice;
  dt?: number;
  tolerance: number;
  /** The report interval: no step is longer. */
  reportEvery: number;
  end: number;
}

/** The linear solver for (I − θA): direct in 1-D, preconditioned CG on the symmetric form otherwise. */
export function shiftedSolver(op: FvOperator, tolerance: number, preconditioner: PreconditionerChoice = 'auto'): ShiftedSolver {
  if (op.grid.dim === 1) return new TridiagonalSolver(op);
  if (!op.symmetricFormUsable()) {
    throw new Error('π spans more than e^1400 on this grid, beyond float64 for the symmetric CG form: use integrator rkl2 or explicit, or add a noise floor (noise.eps)');
  }
  // The linear tolerance sits well below the step's error tolerance so it never shows in rates.
  // Multigrid keeps the iteration count per solve nearly flat in the grid size (docs/performance.md).
  const pre =
    preconditioner === 'jacobi' ? new JacobiPreconditioner(op) : preconditioner === 'multigrid' ? new MultigridPreconditioner(op) : new ConditionedPreconditioner(op);
  return new CgSolver(op, pre, { tol: Math.min(1e-9, tolerance * 1e-3), maxIterations: 20000 });
}

/**
 * Builds the integrator a scenario asks for. `auto` is adaptive TR-BDF2: a run to equilibrium
 * then costs a number of steps that grows slowly with the end time, not end/explicit-limit.
 */
export function selectIntegrator(op: FvOperator, req: IntegratorRequest): Integrator | AsyncIntegrator {
  switch (req.choice) {
    case 'explicit':
    case 'rkl2':
      // The stencil-only integrators exist once, written against the Backend: here on the float64
      // CPU backend, under --backend gpu/webasm on gpu.js (solvers/backend/integrators.ts).
      return deviceIntegrator(new CpuBackend(op), op, req);
    case 'backward-euler':
      return new BackwardEuler(op, shiftedSolver(op, req.tolerance), req.dt ?? Math.min(req.reportEvery, req.end / 100));
    case 'auto':
    case 'trbdf2':
      return new TrBdf2(op, shiftedSolver(op, req.tolerance), { tolerance: req.tolerance, dt0: req.dt, dtMax: req.reportEvery });
  }
}
