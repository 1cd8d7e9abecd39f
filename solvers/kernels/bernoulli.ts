/**
 * Bernoulli function B(z) = z / (e^z − 1), evaluated without cancellation or overflow:
 * B(0) = 1, B(z) → 0 for z → +∞ (e^−z decay), B(z) ≈ −z for z → −∞.
 */
export function bernoulli(z: number): number {
  const a = Math.abs(z);
  if (a < 1e-5) return 1 - z / 2 + (z * z) / 12;
  if (z > 745) return 0;
  return z / Math.expm1(z);
}

/** (z/2) / sinh(z/2) = sqrt(B(z) B(−z)): the symmetric face weight, even in z. */
export function symmetricWeight(z: number): number {
  const a = Math.abs(z) / 2;
  if (a < 1e-5) return 1 - (a * a) / 6;
  if (a > 745) return 0;
  return a / Math.sinh(a);
}
