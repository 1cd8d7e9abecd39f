/**
 * Builtin landscapes: named, parametrized expression templates. They expand to ordinary
 * expression text and go through the same compiler as `landscape.expr`, so a builtin can never do
 * anything an expression could not.
 */
import { InputError } from '../errors.js';
import type { LandscapeSpec } from '../scenario/types.js';
import { compileExpr, type CompiledExpr } from './expr.js';
import { resolveDataLandscape } from '../data/landscape.js';

export interface BuiltinInfo {
  readonly name: string;
  /** One-paragraph formula and meaning, shown by --help and in reports. */
  readonly doc: string;
  /** Dimensions the builtin exists in. */
  readonly dims: readonly number[];
  /** Default params, per dimension (a param that only exists in n-D is absent in 1-D). */
  defaults(dim: number): Record<string, number>;
}

interface Builtin extends BuiltinInfo {
  /** Expression text for this dimension, in x, y, z and the param names. */
  template(dim: number): string;
  /** Params the user may not set, derived from the others (e.g. a shift that makes min f = floor). */
  derived?(params: Readonly<Record<string, number>>, dim: number): Record<string, number>;
}

export interface ResolvedLandscape {
  /** Expression text, with param names (their values are in `params`). */
  readonly source: string;
  /** All params the expression uses: user values over defaults, plus derived ones. */
  readonly params: Record<string, number>;
  readonly compiled: CompiledExpr;
  /** What the landscape is (the builtin's doc, or the expression itself). */
  readonly doc: string;
}

const AXES = ['x', 'y', 'z'] as const;

/** `x^2 + y^2 + z^2` over the first `dim` axes, optionally skipping the first. */
function squares(dim: number, from = 0): string {
  return AXES.slice(from, dim).map((v) => `${v}^2`).join(' + ');
}

/**
 * min over R of g(x) = (x^2-1)^2/4 + t x. For t > 0 the global minimizer is the critical point
 * below -1 (g(-x) < g(x) for x > 0, and x^3 - x + t has exactly one root in (-inf, -1)), bracketed
 * by [-(1+t), -1]; t < 0 mirrors. Bisection to the last bit: exact enough that min f = floor holds
 * to round-off, and never fails to converge.
 */
export function tiltedWellMinimum(t: number): number {
  if (t === 0) return 0;
  const s = Math.sign(t);
  const gp = (x: number): number => x * x * x - x + t;
  let lo = s > 0 ? -(1 + t) : 1;
  let hi = s > 0 ? -1 : 1 - t;
  for (let i = 0; i < 200 && hi - lo > 0; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (gp(mid) < 0) lo = mid;
    else hi = mid;
  }
  const x = 0.5 * (lo + hi);
  return ((x * x - 1) ** 2) / 4 + t * x;
}

const REGISTRY: readonly Builtin[] = [
  {
    name: 'pearson',
    doc: 'f = c + b*|θ|^2 (c > 0): with multiplicative noise the invariant density is a Pearson (Student-t-like) law ∝ f^-α.',
    dims: [1, 2, 3],
    defaults: () => ({ c: 0.1, b: 0.5 }),
    template: (dim) => `c + b*(${squares(dim)})`,
  },
  {
    name: 'quadratic',
    doc: 'f = b*|θ|^2: zero minimum at the origin, the collapse case of multiplicative noise (π = f^-α is not integrable).',
    dims: [1, 2, 3],
    defaults: () => ({ b: 0.5 }),
    template: (dim) => `b*(${squares(dim)})`,
  },
  {
    name: 'double-well',
    doc:
      'f = (x^2-1)^2/4 + floor in 1-D; f = (x^2-1)^2/4 + k/2*(y^2 [+ z^2]) + floor in 2-D/3-D. ' +
      'Minima f = floor at x = ±1 (and y = z = 0), barrier 1/4 at x = 0.',
    dims: [1, 2, 3],
    defaults: (dim): Record<string, number> => (dim === 1 ? { floor: 0 } : { k: 1, floor: 0 }),
    template: (dim) => (dim === 1 ? '(x^2 - 1)^2/4 + floor' : `(x^2 - 1)^2/4 + k/2*(${squares(dim, 1)}) + floor`),
  },
  {
    name: 'tilted-double-well',
    doc:
      'f = (x^2-1)^2/4 + tilt*x + shift + floor [+ k/2*(y^2 [+ z^2]) in 2-D/3-D]. shift is computed, not set: ' +
      'it is minus the minimum over x of (x^2-1)^2/4 + tilt*x, so the global minimum of f is exactly floor ' +
      '(near x = -1 for tilt > 0) and the other well is metastable, about 2|tilt| higher.',
    dims: [1, 2, 3],
    defaults: (dim): Record<string, number> => (dim === 1 ? { tilt: 0.1, floor: 0 } : { tilt: 0.1, k: 1, floor: 0 }),
    template: (dim) =>
      dim === 1
        ? '(x^2 - 1)^2/4 + tilt*x + shift + floor'
        : `(x^2 - 1)^2/4 + tilt*x + shift + k/2*(${squares(dim, 1)}) + floor`,
    derived: (p) => ({ shift: -tiltedWellMinimum(p['tilt'] ?? 0) }),
  },
  {
    name: 'ou',
    doc: 'f = kappa/2*|θ|^2: Ornstein-Uhlenbeck; with additive noise D the invariant density is Gaussian with variance D/kappa.',
    dims: [1, 2, 3],
    defaults: () => ({ kappa: 1 }),
    template: (dim) => `kappa/2*(${squares(dim)})`,
  },
  {
    name: 'feng-tu-valley',
    doc:
      'f = lambda(x)*y^2/2 + floor with lambda(x) = l0*exp(g*x) (2-D only): a flat valley y = 0 whose ' +
      'curvature varies along it (Feng & Tu); with multiplicative noise and floor = 0 the density collapses onto the valley.',
    dims: [2],
    defaults: () => ({ l0: 1, g: 1, floor: 0 }),
    template: () => 'l0*exp(g*x)*y^2/2 + floor',
  },
  {
    name: 'rosenbrock',
    doc: 'f = (a-x)^2 + b*(y-x^2)^2 + floor (2-D only): minimum f = floor at (a, a^2) at the end of a curved valley.',
    dims: [2],
    defaults: () => ({ a: 1, b: 100, floor: 0 }),
    template: () => '(a - x)^2 + b*(y - x^2)^2 + floor',
  },
];

