/**
 * One line of results.jsonl: everything about a finished point, self-contained so shards merge
 * by concatenation and a line can be read without the sweep's other files.
 */
import { EXIT } from '../errors.js';
import type { ChildRunResult } from '../parallel/run-request.js';
import type { RateFit } from '../diagnostics/rates.js';
import type { JsonValue } from './points.js';
import { criticalSummary, type CriticalSummary } from '../estimators/critical-limit.js';

export interface RateSummary {
  value: number;
  window: [number, number];
}

/**
 * Why a point failed. `input` (the scenario loader or set-up refused it) and `numerical` (the run
 * ended in a NumericalFault or SolverFailure) repeat identically for the same key, so a rerun keeps
 * them; `timeout`, `crash` and `infrastructure` (exit 75: a kernel thread or device lost, memory
 * refused) may not, so a rerun tries those points again (and runSweep already retried the last two once).
 */
export type FailureKind = 'input' | 'numerical' | 'timeout' | 'crash' | 'infrastructure';

export interface SweepRecord {
  key: string;
  index: number;
  params: Record<string, JsonValue>;
  status: 'ok' | 'failed';
  error: string | null;
  errorKind: FailureKind | null;
  regime: string | null;
  rates: { chi: RateSummary | null; kl: RateSummary | null; meanLoss: RateSummary | null };
  gap: number | null;
  final: { l1: number; kl: number; chi2: number | null; meanLoss: number; massBelowDelta: number } | null;
  /** The run's criticalLimit, condensed (absent without zeros of f, or in records of older versions). */
  critical?: CriticalSummary;
  /** Final mass fraction per basin (by id, from 1) and mean position along each valley; absent in older records. */
  basins?: { mass: number[]; valleyMean: (number | null)[] } | null;
  /** A diffusion-matrix run's steady-state residual, entropy production, max |J| and gap μ₁ = re + i·im (docs/nonreversible.md); absent for scalar noise. */
  nonReversible?: NonrevSummary;
  /** Wall time of the point in its worker process. */
  wallSeconds: number;
  fpsolve: string;
  scenario: string;
}

/** Whether a rerun should keep this record rather than run its point again. */
export function isFinal(r: SweepRecord): boolean {
  return r.status === 'ok' || r.errorKind === 'input' || r.errorKind === 'numerical';
}

export interface NonrevSummary {
  steadyResidual: number | null;
  entropyProduction: number | null;
  currentMax: number | null;
  gapRe: number | null;
  gapIm: number | null;
}

/** The matrix run's numbers a sweep compares across points, read structurally (RunReport does not declare them). */
function nonrevSummary(r: unknown): NonrevSummary | undefined {
  const m = r as { kind?: unknown; steadyState?: { residual?: number }; nonReversible?: { entropyProduction?: number; currentMax?: number }; gap?: { re?: number; im?: number } | null };
  if (m.kind !== 'diffusion-matrix') return undefined;
  return {
    steadyResidual: m.steadyState?.residual ?? null,
    entropyProduction: m.nonReversible?.entropyProduction ?? null,
    currentMax: m.nonReversible?.currentMax ?? null,
    gapRe: m.gap?.re ?? null,
    gapIm: m.gap?.im ?? null,
  };
}

const rate = (f: RateFit | null | undefined): RateSummary | null => (f ? { value: f.value, window: [f.window[0], f.window[1]] } : null);

export interface PointIdentity {
  key: string;
  index: number;
  params: Record<string, JsonValue>;
  fpsolve: string;
  scenario: string;
}

export function failedRecord(id: PointIdentity, error: string, errorKind: FailureKind, wallSeconds: number): SweepRecord {
  return { ...id, status: 'failed', error, errorKind, regime: null, rates: { chi: null, kl: null, meanLoss: null }, gap: null, final: null, wallSeconds };
}

/**
 * The record of a child run, or null when the run was interrupted (by us or by a signal to the
 * whole job): such a point is not finished and a rerun must do it. `aborted`: the sweep is
 * stopping and killed its children.
 */
