/**
 * Identity of a point: a hash of what decides its result (the resolved scenario after overrides,
 * fpsolve's version, and any extra `fpsolve run` arguments), so a rerun can tell finished points
 * from new ones however the sweep was spelled.
 */
import { createHash } from 'node:crypto';
import type { Scenario } from '../scenario/types.js';

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Key of a valid point. */
export function pointKey(scenario: Scenario, version: string, runArgs: readonly string[] = []): string {
  // runArgs only join the hash when present, so plain sweeps keep the key the design names.
  return sha256(canonicalJson(scenario) + '\n' + version + (runArgs.length ? '\n' + canonicalJson(runArgs) : ''));
}

/** Key of a point the scenario loader rejected: there is no resolved scenario, so hash its inputs. */
export function invalidPointKey(baseText: string, overrides: readonly string[], version: string): string {
  return sha256(canonicalJson({ invalid: sha256(baseText), overrides }) + '\n' + version);
}
