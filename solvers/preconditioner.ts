import { FvOperator } from './operator.js';
import { JacobiPreconditioner, type Preconditioner } from './linear.js';
import { MultigridPreconditioner } from './multigrid.js';
import type { ThreadTeam } from './exec/team.js';

/**
 * Jacobi when I − θS is well conditioned, multigrid when it is not. cond(I − θS) ≤ 1 + 2θ·max(−S_ii),
 * so for small θ·max(−S_ii) Jacobi-PCG needs only a handful of iterations at a fraction of a
 * multigrid cycle's cost (one cycle costs ~4 Jacobi-PCG iterations here), while for large θ its
 * count grows like the square root of the condition number and multigrid's stays flat. Adaptive
 * runs sweep θ over orders of magnitude (small steps early, large ones near equilibrium), so the
 * choice is made per solve. Multigrid is built lazily, the first time it is needed.
 */
export class ConditionedPreconditioner implements Preconditioner {
  /**
   * θ·max(−S_ii) above which multigrid pays: on the 256² reference problem Jacobi-PCG took 10 ms
   * against multigrid's 17 ms at 5, and 28 ms against 16 ms at 10 (2026-11-22, 2-core EPYC).
   */
  static readonly SWITCH = 8;
  private readonly op: FvOperator;
  private readonly jacobi: JacobiPreconditioner;
  private multigrid: MultigridPreconditioner | undefined;
  private readonly maxOutflow: number;
  private active: Preconditioner;

  constructor(op: FvOperator) {
    this.op = op;
    this.jacobi = new JacobiPreconditioner(op);
    this.active = this.jacobi;
    let m = 0;
    for (const v of op.outflow) if (v > m) m = v;
    this.maxOutflow = m;
  }

  get name(): string {
    return `Jacobi or multigrid by conditioning (multigrid when θ·max(−S_ii) > ${ConditionedPreconditioner.SWITCH})`;
  }

  private team: ThreadTeam | null = null;

  useTeam(team: ThreadTeam | null): void {
    this.team = team;
    this.jacobi.useTeam(team);
    this.multigrid?.useTeam(team);
  }

  setup(theta: number): void {
    if (theta * this.maxOutflow > ConditionedPreconditioner.SWITCH) {
      if (!this.multigrid) {
        this.multigrid = new MultigridPreconditioner(this.op);
        this.multigrid.useTeam(this.team);
      }
      this.active = this.multigrid;
    } else {
      this.active = this.jacobi;
    }
    this.active.setup(theta);
  }

  apply(r: Float64Array, z: Float64Array): void {
    this.active.apply(r, z);
  }

  /** The multigrid built so far, handed over to the caller (who disposes it); null when none was. */
  releaseMultigrid(): MultigridPreconditioner | null {
    const m = this.multigrid ?? null;
    this.multigrid = undefined;
    this.active = this.jacobi;
    return m;
  }

  dispose(): void {
    this.jacobi.dispose();
    this.multigrid?.dispose();
    this.multigrid = undefined;
  }
}
