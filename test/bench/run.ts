/**
 * `npm run bench`: the performance suite of docs/performance.md. Writes bench/results.json and
 * bench/results.md (atomically). Every timed comparison (fpsolve vs the SciPy script, operator
 * apply vs a copy-scale loop) is measured in this one run, repeated, and reported as a median,
 * because the machine may be shared. Flags: --repeat N (default 2), --quick (skip the 512²
 * reference runs, the 1024² counts and the trade-off table), --scale (add the 2048² and 128³
 * runs), --out DIR (default bench/).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { packageRoot } from '../../src/paths.js';
import { REFERENCE_DIR, type Method, type RefRun } from './reference-problem.js';
import { kernelBench, type KernelResult } from './kernels.js';
import { iterationCounts, type CountResult } from './counts.js';
import { tradeOff, type TradeOffRow } from './tradeoff.js';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const value = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const repeat = Math.max(1, Number(value('--repeat', '2')) | 0);
const quick = flag('--quick');
const scale = flag('--scale');
const outDir = value('--out', join(packageRoot(), 'bench'));

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
};

function machine(): Record<string, string | number> {
  const ls = spawnSync('lscpu', [], { encoding: 'utf8' });
  const model = /Model name:\s*(.+)/.exec(ls.stdout ?? '')?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  return { cpu: model, cores: cpus().length, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, date: new Date().toISOString() };
}

function childRun(job: object): RefRun {
  const r = spawnSync(process.execPath, [join(packageRoot(), 'dist/test/bench/explore.js'), JSON.stringify(job)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench child failed (${JSON.stringify(job)}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as RefRun;
}

interface ScipyRun {
  grid: string;
  dt: number;
  wall_s: number;
  l1_to_ref?: number;
  mass_drift: number;
  min_density: number;
}

function scipyRun(n: number, dt: number): ScipyRun | null {
  const script = join(REFERENCE_DIR, 'baseline', 'sg_scipy.py');
  if (!existsSync(script)) return null;
  const r = spawnSync('python3', [script, '--problem', '2d', '--n', String(n), '--dt', String(dt), '--solver', 'splu'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as ScipyRun;
}

interface Comparison {
  n: number;
  method: string;
  fpsolve: RefRun[];
  fpsolveMedianS: number;
  scipy: ScipyRun[];
  scipyMedianS: number | null;
  speedup: number | null;
}

const load0 = loadavg();
const started = performance.now();
const log = (s: string): void => void process.stderr.write(s + '\n');

// 1. Reference problem vs the SciPy script, interleaved so both see the same load.
// The default preconditioner (Jacobi/multigrid switch) is what `fpsolve run` uses. Tolerance 0.007
// keeps the 512² L1 error clear of the 2.4e-3 target (at 0.01 it sat at 2.2e-3–2.4e-3,
// depending on the step sequence).
const refCases: { n: number; method: Method }[] = [
  { n: 256, method: { kind: 'trbdf2', tolerance: 7e-3, linearTol: 7e-6, pre: 'auto' } },
  { n: 256, method: { kind: 'trbdf2', tolerance: 1e-3, linearTol: 1e-6, pre: 'auto' } },
  // The exponential integrator (solvers/backend/exponential.ts) covers [0, 1] in one interval.
  { n: 256, method: { kind: 'exp', tolerance: 1e-2, pre: 'auto' } },
  ...(quick
    ? []
    : ([
        { n: 512, method: { kind: 'trbdf2', tolerance: 7e-3, linearTol: 7e-6, pre: 'auto' } },
        { n: 512, method: { kind: 'trbdf2', tolerance: 3e-3, linearTol: 3e-6, pre: 'auto' } },
        { n: 512, method: { kind: 'exp', tolerance: 1e-2, pre: 'auto' } },
        { n: 512, method: { kind: 'exp', tolerance: 1e-4, pre: 'auto' } },
      ] as { n: number; method: Method }[])),
];
const comparisons: Comparison[] = [];
const scipyCache = new Map<number, ScipyRun[]>();
for (const c of refCases) {
  const runs: RefRun[] = [];
  const sc = scipyCache.get(c.n) ?? [];
  for (let r = 0; r < repeat; r++) {
    log(`reference ${c.n}² ${JSON.stringify(c.method)} (run ${r + 1}/${repeat})`);
    runs.push(childRun({ n: c.n, method: c.method }));
    if (!scipyCache.has(c.n)) {
      const s = scipyRun(c.n, 0.01);
      if (s) sc.push(s);
    }
  }
  scipyCache.set(c.n, sc);
  const fm = median(runs.map((x) => x.wallSeconds));
  const sm = sc.length ? median(sc.map((x) => x.wall_s)) : null;
  comparisons.push({ n: c.n, method: runs[0].method, fpsolve: runs, fpsolveMedianS: fm, scipy: sc, scipyMedianS: sm, speedup: sm !== null ? sm / fm : null });
}

// 2. Operator apply against a copy-scale loop over arrays of the same size.
log('kernels');
const kernels: KernelResult[] = [512, 1024].map((n) => kernelBench(n, 9));

// 3. Multigrid-PCG iteration counts (count-based; 1024² only here, not in the unit tests).
log('iteration counts');
const counts: CountResult[] = await iterationCounts(quick ? [128, 256, 512] : [128, 256, 512, 1024]);

// 4. Accuracy–cost trade-off per integrator (128²).
const trade: TradeOffRow[] = quick ? [] : (log('trade-off'), await tradeOff(128));

// 5. Scale runs.
const scaleRuns: RefRun[] = [];
if (scale) {
  log('scale 2048²');
  scaleRuns.push(childRun({ scenario: 'scenarios/double-well-2d.yaml', overrides: ['domain.cells=[2048,2048]'], method: { kind: 'trbdf2', tolerance: 1e-2, linearTol: 1e-5 } }));
  log('scale 128³');
  scaleRuns.push(childRun({ scenario: 'scenarios/quadratic-floor-3d.yaml', overrides: ['domain.cells=[128,128,128]'], method: { kind: 'trbdf2', tolerance: 1e-2, linearTol: 1e-5 } }));
  log('scale 2048², exponential');
  scaleRuns.push(childRun({ scenario: 'scenarios/double-well-2d.yaml', overrides: ['domain.cells=[2048,2048]'], method: { kind: 'exp', tolerance: 1e-2 } }));
  log('scale 128³, exponential');
  scaleRuns.push(childRun({ scenario: 'scenarios/quadratic-floor-3d.yaml', overrides: ['domain.cells=[128,128,128]'], method: { kind: 'exp', tolerance: 1e-2 } }));
}

const results = {
  machine: machine(),
  loadAverage: { start: load0.map((x) => +x.toFixed(2)), end: loadavg().map((x) => +x.toFixed(2)) },
  repeat,
  benchSeconds: (performance.now() - started) / 1000,
  comparisons,
  kernels,
  counts,
  tradeOff: trade,
  scale: scaleRuns,
};

const fmt = (x: number | null | undefined, d = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toPrecision(d));
const md: string[] = [];
md.push('# fpsolve benchmark results', '');
md.push(`Machine: ${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.memoryGiB} GiB; Node ${results.machine.node}; ${results.machine.date}.`);
md.push(`Load average at start ${results.loadAverage.start.join(' / ')}, at end ${results.loadAverage.end.join(' / ')} (1/5/15 min; ${results.machine.cores} cores: above ${results.machine.cores} the machine was shared). Medians of ${repeat} runs; ratios measured in this one run.`, '');
md.push('## 2-D reference problem (docs/peers.md) to t = 1: fpsolve vs the SciPy script (sparse LU, backward Euler dt 0.01)', '');
md.push('| grid | fpsolve method | steps | PCG iterations | fpsolve wall s | of which setup s | L1 vs ref | SciPy wall s | SciPy L1 | speed-up |', '|---|---|---|---|---|---|---|---|---|---|');
for (const c of comparisons) {
  const r = c.fpsolve[0];
  const s = c.scipy[0];
  const setupS = median(c.fpsolve.map((x) => x.setupSeconds));
  md.push(`| ${c.n}² | ${c.method} | ${r.steps} | ${r.linearIterations} | ${fmt(c.fpsolveMedianS)} | ${fmt(setupS, 2)} | ${fmt(r.l1)} | ${fmt(c.scipyMedianS)} | ${fmt(s?.l1_to_ref)} | ${c.speedup === null ? '–' : c.speedup.toFixed(2) + '×'} |`);
}
md.push('', 'fpsolve wall time includes loading the scenario file (YAML, schema check, expression compile: ~0.02 s with the schemas precompiled by the build) and building the problem (cell and face quadrature of f) and the operator ("setup"), as the SciPy time includes its matrix assembly and LU factorization; neither includes process start. Targets (issue 9): at 512² 3× faster than SciPy with L1 ≤ 2.4e-3; at 256² under 0.3 s with L1 ≤ 4.7e-3.', '');
md.push('## Operator apply vs memory bandwidth', '');
md.push('| grid | copy-scale ms (GB/s) | apply ms | bytes moved by apply | apply GB/s | apply time / bandwidth bound | same, JavaScript loops: ms (/ bound) | applySymmetric ms | apply on all cores ms (threads) | all cores / bound |', '|---|---|---|---|---|---|---|---|---|---|');
for (const k of kernels) {
  md.push(`| ${k.n}² | ${fmt(k.copyScaleMs)} (${fmt(k.copyGBs)}) | ${fmt(k.applyMs)}${k.wasm ? ' (WebAssembly)' : ''} | ${(k.applyBytes / 2 ** 20).toFixed(0)} MiB | ${fmt(k.applyGBs)} | ${fmt(k.applyOverBound)}× | ${fmt(k.applyJsMs)} (${fmt(k.applyJsOverBound)}×) | ${fmt(k.symMs)} | ${fmt(k.threadedApplyMs)} (${k.threads}) | ${k.threadedOverBound === null ? '–' : fmt(k.threadedOverBound) + '×'} |`);
}
md.push('', 'The bound is the apply\'s bytes divided by the single-thread copy-scale loop\'s bandwidth measured in the same process (medians of repetitions). The apply runs the WebAssembly kernel (generated from solvers/kernels/stencils.ts) when its arrays are in the arena, as in every run; "JavaScript loops" is the same apply with that kernel turned off. "All cores": the same kernel split across the CPU backend\'s kernel threads (solvers/exec/team.ts), as runs from 512² up use it.', '');
md.push('## Multigrid-PCG iterations per solve (θ = 0.02, relative tolerance 1e-8, start = the reference Gaussian)', '');
md.push('| grid | levels | multigrid-PCG iterations | Jacobi-PCG iterations |', '|---|---|---|---|');
for (const c of counts) md.push(`| ${c.n}² | ${c.levels} | ${c.mgIterations} | ${c.jacobiIterations ?? '–'} |`);
if (trade.length) {
  md.push('', '## Accuracy–cost trade-off (128², t = 1)', '');
  md.push('Time error: L1 distance to the same grid\'s solution from TR-BDF2 at tolerance 1e-7. L1 vs ref: against ref-2d-512-t1 averaged onto 128² (includes the 128² spatial error).', '');
  md.push('| integrator | steps (exponential: intervals) | PCG iterations | wall s | time error (L1) | L1 vs ref |', '|---|---|---|---|---|---|');
  for (const t of trade) md.push(`| ${t.method} | ${t.steps} | ${t.linearIterations} | ${fmt(t.wallSeconds)} | ${fmt(t.timeError)} | ${fmt(t.l1Ref)} |`);
}
if (scaleRuns.length) {
  md.push('', '## Scale runs (to t = 1)', '', '| run | method | steps (exponential: intervals) | linear solves | PCG iterations | wall s | peak RSS MiB |', '|---|---|---|---|---|---|---|');
  const names = ['2-D double well 2048²', '3-D quadratic-floor 128³'];
  scaleRuns.forEach((r, i) => md.push(`| ${names[i % 2]} | ${r.method} | ${r.steps} | ${r.linearSolves} | ${r.linearIterations} | ${fmt(r.wallSeconds)} | ${r.maxRssMiB.toFixed(0)} |`));
}
mkdirSync(outDir, { recursive: true });
writeFileAtomic(join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
writeFileAtomic(join(outDir, 'results.md'), md.join('\n') + '\n');
log(`wrote ${join(outDir, 'results.md')} in ${results.benchSeconds.toFixed(0)} s`);
