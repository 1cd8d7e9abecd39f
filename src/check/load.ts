/**
 * Baselines files → validated Baselines, plus the YAML document they came from (kept so that
 * --update can rewrite expected values without touching comments, order or tolerances).
 *
 * Every failure is one InputError line naming the file and the entry, e.g.
 * `baselines/rates.yaml: cases[2].tolerance.rel: must be a number ≥ 0 (got "x")`, because these
 * messages are read in CI logs.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isInside, withConfinement } from '../io/confine.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { pointerToPath, schemaPath, schemaValidator } from '../schema.js';
import { type Document, parseDocument } from 'yaml';
import { InputError } from '../errors.js';
import { loadScenario, showValue } from '../scenario/load.js';
import { parseQuantity, QUANTITY_NAMES } from './quantity.js';
import { readLimitedText } from '../io/read-limited.js';
import { checkFlowNesting, checkYamlShape } from '../scenario/shape.js';
import type { BaselineCase, Baselines, ExpectedValue, QuantityCheck, Tolerance } from './types.js';

export const REGIMES: readonly string[] = ['converging', 'collapsing', 'undecided'];

export interface LoadedBaselines {
  baselines: Baselines;
  /** The file's text, which `--update` edits. */
  text: string;
  /** The parsed document: where each expected value sits in `text`. */
  doc: Document;
}

export function baselinesSchemaPath(): string {
  return schemaPath('baselines');
}

// allowUnionTypes: an expected value is a number, a regime name or null, one type list.
const getValidator = (): ValidateFunction => schemaValidator('baselines');

/** `cases[2].expect["rates.chi"].tolerance.rel` from ['cases', 2, 'expect', 'rates.chi', ...]. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number' || /^(0|[1-9][0-9]*)$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

const got = (v: unknown): string => ` (got ${showValue(v)})`;


const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const EXPECTED_SHAPES = 'must be a number, a regime name, null (not recorded yet) or { expected, tolerance }';

function describe(e: ErrorObject): { path: (string | number)[]; message: string } {
  const path: (string | number)[] = pointerToPath(e.instancePath);
  const parent = isRecord(e.parentSchema) ? e.parentSchema : {};
  const params = e.params as Record<string, unknown>;
  const numberRange = (): string | undefined =>
    (parent['type'] === 'number' || parent['type'] === 'integer') && typeof parent['minimum'] === 'number' ? `must be a number ≥ ${parent['minimum']}` : undefined;
  switch (e.keyword) {
    case 'anyOf':
      return { path, message: `${EXPECTED_SHAPES}${got(e.data)}` };
    case 'required':
      return { path, message: `required field "${String(params['missingProperty'])}" is missing` };
    case 'additionalProperties': {
      const extra = String(params['additionalProperty']);
      const allowed = Object.keys(isRecord(parent['properties']) ? parent['properties'] : {});
      return { path: [...path, extra], message: `unknown field (allowed here: ${allowed.join(', ')})` };
    }
    case 'type': {
      const names: Record<string, string> = { number: 'a number', string: 'a string', array: 'a list', object: 'a mapping', integer: 'an integer', null: 'null' };
      const types = String(params['type']).split(',').map((t) => names[t] ?? t);
      const list = types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}` : types[0];
      return { path, message: `${numberRange() ?? `must be ${list}`}${got(e.data)}` };
    }
    case 'minimum':
      return { path, message: `${numberRange() ?? `must be ≥ ${String(params['limit'])}`}${got(e.data)}` };
    case 'minProperties': {
      const last = path[path.length - 1];
      const what = last === 'expect' ? 'must list at least one quantity' : last === 'tolerance' ? 'must give rel, abs or both' : 'must not be empty';
      return { path, message: `${what}${got(e.data)}` };
    }
    case 'minItems':
      return { path, message: `must list at least one entry${got(e.data)}` };
    case 'minLength':
      return { path, message: `must not be empty${got(e.data)}` };
    case 'maxLength':
      return { path, message: `must have at most ${String(params['limit'])} characters${got(e.data)}` };
    case 'const':
      return { path, message: `must be ${String(params['allowedValue'])}${got(e.data)}` };
    default:
      return { path, message: `${e.message ?? 'is not allowed'}${got(e.data)}` };
  }
}

/**
 * The one error worth reporting from ajv's list. ajv lists the errors of an anyOf's branches just
 * before the anyOf error itself (their schema paths may point into $ref'd definitions, so they are
 * recognized by position and instance path): for a mapping, the { expected, tolerance } branch's
 * own error says what is wrong; for anything else, the anyOf's summary of the allowed shapes.
 */
