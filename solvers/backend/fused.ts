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
