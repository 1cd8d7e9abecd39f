import type { BoundsReport, GapReport } from '../report/types.js';

const fmt = (v: number | null | undefined, p = 6): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toPrecision(p));

/** Text lines for a gap report (used by `gap` and by the `run` summary). */
export function formatGapLines(g: GapReport, opts: { allModes?: boolean } = {}): string[] {
  const lines: string[] = [];
  const nearZero = g.extrapolated?.secondOrder === false || g.notes.some((n) => n.startsWith('grid value: f has a zero'));
  const head =
    g.label === 'spectral gap'
      ? 'spectral gap λ₁'
      : nearZero
        ? 'grid value of λ₁ (converges slowly near the zero of f; the continuum λ₁ may be far lower)'
        : 'grid value of λ₁ (not a property of the SDE: collapsing regime)';
  // The accuracy shown is a bound (Demmel–Kahan in 1-D, Kato–Temple from residual and Ritz gap in
  // n-D); an unconverged solve has none worth printing beside its residual.
  const acc = g.converged === false ? 'NOT CONVERGED' : `error ≤ ${(g.relativeAccuracy * g.value).toExponential(1)} (relative ${g.relativeAccuracy.toExponential(1)})`;
  lines.push(`${head}: ${fmt(g.value, 10)}  (residual ${g.residuals[0]?.toExponential(2) ?? '–'}, ${acc})`);
  if (g.doubt) lines.push(`  λ₁ IN DOUBT: ${g.doubt.replace(/^λ₁ is in doubt: /, '')}`);
  lines.push(`  method: ${g.method}; ${g.iterations} iterations${g.innerIterations ? `, ${g.innerIterations} CG iterations` : ''}`);
  if (opts.allModes && g.modes.length > 1) {
    g.modes.forEach((v, j) => {
      const eb = g.errorBounds?.[j];
      lines.push(`  λ${j + 1} = ${fmt(v, 10)}   residual ${g.residuals[j].toExponential(2)}${eb !== undefined && g.converged !== false ? `, error ≤ ${eb.toExponential(1)}` : ''}`);
    });
  }
  if (g.extrapolated) {
    const e = g.extrapolated;
    const mode = e.mode ? ` (mode: ${e.mode})` : '';
    // Near a zero of f the difference of two grids is not an error bound: no ± there.
    const tail = e.errorEstimate === null ? '  (not second order near the zero of f; no error bound; a grid value)' : ` ± ${fmt(e.errorEstimate, 2)}`;
    lines.push(`  Richardson${mode}: λ(h) = ${fmt(e.coarse, 10)}, λ(h/2) = ${fmt(e.fine, 10)} → ${fmt(e.value, 10)}${tail}`);
    if (e.identityChanged) lines.push('  λ₁ CHANGES IDENTITY between h and h/2: the extrapolated λ₁ is the least same-mode extrapolation (see notes)');
  }
  if (g.rateRatio !== null) lines.push(`  rates.chi / λ₁ = ${fmt(g.rateRatio, 5)}`);
  return lines;
}

/** Text lines for the analytic bounds. */
export function formatBoundsLines(b: BoundsReport, lambda1: number | null): string[] {
  const lines: string[] = [];
  if (b.muckenhoupt) {
    const m = b.muckenhoupt;
    lines.push(`  Muckenhoupt: ${fmt(m.lower, 4)} ≤ λ₁ ≤ ${fmt(m.upper, 4)}  (B = ${fmt(m.B, 4)}${m.contains === false ? ', λ₁ OUTSIDE' : ''})`);
  }
  if (b.bakryEmery) lines.push(`  Bakry–Émery: λ₁ ≥ ${fmt(b.bakryEmery.lower, 6)} (continuous λ₁; min Hessian eigenvalue of f)`);
  if (b.kramers) {
    const k = b.kramers;
    lines.push(`  Kramers (${k.formula.split(':')[0]}): predicted λ₁ ≈ ${fmt(k.predictedGap, 5)}${k.ratioToComputed !== null ? `, predicted/computed = ${fmt(k.ratioToComputed, 4)}` : ''}`);
    k.barriers.forEach((r) => {
      const m = k.minima[r.from];
      const s = k.saddles[r.saddle];
      lines.push(
        `    from min (${m.x.map((v) => fmt(v, 4)).join(', ')}) f=${fmt(m.f, 4)} over saddle (${s.x.map((v) => fmt(v, 4)).join(', ')}) f=${fmt(s.f, 4)}: ` +
          `barrier ${fmt(r.barrier, 4)}, prefactor ${fmt(r.prefactor, 4)}, rate ${fmt(r.rate, 4)}`,
      );
    });
  }
  if (lines.length === 0 && lambda1 !== null) lines.push('  (no analytic estimate applies; see notes)');
  return ['bounds:', ...lines];
}
