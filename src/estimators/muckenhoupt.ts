import type { FvOperator } from '../../solvers/operator.js';

/** The discrete Muckenhoupt bracket of a 1-D operator. */
export interface MuckenhouptBracket {
  lower: number;
  upper: number;
  B: number;
  /** Median cell centre of the discrete π. */
  median: number;
  /** Which side attains B. */
  side: 'left' | 'right';
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/**
 * 1/(4B) ≤ λ₁ ≤ 2/B for the discrete generator (oracles.md §6; Muckenhoupt's Hardy inequality,
 * discrete form: Miclo, "An example of application of discrete Hardy's inequalities", Markov
 * Process. Related Fields 1999). Written with the grid's own quantities, so the bracket is about
 * the discrete λ₁ exactly: μ_i = π_i|K| (normalized), τ_σ = fwd_σ μ_i the face conductance
 * (E(u) = Σ τ_σ (u_j − u_i)², K v = λ M v), m the median cell (μ(≤ m) ≥ ½ and μ(≥ m) ≥ ½),
 *   B₊ = max over faces x ≥ m of μ(cells > x) · Σ_{σ=m..x} 1/τ_σ,
 *   B₋ = max over faces x < m of μ(cells ≤ x) · Σ_{σ=x..m−1} 1/τ_σ,   B = max(B₊, B₋).
 * The lower bound is the Hardy inequality on each side of m (Var u ≤ Σ μ (u − u_m)²); the upper
 * bound is the Hardy extremal test function, which vanishes on a set of mass ≥ ½.
 * Everything is summed in logs: 1/τ spans hundreds of orders of magnitude.
 */
export function muckenhouptBracket(op: FvOperator): MuckenhouptBracket | null {
  const g = op.grid;
  if (g.dim !== 1 || g.size < 2) return null;
  const n = g.size;
  const psi = op.problem.psi;
  const fw = op.fwd[0];
  // log μ_i up to the common constant −log Z (it cancels in every product below).
  let logZ = -Infinity;
  for (let i = 0; i < n; i++) logZ = logAddExp(logZ, -psi[i]);
  let cum = 0;
  let m = n - 1;
  for (let i = 0; i < n; i++) {
    cum += Math.exp(-psi[i] - logZ);
    if (cum >= 0.5) {
      m = i;
      break;
    }
  }
  // log(1/τ_σ) + log Z for the face between σ and σ + 1.
  const logInvTau = (s: number): number => (fw[s] > 0 ? psi[s] - Math.log(fw[s]) : Infinity);
  // Right: tails μ(cells > x) from the top down.
  const logTailAbove = new Float64Array(n + 1).fill(-Infinity);
  for (let i = n - 1; i >= 0; i--) logTailAbove[i] = logAddExp(logTailAbove[i + 1], -psi[i]);
  let logBplus = -Infinity;
  let logR = -Infinity;
  for (let x = m; x < n - 1; x++) {
    logR = logAddExp(logR, logInvTau(x));
    logBplus = Math.max(logBplus, logTailAbove[x + 1] + logR);
  }
  let logBminus = -Infinity;
  logR = -Infinity;
  const logTailBelow = new Float64Array(n).fill(-Infinity);
  let acc = -Infinity;
  for (let i = 0; i < n; i++) {
    acc = logAddExp(acc, -psi[i]);
    logTailBelow[i] = acc;
  }
  for (let x = m - 1; x >= 0; x--) {
    logR = logAddExp(logR, logInvTau(x));
    logBminus = Math.max(logBminus, logTailBelow[x] + logR);
  }
  const logB = Math.max(logBplus, logBminus);
  if (!Number.isFinite(logB)) return null;
  const B = Math.exp(logB);
  return { lower: 1 / (4 * B), upper: 2 / B, B, median: g.lo[0] + (m + 0.5) * g.h[0], side: logBplus >= logBminus ? 'right' : 'left' };
}
