/**
 * The fused passes of session 7 (docs/performance.md, "Stepping, session 7") against the passes
 * they replace, in one process on one thread, interleaved, CPU time (process.cpuUsage: with no
 * kernel threads it is this thread's work, much less sensitive to a shared machine's load than
 * wall time), medians of `--reps` on the 2-D reference operator at `--n` cells per axis:
 * - CG's q = (I − θS)p with ⟨p, q⟩ (shiftedDot) against shifted then dot;
 * - one Gram–Schmidt projection, w −= c q_j and ⟨q_{j+1}, w⟩ (lincombDot) against lincomb then dot;
 * - three links of the Krylov combination (lincomb4) against three lincombs;
 * - the multigrid's coarsest solve on its band against the dense triangular solves;
 * - session 8's candidate, rejected: one Krylov vector's Gram–Schmidt against `--basis` vectors,
 *   twice, as the integrator runs it (modified, lincombDot per projection) against classical in
 *   block form on the basis kernels (solvers/basis-kernels.ts accumulateCoefficients and
 *   addCombinationRange, in cache-sized chunks): fewer bytes, but those loops are JavaScript;
 *   and classical with the WebAssembly passes (a dot per vector, lincomb4 for three vectors).
 *
 *   npx tsc -p tsconfig.json && node dist/test/bench/plain-passes.js [--n 512] [--reps 31] [--basis 14]
 */
