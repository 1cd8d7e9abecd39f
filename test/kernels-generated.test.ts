/**
 * Every generated CPU kernel (solvers/kernels/stencils.ts, compiled by emit-js.ts and
 * emit-wasm.ts) on every backend of the registry, against definitions written differently here:
 * the generator A and the symmetric S as dense matrices assembled face by face from the
 * Scharfetter–Gummel flux (docs/scheme.md: flux_ij = c B(ψ_j − ψ_i) ρ_i − c B(ψ_i − ψ_j) ρ_j,
 * S_ij = √(B(z)B(−z)) c), for random ψ and face diffusions on odd 1/2/3-D boxes; Gauss–Seidel
 * sweeps against a dense triangular solve; restriction and prolongation against Pᵀ and P as
 * matrices; reductions against plain loops. Tolerances, not bits: only the JS and WebAssembly
 * twins of one description promise equal bits (test/wasm-kernels.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { kernel, type KernelBackend } from '../solvers/kernels/registry.js';
import { inArena, wasmKernelsEnabled } from '../solvers/exec/arena.js';
import { sharedFloat64, sharedInt32 } from '../solvers/shared-memory.js';
import { emitJs } from '../solvers/kernels/emit-js.js';
import { lit, rd, store, type KernelDesc } from '../solvers/kernels/describe.js';

/** Deterministic uniform [0, 1) numbers (a 32-bit LCG), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A copy in the arena (where the WebAssembly kernels can reach it). */
function arena(a: ArrayLike<number>): Float64Array {
  const out = sharedFloat64(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

/** Bernoulli function z / (e^z − 1), written here from its definition. */
const bern = (z: number): number => (Math.abs(z) < 1e-8 ? 1 - z / 2 : z / Math.expm1(z));

interface Box {
  n: number[];
  size: number;
  strides: number[];
  /** Per axis, indexed by the face's lower cell: c B(z) (ρ_i's coefficient), c B(−z), and √ of their product. */
  fw: Float64Array[];
  bw: Float64Array[];
  sym: Float64Array[];
  /** Dense A and S, row-major size × size. */
  A: Float64Array;
  S: Float64Array;
  od: Float64Array;
}

function box(n: number[], seed: number): Box {
  const r = rng(seed);
  const size = n.reduce((a, b) => a * b, 1);
  const strides = n.map((_, k) => n.slice(k + 1).reduce((a, b) => a * b, 1));
  const psi = Array.from({ length: size }, () => 6 * r() - 3);
  const A = new Float64Array(size * size);
  const S = new Float64Array(size * size);
  const fw: Float64Array[] = [];
  const bw: Float64Array[] = [];
  const sym: Float64Array[] = [];
  for (let k = 0; k < n.length; k++) {
    const [f, b, w] = [new Float64Array(size), new Float64Array(size), new Float64Array(size)];
    for (let i = 0; i < size; i++) {
      if (Math.floor(i / strides[k]) % n[k] === n[k] - 1) continue; // upper wall: no face
      const j = i + strides[k];
      const c = 0.5 + 2 * r();
      const z = psi[j] - psi[i];
      f[i] = c * bern(z);
      b[i] = c * bern(-z);
      w[i] = Math.sqrt(f[i] * b[i]);
      // flux i → j = f ρ_i − b ρ_j leaves i and enters j
      A[i * size + i] -= f[i];
      A[j * size + i] += f[i];
      A[i * size + j] += b[i];
      A[j * size + j] -= b[i];
      S[i * size + j] += w[i];
      S[j * size + i] += w[i];
    }
    fw.push(f);
    bw.push(b);
    sym.push(w);
  }
  const od = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    od[i] = -A[i * size + i];
    S[i * size + i] = A[i * size + i];
  }
  return { n, size, strides, fw, bw, sym, A, S, od };
}

const matvec = (M: Float64Array, v: ArrayLike<number>, size: number): Float64Array => {
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) out[i] += M[i * size + j] * v[j];
  return out;
};

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rel = 1e-13): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `cell ${i}`).toBeLessThanOrEqual(rel * Math.max(scale, 1e-300));
}

const shapes = [[13], [7, 5], [5, 1], [3, 9], [5, 4, 3], [3, 5, 7], [1, 4, 3]];
const backends: KernelBackend[] = ['js', 'wasm'];
const outerStrides = (b: Box): number[] => b.strides.slice(0, -1);
const vector = (size: number, seed: number, lo = -1, hi = 1): Float64Array => {
  const r = rng(seed);
  return arena(Array.from({ length: size }, () => lo + (hi - lo) * r()));
};

describe('the generated kernels run on both backends', () => {
  it('the WebAssembly backend really runs WebAssembly here', () => {
    expect(wasmKernelsEnabled()).toBe(true);
    expect(inArena(sharedFloat64(4))).toBe(true);
  });
});

