/**
 * The scenario contract: what a scenario file holds after validation and defaults.
 * Field names are part of the public interface (README "Scenario files", schema/scenario.schema.json).
 */

export type Bounds = [number, number];

export type LandscapeSpec =
  | { expr: string; params?: Record<string, number> }
  | { builtin: string; params?: Record<string, number> };

export interface DomainSpec {
  /** One [lo, hi] per axis; 1 to 3 axes. */
  bounds: Bounds[];
  /** Cells per axis, each >= 2. */
  cells: number[];
}

export type NoiseSpec =
  | { model: 'multiplicative'; eta: number; sigma: number; eps?: number }
  | { model: 'additive'; D: number };

export type InitialSpec =
  | { gaussian: { mean: number[]; std: number[] } }
  | { uniform: { bounds?: Bounds[] } }
  | { file: string };

export type IntegratorName = 'auto' | 'explicit' | 'rkl2' | 'backward-euler' | 'trbdf2';

export interface TimeSpec {
  end: number;
  reportEvery: number;
  integrator: IntegratorName;
  /** Fixed step (explicit/backward-euler) or first step (adaptive). Omitted: chosen by fpsolve. */
  dt?: number;
  /** Relative local error tolerance of adaptive integrators. */
  tolerance: number;
}

export interface DiagnosticsSpec {
  /** Level δ for the collapse diagnostic "mass in {f < δ}". Omitted: 1e-3 · (max f − min f) on the grid. */
  delta?: number;
}

export interface Scenario {
  name: string;
  description?: string;
  landscape: LandscapeSpec;
  domain: DomainSpec;
  noise: NoiseSpec;
  initial: InitialSpec;
  time: TimeSpec;
  diagnostics: DiagnosticsSpec;
}

/** A scenario together with where it came from, for error messages and relative paths. */
export interface LoadedScenario {
  scenario: Scenario;
  /** Path of the scenario file ('<inline>' when built in code). */
  file: string;
  /** Directory that relative paths inside the scenario (initial.file) resolve against. */
  baseDir: string;
}
