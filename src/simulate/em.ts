/**
 * Euler–Maruyama for the scenario's SDE, vectorized over particles (structure of arrays: one
 * Float64Array per axis), with reflecting walls at the box:
 *     multiplicative: dθ = −∇f dt + sqrt(ησ (f + ε)) dW      (D = (ησ/2)(f + ε), Itô)
 *     additive:       dθ = −∇f dt + sqrt(2D) dW
 * These are the SDEs whose Fokker–Planck equation is ∂t ρ = ∇·(ρ∇f + ∇(Dρ)) (docs/design.md §1).
 */
import type { NoiseModel } from '../../solvers/problem.js';
import type { PointFunction } from '../../solvers/quadrature.js';
import { NumericalFault } from '../errors.js';
import type { Xoshiro128 } from '../data/rng.js';
import type { DiffusionField } from '../../solvers/anisotropic/types.js';
import { psdSqrt } from '../noise/linalg.js';

export interface SdeSystem {
  readonly lo: readonly number[];
  readonly hi: readonly number[];
  readonly f: PointFunction;
  /** ∂f/∂θ_k, one per axis. */
  readonly gradient: readonly PointFunction[];
  readonly noise: NoiseModel;
}

/** Folds v back into [lo, hi] as a mirror would (any distance, so a large step cannot escape). */
export function reflect(v: number, lo: number, hi: number): number {
  if (v >= lo && v <= hi) return v;
  const w = hi - lo;
  let y = (v - lo) % (2 * w);
  if (y < 0) y += 2 * w;
  return lo + (y > w ? 2 * w - y : y);
}

export interface EmStats {
  steps: number;
}

/**
 * Advances particles `x` from t0 to t1 in equal steps of at most dt (so t1 is hit exactly).
 * Returns the number of steps taken.
 */
export function advanceSde(sys: SdeSystem, x: Float64Array[], rng: Xoshiro128, t0: number, t1: number, dtMax: number): number {
  const d = x.length;
  const n = x[0]!.length;
  const steps = Math.max(1, Math.ceil((t1 - t0) / dtMax - 1e-9));
  const dt = (t1 - t0) / steps;
  const g = Array.from({ length: d }, () => new Float64Array(n));
  const amp = new Float64Array(n);
  const z = new Float64Array(n);
  const sqdt = Math.sqrt(dt);
  const noise = sys.noise;
  const constAmp = noise.kind === 'additive' ? Math.sqrt(2 * noise.D) * sqdt : 0;
  const etaSigma = noise.kind === 'multiplicative' ? noise.etaSigma : 0;
  const eps = noise.kind === 'multiplicative' ? noise.eps : 0;
  for (let s = 0; s < steps; s++) {
    for (let k = 0; k < d; k++) sys.gradient[k]!(x, g[k]!);
    if (noise.kind === 'additive') amp.fill(constAmp);
    else {
      sys.f(x, amp);
      for (let i = 0; i < n; i++) {
        const fe = amp[i]! + eps;
        // f may dip below 0 by round-off next to a zero; the noise of a negative f is taken as 0.
        amp[i] = fe > 0 ? Math.sqrt(etaSigma * fe) * sqdt : 0;
      }
    }
    for (let k = 0; k < d; k++) {
      rng.fillNormal(z);
      const xk = x[k]!;
      const gk = g[k]!;
      const lo = sys.lo[k]!;
      const hi = sys.hi[k]!;
      for (let i = 0; i < n; i++) {
        let v = xk[i]! - gk[i]! * dt + amp[i]! * z[i]!;
        if (!(v >= lo && v <= hi)) {
          if (!Number.isFinite(v)) {
            throw new NumericalFault(
              `particle ${i} left the reals at t ≈ ${(t0 + s * dt).toPrecision(4)} (gradient ${gk[i]} at θ_${k} = ${xk[i]}): the landscape is not finite there`,
              'non-finite',
            );
          }
          v = reflect(v, lo, hi);
        }
        xk[i] = v;
      }
    }
  }
  return steps;
}

/** The SDE of a diffusion-matrix noise model (src/noise/): drift −∇f, diffusion D(θ). */
export interface MatrixSdeSystem {
  readonly lo: readonly number[];
  readonly hi: readonly number[];
  /** ∂f/∂θ_k, one per axis. */
  readonly gradient: readonly PointFunction[];
  readonly diffusion: DiffusionField;
}

/**
 * Euler–Maruyama for the Itô SDE dθ = −∇f dt + B(θ) dW with B Bᵀ = 2D, whose Fokker–Planck
 * equation is ∂t ρ = ∇·(ρ∇f) + ∇·∇·(Dρ) (docs/noise-matrix.md): no drift correction, because the
 * equation is in Itô form. B is the symmetric PSD square root of 2D·dt per particle and step, which
 * exists whatever D's rank (a Cholesky factor would need pivoting where D is singular). The normals
 * of one step are drawn axis by axis before any particle moves, so a seed gives the same bits.
 * Returns the number of steps taken; same step rule as advanceSde.
 */
export function advanceSdeMatrix(sys: MatrixSdeSystem, x: Float64Array[], rng: Xoshiro128, t0: number, t1: number, dtMax: number): number {
  const d = x.length;
  const n = x[0]!.length;
  if (sys.diffusion.dim !== d) throw new Error(`internal: a ${sys.diffusion.dim}-D diffusion for ${d}-D particles`);
  const steps = Math.max(1, Math.ceil((t1 - t0) / dtMax - 1e-9));
  const dt = (t1 - t0) / steps;
  const g = Array.from({ length: d }, () => new Float64Array(n));
  const z = Array.from({ length: d }, () => new Float64Array(n));
  const p = new Float64Array(d);
  const m = new Float64Array(d * d);
  const b = new Float64Array(d * d);
  for (let s = 0; s < steps; s++) {
    for (let k = 0; k < d; k++) sys.gradient[k]!(x, g[k]!);
    for (let k = 0; k < d; k++) rng.fillNormal(z[k]!);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < d; k++) p[k] = x[k]![i]!;
      sys.diffusion.evalD(p, m);
      for (let q = 0; q < d * d; q++) m[q] = 2 * dt * m[q]!;
      psdSqrt(m, d, b);
      for (let k = 0; k < d; k++) {
        let noise = 0;
        for (let l = 0; l < d; l++) noise += b[k * d + l]! * z[l]![i]!;
        let v = p[k]! - g[k]![i]! * dt + noise;
        const lo = sys.lo[k]!;
        const hi = sys.hi[k]!;
        if (!(v >= lo && v <= hi)) {
          if (!Number.isFinite(v)) {
            throw new NumericalFault(
              `particle ${i} left the reals at t ≈ ${(t0 + s * dt).toPrecision(4)} (gradient ${g[k]![i]} and D_${k}${k} = ${m[k * d + k]! / (2 * dt)} at θ_${k} = ${p[k]}): the landscape or the noise is not finite there`,
              'non-finite',
            );
          }
          v = reflect(v, lo, hi);
        }
        x[k]![i] = v;
      }
    }
  }
  return steps;
}
