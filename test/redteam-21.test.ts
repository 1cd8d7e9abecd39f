/**
 * Red team for issue 21 (docs/design.md, docs/scheme.md): the generated kernels on the degenerate
 * shapes the other kernel tests skip — 1-D boxes of 1 and 2 cells, 2-D boxes with an axis of 1 or 2
 * cells, the 3-D 2×2×2 box, where the checked edge region of a range kernel covers the whole array —
 * split at every possible cut (each piece is what one thread block runs), and run by a kernel team
 * with fewer cells than blocks. The reference is the dense generator assembled here face by face
 * from the Scharfetter–Gummel flux (flux_ij = c B(ψ_j − ψ_i) ρ_i − c B(ψ_i − ψ_j) ρ_j, S_ij =
 * √(B(z)B(−z)) c), not from any solver code.
 */
import { describe, expect, it, vi } from 'vitest';
import { kernel, type KernelBackend } from '../solvers/kernels/registry.js';
import { sharedFloat64 } from '../solvers/shared-memory.js';
import { ThreadTeam } from '../solvers/exec/team.js';
import '../solvers/range-kernels.js'; // registers the kernel table the team's threads look names up in

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const bern = (z: number): number => (Math.abs(z) < 1e-8 ? 1 - z / 2 : z / Math.expm1(z));
const shared = (a: ArrayLike<number>): Float64Array => {
  const out = sharedFloat64(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
};

interface Box { size: number; strides: number[]; fw: Float64Array[]; bw: Float64Array[]; sym: Float64Array[]; od: Float64Array; A: number[][]; S: number[][] }

/** Faces by multi-index (no flat-index arithmetic shared with the kernels): cell (…, i_k, …) and (…, i_k + 1, …). */
function box(n: number[], seed: number): Box {
  const r = rng(seed);
  const size = n.reduce((a, b) => a * b, 1);
  const strides = n.map((_, k) => n.slice(k + 1).reduce((a, b) => a * b, 1));
  const psi = Array.from({ length: size }, () => 6 * r() - 3);
  const A = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  const S = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  const flat = (idx: number[]): number => idx.reduce((acc, v, k) => acc * n[k] + v, 0);
  const fw: Float64Array[] = [], bw: Float64Array[] = [], sym: Float64Array[] = [];
  for (let k = 0; k < n.length; k++) {
    const [f, b, w] = [new Float64Array(size), new Float64Array(size), new Float64Array(size)];
    const idx = new Array<number>(n.length).fill(0);
    for (let c = 0; c < size; c++) {
      let rem = c;
      for (let m = n.length - 1; m >= 0; m--) { idx[m] = rem % n[m]; rem = Math.floor(rem / n[m]); }
      if (idx[k] === n[k] - 1) continue;
      const i = flat(idx);
      const j = flat(idx.map((v, m) => (m === k ? v + 1 : v)));
      const cf = 0.5 + 2 * r();
      const z = psi[j] - psi[i];
      f[i] = cf * bern(z);
      b[i] = cf * bern(-z);
      w[i] = Math.sqrt(f[i] * b[i]);
      A[i][i] -= f[i]; A[j][i] += f[i]; A[i][j] += b[i]; A[j][j] -= b[i];
      S[i][j] += w[i]; S[j][i] += w[i];
    }
    fw.push(f); bw.push(b); sym.push(w);
  }
  const od = new Float64Array(size);
  for (let i = 0; i < size; i++) { od[i] = -A[i][i]; S[i][i] = A[i][i]; }
  return { size, strides, fw, bw, sym, od, A, S };
}

const mul = (M: number[][], v: ArrayLike<number>): number[] => M.map((row) => row.reduce((s, m, j) => s + m * v[j], 0));

function close(got: ArrayLike<number>, want: ArrayLike<number>, rel = 1e-13): void {
  let scale = 1e-300;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `cell ${i} of ${want.length}`).toBeLessThanOrEqual(rel * scale);
}

/** Every way to cut [0, size) into two or three consecutive pieces (and no cut). */
function cutSets(size: number): number[][] {
  const sets: number[][] = [[0, size]];
  for (let a = 1; a < size; a++) {
    sets.push([0, a, size]);
    for (let b = a + 1; b < size; b++) sets.push([0, a, b, size]);
  }
  return sets;
}

const tiny = [[1], [2], [3], [1, 1], [1, 2], [2, 1], [2, 2], [1, 6], [6, 1], [2, 5], [5, 2], [2, 2, 2], [1, 1, 2], [2, 1, 1], [1, 2, 1], [1, 3, 2], [3, 1, 2]];

