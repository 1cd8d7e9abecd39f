/**
 * Limits on the shape of a parsed YAML/JSON input file, checked before the document becomes a
 * JavaScript value: duplicate keys (in both formats, naming the key), the number of entries and
 * the nesting depth. The YAML library's own duplicate-key check compares each key with every
 * earlier one (200 000 keys took minutes) and its parser recurses per nesting level, so both
 * are done here in one iterative pass, and flow nesting is bounded from the text before parsing.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import { InputError } from '../errors.js';

export interface ShapeLimits {
  /** Most mapping entries plus list items in the whole document. */
  maxEntries: number;
  /** Deepest nesting of mappings and lists. */
  maxDepth: number;
}

type Seg = string | number;

function dottedPath(path: readonly Seg[]): string {
  return path.map(String).join('.');
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function tooMany(limits: ShapeLimits, file: string): never {
  throw new InputError(`has more than ${limits.maxEntries} entries (mapping keys and list items together); a valid file has far fewer`, { file });
}

function tooDeep(limits: ShapeLimits, file: string, path: readonly Seg[]): never {
  const field = path.length ? dottedPath(path.slice(0, 8)) + (path.length > 8 ? '…' : '') : undefined;
  throw new InputError(`is nested more than ${limits.maxDepth} levels deep (mappings and lists); a valid file needs a few`, { file, field });
}

/**
 * Top-level fields of the files this module checks (scenario.schema.json, baselines.schema.json).
 * A duplicate key is named only inside one of these sections: in a file that is not ours (a
 * credentials file passed as a scenario) the keys themselves may be secrets.
 */
const OUR_TOP_LEVEL_FIELDS: ReadonlySet<string> = new Set(['name', 'description', 'landscape', 'domain', 'noise', 'initial', 'time', 'diagnostics', 'version', 'tolerance', 'cases']);

function duplicate(file: string, path: readonly Seg[], key: string, text: string, first: number, again: number): never {
  const lines = `(lines ${lineOf(text, first)} and ${lineOf(text, again)}); each key may appear once`;
  const top = path.length === 0 ? key : path[0];
  if (file !== '--set' && (typeof top !== 'string' || !OUR_TOP_LEVEL_FIELDS.has(top))) throw new InputError(`duplicate top-level key ${lines} (not named: the file does not look like a scenario or baselines file)`, { file });
  throw new InputError(`duplicate key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 39)}…` : key)} ${lines}`, {
    file,
    field: dottedPath([...path, key]),
  });
}

/**
 * Flow collections ([ ], { }) nest by recursion in the YAML parser, which overflows the stack
 * near 700 levels; count brackets in the text first. Brackets inside strings are counted too,
 * which only errs towards refusing, and only files with more than maxDepth unclosed brackets.
 */
export function checkFlowNesting(text: string, limits: ShapeLimits, file: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) {
      if (++depth > limits.maxDepth) tooDeep(limits, file, []);
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
}

/** Walks a parsed YAML document without recursion. Aliases count as one entry (toJS caps their expansion). */
export function checkYamlShape(doc: Document, text: string, limits: ShapeLimits, file: string): void {
  const root = doc.contents;
  if (root === null) return;
  const stack: { node: Node; path: Seg[] }[] = [{ node: root as Node, path: [] }];
  let entries = 0;
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (isAlias(node) || isScalar(node)) continue;
    if (path.length >= limits.maxDepth) tooDeep(limits, file, path);
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        if (++entries > limits.maxEntries) tooMany(limits, file);
        const k = pair.key;
        const key = isScalar(k) ? String(k.value) : k === null ? '' : undefined;
        if (key === undefined) {
          throw new InputError('mapping keys must be plain names, not lists, mappings or aliases', { file, field: path.length ? dottedPath(path) : undefined });
        }
        const at = isScalar(k) ? (k.range?.[0] ?? 0) : 0;
        const first = seen.get(key);
        if (first !== undefined) duplicate(file, path, key, text, first, at);
        seen.set(key, at);
        if (pair.value !== null && typeof pair.value === 'object') stack.push({ node: pair.value as Node, path: [...path, key] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        if (++entries > limits.maxEntries) tooMany(limits, file);
        if (item !== null && typeof item === 'object') stack.push({ node: item as Node, path: [...path, i] });
      });
    }
  }
}

/**
 * The same limits for JSON text that JSON.parse has already accepted (JSON.parse keeps the last
 * of two equal keys without a word). A small scanner: strings, brackets, ':' and ','.
 */
export function checkJsonShape(text: string, limits: ShapeLimits, file: string): void {
  interface Frame {
    keys?: Map<string, number>;
    expectKey: boolean;
    seg: Seg | undefined;
    index: number;
  }
  const stack: Frame[] = [];
  const path = (): Seg[] => stack.slice(1).map((f) => f.seg as Seg);
  let entries = 0;
  let lastKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        const first = top.keys.get(key);
        if (first !== undefined) duplicate(file, path(), key, text, first, start);
        top.keys.set(key, start);
        if (++entries > limits.maxEntries) tooMany(limits, file);
        lastKey = key;
      }
    } else if (c === '{' || c === '[') {
      const top = stack[stack.length - 1];
      const seg: Seg | undefined = top === undefined ? undefined : top.keys ? lastKey : top.index;
      stack.push({ keys: c === '{' ? new Map() : undefined, expectKey: c === '{', seg, index: 0 });
      if (stack.length > limits.maxDepth) tooDeep(limits, file, path());
      if (c === '[' && ++entries > limits.maxEntries) tooMany(limits, file);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ':') {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = false;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) {
        top.index++;
        if (++entries > limits.maxEntries) tooMany(limits, file);
      }
    }
  }
}
