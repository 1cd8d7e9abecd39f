/**
 * Sweep throughput against a plain SciPy loop (a script, not a test; issue #19.5). Writes its
 * section of bench/results-sweep.md (between the markers; the rest of the file is sweep-bench.ts's).
 *
 * The sweep: scenarios/pearson-1d.yaml (2000 cells), ησ swept through σ = 10 and
 * η = linspace(0.05, 0.2, --points), to equilibrium (t = 16, see the results file), reports every 1.
 *   fpsolve: `fpsolve sweep … --jobs 2 --no-plots --run-arg=--no-gap`, the whole process timed
 *            (its start-up and its workers' start-up included).
 *   SciPy:   test/bench/sweep-vs-scipy.py, the whole process timed (Python start-up and imports
 *            included), 2 processes; BDF at the rtol that matches fpsolve's accuracy, and backward
 *            Euler (the baseline script's scheme) at the step that does, on --be-points points only
 *            (it takes minutes per point).
 * Rounds alternate the tools so that a change in machine load hits both alike.
 *
 *   npx tsc -p . && node dist/test/bench/sweep-vs-scipy.js [--points 16] [--rounds 2] [--be-points 2] [--integrators auto,exponential]
 *
 * --integrators: fpsolve's time.integrator for each fpsolve row (auto: the scenario's choice, the exponential integrator at 3e-4 here since issue #19; TR-BDF2 before).
 * --modes: how the fpsolve sweep runs its points, one row each: workers (--jobs 2, two worker
 * processes, the default), in-process (--jobs 2 --in-process: the sweep's process and one worker),
 * in-process-1 (--jobs 1 --in-process: the sweep's process alone). Same bits in every mode.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { packageRoot, packageVersion } from '../../src/paths.js';
import { writeSection } from './sweep-section.js';

const argAt = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!(v >= 0)) throw new Error(`--${name} must be a number ≥ 0`);
  return v;
};
const POINTS = argAt('points', 16);
const ROUNDS = argAt('rounds', 2);
const BE_POINTS = argAt('be-points', 2);
const T_END = 16;
const EVERY = 1;
const SIGMA = 10;
const BDF_RTOL = argAt('rtol', 3e-5);
const BE_DT = argAt('dt', 2e-5);
const INTEGRATORS = (() => {
  const i = process.argv.indexOf('--integrators');
  const list = (i >= 0 ? process.argv[i + 1] ?? '' : 'auto').split(',').filter(Boolean);
  for (const x of list) if (!/^(auto|trbdf2|exponential|implicit|rkl2|explicit)$/.test(x)) throw new Error(`--integrators: unknown integrator ${x}`);
  return list.length ? list : ['auto'];
})();
const MODES = (() => {
  const i = process.argv.indexOf('--modes');
  const list = (i >= 0 ? process.argv[i + 1] ?? '' : 'workers').split(',').filter(Boolean);
  for (const x of list) if (!/^(workers|in-process|in-process-1)$/.test(x)) throw new Error(`--modes: unknown mode ${x}`);
  return list.length ? list : ['workers'];
})();
const modeArgs = (mode: string): string[] => (mode === 'workers' ? ['--jobs', '2'] : mode === 'in-process' ? ['--jobs', '2', '--in-process'] : ['--jobs', '1', '--in-process']);
const modeLabel = (mode: string): string => ({ workers: '--jobs 2, worker processes', 'in-process': '--jobs 2 --in-process', 'in-process-1': '--jobs 1 --in-process' })[mode] ?? mode;
const root = packageRoot();
const PY = join(root, 'test', 'bench', 'sweep-vs-scipy.py');
const SCENARIO = join(root, 'scenarios', 'pearson-1d.yaml');
const etas = Array.from({ length: POINTS }, (_, i) => 0.05 + (0.15 * i) / Math.max(1, POINTS - 1));
const ends = [etas[0]!, etas[etas.length - 1]!];

/** CPU seconds of this process's finished children (Linux /proc/self/stat cutime + cstime; null elsewhere). */
const TICK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
function childCpu(): number | null {
  try {
    const rest = readFileSync('/proc/self/stat', 'utf8').split(') ').pop()!.split(' ');
    return (Number(rest[13]) + Number(rest[14])) / TICK;
  } catch {
    return null;
  }
}