for (const backend of backends) {
  describe(`stencils against the assembled matrices (${backend})`, () => {
    for (const n of shapes) {
      const d = n.length;
      const b = box(n, 17 * d + n[0]);
      const v = vector(b.size, 3);
      const p = [...outerStrides(b), b.size];
      it(`${n.join('×')}: A ρ, S v and (I − θS) v`, () => {
        const rho = vector(b.size, 5, 0.1, 2);
        const out = sharedFloat64(b.size);
        kernel('apply', d, backend).range([...b.fw.flatMap((f, k) => [arena(f), arena(b.bw[k])]), arena(b.od), rho, out], [], p, 0, b.size);
        expectClose(out, matvec(b.A, rho, b.size));
        const sv = sharedFloat64(b.size);
        const w = b.sym.map(arena);
        kernel('sym', d, backend).range([...w, arena(b.od), v, sv], [], p, 0, b.size);
        const Sv = matvec(b.S, v, b.size);
        expectClose(sv, Sv);
        const th = 0.37;
        kernel('shifted', d, backend).range([...w, arena(b.od), v, sv], [], [th, ...p], 0, b.size);
        expectClose(sv, Array.from(Sv, (x, i) => v[i] - th * x));
        // the fused RKL2 stage and the convex Euler step, with A y1 from the matrix
        const [y2, y0, l0] = [vector(b.size, 23), vector(b.size, 25), vector(b.size, 27)];
        const [mu, nu, ca, g] = [1.3, -0.4, 0.05, -0.02];
        const coef = [...b.fw.flatMap((f, k) => [arena(f), arena(b.bw[k])]), arena(b.od)];
        const Ay = matvec(b.A, rho, b.size);
        kernel('rkl2Stage', d, backend).range([...coef, rho, y2, y0, l0, out], [], [mu, nu, 1 - mu - nu, ca, g, ...p], 0, b.size);
        expectClose(out, Array.from(rho, (y, i) => mu * y + nu * y2[i] + (1 - mu - nu) * y0[i] + ca * Ay[i] + g * l0[i]));
        for (const euler of ['eulerConvex', 'eulerStep']) {
          kernel(euler, d, backend).range([...coef, rho, out], [], [0.01, ...p], 0, b.size);
          expectClose(out, Array.from(rho, (y, i) => y + 0.01 * Ay[i]));
        }
        // any split of the range gives the same values (the threads' blocks, checked ends inside)
        const pieces = sharedFloat64(b.size);
        const cuts = [0, 1, Math.floor(b.size / 3), b.size - 2, b.size].filter((c, i, a) => c >= 0 && c <= b.size && (i === 0 || c > a[i - 1]));
        for (let c = 0; c + 1 < cuts.length; c++) kernel('shifted', d, backend).range([...w, arena(b.od), v, pieces], [], [th, ...p], cuts[c], cuts[c + 1]);
        expect(Array.from(pieces)).toEqual(Array.from(sv));
      });

      if (d < 2) continue;
      const th = 0.7;
      const diag = Float64Array.from(b.od, (x) => 1 + th * x);
      const M = Float64Array.from(b.S, (x, k) => (Math.floor(k / b.size) === k % b.size ? 1 : 0) - th * x);
      it(`${n.join('×')}: Gauss–Seidel sweeps equal the triangular solves of I − θS`, () => {
        const rhs = vector(b.size, 7);
        const x0 = vector(b.size, 9);
        for (const forward of [true, false]) {
          // forward: (D + L) x = b − U x0, by substitution in index order (backward: the transpose)
          const want = Float64Array.from(x0);
          const order = forward ? [...Array(b.size).keys()] : [...Array(b.size).keys()].reverse();
          for (const i of order) {
            let s = rhs[i];
            for (let j = 0; j < b.size; j++) if (j !== i) s -= M[i * b.size + j] * want[j];
            want[i] = s / M[i * b.size + i];
          }
          const x = arena(x0);
          kernel(forward ? 'gsForward' : 'gsBackward', d, backend).range([rhs, x, arena(diag.map((g) => 1 / g)), ...b.sym.map(arena)], [], [th, ...p], 0, b.size);
          expectClose(x, want, 1e-12);
        }
      });

      it(`${n.join('×')}: restriction Pᵀ and prolongation P as matrices`, () => {
        const r = rng(11);
        const coarse = Math.ceil(b.size / 3);
        const agg = sharedInt32(b.size);
        for (let i = 0; i < b.size; i++) agg[i] = Math.floor(r() * coarse);
        const pw = vector(b.size, 13, 0.2, 1);
        const rhs = vector(b.size, 15);
        const x = vector(b.size, 19);
        // bc = Pᵀ (b − M x)
        const res = matvec(M, x, b.size).map((mx, i) => rhs[i] - mx);
        const want = new Float64Array(coarse);
        for (let i = 0; i < b.size; i++) want[agg[i]] += pw[i] * res[i];
        const bc = sharedFloat64(coarse);
        kernel('restrictResidual', d, backend).range([rhs, x, arena(diag), pw, bc, ...b.sym.map(arena)], [agg], [th, ...p], 0, b.size);
        expectClose(bc, want, 1e-12);
        // bc = Pᵀ θ U x: the residual after a forward sweep from 0 keeps only upper neighbours
        const wantU = new Float64Array(coarse);
        for (let i = 0; i < b.size; i++) {
          let s = 0;
          for (let j = i + 1; j < b.size; j++) s += b.S[i * b.size + j] * x[j];
          wantU[agg[i]] += pw[i] * th * s;
        }
        bc.fill(0);
        kernel('restrictSweep', d, backend).range([pw, x, bc, ...b.sym.map(arena)], [agg], [th, ...p], 0, b.size);
        expectClose(bc, wantU, 1e-12);
        // x += c P xc
        const xc = vector(coarse, 21);
        const y = arena(x);
        kernel('prolongAdd', null, backend).range([pw, xc, y], [agg], [1.5], 0, b.size);
        expectClose(y, Array.from(x, (xi, i) => xi + 1.5 * pw[i] * xc[agg[i]]));
      });
    }
  });

  describe(`vector kernels and reductions against plain loops (${backend})`, () => {
    const size = 1001;
    const [x, y, z, u] = [1, 2, 3, 4].map((s) => vector(size, s));
    const pos = vector(size, 6, 0.5, 2);
    const run = (name: string, a: Float64Array[], p: number[] = []): number => kernel(name, null, backend).range(a, [], p, 0, size);
    const loop = (f: (i: number) => number): Float64Array => Float64Array.from({ length: size }, (_, i) => f(i));
    const plainSum = (f: (i: number) => number): number => {
      let s = 0;
      for (let i = 0; i < size; i++) s += f(i);
      return s;
    };
    it('dot, sum, |·| sum, min, max', () => {
      expect(run('minimum', [x])).toBe(Math.min(...x));
      expect(run('maximum', [x])).toBe(Math.max(...x));
      expect(run('dot', [x, y])).toBeCloseTo(plainSum((i) => x[i] * y[i]), 12);
      expect(run('sum', [x])).toBeCloseTo(plainSum((i) => x[i]), 12);
      expect(run('norm1', [x])).toBeCloseTo(plainSum((i) => Math.abs(x[i])), 12);
      expect(run('norm1', [x])).toBeGreaterThan(Math.abs(run('sum', [x])));
    });
    it('maps: lincomb, scaleBy, scale, divide, multiply, accumulate, fill, zero, Jacobi on I − θS', () => {
      const out = sharedFloat64(size);
      run('lincomb', [x, y, out], [0.3, -1.7]);
      expectClose(out, loop((i) => 0.3 * x[i] - 1.7 * y[i]));
      run('scaleBy', [pos, x, out]);
      expectClose(out, loop((i) => pos[i] * x[i]));
      run('divide', [x, pos, out]);
      expectClose(out, loop((i) => x[i] / pos[i]));
      run('multiply', [x, pos, out]);
      expectClose(out, loop((i) => x[i] * pos[i]));
      const acc = arena(y);
      run('accumulate', [acc, x], [0.25]);
      expectClose(acc, loop((i) => y[i] + 0.25 * x[i]));
      run('scale', [acc], [-2]);
      expectClose(acc, loop((i) => -2 * (y[i] + 0.25 * x[i])));
      run('fill', [out], [2.5]);
      expect(out.every((v) => v === 2.5)).toBe(true);
      run('jacobiShifted', [pos, x, out], [0.3]);
      expectClose(out, loop((i) => x[i] / (1 + 0.3 * pos[i])));
      run('zero', [out]);
      expect(out.every((v) => v === 0)).toBe(true);
    });
    it('the CG update returns the new ‖r‖²', () => {
      const [ys, rs] = [arena(z), arena(u)];
      const rr = run('cgUpdate', [x, y, ys, rs], [0.731]);
      expectClose(ys, loop((i) => z[i] + 0.731 * x[i]));
      expectClose(rs, loop((i) => u[i] - 0.731 * y[i]));
      expect(rr).toBeCloseTo(plainSum((i) => (u[i] - 0.731 * y[i]) ** 2), 10);
    });
  });
}

