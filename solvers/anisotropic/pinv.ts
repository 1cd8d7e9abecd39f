/**
 * The split of a drift c into D G (in the range of a symmetric PSD matrix D, carried with the
 * diffusion by exponential fitting) and a remainder r = c − D G (carried by upwind fluxes), with
 * G = D⁺c where the pseudo-inverse keeps only eigenvalues ≥ cutoff·λ_max. The cut-off is what keeps
 * the fitted rates bounded: a drift component along an eigenvalue λ gives rates of order
 * |c|·√(w/λ) on the offsets, so near-singular directions are better served by upwinding than by
 * a potential difference of size 1/λ.
 */

const jacobiA = new Float64Array(9);
const jacobiV = new Float64Array(9);

/**
 * Eigen-decomposition of a symmetric d×d matrix (d ≤ 3) by cyclic Jacobi rotations: values into
 * lam[0..d), orthonormal vectors as the columns of vec (row-major d×d).
 */
export function symEig(dim: number, m: ArrayLike<number>, lam: Float64Array, vec: Float64Array): void {
  if (dim === 2) {
    eig2(m, lam, vec);
    return;
  }
  const a = jacobiA;
  const v = jacobiV;
  for (let i = 0; i < dim * dim; i++) {
    a[i] = m[i];
    v[i] = 0;
  }
  for (let i = 0; i < dim; i++) v[i * dim + i] = 1;
  for (let sweep = 0; sweep < 30; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < dim; p++) {
      diag += a[p * dim + p] * a[p * dim + p];
      for (let q = p + 1; q < dim; q++) off += a[p * dim + q] * a[p * dim + q];
    }
    if (off <= 1e-32 * diag || off === 0) break;
    for (let p = 0; p < dim; p++) {
      for (let q = p + 1; q < dim; q++) {
        const apq = a[p * dim + q];
        if (apq === 0) continue;
        const theta = (a[q * dim + q] - a[p * dim + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < dim; k++) {
          const akp = a[k * dim + p];
          const akq = a[k * dim + q];
          a[k * dim + p] = c * akp - s * akq;
          a[k * dim + q] = s * akp + c * akq;
        }
        for (let k = 0; k < dim; k++) {
          const apk = a[p * dim + k];
          const aqk = a[q * dim + k];
          a[p * dim + k] = c * apk - s * aqk;
          a[q * dim + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < dim; k++) {
          const vkp = v[k * dim + p];
          const vkq = v[k * dim + q];
          v[k * dim + p] = c * vkp - s * vkq;
          v[k * dim + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  for (let i = 0; i < dim; i++) lam[i] = a[i * dim + i];
  for (let i = 0; i < dim * dim; i++) vec[i] = v[i];
}

/** The 2×2 case in closed form: one Jacobi rotation, written out. */
function eig2(m: ArrayLike<number>, lam: Float64Array, vec: Float64Array): void {
  const a = m[0];
  const b = m[1];
  const c = m[3];
  if (b === 0) {
    lam[0] = a;
    lam[1] = c;
    vec[0] = 1;
    vec[1] = 0;
    vec[2] = 0;
    vec[3] = 1;
    return;
  }
  const theta = (c - a) / (2 * b);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const cs = 1 / Math.sqrt(t * t + 1);
  const sn = t * cs;
  lam[0] = a - t * b;
  lam[1] = c + t * b;
  // Columns are the eigenvectors: (cs, −sn) for lam[0], (sn, cs) for lam[1].
  vec[0] = cs;
  vec[1] = sn;
  vec[2] = -sn;
  vec[3] = cs;
}

const lamS = new Float64Array(3);
const vecS = new Float64Array(9);

/**
 * G = D⁺c (eigenvalues below cutoff·λ_max dropped) into g, r = c − D G into r. Returns whether r is
 * non-zero. D = 0 puts all of c into r.
 */
export function splitDrift(dim: number, d: ArrayLike<number>, c: ArrayLike<number>, cutoff: number, g: Float64Array, r: Float64Array): boolean {
  if (dim === 1) {
    if (d[0] > 0) {
      g[0] = c[0] / d[0];
      r[0] = 0;
      return false;
    }
    g[0] = 0;
    r[0] = c[0];
    return c[0] !== 0;
  }
  symEig(dim, d, lamS, vecS);
  let lmax = 0;
  for (let k = 0; k < dim; k++) if (lamS[k] > lmax) lmax = lamS[k];
  for (let k = 0; k < dim; k++) {
    g[k] = 0;
    r[k] = c[k];
  }
  for (let k = 0; k < dim; k++) {
    const lam = lamS[k];
    if (!(lam > 0) || lam < cutoff * lmax) continue;
    let vc = 0;
    for (let t = 0; t < dim; t++) vc += vecS[t * dim + k] * c[t];
    for (let t = 0; t < dim; t++) {
      g[t] += (vc / lam) * vecS[t * dim + k];
      r[t] -= vc * vecS[t * dim + k];
    }
  }
  // r is exactly 0 when every eigenvalue is kept; the subtraction above leaves rounding there.
  let kept = 0;
  for (let k = 0; k < dim; k++) if (lamS[k] > 0 && lamS[k] >= cutoff * lmax) kept++;
  if (kept === dim) {
    for (let k = 0; k < dim; k++) r[k] = 0;
    return false;
  }
  let any = false;
  for (let k = 0; k < dim; k++) if (r[k] !== 0) any = true;
  return any;
}
