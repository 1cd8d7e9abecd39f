/** report.json of `fpsolve simulate` (field names are public: docs/landscapes.md). */
import type { NoiseFromData, Scenario } from '../scenario/types.js';

export type SimMethod = 'sde' | 'sgd';

export interface HalfMass {
  axis: number;
  /** Midpoint of the axis; mass below it is "the lower half". */
  mid: number;
  pde: number;
  mc: number;
  /** Binomial standard error sqrt(p(1 − p)/N) of the Monte-Carlo fraction (p from the PDE). */
  mcStdErr: number;
}

export interface Comparison {
  /** Report time of the PDE. */
  t: number;
  /** Time the simulation reached (SGD: k·η with k = round(t/η)). */
  tSimulated: number;
  /** Σ_i |ρ̂_i − ρ_i| |K| between the histogram and the PDE density. */
  l1: number;
  /** Expected L1 of an N-particle histogram of the PDE density itself (exact binomial mean absolute deviation). */
  l1Floor: number;
  l1OverFloor: number;
  meanLoss: { mc: number; mcStdErr: number; pde: number; ratio: number };
  lowerHalfMass: HalfMass[];
  /** Marginal densities along each axis (2-D and 3-D only; 1-D: the histogram itself is the marginal). */
  marginals?: { axis: number; pde: number[]; mc: number[] }[];
}

export interface MethodReport {
  method: SimMethod;
  description: string;
  /** SDE: the Euler–Maruyama step; SGD: η. */
  dt: number;
  batch?: number;
  steps: number;
  wallSeconds: number;
  comparisons: Comparison[];
}

export interface SimulateReport {
  fpsolve: string;
  createdAt: string;
  status: 'ok';
  scenarioFile: string;
  scenario: Scenario;
  landscape: { source: string; doc?: string };
  seed: number;
  particles: number;
  rng: string;
  walls: string;
  grid: { bounds: [number, number][]; cells: number[] };
  pde: { integrator: string; steps: number; wallSeconds: number; status: string };
  times: number[];
  methods: MethodReport[];
  noiseFromData?: NoiseFromData;
  notes: string[];
  wallSeconds: number;
}
