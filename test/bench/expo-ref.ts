/** Exponential integrator on the reference problem (double-well-2d) against TR-BDF2 1e-8: L1 error, solves, iterations, wall. */
import { runReference, type Method } from './reference-problem.js';

const n = Number(process.argv[2] ?? 128);
const tols = (process.argv[3] ?? '1e-2,1e-4').split(',').map(Number);
const withExact = process.argv[4] !== 'noexact';
const exact = withExact ? await runReferenceDensity() : null;
async function runReferenceDensity(): Promise<Float64Array> {
  const { setUpReference, buildIntegrator } = await import('./reference-problem.js');
  const { initialDensity } = await import('../../src/run/initial.js');
  const { packageRoot } = await import('../../src/paths.js');
  const setup = setUpReference(n);
  const rho = initialDensity(setup.grid, setup.scenario.initial, { file: setup.file, baseDir: packageRoot() });
  const integ = buildIntegrator(setup, { kind: 'trbdf2', tolerance: 1e-8, linearTol: 1e-12 });
  await integ.advance(rho, 0, 1);
  return rho;
}
for (const tol of tols) {
  const m: Method = { kind: 'exp', tolerance: tol, pre: 'auto' };
  const r = await runReference(n, m, exact);
  console.log(`${n}² tol ${tol}: wall ${r.wallSeconds.toFixed(3)} s (setup ${r.setupSeconds.toFixed(3)}), solves ${r.linearSolves}, its ${r.linearIterations}, intervals ${r.steps}, L1 vs TR-BDF2 1e-8 ${r.l1?.toExponential(2)}`);
}
