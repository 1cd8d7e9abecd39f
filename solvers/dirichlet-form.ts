/**
 * The Gram form −S = GᵀG of the symmetric operator, whole or restricted to the cells a Dirichlet
 * problem leaves free: in the root of solvers/ because the absorbing solves (solvers/absorbing.ts)
 * and the eigen-solvers (solvers/eigen/) both apply it.
 */
import { FvOperator } from './operator.js';
import { sharedFloat64 } from './shared-memory.js';

/**
 * −S = Gᵀ G, G the face-difference operator: (G v)_σ = √fwd_σ v_i − √bwd_σ v_j for the face σ
 * between cell i and its upper neighbour j along each axis (indexed by i, as in FvOperator).
 *
 * Why not op.applySymmetric: it forms −S v = out_i v_i − Σ sym v_j, whose round-off is
 * ε‖S‖‖v‖ whatever v is. For an eigenvector of a tiny gap (λ₁ ~ 1e-12 ‖S‖, a double well) that
 * swamps λ₁ v. Through G each face difference cancels only against its own two terms, so
 * vᵀ(−S)v = ‖Gv‖² and Gᵀ(Gv) keep their accuracy relative to λ₁: detailed balance
 * (fwd π_i = bwd π_j) makes √fwd √π_i − √bwd √π_j vanish to a relative ε per face.
 */
export class DirichletForm {
  readonly op: FvOperator;
  readonly size: number;
  /** Faces per axis are stored like the operator's face arrays: one slot per cell. */
  readonly faceCount: number;
  private readonly sf: Float64Array[];
  private readonly sb: Float64Array[];
  /** Gershgorin bound on the largest eigenvalue of −S. */
  readonly normBound: number;
  /** Operator applications so far. */
  applications = 0;

  constructor(op: FvOperator) {
    this.op = op;
    const n = op.grid.size;
    this.size = n;
    this.faceCount = n * op.grid.dim;
    // In shared memory so that the eigen-solve's kernel threads apply −S from these very arrays
    // (solvers/eigen/threaded.ts) instead of copies; the same numbers either way.
    this.sf = op.fwd.map(sqrtShared);
    this.sb = op.bwd.map(sqrtShared);
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, op.outflow[i]);
    this.normBound = 2 * m;
  }

  /** √fwd_k, √bwd_k for each axis k in turn (the arrays themselves, in shared memory: read only). */
  faceRoots(): Float64Array[] {
    return this.sf.flatMap((sf, k) => [sf, this.sb[k]]);
  }

  /** y = G v (length faceCount; axis k occupies [k·size, (k+1)·size)). */
  grad(v: Float64Array, y: Float64Array): void {
    const g = this.op.grid;
    const n = this.size;
    for (let k = 0; k < g.dim; k++) {
      const stride = g.strides[k];
      const sf = this.sf[k];
      const sb = this.sb[k];
      const off = k * n;
      const last = n - stride;
      for (let i = 0; i < last; i++) y[off + i] = sf[i] * v[i] - sb[i] * v[i + stride];
      for (let i = last; i < n; i++) y[off + i] = 0;
    }
  }

  /** out = Gᵀ y. */
  gradT(y: Float64Array, out: Float64Array): void {
    const g = this.op.grid;
    const n = this.size;
    out.fill(0);
    for (let k = 0; k < g.dim; k++) {
      const stride = g.strides[k];
      const sf = this.sf[k];
      const sb = this.sb[k];
      const off = k * n;
      const last = n - stride;
      for (let i = 0; i < last; i++) {
        const w = y[off + i];
        out[i] += sf[i] * w;
        out[i + stride] -= sb[i] * w;
      }
    }
  }

  /**
   * out = −S v = Gᵀ G v. grad then gradT fused face by face: the same operations in the same
   * order (so the same bits), without writing and re-reading the face array (the inner solves'
   * hot loop).
   */
  apply(v: Float64Array, out: Float64Array): void {
    const g = this.op.grid;
    const n = this.size;
    out.fill(0);
    for (let k = 0; k < g.dim; k++) {
      const stride = g.strides[k];
      const sf = this.sf[k];
      const sb = this.sb[k];
      const last = n - stride;
      for (let i = 0; i < last; i++) {
        const w = sf[i] * v[i] - sb[i] * v[i + stride];
        out[i] += sf[i] * w;
        out[i + stride] -= sb[i] * w;
      }
    }
    this.applications++;
  }

  /** vᵀ(−S)w computed as (Gv)·(Gw), accurate relative to the result for slowly varying v/√π. */
  form(gv: Float64Array, gw: Float64Array): number {
    let s = 0;
    for (let i = 0; i < gv.length; i++) s += gv[i] * gw[i];
    return s;
  }
}

function sqrtShared(a: Float64Array): Float64Array {
  const out = sharedFloat64(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.sqrt(a[i]);
  return out;
}

/**
 * −S restricted to the cells with inside[i] = 1, all others absorbing (ρ = 0 there): the killed
 * generator of a first-exit problem, in the symmetric form v = ρ/√π. It is P Gᵀ G P (P zeroes
 * the absorbed cells), so the faces between an inside and an absorbed cell keep their term and
 * carry the killing, and vᵀ(−S_II)v = ‖G P v‖² stays accurate relative to its (tiny) bottom
 * eigenvalue for the same reason as in DirichletForm. Unlike −S it is nonsingular whenever some
 * inside cell touches an absorbed one.
 *
 * Vectors passed in must vanish on absorbed cells; results are zeroed there.
 */
export class RestrictedDirichletForm extends DirichletForm {
  readonly inside: Uint8Array;
  /** Number of inside cells. */
  readonly insideCount: number;

  constructor(op: FvOperator, inside: Uint8Array) {
    super(op);
    if (inside.length !== op.grid.size) throw new RangeError(`inside mask has ${inside.length} entries, the grid ${op.grid.size} cells`);
    this.inside = inside;
    let c = 0;
    for (let i = 0; i < inside.length; i++) if (inside[i]) c++;
    this.insideCount = c;
  }

  /** v ← P v. */
  mask(v: Float64Array): void {
    const m = this.inside;
    for (let i = 0; i < v.length; i++) if (!m[i]) v[i] = 0;
  }

  override apply(v: Float64Array, out: Float64Array): void {
    super.apply(v, out);
    this.mask(out);
  }
}
