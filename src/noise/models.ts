/**
 * The four diffusion-matrix models as DiffusionFields (solvers/anisotropic/types.ts): D(x) and its
 * divergence (∇·D)_i = Σ_j ∂_j D_ij, both exact wherever the landscape's symbolic derivatives exist.
 * Formulas and their SGD meaning: docs/noise-matrix.md.
 */
import type { DiffusionField } from '../../solvers/anisotropic/types.js';
import type { CompiledExpr } from '../landscape/expr.js';
import type { EmpiricalRisk } from '../data/risk.js';
import { packedIndex } from '../data/models.js';
import { positivePart, symEig } from './linalg.js';

/** A field with the trace as well (the Feng–Tu comparison is at equal tr D). */
export interface NoiseField extends DiffusionField {
  trace(x: ArrayLike<number>): number;
  /** How ∇·D is computed, for reports: 'symbolic' or 'central differences (…)'. */
  readonly divergence: string;
  /** D at many points at once (the grid checks): out[i·d + j] receives entry (i, j) at every point. */
  evalMany?(coords: readonly Float64Array[], out: readonly Float64Array[]): void;
}

const pointOf = (x: ArrayLike<number>, d: number, p: number[]): number[] => {
  for (let k = 0; k < d; k++) p[k] = x[k]!;
  return p;
};

function traceOf(field: DiffusionField, x: ArrayLike<number>, buf: Float64Array): number {
  field.evalD(x, buf);
  let t = 0;
  for (let k = 0; k < field.dim; k++) t += buf[k * field.dim + k]!;
  return t;
}

/** `matrix`: entries E_ij; the upper triangle is used (the loader checked the lower one equals it on the grid). */
export class ExprMatrixField implements NoiseField {
  readonly dim: number;
  readonly divergence = 'symbolic';
  /** entries[i][j] for i ≤ j. */
  private readonly entries: CompiledExpr[][];
  private readonly p: number[];
  private readonly buf: Float64Array;

  constructor(entries: CompiledExpr[][]) {
    this.dim = entries.length;
    this.entries = entries;
    this.p = new Array<number>(this.dim);
    this.buf = new Float64Array(this.dim * this.dim);
  }

  private entry(i: number, j: number): CompiledExpr {
    return i <= j ? this.entries[i]![j]! : this.entries[j]![i]!;
  }

  evalD(x: ArrayLike<number>, out: Float64Array): void {
    const d = this.dim;
    const p = pointOf(x, d, this.p);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const v = this.entries[i]![j]!.at(p);
        out[i * d + j] = v;
        out[j * d + i] = v;
      }
    }
  }

  evalDivD(x: ArrayLike<number>, out: Float64Array): void {
    const d = this.dim;
    const p = pointOf(x, d, this.p);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += this.entry(i, j).gradient()[j]!.at(p);
      out[i] = s;
    }
  }

  trace(x: ArrayLike<number>): number {
    return traceOf(this, x, this.buf);
  }

  /** D over many points at once (the grid checks): out[i·d + j] receives entry (i, j) at every point. */
  evalMany(coords: readonly Float64Array[], out: readonly Float64Array[]): void {
    const d = this.dim;
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        this.entries[i]![j]!.evalPoints(coords, out[i * d + j]!);
        if (j > i) out[j * d + i]!.set(out[i * d + j]!);
      }
    }
  }
}

/** The scale s(θ) of the hessian and low-rank models: f + ε (loss) or 1 (constant). */
export interface ScaleSpec {
  readonly c: number;
  readonly loss: boolean;
  readonly eps: number;
}

/**
 * `hessian`: D = c·s·H₊ with H₊ = V max(Λ, 0) Vᵀ. Its derivative is the Daleckii–Krein formula
 * ∂H₊ = V (G ∘ Vᵀ(∂H)V) Vᵀ, G_kl = (g(λ_k) − g(λ_l))/(λ_k − λ_l) (g'(λ_k) where they coincide),
 * g = max(·, 0), with ∂H from the symbolic third derivatives. Landscapes without third derivatives
 * (data landscapes: exact gradient and Hessian only) get ∇·D by central differences of D.
 */
