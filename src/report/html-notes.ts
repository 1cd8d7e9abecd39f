/**
 * The Notes of report.html: every warning, refusal, regime verdict and note that the console
 * summary (src/report/summary.ts) prints for the same report, read from the same report.json
 * fields, so that a reader of the HTML alone misses nothing the terminal said.
 */
import type { RunReport } from './types.js';

const RATE_NAMES = { chi: 'sqrt(χ²)', kl: 'KL', meanLoss: 'E[f]' } as const;

/** Plain-text notes, most serious first; the HTML escapes them. */
export function reportNotes(r: RunReport): string[] {
  const out: string[] = [];
  if (r.status !== 'ok') out.push(`run ${r.status.toUpperCase()}${r.error ? `: ${r.error}` : ''}`);
  // "undecided" is a verdict the reader must see, as much as "collapsing": π may not exist.
  if (r.regime !== 'converging') out.push(`regime "${r.regime}": ${r.regimeReason}`);
  for (const k of ['chi', 'kl', 'meanLoss'] as const) {
    if (r.rates[k] === null) out.push(`no rate for ${RATE_NAMES[k]}: ${r.rateRefusals?.[k] ?? 'too few points above round-off'}`);
  }
  const g = r.gap;
  if (g) {
    if (g.converged === false) out.push(`λ₁ NOT CONVERGED (${g.method}, ${g.iterations} iterations, residual ${g.residuals[0]?.toExponential(2) ?? '–'})`);
    if (g.label !== 'spectral gap') out.push(`λ₁ is a grid value, not a spectral gap of the SDE (${r.regime === 'converging' ? 'near a zero of f it converges slowly with h' : `regime "${r.regime}"`})`);
    if (g.doubt) out.push(`λ₁ IN DOUBT: ${g.doubt.replace(/^λ₁ is in doubt: /, '')}`);
    if (g.extrapolated?.identityChanged) out.push('λ₁ CHANGES IDENTITY between h and h/2: the extrapolated λ₁ is the least same-mode extrapolation');
    if (g.extrapolated && g.extrapolated.errorEstimate === null) out.push('Richardson: not second order near the zero of f; no error bound (a grid value)');
  }
  if (r.bounds?.muckenhoupt?.contains === false) out.push('λ₁ OUTSIDE the Muckenhoupt bracket');
  if (r.massRenormalization && r.massRenormalization.count > 0) {
    const m = r.massRenormalization;
    out.push(`${r.precision} backend: mass renormalized ${m.count} times (largest relative drift ${m.maxRelativeDrift.toExponential(2)} at report times, ${m.maxStepDrift.toExponential(2)} per step)`);
  }
  // The 'note:' lines of the console summary, in its order.
  out.push(...(r.gap?.notes ?? []), ...(r.bounds?.notes ?? []), ...(r.criticalLimit?.notes ?? []), ...r.notes);
  return out;
}
