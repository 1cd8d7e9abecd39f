/**
 * The landscape IR shared by the closure compiler (expr.ts) and the WebAssembly compiler
 * (expr-wasm.ts). A leaf: both compilers import it, so neither imports the other's internals
 * for it (expr.ts → expr-wasm.ts is the only edge between them).
 */

export type UnaryFn =
  | 'sin' | 'cos' | 'tan' | 'asin' | 'acos' | 'atan' | 'sinh' | 'cosh' | 'tanh'
  | 'exp' | 'log' | 'log10' | 'log2' | 'log1p' | 'expm1' | 'sqrt' | 'cbrt'
  | 'abs' | 'sign' | 'floor' | 'ceil' | 'sigmoid';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'atan2' | 'min' | 'max';

// Folding rules for these nodes live with their smart constructors in expr.ts.
export type IR =
  | { readonly k: 'num'; readonly v: number }
  | { readonly k: 'var'; readonly i: number }
  | { readonly k: 'neg'; readonly a: IR }
  | { readonly k: 'un'; readonly f: UnaryFn; readonly a: IR }
  | { readonly k: 'bin'; readonly op: BinaryOp; readonly a: IR; readonly b: IR };

/** How many parents reference each node (a node used twice is evaluated once and cached). */
export function countParents(root: IR): Map<IR, number> {
  const parents = new Map<IR, number>();
  const visit = (e: IR): void => {
    const seen = parents.has(e);
    if (!seen) parents.set(e, 0);
    if (seen) return;
    const kids = e.k === 'neg' || e.k === 'un' ? [e.a] : e.k === 'bin' ? [e.a, e.b] : [];
    for (const c of kids) {
      visit(c);
      parents.set(c, parents.get(c)! + 1);
    }
  };
  visit(root);
  return parents;
}

