// The zero-set analysis (src/diagnostics/zero-set.ts) searches from the k lowest cells; it finds
// the cut value by a selection (kthSmallest) instead of sorting every cell's value (issue #19:
// set-up time of a plain run). The independent method is the numeric sort it replaced: the value
// must be the one the sort puts at index k, on every kind of input a grid can give (ties, plateaus,
// already sorted or reversed, signed zeros, the organ-pipe order that degrades a naive pivot).
import { describe, expect, it } from 'vitest';
import { kthSmallest } from '../src/diagnostics/zero-set.js';

/** A deterministic generator (mulberry32): the test must not depend on Math.random. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bySort(a: Float64Array, k: number): number {
  return Float64Array.from(a).sort()[k];
}

const inputs: Record<string, (n: number, r: () => number) => Float64Array> = {
  uniform: (n, r) => Float64Array.from({ length: n }, () => r()),
  'few distinct values (ties)': (n, r) => Float64Array.from({ length: n }, () => Math.floor(r() * 4)),
  constant: (n) => new Float64Array(n).fill(0.05),
  sorted: (n) => Float64Array.from({ length: n }, (_, i) => i * 1e-3),
  reversed: (n) => Float64Array.from({ length: n }, (_, i) => (n - i) * 1e-3),
  'organ pipe': (n) => Float64Array.from({ length: n }, (_, i) => Math.min(i, n - 1 - i)),
  'signed zeros and negatives': (n, r) => Float64Array.from({ length: n }, () => (r() < 0.3 ? -0 : r() < 0.5 ? 0 : r() - 0.5)),
  'a double well on a grid (f = 0.05 + (x² − 1)² + y²)': (n) => {
    const m = Math.round(Math.sqrt(n));
    return Float64Array.from({ length: m * m }, (_, i) => {
      const x = -2 + (4 * ((i % m) + 0.5)) / m;
      const y = -2 + (4 * (Math.floor(i / m) + 0.5)) / m;
      return 0.05 + (x * x - 1) ** 2 + y * y;
    });
  },
};

describe('kthSmallest gives the value a numeric sort puts at index k', () => {
  for (const [name, make] of Object.entries(inputs)) {
    it(name, () => {
      const r = rng(17);
      for (const n of [1, 2, 3, 10, 257, 4096]) {
        const a = make(n, r);
        for (const k of [0, 1, a.length >> 1, a.length - 2, a.length - 1, Math.floor(r() * a.length)]) {
          if (k < 0 || k >= a.length) continue;
          const want = bySort(a, k);
          const got = kthSmallest(Float64Array.from(a), k);
          // == rather than Object.is: the cut is used as fc[i] <= cut, where −0 and 0 are the same.
          expect(got === want, `${name}, n = ${a.length}, k = ${k}: ${got} vs ${want}`).toBe(true);
        }
      }
    });
  }
});