for (const backend of ['js', 'wasm'] as KernelBackend[]) {
  describe(`generated kernels on degenerate boxes, every split (${backend})`, () => {
    for (const n of tiny) {
      const d = n.length;
      it(`${n.join('×')}: A ρ, S v, (I − θS) v against the assembled generator`, () => {
        const b = box(n, 101 + 7 * d + n.reduce((a, c) => a * 3 + c, 0));
        const r = rng(5);
        const rho = shared(Array.from({ length: b.size }, () => 0.1 + 2 * r()));
        const v = shared(Array.from({ length: b.size }, () => 2 * r() - 1));
        const p = [...b.strides.slice(0, -1), b.size];
        const Ar = mul(b.A, rho), Sv = mul(b.S, v);
        const th = 0.37;
        const coef = b.fw.flatMap((f, k) => [shared(f), shared(b.bw[k])]);
        const w = b.sym.map(shared);
        for (const cuts of cutSets(b.size)) {
          const [a, s, sh] = [sharedFloat64(b.size), sharedFloat64(b.size), sharedFloat64(b.size)];
          for (let c = 0; c + 1 < cuts.length; c++) {
            kernel('apply', d, backend).range([...coef, shared(b.od), rho, a], [], p, cuts[c], cuts[c + 1]);
            kernel('sym', d, backend).range([...w, shared(b.od), v, s], [], p, cuts[c], cuts[c + 1]);
            kernel('shifted', d, backend).range([...w, shared(b.od), v, sh], [], [th, ...p], cuts[c], cuts[c + 1]);
          }
          close(a, Ar);
          close(s, Sv);
          close(sh, Sv.map((x, i) => v[i] - th * x));
          // mass: columns of A sum to zero, so the kernel's A ρ must too (to round-off)
          expect(Math.abs(Array.from(a).reduce((x, y) => x + y, 0))).toBeLessThanOrEqual(1e-13 * Math.max(1, ...Array.from(a, Math.abs)) * b.size);
        }
      });
      if (d < 2) continue;
      it(`${n.join('×')}: Gauss–Seidel sweeps are the triangular solves of I − θS`, () => {
        const b = box(n, 303 + n.reduce((a, c) => a * 3 + c, 0));
        const th = 0.7;
        const r = rng(9);
        const rhs = shared(Array.from({ length: b.size }, () => 2 * r() - 1));
        const x0 = Array.from({ length: b.size }, () => 2 * r() - 1);
        const M = b.S.map((row, i) => row.map((s, j) => (i === j ? 1 : 0) - th * s));
        for (const forward of [true, false]) {
          const want = [...x0];
          const order = forward ? [...Array(b.size).keys()] : [...Array(b.size).keys()].reverse();
          for (const i of order) {
            let s = rhs[i];
            for (let j = 0; j < b.size; j++) if (j !== i) s -= M[i][j] * want[j];
            want[i] = s / M[i][i];
          }
          const x = shared(x0);
          const inv = shared(Array.from(b.od, (o) => 1 / (1 + th * o)));
          kernel(forward ? 'gsForward' : 'gsBackward', d, backend).range([rhs, x, inv, ...b.sym.map(shared)], [], [th, ...b.strides.slice(0, -1), b.size], 0, b.size);
          close(x, want, 1e-12);
        }
      });
    }
  });
}

describe('a kernel team with fewer cells than blocks', () => {
  it('2×3 and 2×2×2 boxes on 2 threads: A ρ and (I − θS) v equal the assembled generator, dot equals the plain sum', async () => {
    const team = ThreadTeam.create(2);
    if (!team) throw new Error('no team');
    try {
      await vi.waitFor(() => expect(team.ready()).toBe(true), { timeout: 10000 });
      for (const n of [[2, 3], [1, 2], [2, 2, 2], [1, 1, 3]]) {
        const d = n.length;
        const b = box(n, 77 + d);
        const r = rng(3);
        const rho = shared(Array.from({ length: b.size }, () => 0.1 + 2 * r()));
        const v = shared(Array.from({ length: b.size }, () => 2 * r() - 1));
        const p = [...b.strides.slice(0, -1), b.size];
        const out = sharedFloat64(b.size);
        team.run(`apply${d}`, [...b.fw.flatMap((f, k) => [shared(f), shared(b.bw[k])]), shared(b.od), rho, out], [], p, b.size);
        close(out, mul(b.A, rho));
        const sh = sharedFloat64(b.size);
        team.run(`shifted${d}`, [...b.sym.map(shared), shared(b.od), v, sh], [], [0.4, ...p], b.size);
        close(sh, mul(b.S, v).map((x, i) => v[i] - 0.4 * x));
        let want = 0;
        for (let i = 0; i < b.size; i++) want += rho[i] * v[i];
        expect(team.run('dot', [rho, v], [], [], b.size)).toBeCloseTo(want, 14);
      }
    } finally {
      team.close();
    }
  });
});
