/**
 * The points of a sweep: `--set path=values` axes (lists, comma lists, linspace, logspace),
 * combined as a Cartesian product or zipped, or read from a sweep file with the same content.
 *
 * A point is the base scenario plus one `path=value` override per axis; values are kept as JSON
 * values and written back as JSON (a subset of YAML), so a point's override round-trips exactly
 * through the scenario loader.
 */
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { clipText, InputError, showText } from '../errors.js';
import { MAX_SCENARIO_BYTES, parseOverride, SCENARIO_SHAPE, showValue } from '../scenario/load.js';
import { readLimitedText } from '../io/read-limited.js';

export type JsonValue = number | string | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export interface SweepAxis {
  /** Dotted scenario path, e.g. `noise.eta`. */
  path: string;
  values: JsonValue[];
}

export interface SweepPoint {
  /** Position in the whole sweep (0-based), independent of sharding. */
  index: number;
  /** Value of each swept path at this point. */
  params: Record<string, JsonValue>;
  /** `--set path=value` strings for `fpsolve run`. */
  overrides: string[];
}

/** Refuses sweeps that would take a lifetime by typo (e.g. linspace(0,1,1e9)). */
export const MAX_POINTS = 1_000_000;

const RANGE = /^(linspace|logspace)\s*\(([^()]*)\)$/;

function toJson(v: unknown, where: string): JsonValue {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new InputError(`${where}: values must be finite numbers (got ${String(v)})`);
    return v;
  }
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (Array.isArray(v)) return v.map((x) => toJson(x, where));
  if (typeof v === 'object') {
    const out: { [k: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toJson(x, where);
    return out;
  }
  throw new InputError(`${where}: unsupported value ${showValue(v)}`);
}

/** numpy.linspace(a, b, n) (endpoint included): a + i·(b − a)/(n − 1), with the last value exactly b. */
export function linspace(a: number, b: number, n: number): number[] {
  if (n === 1) return [a];
  const step = (b - a) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? b : a + i * step));
}

/** numpy.logspace(a, b, n): 10 ** linspace(a, b, n). */
export function logspace(a: number, b: number, n: number): number[] {
  return linspace(a, b, n).map((e) => 10 ** e);
}

function parseRange(kind: string, argText: string, where: string): number[] {
  const usage = `${kind}(a,b,n) needs finite numbers a, b and an integer n from 1 to ${MAX_POINTS}`;
  const args = argText.split(',').map((s) => s.trim());
  if (args.length !== 3 || args.some((s) => s === '')) throw new InputError(`${where}: ${usage} (got ${showText(`${kind}(${argText})`)})`);
  const [a, b, n] = args.map(Number) as [number, number, number];
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isInteger(n) || n < 1 || n > MAX_POINTS) {
    throw new InputError(`${where}: ${usage} (got ${showText(`${kind}(${argText})`)})`);
  }
  const values = kind === 'linspace' ? linspace(a, b, n) : logspace(a, b, n);
  if (values.some((v) => !Number.isFinite(v))) throw new InputError(`${where}: ${showText(`${kind}(${argText})`)} overflows the float64 range`);
  return values;
}

/**
 * The values of one axis: `[v1, v2]` (YAML list), `v1,v2,v3` (comma list, each parsed as YAML),
 * `linspace(a,b,n)` or `logspace(a,b,n)`. A single scalar is a one-value axis. To sweep a field
 * whose values are lists, use a list of lists: `domain.cells=[[200],[400]]`.
 */
export function parseValues(text: string, where: string): JsonValue[] {
  const t = text.trim();
  if (t === '') throw new InputError(`${where}: no values (expected e.g. [0.1,0.2], 1,2,4, linspace(0,1,5) or logspace(-2,0,9))`);
  const range = RANGE.exec(t);
  let values: JsonValue[];
  const call = /^([A-Za-z_]\w*)\s*\(/.exec(t);
  if (range) values = parseRange(range[1]!, range[2]!, where);
  else if (call) throw new InputError(`${where}: unknown value generator '${clipText(call[1]!)}' (allowed: linspace(a,b,n), logspace(a,b,n))`);
  else if (t.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = parseYaml(t);
    } catch (e) {
      throw new InputError(`${where}: the value list is not valid YAML (${(e as Error).message.split('\n')[0] ?? ''})`);
    }
    if (!Array.isArray(parsed)) throw new InputError(`${where}: expected a YAML list such as [0.1, 0.2] (got ${showValue(t)})`);
    values = parsed.map((v) => toJson(v, where));
  } else {
    values = t.split(',').map((part) => {
      const p = part.trim();
      if (p === '') throw new InputError(`${where}: empty entry in the comma list ${showText(t)}`);
      let v: unknown;
      try {
        v = parseYaml(p);
      } catch {
        v = p;
      }
      return toJson(v, where);
    });
  }
  if (values.length === 0) throw new InputError(`${where}: the value list is empty`);
  if (values.length > MAX_POINTS) throw new InputError(`${where}: ${values.length} values is more than ${MAX_POINTS}`);
  return values;
}

