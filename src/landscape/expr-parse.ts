/**
 * mathjs's expression parser without the rest of mathjs.
 *
 * expr.ts uses mathjs only to parse (see its header). Importing `mathjs/number` builds every
 * function mathjs has (~0.6–0.9 s of a cold process, most of fpsolve's start-up); the parser is
 * one factory (expression/parse.js) over the node classes, `typed` and `numeric`. We build just
 * those from mathjs's own factory files, with mathjs's default configuration, so the parse is
 * mathjs's code and gives the very same trees (test/expr-parse.test.ts compares them with
 * `mathjs/number` and the values with mathjs `evaluate`).
 *
 * The node classes also take what only their compile/evaluate methods use (the math namespace,
 * subset, size, ResultSet, isBounded). fpsolve never compiles a mathjs node (expr.ts translates
 * trees to its own IR), so those are handed an object that throws on any use, rather than loading
 * the functions.
 *
 * How the factory files are found is mathjs-factories.ts's business (required by path from the
 * installed mathjs, or compiled into the CLI bundle). Should a mathjs release move them, the full
 * `mathjs/number` parser is used instead: slower start-up, same trees.
 */
import { createRequire } from 'node:module';
import type { MathNode } from 'mathjs';
import { loadFactory as load } from './mathjs-factories.js';

export type ParseFunction = (expr: string) => MathNode;

const NODE_CLASSES = [
  'AccessorNode', 'ArrayNode', 'AssignmentNode', 'BlockNode', 'ConditionalNode', 'ConstantNode', 'FunctionAssignmentNode',
  'IndexNode', 'ObjectNode', 'OperatorNode', 'ParenthesisNode', 'RangeNode', 'RelationalNode',
] as const;

/** What compile/evaluate-only dependencies are given: any use is a bug in fpsolve, said plainly. */
const COMPILE_ONLY = new Proxy(
  {},
  {
    get(_target, key) {
      throw new Error(`fpsolve's mathjs parser has no ${String(key)}: mathjs nodes are parsed, never compiled`);
    },
    has() {
      return false;
    },
  },
);

function buildParser(): ParseFunction {
  const config = { ...(load('core/config.js').DEFAULT_CONFIG as unknown as Record<string, unknown>) };
  const typed = load('core/function/typed.js').createTyped!({});
  const number = load('type/number.js').createNumber!({ typed });
  const numeric = load('function/utils/numeric.js').createNumeric!({ number });
  const unused = { math: COMPILE_ONLY, mathWithTransform: COMPILE_ONLY, subset: COMPILE_ONLY, size: COMPILE_ONLY, ResultSet: COMPILE_ONLY, isBounded: COMPILE_ONLY };
  const Node = load('expression/node/Node.js').createNode!(unused);
  const SymbolNode = load('expression/node/SymbolNode.js').createSymbolNode!({ ...unused, Node });
  const FunctionNode = load('expression/node/FunctionNode.js').createFunctionNode!({ ...unused, Node, SymbolNode });
  const nodes: Record<string, unknown> = { SymbolNode, FunctionNode };
  for (const name of NODE_CLASSES) nodes[name] = load(`expression/node/${name}.js` as const)[`create${name}`]!({ ...unused, typed, Node });
  return load('expression/parse.js').createParse!({ typed, numeric, config, ...nodes }) as ParseFunction;
}

let parser: ParseFunction | undefined;

/**
 * mathjs's `parse` (number configuration), built on first use. Should the factory files have
 * moved, mathjs's own CommonJS build of `mathjs/number` supplies it instead.
 */
export function parse(expr: string): MathNode {
  if (parser === undefined) {
    try {
      parser = buildParser();
    } catch {
      parser = (createRequire(import.meta.url)('mathjs/number') as { parse: ParseFunction }).parse;
    }
  }
  return parser(expr);
}
