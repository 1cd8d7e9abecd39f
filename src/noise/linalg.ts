/**
 * Small symmetric matrices (d ≤ 3, row-major Float64Array): eigen-decomposition by cyclic Jacobi,
 * the smallest eigenvalue, the positive part and the PSD square root. Per-point work in the noise
 * models and the Euler–Maruyama step, so nothing here allocates.
 *
 * Every routine scales the matrix by its largest entry first: entries near 1e300 would overflow
 * in the squares of the rotation formulas, and a PSD check that reports −Infinity for a matrix of
 * huge but finite entries would refuse a valid scenario with a meaningless number.
 */

const work = new Float64Array(9);

/**
 * Eigenvalues of the symmetric d×d matrix `m` into vals[0..d) (ascending) and, when `vecs` is
 * given, the eigenvectors as its columns (vecs[i·d + k] = component i of eigenvector k).
 * Non-finite entries give NaN eigenvalues.
 */
export function symEig(m: ArrayLike<number>, d: number, vals: Float64Array, vecs?: Float64Array): void {
  let scale = 0;
  for (let k = 0; k < d * d; k++) {
    const a = Math.abs(m[k]!);
    if (!(a <= scale)) scale = a; // NaN lands here too and propagates below
  }
  if (!Number.isFinite(scale)) {
    vals.fill(NaN, 0, d);
    if (vecs) vecs.fill(NaN, 0, d * d);
    return;
  }
  const a = work;
  const inv = scale > 0 ? 1 / scale : 1;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = 0.5 * (m[i * d + j]! + m[j * d + i]!) * inv;
  if (vecs) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) vecs[i * d + j] = i === j ? 1 : 0;
  for (let sweep = 0; sweep < 32 && d > 1; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! ** 2;
    // Entries are ≤ 1 after scaling: an off-diagonal mass below 1e-40 moves no eigenvalue by an ulp of the largest.
    if (off < 1e-40) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (apq === 0) continue;
        const theta = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!;
          const akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!;
          const aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        a[p * d + q] = 0;
        a[q * d + p] = 0;
        if (vecs) {
          for (let k = 0; k < d; k++) {
            const vkp = vecs[k * d + p]!;
            const vkq = vecs[k * d + q]!;
            vecs[k * d + p] = c * vkp - s * vkq;
            vecs[k * d + q] = s * vkp + c * vkq;
          }
        }
      }
    }
  }
  for (let k = 0; k < d; k++) vals[k] = a[k * d + k]! * scale;
  // Ascending order, carrying the eigenvectors along (d ≤ 3: insertion sort).
  for (let i = 1; i < d; i++) {
    for (let j = i; j > 0 && vals[j - 1]! > vals[j]!; j--) {
      const tv = vals[j]!;
      vals[j] = vals[j - 1]!;
      vals[j - 1] = tv;
      if (vecs) {
        for (let k = 0; k < d; k++) {
          const tw = vecs[k * d + j]!;
          vecs[k * d + j] = vecs[k * d + j - 1]!;
          vecs[k * d + j - 1] = tw;
        }
      }
    }
  }
}

const vals3 = new Float64Array(3);
const vecs3 = new Float64Array(9);

/**
 * out = Σ_k g(λ_k) v_k v_kᵀ for the symmetric d×d matrix m (out may alias m). With g = max(·, 0)
 * the positive part H₊, with g = sqrt(max(·, 0)) the PSD square root.
 */
export function spectralMap(m: ArrayLike<number>, d: number, g: (lambda: number) => number, out: Float64Array): void {
  symEig(m, d, vals3, vecs3);
  const gv = [g(vals3[0]!), d > 1 ? g(vals3[1]!) : 0, d > 2 ? g(vals3[2]!) : 0];
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += gv[k]! * vecs3[i * d + k]! * vecs3[j * d + k]!;
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  }
}

const positive = (l: number): number => (l > 0 ? l : 0);
const sqrtPositive = (l: number): number => (l > 0 ? Math.sqrt(l) : 0);

/**
 * Eigenvalues (λmin, λmax) of the symmetric 2×2 matrix [[a, b], [b, c]] in closed form, scaled by
 * the largest entry so that squares of entries near 1e300 do not overflow.
 */
export function eig2(a: number, b: number, c: number, out: Float64Array): void {
  const s = Math.max(Math.abs(a), Math.abs(b), Math.abs(c));
  if (!(s > 0) || !Number.isFinite(s)) {
    out[0] = out[1] = s === 0 ? 0 : NaN;
    return;
  }
  const as = a / s;
  const bs = b / s;
  const cs = c / s;
  const mid = 0.5 * (as + cs);
  const r = Math.hypot(0.5 * (as - cs), bs);
  out[0] = (mid - r) * s;
  out[1] = (mid + r) * s;
}

const ev2 = new Float64Array(2);

/** The PSD part H₊ = Σ max(λ_k, 0) v_k v_kᵀ. */
export function positivePart(m: ArrayLike<number>, d: number, out: Float64Array): void {
  if (d === 2) {
    // One positive and one negative eigenvalue: H₊ = λmax·P with P = (H − λmin I)/(λmax − λmin) the projector on λmax's eigenvector.
    const a = m[0]!;
    const b = 0.5 * (m[1]! + m[2]!);
    const c = m[3]!;
    eig2(a, b, c, ev2);
    const [lo, hi] = [ev2[0]!, ev2[1]!];
    if (lo >= 0) {
      out[0] = a;
      out[1] = out[2] = b;
      out[3] = c;
      return;
    }
    if (hi <= 0 || Number.isNaN(lo) || Number.isNaN(hi)) {
      out.fill(Number.isNaN(lo) || Number.isNaN(hi) ? NaN : 0, 0, 4);
      return;
    }
    const k = hi / (hi - lo);
    out[0] = k * (a - lo);
    out[1] = out[2] = k * b;
    out[3] = k * (c - lo);
    return;
  }
  spectralMap(m, d, positive, out);
}

/**
 * The symmetric square root of the positive part, B = Σ sqrt(max(λ_k, 0)) v_k v_kᵀ, so B Bᵀ = B² = m
 * for PSD m, whatever its rank (a Cholesky factor would need pivoting where m is singular).
 */
export function psdSqrt(m: ArrayLike<number>, d: number, out: Float64Array): void {
  if (d === 1) {
    out[0] = sqrtPositive(m[0]!);
    return;
  }
  if (d === 2) {
    // Closed form for a PSD 2×2 matrix: sqrt(M) = (M + √det·I)/√(tr + 2√det) (Cayley–Hamilton); the Euler–Maruyama step takes one per particle.
    const a = m[0]!;
    const b = 0.5 * (m[1]! + m[2]!);
    const c = m[3]!;
    const det = a * c - b * b;
    const tr = a + c;
    if (det >= 0 && tr >= 0 && Number.isFinite(det)) {
      const sd = Math.sqrt(det);
      const t = Math.sqrt(tr + 2 * sd);
      if (t === 0) out.fill(0, 0, 4);
      else {
        out[0] = (a + sd) / t;
        out[1] = out[2] = b / t;
        out[3] = (c + sd) / t;
      }
      return;
    }
  }
  spectralMap(m, d, sqrtPositive, out);
}
