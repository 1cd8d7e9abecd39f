/**
 * Scenario files → validated Scenario. Scenario files are data: they are parsed as YAML/JSON,
 * checked against schema/scenario.schema.json and then semantically; nothing in them is ever
 * evaluated as JavaScript (landscape expressions go through src/landscape/expr.ts).
 *
 * Every failure is one InputError line, `<file>: field '<path>': <problem and what is allowed> (got <value>)`,
 * because users meet these messages in CI logs and sweeps, where one line per problem greps well.
 */
import { statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { pointerToPath, schemaPath, schemaValidator } from '../schema.js';
import { parseDocument, YAMLParseError } from 'yaml';
import { assertConfined } from '../io/confine.js';
import { clipText, escapeControls, fieldLabel, InputError, showText } from '../errors.js';
import { resolveLandscape } from '../landscape/builtins.js';
import { isMatrixNoise, type Bounds, type DiagnosticsSpec, type FromDataNoiseSpec, type InitialSpec, type LandscapeSpec, type LoadedScenario, type NoiseSpec, type Scenario, type TimeSpec } from './types.js';
import { deriveNoiseFromData } from '../data/noise.js';
import { checkMatrixNoiseSpec } from '../noise/index.js';
import { checkReportCount } from '../run/budget.js';
import { readLimitedText } from '../io/read-limited.js';
import { checkFlowNesting, checkJsonShape, checkYamlShape } from './shape.js';
import { clearOtherAlternatives, switchVariant } from './oneof.js';

export const INLINE_FILE = '<inline>';

/** Defaults filled in after validation (also stated as `default` in the schema). */
export const DEFAULTS = { integrator: 'auto', tolerance: 1e-6 } as const;

// ---------------------------------------------------------------------------------------------
// Value display

/** A value as it appears in a message: short, one line, strings quoted. */
export function showValue(v: unknown, max = 60): string {
  let s: string;
  if (v === undefined) s = 'nothing';
  else if (typeof v === 'number') s = String(v);
  else if (typeof v === 'string') s = JSON.stringify(v);
  else {
    try {
      s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return escapeControls(s.length <= max ? s : `${s.slice(0, max - 1)}…`);
}

const got = (v: unknown): string => ` (got ${showValue(v)})`;

// ---------------------------------------------------------------------------------------------
// Parsing

function lineColumnAt(text: string, pos: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, Math.min(pos, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, col: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

/**
 * A scenario is a few dozen entries (every list in the schema has at most 3 items); these bounds
 * are far above any valid file and keep parsing linear and shallow (docs/reliability.md).
 */
export const MAX_SCENARIO_BYTES = 256 * 1024;
export const SCENARIO_SHAPE = { maxEntries: 10_000, maxDepth: 64 } as const;

function parseJson(text: string, file: string): unknown {
  try {
    const value = JSON.parse(text) as unknown;
    checkJsonShape(text, SCENARIO_SHAPE, file);
    return value;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    // V8 says "... at position N" (Node 20) or "... (line L column C)" (newer); neither for some end-of-input errors.
    const lc = /line (\d+) column (\d+)/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    const where = lc
      ? { line: Number(lc[1]), col: Number(lc[2]) }
      : lineColumnAt(text, pos ? Number(pos[1]) : text.length);
    const reason = (msg.split('\n')[0] ?? '').replace(/\s*\(line \d+ column \d+\)/, '').replace(/( in JSON)? at position \d+.*$/, '')
      // Newer V8 quotes the text around the error ('Unexpected token 'r', "root:x:0:0"... is not valid JSON'): never echo file content.
      .replace(/,\s*".*$/, '');
    throw new InputError(`malformed JSON at line ${where.line}, column ${where.col}: ${reason}`, { file });
  }
}

/**
 * The last document parsed, by its text: a sweep's worker (and `sweep --in-process`) loads the same
 * file for every point, and the YAML parse was a tenth of a 1-D point's set-up. A hit returns a
 * copy, so overrides applied to one point never reach the next.
 */
let lastYaml: { text: string; value: unknown } | undefined;

function parseYamlText(text: string, file: string): unknown {
  if (lastYaml !== undefined && lastYaml.text === text) return structuredClone(lastYaml.value);
  const value = parseYamlTextOnce(text, file);
  lastYaml = { text, value: structuredClone(value) };
  return value;
}

function parseYamlTextOnce(text: string, file: string): unknown {
  checkFlowNesting(text, SCENARIO_SHAPE, file);
  // uniqueKeys off: the library's check is quadratic in the number of keys; checkYamlShape does it in linear time.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0] ?? lineColumnAt(text, err.pos[0]);
    // prettyErrors appends "at line L, column C:" and a source excerpt on further lines; we give the position ourselves.
    let reason = (err.message.split('\n')[0] ?? '').replace(/\s*at line \d+, column \d+:?\s*$/, '');
    if (err.code === 'MULTIPLE_DOCS') reason = 'a scenario file holds one YAML document (found a second ---)';
    throw new InputError(`malformed YAML at line ${pos.line}, column ${pos.col}: ${reason}`, { file });
  }
  checkYamlShape(doc, text, SCENARIO_SHAPE, file);
  try {
    // The alias cap stops "billion laughs" documents from expanding without bound.
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    throw new InputError(`malformed YAML: ${e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)}`, { file });
  }
}

function parseText(text: string, file: string): unknown {
  return extname(file).toLowerCase() === '.json' ? parseJson(text, file) : parseYamlText(text, file);
}

// ---------------------------------------------------------------------------------------------
// --set overrides

export type PathSegment = string | number;

export interface Override {
  /** The --set argument as given. */
  readonly spec: string;
  readonly path: readonly PathSegment[];
  readonly value: unknown;
}

const KEY_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const INDEX_SEGMENT = /^(0|[1-9][0-9]*)$/;
// Writing these would reach Object.prototype instead of the scenario.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function badSet(spec: string, why: string): never {
  throw new InputError(`malformed --set ${showText(spec)}: ${why}; expected PATH=VALUE, e.g. noise.eta=0.05 or domain.cells=[512,512]`);
}

/**
 * A plain decimal number, the form of every numeric sweep point's value: YAML's core schema reads
 * it with parseFloat, or parseInt for an integer (exact up to 20 digits; at most 16 here), which
 * give Number's value, so it skips the YAML parser (≈ 0.1 ms a value, three or more per sweep
 * point, and twice per point with --in-process: the sweep's key and the run).
 */
const PLAIN_NUMBER = /^-?(?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,30})?(?:[eE][-+]?[0-9]{1,3})?$/;

/** Values read by the YAML parser since the process started (plain numbers are not): tests count the saving. */
export const overrideYamlParses = { count: 0 };

/** Parse one `--set path=value` argument; the value is YAML (numbers, strings, [lists], {maps}). */
export function parseOverride(spec: string): Override {
  const eq = spec.indexOf('=');
  if (eq < 0) badSet(spec, "no '='");
  const pathText = spec.slice(0, eq).trim();
  const valueText = spec.slice(eq + 1).trim();
  if (pathText === '') badSet(spec, 'empty path');
  // Counted before splitting or building anything: a path of thousands of segments would nest the
  // scenario past the file limit (and overflow the stack where it is shown) and take quadratic time to apply.
  let segments = 1;
  for (let i = 0; i < pathText.length; i++) if (pathText.charCodeAt(i) === 46) segments++;
  if (segments > SCENARIO_SHAPE.maxDepth) badSet(spec, `the path has ${segments} segments, at most ${SCENARIO_SHAPE.maxDepth} (the nesting limit of a scenario file)`);
  const path: PathSegment[] = [];
  for (const seg of pathText.split('.')) {
    if (INDEX_SEGMENT.test(seg)) path.push(Number(seg));
    else if (KEY_SEGMENT.test(seg) && !FORBIDDEN_KEYS.has(seg)) path.push(seg);
    else badSet(spec, `bad path segment ${showText(seg)} (segments are field names or list indices, joined by '.')`);
  }
  if (typeof path[0] === 'number') badSet(spec, 'the path must start with a field name');
  if (valueText === '') badSet(spec, 'empty value');
  if (PLAIN_NUMBER.test(valueText)) return { spec, path, value: Number(valueText) };
  overrideYamlParses.count++;
  let value: unknown;
  try {
    // Same bounds as a scenario file (a value can be a mapping of thousands of keys); uniqueKeys is checked by checkYamlShape in linear time.
    checkFlowNesting(valueText, SCENARIO_SHAPE, '--set');
    // logLevel: a tag like !!js/function would otherwise print a multi-line Node warning; it resolves to plain data either way.
    const doc = parseDocument(valueText, { uniqueKeys: false, logLevel: 'error' });
    if (doc.errors[0]) throw doc.errors[0];
    checkYamlShape(doc, valueText, SCENARIO_SHAPE, '--set');
    value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    const reason = err instanceof YAMLParseError ? (err.message.split('\n')[0] ?? '') : err instanceof InputError ? err.message.replace(/^--set: /, '') : ((err as Error | undefined)?.message ?? String(err)); // the message, not "ReferenceError: …" (an unknown alias *x)
    badSet(spec, `the value is not valid YAML (${reason.replace(/\s*at line \d+, column \d+:?\s*$/, '')})`);
  }
  return { spec, path, value };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const dotted = (path: readonly PathSegment[]): string => path.join('.');

/**
 * Apply parsed overrides to a raw (unvalidated) scenario object, in order. Mutates `raw`. A path
 * naming a field of another alternative of a one-of block (initial, landscape, landscape.data)
 * replaces that alternative's fields instead of merging into them, and so does a new noise.model
 * for the fields the new model does not take (oneof.ts).
 */
export function applyOverrides(raw: Record<string, unknown>, overrides: readonly Override[]): void {
  for (const { spec, path, value } of overrides) {
    let cur: Record<string, unknown> | unknown[] = raw;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      const here = dotted(path.slice(0, i)) || 'the scenario';
      let next: unknown;
      if (Array.isArray(cur)) {
        if (typeof seg !== 'number') badSet(spec, `'${here}' is a list; use an index, e.g. ${here}.0`);
        if (seg > cur.length) badSet(spec, `index ${seg} is past the end of '${here}' (length ${cur.length})`);
        if (last) {
          cur[seg] = value;
          break;
        }
        next = cur[seg];
        if (next === undefined) cur[seg] = next = typeof path[i + 1] === 'number' ? [] : {};
      } else {
        const key = String(seg);
        clearOtherAlternatives(cur, path.slice(0, i), key, spec);
        if (last) {
          switchVariant(cur, path.slice(0, i), key, value);
          cur[key] = value;
          break;
        }
        next = Object.hasOwn(cur, key) ? cur[key] : undefined;
        if (next === undefined || next === null) cur[key] = next = typeof path[i + 1] === 'number' ? [] : {};
      }
      if (!Array.isArray(next) && !isRecord(next)) {
        badSet(spec, `'${dotted(path.slice(0, i + 1))}' is ${showValue(next)}, not a mapping or list`);
      }
      cur = next;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Schema validation and the translation of ajv errors into one-line messages

/** The scenario JSON Schema, as shipped in schema/scenario.schema.json. */
export function scenarioSchemaPath(): string {
  return schemaPath('scenario');
}

// strictRequired off: the landscape oneOf branches name properties declared one level up, which is standard JSON Schema.
const getValidator = (): ValidateFunction => schemaValidator('scenario');

/** Unions whose branch errors mean little on their own: say what shapes are allowed instead. */
const UNION_MESSAGES: Readonly<Record<string, string>> = {
  landscape: 'must be { expr, params } or { builtin, params } (or { data } for a data landscape; exactly one of expr, builtin, data)',
  noise: 'must be { model: multiplicative, eta, sigma, eps? }, { model: additive, D }, { model: from-data, eta, batch, eps? }, { model: matrix, D, params? }, { model: hessian, eta, sigma, eps?, scale? }, { model: low-rank, eta, sigma, eps?, scale?, vectors, params? } or { model: data, eta, batch }',
  'landscape.data': 'must be a mapping { model, grid, fixed?, ... } with exactly one of file (a CSV dataset) and teacher (generated data)',
  initial: 'must be exactly one of { gaussian: { mean, std } }, { uniform: {} }, { uniform: { bounds } }, { file }',
};

/** Patterns are unreadable in messages; say what they mean. */
const PATTERN_MESSAGES: Readonly<Record<string, string>> = {
  name: "may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit",
};

function firstSentence(description: unknown): string | undefined {
  if (typeof description !== 'string') return undefined;
  // First sentence without a trailing parenthetical aside, so it reads inside a message.
  const s = description.split(/(?<=[.:])\s/)[0]!.replace(/[.:]$/, '').replace(/\s*\([^()]*\)$/, '');
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** Edit distance counting an adjacent transposition as one edit (typos like "nosie"). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function didYouMean(name: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(name.toLowerCase(), c.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? `; did you mean '${best}'?` : '';
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  number: 'a finite number',
  integer: 'an integer',
  string: 'a string',
  array: 'a list',
  object: 'a mapping',
  boolean: 'true or false',
};

interface Problem {
  field: string;
  message: string;
}

type SchemaLike = Record<string, unknown>;
const schemaOf = (v: unknown): SchemaLike => (isRecord(v) ? v : {});

function describeAjvError(e: ErrorObject): Problem {
  const path = pointerToPath(e.instancePath);
  const field = path.join('.');
  const parent = schemaOf(e.parentSchema);
  const hint = firstSentence(parent['description']);
  const withHint = (msg: string): string => (hint && !msg.includes(hint) ? `${msg}: ${hint}` : msg);
  const params = e.params as Record<string, unknown>;
  if (Object.hasOwn(UNION_MESSAGES, field) && ['oneOf', 'minProperties', 'maxProperties', 'type'].includes(e.keyword)) {
    return { field, message: `${UNION_MESSAGES[field]}${got(e.data)}` };
  }
  if (e.keyword === 'oneOf' && /^noise\.(D|vectors)\.\d+\.\d+$/.test(field)) {
    return { field, message: `must be a finite number or a non-empty expression in x, y, z, f (the loss) and params (at most 10000 characters)${got(e.data)}` };
  }
  switch (e.keyword) {
    case 'required': {
      const missing = String(params['missingProperty']);
      const sub = schemaOf(schemaOf(parent['properties'])[missing]);
      const what = firstSentence(sub['description']);
      return { field: [...path, missing].join('.'), message: `required field is missing${what ? ` (${what})` : ''}` };
    }
    case 'additionalProperties': {
      const extra = String(params['additionalProperty']);
      const allowed = Object.keys(schemaOf(parent['properties']));
      return {
        field: [...path, shownKey(extra)].join('.'),
        message: `unknown field (allowed here: ${allowed.join(', ')})${didYouMean(extra, allowed)}`,
      };
    }
    case 'type':
      return { field, message: `${withHint(`must be ${TYPE_NAMES[String(params['type'])] ?? String(params['type'])}`)}${got(e.data)}` };
    case 'exclusiveMinimum':
    case 'minimum':
    case 'exclusiveMaximum':
    case 'maximum': {
      const op = { exclusiveMinimum: '>', minimum: '>=', exclusiveMaximum: '<', maximum: '<=' }[e.keyword];
      // Name the whole allowed range when the schema has both ends, e.g. tolerance in (0, 0.1].
      const lo = parent['exclusiveMinimum'] !== undefined ? `> ${String(parent['exclusiveMinimum'])}` : parent['minimum'] !== undefined ? `>= ${String(parent['minimum'])}` : undefined;
      const hi = parent['exclusiveMaximum'] !== undefined ? `< ${String(parent['exclusiveMaximum'])}` : parent['maximum'] !== undefined ? `<= ${String(parent['maximum'])}` : undefined;
      const range = lo && hi ? `${lo} and ${hi}` : `${op} ${String(params['limit'])}`;
      const kind = parent['type'] === 'integer' ? 'an integer' : 'a number';
      return { field, message: `must be ${kind} ${range}${got(e.data)}` };
    }
    case 'minItems':
    case 'maxItems': {
      const min = parent['minItems'];
      const max = parent['maxItems'];
      const count =
        min !== undefined && max !== undefined
          ? min === max ? `exactly ${String(min)}` : `${String(min)} to ${String(max)}`
          : e.keyword === 'minItems' ? `at least ${String(min)}` : `at most ${String(max)}`;
      const len = Array.isArray(e.data) ? e.data.length : 0;
      return { field, message: `must have ${count} entries, not ${len}${hint ? ` (${hint})` : ''}${got(e.data)}` };
    }
    case 'enum':
      return { field, message: `must be one of ${(params['allowedValues'] as unknown[]).map(String).join(', ')}${got(e.data)}` };
    case 'const':
      return { field, message: `must be ${String(params['allowedValue'])}${got(e.data)}` };
    case 'minLength':
      return { field, message: `${params['limit'] === 1 ? 'must not be empty' : `must have at least ${String(params['limit'])} characters`}${got(e.data)}` };
    case 'maxLength':
      return { field, message: `must have at most ${String(params['limit'])} characters${got(e.data)}` };
    case 'propertyNames': {
      const name = String(params['propertyName']);
      return { field: [...path, name].join('.'), message: `names must start with a letter and contain only letters, digits and _${got(name)}` };
    }
    case 'pattern':
      return { field, message: `${PATTERN_MESSAGES[field] ?? withHint(`must match ${String(params['pattern'])}`)}${got(e.data)}` };
    case 'oneOf':
    case 'minProperties':
    case 'maxProperties':
      return { field, message: `${withHint(e.message ?? 'is not allowed')}${got(e.data)}` };
    default:
      return { field, message: `${e.message ?? 'is not allowed'}${got(e.data)}` };
  }
}

/** The one error to report: the most telling of ajv's list. */
function pickAjvError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  // `if` errors only say "must match then"; the then-branch's own errors are in the list. Errors
  // from inside a oneOf branch are summarized by the oneOf error itself, and those inside
  // propertyNames by the propertyNames error (which names the offending key).
  const useful = errors.filter((e) => e.keyword !== 'if' && !/\/(oneOf\/\d+|propertyNames)\//.test(e.schemaPath));
  const first = useful[0];
  if (first === undefined) return errors[0];
  // A typo both adds an unknown field and leaves a required one missing: the typo is the cause.
  if (first.keyword === 'required') {
    const typo = useful.find((e) => e.keyword === 'additionalProperties' && e.instancePath === first.instancePath);
    if (typo) return typo;
  }
  return first;
}

// ---------------------------------------------------------------------------------------------
// Semantic checks (what JSON Schema cannot say)

type RawScenario = Omit<Scenario, 'time' | 'diagnostics' | 'noise' | 'noiseFromData'> & {
  noise: NoiseSpec | FromDataNoiseSpec;
  time: Omit<TimeSpec, 'integrator' | 'tolerance'> & Partial<Pick<TimeSpec, 'integrator' | 'tolerance'>>;
  diagnostics?: DiagnosticsSpec;
};

function checkSemantics(s: RawScenario, file: string, baseDir: string): void {
  const fail = (field: string, message: string): never => {
    throw new InputError(message, { file, field });
  };
  const { bounds, cells } = s.domain;
  const dim = bounds.length;
  bounds.forEach(([lo, hi], i) => {
    if (!(lo < hi)) fail(`domain.bounds.${i}`, `must be [lo, hi] with lo < hi${got([lo, hi])}`);
  });
  if (cells.length !== dim) {
    fail('domain.cells', `must have one entry per axis: domain.bounds has ${dim} ${dim === 1 ? 'axis' : 'axes'}${got(cells)}`);
  }

  const init: InitialSpec = s.initial;
  if ('gaussian' in init) {
    const { mean, std } = init.gaussian;
    if (mean.length !== dim) fail('initial.gaussian.mean', `must have one entry per axis (${dim})${got(mean)}`);
    if (std.length !== dim) fail('initial.gaussian.std', `must have one entry per axis (${dim})${got(std)}`);
    mean.forEach((m, i) => {
      const [lo, hi] = bounds[i]!;
      if (m < lo || m > hi) fail(`initial.gaussian.mean.${i}`, `must lie inside the domain [${lo}, ${hi}]${got(m)}`);
    });
  } else if ('uniform' in init) {
    const ub: Bounds[] | undefined = init.uniform.bounds;
    if (ub !== undefined) {
      if (ub.length !== dim) fail('initial.uniform.bounds', `must have one [lo, hi] pair per axis (${dim})${got(ub)}`);
      ub.forEach(([lo, hi], i) => {
        const [dlo, dhi] = bounds[i]!;
        if (!(lo < hi)) fail(`initial.uniform.bounds.${i}`, `must be [lo, hi] with lo < hi${got([lo, hi])}`);
        if (lo < dlo || hi > dhi) fail(`initial.uniform.bounds.${i}`, `must lie inside the domain [${dlo}, ${dhi}]${got([lo, hi])}`);
      });
    }
  } else {
    const path = resolve(baseDir, init.file);
    assertConfined(path, { file, field: 'initial.file' });
    let isFile = false;
    try {
      isFile = statSync(path).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) fail('initial.file', `no such file ${path} (or not a regular file; relative paths are resolved against the scenario file's directory)${got(init.file)}`);
  }

  if (s.time.reportEvery > s.time.end) fail('time.reportEvery', `must be <= time.end (${s.time.end})${got(s.time.reportEvery)}`);
  checkReportCount(s.time, file);

  resolveLandscape(s.landscape, dim, file);
}

// ---------------------------------------------------------------------------------------------
// Is this a scenario at all?

/** Top-level fields of schema/scenario.schema.json (a test keeps the two in step). */
export const SCENARIO_TOP_LEVEL_FIELDS: readonly string[] = ['name', 'description', 'landscape', 'domain', 'noise', 'initial', 'time', 'diagnostics'];

/**
 * Refuses a mapping that is not a scenario before any message could quote it. A wrong path (or a
 * baselines case pointing at /proc/self/status or a config file) would otherwise get "unknown
 * field 'API_KEY'": the file's own text. Decided on the file alone, before overrides, so that a
 * case's `set:` cannot dress another file up as a scenario.
 */
export function assertLooksLikeScenario(raw: Record<string, unknown>, file: string): void {
  const keys = Object.keys(raw);
  if (!Object.hasOwn(raw, 'landscape') || !Object.hasOwn(raw, 'domain')) {
    throw new InputError("not a scenario file: no 'landscape'/'domain' fields at the top level (a scenario has fields name, landscape, domain, noise, initial, time)", { file });
  }
  const known = keys.filter((k) => SCENARIO_TOP_LEVEL_FIELDS.includes(k)).length;
  if (2 * known <= keys.length) {
    throw new InputError(`not a scenario file: ${keys.length - known} of its ${keys.length} top-level fields are not scenario fields`, { file });
  }
}

/** A key from the file for a field path: kept when it looks like a field name (typos are worth naming), else escaped and cut short. */
function shownKey(key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]{0,39}$/.test(key)) return key;
  const cut = key.length > 24 ? `${key.slice(0, 24)}…` : key;
  return JSON.stringify(cut);
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Rebuild an InputError about an overridden field so that it says where the value came from. */
function blameOverride(err: InputError, overrides: readonly Override[]): InputError {
  if (err.field === undefined) return err;
  const field = err.field;
  const culprit = [...overrides].reverse().find((o) => {
    const p = dotted(o.path);
    return field === p || field.startsWith(`${p}.`) || p.startsWith(`${field}.`);
  });
  if (culprit === undefined) return err;
  const prefix = [err.file === undefined ? undefined : escapeControls(err.file), fieldLabel(field)].filter(Boolean).join(': ') + ': ';
  const bare = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  return new InputError(`${bare} (from --set ${clipText(culprit.spec)})`, { file: err.file, field });
}

/** Parse, override, validate and complete a scenario given as text. `file` names it in messages and picks JSON vs YAML. */
export function parseScenarioText(text: string, file: string, overrides: readonly string[] = []): LoadedScenario {
  const parsedOverrides = overrides.map(parseOverride);
  const baseDir = file === INLINE_FILE ? process.cwd() : dirname(resolve(file));
  const raw = parseText(text, file);
  if (!isRecord(raw)) {
    // Only the kind of value: this may be some other file entirely (a path mistake), whose content is not ours to print.
    const kind = raw === null || raw === undefined ? 'an empty document' : Array.isArray(raw) ? 'a list' : `a ${typeof raw}`;
    throw new InputError(`a scenario must be a mapping with fields name, landscape, domain, noise, initial, time (got ${kind})`, { file });
  }
  assertLooksLikeScenario(raw, file);
  try {
    applyOverrides(raw, parsedOverrides);
    const validate = getValidator();
    if (!validate(raw)) {
      const e = pickAjvError(validate.errors ?? []);
      const problem = e ? describeAjvError(e) : { field: '', message: 'is not a valid scenario' };
      throw new InputError(problem.message, { file, field: problem.field || undefined });
    }
    const s = raw as unknown as RawScenario;
    checkSemantics(s, file, baseDir);
    // from-data noise becomes an ordinary multiplicative model here, so nothing downstream needs to know about it.
    const derived = s.noise.model === 'from-data' ? deriveNoiseFromData(s.landscape, s.domain, s.noise, file) : undefined;
    const scenario: Scenario = {
      name: s.name,
      ...(s.description !== undefined ? { description: s.description } : {}),
      landscape: s.landscape satisfies LandscapeSpec,
      domain: s.domain,
      noise: derived ? derived.noise : (s.noise as NoiseSpec),
      initial: s.initial,
      time: { ...s.time, integrator: s.time.integrator ?? DEFAULTS.integrator, tolerance: s.time.tolerance ?? DEFAULTS.tolerance },
      diagnostics: s.diagnostics ?? {},
      ...(derived ? { noiseFromData: derived.fromData } : {}),
    };
    if (isMatrixNoise(scenario.noise)) checkMatrixNoiseSpec(scenario, scenario.noise, file);
    return { scenario, file, baseDir };
  } catch (err) {
    throw err instanceof InputError ? blameOverride(err, parsedOverrides) : err;
  }
}

/** Scenario files read and validated since the process started (a sweep's tests count them per point). */
export const scenarioLoadCount = { files: 0 };

/** Read a scenario file (.yaml/.yml/.json; anything else is read as YAML) and validate it. */
export function loadScenario(path: string, overrides: readonly string[] = []): LoadedScenario {
  scenarioLoadCount.files++;
  const text = readLimitedText(path, { maxBytes: MAX_SCENARIO_BYTES, what: 'scenario' });
  return parseScenarioText(text, path, overrides);
}

