/** Error vs wall time for each integrator on the reference problem at a modest grid. */
import { packageRoot } from '../../src/paths.js';
import { initialDensity } from '../../src/run/initial.js';
import { buildIntegrator, describeMethod, referenceDensity, setUpReference, type Method } from './reference-problem.js';

export interface TradeOffRow {
  method: string;
  steps: number;
  linearIterations: number;
  wallSeconds: number;
  timeError: number;
  l1Ref: number | null;
}

/** Averages an n×n field onto (n/f)×(n/f) cells (how the 256² reference of docs/peers.md was made from the 512² one). */
function coarseGrain(a: Float64Array, n: number, f: number): Float64Array {
  const m = n / f;
  const out = new Float64Array(m * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[Math.floor(i / f) * m + Math.floor(j / f)] += a[i * n + j] / (f * f);
  return out;
}

export async function tradeOff(n: number): Promise<TradeOffRow[]> {
  const setup = setUpReference(n);
  const rho0 = initialDensity(setup.grid, setup.scenario.initial, { file: setup.file, baseDir: packageRoot() });
  const ref512 = referenceDensity(512);
  const ref = ref512 ? coarseGrain(ref512, 512, 512 / n) : null;
  const h2 = setup.grid.cellVolume;
  const solve = async (m: Method): Promise<{ rho: Float64Array; steps: number; iters: number; wall: number }> => {
    const rho = rho0.slice();
    const t0 = performance.now();
    const integ = buildIntegrator(setup, m);
    await integ.advance(rho, 0, 1);
    return { rho, steps: integ.stats.steps, iters: integ.solver?.iterations ?? 0, wall: (performance.now() - t0) / 1000 };
  };
  const exact = (await solve({ kind: 'trbdf2', tolerance: 1e-7, linearTol: 1e-11 })).rho;
  const l1 = (a: Float64Array, b: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
    return s * h2;
  };
  const methods: Method[] = [
    { kind: 'explicit' },
    { kind: 'rkl2', dt: 0.01 },
    { kind: 'rkl2', dt: 0.002 },
    { kind: 'backward-euler', dt: 0.02, linearTol: 1e-8 },
    { kind: 'backward-euler', dt: 0.01, linearTol: 1e-8 },
    { kind: 'backward-euler', dt: 0.005, linearTol: 1e-8 },
    { kind: 'trbdf2', tolerance: 1e-2, linearTol: 1e-5 },
    { kind: 'trbdf2', tolerance: 1e-3, linearTol: 1e-6 },
    { kind: 'trbdf2', tolerance: 1e-4, linearTol: 1e-7 },
    { kind: 'trbdf2', tolerance: 1e-3, linearTol: 1e-6, pre: 'jacobi' },
    { kind: 'exp', tolerance: 1e-2 },
    { kind: 'exp', tolerance: 1e-4 },
    { kind: 'exp', tolerance: 1e-6 },
  ];
  const rows: TradeOffRow[] = [];
  for (const m of methods) {
    const r = await solve(m);
    rows.push({ method: describeMethod(m), steps: r.steps, linearIterations: r.iters, wallSeconds: r.wall, timeError: l1(r.rho, exact), l1Ref: ref ? l1(r.rho, ref) : null });
  }
  return rows;
}
