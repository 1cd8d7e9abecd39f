/**
 * Set-up results that a process computes again and again when it runs many points of one sweep
 * (`fpsolve worker`, `fpsolve sweep --in-process`) although nothing they depend on changes: an ησ
 * sweep changes π but not the initial density or the basins of f. Each slot keeps its last result
 * with the exact inputs it came from (a key string and, compared element by element, the arrays);
 * a run whose inputs are the same gets a copy, so nothing a run does to it reaches the next run
 * and the results are the bits a fresh computation gives (test/sweep-reuse.test.ts).
 *
 * Grids above MAX_CELLS keep nothing: there a copy is memory the run may need, and the set-up is
 * a small part of the run.
 */

const MAX_CELLS = 1 << 20;

interface Entry {
  key: string;
  arrays: Float64Array[];
  value: unknown;
}

const slots = new Map<string, Entry>();
const hits = new Map<string, number>();

function sameArrays(a: readonly Float64Array[], b: readonly Float64Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    const x = a[k];
    const y = b[k];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  }
  return true;
}

/**
 * `compute()`, or a copy of the last value of `slot` when it came from the same `key` and `arrays`.
 * `copy` must give a value that shares nothing mutable with its argument.
 */
export function reuseLast<V>(slot: string, cells: number, key: string, arrays: readonly Float64Array[], compute: () => V, copy: (v: V) => V): V {
  if (cells > MAX_CELLS) return compute();
  const e = slots.get(slot);
  if (e !== undefined && e.key === key && sameArrays(e.arrays, arrays)) {
    hits.set(slot, (hits.get(slot) ?? 0) + 1);
    return copy(e.value as V);
  }
  slots.delete(slot);
  const value = compute();
  slots.set(slot, { key, arrays: arrays.map((a) => a.slice()), value: copy(value) });
  return value;
}

/** A key for plain data: JSON, with the numbers JSON would merge kept apart (non-finite ones written as null, −0 as 0). */
export function reuseKey(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `#${v}` : Object.is(v, -0) ? '#-0' : v)) ?? 'undefined';
}

/** Times `slot` was served from its last value (tests, diagnostics). */
export function reuseHits(slot: string): number {
  return hits.get(slot) ?? 0;
}

/** Forgets every kept value: the next run computes everything (tests compare with it). */
export function clearReuse(): void {
  slots.clear();
}
