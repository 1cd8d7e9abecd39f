// temporary scan (float64 host reference only)
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { packageRoot } from '../../src/paths.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { setUp } from '../../src/run/run.js';
import { initialDensity } from '../../src/run/initial.js';
import { CpuBackend } from '../../solvers/backend/cpu.js';
import { Pcg } from '../../solvers/backend/pcg.js';
import { HostRedBlackMultigrid } from '../../solvers/backend/gpu-multigrid.js';
import { MultigridPreconditioner } from '../../solvers/multigrid.js';
const dim = Number(process.argv[2] ?? 2);
const sizes = (process.argv[3] ?? '32,64,128,256').split(',').map(Number);
for (const dt of (process.argv[5] ?? '0.2,1').split(',').map(Number)) {
  const theta = ((2 - Math.SQRT2) * dt) / 2;
  const rows: string[] = [];
  for (const n of sizes) {
    const name = process.argv[4] ?? (dim === 3 ? 'quadratic-floor-3d' : 'double-well-2d');
    const file = join(packageRoot(), 'scenarios', `${name}.yaml`);
    const loaded = parseScenarioText(readFileSync(file, 'utf8'), file, [`domain.cells=[${Array(dim).fill(n).join(',')}]`]);
    const setup = setUp(loaded);
    const op = setup.op;
    const rho = initialDensity(setup.grid, setup.scenario.initial, loaded);
    const line: string[] = [];
    const cfgs: [string, unknown][] = [['cpu', null]];
    for (const cycle of ['V'] as const) for (const sweeps of [1]) for (const a of [1.5]) cfgs.push([`${cycle}${sweeps} a${a}`, { cycle, sweeps, overCorrection: a }]);
    for (const [label, o] of cfgs) {
      const pre = o ? new HostRedBlackMultigrid(op, o as object) : new MultigridPreconditioner(op);
      const B = new CpuBackend(op, pre);
      const pcg = new Pcg(B, op, { tol: 1e-5, maxIterations: 2000 });
      const b = B.field(); const x = B.field();
      await B.upload(b, rho); await B.upload(x, rho);
      await pcg.solve(theta, b, x);
      line.push(`${label}:${pcg.iterations}`);
      B.dispose();
    }
    rows.push(`dt ${dt} N ${n}: ${line.join('  ')}`);
  }
  console.log(rows.join('\n'));
}
