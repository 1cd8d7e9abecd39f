/**
 * The quantities a baseline can pin: named paths into a run report (report.json of `fpsolve run`).
 * Names are the user's interface (docs/check.md), so they follow report.json's field names.
 */
import type { RunReport } from '../report/types.js';

export type Quantity =
  | { kind: 'rate'; name: string; rate: RateField }
  | { kind: 'final'; name: string; field: FinalField }
  | { kind: 'regime'; name: string }
  | { kind: 'gap'; name: string; mode: number | null }
  | { kind: 'critical'; name: string; field: CriticalTop }
  | { kind: 'criticalComponent'; name: string; component: number; field: CriticalField }
  | { kind: 'basin'; name: string; field: 'mass' | 'valleyMean'; index: number }
  | { kind: 'nonrev'; name: string; block: 'steadyState' | 'nonReversible' | 'gap'; field: string };

/** Quantities of a diffusion-matrix run (src/nonrev/, docs/nonreversible.md): block.field of its report.json. */
const NONREV_QUANTITIES: Record<string, { block: 'steadyState' | 'nonReversible' | 'gap'; field: string }> = {
  'steadyState.residual': { block: 'steadyState', field: 'residual' },
  'steadyState.balance': { block: 'steadyState', field: 'balance' },
  'nonReversible.entropyProduction': { block: 'nonReversible', field: 'entropyProduction' },
  'nonReversible.currentMax': { block: 'nonReversible', field: 'currentMax' },
  'nonReversible.currentL1': { block: 'nonReversible', field: 'currentL1' },
  'gap.re': { block: 'gap', field: 're' },
  'gap.im': { block: 'gap', field: 'im' },
};

const CRITICAL_TOP = ['maxDeviation', 'expectedDisagreement', 'threshold'] as const;
const CRITICAL_FIELDS = ['piMass', 'piFraction', 'predictedWeight'] as const;
export type CriticalTop = (typeof CRITICAL_TOP)[number];
export type CriticalField = (typeof CRITICAL_FIELDS)[number];

const RATES = ['chi', 'kl', 'meanLoss'] as const;
const FINALS = ['l1', 'kl', 'chi2', 'log10Chi2', 'meanLoss', 'massBelowDelta', 'mass', 'minDensity'] as const;
export type FinalField = (typeof FINALS)[number];
export type RateField = (typeof RATES)[number];

/** Every accepted spelling, for messages ("gap.modes[i]" stands for the indexed family). */
export const QUANTITY_NAMES: readonly string[] = [
  ...RATES.map((r) => `rates.${r}`),
  ...FINALS.map((f) => `final.${f}`),
  'regime',
  'gap',
  'gap.modes[i]',
  ...CRITICAL_TOP.map((f) => `criticalLimit.${f}`),
  ...CRITICAL_FIELDS.map((f) => `criticalLimit.components[i].${f}`),
  'basins.mass[k]',
  'basins.valleyMean[k]',
  ...Object.keys(NONREV_QUANTITIES),
];

const MODE = /^gap\.modes\[(0|[1-9][0-9]{0,3})\]$/;
const CRITICAL_COMPONENT = /^criticalLimit\.components\[(0|[1-9][0-9]{0,2})\]\.([A-Za-z]+)$/;
/** basins.mass[k]: final mass fraction of basin id k; basins.valleyMean[k]: final mean position along the k-th valley (both from 1). */
const BASIN = /^basins\.(mass|valleyMean)\[([1-9][0-9]{0,3})\]$/;

/** The quantity a name denotes, or undefined if it names none. */
export function parseQuantity(name: string): Quantity | undefined {
  if (name.startsWith('rates.')) {
    const r = name.slice('rates.'.length);
    return (RATES as readonly string[]).includes(r) ? { kind: 'rate', name, rate: r as RateField } : undefined;
  }
  if (name.startsWith('final.')) {
    const f = name.slice('final.'.length);
    return (FINALS as readonly string[]).includes(f) ? { kind: 'final', name, field: f as FinalField } : undefined;
  }
  if (name === 'regime') return { kind: 'regime', name };
  if (name === 'gap') return { kind: 'gap', name, mode: null };
  const m = MODE.exec(name);
  if (m) return { kind: 'gap', name, mode: Number(m[1]) };
  if (name.startsWith('criticalLimit.')) {
    const top = name.slice('criticalLimit.'.length);
    if ((CRITICAL_TOP as readonly string[]).includes(top)) return { kind: 'critical', name, field: top as CriticalTop };
    const c = CRITICAL_COMPONENT.exec(name);
    if (c && (CRITICAL_FIELDS as readonly string[]).includes(c[2])) return { kind: 'criticalComponent', name, component: Number(c[1]), field: c[2] as CriticalField };
  }
  const b = BASIN.exec(name);
  if (b) return { kind: 'basin', name, field: b[1] as 'mass' | 'valleyMean', index: Number(b[2]) };
  const nr = Object.hasOwn(NONREV_QUANTITIES, name) ? NONREV_QUANTITIES[name] : undefined;
  if (nr) return { kind: 'nonrev', name, ...nr };
  return undefined;
}

