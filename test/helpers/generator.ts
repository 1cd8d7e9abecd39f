/**
 * The finite-volume generator A written out in the test, from the flux formula of docs/design.md §2
 * and docs/scheme.md, and the plain linear algebra the integrator tests check the product against
 * (tests only). Nothing here calls the product's operator, kernels, backends or solvers: it reads
 * only the problem's data (grid, ψ_i, face diffusion D_σ), so a wrong coefficient, a missing face or a
 * sign in the generated kernels shows up as a disagreement instead of being copied into the reference.
 */
import type { Problem } from '../../solvers/problem.js';

/** B(z) = z/(e^z − 1), written independently of solvers/bernoulli.ts (series near 0, expm1 elsewhere). */
export function bernoulliRef(z: number): number {
  if (Math.abs(z) < 1e-5) return 1 - z / 2 + (z * z) / 12;
  return z / Math.expm1(z);
}

/** One interior face: the flux from i to j is up·ρ_i − down·ρ_j. */
export interface Face {
  i: number;
  j: number;
  up: number;
  down: number;
}

/**
 * A in the ρ-form, dρ_i/dt = Σ_j c_σ [B(ψ_i − ψ_j) ρ_j − B(ψ_j − ψ_i) ρ_i], c_σ = D_σ/h² (Scharfetter–
 * Gummel, docs/design.md §2), reflecting walls: faces leave the domain nowhere.
 */
export class Generator {
  readonly n: number;
  readonly faces: Face[] = [];
  /** −A_ii. */
  readonly outflow: Float64Array;
  /** Largest distance in index between coupled cells (the band width of A). */
  readonly band: number;

  constructor(problem: Pick<Problem, 'grid' | 'psi' | 'faceD'>) {
    const g = problem.grid;
    this.n = g.size;
    this.outflow = new Float64Array(g.size);
    this.band = Math.max(...g.strides.slice(0, g.dim));
    // Cell index → multi-index by division, not by the grid's own walk, so a stride mix-up there shows.
    for (let i = 0; i < g.size; i++) {
      let rest = i;
      for (let k = 0; k < g.dim; k++) {
        const s = g.strides[k];
        const ik = Math.floor(rest / s);
        rest -= ik * s;
        if (ik === g.n[k] - 1) continue;
        const j = i + s;
        const c = problem.faceD[k][i] / (g.h[k] * g.h[k]);
        const up = c * bernoulliRef(problem.psi[j] - problem.psi[i]);
        const down = c * bernoulliRef(problem.psi[i] - problem.psi[j]);
        this.faces.push({ i, j, up, down });
        this.outflow[i] += up;
        this.outflow[j] += down;
      }
    }
  }

  /** out = A ρ. */
  apply(rho: Float64Array, out: Float64Array = new Float64Array(this.n)): Float64Array {
    out.fill(0);
    for (const { i, j, up, down } of this.faces) {
      const flux = up * rho[i] - down * rho[j];
      out[i] -= flux;
      out[j] += flux;
    }
    return out;
  }

  /** 1/max(−A_ii): explicit Euler's positivity limit. */
  explicitLimit(): number {
    return 1 / Math.max(...this.outflow);
  }

  /** (I − θA) as a band matrix, LU-factored (see BandLu). */
  shiftedLu(theta: number): BandLu {
    const m = new BandMatrix(this.n, this.band);
    for (let i = 0; i < this.n; i++) m.set(i, i, 1 + theta * this.outflow[i]);
    for (const { i, j, up, down } of this.faces) {
      // d ρ_i/dt gains down·ρ_j, d ρ_j/dt gains up·ρ_i
      m.set(i, j, -theta * down);
      m.set(j, i, -theta * up);
    }
    return new BandLu(m);
  }

  /**
   * exp(tA) v by the Taylor series on substeps with ‖hA‖₁ ≤ 1/2 (‖A‖₁ = 2 max outflow, the columns
   * sum to zero), summed until the terms stop mattering: accurate to round-off, and a method that no
   * integrator under test shares.
   */
  expmv(t: number, v: Float64Array): Float64Array {
    const norm = 2 * Math.max(...this.outflow);
    const m = Math.max(1, Math.ceil(2 * t * norm));
    const h = t / m;
    let x: Float64Array = v.slice();
    const term = new Float64Array(this.n);
    const next = new Float64Array(this.n);
    for (let s = 0; s < m; s++) {
      const acc = x.slice();
      term.set(x);
      for (let k = 1; k < 60; k++) {
        this.apply(term, next);
        let size = 0;
        let total = 0;
        for (let i = 0; i < this.n; i++) {
          term[i] = (h / k) * next[i];
          acc[i] += term[i];
          size += Math.abs(term[i]);
          total += Math.abs(acc[i]);
        }
        if (size <= 1e-18 * total) break;
      }
      x = acc;
    }
    return x;
  }
}

/** A square band matrix (half band width w), row-major in a (2w + 1)-wide strip. */
export class BandMatrix {
  readonly n: number;
  readonly w: number;
  readonly a: Float64Array;
  constructor(n: number, w: number) {
    this.n = n;
    this.w = w;
    this.a = new Float64Array(n * (2 * w + 1));
  }
  index(i: number, j: number): number {
    return i * (2 * this.w + 1) + (j - i + this.w);
  }
  set(i: number, j: number, v: number): void {
    this.a[this.index(i, j)] = v;
  }
}

/**
 * Gaussian elimination without pivoting in the band. I − θA (θ ≥ 0) is strictly diagonally dominant by
 * columns (the columns of A sum to zero), which keeps elimination without pivoting stable.
 */
export class BandLu {
  private readonly m: BandMatrix;
  constructor(m: BandMatrix) {
    this.m = m;
    const { n, w, a } = m;
    for (let k = 0; k < n; k++) {
      const pivot = a[m.index(k, k)];
      const last = Math.min(n - 1, k + w);
      for (let i = k + 1; i <= last; i++) {
        const ik = m.index(i, k);
        const l = a[ik] / pivot;
        if (l === 0) continue;
        a[ik] = l;
        for (let j = k + 1; j <= last; j++) a[m.index(i, j)] -= l * a[m.index(k, j)];
      }
    }
  }
  solve(b: Float64Array): Float64Array {
    const { n, w, a } = this.m;
    const m = this.m;
    const x = b.slice();
    for (let i = 0; i < n; i++) {
      for (let k = Math.max(0, i - w); k < i; k++) x[i] -= a[m.index(i, k)] * x[k];
    }
    for (let i = n - 1; i >= 0; i--) {
      for (let j = i + 1; j <= Math.min(n - 1, i + w); j++) x[i] -= a[m.index(i, j)] * x[j];
      x[i] /= a[m.index(i, i)];
    }
    return x;
  }
}

export function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