function pickError(errors: readonly ErrorObject[]): ErrorObject {
  const inside = (e: ErrorObject, a: ErrorObject): boolean => e.instancePath === a.instancePath || e.instancePath.startsWith(`${a.instancePath}/`);
  const claimed = new Set<ErrorObject>();
  const replacement = new Map<ErrorObject, ErrorObject>();
  errors.forEach((a, i) => {
    if (a.keyword !== 'anyOf') return;
    const branch = errors.slice(0, i).filter((e) => !claimed.has(e) && inside(e, a));
    branch.forEach((e) => claimed.add(e));
    if (isRecord(a.data)) {
      const own = branch.find((e) => !(e.keyword === 'type' && e.instancePath === a.instancePath));
      if (own) replacement.set(a, own);
    }
  });
  const useful = errors.filter((e) => !claimed.has(e)).map((e) => replacement.get(e) ?? e);
  return useful[0] ?? errors[0]!;
}

function fail(file: string, path: readonly (string | number)[], message: string): never {
  const where = formatPath(path);
  throw new InputError(where ? `${where}: ${message}` : message, { file });
}

/** Baselines files list cases (a few lines each); these bounds allow thousands of cases. */
export const MAX_BASELINES_BYTES = 4 * 1024 * 1024;
export const BASELINES_SHAPE = { maxEntries: 200_000, maxDepth: 32 } as const;

function parse(text: string, file: string): { doc: Document; data: unknown } {
  checkFlowNesting(text, BASELINES_SHAPE, file);
  // uniqueKeys off: the library's check is quadratic in the number of keys; checkYamlShape does it in linear time.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    const reason = (err.message.split('\n')[0] ?? '').replace(/\s*at line \d+, column \d+:?\s*$/, '');
    throw new InputError(`malformed YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${reason}`, { file });
  }
  checkYamlShape(doc, text, BASELINES_SHAPE, file);
  try {
    return { doc, data: doc.toJS({ maxAliasCount: 100 }) as unknown };
  } catch (e) {
    throw new InputError(`malformed YAML: ${e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)}`, { file });
  }
}

interface RawTolerance {
  rel?: number;
  abs?: number;
}
type RawExpected = ExpectedValue | { expected: ExpectedValue; tolerance?: RawTolerance };
interface RawCase {
  name: string;
  scenario: string;
  set?: string[];
  runArgs?: string[];
  tolerance?: RawTolerance;
  expect: Record<string, RawExpected>;
}
interface RawBaselines {
  version?: 1;
  tolerance?: RawTolerance;
  cases: RawCase[];
}

export interface BaselinesOptions {
  /**
   * Directory that every case's scenario must resolve into (after symbolic links), or undefined
   * for no restriction. loadBaselines sets it to projectRoot(file) unless --allow-outside.
   */
  root?: string;
}

/**
 * The tree a baselines file may point into: the nearest directory at or above it holding a
 * .git or package.json (its project), else the baselines file's own directory. A baselines file
 * from a pull request or a shared drive must not make `check` read /etc/passwd or /proc/self/environ.
 */
