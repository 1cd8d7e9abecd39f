/**
 * Diffusion-matrix noise (issue #18.1): a scenario's `noise` block of model matrix, hessian,
 * low-rank or data → the DiffusionField the monotone scheme (solvers/anisotropic/) discretizes,
 * checked on the grid. The equation is the Itô form ∂t ρ = ∇·(ρ∇f) + ∇·∇·(Dρ) (docs/noise-matrix.md).
 */
import type { DiffusionField, GradientField } from '../../solvers/anisotropic/types.js';
import { Grid } from '../../solvers/grid.js';
import { InputError } from '../errors.js';
import { resolveLandscape, type ResolvedLandscape } from '../landscape/builtins.js';
import type { CompiledExpr } from '../landscape/expr.js';
import { resolveDataLandscape } from '../data/landscape.js';
import { FIT_CELLS_PER_AXIS, fitNoiseFromData } from '../data/noise.js';
import { isMatrixNoise, type DataLandscapeSpec, type LoadedScenario, type MatrixNoiseSpec, type NoiseExpr, type Scenario } from '../scenario/types.js';
import { checkPsdOnGrid, checkSymmetryOnGrid } from './check.js';
import { checkBlockParams, checkBlockParamsUsed, compileNoiseExpr, type NoiseExprScope } from './expr.js';
import { DataField, ExprMatrixField, HessianField, LowRankField, type NoiseField, type ScaleSpec } from './models.js';

export { isMatrixNoise, type MatrixNoiseSpec } from '../scenario/types.js';
export { reversibleNoise } from './guard.js';

export interface DiffusionSetup {
  /** D(x) and ∇·D(x), checked symmetric, finite and PSD at every cell centre and face midpoint of the grid. */
  field: DiffusionField;
  /** ∇f, from the landscape's symbolic (or, for data landscapes, exact) gradient. */
  gradF: GradientField;
  /** One line: the model and its formula with the numbers. */
  description: string;
  /** How ∇·D is computed (symbolic, exact, or central differences where the landscape has no third derivatives). */
  divergence: string;
  /**
   * The isotropic ML-type model of the same ησ, D = (ησ/2)(f + ε)·I, for comparison; present when the
   * model has η and σ and scales with the loss (`scale: loss`; for `data`, σ fitted as `from-data` fits it).
   */
  isotropicReference?: { etaSigma: number; eps: number };
  /** tr D(x). */
  traceField(x: ArrayLike<number>): number;
}

const fmt = (v: number): string => String(+v.toPrecision(6));

interface Compiled {
  field: NoiseField;
  land: ResolvedLandscape;
  /** The matrix model's entries (all d×d, for the symmetry check). */
  matrix?: { entries: CompiledExpr[][]; texts: NoiseExpr[][] };
  description: string;
  isotropicReference?: { etaSigma: number; eps: number };
  errorField: string;
}

/** Shape checks that need only the domain's dimension (also run by the loader). */
export function checkNoiseShape(spec: MatrixNoiseSpec, dim: number, file?: string): void {
  const rows = spec.model === 'matrix' ? spec.D : spec.model === 'low-rank' ? spec.vectors : undefined;
  if (rows === undefined) return;
  const name = spec.model === 'matrix' ? 'D' : 'vectors';
  if (spec.model === 'matrix' && rows.length !== dim) {
    throw new InputError(`must be ${dim}×${dim} (one row per domain axis), not ${rows.length} rows`, { file, field: `noise.${name}` });
  }
  rows.forEach((row, i) => {
    if (row.length !== dim) {
      const what = spec.model === 'matrix' ? `row ${i} of the ${dim}×${dim} matrix` : `vector ${i}`;
      throw new InputError(`${what} must have ${dim} entries (one per domain axis), not ${row.length}`, { file, field: `noise.${name}.${i}` });
    }
  });
}

function landscapeOf(scenario: Scenario, dim: number, file?: string): { land: ResolvedLandscape; isData: boolean } {
  return { land: resolveLandscape(scenario.landscape, dim, file), isData: 'data' in scenario.landscape };
}

function scaleOf(spec: { eta: number; sigma: number; eps?: number; scale?: 'loss' | 'constant' }): ScaleSpec {
  return { c: 0.5 * spec.eta * spec.sigma, loss: (spec.scale ?? 'loss') === 'loss', eps: spec.eps ?? 0 };
}

/**
 * The isotropic ML-type model D = (ησ/2)(f + ε)·I is this model's isotropic counterpart only when D
 * scales with the loss: with `scale: constant` D does not vanish at the zeros of f, and comparing
 * with (f + ε)^−(1 + 2/ησ) (or calling it collapsed) would describe a different process.
 */
function isotropicOf(spec: { eta: number; sigma: number }, s: ScaleSpec): { isotropicReference?: { etaSigma: number; eps: number } } {
  return s.loss ? { isotropicReference: { etaSigma: spec.eta * spec.sigma, eps: s.eps } } : {};
}