/** A quantity read off a report: its value, or why there is none (which fails the check). */
export type Extracted = { ok: true; value: number | string } | { ok: false; reason: string };

const missing = (reason: string): Extracted => ({ ok: false, reason });

function finiteOr(value: unknown, what: string): Extracted {
  if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value };
  // reportJson writes non-finite numbers as null, so null here means overflow or NaN in the run.
  return missing(`${what} is ${value === null || value === undefined ? 'null (not finite or not computed)' : String(value)}`);
}

export function extractQuantity(report: RunReport, q: Quantity): Extracted {
  switch (q.kind) {
    case 'rate': {
      const fit = report.rates?.[q.rate];
      if (!fit) {
        const why = report.rateRefusals?.[q.rate];
        return missing(`the run fitted no ${q.name} (${why ?? 'the series has too few usable points; run longer or report more often'})`);
      }
      return finiteOr(fit.value, q.name);
    }
    case 'final': {
      if (!report.final) return missing('the run report has no final point');
      return finiteOr(report.final[q.field], q.name);
    }
    case 'regime':
      return typeof report.regime === 'string' ? { ok: true, value: report.regime } : missing('the run report has no regime');
    case 'gap': {
      const gap = report.gap;
      if (gap === undefined) return missing("this run report has no gap (not computed: the case's runArgs hold --no-gap, or this fpsolve has no gap estimator)");
      if (gap === null) {
        const why = (report.notes ?? []).find((n) => n.startsWith('gap:'));
        return missing(`this run report has no gap (the estimator failed${why ? `: ${why.slice(4).trim()}` : ''})`);
      }
      if (q.mode === null) return finiteOr(gap.value, 'gap');
      const modes = Array.isArray(gap.modes) ? gap.modes : [];
      if (q.mode >= modes.length) {
        return missing(`${q.name} is λ${q.mode + 1}, but this run report holds ${modes.length} mode(s) (λ1..λ${modes.length})`);
      }
      return finiteOr(modes[q.mode], q.name);
    }
    case 'critical':
    case 'criticalComponent': {
      const c = report.criticalLimit;
      if (!c) return missing('this run report has no criticalLimit (f has no zero in the box, the noise is additive or has a floor, or this fpsolve predates it)');
      if (q.kind === 'critical') return finiteOr(c[q.field], q.name);
      const comps = Array.isArray(c.components) ? c.components : [];
      if (q.component >= comps.length) return missing(`${q.name}: this run report has ${comps.length} zero-set component(s) (indices 0..${comps.length - 1})`);
      const v = comps[q.component][q.field];
      if (v === null && q.field !== 'piMass') return missing(`${q.name} is null: ${comps[q.component].why}`);
      return finiteOr(v, q.name);
    }
    case 'basin': {
      const b = report.basins;
      if (!b) return missing('this run report has no basins (written by an fpsolve without them)');
      if (q.field === 'mass') {
        const basin = b.basins.find((x) => x.id === q.index);
        if (!basin) return missing(`${q.name}: this run has ${b.basins.length} reported basin(s) (ids 1..${b.basins.length})`);
        return finiteOr(basin.finalMass, q.name);
      }
      const v = b.valleys[q.index - 1];
      if (!v) return missing(`${q.name}: this run has ${b.valleys.length} valley(s) of minimizers`);
      if (v.note) return missing(`${q.name}: no position along the valley (${v.note})`);
      return finiteOr(v.finalMean, q.name);
    }
    case 'nonrev': {
      // A diffusion-matrix run's report (src/nonrev/types.ts MatrixRunReport) read structurally: RunReport does not declare these blocks.
      const block = (report as unknown as Record<string, unknown>)[q.block];
      if (block === undefined || block === null || typeof block !== 'object') {
        const matrix = (report as unknown as { kind?: unknown }).kind === 'diffusion-matrix';
        return missing(matrix ? `this run report has no ${q.block} (${q.block === 'gap' ? 'not computed: --no-gap, a stopped run, or the eigen-solver failed (see notes)' : 'not computed'})` : `${q.name} exists only for diffusion-matrix noise (docs/nonreversible.md); this run's noise is scalar`);
      }
      return finiteOr((block as Record<string, unknown>)[q.field], q.name);
    }
  }
}
