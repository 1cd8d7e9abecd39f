import type { Backend, Field } from './types.js';

/**
 * out = a x + b y, returning ⟨z, out⟩: the backend's one-pass lincombDot where it has one, else
 * lincomb then dot — the same bits either way (the optional method's contract in types.ts).
 */
export async function lincombDot(B: Backend, a: number, x: Field, b: number, y: Field, out: Field, z: Field): Promise<number> {
  if (B.lincombDot) return B.lincombDot(a, x, b, y, out, z);
  await B.lincomb(a, x, b, y, out);
  return B.dot(z, out);
}

/**
 * Multi-vector passes a backend may have (CpuBackend): the classical Gram–Schmidt's block form.
 * Not in Backend: the float32 device backends keep their Krylov vectors elsewhere (RefinedBackend
 * on the host) and take the per-vector path.
 */
export interface BlockPasses {
  /** c_l = ⟨x, q_l⟩ for l < qs.length. */
  dots(x: Field, qs: readonly Field[], c: Float64Array): Promise<void>;
  /** x −= Σ c_l q_l. */
  subtractCombination(x: Field, qs: readonly Field[], c: ArrayLike<number>): Promise<void>;
}

export function blockPasses(B: Backend): BlockPasses | undefined {
  const b = B as Partial<BlockPasses>;
  return typeof b.dots === 'function' && typeof b.subtractCombination === 'function' ? (B as Backend & BlockPasses) : undefined;
}
