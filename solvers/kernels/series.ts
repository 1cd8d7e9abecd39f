/**
 * Short series for z^a = exp(a ln z) with z ∈ (0, 1] close to 1, shared by the JavaScript and the
 * WebAssembly cell-average loops (solvers/quadrature.ts, solvers/kernels/wasm-module.ts) so that both
 * give the same bits. The set-up evaluates z^a at every Gauss node of every cell; through
 * Math.log and Math.exp (imports, for WebAssembly) that was most of its cost.
 *
 * ln z = 2u(1 + u²/3 + u⁴/5 + … + u¹²/13), u = (z − 1)/(z + 1): for |u| ≤ 0.05 the first omitted
 * term is below 1e-19 relative. e^d = Σ_{k ≤ 17} d^k/k!: for |d| ≤ 0.5 the remainder is below 1e-20.
 */
export const LOG_SERIES_U = 0.05;
export const LOG_COEFFS: readonly number[] = [1, 1 / 3, 1 / 5, 1 / 7, 1 / 9, 1 / 11, 1 / 13];
export const EXP_SERIES_D = 0.5;
export const EXP_COEFFS: readonly number[] = (() => {
  const c = [1];
  for (let k = 1; k <= 17; k++) c.push(c[k - 1] / k);
  return c;
})();

/**
 * Σ c_k x^k by Estrin's scheme: pairs c_{2j} + c_{2j+1}·x, then the same on the pairs with x², …
 * The WebAssembly kernel (solvers/kernels/wasm-module.ts, estrin) performs the same operations in the same
 * order. A tree instead of Horner's chain: the chain's latency, not its arithmetic, was the cost.
 */
export function estrin(x: number, coeffs: readonly number[]): number {
  let c = coeffs.slice();
  let p = x;
  while (c.length > 1) {
    const next: number[] = [];
    for (let j = 0; j < c.length; j += 2) next.push(j + 1 < c.length ? c[j] + c[j + 1] * p : c[j]);
    c = next;
    p = p * p;
  }
  return c[0];
}

/** z^a for z ∈ [0, 1] (NaN or 0 beyond, as the callers expect), a > 0. */
export function powUnit(z: number, a: number): number {
  const u = (z - 1) / (z + 1);
  if (u > -LOG_SERIES_U) {
    const d = a * (2 * u * estrin(u * u, LOG_COEFFS));
    return d > -EXP_SERIES_D ? estrin(d, EXP_COEFFS) : Math.exp(d);
  }
  return Math.exp(a * Math.log(z));
}
