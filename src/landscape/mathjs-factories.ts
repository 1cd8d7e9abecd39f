/**
 * The mathjs factory files expr-parse.ts builds its parser from, and how they are loaded.
 *
 * mathjs's package exports do not expose them, so here each is required by path from the installed
 * package's CommonJS build (Node 20 loads a CommonJS file at about half the cost of an ES module).
 * With their own requires (typed-function, Babel helpers, …) that is some 50 files, ~40 ms of a
 * cold start in resolution and compilation alone. The CLI bundle (scripts/bundle.mjs) therefore
 * swaps this module for one that imports exactly FACTORY_FILES by path, so that esbuild compiles
 * them into the bundle: the same files, the same code, no per-file loading. Hence the list: a file
 * expr-parse.ts wants must be named here, or the bundled CLI cannot load it.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const FACTORY_FILES = [
  'core/config.js',
  'core/function/typed.js',
  'type/number.js',
  'function/utils/numeric.js',
  'expression/node/Node.js',
  'expression/node/SymbolNode.js',
  'expression/node/FunctionNode.js',
  'expression/node/AccessorNode.js',
  'expression/node/ArrayNode.js',
  'expression/node/AssignmentNode.js',
  'expression/node/BlockNode.js',
  'expression/node/ConditionalNode.js',
  'expression/node/ConstantNode.js',
  'expression/node/FunctionAssignmentNode.js',
  'expression/node/IndexNode.js',
  'expression/node/ObjectNode.js',
  'expression/node/OperatorNode.js',
  'expression/node/ParenthesisNode.js',
  'expression/node/RangeNode.js',
  'expression/node/RelationalNode.js',
  'expression/parse.js',
] as const;

export type FactoryFile = (typeof FACTORY_FILES)[number];

/** A mathjs factory: a function of its dependencies. */
export type Factory = (deps: Record<string, unknown>) => unknown;
/** A factory file's exports (its factories, and for core/config.js the default configuration). */
export type FactoryModule = Record<string, Factory>;

let cjsDir: string | undefined;

/** The exports of one of mathjs's CommonJS factory files (a path under mathjs/lib/cjs/). */
export function loadFactory(file: FactoryFile): FactoryModule {
  const require = createRequire(import.meta.url);
  cjsDir ??= join(dirname(require.resolve('mathjs/package.json')), 'lib', 'cjs');
  return require(join(cjsDir, file)) as FactoryModule;
}
