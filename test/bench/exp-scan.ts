/** Scan of the exponential integrator's shift ratio and tolerance against a tight TR-BDF2 solution (docs/performance.md). */
import { setUpReference, buildIntegrator, type Method } from './reference-problem.js';
import { initialDensity } from '../../src/run/initial.js';
import { packageRoot } from '../../src/paths.js';

const n = Number(process.argv[2] ?? 128);
const every = Number(process.argv[3] ?? 1);
const setup = setUpReference(n);
async function solve(m: Method): Promise<{ rho: Float64Array; solves: number; its: number; steps: number; rejected: number }> {
  const rho = initialDensity(setup.grid, setup.scenario.initial, { file: setup.file, baseDir: packageRoot() });
  const integ = buildIntegrator(setup, m);
  for (let t = 0; t < 1 - 1e-12; t += every) await integ.advance(rho, t, Math.min(1, t + every));
  return { rho, solves: integ.solver?.solves ?? 0, its: integ.solver?.iterations ?? 0, steps: integ.stats.steps, rejected: integ.stats.rejected };
}
const exact = (await solve({ kind: 'trbdf2', tolerance: 1e-8, linearTol: 1e-12 })).rho;
const h2 = setup.grid.cellVolume;
for (const tol of [1e-2, 1e-3, 1e-4, 1e-6]) {
  for (const ratio of [0.05, 0.1, 0.15, 0.2, 0.3]) {
    const r = await solve({ kind: 'exp', tolerance: tol, linearTol: tol * 0.1, pre: 'auto', ratio });
    let e = 0;
    for (let i = 0; i < exact.length; i++) e += Math.abs(r.rho[i] - exact[i]);
    console.log(`tol ${tol} ratio ${ratio}: L1 err ${(e * h2).toExponential(2)} solves ${r.solves} its ${r.its} intervals ${r.steps} rejected ${r.rejected}`);
  }
}
