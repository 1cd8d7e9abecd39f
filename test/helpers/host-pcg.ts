/**
 * The product's PCG (solvers/backend/pcg.ts) on the float64 CPU backend, driven with host arrays:
 * for tests and benches that time or count single solves of (I − θA) x = b.
 */
import { CpuBackend } from '../../solvers/backend/cpu.js';
import { Pcg, type CgSettings } from '../../solvers/backend/pcg.js';
import type { Field } from '../../solvers/backend/types.js';
import type { Preconditioner } from '../../solvers/linear.js';
import type { FvOperator } from '../../solvers/operator.js';

export class HostPcg {
  private readonly backend: CpuBackend;
  private readonly pcg: Pcg;
  private readonly b: Field;
  private readonly x: Field;

  constructor(op: FvOperator, pre: Preconditioner, opts: CgSettings) {
    this.backend = new CpuBackend(op, pre);
    this.pcg = new Pcg(this.backend, op, opts);
    this.b = this.backend.field();
    this.x = this.backend.field();
  }

  get iterations(): number {
    return this.pcg.iterations;
  }

  /** x is the initial guess and receives the solution. */
  async solve(theta: number, b: Float64Array, x: Float64Array): Promise<void> {
    await this.backend.upload(this.b, b);
    await this.backend.upload(this.x, x);
    try {
      await this.pcg.solve(theta, this.b, this.x);
    } finally {
      await this.backend.download(this.x, x);
    }
  }
}
