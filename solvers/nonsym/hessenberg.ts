/**
 * Eigenvalues and eigenvectors of small real upper Hessenberg matrices (the Arnoldi projections
 * of solvers/nonsym/gap.ts, a few dozen rows): the Francis double-shift QR iteration (hqr of
 * EISPACK, as in Press et al., Numerical Recipes §11.6) for the values, complex inverse iteration
 * for the vectors.
 */

export interface ComplexPair {
  re: number;
  im: number;
}

function sign(a: number, b: number): number {
  return b >= 0 ? Math.abs(a) : -Math.abs(a);
}

/** All eigenvalues of the upper Hessenberg matrix h (rows; not modified). Complex ones come in conjugate pairs. */
export function hessenbergEigenvalues(h: readonly (readonly number[])[]): ComplexPair[] {
  const n = h.length;
  const a = h.map((r) => r.slice());
  const wr = new Array<number>(n).fill(0);
  const wi = new Array<number>(n).fill(0);
  let anorm = 0;
  for (let i = 0; i < n; i++) for (let j = Math.max(i - 1, 0); j < n; j++) anorm += Math.abs(a[i][j]);
  let nn = n - 1;
  let t = 0;
  let p = 0;
  let q = 0;
  let r = 0;
  let s = 0;
  let w = 0;
  let x = 0;
  let y = 0;
  let z = 0;
  while (nn >= 0) {
    let its = 0;
    let l: number;
    do {
      for (l = nn; l >= 1; l--) {
        s = Math.abs(a[l - 1][l - 1]) + Math.abs(a[l][l]);
        if (s === 0) s = anorm;
        if (Math.abs(a[l][l - 1]) + s === s) {
          a[l][l - 1] = 0;
          break;
        }
      }
      x = a[nn][nn];
      if (l === nn) {
        wr[nn] = x + t;
        wi[nn--] = 0;
      } else {
        y = a[nn - 1][nn - 1];
        w = a[nn][nn - 1] * a[nn - 1][nn];
        if (l === nn - 1) {
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + sign(z, p);
            wr[nn - 1] = wr[nn] = x + z;
            if (z) wr[nn] = x - w / z;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn - 1] = -(wi[nn] = z);
          }
          nn -= 2;
        } else {
          if (its === 60) throw new RangeError('hessenbergEigenvalues: no convergence in 60 QR iterations');
          if (its === 10 || its === 20 || its === 40) {
            t += x;
            for (let i = 0; i <= nn; i++) a[i][i] -= x;
            s = Math.abs(a[nn][nn - 1]) + Math.abs(a[nn - 1][nn - 2]);
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          ++its;
          let m: number;
          for (m = nn - 2; m >= l; m--) {
            z = a[m][m];
            r = x - z;
            s = y - z;
            p = (r * s - w) / a[m + 1][m] + a[m][m + 1];
            q = a[m + 1][m + 1] - z - r - s;
            r = a[m + 2][m + 1];
            s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m === l) break;
            const u = Math.abs(a[m][m - 1]) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(a[m - 1][m - 1]) + Math.abs(z) + Math.abs(a[m + 1][m + 1]));
            if (u + v === v) break;
          }
          for (let i = m + 2; i <= nn; i++) {
            a[i][i - 2] = 0;
            if (i !== m + 2) a[i][i - 3] = 0;
          }
          for (let k = m; k <= nn - 1; k++) {
            if (k !== m) {
              p = a[k][k - 1];
              q = a[k + 1][k - 1];
              r = 0;
              if (k !== nn - 1) r = a[k + 2][k - 1];
              if ((x = Math.abs(p) + Math.abs(q) + Math.abs(r)) !== 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            if ((s = sign(Math.sqrt(p * p + q * q + r * r), p)) !== 0) {
              if (k === m) {
                if (l !== m) a[k][k - 1] = -a[k][k - 1];
              } else a[k][k - 1] = -s * x;
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              for (let j = k; j <= nn; j++) {
                p = a[k][j] + q * a[k + 1][j];
                if (k !== nn - 1) {
                  p += r * a[k + 2][j];
                  a[k + 2][j] -= p * z;
                }
                a[k + 1][j] -= p * y;
                a[k][j] -= p * x;
              }
              const mmin = nn < k + 3 ? nn : k + 3;
              for (let i = l; i <= mmin; i++) {
                p = x * a[i][k] + y * a[i][k + 1];
                if (k !== nn - 1) {
                  p += z * a[i][k + 2];
                  a[i][k + 2] -= p * r;
                }
                a[i][k + 1] -= p * q;
                a[i][k] -= p;
              }
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  return wr.map((re, i) => ({ re, im: wi[i] }));
}

/**
 * A unit eigenvector (re, im parts) of the small matrix h for the eigenvalue θ, by inverse
 * iteration on h − θI in complex arithmetic (Gaussian elimination with partial pivoting; a zero
 * pivot is replaced by 1e-14·‖h‖, the usual inverse-iteration perturbation).
 */
export function eigenvector(h: readonly (readonly number[])[], theta: ComplexPair): { re: Float64Array; im: Float64Array } {
  const n = h.length;
  let norm = 0;
  for (const row of h) for (const v of row) norm = Math.max(norm, Math.abs(v));
  const ar = h.map((row, i) => row.map((v, j) => (i === j ? v - theta.re : v)));
  const ai = h.map((row, i) => row.map((_, j) => (i === j ? -theta.im : 0)));
  const perm = Array.from({ length: n }, (_, i) => i);
  const tiny = 1e-14 * Math.max(norm, 1e-300);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.hypot(ar[i][k], ai[i][k]) > Math.hypot(ar[p][k], ai[p][k])) p = i;
    [ar[k], ar[p]] = [ar[p], ar[k]];
    [ai[k], ai[p]] = [ai[p], ai[k]];
    [perm[k], perm[p]] = [perm[p], perm[k]];
    if (Math.hypot(ar[k][k], ai[k][k]) < tiny) {
      ar[k][k] = tiny;
      ai[k][k] = 0;
    }
    const dr = ar[k][k];
    const di = ai[k][k];
    const dd = dr * dr + di * di;
    for (let i = k + 1; i < n; i++) {
      // l = a[i][k] / a[k][k]
      const lr = (ar[i][k] * dr + ai[i][k] * di) / dd;
      const li = (ai[i][k] * dr - ar[i][k] * di) / dd;
      ar[i][k] = lr;
      ai[i][k] = li;
      for (let j = k + 1; j < n; j++) {
        ar[i][j] -= lr * ar[k][j] - li * ai[k][j];
        ai[i][j] -= lr * ai[k][j] + li * ar[k][j];
      }
    }
  }
  let xr = new Float64Array(n).fill(1);
  let xi = new Float64Array(n);
  for (let iter = 0; iter < 3; iter++) {
    // Solve L U x = P b.
    const br = Float64Array.from(perm, (pi) => xr[pi]);
    const bi = Float64Array.from(perm, (pi) => xi[pi]);
    for (let i = 1; i < n; i++) {
      for (let j = 0; j < i; j++) {
        br[i] -= ar[i][j] * br[j] - ai[i][j] * bi[j];
        bi[i] -= ar[i][j] * bi[j] + ai[i][j] * br[j];
      }
    }
    for (let i = n - 1; i >= 0; i--) {
      let sr = br[i];
      let si = bi[i];
      for (let j = i + 1; j < n; j++) {
        sr -= ar[i][j] * br[j] - ai[i][j] * bi[j];
        si -= ar[i][j] * bi[j] + ai[i][j] * br[j];
      }
      const dr = ar[i][i];
      const di = ai[i][i];
      const dd = dr * dr + di * di;
      br[i] = (sr * dr + si * di) / dd;
      bi[i] = (si * dr - sr * di) / dd;
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += br[i] * br[i] + bi[i] * bi[i];
    s = Math.sqrt(s);
    xr = br.map((v) => v / s);
    xi = bi.map((v) => v / s);
  }
  return { re: xr, im: xi };
}
