// ndarray-ops ships no types (and DefinitelyTyped has none); only the operations fpsolve uses are
// declared. It is CommonJS with exports made in a loop, so Node's ESM import sees it as one default object.
declare module 'ndarray-ops' {
  import type { NdArray } from 'ndarray';
  type A = NdArray<Float64Array>;
  interface NdarrayOps {
    /** a = b, element by element (any strides on either side). */
    assign(a: A, b: A): A;
    /** a = s. */
    assigns(a: A, s: number): A;
    /** a /= s. */
    divseq(a: A, s: number): A;
    /** a = b * s. */
    muls(a: A, b: A, s: number): A;
    /** a *= s. */
    mulseq(a: A, s: number): A;
    /** Σ a, accumulated in memory order. */
    sum(a: A): number;
    /** max a. */
    sup(a: A): number;
    /** min a. */
    inf(a: A): number;
  }
  const ops: NdarrayOps;
  export default ops;
}
