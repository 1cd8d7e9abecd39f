/**
 * The primitives the generic integrators (integrators.ts, implicit.ts) and their CG (pcg.ts) need,
 * implemented once in float64 over Float64Array (cpu.ts) and once on gpu.js with device-resident
 * float32 state (gpujs.ts).
 *
 * Every operation is async: gpu.js's WebGPU kernels only return Promises, and awaiting a
 * synchronous result costs nothing measurable next to a grid-sized kernel.
 *
 * A Field is an opaque handle to one grid-sized vector owned by the backend. Elementwise
 * operations (lincomb, scale, copy, toSymmetric, fromSymmetric) may write into one of their
 * inputs; stencil operations (apply, eulerStep, rkl2Stage, shifted), `precondition` and direct
 * solves must write into a field distinct from their inputs.
 */
export interface Field {
  /** Identifies the backend that allocated it (operations refuse foreign fields). */
  readonly owner: symbol;
}

export type Precision = 'float64' | 'float32';

/** What actually ran, for report.json. */
export interface BackendInfo {
  /** 'cpu' (float64 TypeScript loops) or 'gpu.js <mode>', e.g. 'gpu.js webasm'. */
  name: string;
  /** The gpu.js kernel class that ran (WebAssemblyKernel, WebGPUKernel, …) or 'Float64Array loops'. */
  executor: string;
  device: string;
  precision: Precision;
  /**
   * What the user should know about how it ran, one sentence each (e.g. that the grid did not
   * fit the WebAssembly arena and the kernels ran as JavaScript); the report prints them.
   */
  notes?: string[];
}

/** RKL2 stage coefficients; a and g already include dt (computed in float64 on the host). */
export interface Rkl2StageCoefficients {
  mu: number;
  nu: number;
  /** μ̃_j · dt, multiplies A·Y_{j−1}. */
  a: number;
  /** γ̃_j · dt, multiplies A·Y_0. */
  g: number;
}

/**
 * A direct solve of (I − θA) x = b in the ρ-form, for backends that have one (the CPU in 1-D:
 * Thomas). Exact to round-off, so it needs no initial guess and counts no iterations.
 */
export interface DirectShiftedSolver {
  readonly name: string;
  solve(theta: number, b: Field, x: Field): Promise<void>;
}

export interface Backend {
  readonly info: BackendInfo;
  /** Number of cells. */
  readonly size: number;
  /** A new zero field. */
  field(): Field;
  upload(f: Field, data: Float64Array): Promise<void>;
  download(f: Field, out: Float64Array): Promise<void>;
  /** dst = src */
  copy(src: Field, dst: Field): Promise<void>;
  /** out = A x (ρ-form generator). */
  apply(x: Field, out: Field): Promise<void>;
  /** out = x + dt A x: one explicit Euler step (dt ≤ explicit limit keeps out ≥ 0). */
  eulerStep(dt: number, x: Field, out: Field): Promise<void>;
  /** out = μ y1 + ν y2 + (1 − μ − ν) y0 + a A y1 + g l0: one RKL2 stage with its stencil fused. */
  rkl2Stage(c: Rkl2StageCoefficients, y1: Field, y2: Field, y0: Field, l0: Field, out: Field): Promise<void>;
  /** out = a x + b y */
  lincomb(a: number, x: Field, b: number, y: Field, out: Field): Promise<void>;
  /** out = ((a x + b y) + c z) + d w in one pass where the backend has it (the bits of three lincombs). */
  lincomb4?(a: number, x: Field, b: number, y: Field, c: number, z: Field, d: number, w: Field, out: Field): Promise<void>;
  /** out = a x + b y and Σ z_i out_i in one pass where the backend has it (lincomb then dot otherwise). */
  lincombDot?(a: number, x: Field, b: number, y: Field, out: Field, z: Field): Promise<number>;
  /** x = a x */
  scale(a: number, x: Field): Promise<void>;
  /** x = 0 (a·x would keep a non-finite value). */
  zero(x: Field): Promise<void>;
  /**
   * The CG update y += α p, r −= α q; returns ‖r‖² of the new r, finished in float64. One
   * primitive so that the CPU makes one pass over the four fields instead of three.
   */
  cgUpdate(alpha: number, p: Field, q: Field, y: Field, r: Field): Promise<number>;
  /** out = (I − θ S) v, S the symmetric form of the generator. */
  shifted(theta: number, v: Field, out: Field): Promise<void>;
  /**
   * `shifted` and Σ v_i out_i in one pass where the backend has it (CG's apply and ⟨p, q⟩); PCG
   * calls shifted and dot instead where it is absent.
   */
  shiftedDot?(theta: number, v: Field, out: Field): Promise<number>;
  /**
   * out = M⁻¹ r, M a symmetric positive definite preconditioner of I − θS (rebuilt when θ
   * changes). The CPU applies the host Preconditioner it was built with (Jacobi, multigrid or the
   * switch between them); gpu.js applies one device multigrid cycle on 2-D/3-D grids
   * (gpu-multigrid.ts) and Jacobi, 1/(1 + θ (−S_ii)), on 1-D grids or on request.
   */
  precondition(theta: number, r: Field, out: Field): Promise<void>;
  /** What `precondition` applies, for the linear solver's name in the report. */
  readonly preconditionerName: string;
  /** The backend's direct solve of (I − θA) x = b, where it has one; implicit steps use PCG otherwise. */
  readonly directShiftedSolver?: DirectShiftedSolver;
  /** out = x / √π (ρ-form → symmetric form). */
  toSymmetric(x: Field, out: Field): Promise<void>;
  /** out = y √π (symmetric form → ρ-form). */
  fromSymmetric(y: Field, out: Field): Promise<void>;
  /** Σ x_i y_i, finished in float64. */
  dot(x: Field, y: Field): Promise<number>;
  /** Σ x_i, finished in float64. */
  sum(x: Field): Promise<number>;
  /** Σ |x_i|, finished in float64. */
  norm1(x: Field): Promise<number>;
  /** min_i x_i. */
  min(x: Field): Promise<number>;
  /** max_i x_i. */
  max(x: Field): Promise<number>;
  /** Frees device memory; the backend is unusable afterwards. */
  dispose(): void;
}
