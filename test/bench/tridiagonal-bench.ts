/**
 * The exponential integrator's Krylov eigen-decompositions (issue #19.5, second round): dense cyclic
 * Jacobi on sym(h) (what solvers/backend/exponential.ts did) against the tridiagonal QL solver on its
 * band (krylovEigen, what it does now), on the pearson-1d sweep point's own matrices. A script, not a test.
 *
 *   npx tsc -p . && node dist/test/bench/tridiagonal-bench.js [--rounds 20] [--cold]
 *
 * The matrices: one run of the sweep's point (scenarios/pearson-1d.yaml, 2000 cells, η = 0.1, σ = 10,
 * t = 16, reports every 1) with the exponential integrator, every T_m it decomposed captured through
 * the `decompose` hook below. Rounds interleave the two methods over the same list; process CPU time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { symmetricEigen } from '../../solvers/dense.js';
import { krylovEigen } from '../../solvers/tridiagonal-eigen.js';
import { DeviceExponential, exponentialCgSettings } from '../../solvers/backend/exponential.js';
import { cpuBackend } from '../../solvers/backend/choose.js';
import { loadScenario } from '../../src/scenario/load.js';
import { setUp } from '../../src/run/run.js';
import { initialDensity } from '../../src/run/initial.js';
import { packageRoot } from '../../src/paths.js';

const i = process.argv.indexOf('--rounds');
const ROUNDS = i >= 0 ? Number(process.argv[i + 1]) : 20;

/** Runs the point, keeping a copy of h (m + 1 rows) for every coefficients() call that decomposed. */
async function capture(): Promise<{ h: number[][]; m: number }[]> {
  const loaded = loadScenario(join(packageRoot(), 'scenarios', 'pearson-1d.yaml'), ['noise.eta=0.1', 'time.end=16', 'time.reportEvery=1']);
  const setup = setUp(loaded);
  const rho = initialDensity(setup.grid, setup.scenario.initial, loaded);
  const tol = 3e-4;
  const integ = new DeviceExponential(cpuBackend(setup.op), setup.op, { tolerance: tol, dtMax: 1 }, exponentialCgSettings(tol));
  const seen: { h: number[][]; m: number }[] = [];
  // The private method is wrapped from outside: the bench must not change the integrator's code.
  const proto = integ as unknown as { coefficients: (span: { h: number[][]; eig?: unknown[] }, m: number, ...rest: number[]) => number[] };
  const orig = proto.coefficients.bind(integ);
  proto.coefficients = (span, m, ...rest) => {
    if (!span.eig?.[m]) seen.push({ h: span.h.slice(0, m + 1).map((r) => r.slice(0, m + 1)), m });
    return orig(span, m, ...rest);
  };
  for (let k = 0; k < 16; k++) await integ.advance(rho, k, k + 1);
  integ.dispose();
  return seen;
}

const jacobi = (h: number[][], m: number): unknown => symmetricEigen(Array.from({ length: m }, (_, a) => Array.from({ length: m }, (_, b) => 0.5 * (h[a]![b]! + h[b]![a]!))));
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};

// --cold: one pass of each method, each in a fresh process (the first points of a sweep, before V8
// has optimised either), on the matrices this process captured.
if (process.argv.includes('--cold-child')) {
  const [file, which] = [process.argv[process.argv.indexOf('--cold-child') + 1]!, process.argv[process.argv.indexOf('--cold-child') + 2]!];
  const list = JSON.parse(readFileSync(file, 'utf8')) as { h: number[][]; m: number }[];
  const c0 = cpuMs();
  for (const { h, m } of list) (which === 'ql' ? krylovEigen(h, m) : jacobi(h, m));
  process.stdout.write(String(cpuMs() - c0));
  process.exit(0);
}
const mats = await capture();
if (process.argv.includes('--cold')) {
  const dir = mkdtempSync(join(tmpdir(), 'tridiag-'));
  const file = join(dir, 'mats.json');
  writeFileSync(file, JSON.stringify(mats));
  const cold = { jacobi: [] as number[], ql: [] as number[] };
  for (let r = 0; r < 6; r++) for (const which of ['jacobi', 'ql'] as const) cold[which].push(Number(execFileSync(process.execPath, [process.argv[1]!, '--cold-child', file, which], { encoding: 'utf8' })));
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`cold (one pass in a fresh process, 6 each, CPU ms): Jacobi ${cold.jacobi.map((x) => x.toFixed(1)).join(' ')}; QL ${cold.ql.map((x) => x.toFixed(1)).join(' ')}\n`);
}
const sizes = mats.map((x) => x.m);
const load0 = loadavg();
const t = { jacobi: 0, ql: 0 };
for (let r = 0; r < ROUNDS; r++) {
  for (const which of r % 2 ? (['ql', 'jacobi'] as const) : (['jacobi', 'ql'] as const)) {
    const c0 = cpuMs();
    for (const { h, m } of mats) (which === 'ql' ? krylovEigen(h, m) : jacobi(h, m));
    t[which] += cpuMs() - c0;
  }
}
const per = (x: number): string => (x / ROUNDS).toFixed(2);
process.stdout.write(
  `Krylov decompositions of one pearson-1d point (η = 0.1, t = 16, reports every 1): ${mats.length} matrices, sizes ${sizes.join(' ')}\n` +
    `${ROUNDS} interleaved rounds, process CPU time per point: dense Jacobi ${per(t.jacobi)} ms, tridiagonal QL ${per(t.ql)} ms (ratio ${(t.jacobi / t.ql).toFixed(1)}×)\n` +
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load ${load0.map((x) => x.toFixed(1)).join(' ')} → ${loadavg().map((x) => x.toFixed(1)).join(' ')}, ${new Date().toISOString()}\n`,
);
