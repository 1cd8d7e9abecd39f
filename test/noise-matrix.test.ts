/**
 * Diffusion-matrix noise models (src/noise/, docs/noise-matrix.md): each model's D against its
 * formula evaluated independently in the test (hessian: a finite-difference Hessian and the dense
 * Jacobi solver of solvers/dense.ts; low-rank: Σ u uᵀ; data: the covariance of src/data/risk.ts),
 * ∇·D against central differences of evalD and against hand-derived divergences, and the one-line
 * refusals (shape, symmetry, names, PSD, non-finite) that name the field, the cell and the value.
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { symmetricEigen } from '../solvers/dense.js';
import type { DiffusionField } from '../solvers/anisotropic/types.js';
import { parseScenarioText } from '../src/scenario/load.js';
import { buildDiffusion, type DiffusionSetup } from '../src/noise/index.js';
import { reversibleNoise } from '../src/noise/guard.js';
import { resolveDataLandscape } from '../src/data/landscape.js';
import { FIT_CELLS_PER_AXIS, fitNoiseFromData } from '../src/data/noise.js';
import type { DataLandscapeSpec, LoadedScenario } from '../src/scenario/types.js';
import { expectInputError } from './scenario-helpers.js';
import { densityAttrs } from '../src/io/density-zarr.js';

const AXES = ['[[-1, 1]]', '[[-1, 1], [-1, 1]]', '[[-1, 1], [-1, 1], [-1, 1]]'];
const CELLS = ['[8]', '[8, 8]', '[6, 6, 6]'];

/** A scenario around a noise block (YAML flow text). */
function scenario(noise: string, opts: { landscape?: string; dim?: number; bounds?: string; cells?: string; file?: string } = {}): LoadedScenario {
  const dim = opts.dim ?? 2;
  const mean = `[${new Array(dim).fill(0).join(', ')}]`;
  const std = `[${new Array(dim).fill(0.3).join(', ')}]`;
  const text = `name: t
landscape: ${opts.landscape ?? '{ expr: "(x^2 + 2*y^2)/2" }'}
domain: { bounds: ${opts.bounds ?? AXES[dim - 1]}, cells: ${opts.cells ?? CELLS[dim - 1]} }
noise: ${noise}
initial: { gaussian: { mean: ${mean}, std: ${std} } }
time: { end: 1, reportEvery: 0.5 }
`;
  return parseScenarioText(text, opts.file ?? 's.yaml');
}

function build(noise: string, opts: Parameters<typeof scenario>[1] = {}): DiffusionSetup {
  const loaded = scenario(noise, opts);
  const { bounds, cells } = loaded.scenario.domain;
  return buildDiffusion(loaded, new Grid(bounds, cells));
}

function D(field: DiffusionField, x: number[]): number[] {
  const out = new Float64Array(field.dim * field.dim);
  field.evalD(x, out);
  return Array.from(out);
}

function divD(field: DiffusionField, x: number[]): number[] {
  const out = new Float64Array(field.dim);
  field.evalDivD(x, out);
  return Array.from(out);
}

/** Σ_j ∂_j D_ij by fourth-order central differences of evalD, written here independently of src/noise. */
function fdDivergence(field: DiffusionField, x: number[], h = 1e-3): number[] {
  const d = field.dim;
  const out = new Array<number>(d).fill(0);
  for (let j = 0; j < d; j++) {
    const at = (s: number): number[] => D(field, x.map((v, k) => (k === j ? v + s * h : v)));
    const [p2, p1, m1, m2] = [at(2), at(1), at(-1), at(-2)];
    for (let i = 0; i < d; i++) out[i] += (-p2[i * d + j]! + 8 * p1[i * d + j]! - 8 * m1[i * d + j]! + m2[i * d + j]!) / (12 * h);
  }
  return out;
}

