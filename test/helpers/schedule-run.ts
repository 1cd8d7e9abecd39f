/**
 * Child process of test/thread-scheduling.test.ts: runs one integrator on multigrid-PCG with
 * partitioned kernels (8 blocks) for each thread count given, and prints per run one JSON line
 * {threads, iterations, hash} (hash: SHA-1 of the result's bytes). The parent sets
 * FPSOLVE_TEST_FAULT=block-order:<seed>, which this process's teams read once at start.
 * Usage: node dist/test/helpers/schedule-run.js trbdf2-2d|exponential-3d 1,2,3
 */
import { createHash } from 'node:crypto';
import { CpuBackend } from '../../solvers/backend/cpu.js';
import { DeviceTrBdf2 } from '../../solvers/backend/implicit.js';
import { DeviceExponential, exponentialCgSettings } from '../../solvers/backend/exponential.js';
import { KERNEL_BLOCKS } from '../../solvers/exec/team.js';
import { MultigridPreconditioner, THREADED_LEVEL_CELLS } from '../../solvers/multigrid.js';
import { buildOperator, gaussianBump } from './problems.js';

const [which, list] = process.argv.slice(2);
// Just above THREADED_LEVEL_CELLS, so the finest multigrid level is smoothed in blocks on the team.
const op =
  which === 'exponential-3d'
    ? buildOperator([[-2, 2], [-2, 2], [-2, 2]], [42, 41, 40], (x, y, z) => 0.1 + (x * x - 1) ** 2 + y * y + 0.5 * z * z, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 })
    : buildOperator([[-2, 2], [-2, 2]], [257, 256], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
if (op.grid.size < THREADED_LEVEL_CELLS) throw new Error('grid below the threaded multigrid level');
const rho0 = gaussianBump(op.grid, op.grid.dim === 3 ? [1, 0, 0] : [1, 0], 0.3);
for (const threads of list.split(',').map(Number)) {
  const backend = new CpuBackend(op, new MultigridPreconditioner(op), { threads, blocks: KERNEL_BLOCKS });
  const integ = which === 'exponential-3d' ? new DeviceExponential(backend, op, { tolerance: 1e-4, dtMax: 0.05 }, exponentialCgSettings(1e-4)) : new DeviceTrBdf2(backend, op, { tolerance: 1e-4, dtMax: 0.02 }, { tol: 1e-8, maxIterations: 2000 });
  const rho = rho0.slice();
  // Started at once: the workers come up during the run, so its first kernels run on this thread.
  await integ.advance(rho, 0, which === 'exponential-3d' ? 0.04 : 0.02);
  const hash = createHash('sha1').update(Buffer.from(rho.buffer, rho.byteOffset, rho.byteLength)).digest('hex');
  console.log(JSON.stringify({ threads, iterations: integ.solver.iterations, hash }));
  integ.dispose();
}
