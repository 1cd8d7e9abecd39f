/**
 * Noise from data: the map from the per-sample gradient covariance Σ(θ) to the multiplicative
 * model's σ (docs/landscapes.md, "Noise from data").
 *
 * Mini-batch SGD with B indices drawn with replacement and rate η has the diffusion approximation
 * dθ = −∇f dt + sqrt(η Σ(θ)/B) dW (t = kη). The PDE's multiplicative model has noise ησ(f + ε)·I,
 * so the closure is Σ(θ)/B ≈ σ (f(θ) + ε) I. We fit σ to the isotropic part tr Σ/(dB) in least
 * squares relative to f + ε (every cell counts alike, wherever f is large or small) and report how
 * well it fits, how anisotropic Σ is and whether it is low rank: the closure discards all of that.
 */
import { Grid } from '../../solvers/grid.js';
import { InputError } from '../errors.js';
import type { DomainSpec, FromDataNoiseSpec, LandscapeSpec, NoiseFromData, NoiseSpec } from '../scenario/types.js';
import { resolveDataLandscape } from './landscape.js';
import type { EmpiricalRisk } from './risk.js';
import { symmetricEigen } from '../../solvers/dense.js';

/** Cells per axis of the fit grid: the fit needs the shape of Σ over the box, not the solver's resolution. */
export const FIT_CELLS_PER_AXIS = 48;

/** Warn when the closure misfits tr Σ/(dB) by more than this relative RMS. */
export const MISFIT_WARNING = 0.25;
/** Warn when λmax/λmin of Σ exceeds this at the minimizer. */
export const ANISOTROPY_WARNING = 2;

/** Eigenvalues (descending) of a symmetric d×d matrix stored row-major (the solver's dense Jacobi). */
export function symmetricEigenvalues(m: Float64Array, d: number): number[] {
  const rows = Array.from({ length: d }, (_, i) => Array.from(m.subarray(i * d, (i + 1) * d)));
  return symmetricEigen(rows).values.sort((x, y) => y - x);
}

const median = (v: number[]): number => {
  const s = v.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : 0.5 * (s[m - 1]! + s[m]!);
};

const fmt = (v: number): string => (v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? String(+v.toPrecision(3)) : v.toExponential(2));

/** λmax/λmin, or Infinity when Σ is singular to round-off. */
function anisotropyOf(ev: number[]): number {
  const hi = ev[0]!;
  const lo = ev[ev.length - 1]!;
  if (!(hi > 0)) return 1;
  return lo > 1e-12 * hi ? hi / lo : Infinity;
}

function effectiveRank(cov: Float64Array, d: number): number {
  let tr = 0;
  let fro = 0;
  for (let k = 0; k < d; k++) tr += cov[k * d + k]!;
  for (let k = 0; k < d * d; k++) fro += cov[k]! ** 2;
  return fro > 0 ? (tr * tr) / fro : d;
}

/**
 * Fits σ on the cell centres of `grid` (a grid over the risk's params) and describes where the
 * isotropic multiplicative closure holds and where it fails.
 */
