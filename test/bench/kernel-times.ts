/**
 * Per-apply and per-PCG-iteration times of the CPU backend at n² (default 512², the reference
 * grid): one thread (plain loops) and the kernel team. An iteration here is what Pcg does per
 * step: (I − θS) p, the multigrid preconditioner, two dot products, the CG update and p = z + βp.
 * Run: node dist/test/bench/kernel-times.js [n] [reps]
 */
import { buildOperator } from '../helpers/problems.js';
import { CpuBackend } from '../../solvers/backend/cpu.js';
import { MultigridPreconditioner } from '../../solvers/multigrid.js';

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

export async function kernelTimes(n: number, reps: number, blocks: number): Promise<Record<string, number>> {
  const op = buildOperator([[-2, 2], [-2, 2]], [n, n], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
  const be = new CpuBackend(op, new MultigridPreconditioner(op), { blocks });
  const [x, y, p, q, r, z] = [0, 1, 2, 3, 4, 5].map(() => be.field());
  const init = new Float64Array(op.grid.size);
  for (let i = 0; i < init.length; i++) init[i] = 1 + Math.sin(i);
  for (const f of [x, p, r]) await be.upload(f, init);
  const theta = 0.02;
  const time = async (f: () => Promise<unknown>, inner: number): Promise<number> => {
    const t = performance.now();
    for (let k = 0; k < inner; k++) await f();
    return (performance.now() - t) / inner;
  };
  const iteration = async (): Promise<void> => {
    await be.shifted(theta, p, q);
    const pq = await be.dot(p, q);
    await be.cgUpdate(1e-3 / (1 + Math.abs(pq)), p, q, y, r);
    await be.precondition(theta, r, z);
    await be.dot(r, z);
    await be.lincomb(1, z, 0.5, p, p);
  };
  // warm-up, and let the team's threads start
  for (let w = 0; w < 20; w++) {
    await be.apply(x, q);
    await iteration();
  }
  const out: Record<string, number[]> = { apply: [], shifted: [], precondition: [], pcgIteration: [] };
  for (let k = 0; k < reps; k++) {
    out.apply.push(await time(() => be.apply(x, q), 10));
    out.shifted.push(await time(() => be.shifted(theta, p, q), 10));
    out.precondition.push(await time(() => be.precondition(theta, r, z), 5));
    out.pcgIteration.push(await time(iteration, 5));
  }
  be.dispose();
  const res: Record<string, number> = {};
  for (const [k, v] of Object.entries(out)) res[k] = median(v);
  return res;
}

if (process.argv[1]?.endsWith('kernel-times.js')) {
  const n = Number(process.argv[2] ?? 512);
  const reps = Number(process.argv[3] ?? 9);
  for (const blocks of [1, 8]) console.log(JSON.stringify({ n, blocks, ms: await kernelTimes(n, reps, blocks) }));
}