function expectClose(got: number[], want: number[], rel: number, abs = 0): void {
  expect(got.length).toBe(want.length);
  const scale = Math.max(...want.map(Math.abs), 1e-300);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!), `entry ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(rel * scale + abs));
}

const POINTS_2D = [[0.3, -0.2], [-0.7, 0.45], [0.05, 0.9]];

describe('matrix model', () => {
  it('2-D: D from the expressions with params and f (chain rule), ∇·D exact and against central differences', () => {
    const s = build('{ model: matrix, D: [["a + f", "b*x*y"], ["b*y*x", "1 + y^2"]], params: { a: 0.2, b: 0.7 } }');
    for (const [x, y] of POINTS_2D as [number, number][]) {
      const f = (x * x + 2 * y * y) / 2;
      expectClose(D(s.field, [x, y]), [0.2 + f, 0.7 * x * y, 0.7 * x * y, 1 + y * y], 1e-15);
      // ∂x(a + f) + ∂y(bxy) = x + bx;  ∂x(bxy) + ∂y(1 + y²) = by + 2y.
      expectClose(divD(s.field, [x, y]), [x + 0.7 * x, 0.7 * y + 2 * y], 1e-14);
      expectClose(divD(s.field, [x, y]), fdDivergence(s.field, [x, y]), 1e-9);
      expect(s.traceField([x, y])).toBeCloseTo(0.2 + f + 1 + y * y, 14);
    }
    expect(s.isotropicReference).toBeUndefined();
  });

  it('1-D and 3-D', () => {
    const s1 = build('{ model: matrix, D: [["0.5 + x^2*f"]] }', { dim: 1, landscape: '{ expr: "x^2 + 1" }' });
    for (const x of [-0.6, 0.1, 0.8]) {
      expectClose(D(s1.field, [x]), [0.5 + x * x * (x * x + 1)], 1e-15);
      // d/dx (x⁴ + x²) = 4x³ + 2x
      expectClose(divD(s1.field, [x]), [4 * x ** 3 + 2 * x], 1e-14);
    }
    const s3 = build('{ model: matrix, D: [["2 + x*y", "z/4", 0], ["z/4", "2", "x/5"], [0, "x/5", "2 + z^2"]] }', { dim: 3, landscape: '{ expr: "x^2 + y^2 + z^2" }' });
    for (const p of [[0.2, -0.3, 0.5], [-0.9, 0.4, -0.1]]) {
      const [x, y, z] = p as [number, number, number];
      expectClose(D(s3.field, p), [2 + x * y, z / 4, 0, z / 4, 2, x / 5, 0, x / 5, 2 + z * z], 1e-15);
      // row 0: ∂x(2+xy) + ∂y(z/4) + 0 = y; row 1: ∂x(z/4) + 0 + ∂z(x/5) = 0; row 2: 0 + ∂y(x/5) + ∂z(2+z²) = 2z
      expectClose(divD(s3.field, p), [y, 0, 2 * z], 1e-14, 1e-15);
      expectClose(divD(s3.field, p), fdDivergence(s3.field, p), 1e-9, 1e-10);
    }
  });

  it('builtin landscapes: f stands for the builtin expression and its params', () => {
    const s = build('{ model: matrix, D: [["f", 0], [0, "f + 1"]] }', { landscape: '{ builtin: feng-tu-valley, params: { l0: 1, g: 2, floor: 0.2 } }' });
    const [x, y] = [0.4, -0.3];
    const lam = Math.exp(2 * x);
    const f = (lam * y * y) / 2 + 0.2;
    expectClose(D(s.field, [x, y]), [f, 0, 0, f + 1], 1e-15);
    // (∂x f, ∂y (f + 1)) = (g λ y²/2, λ y)
    expectClose(divD(s.field, [x, y]), [(2 * lam * y * y) / 2, lam * y], 1e-14);
  });
});

/** Hessian of f by central differences (step 1e-4), written here: the model must match it. */
function fdHessian(f: (p: number[]) => number, p: number[], h = 1e-4): number[] {
  const d = p.length;
  const H = new Array<number>(d * d).fill(0);
  const at = (di: number, si: number, dj: number, sj: number): number => f(p.map((v, k) => v + (k === di ? si * h : 0) + (k === dj ? sj * h : 0)));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      H[i * d + j] = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * h * h);
    }
  }
  return H;
}

/** H₊ by the dense solver of solvers/dense.ts (not src/noise's Jacobi). */
function positivePartDense(H: number[], d: number): number[] {
  const rows = Array.from({ length: d }, (_, i) => H.slice(i * d, (i + 1) * d));
  const { values, vectors } = symmetricEigen(rows);
  const out = new Array<number>(d * d).fill(0);
  values.forEach((lam, k) => {
    if (lam <= 0) return;
    // vectors[k] is the k-th unit eigenvector.
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] += lam * vectors[k]![i]! * vectors[k]![j]!;
  });
  return out;
}

describe('hessian model', () => {
  // Non-convex: H has a negative eigenvalue where 3x² < 1 (and the cross term rotates the eigenvectors).
  const fExpr = '(x^2 - 1)^2/4 + y^2/2 + x*y/4 + 1';
  const f = ([x, y]: number[]): number => (x! ** 2 - 1) ** 2 / 4 + y! ** 2 / 2 + (x! * y!) / 4 + 1;

  it('D = (ησ/2)(f + ε)·H₊ against a finite-difference Hessian made PSD by another eigen-solver; ∇·D (Daleckii–Krein) against central differences', () => {
    const s = build('{ model: hessian, eta: 0.1, sigma: 4, eps: 0.05 }', { landscape: `{ expr: "${fExpr}" }`, bounds: '[[-2, 2], [-2, 2]]' });
    expect(s.isotropicReference).toEqual({ etaSigma: 0.4, eps: 0.05 });
    expect(s.divergence).toBe('symbolic');
    let sawIndefinite = false;
    for (const p of [[0.1, 0.3], [-0.4, -0.5], [1.3, 0.2], [-1.6, 0.8]]) {
      const H = fdHessian(f, p);
      if (H[0]! * H[3]! - H[1]! ** 2 < 0) sawIndefinite = true;
      const want = positivePartDense(H, 2).map((v) => 0.2 * (f(p) + 0.05) * v);
      expectClose(D(s.field, p), want, 1e-7);
      expectClose(divD(s.field, p), fdDivergence(s.field, p, 1e-4), 1e-6);
    }
    expect(sawIndefinite).toBe(true);
  });

  it('the batch evaluator the grid check uses gives evalD bit for bit; a negative f (scale loss) is refused by the PSD check', () => {
    const s = build('{ model: hessian, eta: 0.1, sigma: 4, eps: 0.05 }', { landscape: `{ expr: "${fExpr}" }`, bounds: '[[-2, 2], [-2, 2]]' });
    const many = (s.field as DiffusionField & { evalMany(c: readonly Float64Array[], o: readonly Float64Array[]): void }).evalMany.bind(s.field);
    const pts = [[0.1, 0.3], [-0.4, -0.5], [1.3, 0.2], [-1.6, 0.8]];
    const coords = [Float64Array.from(pts, (p) => p[0]!), Float64Array.from(pts, (p) => p[1]!)];
    const out = Array.from({ length: 4 }, () => new Float64Array(pts.length));
    many(coords, out);
    pts.forEach((p, q) => expect(out.map((o) => o[q]!)).toEqual(D(s.field, p)));
    expectInputError(() => build('{ model: hessian, eta: 0.1, sigma: 1 }', { landscape: '{ expr: "x^2 + y^2 - 0.5" }' }), { file: 's.yaml', field: 'noise.model', includes: ['not positive semi-definite'] });
  });

  it('1-D: D = (ησ/2)(f + ε)·max(f″, 0), with the kink where f″ changes sign', () => {
    const s = build('{ model: hessian, eta: 0.2, sigma: 1 }', { dim: 1, landscape: '{ expr: "(x^2 - 0.25)^2 + 0.1" }' });
    for (const x of [-0.9, -0.1, 0.2, 0.7]) {
      const f = (x * x - 0.25) ** 2 + 0.1;
      const f2 = 12 * x * x - 1;
      const f3 = 24 * x;
      expectClose(D(s.field, [x]), [0.1 * f * Math.max(f2, 0)], 1e-14);
      // d/dx (f·max(f″, 0)) = f′f″ + f f‴ where f″ > 0, and 0 where f″ < 0.
      const f1 = 4 * x * (x * x - 0.25);
      expectClose(divD(s.field, [x]), [f2 > 0 ? 0.1 * (f1 * f2 + f * f3) : 0], 1e-13, 1e-15);
    }
  });

  it('scale: constant drops the loss factor; 3-D', () => {
    const s = build('{ model: hessian, eta: 0.5, sigma: 2, scale: constant }', { dim: 3, landscape: '{ expr: "x^2*y^2 + y^2 + z^2 + x*z + x^4" }' });
    const f3 = ([x, y, z]: number[]): number => x! ** 2 * y! ** 2 + y! ** 2 + z! ** 2 + x! * z! + x! ** 4;
    for (const p of [[0.2, 0.6, -0.3], [-0.5, 0.1, 0.4]]) {
      expectClose(D(s.field, p), positivePartDense(fdHessian(f3, p), 3).map((v) => 0.5 * v), 1e-7);
      expectClose(divD(s.field, p), fdDivergence(s.field, p, 1e-4), 1e-6);
    }
  });
});

describe('low-rank model', () => {
  it('D = (ησ/2)(f + ε)·Σ u uᵀ with vector expressions; ∇·D by the product rule against central differences', () => {
    const s = build('{ model: low-rank, eta: 0.2, sigma: 5, eps: 0.1, vectors: [["1", "x"], ["c*y", 0.5]], params: { c: 0.3 } }');
    expect(s.isotropicReference).toEqual({ etaSigma: 1, eps: 0.1 });
    for (const [x, y] of POINTS_2D as [number, number][]) {
      const f = (x * x + 2 * y * y) / 2;
      const us = [[1, x], [0.3 * y, 0.5]];
      const want = [0, 1, 2, 3].map((q) => 0.5 * (f + 0.1) * us.reduce((a, u) => a + u[Math.floor(q / 2)]! * u[q % 2]!, 0));
      expectClose(D(s.field, [x, y]), want, 1e-15);
      expectClose(divD(s.field, [x, y]), fdDivergence(s.field, [x, y]), 1e-9);
    }
  });

  it('a single vector gives a rank-one D (its smallest eigenvalue is 0, accepted by the PSD check)', () => {
    const s = build('{ model: low-rank, eta: 0.1, sigma: 1, scale: constant, vectors: [["cos(x)", "sin(x)"]] }');
    const m = D(s.field, [0.3, 0.1]);
    expect(m[0]! * m[3]! - m[1]! * m[2]!).toBeCloseTo(0, 15);
    expect(m[0]! + m[3]!).toBeCloseTo(0.05, 15);
  });
});

describe('data model', () => {
  const landscape = '{ data: { model: neuron, teacher: { params: { v: 1.2, w: 0.8, b: -0.4 }, n: 60, seed: 3, noise: 0.3 }, grid: [w, b], fixed: { v: 1.2 } } }';
  const bounds = '[[-1, 2], [-2, 1]]';

  it('D = (η/2)·Σ/B with Σ the covariance of src/data/risk.ts; ∇·D (per-sample Hessians) against central differences; the isotropic reference is the from-data fit', () => {
    const loaded = scenario('{ model: data, eta: 0.1, batch: 4 }', { landscape, bounds });
    const grid = new Grid(loaded.scenario.domain.bounds, loaded.scenario.domain.cells);
    const s = buildDiffusion(loaded, grid);
    const { risk } = resolveDataLandscape(loaded.scenario.landscape as DataLandscapeSpec, 2);
    for (const p of [[0.5, -0.5], [1.5, 0.3], [-0.6, -1.2]]) {
      const cov = risk.gradientStats(p).cov;
      expectClose(D(s.field, p), Array.from(cov, (v) => (0.1 / 2 / 4) * v), 1e-15);
      expectClose(divD(s.field, p), fdDivergence(s.field, p, 1e-4), 1e-7);
    }
    const fitGrid = new Grid(loaded.scenario.domain.bounds, loaded.scenario.domain.cells.map((c) => Math.min(c, FIT_CELLS_PER_AXIS)));
    const fit = fitNoiseFromData(risk, fitGrid, 0.1, 4, 0);
    expect(s.isotropicReference?.etaSigma).toBeCloseTo(0.1 * fit.sigma, 15);
    // from-data fits σ as the mean over its grid of (tr Σ/(dB))/f, so that (ησ/2) f ≈ tr D/d: with the same
    // factor η/(2B), the mean of (tr D_data/d)/((η/2) f) over those cells is σ exactly.
    let sum = 0;
    for (let c = 0; c < fitGrid.size; c++) {
      const p = fitGrid.centre(c);
      sum += s.traceField(p) / 2 / (0.5 * 0.1 * risk.value(p));
    }
    expect(sum / fitGrid.size).toBeCloseTo(fit.sigma, 10);
  });

  it('hessian noise over a data landscape: the exact Hessian of the risk, ∇·D by central differences (no third derivatives), said so', () => {
    const loaded = scenario('{ model: hessian, eta: 0.1, sigma: 2, eps: 0.01 }', { landscape, bounds });
    const s = buildDiffusion(loaded, new Grid(loaded.scenario.domain.bounds, loaded.scenario.domain.cells));
    expect(s.divergence).toContain('central differences');
    const { risk } = resolveDataLandscape(loaded.scenario.landscape as DataLandscapeSpec, 2);
    for (const p of [[0.5, -0.5], [1.5, 0.3]]) {
      const H = [0, 1, 2, 3].map((q) => risk.hessianComponent(p, Math.floor(q / 2), q % 2));
      expectClose(D(s.field, p), positivePartDense(H, 2).map((v) => 0.1 * (risk.value(p) + 0.01) * v), 1e-12);
      expectClose(divD(s.field, p), fdDivergence(s.field, p, 1e-3), 1e-5);
    }
  });

  it('needs a data landscape; f in expressions over a data landscape is refused', () => {
    expectInputError(() => scenario('{ model: data, eta: 0.1, batch: 4 }'), { file: 's.yaml', field: 'noise.model', includes: ['needs a data landscape'] });
    expectInputError(() => scenario('{ model: matrix, D: [["f", 0], [0, 1]] }', { landscape, bounds }), { file: 's.yaml', field: 'noise.D.0.0', includes: ['model: data'] });
  });
});

describe('refusals: one line, exit 2, naming the field', () => {
  it('shape: not d×d, a short row, a short vector', () => {
    expectInputError(() => scenario('{ model: matrix, D: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }'), { file: 's.yaml', field: 'noise.D', includes: ['2×2', '3 rows'] });
    expectInputError(() => scenario('{ model: matrix, D: [[1, 0], [0]] }'), { file: 's.yaml', field: 'noise.D.1', includes: ['2 entries'] });
    expectInputError(() => scenario('{ model: low-rank, eta: 1, sigma: 1, vectors: [[1, 0], [1]] }'), { file: 's.yaml', field: 'noise.vectors.1' });
    expectInputError(() => scenario('{ model: matrix, D: [[1]] }'), { file: 's.yaml', field: 'noise.D' });
    expectInputError(() => scenario('{ model: matrix, D: [[true, 0], [0, 1]] }'), { file: 's.yaml', field: 'noise.D.0.0', includes: ['finite number or a non-empty expression'] });
    expectInputError(() => scenario('{ model: matrix, D: [[.inf, 0], [0, 1]] }'), { file: 's.yaml', field: 'noise.D.0.0', includes: ['(got Infinity)'] });
  });

  it('names: unknown names, unused or colliding params', () => {
    expectInputError(() => scenario('{ model: matrix, D: [[1, "q*x"], ["q*x", 1]] }'), { file: 's.yaml', field: 'noise.D.0.1', includes: ['q'] });
    expectInputError(() => scenario('{ model: matrix, D: [[1, 0], [0, 1]], params: { k: 2 } }'), { file: 's.yaml', field: 'noise.params.k', includes: ['not used'] });
    expectInputError(() => scenario('{ model: matrix, D: [["c", 0], [0, 1]], params: { c: 2 } }', { landscape: '{ expr: "c*x^2 + y^2", params: { c: 1 } }' }), {
      file: 's.yaml',
      field: 'noise.params.c',
      includes: ['param of the landscape'],
    });
    expectInputError(() => scenario('{ model: matrix, D: [["f", 0], [0, 1]], params: { f: 2 } }'), { file: 's.yaml', field: 'noise.params.f' });
    // The landscape's params are in scope without being redeclared.
    const s = build('{ model: matrix, D: [["c", 0], [0, "c*f"]] }', { landscape: '{ expr: "c*x^2 + y^2", params: { c: 3 } }' });
    expectClose(D(s.field, [0.5, 0.5]), [3, 0, 0, 3 * (0.75 + 0.25)], 1e-15);
  });

  it('symmetry at the cell centres: a non-symmetric matrix names D[j][i] and the cell; the same function written twice passes', () => {
    const msg = expectInputError(() => build('{ model: matrix, D: [[2, "x/10"], ["y/10", 2]] }'), { file: 's.yaml', field: 'noise.D.1.0', includes: ['symmetric', 'cell ('] });
    expect(msg).toMatch(/D\[0\]\[1\] = -?[0-9.e-]+ but D\[1\]\[0\] = -?[0-9.e-]+ at cell \(\d+, \d+\)/);
    expect(() => build('{ model: matrix, D: [[2, "x*y/10"], ["y*x/10", 2]] }')).not.toThrow();
  });

  it('PSD: a negative eigenvalue at one cell centre names that cell, its centre and the eigenvalue', () => {
    // On [0, 1]² with 10 cells, D₂₂ = |x − c|² − 0.001 with c the centre of cell (5, 5) is negative there only
    // (faces are ≥ 0.05 away, where it is ≥ 0.0015).
    const noise = '{ model: matrix, D: [[1, 0], [0, "(x - 0.55)^2 + (y - 0.55)^2 - 0.001"]] }';
    const msg = expectInputError(() => build(noise, { bounds: '[[0, 1], [0, 1]]', cells: '[10, 10]' }), { file: 's.yaml', field: 'noise.D', includes: ['not positive semi-definite', 'cell (5, 5)', 'x = (0.55, 0.55)', 'smallest eigenvalue -0.001 '] });
    expect(msg).not.toMatch(/NaN|Infinity/);
  });

  it('PSD: a face midpoint on a wall is checked too; a rank-one matrix passes', () => {
    expectInputError(() => build('{ model: matrix, D: [[1, 0], [0, "x - 0.01"]] }', { bounds: '[[0, 1], [0, 1]]', cells: '[10, 10]' }), {
      file: 's.yaml',
      field: 'noise.D',
      includes: ['lower wall of axis 0', 'x = (0, ', 'smallest eigenvalue -0.01 '],
    });
    expect(() => build('{ model: matrix, D: [["1 + x^2", "(1 + x^2)"], ["1 + x^2", "1+x^2"]] }')).not.toThrow();
  });

  it('non-finite and huge values: NaN/Inf named with the point; 1e300 entries neither overflow nor print NaN', () => {
    expectInputError(() => build('{ model: matrix, D: [["log(x) + 10", 0], [0, 1]] }', { bounds: '[[0, 1], [0, 1]]' }), { file: 's.yaml', field: 'noise.D', includes: ['D[0][0] is -Infinity', 'face of cell (0, '] });
    expect(() => build('{ model: matrix, D: [[1e300, 0], [0, 1e300]] }')).not.toThrow();
    const msg = expectInputError(() => build('{ model: matrix, D: [[1e300, 2e300], [2e300, 1e300]] }'), { file: 's.yaml', field: 'noise.D', includes: ['smallest eigenvalue -1.000000e+300', 'largest 3.000000e+300'] });
    expect(msg).not.toMatch(/NaN|Infinity/);
  });

  it('density stores keep a matrix model as flat attributes (numbers as numbers, matrices as JSON text)', () => {
    const { noise } = scenario('{ model: low-rank, eta: 0.1, sigma: 2, vectors: [["1", "x"]] }').scenario;
    const attrs = densityAttrs({ fpsolveVersion: 'v', status: 'ok', regime: 'converging', scenarioName: 't', scenario: {}, noise });
    expect(attrs).toMatchObject({ noise_model: 'low-rank', noise_eta: 0.1, noise_sigma: 2, noise_vectors: '[["1","x"]]' });
  });

  it('the reversible pipeline refuses a matrix model naming the command', () => {
    const { noise } = scenario('{ model: hessian, eta: 0.1, sigma: 1 }').scenario;
    expectInputError(() => reversibleNoise(noise, 's.yaml', 'gap'), { file: 's.yaml', field: 'noise.model', includes: ["the diffusion-matrix model 'hessian' is not supported by `fpsolve gap`"] });
    expect(reversibleNoise({ model: 'additive', D: 0.5 }, 's.yaml', 'gap')).toEqual({ model: 'additive', D: 0.5 });
  });
});
