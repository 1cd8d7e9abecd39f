import { cpus } from 'node:os';
import type { FvOperator } from '../operator.js';
import { TridiagonalSolver, type Preconditioner } from '../linear.js';
import { ConditionedPreconditioner } from '../preconditioner.js';
import { dot, max, min, norm1, sum } from '../vec.js';
import type { Backend, BackendInfo, DirectShiftedSolver, Field, Rkl2StageCoefficients } from './types.js';

const OWNER = Symbol('cpu64');

interface CpuField extends Field {
  readonly data: Float64Array;
}

/**
 * The float64 reference backend: the operator's own stencils plus plain loops. Each primitive
 * evaluates the same expressions in the same order as the plain synchronous loops of
 * test/helpers/reference-*.ts (what fpsolve shipped before the integrators were written against
 * the Backend), so the generic integrators reproduce them to the last bit (tested).
 *
 * The CG preconditioner is a host Preconditioner applied in place on the fields' Float64Arrays;
 * by default the Jacobi/multigrid switch (preconditioner.ts), built on first use so that explicit
 * and RKL2 runs never allocate it. In 1-D the implicit steps skip CG: the backend offers the
 * direct tridiagonal solve.
 */
export class CpuBackend implements Backend {
  readonly info: BackendInfo;
  readonly size: number;
  readonly directShiftedSolver?: DirectShiftedSolver;
  private readonly op: FvOperator;
  private readonly tmp: Float64Array;
  private pre: Preconditioner | undefined;

  /** `preconditioner` defaults to the Jacobi/multigrid switch by conditioning. */
  constructor(op: FvOperator, preconditioner?: Preconditioner) {
    this.op = op;
    this.size = op.grid.size;
    this.tmp = new Float64Array(this.size);
    this.pre = preconditioner;
    if (op.grid.dim === 1) this.directShiftedSolver = this.thomas();
    this.info = {
      name: 'cpu',
      executor: 'Float64Array loops',
      device: `CPU (${cpus()[0]?.model ?? 'unknown'}, Node.js ${process.version})`,
      precision: 'float64',
    };
  }

  /** The 1-D direct solve; its two work arrays are allocated on the first solve. */
  private thomas(): DirectShiftedSolver {
    let solver: TridiagonalSolver | undefined;
    return {
      name: 'tridiagonal (Thomas)',
      solve: async (theta, b, x) => {
        solver ??= new TridiagonalSolver(this.op);
        solver.solve(theta, this.d(b), this.d(x));
      },
    };
  }

  private preconditioner(): Preconditioner {
    this.pre ??= new ConditionedPreconditioner(this.op);
    return this.pre;
  }

  get preconditionerName(): string {
    return this.preconditioner().name;
  }

  private d(f: Field): Float64Array {
    if (f.owner !== OWNER) throw new Error('field belongs to another backend');
    return (f as CpuField).data;
  }

  field(): Field {
    const f: CpuField = { owner: OWNER, data: new Float64Array(this.size) };
    return f;
  }
  async upload(f: Field, data: Float64Array): Promise<void> {
    this.d(f).set(data);
  }
  async download(f: Field, out: Float64Array): Promise<void> {
    out.set(this.d(f));
  }
  async copy(src: Field, dst: Field): Promise<void> {
    this.d(dst).set(this.d(src));
  }
  async apply(x: Field, out: Field): Promise<void> {
    this.op.apply(this.d(x), this.d(out));
  }
  async eulerStep(dt: number, x: Field, out: Field): Promise<void> {
    const xs = this.d(x);
    const o = this.d(out);
    const k = this.tmp;
    this.op.apply(xs, k);
    for (let i = 0; i < o.length; i++) o[i] = xs[i] + dt * k[i];
  }
  async rkl2Stage(c: Rkl2StageCoefficients, y1: Field, y2: Field, y0: Field, l0: Field, out: Field): Promise<void> {
    const [a1, a2, a0, l, o] = [this.d(y1), this.d(y2), this.d(y0), this.d(l0), this.d(out)];
    const lj = this.tmp;
    this.op.apply(a1, lj);
    const { mu, nu, a, g } = c;
    for (let i = 0; i < o.length; i++) o[i] = mu * a1[i] + nu * a2[i] + (1 - mu - nu) * a0[i] + a * lj[i] + g * l[i];
  }
  async lincomb(a: number, x: Field, b: number, y: Field, out: Field): Promise<void> {
    const [xs, ys, o] = [this.d(x), this.d(y), this.d(out)];
    for (let i = 0; i < o.length; i++) o[i] = a * xs[i] + b * ys[i];
  }
  async scale(a: number, x: Field): Promise<void> {
    const xs = this.d(x);
    for (let i = 0; i < xs.length; i++) xs[i] *= a;
  }
  async shifted(theta: number, v: Field, out: Field): Promise<void> {
    const [vs, o] = [this.d(v), this.d(out)];
    this.op.applySymmetric(vs, o);
    for (let i = 0; i < o.length; i++) o[i] = vs[i] - theta * o[i];
  }
  async zero(x: Field): Promise<void> {
    this.d(x).fill(0);
  }
  async cgUpdate(alpha: number, p: Field, q: Field, y: Field, r: Field): Promise<number> {
    const [ps, qs, ys, rs] = [this.d(p), this.d(q), this.d(y), this.d(r)];
    // ‖r‖² accumulates in index order, as dot(r, r) after the update would: the same bits.
    let rr = 0;
    for (let i = 0; i < rs.length; i++) {
      ys[i] += alpha * ps[i];
      rs[i] -= alpha * qs[i];
      rr += rs[i] * rs[i];
    }
    return rr;
  }
  async precondition(theta: number, r: Field, out: Field): Promise<void> {
    // setup() returns at once while θ is unchanged (every iteration of one solve).
    const pre = this.preconditioner();
    pre.setup(theta);
    pre.apply(this.d(r), this.d(out));
  }
  async toSymmetric(x: Field, out: Field): Promise<void> {
    const [xs, o, s] = [this.d(x), this.d(out), this.op.sqrtPi];
    for (let i = 0; i < o.length; i++) o[i] = xs[i] / s[i];
  }
  async fromSymmetric(y: Field, out: Field): Promise<void> {
    const [ys, o, s] = [this.d(y), this.d(out), this.op.sqrtPi];
    for (let i = 0; i < o.length; i++) o[i] = ys[i] * s[i];
  }
  async dot(x: Field, y: Field): Promise<number> {
    return dot(this.d(x), this.d(y));
  }
  async sum(x: Field): Promise<number> {
    return sum(this.d(x));
  }
  async norm1(x: Field): Promise<number> {
    return norm1(this.d(x));
  }
  async min(x: Field): Promise<number> {
    return min(this.d(x));
  }
  async max(x: Field): Promise<number> {
    return max(this.d(x));
  }
  dispose(): void {}
}
