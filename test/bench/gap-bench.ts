/**
 * Benchmark (issue #19 item 3, not a unit test): λ₁ (and λ₁, λ₂) of the 2-D reference problem
 * f = 0.05 + (x²−1)² + y² on [−2, 2]², ησ = 0.5 (scenarios/double-well-2d.yaml) at 512²: in-process
 * (operator built, then the basin start where the build has it and generatorModes timed) and whole process (`fpsolve gap`), for this build and
 * optionally a baseline build (another checkout, e.g. the main branch, built with `npx tsc -p .`),
 * measured alternately so that both see the same machine load. Target: λ₁ in < 1.5 s.
 *
 *   npx tsc -p . && node dist/test/bench/gap-bench.js [--base <checkout>] [--reps 2] [--cells 512]
 *
 * Each measurement runs in a fresh Node process (no JIT or heap shared between builds) and records
 * wall and CPU time (user + system): on a shared machine the CPU time is the steadier number.
 * Writes bench/results-gap.md.
 */
import { execSync, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Measured {
  build: string;
  kind: 'in-process' | 'in-process, threads off' | 'fpsolve gap';
  modes: number;
  values: number[];
  relativeAccuracy: number;
  cg: number;
  setupSeconds: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** CPU time of the main thread alone (Linux /proc; NaN elsewhere and for whole processes). */
  mainCpuSeconds: number;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The checkout this script was built in (dist/test/bench → root). */
const selfRoot = resolve(here, '../../..');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

const cellsArg = Number(arg('--cells', '512'));

/**
 * CPU seconds of this process's main thread (utime + stime of /proc/self/task/<pid>/stat, clock
 * ticks of 10 ms). On a loaded machine the wall time of the threaded solve says little; the main
 * thread's CPU time is its critical path when the team's threads keep up (they wait on a futex,
 * not spinning), and it does not count the time other jobs take from this one.
 */
function mainThreadCpu(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Child mode: one in-process measurement with the build at `root`, printed as JSON. */
async function child(root: string, modes: number, cells: number, threads: number | undefined): Promise<void> {
  const problems = (await import(pathToFileURL(join(root, 'dist/test/helpers/problems.js')).href)) as typeof import('../helpers/problems.js');
  const eigen = (await import(pathToFileURL(join(root, 'dist/solvers/eigen/index.js')).href)) as typeof import('../../solvers/eigen/index.js');
  const t0 = performance.now();
  const op = problems.buildOperator([[-2, 2], [-2, 2]], [cells, cells], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
  // What computeGap does: the basin start (src/estimators/gap-start.ts) where the build has it,
  // timed with the solve.
  const startPath = join(root, 'dist/src/estimators/gap-start.js');
  const start = existsSync(startPath) ? ((await import(pathToFileURL(startPath).href)) as typeof import('../../src/estimators/gap-start.js')) : null;
  const t1 = performance.now();
  const m0 = mainThreadCpu();
  const c0 = process.cpuUsage();
  const startVectors = start?.basinStartVectors(op, null);
  const r = eigen.generatorModes(op, { modes, startVectors, threads });
  const c = process.cpuUsage(c0);
  const m1 = mainThreadCpu();
  const t2 = performance.now();
  console.log(
    JSON.stringify({ values: r.values, relativeAccuracy: r.relativeAccuracy, cg: r.innerIterations, setupSeconds: (t1 - t0) / 1000, wallSeconds: (t2 - t1) / 1000, cpuSeconds: (c.user + c.system) / 1e6, mainCpuSeconds: m1 - m0 }),
  );
}

/**
 * threads 0: the solve without kernel threads. On a shared machine the CPU time of that row is
 * the steadiest number: with threads, the team's waits and a contended second core blur it.
 */
function inProcess(root: string, label: string, modes: number, threads?: number): Measured {
  const extra = threads === undefined ? [] : ['--threads', String(threads)];
  const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', root, String(modes), '--cells', String(cellsArg), ...extra], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`child failed: ${out.stderr}`);
  const j = JSON.parse(out.stdout.trim().split('\n').pop() as string) as Omit<Measured, 'build' | 'kind' | 'modes'>;
  return { build: label, kind: threads === 0 ? 'in-process, threads off' : 'in-process', modes, ...j };
}

/** `fpsolve gap` as a user runs it; CPU time of the child from /usr/bin/time when present. */
function wholeProcess(root: string, label: string): Measured {
  const args = [join(root, 'bin/fpsolve.js'), 'gap', join(selfRoot, 'scenarios/double-well-2d.yaml'), '--set', `domain.cells=[${cellsArg},${cellsArg}]`, '--json'];
  const haveTime = spawnSync('/usr/bin/time', ['-f', '%U', 'true']).status === 0;
  const t0 = performance.now();
  const out = haveTime
    ? spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, args, { encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (out.status !== 0) throw new Error(`fpsolve gap failed: ${out.stderr}`);
  const cpuLine = /CPU ([\d.]+) ([\d.]+)/.exec(out.stderr);
  const j = JSON.parse(out.stdout) as { gap?: { modes: number[]; relativeAccuracy: number; innerIterations: number } };
  const g = j.gap ?? (j as unknown as { modes: number[]; relativeAccuracy: number; innerIterations: number });
  return {
    build: label,
    kind: 'fpsolve gap',
    modes: 1,
    values: g.modes,
    relativeAccuracy: g.relativeAccuracy,
    cg: g.innerIterations,
    setupSeconds: NaN,
    wallSeconds: wall,
    cpuSeconds: cpuLine ? Number(cpuLine[1]) + Number(cpuLine[2]) : NaN,
    mainCpuSeconds: NaN,
  };
}

function execSafe(cmd: string): string {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci >= 0) {
    const ti = process.argv.indexOf('--threads');
    await child(process.argv[ci + 1], Number(process.argv[ci + 2]), cellsArg, ti >= 0 ? Number(process.argv[ti + 1]) : undefined);
    return;
  }
  const base = process.argv.includes('--base') ? resolve(arg('--base', '')) : null;
  const reps = Number(arg('--reps', '2'));
  const builds: [string, string][] = [...(base ? ([[base, 'baseline']] as [string, string][]) : []), [selfRoot, 'this build']];
  const loadStart = execSafe('cat /proc/loadavg');
  const started = new Date().toISOString();
  const rows: Measured[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const [root, label] of builds) {
      for (const m of [inProcess(root, label, 1), inProcess(root, label, 1, 0), wholeProcess(root, label), ...(rep === 0 ? [inProcess(root, label, 2)] : [])]) {
        rows.push(m);
        console.log(JSON.stringify(m));
      }
    }
  }
  const loadEnd = execSafe('cat /proc/loadavg');
  const model = execSafe("lscpu | sed -n 's/^Model name: *//p'") || (cpus()[0]?.model ?? 'unknown');
  const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '–');
  const lines = [
    '# Spectral-gap benchmark (issue #19 item 3)',
    '',
    `Date: ${started} (UTC)  `,
    `Machine: ${model}, ${cpus().length} cores as seen by Node, Node.js ${process.version}; shared with other jobs (see the load)  `,
    `Load average at start: ${loadStart}  `,
    `Load average at end: ${loadEnd}  `,
    `Problem: f = 0.05 + (x²−1)² + y² on [−2, 2]², multiplicative noise ησ = 0.5 (scenarios/double-well-2d.yaml), ${cellsArg}².  `,
    `Builds: ${builds.map(([r, l]) => `${l} = ${r === selfRoot ? 'this checkout' : r} (${execSafe(`git -C ${r} rev-parse --short HEAD`)})`).join('; ')}.  `,
    'Command: `npx tsc -p . && node dist/test/bench/gap-bench.js [--base <checkout>] [--reps N]`; each row is a fresh Node process; builds alternate.',
    '',
    '| build | what | modes | λ values | relative accuracy of λ₁ | CG iterations | operator setup (s) | eigen-solve / process wall (s) | CPU (s) | main-thread CPU (s) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.build} | ${r.kind} | ${r.modes} | ${r.values.map((v) => v.toPrecision(10)).join(', ')} | ${r.relativeAccuracy.toExponential(1)} | ${r.cg} | ${fmt(r.setupSeconds)} | ${fmt(r.wallSeconds)} | ${fmt(r.cpuSeconds)} | ${fmt(r.mainCpuSeconds)} |`,
    ),
    '',
  ];
  mkdirSync(join(selfRoot, 'bench'), { recursive: true });
  const { writeFileAtomic } = (await import(pathToFileURL(join(selfRoot, 'dist/src/io/atomic.js')).href)) as typeof import('../../src/io/atomic.js');
  // Newest run first; earlier sections stay below it (the file is the record of every run).
  const file = join(selfRoot, 'bench/results-gap.md');
  const earlier = existsSync(file) ? readFileSync(file, 'utf8').replace(/^# Spectral-gap benchmark \(issue #19 item 3\)\n+/, '') : '';
  writeFileAtomic(file, lines.join('\n') + '\n' + (process.env.GAP_BENCH_NOTES ?? '') + (earlier ? '\n## Earlier run\n\n' + earlier : ''));
  console.log('wrote bench/results-gap.md');
}

await main();
