/**
 * The small models a data landscape is the empirical risk of. Every model is written against the
 * full parameter vector p = (v, w, b); a scenario puts 1 to 3 of them on the grid and fixes the rest.
 * Per-sample loss ℓ = (pred − y)²/2, so ∇ℓ = r ∇pred and ∇²ℓ = ∇pred ∇predᵀ + r ∇²pred, r = pred − y.
 */
import type { DataParamName } from '../scenario/types.js';

export type ModelName = 'linear' | 'neuron';

/** Position of each param in the full vector p = (v, w, b). */
export const PARAM_INDEX: Readonly<Record<DataParamName, number>> = { v: 0, w: 1, b: 2 };
export const PARAM_NAMES: readonly DataParamName[] = ['v', 'w', 'b'];
/** Values of params that are neither on the grid nor fixed by the scenario. */
export const PARAM_DEFAULTS: Readonly<Record<DataParamName, number>> = { v: 1, w: 1, b: 0 };

export interface Model {
  readonly name: ModelName;
  /** Params this model has. */
  readonly params: readonly DataParamName[];
  /** Formula of one prediction, for reports. */
  readonly formula: string;
  predict(v: number, w: number, b: number, x: number): number;
  /** ∇pred with respect to (v, w, b), written into g[0..2]; returns pred. */
  gradPredict(v: number, w: number, b: number, x: number, g: Float64Array): number;
  /** ∇²pred as the 6 entries vv, vw, vb, ww, wb, bb, written into h; returns pred. */
  hessPredict(v: number, w: number, b: number, x: number, h: Float64Array): number;
}

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

const LINEAR: Model = {
  name: 'linear',
  params: ['w', 'b'],
  formula: 'w*x + b',
  predict: (_v, w, b, x) => w * x + b,
  gradPredict: (_v, w, b, x, g) => {
    g[0] = 0;
    g[1] = x;
    g[2] = 1;
    return w * x + b;
  },
  hessPredict: (_v, w, b, x, h) => {
    h.fill(0, 0, 6);
    return w * x + b;
  },
};

const NEURON: Model = {
  name: 'neuron',
  params: ['v', 'w', 'b'],
  formula: 'v*sigmoid(w*x + b)',
  predict: (v, w, b, x) => v * sigmoid(w * x + b),
  gradPredict: (v, w, b, x, g) => {
    const s = sigmoid(w * x + b);
    const ds = s * (1 - s);
    g[0] = s;
    g[1] = v * ds * x;
    g[2] = v * ds;
    return v * s;
  },
  hessPredict: (v, w, b, x, h) => {
    const s = sigmoid(w * x + b);
    const ds = s * (1 - s);
    const d2s = ds * (1 - 2 * s);
    h[0] = 0;
    h[1] = ds * x;
    h[2] = ds;
    h[3] = v * d2s * x * x;
    h[4] = v * d2s * x;
    h[5] = v * d2s;
    return v * s;
  },
};

export const MODELS: Readonly<Record<ModelName, Model>> = { linear: LINEAR, neuron: NEURON };

/** Index into the 6-entry packed Hessian (vv, vw, vb, ww, wb, bb) of full-vector indices i, j. */
export function packedIndex(i: number, j: number): number {
  const [a, b] = i <= j ? [i, j] : [j, i];
  return a === 0 ? b : a === 1 ? 2 + b : 5;
}