export class HessianField implements NoiseField {
  readonly dim: number;
  readonly divergence: string;
  private readonly f: CompiledExpr;
  private readonly grad: CompiledExpr[];
  private readonly hess: CompiledExpr[][];
  /** third[a][b][j] = ∂_j H_ab, or undefined when the landscape has none. */
  private readonly third?: CompiledExpr[][][];
  private readonly s: ScaleSpec;
  private readonly fdStep: readonly number[];
  private readonly p: number[];
  private readonly h = new Float64Array(9);
  private readonly hp = new Float64Array(9);
  private readonly vals = new Float64Array(3);
  private readonly vecs = new Float64Array(9);
  private readonly m = new Float64Array(9);
  private readonly dh = new Float64Array(9);
  private readonly buf = new Float64Array(9);
  private readonly buf2 = new Float64Array(9);

  constructor(f: CompiledExpr, s: ScaleSpec, fdStep: readonly number[]) {
    this.dim = f.dim;
    this.f = f;
    this.s = s;
    this.grad = f.gradient();
    this.hess = f.hessian();
    this.fdStep = fdStep;
    this.p = new Array<number>(this.dim);
    let third: CompiledExpr[][][] | undefined;
    try {
      third = this.hess.map((row) => row.map((e) => e.gradient()));
    } catch {
      third = undefined;
    }
    this.third = third;
    this.divergence = third ? 'symbolic' : `central differences of D (step ${fdStep.map((v) => v.toPrecision(3)).join(', ')}): the landscape has no third derivatives`;
  }

  private scale(p: number[]): number {
    return this.s.loss ? this.f.at(p) + this.s.eps : 1;
  }

  private hessianAt(p: number[], out: Float64Array): void {
    const d = this.dim;
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const v = this.hess[i]![j]!.at(p);
        out[i * d + j] = v;
        out[j * d + i] = v;
      }
    }
  }

  evalD(x: ArrayLike<number>, out: Float64Array): void {
    const d = this.dim;
    const p = pointOf(x, d, this.p);
    this.hessianAt(p, this.h);
    positivePart(this.h, d, this.hp);
    const k = this.s.c * this.scale(p);
    for (let q = 0; q < d * d; q++) out[q] = k * this.hp[q]!;
  }

  evalMany(coords: readonly Float64Array[], out: readonly Float64Array[]): void {
    const d = this.dim;
    const n = out[0]!.length;
    // The Hessian's entries and f vectorized (the compiled expressions' fast path), the positive part per point.
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) this.hess[i]![j]!.evalPoints(coords, out[i * d + j]!);
    const s = new Float64Array(n);
    if (this.s.loss) this.f.evalPoints(coords, s);
    const h = this.h;
    const hp = this.hp;
    for (let q = 0; q < n; q++) {
      for (let i = 0; i < d; i++) for (let j = i; j < d; j++) h[i * d + j] = h[j * d + i] = out[i * d + j]![q]!;
      positivePart(h, d, hp);
      const k = this.s.c * (this.s.loss ? s[q]! + this.s.eps : 1);
      for (let e = 0; e < d * d; e++) out[e]![q] = k * hp[e]!;
    }
  }

  evalDivD(x: ArrayLike<number>, out: Float64Array): void {
    const d = this.dim;
    if (this.third === undefined) {
      centralDivergence(this, x, this.fdStep, out, this.buf, this.buf2);
      return;
    }
    const p = pointOf(x, d, this.p);
    this.hessianAt(p, this.h);
    const { vals, vecs, m, dh } = this;
    symEig(this.h, d, vals, vecs);
    positivePart(this.h, d, this.hp);
    const s = this.scale(p);
    for (let i = 0; i < d; i++) out[i] = 0;
    for (let j = 0; j < d; j++) {
      const dsj = this.s.loss ? this.grad[j]!.at(p) : 0;
      // dh = ∂_j H; m = Vᵀ dh V, then G ∘ m, then back: dh ← V (G ∘ m) Vᵀ = ∂_j H₊.
      for (let a = 0; a < d; a++) for (let b = a; b < d; b++) dh[a * d + b] = dh[b * d + a] = this.third[a]![b]![j]!.at(p);
      for (let k = 0; k < d; k++) {
        for (let l = 0; l < d; l++) {
          let v = 0;
          for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) v += vecs[a * d + k]! * dh[a * d + b]! * vecs[b * d + l]!;
          m[k * d + l] = v * divided(vals[k]!, vals[l]!);
        }
      }
      for (let i = 0; i < d; i++) {
        let dhp = 0;
        for (let k = 0; k < d; k++) for (let l = 0; l < d; l++) dhp += vecs[i * d + k]! * m[k * d + l]! * vecs[j * d + l]!;
        out[i] += dsj * this.hp[i * d + j]! + s * dhp;
      }
    }
    for (let i = 0; i < d; i++) out[i] *= this.s.c;
  }

  trace(x: ArrayLike<number>): number {
    return traceOf(this, x, this.buf);
  }
}