describe('the description language', () => {
  it('refuses a kernel that reads at an offset without a size parameter, and names that are not identifiers', () => {
    const bad: KernelDesc = { name: 'bad', arrays: ['x', 'out'], params: [], body: [store('out', rd('x', 1))] };
    expect(() => emitJs(bad)).toThrow(/size/);
    const badName: KernelDesc = { name: 'bad2', arrays: ['x y'], params: [], body: [store('x y', lit(0))] };
    expect(() => emitJs(badName)).toThrow(/bad name/);
  });
});

describe('gpu.js sources (solvers/backend/kernels.ts, generated) in gpu.js CPU mode against the same matrices', async () => {
  const gpujs = (await import('gpu.js')).default as unknown as { GPU: new (s: { mode: string }) => { createKernel(src: string, settings: Record<string, unknown>): (...args: unknown[]) => Float32Array | Float64Array; destroy(): void } };
  const { kernelSources } = await import('../solvers/backend/kernels.js');
  for (const n of [[13], [7, 5], [5, 4, 3]]) {
    it(`${n.join('×')}: apply, Euler, RKL2, (I − θS), Jacobi, products and row reductions`, () => {
      const d = n.length;
      const b = box(n, 31 + d);
      const gpu = new gpujs.GPU({ mode: 'cpu' });
      const L = 16;
      const rows = Math.ceil(b.size / L);
      const constants: Record<string, number> = { size: b.size, K: 2 * d + 1, KS: d + 1, L };
      for (let k = 0; k < d; k++) constants[`s${k}`] = b.strides[k];
      const src = kernelSources(d);
      const make = (name: keyof typeof src, output = b.size) => gpu.createKernel(src[name], { constants, output: [output], precision: 'single' });
      const coef = new Float64Array(b.size * (2 * d + 1));
      const sym = new Float64Array(b.size * (d + 1));
      for (let i = 0; i < b.size; i++) {
        for (let k = 0; k < d; k++) {
          coef[i * (2 * d + 1) + 2 * k] = b.fw[k][i];
          coef[i * (2 * d + 1) + 2 * k + 1] = b.bw[k][i];
          sym[i * (d + 1) + k] = b.sym[k][i];
        }
        coef[i * (2 * d + 1) + 2 * d] = b.od[i];
        sym[i * (d + 1) + d] = b.od[i];
      }
      const r = Array.from(vector(b.size, 41, 0.1, 2));
      const [y2, y0, l0] = [43, 45, 47].map((s) => Array.from(vector(b.size, s)));
      const Ar = matvec(b.A, r, b.size);
      const Sr = matvec(b.S, r, b.size);
      const tol = 1e-5;
      expectClose(make('apply')(r, coef), Ar, tol);
      expectClose(make('euler')(r, coef, 0.01), r.map((v, i) => v + 0.01 * Ar[i]), tol);
      expectClose(make('rkl2')(r, y2, y0, l0, coef, 1.3, -0.4, 0.1, 0.05, -0.02), r.map((v, i) => 1.3 * v - 0.4 * y2[i] + 0.1 * y0[i] + 0.05 * Ar[i] - 0.02 * l0[i]), tol);
      expectClose(make('shifted')(r, sym, 0.37), r.map((v, i) => v - 0.37 * Sr[i]), tol);
      expectClose(make('jacobi')(r, sym, 0.37), r.map((v, i) => v / (1 + 0.37 * b.od[i])), tol);
      expectClose(make('mul')(r, y2), r.map((v, i) => v * y2[i]), tol);
      expectClose(make('lincomb')(0.5, r, -2, y2), r.map((v, i) => 0.5 * v - 2 * y2[i]), tol);
      const rowsOf = (f: (lo: number, hi: number) => number): number[] => Array.from({ length: rows }, (_, k) => f(k * L, Math.min(b.size, (k + 1) * L)));
      const part = (xs: number[], lo: number, hi: number) => xs.slice(lo, hi);
      expectClose(make('rowDot', rows)(r, y2), rowsOf((lo, hi) => part(r, lo, hi).reduce((s, v, j) => s + v * y2[lo + j], 0)), tol);
      expectClose(make('rowSum', rows)(y2), rowsOf((lo, hi) => part(y2, lo, hi).reduce((s, v) => s + v, 0)), tol);
      expectClose(make('rowAbsSum', rows)(y2), rowsOf((lo, hi) => part(y2, lo, hi).reduce((s, v) => s + Math.abs(v), 0)), tol);
      expectClose(make('rowMin', rows)(y2), rowsOf((lo, hi) => Math.min(...part(y2, lo, hi))), tol);
      expectClose(make('rowMax', rows)(y2), rowsOf((lo, hi) => Math.max(...part(y2, lo, hi))), tol);
      expect(Array.from(make('fill')(1.5))).toEqual(new Array(b.size).fill(1.5));
      gpu.destroy();
    });
  }
});
