/**
 * Blocks of a scenario whose fields come in mutually exclusive alternatives, read off the JSON
 * Schema, so that `--set` can replace such a block instead of merging into it (#20.6): on
 * `initial: { gaussian: … }`, `--set initial.file=x.npy` must give `initial: { file: x.npy }`,
 * not a block with both that the schema refuses.
 *
 * Two schema shapes declare alternatives: `oneOf` branches that name their fields (`required`
 * and/or `properties`), and a mapping with `maxProperties: 1`, where each declared field is its
 * own alternative. A `--set` that moves a block to another alternative starts the block afresh:
 * it keeps only the fields every alternative requires (landscape.data's model and grid), and drops
 * the optional ones declared beside the alternatives (landscape.params, landscape.data.columns),
 * whose meaning depends on the alternative (an expression's params are not a builtin's, and a
 * data landscape takes none). A `--set` within the current alternative merges as before.
 * Value-selected blocks (`if`/`then` on a `const`, e.g. noise.model) are the other kind: there one
 * field's value names the variant, and `--set` of that field to another variant drops the fields
 * the new one does not allow (switchVariant).
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { schemaPath } from '../schema.js';

type Json = Record<string, unknown>;

/** One block: where it is, and the field names of each alternative. */
export interface ExclusiveBlock {
  /** Field path of the block; '*' stands for any list index or any key of a free-form mapping. */
  readonly path: readonly string[];
  readonly alternatives: readonly (readonly string[])[];
  /** Fields the block requires whatever the alternative (kept when the alternative changes). */
  readonly required: readonly string[];
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function resolveRef(root: Json, node: Json): Json {
  const ref = node['$ref'];
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return node;
  let cur: unknown = root;
  for (const seg of ref.slice(2).split('/')) cur = isObj(cur) ? cur[seg.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  return isObj(cur) ? { ...cur, ...Object.fromEntries(Object.entries(node).filter(([k]) => k !== '$ref')) } : node;
}

function alternativesOf(node: Json): string[][] | undefined {
  const oneOf = node['oneOf'];
  if (Array.isArray(oneOf)) {
    const alts = oneOf.filter(isObj).map((b) => {
      const names = new Set<string>();
      if (Array.isArray(b['required'])) for (const r of b['required']) if (typeof r === 'string') names.add(r);
      if (isObj(b['properties'])) for (const k of Object.keys(b['properties'])) names.add(k);
      return [...names];
    });
    // A oneOf over types or values (branches naming no field) says nothing about which fields go together.
    return alts.length > 1 && alts.every((a) => a.length > 0) ? alts : undefined;
  }
  if (node['maxProperties'] === 1 && isObj(node['properties'])) {
    const keys = Object.keys(node['properties']);
    return keys.length > 1 ? keys.map((k) => [k]) : undefined;
  }
  return undefined;
}

/** Calls `visit` on every subschema reachable through properties, items and additionalProperties, with its field path. */
function visitSchema(schema: Json, visit: (node: Json, path: string[]) => void): void {
  // A recursive $ref (not in the scenario schema today) would otherwise walk forever; no scenario is nested deeper.
  const walk = (raw: Json, path: string[], depth: number): void => {
    if (depth > 32) return;
    const node = resolveRef(schema, raw);
    visit(node, path);
    if (isObj(node['properties'])) for (const [k, v] of Object.entries(node['properties'])) if (isObj(v)) walk(v, [...path, k], depth + 1);
    if (isObj(node['items'])) walk(node['items'], [...path, '*'], depth + 1);
    if (isObj(node['additionalProperties'])) walk(node['additionalProperties'], [...path, '*'], depth + 1);
  };
  walk(schema, [], 0);
}

/** Every block with alternatives in `schema`, outermost first. */
export function exclusiveBlocks(schema: Json): ExclusiveBlock[] {
  const out: ExclusiveBlock[] = [];
  visitSchema(schema, (node, path) => {
    const alternatives = alternativesOf(node);
    if (!alternatives) return;
    const named = new Set(alternatives.flat());
    const required = Array.isArray(node['required']) ? node['required'].filter((r): r is string => typeof r === 'string' && !named.has(r)) : [];
    out.push({ path, alternatives, required });
  });
  return out;
}

/** A block whose variant is named by the value of one of its fields (`allOf` of `if: { properties: { F: { const } } }, then`). */
export interface VariantBlock {
  readonly path: readonly string[];
  /** The field whose value names the variant (noise.model). */
  readonly discriminator: string;
  /** The fields each variant allows, by the discriminator's value. */
  readonly variants: Readonly<Record<string, readonly string[]>>;
}

/** Every block of `schema` whose variant one field's value selects. */
export function variantBlocks(schema: Json): VariantBlock[] {
  const out: VariantBlock[] = [];
  visitSchema(schema, (node, path) => {
    if (!Array.isArray(node['allOf'])) return;
    let discriminator: string | undefined;
    const variants: Record<string, string[]> = {};
    for (const part of node['allOf']) {
      if (!isObj(part) || !isObj(part['if']) || !isObj(part['then']) || !isObj(part['if']['properties'])) continue;
      const tests = Object.entries(part['if']['properties']);
      const [field, test] = tests[0] ?? [];
      if (tests.length !== 1 || field === undefined || !isObj(test) || typeof test['const'] !== 'string') continue;
      if (discriminator !== undefined && discriminator !== field) return; // variants keyed by two fields: not one choice
      discriminator = field;
      const then = resolveRef(schema, part['then']);
      variants[test['const']] = isObj(then['properties']) ? Object.keys(then['properties']) : [];
    }
    if (discriminator !== undefined && Object.keys(variants).length > 1) out.push({ path, discriminator, variants });
  });
  return out;
}

let scenarioSchema: Json | undefined;
const readScenarioSchema = (): Json => (scenarioSchema ??= JSON.parse(readFileSync(schemaPath('scenario'), 'utf8')) as Json);
let scenarioBlocks: ExclusiveBlock[] | undefined;
let scenarioVariants: VariantBlock[] | undefined;

/** The blocks with alternatives of schema/scenario.schema.json (read once). */
export function scenarioExclusiveBlocks(): ExclusiveBlock[] {
  scenarioBlocks ??= exclusiveBlocks(readScenarioSchema());
  return scenarioBlocks;
}

/** The value-selected blocks of schema/scenario.schema.json (read once). */
export function scenarioVariantBlocks(): VariantBlock[] {
  scenarioVariants ??= variantBlocks(readScenarioSchema());
  return scenarioVariants;
}

const matches = (pattern: readonly string[], path: readonly (string | number)[]): boolean =>
  pattern.length === path.length && pattern.every((p, i) => p === '*' || p === String(path[i]));

/**
 * Before `--set` writes field `key` into the mapping `block` found at `blockPath`: when the block
 * has alternatives, `key` belongs to some of them and the block holds fields of another one, the
 * block is cleared down to its required shared fields (see the file comment). Throws an InputError
 * naming the path when `key` belongs to several alternatives and the fields already there fit
 * none of them alone, so that which to keep cannot be told.
 */
export function clearOtherAlternatives(
  block: Record<string, unknown>,
  blockPath: readonly (string | number)[],
  key: string,
  spec: string,
  blocks: readonly ExclusiveBlock[] = scenarioExclusiveBlocks(),
): void {
  const found = blocks.find((b) => matches(b.path, blockPath));
  if (found === undefined) return;
  const { alternatives, required } = found;
  const wanted = alternatives.filter((a) => a.includes(key));
  if (wanted.length === 0 || wanted.length === alternatives.length) return; // a field of every alternative: merge as before
  const inSome = new Set(alternatives.flat());
  const keep = new Set(wanted.flat());
  const present = Object.keys(block).filter((k) => inSome.has(k) && k !== key);
  if (wanted.length > 1) {
    // Only one alternative can survive: the fields already there must all fit one of those `key` belongs to.
    const kept = present.filter((k) => keep.has(k));
    if (!wanted.some((a) => kept.every((k) => a.includes(k)))) {
      const where = blockPath.join('.') || 'the scenario';
      throw new InputError(
        `--set ${spec}: ambiguous: '${key}' belongs to ${wanted.length} alternatives of '${where}' (${wanted.map((a) => `{ ${a.join(', ')} }`).join(' or ')}) and the block holds ${kept.join(', ')}, which fit none of them alone; set the whole block instead, e.g. --set '${where}={ ${key}: … }'`,
      );
    }
  }
  if (present.every((k) => keep.has(k))) return; // already this alternative (or none yet): merge
  for (const k of Object.keys(block)) if (!keep.has(k) && !required.includes(k)) delete block[k];
}

/**
 * Before `--set` writes `value` into the field `key` of `block`: when `key` names the variant of a
 * value-selected block (noise.model) and the value moves it to another known variant, drops the
 * fields that variant does not allow (`--set noise.model=additive` on a multiplicative block drops
 * eta, sigma and eps; D then comes from another --set). The same variant, or a value the schema
 * does not know (which it then refuses by name), leaves the block as it is.
 */
export function switchVariant(
  block: Record<string, unknown>,
  blockPath: readonly (string | number)[],
  key: string,
  value: unknown,
  blocks: readonly VariantBlock[] = scenarioVariantBlocks(),
): void {
  const found = blocks.find((b) => b.discriminator === key && matches(b.path, blockPath));
  if (found === undefined || typeof value !== 'string' || block[key] === value || !Object.hasOwn(found.variants, value)) return;
  const allowed = found.variants[value]!;
  for (const k of Object.keys(block)) if (k !== key && !allowed.includes(k)) delete block[k];
}
