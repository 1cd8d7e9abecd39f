/**
 * The basis sweeps' WebAssembly twins (solvers/kernels/wasm-module.ts basisDots4, basisCombine4)
 * against the JavaScript loops of solvers/basis-kernels.ts, written out again here: the same sums
 * in the same order, so the same bits, for every basis size (whole groups of four and the partial
 * last group), any range, and slots outside the asked-for sums left alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { addCombinationRange, DOT_SLOTS, DOTS_PER_DISPATCH, eigenDots } from '../solvers/basis-kernels.js';
import { inArena, setWasmKernels, wasmFor, wasmKernelsEnabled } from '../solvers/exec/arena.js';
import { sharedFloat64 } from '../solvers/shared-memory.js';

afterEach(() => setWasmKernels(true));

/** Seeded values over several magnitudes (cancellation makes order visible in the last bits). */
function seeded(n: number, seed: number): Float64Array {
  const a = sharedFloat64(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 2 ** 32) * 2 - 1) * 10 ** ((i % 7) - 3);
  }
  return a;
}

/** The reference loops, index order per sum, four-term grouping of a combination as documented. */
function refDots(x: Float64Array, qs: readonly Float64Array[], lo: number, hi: number): { c: number[]; xx: number } {
  const c = qs.map(() => 0);
  let xx = 0;
  for (let i = lo; i < hi; i++) {
    xx += x[i] * x[i];
    for (let l = 0; l < qs.length; l++) c[l] += x[i] * qs[l][i];
  }
  return { c, xx };
}

function refCombine(out: Float64Array, qs: readonly Float64Array[], c: readonly number[], sign: 1 | -1, lo: number, hi: number): void {
  for (let l = 0; l < qs.length; l += 4) {
    const t = (k: number): number => (l + k < qs.length ? sign * c[l + k] : 0);
    const q = (k: number): Float64Array => qs[Math.min(l + k, qs.length - 1)];
    for (let i = lo; i < hi; i++) out[i] += t(0) * q(0)[i] + t(1) * q(1)[i] + t(2) * q(2)[i] + t(3) * q(3)[i];
  }
}

const bits = (a: ArrayLike<number>): string => Buffer.from(Float64Array.from(a).buffer).toString('hex');

describe('basis sweeps: WebAssembly and JavaScript give the same bits', () => {
  it('the arrays are arena views and the WebAssembly kernels exist (else this file tests nothing)', () => {
    expect(wasmKernelsEnabled()).toBe(true);
    const a = seeded(16, 1);
    expect(inArena(a)).toBe(true);
    const k = wasmFor(a) as unknown as Record<string, unknown> | null;
    expect(typeof k?.basisDots4).toBe('function');
    expect(typeof k?.basisCombine4).toBe('function');
  });

  for (const n of [1, 7, 1000, 4099]) {
    it(`eigenDots on ${n} cells, 1 to ${DOTS_PER_DISPATCH} vectors, two blocks`, () => {
      const x = seeded(n, 11);
      const qs = Array.from({ length: DOTS_PER_DISPATCH }, (_, l) => seeded(n, 100 + l));
      const mid = Math.floor(n / 3);
      const edges = [0, mid, n];
      for (let g = 1; g <= DOTS_PER_DISPATCH; g++) {
        for (const wasm of [true, false]) {
          setWasmKernels(wasm);
          const out = sharedFloat64(2 * DOT_SLOTS);
          // The caller zeroes the sums (an empty block writes nothing); the slots past g are marked.
          out.fill(0);
          for (let b = 0; b < 2; b++) out.fill(Number.NaN, b * DOT_SLOTS + g, b * DOT_SLOTS + DOTS_PER_DISPATCH);
          for (let b = 0; b < 2; b++) eigenDots([x, out, ...qs.slice(0, g)], [], [g, 1, ...edges], edges[b], edges[b + 1]);
          for (let b = 0; b < 2; b++) {
            const r = refDots(x, qs.slice(0, g), edges[b], edges[b + 1]);
            expect(bits(out.subarray(b * DOT_SLOTS, b * DOT_SLOTS + g))).toBe(bits(r.c));
            expect(Object.is(out[b * DOT_SLOTS + DOTS_PER_DISPATCH], r.xx)).toBe(true);
            // Slots between the g sums and ‖x‖² are not written (a group of four stores four).
            for (let l = g; l < DOTS_PER_DISPATCH; l++) expect(out[b * DOT_SLOTS + l]).toBeNaN();
          }
        }
      }
    });

    it(`addCombinationRange on ${n} cells, 1 to 9 vectors, both signs, a sub-range`, () => {
      for (let m = 1; m <= 9; m++) {
        const qs = Array.from({ length: m }, (_, l) => seeded(n, 300 + l));
        const c = Array.from({ length: m }, (_, l) => (l % 2 ? -1 : 1) * 1.37 ** l * 1e-3);
        const lo = Math.floor(n / 5);
        const hi = n - Math.floor(n / 7);
        for (const sign of [1, -1] as const) {
          const ref = Float64Array.from(seeded(n, 7));
          refCombine(ref, qs, c, sign, lo, hi);
          for (const wasm of [true, false]) {
            setWasmKernels(wasm);
            const out = seeded(n, 7);
            addCombinationRange(out, qs, c, sign, lo, hi);
            expect(bits(out)).toBe(bits(ref));
          }
        }
      }
    });
  }
});