export function recordFromChild(id: PointIdentity, res: ChildRunResult, aborted: boolean): SweepRecord | null {
  if (!res.ok) {
    // 130/143: the child was interrupted (a signal to the whole job); null: killed outright, which
    // is our doing after an abort and a crash (e.g. the OOM killer) otherwise.
    if (res.exitCode === 130 || res.exitCode === 143 || (res.exitCode === null && aborted)) return null;
    const kind: FailureKind = res.exitCode === EXIT.badInput ? 'input' : res.exitCode === EXIT.numericalFault ? 'numerical' : res.exitCode === EXIT.infrastructure ? 'infrastructure' : 'crash';
    return failedRecord(id, kind === 'crash' ? crashLine(res.error) : firstLine(res.error), kind, res.wallSeconds);
  }
  const r = res.report;
  if (r.status === 'interrupted') return null;
  const f = r.final;
  const base = {
    ...id,
    regime: r.regime ?? null,
    rates: { chi: rate(r.rates.chi), kl: rate(r.rates.kl), meanLoss: rate(r.rates.meanLoss) },
    gap: r.gap?.value ?? null,
    final: { l1: f.l1, kl: f.kl, chi2: f.chi2, meanLoss: f.meanLoss, massBelowDelta: f.massBelowDelta },
    ...(r.criticalLimit ? { critical: criticalSummary(r.criticalLimit) } : {}),
    basins: r.basins ? { mass: r.basins.basins.map((b) => b.finalMass), valleyMean: r.basins.valleys.map((v) => v.finalMean ?? null) } : null,
    ...(nonrevSummary(r) ? { nonReversible: nonrevSummary(r) } : {}),
    wallSeconds: res.wallSeconds,
  };
  if (r.status === 'ok') return { ...base, status: 'ok', error: null, errorKind: null };
  const kind: FailureKind = r.status === 'incomplete' ? 'timeout' : r.failure?.kind === 'infrastructure' ? 'infrastructure' : 'numerical';
  return { ...base, status: 'failed', error: firstLine(r.error ?? `run ended with status ${r.status}`), errorKind: kind };
}

/**
 * Whether a point's result says nothing about the point, so that one more try is worth it: an
 * infrastructure failure (exit 75, or a report whose failure.kind is "infrastructure") or a worker
 * killed outright (by the OOM killer, say; not by our own abort). A numerical fault would repeat
 * bit for bit and is never retried; a timeout would only spend the budget again.
 */
export function isRetryable(res: ChildRunResult, aborted: boolean): boolean {
  if (aborted) return false;
  if (res.ok) return res.report.status === 'failed' && res.report.failure?.kind === 'infrastructure';
  return res.exitCode === EXIT.infrastructure || res.exitCode === null;
}

/** Node's uncaught-error output starts with a source location; the `XxxError: …` line says what happened. */
function crashLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim());
  return lines.find((l) => /^[A-Za-z]*Error\b/.test(l)) ?? firstLine(s);
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim() !== '') ?? s).trim();
}

/** Non-finite numbers become null: JSON has no NaN, and a line must parse everywhere. */
export function recordLine(r: SweepRecord): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A parsed line that has the fields a sweep relies on (other lines, e.g. from a foreign file, are ignored). */
export function isSweepRecord(v: unknown): v is SweepRecord {
  return isObj(v) && typeof v['key'] === 'string' && typeof v['index'] === 'number' && isObj(v['params']) && (v['status'] === 'ok' || v['status'] === 'failed');
}

/**
 * One record per key: a final record beats a retryable one, and a later line beats an earlier
 * one of the same kind. Returned in point order.
 */
export function dedupeRecords(records: readonly SweepRecord[]): SweepRecord[] {
  const byKey = new Map<string, SweepRecord>();
  for (const r of records) {
    const prev = byKey.get(r.key);
    if (prev === undefined || isFinal(r) || !isFinal(prev)) byKey.set(r.key, r);
  }
  return [...byKey.values()].sort((a, b) => a.index - b.index);
}
