/**
 * The empirical risk f(θ) = (1/n) Σ_i (pred(θ; x_i) − y_i)²/2 over the grid's params θ, with its
 * exact gradient, Hessian and per-sample gradient covariance. It is exposed to the solver as a
 * CompiledExpr so that everything built for expression landscapes (quadrature, regime detection,
 * Monte-Carlo drift) works on it unchanged.
 */
import type { CompiledExpr } from '../landscape/expr.js';
import { packedIndex, type Model } from './models.js';
import type { Dataset } from './dataset.js';

export class EmpiricalRisk {
  readonly model: Model;
  readonly data: Dataset;
  /** Full-vector index (0 = v, 1 = w, 2 = b) of each grid axis. */
  readonly axes: readonly number[];
  /** Full parameter vector with the fixed values; grid coordinates overwrite the axes' entries. */
  readonly base: readonly number[];
  private readonly g = new Float64Array(3);
  private readonly h = new Float64Array(6);

  constructor(model: Model, data: Dataset, axes: readonly number[], base: readonly number[]) {
    this.model = model;
    this.data = data;
    this.axes = axes.slice();
    this.base = base.slice();
  }

  get dim(): number {
    return this.axes.length;
  }

  get n(): number {
    return this.data.x.length;
  }

  /** Full vector (v, w, b) at grid point θ. */
  full(theta: readonly number[]): [number, number, number] {
    const p = [this.base[0]!, this.base[1]!, this.base[2]!] as [number, number, number];
    for (let k = 0; k < this.axes.length; k++) p[this.axes[k]!] = theta[k]!;
    return p;
  }

  /** f at one grid point. */
  value(theta: readonly number[]): number {
    const [v, w, b] = this.full(theta);
    const { x, y } = this.data;
    const m = this.model;
    let s = 0;
    for (let i = 0; i < x.length; i++) {
      const r = m.predict(v, w, b, x[i]!) - y[i]!;
      s += r * r;
    }
    return s / (2 * x.length);
  }

  /** ∂f/∂θ_k at one grid point. */
  gradientComponent(theta: readonly number[], k: number): number {
    const [v, w, b] = this.full(theta);
    const { x, y } = this.data;
    const a = this.axes[k]!;
    let s = 0;
    for (let i = 0; i < x.length; i++) {
      const r = this.model.gradPredict(v, w, b, x[i]!, this.g) - y[i]!;
      s += r * this.g[a]!;
    }
    return s / x.length;
  }

  /** ∂²f/∂θ_k∂θ_l at one grid point. */
  hessianComponent(theta: readonly number[], k: number, l: number): number {
    const [v, w, b] = this.full(theta);
    const { x, y } = this.data;
    const a = this.axes[k]!;
    const c = this.axes[l]!;
    const q = packedIndex(a, c);
    let s = 0;
    for (let i = 0; i < x.length; i++) {
      const r = this.model.hessPredict(v, w, b, x[i]!, this.h) - y[i]!;
      this.model.gradPredict(v, w, b, x[i]!, this.g);
      s += this.g[a]! * this.g[c]! + r * this.h[q]!;
    }
    return s / x.length;
  }

  /**
   * Per-sample gradient statistics at θ: f, the mean gradient and the population covariance
   * Σ = (1/n) Σ_i g_i g_iᵀ − ḡ ḡᵀ (row-major d×d), which is exactly the covariance of one
   * uniformly drawn sample's gradient, so a batch of B drawn with replacement has covariance Σ/B.
   */
  gradientStats(theta: readonly number[]): { f: number; mean: Float64Array; cov: Float64Array } {
    const d = this.dim;
    const [v, w, b] = this.full(theta);
    const { x, y } = this.data;
    const n = x.length;
    const mean = new Float64Array(d);
    const second = new Float64Array(d * d);
    const gi = new Float64Array(d);
    let f = 0;
    for (let i = 0; i < n; i++) {
      const r = this.model.gradPredict(v, w, b, x[i]!, this.g) - y[i]!;
      f += r * r;
      for (let k = 0; k < d; k++) gi[k] = r * this.g[this.axes[k]!]!;
      for (let k = 0; k < d; k++) {
        mean[k] += gi[k]!;
        for (let l = 0; l < d; l++) second[k * d + l] += gi[k]! * gi[l]!;
      }
    }
    for (let k = 0; k < d; k++) mean[k] /= n;
    const cov = new Float64Array(d * d);
    for (let k = 0; k < d; k++) for (let l = 0; l < d; l++) cov[k * d + l] = second[k * d + l]! / n - mean[k]! * mean[l]!;
    return { f: f / (2 * n), mean, cov };
  }
}

type PointEval = (theta: readonly number[]) => number;

/** A CompiledExpr view of one function of θ (f, a gradient component, a Hessian entry). */
class RiskExpr implements CompiledExpr {
  readonly source: string;
  readonly dim: number;
  private readonly fn: PointEval;
  private readonly risk: EmpiricalRisk;
  private readonly kind: 'f' | 'grad' | 'hess';
  private grad?: CompiledExpr[];
  private hess?: CompiledExpr[][];

  constructor(risk: EmpiricalRisk, kind: 'f' | 'grad' | 'hess', fn: PointEval, source: string) {
    this.risk = risk;
    this.kind = kind;
    this.fn = fn;
    this.source = source;
    this.dim = risk.dim;
  }

  evalPoints(coords: readonly Float64Array[], out: Float64Array): void {
    const d = this.dim;
    if (coords.length < d) throw new RangeError(`evalPoints: data landscape in ${d} params got ${coords.length} coordinate arrays`);
    const p = new Array<number>(d);
    for (let i = 0; i < out.length; i++) {
      for (let k = 0; k < d; k++) p[k] = coords[k]![i]!;
      out[i] = this.fn(p);
    }
  }

  at(p: readonly number[]): number {
    if (p.length < this.dim) throw new RangeError(`at: data landscape in ${this.dim} params got ${p.length} coordinates`);
    return this.fn(p);
  }

  gradient(): CompiledExpr[] {
    if (this.kind !== 'f') throw new Error('derivatives of a data landscape are available for f only (gradient, Hessian)');
    this.grad ??= Array.from(
      { length: this.dim },
      (_, k) => new RiskExpr(this.risk, 'grad', (t) => this.risk.gradientComponent(t, k), `d/d${axisName(this.risk, k)} of ${this.source}`),
    );
    return this.grad;
  }

  hessian(): CompiledExpr[][] {
    if (this.kind !== 'f') throw new Error('derivatives of a data landscape are available for f only (gradient, Hessian)');
    if (this.hess === undefined) {
      const d = this.dim;
      const h: CompiledExpr[][] = Array.from({ length: d }, () => new Array<CompiledExpr>(d));
      for (let k = 0; k < d; k++) {
        for (let l = k; l < d; l++) {
          const e = new RiskExpr(this.risk, 'hess', (t) => this.risk.hessianComponent(t, k, l), `d²/d${axisName(this.risk, k)}d${axisName(this.risk, l)} of ${this.source}`);
          h[k]![l] = e;
          h[l]![k] = e;
        }
      }
      this.hess = h;
    }
    return this.hess;
  }
}

const axisName = (risk: EmpiricalRisk, k: number): string => ['v', 'w', 'b'][risk.axes[k]!]!;

/** The risk as a CompiledExpr (f, with exact gradient and Hessian). */
export function riskExpr(risk: EmpiricalRisk, source: string): CompiledExpr {
  return new RiskExpr(risk, 'f', (t) => risk.value(t), source);
}