/** Checks a dotted scenario path with the scenario loader's own rules (field names, list indices). */
function checkPath(path: string, where: string): void {
  try {
    parseOverride(`${path}=0`);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${where}: bad scenario path ${showText(path)} (at most ${SCENARIO_SHAPE.maxDepth} segments, each a field name or list index, joined by '.', e.g. noise.eta)`);
    throw e;
  }
}

/** One `--set path=values` argument → an axis. */
export function parseSetArg(spec: string): SweepAxis {
  const eq = spec.indexOf('=');
  const where = `--set ${showText(spec)}`;
  if (eq <= 0) throw new InputError(`${where}: expected PATH=VALUES, e.g. noise.eta=logspace(-2,0,9) or noise.sigma=1,2,4`);
  const path = spec.slice(0, eq).trim();
  checkPath(path, where);
  return { path, values: parseValues(spec.slice(eq + 1), where) };
}

/**
 * All points, in a deterministic order: the product varies the last axis fastest (like nested
 * loops written in the order of the --set options); zip pairs the i-th values of every axis.
 */
export function buildPoints(axes: readonly SweepAxis[], zip: boolean): SweepPoint[] {
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.path)) throw new InputError(`--set: the path '${a.path}' is swept twice; give all its values in one --set`);
    seen.add(a.path);
  }
  const make = (index: number, pick: (axis: number) => number): SweepPoint => {
    const params: Record<string, JsonValue> = {};
    const overrides: string[] = [];
    axes.forEach((a, k) => {
      const v = a.values[pick(k)]!;
      params[a.path] = v;
      overrides.push(`${a.path}=${JSON.stringify(v)}`);
    });
    return { index, params, overrides };
  };
  if (axes.length === 0) return [make(0, () => 0)];
  if (zip) {
    const n = axes[0]!.values.length;
    const bad = axes.find((a) => a.values.length !== n);
    if (bad) {
      throw new InputError(`--zip: every --set needs the same number of values ('${axes[0]!.path}' has ${n}, '${bad.path}' has ${bad.values.length})`);
    }
    return Array.from({ length: n }, (_, i) => make(i, () => i));
  }
  const total = axes.reduce((p, a) => p * a.values.length, 1);
  if (total > MAX_POINTS) throw new InputError(`--set: the product has ${total} points, more than ${MAX_POINTS}`);
  const points: SweepPoint[] = [];
  for (let i = 0; i < total; i++) {
    // Mixed-radix digits of i, last axis fastest.
    const digits = new Array<number>(axes.length);
    let r = i;
    for (let k = axes.length - 1; k >= 0; k--) {
      const len = axes[k]!.values.length;
      digits[k] = r % len;
      r = Math.floor(r / len);
    }
    points.push(make(i, (k) => digits[k]!));
  }
  return points;
}

export interface SweepFile {
  /** Base scenario path, resolved against the sweep file's directory. */
  scenario: string;
  axes: SweepAxis[];
  zip: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when a parsed YAML document is a sweep file (has `scenario` and `set`) rather than a scenario. */
export function looksLikeSweepFile(doc: unknown): boolean {
  return isRecord(doc) && 'scenario' in doc && 'set' in doc && !('landscape' in doc);
}

/**
 * A sweep file: `scenario: <path>`, `set: { path: values }` (values as a YAML list, a number, or
 * a string in the --set forms) and optionally `zip: true`.
 */
export function parseSweepFile(doc: unknown, file: string): SweepFile {
  if (!isRecord(doc)) throw new InputError('a sweep file must be a mapping with fields scenario, set, zip', { file });
  const extra = Object.keys(doc).filter((k) => !['scenario', 'set', 'zip'].includes(k));
  if (extra.length) throw new InputError(`unknown field (allowed: scenario, set, zip)`, { file, field: extra[0] });
  const scenario = doc['scenario'];
  if (typeof scenario !== 'string' || scenario === '') throw new InputError('must be the path of the base scenario file', { file, field: 'scenario' });
  const zip = doc['zip'] ?? false;
  if (typeof zip !== 'boolean') throw new InputError(`must be true or false (got ${showValue(zip)})`, { file, field: 'zip' });
  const set = doc['set'];
  if (!isRecord(set)) throw new InputError('must be a mapping from scenario paths to values, e.g. { noise.eta: [0.1, 0.2] }', { file, field: 'set' });
  const axes = Object.entries(set).map(([path, v]): SweepAxis => {
    const where = `${file}: field 'set.${path}'`;
    checkPath(path, where);
    if (typeof v === 'string') return { path, values: parseValues(v, where) };
    if (Array.isArray(v)) {
      if (v.length === 0) throw new InputError(`${where}: the value list is empty`);
      return { path, values: v.map((x) => toJson(x, where)) };
    }
    return { path, values: [toJson(v, where)] };
  });
  return { scenario: resolve(dirname(file), scenario), axes, zip };
}

/** Reads a YAML document; returns undefined when it cannot be parsed (the scenario loader then gives the precise error). */
export function readYamlDoc(file: string): unknown {
  try {
    // Bounded like the scenario loader's read: a FIFO or /dev/zero must not block here first.
    return parseYaml(readLimitedText(file, { maxBytes: MAX_SCENARIO_BYTES, what: 'scenario' }));
  } catch {
    return undefined;
  }
}
