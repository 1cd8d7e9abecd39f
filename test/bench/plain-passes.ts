/**
 * The fused passes of session 7 (docs/performance.md, "Stepping, session 7") against the passes
 * they replace, in one process on one thread, interleaved, CPU time (process.cpuUsage: with no
 * kernel threads it is this thread's work, much less sensitive to a shared machine's load than
 * wall time), medians of `--reps` on the 2-D reference operator at `--n` cells per axis:
 * - CG's q = (I − θS)p with ⟨p, q⟩ (shiftedDot) against shifted then dot;
 * - one Gram–Schmidt projection, w −= c q_j and ⟨q_{j+1}, w⟩ (lincombDot) against lincomb then dot;
 * - three links of the Krylov combination (lincomb4) against three lincombs;
 * - the multigrid's coarsest solve on its band against the dense triangular solves.
 *
 *   npx tsc -p tsconfig.json && node dist/test/bench/plain-passes.js [--n 512] [--reps 31]
 */
import { cpus, loadavg } from 'node:os';
import { CpuBackend } from '../../solvers/backend/cpu.js';
import { MultigridPreconditioner, choleskyOf, choleskySolve, levelBandwidth } from '../../solvers/multigrid.js';
import { referenceOperator } from './limit.js';

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