export function projectRoot(file: string): string {
  const start = dirname(resolve(file));
  for (let dir = start; ; ) {
    if (existsSync(join(dir, '.git')) || existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return start;
    dir = up;
  }
}

/** Validates baselines text; `file` names it in messages and anchors relative scenario paths. */
export function parseBaselinesText(text: string, file: string, opts: BaselinesOptions = {}): LoadedBaselines {
  const { doc, data } = parse(text, file);
  if (data === null || data === undefined) fail(file, [], 'the file is empty; it must hold a mapping with a `cases` list');
  const validate = getValidator();
  if (!validate(data)) {
    const { path, message } = describe(pickError(validate.errors ?? []));
    fail(file, path, message);
  }
  const raw = data as RawBaselines;
  const baseDir = dirname(resolve(file));
  const seen = new Map<string, number>();
  const cases: BaselineCase[] = raw.cases.map((c, index): BaselineCase => {
    const at = (...rest: (string | number)[]): (string | number)[] => ['cases', index, ...rest];
    const first = seen.get(c.name);
    if (first !== undefined) fail(file, at('name'), `duplicate case name ${JSON.stringify(c.name)} (also cases[${first}]); names must be unique for --only`);
    seen.set(c.name, index);

    const scenarioPath = resolve(baseDir, c.scenario);
    if (opts.root !== undefined && !isInside(opts.root, scenarioPath)) {
      // The path is the user's own text, so it may be named; nothing is read from it.
      fail(file, at('scenario'), `resolves outside ${opts.root}, the project holding the baselines file (symbolic links followed): keep scenarios inside it, or pass --allow-outside${got(c.scenario)}`);
    }
    let isFile = false;
    try {
      isFile = statSync(scenarioPath).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) fail(file, at('scenario'), `no such file ${scenarioPath} (paths are relative to the baselines file)${got(c.scenario)}`);

    const checks: QuantityCheck[] = Object.entries(c.expect).map(([qname, entry]): QuantityCheck => {
      const quantity = parseQuantity(qname);
      if (!quantity) fail(file, at('expect', qname), `unknown quantity (allowed: ${QUANTITY_NAMES.join(', ')})`);
      const long = isRecord(entry);
      const expected: ExpectedValue = long ? entry.expected : entry;
      const docPath = long ? at('expect', qname, 'expected') : at('expect', qname);
      if (quantity.kind === 'regime') {
        if (expected !== null && (typeof expected !== 'string' || !REGIMES.includes(expected))) {
          fail(file, docPath, `must be one of ${REGIMES.join(', ')} (or null, not recorded yet)${got(expected)}`);
        }
      } else if (expected !== null && typeof expected !== 'number') {
        fail(file, docPath, `must be a number (or null, not recorded yet)${got(expected)}`);
      }
      const tolerance: Tolerance | undefined = (long ? entry.tolerance : undefined) ?? c.tolerance ?? raw.tolerance;
      if (tolerance === undefined && quantity.kind !== 'regime') {
        fail(file, at('expect', qname), 'has no tolerance: give one here ({ expected, tolerance }), on the case, or at the top of the file');
      }
      return { quantity, expected, tolerance: tolerance ?? {}, docPath };
    });

    const set = c.set ?? [];
    try {
      // Catches a bad override or a broken scenario before any run starts, with the entry named;
      // files the scenario names must lie in the same root as the scenario (nothing outside is opened).
      withConfinement(opts.root, () => loadScenario(scenarioPath, set));
    } catch (e) {
      if (e instanceof InputError) fail(file, at(), `${JSON.stringify(c.name)}: ${e.message}`);
      throw e;
    }
    return { index, name: c.name, scenario: c.scenario, scenarioPath, set, runArgs: c.runArgs ?? [], checks };
  });
  return { baselines: { file, cases }, text, doc };
}

/** Reads and validates a baselines file; its scenarios must lie in projectRoot(file) unless `allowOutside`. */
export function loadBaselines(file: string, opts: { allowOutside?: boolean } = {}): LoadedBaselines {
  if (!existsSync(file)) throw new InputError('no such baselines file', { file });
  const text = readLimitedText(file, { maxBytes: MAX_BASELINES_BYTES, what: 'baselines file' });
  return parseBaselinesText(text, file, opts.allowOutside ? {} : { root: projectRoot(file) });
}
