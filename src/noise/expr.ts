/**
 * Expressions of a matrix-noise block (noise.D entries, noise.vectors components): text in x, y, z,
 * the landscape's params, the block's params and `f`, the loss. `f` is replaced by the landscape's
 * own expression text before compiling, so the symbolic derivatives that ∇·D needs include the
 * chain rule through f without a separate ∇f term. Data landscapes have no expression text, so
 * there `f` is refused (model: data is the noise that belongs to them).
 */
import { InputError } from '../errors.js';
import { compileExpr, isReservedName, type CompiledExpr } from '../landscape/expr.js';
import type { ResolvedLandscape } from '../landscape/builtins.js';
import type { NoiseExpr } from '../scenario/types.js';

export interface NoiseExprScope {
  readonly dim: number;
  readonly file?: string;
  readonly landscape: ResolvedLandscape;
  /** True for a data landscape (no expression text to put in for f). */
  readonly isData: boolean;
  /** noise.params. */
  readonly params: Readonly<Record<string, number>>;
}

/** Identifiers used as names, not called as functions (`floor` is a builtin's param and a function). */
const NAME = /\b([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()/g;

/** The names an expression text refers to. */
export function namesIn(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(NAME)) out.add(m[1]!);
  return out;
}

/** Params of `pool` that `text` names: compileExpr refuses params that an expression does not use. */
function paramsUsed(text: string, pool: Readonly<Record<string, number>>): Record<string, number> {
  const names = namesIn(text);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(pool)) if (names.has(k)) out[k] = v;
  return out;
}

/**
 * Refuses block params that cannot be told apart from another name: a variable or constant, `f`,
 * or a landscape param (which the expressions see already, with the landscape's value).
 */
export function checkBlockParams(scope: NoiseExprScope): void {
  for (const name of Object.keys(scope.params)) {
    const field = `noise.params.${name}`;
    if (isReservedName(name) || name === 'f') {
      throw new InputError(`'${name}' is a variable, constant or the loss f in noise expressions and cannot be a parameter (got ${JSON.stringify(name)})`, { file: scope.file, field });
    }
    if (!scope.isData && Object.hasOwn(scope.landscape.params, name)) {
      throw new InputError(
        `'${name}' is a param of the landscape, which noise expressions see already (value ${scope.landscape.params[name]}); give the noise param another name (got ${JSON.stringify(name)})`,
        { file: scope.file, field },
      );
    }
  }
}

/** Compiles one entry; `field` names it in errors (e.g. noise.D.0.1). */
export function compileNoiseExpr(e: NoiseExpr, field: string, scope: NoiseExprScope): CompiledExpr {
  const { dim, file } = scope;
  if (typeof e === 'number') {
    if (!Number.isFinite(e)) throw new InputError(`must be a finite number or an expression (got ${e})`, { file, field });
    return compileExpr(String(e), {}, dim, field, file);
  }
  const usesF = namesIn(e).has('f');
  if (usesF && scope.isData) {
    throw new InputError(
      "the loss f has no expression over a data landscape, so noise expressions cannot use it; for the data's own SGD noise use noise { model: data, eta, batch }",
      { file, field },
    );
  }
  const pool: Record<string, number> = { ...(scope.isData ? {} : scope.landscape.params), ...scope.params };
  // Compiled as written first (f a placeholder), so that errors quote the user's text, not the substituted one.
  compileExpr(e, { ...paramsUsed(e, pool), ...(usesF ? { f: 1 } : {}) }, dim, field, file);
  if (!usesF) return compileExpr(e, paramsUsed(e, pool), dim, field, file);
  const text = e.replace(/\bf\b(?!\s*\()/g, `(${scope.landscape.source})`);
  return compileExpr(text, paramsUsed(text, pool), dim, field, file);
}

/** Every block param must be used by some entry (an unused one is almost always a typo). */
export function checkBlockParamsUsed(entries: readonly NoiseExpr[], scope: NoiseExprScope): void {
  const used = new Set<string>();
  for (const e of entries) if (typeof e === 'string') for (const n of namesIn(e)) used.add(n);
  for (const name of Object.keys(scope.params)) {
    if (!used.has(name)) throw new InputError(`parameter '${name}' is not used by any expression of the noise block`, { file: scope.file, field: `noise.params.${name}` });
  }
}