/** The divided difference of g = max(·, 0) at (a, b): its derivative where a and b coincide. */
function divided(a: number, b: number): number {
  const ga = a > 0 ? a : 0;
  const gb = b > 0 ? b : 0;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  if (Math.abs(a - b) <= 1e-12 * scale || a === b) return a > 0 ? 1 : 0;
  return (ga - gb) / (a - b);
}

/** (∇·D)_i = Σ_j ∂_j D_ij by second-order central differences of evalD, step h_j per axis. */
export function centralDivergence(field: DiffusionField, x: ArrayLike<number>, h: readonly number[], out: Float64Array, bp: Float64Array, bm: Float64Array): void {
  const d = field.dim;
  const q = Array.from(x).slice(0, d);
  for (let i = 0; i < d; i++) out[i] = 0;
  for (let j = 0; j < d; j++) {
    const xj = q[j]!;
    q[j] = xj + h[j]!;
    field.evalD(q, bp);
    q[j] = xj - h[j]!;
    field.evalD(q, bm);
    q[j] = xj;
    for (let i = 0; i < d; i++) out[i] += (bp[i * d + j]! - bm[i * d + j]!) / (2 * h[j]!);
  }
}

/** `low-rank`: D = c·s·Σ_k u_k u_kᵀ; ∂_j D_ij by the product rule on symbolic ∂u and ∂s = ∂f. */
export class LowRankField implements NoiseField {
  readonly dim: number;
  readonly divergence = 'symbolic';
  private readonly f: CompiledExpr;
  private readonly grad: CompiledExpr[];
  private readonly u: CompiledExpr[][];
  private readonly s: ScaleSpec;
  private readonly p: number[];
  private readonly uv = new Float64Array(9);
  private readonly du = new Float64Array(27);
  private readonly buf = new Float64Array(9);

  constructor(f: CompiledExpr, vectors: CompiledExpr[][], s: ScaleSpec) {
    this.dim = f.dim;
    this.f = f;
    this.grad = f.gradient();
    this.u = vectors;
    this.s = s;
    this.p = new Array<number>(this.dim);
  }

  evalD(x: ArrayLike<number>, out: Float64Array): void {
    const d = this.dim;
    const p = pointOf(x, d, this.p);
    const uv = this.uv;
    this.u.forEach((vec, k) => vec.forEach((e, i) => (uv[k * d + i] = e.at(p))));
    const c = this.s.c * (this.s.loss ? this.f.at(p) + this.s.eps : 1);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        let v = 0;
        for (let k = 0; k < this.u.length; k++) v += uv[k * d + i]! * uv[k * d + j]!;
        out[i * d + j] = out[j * d + i] = c * v;
      }
    }
  }

  evalDivD(x: ArrayLike<number>, out: Float64Array): void {
    const d = this.dim;
    const p = pointOf(x, d, this.p);
    const { uv, du } = this;
    const r = this.u.length;
    // du[(k·d + i)·d + j] = ∂_j u_ki
    this.u.forEach((vec, k) =>
      vec.forEach((e, i) => {
        uv[k * d + i] = e.at(p);
        const g = e.gradient();
        for (let j = 0; j < d; j++) du[(k * d + i) * d + j] = g[j]!.at(p);
      }),
    );
    const s = this.s.loss ? this.f.at(p) + this.s.eps : 1;
    for (let i = 0; i < d; i++) {
      let v = 0;
      for (let k = 0; k < r; k++) {
        let uGradS = 0; // u_k·∇s
        let advect = 0; // (u_k·∇) u_ki
        let div = 0; // ∇·u_k
        for (let j = 0; j < d; j++) {
          const ukj = uv[k * d + j]!;
          if (this.s.loss) uGradS += ukj * this.grad[j]!.at(p);
          advect += ukj * du[(k * d + i) * d + j]!;
          div += du[(k * d + j) * d + j]!;
        }
        v += uGradS * uv[k * d + i]! + s * (advect + uv[k * d + i]! * div);
      }
      out[i] = this.s.c * v;
    }
  }

  trace(x: ArrayLike<number>): number {
    return traceOf(this, x, this.buf);
  }
}