const BY_NAME: ReadonlyMap<string, Builtin> = new Map(REGISTRY.map((b) => [b.name, b]));

/** The builtin landscapes, for --help and docs. */
export function listBuiltins(): readonly BuiltinInfo[] {
  return REGISTRY.map(({ name, doc, dims, defaults }) => ({ name, doc, dims, defaults }));
}

/** One builtin by name, or undefined. */
export function getBuiltin(name: string): BuiltinInfo | undefined {
  const b = BY_NAME.get(name);
  return b && { name: b.name, doc: b.doc, dims: b.dims, defaults: b.defaults };
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/**
 * Turn a landscape spec (expression, builtin or data) into compiled code for a `dim`-dimensional domain.
 * Errors are InputErrors naming `file` and the field (`landscape.expr`, `landscape.builtin`,
 * `landscape.params.<name>`).
 */
export function resolveLandscape(spec: LandscapeSpec, dim: number, file?: string): ResolvedLandscape {
  if ('data' in spec) return resolveDataLandscape(spec, dim, file);
  const userParams: Record<string, number> = { ...(spec.params ?? {}) };
  if ('expr' in spec) {
    const compiled = compileExpr(spec.expr, userParams, dim, 'landscape.expr', file);
    return { source: spec.expr, params: userParams, compiled, doc: `f = ${spec.expr}` };
  }
  const b = BY_NAME.get(spec.builtin);
  if (b === undefined) {
    throw new InputError(`unknown builtin landscape (known: ${REGISTRY.map((r) => r.name).join(', ')}) (got ${show(spec.builtin)})`, {
      file,
      field: 'landscape.builtin',
    });
  }
  if (!b.dims.includes(dim)) {
    throw new InputError(
      `builtin '${b.name}' exists in ${b.dims.map((d) => `${d}-D`).join(', ')} only, but the domain has ${dim} axes (got ${show(b.name)})`,
      { file, field: 'landscape.builtin' },
    );
  }
  const defaults = b.defaults(dim);
  const derivedNames = Object.keys(b.derived?.(defaults, dim) ?? {});
  for (const name of Object.keys(userParams)) {
    if (derivedNames.includes(name)) {
      throw new InputError(`'${name}' of builtin '${b.name}' is computed from the other params and cannot be set (got ${show(userParams[name])})`, {
        file,
        field: `landscape.params.${name}`,
      });
    }
    if (!Object.hasOwn(defaults, name)) {
      const known = Object.keys(defaults);
      throw new InputError(
        `unknown parameter for builtin '${b.name}' in ${dim}-D (allowed: ${known.join(', ') || 'none'}) (got ${show(name)})`,
        { file, field: `landscape.params.${name}` },
      );
    }
  }
  const merged = { ...defaults, ...userParams };
  const params = { ...merged, ...(b.derived?.(merged, dim) ?? {}) };
  const source = b.template(dim);
  const compiled = compileExpr(source, params, dim, 'landscape.builtin', file);
  return { source, params, compiled, doc: b.doc };
}
