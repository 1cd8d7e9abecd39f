/**
 * Dense LU with partial pivoting, row-major, for the coarsest multigrid level (a few hundred
 * unknowns) and small Hessenberg problems. A zero pivot is reported, not divided by.
 */
export class DenseLu {
  readonly n: number;
  private readonly lu: Float64Array;
  private readonly piv: Int32Array;
  /** Smallest |pivot| / largest |entry|: near 0 means (numerically) singular. */
  readonly pivotRatio: number;

  constructor(a: Float64Array, n: number) {
    if (a.length !== n * n) throw new RangeError(`DenseLu: ${a.length} entries for n = ${n}`);
    this.n = n;
    const lu = a.slice();
    const piv = new Int32Array(n);
    let amax = 0;
    for (let k = 0; k < n * n; k++) amax = Math.max(amax, Math.abs(lu[k]));
    let pmin = Infinity;
    for (let k = 0; k < n; k++) {
      let p = k;
      let best = Math.abs(lu[k * n + k]);
      for (let i = k + 1; i < n; i++) {
        const v = Math.abs(lu[i * n + k]);
        if (v > best) {
          best = v;
          p = i;
        }
      }
      piv[k] = p;
      if (p !== k) {
        for (let j = 0; j < n; j++) {
          const t = lu[k * n + j];
          lu[k * n + j] = lu[p * n + j];
          lu[p * n + j] = t;
        }
      }
      pmin = Math.min(pmin, best);
      const d = lu[k * n + k];
      if (d === 0) continue;
      for (let i = k + 1; i < n; i++) {
        const l = lu[i * n + k] / d;
        if (l === 0) continue;
        lu[i * n + k] = l;
        for (let j = k + 1; j < n; j++) lu[i * n + j] -= l * lu[k * n + j];
      }
    }
    this.lu = lu;
    this.piv = piv;
    this.pivotRatio = amax > 0 ? pmin / amax : 0;
  }

  /** x = A⁻¹ b (b and x may be the same array). A zero pivot leaves that component 0. */
  solve(b: ArrayLike<number>, x: Float64Array): void {
    const { n, lu, piv } = this;
    if (x !== b) for (let i = 0; i < n; i++) x[i] = b[i];
    for (let k = 0; k < n; k++) {
      const p = piv[k];
      if (p !== k) {
        const t = x[k];
        x[k] = x[p];
        x[p] = t;
      }
    }
    for (let i = 1; i < n; i++) {
      let s = x[i];
      for (let j = 0; j < i; j++) s -= lu[i * n + j] * x[j];
      x[i] = s;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i];
      for (let j = i + 1; j < n; j++) s -= lu[i * n + j] * x[j];
      const d = lu[i * n + i];
      x[i] = d === 0 ? 0 : s / d;
    }
  }
}
