import type { FvOperator } from '../operator.js';
import type { SolverStats } from './integrators.js';
import { Pcg, type CgSettings } from './pcg.js';
import type { Backend, DirectShiftedSolver, Field } from './types.js';

/**
 * The linear solve every implicit step needs, (I − θA) x = b in the ρ-form, with the counters the
 * report reads (report.integrator.linearSolver/linearSolves/linearIterations).
 */
export interface ShiftedSolver extends SolverStats {
  /**
   * x receives the solution; it is also the initial guess of iterative solvers. b and x are
   * distinct fields. `tol` loosens (or tightens) an iterative solver's tolerance for this solve.
   */
  solve(theta: number, b: Field, x: Field, tol?: number): Promise<void>;
  /** The solver with its tolerance, for the integrator's description. */
  describe(): string;
}

/** A backend's direct solve with the counters of a ShiftedSolver (no iterations). */
class DirectSolve implements ShiftedSolver {
  readonly name: string;
  iterations = 0;
  solves = 0;
  private readonly direct: DirectShiftedSolver;

  constructor(direct: DirectShiftedSolver) {
    this.direct = direct;
    this.name = direct.name;
  }

  async solve(theta: number, b: Field, x: Field): Promise<void> {
    await this.direct.solve(theta, b, x);
    this.solves++;
  }

  describe(): string {
    return this.name;
  }
}

/**
 * The backend's direct solve where it has one (1-D on the CPU: exact, mass-conserving for any θ),
 * else PCG on the symmetric form, which needs √π representable: refused beyond float64's range.
 */
export function shiftedSolver(backend: Backend, op: FvOperator, cg: CgSettings): ShiftedSolver {
  if (backend.directShiftedSolver) return new DirectSolve(backend.directShiftedSolver);
  if (!op.symmetricFormUsable()) {
    throw new Error('π spans more than e^1400 on this grid, beyond float64 for the symmetric CG form: use integrator rkl2 or explicit, or add a noise floor (noise.eps)');
  }
  return new Pcg(backend, op, cg);
}