/**
 * `data`: D = (η/2B)·Σ(θ), Σ = (1/n) Σ_i g_i g_iᵀ − ḡḡᵀ with g_i = r_i ∇pred_i the per-sample
 * gradient over the grid's params (EmpiricalRisk.gradientStats). With H_i = ∂g_i (the per-sample
 * Hessian, symmetric): (∇·Σ)_k = mean_i(Σ_l H_i,kl g_il + g_ik tr H_i) − (Σ_l H̄_kl ḡ_l + ḡ_k tr H̄).
 */
export class DataField implements NoiseField {
  readonly dim: number;
  readonly divergence = 'exact (per-sample Hessians)';
  private readonly risk: EmpiricalRisk;
  private readonly c: number;
  private readonly p: number[];
  private readonly g3 = new Float64Array(3);
  private readonly h6 = new Float64Array(6);
  private readonly buf = new Float64Array(9);

  constructor(risk: EmpiricalRisk, eta: number, batch: number) {
    this.dim = risk.dim;
    this.risk = risk;
    this.c = eta / (2 * batch);
    this.p = new Array<number>(this.dim);
  }

  evalD(x: ArrayLike<number>, out: Float64Array): void {
    const d = this.dim;
    const { cov } = this.risk.gradientStats(pointOf(x, d, this.p));
    for (let q = 0; q < d * d; q++) out[q] = this.c * cov[q]!;
  }

  evalDivD(x: ArrayLike<number>, out: Float64Array): void {
    const d = this.dim;
    const risk = this.risk;
    const [v, w, b] = risk.full(pointOf(x, d, this.p));
    const { x: xs, y: ys } = risk.data;
    const n = xs.length;
    const axes = risk.axes;
    const m = risk.model;
    const gi = new Float64Array(d);
    const Hi = new Float64Array(d * d);
    const gBar = new Float64Array(d);
    const HBar = new Float64Array(d * d);
    const acc = new Float64Array(d);
    for (let s = 0; s < n; s++) {
      const r = m.hessPredict(v, w, b, xs[s]!, this.h6) - ys[s]!;
      m.gradPredict(v, w, b, xs[s]!, this.g3);
      let tr = 0;
      for (let k = 0; k < d; k++) {
        gi[k] = r * this.g3[axes[k]!]!;
        for (let l = 0; l < d; l++) Hi[k * d + l] = this.g3[axes[k]!]! * this.g3[axes[l]!]! + r * this.h6[packedIndex(axes[k]!, axes[l]!)]!;
        tr += Hi[k * d + k]!;
      }
      for (let k = 0; k < d; k++) {
        let hg = 0;
        for (let l = 0; l < d; l++) hg += Hi[k * d + l]! * gi[l]!;
        acc[k] += hg + gi[k]! * tr;
        gBar[k] += gi[k]!;
        for (let l = 0; l < d; l++) HBar[k * d + l] += Hi[k * d + l]!;
      }
    }
    for (let k = 0; k < d; k++) gBar[k] /= n;
    for (let q = 0; q < d * d; q++) HBar[q] /= n;
    let trBar = 0;
    for (let k = 0; k < d; k++) trBar += HBar[k * d + k]!;
    for (let k = 0; k < d; k++) {
      let hg = 0;
      for (let l = 0; l < d; l++) hg += HBar[k * d + l]! * gBar[l]!;
      out[k] = this.c * (acc[k]! / n - hg - gBar[k]! * trBar);
    }
  }

  trace(x: ArrayLike<number>): number {
    return traceOf(this, x, this.buf);
  }
}