function compileModel(scenario: Scenario, spec: MatrixNoiseSpec, dim: number, file: string | undefined, grid: Grid | undefined): Compiled {
  checkNoiseShape(spec, dim, file);
  const { land, isData } = landscapeOf(scenario, dim, file);
  const fdStep = (grid ?? new Grid(scenario.domain.bounds, scenario.domain.cells)).h.map((h) => 1e-3 * h);
  switch (spec.model) {
    case 'matrix':
    case 'low-rank': {
      const scope: NoiseExprScope = { dim, file, landscape: land, isData, params: spec.params ?? {} };
      checkBlockParams(scope);
      const rows = spec.model === 'matrix' ? spec.D : spec.vectors;
      const name = spec.model === 'matrix' ? 'D' : 'vectors';
      const compiled = rows.map((row, i) => row.map((e, j) => compileNoiseExpr(e, `noise.${name}.${i}.${j}`, scope)));
      checkBlockParamsUsed(rows.flat(), scope);
      if (spec.model === 'matrix') {
        const field = new ExprMatrixField(compiled);
        const text = rows.map((r) => `[${r.map(String).join(', ')}]`).join(', ');
        return {
          land,
          field,
          matrix: { entries: compiled, texts: rows },
          description: `matrix noise D(x) = [${text}]`,
          errorField: 'noise.D',
        };
      }
      const s = scaleOf(spec);
      const us = rows.map((r) => `(${r.map(String).join(', ')})`).join(', ');
      return {
        land,
        field: new LowRankField(land.compiled, compiled, s),
        description: `low-rank noise D = (ησ/2)·${s.loss ? `(f + ${fmt(s.eps)})` : '1'}·Σ_k u_k u_kᵀ, ησ = ${fmt(spec.eta * spec.sigma)}, u = ${us}`,
        ...isotropicOf(spec, s),
        errorField: 'noise.vectors',
      };
    }
    case 'hessian': {
      const s = scaleOf(spec);
      return {
        land,
        field: new HessianField(land.compiled, s, fdStep),
        description: `Hessian noise D = (ησ/2)·${s.loss ? `(f + ${fmt(s.eps)})` : '1'}·H₊ (the Hessian of f with negative eigenvalues set to 0), ησ = ${fmt(spec.eta * spec.sigma)}`,
        ...isotropicOf(spec, s),
        errorField: 'noise.model',
      };
    }
    case 'data': {
      if (!isData) {
        throw new InputError("model 'data' takes the per-sample gradient covariance of a dataset and needs a data landscape (landscape: { data: ... }) (got a landscape without data)", { file, field: 'noise.model' });
      }
      const { risk } = resolveDataLandscape(scenario.landscape as DataLandscapeSpec, dim, file);
      const fitGrid = new Grid(scenario.domain.bounds, scenario.domain.cells.map((c) => Math.min(c, FIT_CELLS_PER_AXIS)));
      let iso: { etaSigma: number; eps: number } | undefined;
      try {
        const fit = fitNoiseFromData(risk, fitGrid, spec.eta, spec.batch, 0);
        if (fit.sigma > 0 && Number.isFinite(fit.sigma)) iso = { etaSigma: spec.eta * fit.sigma, eps: 0 };
      } catch (e) {
        // No isotropic fit (f = 0 on the whole box): the comparison is left out, the model itself is fine.
        if (!(e instanceof InputError)) throw e;
      }
      return {
        land,
        field: new DataField(risk, spec.eta, spec.batch),
        description: `data noise D = (η/2)·Σ(θ)/B, η = ${fmt(spec.eta)}, B = ${spec.batch}, Σ the per-sample gradient covariance of ${risk.n} samples`,
        ...(iso ? { isotropicReference: iso } : {}),
        errorField: 'noise.model',
      };
    }
  }
}

/**
 * The loader's check: shapes, names and params of the block's expressions (what needs no grid).
 * The grid checks (symmetry, finite, PSD) are buildDiffusion's.
 */
export function checkMatrixNoiseSpec(scenario: Scenario, spec: MatrixNoiseSpec, file?: string): void {
  const dim = scenario.domain.bounds.length;
  if (spec.model === 'data') {
    if (!('data' in scenario.landscape)) compileModel(scenario, spec, dim, file, undefined);
    return; // the covariance needs the dataset, read by buildDiffusion
  }
  compileModel(scenario, spec, dim, file, undefined);
}

/**
 * The scenario's matrix noise on `grid` (the scenario's own grid, or another over the same box):
 * compiled, checked symmetric (matrix model, at the cell centres), finite and positive
 * semi-definite at every cell centre and face midpoint. Every failure is an InputError (exit 2).
 */
export function buildDiffusion(loaded: LoadedScenario, grid: Grid): DiffusionSetup {
  const { scenario, file } = loaded;
  const spec = scenario.noise;
  if (!isMatrixNoise(spec)) {
    throw new InputError(`buildDiffusion needs a diffusion-matrix noise model (matrix, hessian, low-rank, data), got ${spec.model}`, { file, field: 'noise.model' });
  }
  const c = compileModel(scenario, spec, grid.dim, file, grid);
  const land = c.land;
  if (c.matrix) checkSymmetryOnGrid(grid, c.matrix.entries, c.matrix.texts, file);
  const many = c.field.evalMany?.bind(c.field);
  checkPsdOnGrid(grid, c.field, { file, field: c.errorField, ...(many ? { evalMany: many } : {}) });
  const grad = land.compiled.gradient();
  const p = new Array<number>(grid.dim);
  const gradF: GradientField = (x, out) => {
    for (let k = 0; k < grid.dim; k++) p[k] = x[k]!;
    for (let k = 0; k < grid.dim; k++) out[k] = grad[k]!.at(p);
  };
  const field = c.field;
  return {
    field,
    gradF,
    description: c.description,
    divergence: field.divergence,
    ...(c.isotropicReference ? { isotropicReference: c.isotropicReference } : {}),
    traceField: (x) => field.trace(x),
  };
}

