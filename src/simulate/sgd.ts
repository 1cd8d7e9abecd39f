/**
 * Real mini-batch SGD on a data landscape, for many independent runs (particles) at once:
 *     θ ← θ − η (1/B) Σ_{j ∈ batch} ∇ℓ_j(θ),   batch = B indices drawn uniformly with replacement,
 * after k steps the time is t = kη (the time of the SDE the PDE describes). Only the params on the
 * grid move; a step that leaves the box is reflected at the wall, as the PDE's walls reflect.
 */
import type { EmpiricalRisk } from '../data/risk.js';
import { NumericalFault } from '../errors.js';
import { reflect } from './em.js';
import type { Xoshiro128 } from '../data/rng.js';

export interface SgdSettings {
  readonly eta: number;
  readonly batch: number;
  readonly lo: readonly number[];
  readonly hi: readonly number[];
}

/** Runs `steps` SGD steps on every particle of `x` (one Float64Array per grid axis). */
export function sgdSteps(risk: EmpiricalRisk, x: Float64Array[], rng: Xoshiro128, s: SgdSettings, steps: number): void {
  const d = risk.dim;
  const n = x[0]!.length;
  const m = risk.model;
  const { x: xs, y: ys } = risk.data;
  const ns = xs.length;
  const axes = risk.axes;
  const p = [risk.base[0]!, risk.base[1]!, risk.base[2]!];
  const gp = new Float64Array(3);
  const acc = new Float64Array(d);
  const scale = s.eta / s.batch;
  for (let step = 0; step < steps; step++) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < d; k++) p[axes[k]!] = x[k]![i]!;
      acc.fill(0);
      for (let j = 0; j < s.batch; j++) {
        const idx = rng.nextInt(ns);
        const r = m.gradPredict(p[0]!, p[1]!, p[2]!, xs[idx]!, gp) - ys[idx]!;
        for (let k = 0; k < d; k++) acc[k]! += r * gp[axes[k]!]!;
      }
      for (let k = 0; k < d; k++) {
        let v = x[k]![i]! - scale * acc[k]!;
        if (!(v >= s.lo[k]! && v <= s.hi[k]!)) {
          if (!Number.isFinite(v)) throw new NumericalFault(`SGD run ${i} diverged at step ${step} (θ_${k} = ${v})`, 'non-finite');
          v = reflect(v, s.lo[k]!, s.hi[k]!);
        }
        x[k]![i] = v;
      }
    }
  }
}