/** A whole process, timed: wall seconds and the CPU seconds it and its children used (on a shared machine the CPU is the steadier number). */
function timed(cmd: string, args: string[]): { wall: number; cpu: number | null; stdout: string } {
  const c0 = childCpu();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c1 = childCpu();
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return { wall, cpu: c0 === null || c1 === null ? null : c1 - c0, stdout: r.stdout };
}
const integratorSet = (integ: string): string[] => (integ === 'auto' ? [] : ['--set', `time.integrator=${integ}`]);

function fpsolveSweep(integ: string, mode: string): { wall: number; cpu: number | null; worstL1: number } {
  const out = mkdtempSync(join(tmpdir(), 'fps-vs-scipy-'));
  try {
    const { wall, cpu } = timed(process.execPath, [
      join(root, 'bin', 'fpsolve.js'), 'sweep', SCENARIO, '--set', `noise.eta=linspace(0.05,0.2,${POINTS})`, '--set', `time.end=${T_END}`,
      '--set', `time.reportEvery=${EVERY}`, ...integratorSet(integ), ...modeArgs(mode), '--no-plots', '-q', '--run-arg=--no-gap', '--out', out,
    ]);
    const recs = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: string; final: { l1: number } | null });
    if (recs.length !== POINTS || recs.some((r) => r.status !== 'ok')) throw new Error('fpsolve sweep: a point failed');
    return { wall, cpu, worstL1: Math.max(...recs.map((r) => r.final!.l1)) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function scipySweep(method: 'bdf' | 'be' | 'steady', points: readonly number[]): { wall: number; cpu: number | null; worstL1: number; versions: Record<string, string> } {
  const { wall, cpu, stdout } = timed('python3', [PY, 'sweep', '--etas', points.join(','), '--sigma', String(SIGMA), '--t-end', String(T_END), '--report-every', String(EVERY), '--method', method, '--rtol', String(BDF_RTOL), '--dt', String(BE_DT), '--jobs', '2']);
  const r = JSON.parse(stdout) as { worst_l1_final: number; versions: Record<string, string> };
  return { wall, cpu, worstL1: r.worst_l1_final, versions: r.versions };
}

/**
 * fpsolve's time error: max over report times of |d(t) − d_ref(t)|, d = L1 distance to π, the
 * reference being fpsolve's TR-BDF2 at tolerance 1e-11 (for every integrator measured, so that the
 * exponential integrator is checked against a different method).
 */
const fpReference = new Map<number, number[]>();
function fpsolveTimeError(eta: number, integ: string): { error: number; finalL1: number; solves: number } {
  const series = (tol: number | null, which: string): { d: number[]; solves: number } => {
    const args = [join(root, 'bin', 'fpsolve.js'), 'run', SCENARIO, '--json', '-q', '--no-gap', '--set', `noise.eta=${eta}`, '--set', `time.end=${T_END}`, '--set', `time.reportEvery=${EVERY}`, ...integratorSet(which), ...(tol ? ['--set', `time.tolerance=${tol}`] : [])];
    const rep = JSON.parse(timed(process.execPath, args).stdout) as { series: { l1: number }[]; integrator: { linearSolves: number } };
    return { d: rep.series.map((p) => p.l1), solves: rep.integrator.linearSolves };
  };
  const a = series(null, integ);
  if (!fpReference.has(eta)) fpReference.set(eta, series(1e-11, 'trbdf2').d);
  const ref = fpReference.get(eta)!;
  return { error: Math.max(...a.d.map((v, i) => Math.abs(v - ref[i]!))), finalL1: a.d[a.d.length - 1]!, solves: a.solves };
}

/** The SciPy methods' time error, against the exact solution of their semi-discrete system. */
function scipyTimeErrors(): { eta: number; bdf: number; be: number; bdfFinal: number; beFinal: number }[] {
  // Backward Euler at the matched step takes minutes per point: measured only when its sweep is.
  const dts = BE_POINTS > 0 ? ['--dts', String(BE_DT)] : [];
  const out = timed('python3', [PY, 'accuracy', '--etas', ends.join(','), '--sigma', String(SIGMA), '--t-end', String(T_END), '--report-every', String(EVERY), '--rtols', String(BDF_RTOL), ...dts]).stdout;
  const res = JSON.parse(out) as { eta: number; exact: number[]; be: Record<string, { series: number[] }>; bdf: Record<string, { series: number[] }> }[];
  const err = (s: number[], ex: number[]): number => Math.max(...s.map((v, i) => Math.abs(v - ex[i]!)));
  return res.map((r) => {
    const bdf = Object.values(r.bdf)[0]!.series;
    const be = Object.values(r.be)[0]?.series;
    return { eta: r.eta, bdf: err(bdf, r.exact), be: be ? err(be, r.exact) : NaN, bdfFinal: bdf[bdf.length - 1]!, beFinal: be ? be[be.length - 1]! : NaN };
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const log = (s: string): boolean => process.stderr.write(`${s}\n`);

const loadBefore = loadavg();
const ROWS = INTEGRATORS.flatMap((integ) => MODES.map((mode) => ({ integ, mode })));
const fp = ROWS.map(() => ({ wall: [] as number[], cpu: [] as (number | null)[], worst: 0 }));
const bdf: number[] = [];
const bdfCpu: (number | null)[] = [];
const steady: number[] = [];
let bdfWorst = 0;
let versions: Record<string, string> = {};
for (let r = 0; r < ROUNDS; r++) {
  ROWS.forEach(({ integ, mode }, k) => {
    const a = fpsolveSweep(integ, mode);
    fp[k]!.wall.push(a.wall);
    fp[k]!.cpu.push(a.cpu);
    fp[k]!.worst = Math.max(fp[k]!.worst, a.worstL1);
    log(`round ${r + 1}: fpsolve (${integ}, ${modeLabel(mode)}) ${a.wall.toFixed(2)} s wall, ${a.cpu?.toFixed(2) ?? '?'} s CPU`);
  });
  const b = scipySweep('bdf', etas);
  bdf.push(b.wall);
  bdfCpu.push(b.cpu);
  bdfWorst = Math.max(bdfWorst, b.worstL1);
  versions = b.versions;
  steady.push(scipySweep('steady', etas).wall);
  log(`round ${r + 1}: SciPy BDF ${b.wall.toFixed(2)} s wall, ${b.cpu?.toFixed(2) ?? '?'} s CPU, SciPy steady ${steady[steady.length - 1]!.toFixed(2)} s for ${POINTS} points`);
}
const be = BE_POINTS > 0 ? scipySweep('be', etas.slice(0, BE_POINTS)) : null;
if (be) log(`SciPy backward Euler dt ${BE_DT}: ${be.wall.toFixed(1)} s for ${BE_POINTS} points`);
const fpErr = INTEGRATORS.map((integ) => ends.map((e) => ({ eta: e, ...fpsolveTimeError(e, integ) })));
const pyErr = scipyTimeErrors();
const loadAfter = loadavg();

const pps = (wall: number, n: number): number => n / wall;
const fpRate = fp.map((f) => pps(median(f.wall), POINTS));
// On a shared machine CPU seconds are the steadier measure: points per CPU second, fpsolve over SciPy.
const medCpu = (xs: readonly (number | null)[]): number => median(xs.filter((x): x is number => x !== null));
const bdfRate = pps(median(bdf), POINTS);
const cpu = cpus();
const e = (x: number): string => (Number.isNaN(x) ? '—' : x.toExponential(1));
const secs = (xs: readonly (number | null)[]): string => xs.map((x) => (x === null ? '?' : x.toFixed(2))).join(', ');
const integLabel = (integ: string): string => ({ auto: 'auto: exponential at 300 × tolerance, 3e-4', trbdf2: 'TR-BDF2', exponential: 'exponential, shift-invert Krylov' })[integ] ?? integ;
const md = `## fpsolve sweep vs a plain SciPy loop (issue #19.5)

Generated by \`node dist/test/bench/sweep-vs-scipy.js --points ${POINTS} --rounds ${ROUNDS} --be-points ${BE_POINTS} --rtol ${BDF_RTOL} --dt ${BE_DT} --integrators ${INTEGRATORS.join(',')} --modes ${MODES.join(',')}\` (sources: test/bench/sweep-vs-scipy.ts, test/bench/sweep-vs-scipy.py).

- Date: ${new Date().toISOString()}
- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, fpsolve ${packageVersion()}, Python ${versions.python ?? '?'}, NumPy ${versions.numpy ?? '?'}, SciPy ${versions.scipy ?? '?'}
- Load average (1, 5, 15 min) before: ${loadBefore.map((x) => x.toFixed(2)).join(', ')}; after: ${loadAfter.map((x) => x.toFixed(2)).join(', ')} (shared by eight engineers; both tools ran in alternating rounds, so the ratio is the steadier number)
- Points: scenarios/pearson-1d.yaml, 2000 cells, σ = ${SIGMA}, η = linspace(0.05, 0.2, ${POINTS}) (ησ from 0.5 to 2), t = 0 → ${T_END}, reports every ${EVERY}; on 2 cores (SciPy 2 processes; fpsolve as each row says), whole processes timed.

| tool | wall per round (s) | CPU per round (s, children included) | median points/s | worst final L1 to π_h |
|---|---|---|---|---|
${ROWS.map(({ integ, mode }, k) => `| fpsolve sweep ${modeLabel(mode)} (${integLabel(integ)}, tolerance 1e-6, tridiagonal solves, --no-gap) | ${secs(fp[k]!.wall)} | ${secs(fp[k]!.cpu)} | ${fpRate[k]!.toFixed(2)} | ${e(fp[k]!.worst)} |`).join('\n')}
| SciPy solve_ivp BDF, rtol ${BDF_RTOL}, sparse Jacobian | ${secs(bdf)} | ${secs(bdfCpu)} | ${bdfRate.toFixed(2)} | ${e(bdfWorst)} |
${be ? `| SciPy backward Euler, dt ${BE_DT} (${BE_POINTS} points only) | ${be.wall.toFixed(1)} | ${be.cpu?.toFixed(1) ?? '?'} | ${pps(be.wall, BE_POINTS).toFixed(3)} | ${e(be.worstL1)} |\n` : ''}| SciPy direct steady solve (π_h only, no transient: not the same output) | ${secs(steady)} | — | ${pps(median(steady), POINTS).toFixed(2)} | — |

${ROWS.map(({ integ, mode }, k) => `- **fpsolve ${modeLabel(mode)} (${integLabel(integ)}) / SciPy BDF: ${(fpRate[k]! / bdfRate).toFixed(2)}×** points per second of wall, ${(medCpu(bdfCpu) / medCpu(fp[k]!.cpu)).toFixed(2)}× points per CPU second${be ? `; fpsolve / SciPy backward Euler: ${(fpRate[k]! / pps(be.wall, BE_POINTS)).toFixed(0)}×` : ''}`).join('\n')}

(target ≥ 3× the plain SciPy loop in points per second on 2 cores).

Definitions. *To equilibrium*: from the scenario's Gaussian to t = ${T_END}, the first whole report time at
which every point's L1 distance to its discrete invariant density π_h is below 1e-6 (the slowest point,
η = 0.05, is at 6e-7 there; λ₁ = 1 for every ησ, oracles.md §1 Pearson). *Matched accuracy*: each
tool's time error, the largest difference over the report times between its distance series
d(t) = |ρ(t) − π_h|₁ and that of a reference solution of its own semi-discrete system (fpsolve: its
TR-BDF2 at tolerance 1e-11; SciPy: the exact solution exp(tA)ρ₀ from the eigen-decomposition of
the symmetrised tridiagonal generator), is at most fpsolve's, and its final d is below 1e-6. BDF
rtol and the backward Euler step were chosen by that rule (backward Euler is first order: its error
is ≈ 0.6·dt here, so dt = 2e-5 for fpsolve's 1.2e-5). The two codes' π_h differ by their
discretisations (fpsolve's cell averages and face quadrature, the SciPy script's centre values), which
is why each is measured against its own reference. The direct steady solve computes π_h only, no
transient, no time series and no rates, so it is listed for scale, not as a matched method.

Accuracy (time error: max over the report times of |d(t) − d_ref(t)|, d = L1 distance to the discrete π):

| η | fpsolve integrator | its solves | fpsolve time error (ref: TR-BDF2 at tolerance 1e-11) | fpsolve final d | SciPy BDF (ref: exact eigen-solution) | BDF final d | SciPy BE (ref: exact) | BE final d |
|---|---|---|---|---|---|---|---|---|
${INTEGRATORS.flatMap((integ, k) => fpErr[k]!.map((f, i) => `| ${f.eta} | ${integLabel(integ)} | ${f.solves} | ${e(f.error)} | ${e(f.finalL1)} | ${e(pyErr[i]!.bdf)} | ${e(pyErr[i]!.bdfFinal)} | ${e(pyErr[i]!.be)} | ${e(pyErr[i]!.beFinal)} |`)).join('\n')}
`;
const file = join(root, 'bench', 'results-sweep.md');
// --section: a named section of its own (a later round's numbers beside the earlier ones, not over them).
writeSection(file, process.argv.includes('--section') ? process.argv[process.argv.indexOf('--section') + 1]! : 'sweep-vs-scipy.ts', md);
process.stdout.write(md);
log(`wrote ${file}`);
