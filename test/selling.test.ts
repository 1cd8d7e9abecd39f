/**
 * Selling's decomposition (solvers/anisotropic/selling.ts): D = Σ w_e e eᵀ with w_e ≥ 0 on integer
 * offsets, checked by rebuilding D from the terms (exactness), on random symmetric positive
 * definite matrices with condition numbers up to 1e3; the decomposition commutes with the lattice
 * symmetries (axis permutations and sign flips P: the terms of PDPᵀ are P e with the same weights —
 * Selling's decomposition is unique in 2-D and 3-D, Conway & Sloane, Proc. R. Soc. A 436, 1992);
 * and the hand-computable cases of docs/design.md §2 "Diffusion matrices".
 */
import { describe, expect, it } from 'vitest';
import { fc, test as ftest } from '@fast-check/vitest';
import { canonicalOffset, selling, sellingScratch } from '../solvers/anisotropic/selling.js';

/** Q diag(λ) Qᵀ with Q from Givens rotations by the given angles (1 angle in 2-D, 3 in 3-D). */
function spd(d: number, angles: number[], logLam: number[]): number[] {
  const q: number[] = Array.from({ length: d * d }, (_, k) => (k % (d + 1) === 0 ? 1 : 0));
  const planes = d === 2 ? [[0, 1]] : [[0, 1], [1, 2], [0, 2]];
  planes.forEach(([p, r], t) => {
    const c = Math.cos(angles[t]);
    const s = Math.sin(angles[t]);
    for (let k = 0; k < d; k++) {
      const a = q[k * d + p];
      const b = q[k * d + r];
      q[k * d + p] = c * a - s * b;
      q[k * d + r] = s * a + c * b;
    }
  });
  const m = new Array<number>(d * d).fill(0);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) for (let k = 0; k < d; k++) m[a * d + b] += q[a * d + k] * Math.exp(logLam[k]) * q[b * d + k];
  return m;
}

/** The decomposition as a map canonical offset → weight (weights below `tiny` left out). */
function terms(d: number, m: number[], tiny: number): Map<string, number> {
  const r = selling(d, m, sellingScratch(d));
  expect(r.converged).toBe(true);
  const out = new Map<string, number>();
  for (let t = 0; t < r.count; t++) {
    if (r.weights[t] <= tiny) continue;
    const key = canonicalOffset(Array.from(r.offsets.subarray(d * t, d * t + d))).join(',');
    out.set(key, (out.get(key) ?? 0) + r.weights[t]);
  }
  return out;
}

function rebuild(d: number, t: Map<string, number>): number[] {
  const m = new Array<number>(d * d).fill(0);
  for (const [key, w] of t) {
    const e = key.split(',').map(Number);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) m[a * d + b] += w * e[a] * e[b];
  }
  return m;
}

const cond = (d: number): fc.Arbitrary<number[]> => fc.array(fc.double({ min: 0, max: Math.log(1e3), noNaN: true }), { minLength: d, maxLength: d });
const angles = (d: number): fc.Arbitrary<number[]> => fc.array(fc.double({ min: 0, max: Math.PI, noNaN: true }), { minLength: d === 2 ? 1 : 3, maxLength: d === 2 ? 1 : 3 });

describe.each([2, 3])('Selling in %i-D', (d) => {
  ftest.prop([angles(d), cond(d)], { numRuns: 300 })('Σ w e eᵀ = D with w ≥ 0, condition numbers up to 1e3', (ang, lam) => {
    const m = spd(d, ang, lam);
    const r = selling(d, m, sellingScratch(d));
    expect(r.converged).toBe(true);
    const rec = new Array<number>(d * d).fill(0);
    for (let t = 0; t < r.count; t++) {
      expect(r.weights[t]).toBeGreaterThanOrEqual(0);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) rec[a * d + b] += r.weights[t] * r.offsets[d * t + a] * r.offsets[d * t + b];
    }
    const scale = Math.max(...m.map(Math.abs));
    for (let k = 0; k < d * d; k++) expect(Math.abs(rec[k] - m[k])).toBeLessThanOrEqual(1e-12 * scale);
  });

  ftest.prop([angles(d), cond(d), fc.integer({ min: 0, max: d === 2 ? 1 : 5 }), fc.array(fc.boolean(), { minLength: d, maxLength: d })], { numRuns: 200 })(
    'commutes with axis permutations and sign flips',
    (ang, lam, perm, flips) => {
      const m = spd(d, ang, lam);
      const perms = d === 2 ? [[0, 1], [1, 0]] : [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
      const p = perms[perm];
      const sgn = flips.map((f) => (f ? -1 : 1));
      // (P x)_a = sgn_a x_{p[a]};  (P D Pᵀ)_ab = sgn_a sgn_b D_{p[a] p[b]}.
      const pm = new Array<number>(d * d);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) pm[a * d + b] = sgn[a] * sgn[b] * m[p[a] * d + p[b]];
      const scale = Math.max(...m.map(Math.abs));
      const tiny = 1e-10 * scale;
      const base = terms(d, m, tiny);
      const moved = terms(d, pm, tiny);
      const expected = new Map<string, number>();
      for (const [key, w] of base) {
        const e = key.split(',').map(Number);
        const pe = canonicalOffset(Array.from({ length: d }, (_, a) => sgn[a] * e[p[a]])).join(',');
        expected.set(pe, w);
      }
      expect([...moved.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [key, w] of expected) expect(Math.abs(moved.get(key)! - w)).toBeLessThanOrEqual(1e-11 * scale);
    },
  );
});

describe('hand-computed decompositions', () => {
  it('2-D: a diagonal matrix uses the axes only; [[2,1],[1,2]] is (1,0), (0,1), (1,1) with weight 1 each', () => {
    expect(terms(2, [3, 0, 0, 0.5], 0)).toEqual(new Map([['1,0', 3], ['0,1', 0.5]]));
    expect(terms(2, [2, 1, 1, 2], 0)).toEqual(new Map([['1,0', 1], ['0,1', 1], ['1,1', 1]]));
    expect(terms(2, [2, -1, -1, 2], 0)).toEqual(new Map([['1,0', 1], ['0,1', 1], ['1,-1', 1]]));
  });
  it('2-D rank 1 on a lattice direction: D = (1,2)(1,2)ᵀ is one term', () => {
    expect(terms(2, [1, 2, 2, 4], 0)).toEqual(new Map([['1,2', 1]]));
  });
  it('2-D [[5,2],[2,1]] = (2,1)(2,1)ᵀ + (1,0)(1,0)ᵀ', () => {
    expect(terms(2, [5, 2, 2, 1], 0)).toEqual(new Map([['2,1', 1], ['1,0', 1]]));
  });
  it('3-D: the identity uses the axes; D = 2I − (sum of off-diagonal ones) fits max-norm 1', () => {
    expect(terms(3, [1, 0, 0, 0, 1, 0, 0, 0, 1], 0)).toEqual(new Map([['1,0,0', 1], ['0,1,0', 1], ['0,0,1', 1]]));
    const t = terms(3, [3, 1, 1, 1, 3, 1, 1, 1, 3], 0);
    const rec = rebuild(3, t);
    expect(rec).toEqual([3, 1, 1, 1, 3, 1, 1, 1, 3]);
    for (const k of t.keys()) expect(k.split(',').every((v) => Math.abs(Number(v)) <= 1)).toBe(true);
  });
  it('a zero matrix has no weight', () => {
    expect(terms(2, [0, 0, 0, 0], 0).size).toBe(0);
    expect(terms(3, new Array(9).fill(0), 0).size).toBe(0);
  });
});