import { cpus, loadavg } from 'node:os';
import { CpuBackend } from '../../solvers/backend/cpu.js';
import { MultigridPreconditioner, choleskyOf, choleskySolve, levelBandwidth } from '../../solvers/multigrid.js';
import { referenceOperator } from './limit.js';
import { accumulateCoefficients, addCombinationRange } from '../../solvers/basis-kernels.js';
import { lincombDot } from '../../solvers/backend/fused.js';
import type { Field } from '../../solvers/backend/types.js';

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (k: string, d: string): string => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
  const n = Number(opt('--n', '512'));
  const reps = Number(opt('--reps', '31'));
  const basis = Number(opt('--basis', '14'));
  const op = referenceOperator(n, 2);
  // One thread: CPU time is then the work of the passes.
  const b = new CpuBackend(op, undefined, { blocks: 1 });
  const f = Array.from({ length: 8 }, () => b.field());
  const seed = Float64Array.from({ length: op.grid.size }, (_, i) => Math.sin(0.001 * i) + 1);
  for (const x of f) await b.upload(x, seed);
  const [p, q, w, q0, q1, q2, q3, acc] = f;
  const theta = 0.015;

  const mg = new MultigridPreconditioner(op);
  mg.setup(theta);
  const lv = mg.levels[mg.levels.length - 1];
  const chol = choleskyOf(lv, theta);
  const bw = levelBandwidth(lv);
  const cb = Float64Array.from({ length: lv.size }, (_, i) => Math.cos(i));
  const cx = new Float64Array(lv.size);
  // Coarsest solves per CG iteration: 2^(levels − 2) with the W-cycle below the finest level.
  const coarseSolves = 2 ** (mg.levels.length - 2);

  // The Gram–Schmidt pair: the same orthonormal-ish basis as fields (for lincombDot) and as arrays.
  const N = op.grid.size;
  const qa = Array.from({ length: basis }, (_, j) => Float64Array.from({ length: N }, (_, i) => Math.sin(0.001 * (j + 1) * i) / Math.sqrt(N / 2)));
  const qf: Field[] = [];
  for (const v of qa) {
    const x = b.field();
    await b.upload(x, v);
    qf.push(x);
  }
  const gw = b.field();
  const wa = new Float64Array(N);
  const w0 = Float64Array.from({ length: N }, (_, i) => Math.cos(0.0007 * i));
  const coef = new Float64Array(basis);
  const CHUNK = 4096;

  const pairs: { what: string; old: () => Promise<unknown>; fused: () => Promise<unknown> }[] = [
    { what: '(I − θS)p and ⟨p, q⟩', old: async () => (await b.shifted(theta, p, q), b.dot(p, q)), fused: () => b.shiftedDot(theta, p, q) },
    { what: 'w −= c q_j, ⟨q_{j+1}, w⟩', old: async () => (await b.lincomb(1, w, -1e-9, q0, w), b.dot(q1, w)), fused: () => b.lincombDot(1, w, -1e-9, q0, w, q1) },
    {
      what: 'acc += c₁q₁ + c₂q₂ + c₃q₃',
      old: async () => {
        await b.lincomb(1, acc, 1e-9, q1, acc);
        await b.lincomb(1, acc, 1e-9, q2, acc);
        await b.lincomb(1, acc, 1e-9, q3, acc);
      },
      fused: () => b.lincomb4(1, acc, 1e-9, q1, 1e-9, q2, 1e-9, q3, acc),
    },
    {
      what: `coarsest solve ×${coarseSolves} (${lv.size} cells, band ${bw})`,
      old: async () => {
        for (let k = 0; k < coarseSolves; k++) choleskySolve(chol, lv.size, cb, cx);
      },
      fused: async () => {
        for (let k = 0; k < coarseSolves; k++) choleskySolve(chol, lv.size, cb, cx, bw);
      },
    },
    {
      what: `Gram–Schmidt of one vector against ${basis}, twice: modified (lincombDot) → classical block (candidate, rejected)`,
      old: async () => {
        await b.upload(gw, w0);
        const order = [...qf, ...qf, gw];
        let c = await b.dot(qf[0], gw);
        for (let s = 0; s + 1 < order.length; s++) c = await lincombDot(b, 1, gw, -c, order[s], gw, order[s + 1]);
        return c;
      },
      fused: async () => {
        wa.set(w0);
        for (let pass = 0; pass < 2; pass++) {
          coef.fill(0);
          for (let lo = 0; lo < N; lo += CHUNK) accumulateCoefficients(wa, qa, coef, lo, Math.min(N, lo + CHUNK), 0);
          for (let lo = 0; lo < N; lo += CHUNK) addCombinationRange(wa, qa, coef, -1, lo, Math.min(N, lo + CHUNK));
        }
        let s = 0;
        for (let i = 0; i < N; i++) s += wa[i] * wa[i];
        return s;
      },
    },
    {
      what: `Gram–Schmidt of one vector against ${basis}, twice: modified (lincombDot) → classical, dot per vector + lincomb4 (candidate, not taken)`,
      old: async () => {
        await b.upload(gw, w0);
        const order = [...qf, ...qf, gw];
        let c = await b.dot(qf[0], gw);
        for (let s = 0; s + 1 < order.length; s++) c = await lincombDot(b, 1, gw, -c, order[s], gw, order[s + 1]);
        return c;
      },
      fused: async () => {
        await b.upload(gw, w0);
        for (let pass = 0; pass < 2; pass++) {
          for (let j = 0; j < basis; j++) coef[j] = await b.dot(qf[j], gw);
          for (let j = 0; j < basis; j += 3) {
            const j1 = Math.min(j + 1, basis - 1);
            const j2 = Math.min(j + 2, basis - 1);
            await b.lincomb4(1, gw, -coef[j], qf[j], j + 1 < basis ? -coef[j1] : 0, qf[j1], j + 2 < basis ? -coef[j2] : 0, qf[j2], gw);
          }
        }
        return b.dot(gw, gw);
      },
    },
  ];
  const load0 = loadavg();
  console.log(`${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, Node ${process.version}, ${n}², one thread, CPU ms medians of ${reps}, interleaved, load ${load0.map((l) => l.toFixed(1)).join(' ')}`);
  console.log('| what | before: passes apart, ms | after: fused, ms | after / before |');
  console.log('|---|---|---|---|');
  for (const pr of pairs) {
    const t = { old: [] as number[], fused: [] as number[] };
    for (let r = 0; r < reps + 3; r++) {
      for (const k of ['old', 'fused'] as const) {
        const c0 = cpuMs();
        await pr[k]();
        if (r >= 3) t[k].push(cpuMs() - c0);
      }
    }
    const a = median(t.old);
    const c = median(t.fused);
    console.log(`| ${pr.what} | ${a.toFixed(3)} | ${c.toFixed(3)} | ${(c / a).toFixed(2)} |`);
  }
  console.log(`load at end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  mg.dispose();
  b.dispose();
}

await main();
