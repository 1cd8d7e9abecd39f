import { bernoulli, symmetricWeight } from './bernoulli.js';
import { Grid } from './grid.js';
import { Problem } from './problem.js';
import { sharedFloat64 } from './shared-memory.js';
import { rangeKernel } from './kernels/registry.js';
import { wasmKernels as wasmFor } from './kernels/wasm-module.js';

/**
 * The finite-volume generator in two equivalent forms.
 *
 * ρ-form (what we time-step): dρ_i/dt = Σ_j c_ij [B(ψ_i − ψ_j) ρ_j − B(ψ_j − ψ_i) ρ_i] = (Aρ)_i,
 * c_ij = D_σ / h², the exponential-fitting (Scharfetter–Gummel) flux. With u = ρ/π this is
 * M u' = −K u of docs/design.md §2 with a_σ = D_σ π_i B(ψ_j − ψ_i); every coefficient is O(1)
 * because only differences of ψ appear, so no π is ever formed.
 *
 * Symmetric form: v = ρ / √π gives v' = S v, S_ij = c_ij (z/2)/sinh(z/2) (z = ψ_j − ψ_i),
 * S_ii = A_ii. S is symmetric negative semidefinite with null vector √π: CG and the eigen-solvers
 * work on it.
 *
 * Face arrays are indexed by the lower cell of the face along each axis; faces on the upper wall
 * have zero coefficients (reflecting walls: no flux).
 */
export class FvOperator {
  readonly grid: Grid;
  readonly problem: Problem;
  /** Per axis: coefficient of ρ_i in the flux from cell i to its upper neighbour j. */
  readonly fwd: Float64Array[];
  /** Per axis: coefficient of ρ_j in the flux from j back to i. */
  readonly bwd: Float64Array[];
  /** Per axis: symmetric weight sqrt(fwd·bwd). */
  readonly sym: Float64Array[];
  /** −A_ii = −S_ii ≥ 0: total out-flow coefficient of each cell. */
  readonly outflow: Float64Array;
  /** √π (unnormalized, max 1): the similarity scaling ρ = √π v. Underflows to 0 where ψ > ~1490. */
  readonly sqrtPi: Float64Array;

  constructor(problem: Problem) {
    this.problem = problem;
    const g = (this.grid = problem.grid);
    this.fwd = [];
    this.bwd = [];
    this.sym = [];
    this.outflow = sharedFloat64(g.size);
    const psi = problem.psi;
    for (let k = 0; k < g.dim; k++) {
      const fw = sharedFloat64(g.size);
      const bw = sharedFloat64(g.size);
      const sy = sharedFloat64(g.size);
      const stride = g.strides[k];
      const n = g.n[k];
      const inv = 1 / (g.h[k] * g.h[k]);
      const D = problem.faceD[k];
      // Interior faces only: blocks of (n − 1)·stride faces, skipping each block's upper wall.
      // Once per problem, mostly before V8 optimizes it: as WebAssembly where the arrays allow
      // (solvers/kernels/wasm-module.ts, the same branches and order, so the same bits).
      const kf = wasmFor(D, psi, fw, bw, sy, this.outflow);
      if (kf) kf.operatorFaces(D.byteOffset, psi.byteOffset, fw.byteOffset, bw.byteOffset, sy.byteOffset, this.outflow.byteOffset, stride, n, 0, g.size, inv);
      else for (let outer = 0; outer < g.size; outer += stride * n) {
        for (let i = outer; i < outer + (n - 1) * stride; i++) {
          const j = i + stride;
          const c = D[i] * inv;
          const z = psi[j] - psi[i];
          // One Bernoulli evaluation per face: B(−a) = a + B(a) is exact and cancellation-free for a ≥ 0.
          const a = Math.abs(z);
          const ba = bernoulli(a);
          const up = c * ba;
          const down = c * (a + ba);
          fw[i] = z >= 0 ? up : down;
          bw[i] = z >= 0 ? down : up;
          // (z/2)/sinh(z/2) = √(B(z)B(−z)); the product underflows only for a ≳ 700.
          sy[i] = a < 600 ? c * Math.sqrt(ba * (a + ba)) : c * symmetricWeight(z);
          this.outflow[i] += fw[i];
          this.outflow[j] += bw[i];
        }
      }
      this.fwd.push(fw);
      this.bwd.push(bw);
      this.sym.push(sy);
    }
    this.sqrtPi = sharedFloat64(g.size);
    const ks = wasmFor(psi, this.sqrtPi);
    if (ks) ks.sqrtPi(psi.byteOffset, this.sqrtPi.byteOffset, 0, g.size);
    else for (let i = 0; i < g.size; i++) this.sqrtPi[i] = Math.exp(-0.5 * psi[i]);
  }

  /**
   * out = A ρ (ρ-form): one fused pass per cell (each face's flux formed from both sides), so
   * each array moves once instead of once per axis (solvers/kernels/stencils.ts, apply).
   */
  apply(rho: Float64Array, out: Float64Array): void {
    rangeKernel('apply', this.grid.dim)(this.applyArrays(rho, out), [], this.strideParams(), 0, this.grid.size);
  }

  /** out = S v (symmetric form), one fused pass (solvers/kernels/stencils.ts, symmetric). */
  applySymmetric(v: Float64Array, out: Float64Array): void {
    rangeKernel('sym', this.grid.dim)([...this.sym, this.outflow, v, out], [], this.strideParams(), 0, this.grid.size);
  }

  /** The arrays of the generated A ρ kernel: [f0, b0, …, −A_ii, ρ, out]. */
  applyArrays(rho: Float64Array, out: Float64Array): Float64Array[] {
    return [...this.fwd.flatMap((f, k) => [f, this.bwd[k]]), this.outflow, rho, out];
  }

  /** The generated stencils' parameters: the strides of all axes but the innermost, and the size. */
  strideParams(): number[] {
    return [...this.grid.strides.slice(0, -1), this.grid.size];
  }

  /** Largest step for which explicit Euler keeps ρ ≥ 0 (and is stable): 1 / max_i (−A_ii). */
  explicitLimit(): number {
    let m = 0;
    for (let i = 0; i < this.outflow.length; i++) if (this.outflow[i] > m) m = this.outflow[i];
    return m > 0 ? 1 / m : Infinity;
  }

  /** Whether the symmetric form is usable: √π must not underflow where ρ may live. */
  symmetricFormUsable(): boolean {
    let max = 0;
    for (let i = 0; i < this.problem.psi.length; i++) if (this.problem.psi[i] > max) max = this.problem.psi[i];
    return max < 1400;
  }
}
