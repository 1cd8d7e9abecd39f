/**
 * Error function pieces, to ~1e-14 absolute, without cancellation in the tails:
 * erf by its positive-term series for |x| < 3, erfc by Lentz's continued fraction beyond.
 */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

function erfSeries(x: number): number {
  // erf x = 2/√π e^{−x²} Σ_n 2^n x^{2n+1} / (1·3···(2n+1)): all terms positive
  let term = x;
  let s = x;
  const x2 = x * x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    s += term;
    if (term < 1e-17 * s) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * s;
}

function erfcContinuedFraction(x: number): number {
  // erfc x = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), x > 0, modified Lentz
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

export function erf(x: number): number {
  if (x < 0) return -erf(-x);
  if (x > 27) return 1; // erfc(27) < 1e-318: below float64
  return x < 3 ? erfSeries(x) : 1 - erfcContinuedFraction(x);
}

export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x > 27) return 0;
  return x < 3 ? 1 - erfSeries(x) : erfcContinuedFraction(x);
}

/** Standard normal probability of (a, b], accurate in both tails. */
export function normalInterval(a: number, b: number): number {
  const s = Math.SQRT1_2;
  if (a >= 0) return 0.5 * (erfc(a * s) - erfc(b * s));
  if (b <= 0) return 0.5 * (erfc(-b * s) - erfc(-a * s));
  return 0.5 * (erf(b * s) - erf(a * s));
}