export function fitNoiseFromData(risk: EmpiricalRisk, grid: Grid, eta: number, batch: number, eps: number): NoiseFromData {
  const d = risk.dim;
  const ratios: number[] = [];
  const anis: number[] = [];
  const ranks: number[] = [];
  let best: { theta: number[]; f: number; cov: Float64Array } | undefined;
  for (let i = 0; i < grid.size; i++) {
    const theta = grid.centre(i);
    const { f, cov } = risk.gradientStats(theta);
    let tr = 0;
    for (let k = 0; k < d; k++) tr += cov[k * d + k]!;
    const fe = f + eps;
    if (fe > 0) ratios.push(tr / (d * batch) / fe);
    const ev = symmetricEigenvalues(cov, d);
    anis.push(anisotropyOf(ev));
    ranks.push(effectiveRank(cov, d));
    if (best === undefined || f < best.f) best = { theta, f, cov };
  }
  if (ratios.length === 0 || best === undefined) {
    throw new InputError('noise from data needs f + eps > 0 somewhere on the domain (the data are fit exactly everywhere?)', { field: 'noise.model' });
  }
  // argmin_σ Σ_c ((q_c − σ f_c)/f_c)² = mean_c(q_c/f_c); the residual is then the spread of the ratios.
  const sigma = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  const rel = sigma > 0 ? Math.sqrt(ratios.reduce((a, r) => a + (r / sigma - 1) ** 2, 0) / ratios.length) : Infinity;
  const evMin = symmetricEigenvalues(best.cov, d).map((v) => Math.max(v, 0) / batch);
  const trMin = evMin.reduce((a, b) => a + b, 0);
  const anisoMin = anisotropyOf(evMin);
  const rankMin = effectiveRank(best.cov, d);
  const localSigma = best.f + eps > 0 ? trMin / d / (best.f + eps) : NaN;
  const medAniso = median(anis);
  const medRank = median(ranks);

  const at = `θ = (${best.theta.map(fmt).join(', ')})`;
  const assumptions = [
    `mini-batch SGD draws its B = ${batch} sample indices with replacement, so the batch gradient is ∇f + ξ with Cov ξ = Σ(θ)/B, Σ the per-sample gradient covariance (population form, n = ${risk.n})`,
    `diffusion approximation (weak order 1 in η = ${eta}): SGD ≈ dθ = −∇f dt + sqrt(η Σ(θ)/B) dW with time t = k·η after k steps; good when η times the curvature is ≪ 1`,
    `isotropic multiplicative closure: Σ(θ)/B ≈ σ (f(θ) + ε) I with ε = ${eps}; σ = ${fmt(sigma)} fitted to tr Σ/(dB) over ${ratios.length} cells of a ${grid.n.join('×')} grid (least squares relative to f + ε; relative RMS misfit ${fmt(rel)}), so ησ = ${fmt(eta * sigma)}`,
    'only the params on the grid move; the fixed params stay fixed in the PDE and in SGD alike',
  ];
  const warnings: string[] = [];
  if (rel > MISFIT_WARNING) {
    warnings.push(
      `tr Σ/(dB) is not proportional to f + ε over the box: the ratio (tr Σ/(dB))/(f + ε) spreads by ${fmt(rel * 100)}% (relative RMS) around σ = ${fmt(sigma)}; ` +
        `at the grid minimum (${at}) it is ${fmt(localSigma)}. The PDE's noise is off by about that factor away from where the fit is good.`,
    );
  }
  if (d >= 2 && anisoMin > ANISOTROPY_WARNING) {
    warnings.push(
      `Σ is anisotropic at the grid minimum (${at}): eigenvalues of Σ/B ${evMin.map(fmt).join(', ')}, ratio λmax/λmin = ${Number.isFinite(anisoMin) ? fmt(anisoMin) : '∞'} ` +
        `(median over the box ${Number.isFinite(medAniso) ? fmt(medAniso) : '∞'}). The isotropic closure keeps the total noise tr Σ but spreads it evenly, so the PDE over-diffuses along the small eigenvector and under-diffuses along the large one.`,
    );
  }
  if (d >= 2 && rankMin < d - 0.5) {
    warnings.push(
      `Σ is (nearly) low rank at the grid minimum: effective rank (tr Σ)²/tr(Σ²) = ${fmt(rankMin)} of ${d} (median over the box ${fmt(medRank)}). ` +
        'SGD has (almost) no noise in the missing directions, where the PDE diffuses anyway: densities across them are too wide in the PDE.',
    );
  }
  return {
    eta,
    batch,
    eps,
    sigma,
    relativeRmsResidual: rel,
    cells: ratios.length,
    atMinimum: {
      theta: best.theta,
      f: best.f,
      eigenvalues: evMin,
      anisotropy: Number.isFinite(anisoMin) ? anisoMin : null,
      effectiveRank: rankMin,
      localSigma,
    },
    medianAnisotropy: Number.isFinite(medAniso) ? medAniso : null,
    medianEffectiveRank: medRank,
    assumptions,
    warnings,
  };
}

/**
 * The loader's entry point: `noise: { model: from-data, eta, batch, eps? }` → a multiplicative
 * NoiseSpec with the fitted σ, and the fit. Needs a data landscape.
 */
export function deriveNoiseFromData(
  landscape: LandscapeSpec,
  domain: DomainSpec,
  noise: FromDataNoiseSpec,
  file?: string,
): { noise: NoiseSpec; fromData: NoiseFromData } {
  if (!('data' in landscape)) {
    throw new InputError("model 'from-data' derives the noise from a dataset and needs a data landscape (landscape: { data: ... }) (got a landscape without data)", {
      file,
      field: 'noise.model',
    });
  }
  const dim = domain.bounds.length;
  const { risk } = resolveDataLandscape(landscape, dim, file);
  const grid = new Grid(domain.bounds, domain.cells.map((c) => Math.min(c, FIT_CELLS_PER_AXIS)));
  const eps = noise.eps ?? 0;
  let fit: NoiseFromData;
  try {
    fit = fitNoiseFromData(risk, grid, noise.eta, noise.batch, eps);
  } catch (e) {
    throw e instanceof InputError ? new InputError(e.message.replace(/^field '[^']*': /, ''), { file, field: 'noise.model' }) : e;
  }
  if (!(fit.sigma > 0) || !Number.isFinite(fit.sigma)) {
    throw new InputError(`the per-sample gradients do not vary on the domain (tr Σ = 0 everywhere), so there is no SGD noise to model (fitted σ = ${fit.sigma})`, {
      file,
      field: 'noise.model',
    });
  }
  return { noise: { model: 'multiplicative', eta: noise.eta, sigma: fit.sigma, eps }, fromData: fit };
}
