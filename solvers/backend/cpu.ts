import { cpus } from 'node:os';
import type { FvOperator } from '../operator.js';
import type { Backend, BackendInfo, Field, Rkl2StageCoefficients } from './types.js';

const OWNER = Symbol('cpu64');

interface CpuField extends Field {
  readonly data: Float64Array;
}

/**
 * The float64 reference backend: the operator's own stencils plus plain loops. Each primitive
 * evaluates the same expressions in the same order as the synchronous integrators in
 * solvers/integrators.ts, so the generic integrators reproduce them to the last bit (tested).
 */
export class CpuBackend implements Backend {
  readonly info: BackendInfo;
  readonly size: number;
  private readonly op: FvOperator;
  private readonly tmp: Float64Array;
  private jacobiTheta = NaN;
  private readonly jacobiInv: Float64Array;

  constructor(op: FvOperator) {
    this.op = op;
    this.size = op.grid.size;
    this.tmp = new Float64Array(this.size);
    this.jacobiInv = new Float64Array(this.size);
    this.info = {
      name: 'cpu',
      executor: 'Float64Array loops',
      device: `CPU (${cpus()[0]?.model ?? 'unknown'}, Node.js ${process.version})`,
      precision: 'float64',
    };
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
  async jacobi(theta: number, r: Field, out: Field): Promise<void> {
    if (theta !== this.jacobiTheta) {
      this.jacobiTheta = theta;
      const d = this.op.outflow;
      for (let i = 0; i < d.length; i++) this.jacobiInv[i] = 1 / (1 + theta * d[i]);
    }
    const [rs, o] = [this.d(r), this.d(out)];
    const inv = this.jacobiInv;
    for (let i = 0; i < o.length; i++) o[i] = inv[i] * rs[i];
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
    const [xs, ys] = [this.d(x), this.d(y)];
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[i] * ys[i];
    return s;
  }
  async sum(x: Field): Promise<number> {
    const xs = this.d(x);
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[i];
    return s;
  }
  dispose(): void {}
}
