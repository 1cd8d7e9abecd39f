/**
 * Whole process against whole process (issue #19 items 1–2): `node bin/fpsolve.js run` on the 2-D
 * reference problem (bench/reference-2d.yaml) at 256² and 512², as shipped (gap and bounds
 * included) and with the documented speed settings (docs/performance.md, "Speed settings"),
 * beside the peers' SciPy script (bench/baseline/sg_scipy.py, sparse LU, backward Euler dt 0.01;
 * docs/peers.md). Runs are interleaved (fpsolve, tuned, SciPy, fpsolve, …) so that the load of a
 * shared machine falls on all of them alike; medians of `--repeats` (default 3). Each run's L1
 * distance to the reference density in bench/data is its accuracy: fpsolve's from its --out
 * density.npy, SciPy's as the script prints it.
 *
 *   npx tsc -p tsconfig.json && node dist/test/bench/whole-process.js [--repeats 3] [--sizes 256,512] [--json out.json]
 *     [--base DIR] [--no-tuned]
 *
 * `--base DIR`: another build of fpsolve (a checkout of main with its dist/ built) run as shipped
 * in the same interleaving, so that a change is measured against its base under the same load;
 * `--no-tuned` leaves out the tuned command.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { readNpy } from '../../src/io/npy.js';

/** The documented speed settings (docs/performance.md, "Speed settings"). */
export const TUNED = ['--no-gap', '--set', 'time.integrator=exponential', '--set', 'time.tolerance=0.01'];

interface Variant {
  name: string;
  run(n: number): { wall: number; cpu: number | null; l1: number | null; detail: string };
}

const root = packageRoot();

/**
 * Wall seconds from spawn to exit, and the child's CPU seconds (user + system, from GNU time where
 * /usr/bin/time exists): on a loaded machine the wall time measures the load as much as the
 * program, the CPU time much less so.
 */
function timed(cmd: string, args: string[]): { wall: number; cpu: number | null; stdout: string } {
  const gnuTime = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const r = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', cmd, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const m = gnuTime ? /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr) : null;
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : null, stdout: r.stdout };
}

function l1ToReference(density: Float64Array, n: number): number {
  const ref = readNpy(join(root, 'bench', 'data', `ref-2d-${n}-t1.npy`)).data as Float64Array;
  const h2 = (4 / n) * (4 / n);
  let s = 0;
  for (let i = 0; i < ref.length; i++) s += Math.abs(density[i] - ref[i]);
  return s * h2;
}

function fpsolve(name: string, extra: string[], build = root): Variant {
  return {
    name,
    run(n) {
      const out = mkdtempSync(join(tmpdir(), 'fpsolve-wp-'));
      try {
        const { wall, cpu } = timed(process.execPath, [join(build, 'bin', 'fpsolve.js'), 'run', join(root, 'bench', 'reference-2d.yaml'), '--set', `domain.cells=[${n},${n}]`, ...extra, '--out', out, '-q']);
        const density = readNpy(join(out, 'density.npy')).data as Float64Array;
        const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { integrator: { name: string; linearSolves: number; linearIterations: number }; wallSeconds: number };
        const i = report.integrator;
        return { wall, cpu, l1: l1ToReference(density, n), detail: `${i.name}, ${i.linearSolves} solves, ${i.linearIterations} CG its, in-process ${report.wallSeconds.toFixed(2)} s` };
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
  };
}

const scipy: Variant = {
  name: 'SciPy script (splu, BE dt 0.01)',
  run(n) {
    const { wall, cpu, stdout } = timed('python3', [join(root, 'bench', 'baseline', 'sg_scipy.py'), '--problem', '2d', '--n', String(n), '--dt', '0.01', '--solver', 'splu']);
    const line = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { l1_to_ref?: number; wall_s?: number };
    return { wall, cpu, l1: line.l1_to_ref ?? null, detail: `script's own wall_s ${line.wall_s?.toFixed(2)} s` };
  },
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export interface WholeProcessRow {
  n: number;
  variant: string;
  walls: number[];
  median: number;
  /** CPU seconds (user + system) of each run, and their median; null without GNU time. */
  cpus: (number | null)[];
  cpuMedian: number | null;
  /** SciPy's median CPU seconds / this one's. */
  cpuSpeedup: number | null;
  l1: number | null;
  detail: string;
  /** SciPy's median / this median: > 1 is faster than SciPy. */
  speedup: number;
}

export function wholeProcess(sizes: number[], repeats: number, opts: { base?: string; tuned?: boolean } = {}): WholeProcessRow[] {
  const variants = [
    fpsolve('fpsolve run (as shipped)', []),
    ...(opts.base ? [fpsolve(`fpsolve run (as shipped), base build ${opts.base}`, [], opts.base)] : []),
    ...(opts.tuned !== false ? [fpsolve(`fpsolve run ${TUNED.join(' ')}`, TUNED)] : []),
    scipy,
  ];
  const rows: WholeProcessRow[] = [];
  for (const n of sizes) {
    const got = variants.map(() => ({ walls: [] as number[], cpus: [] as (number | null)[], l1: null as number | null, detail: '' }));
    for (let k = 0; k < repeats; k++) {
      variants.forEach((v, j) => {
        const r = v.run(n);
        got[j].walls.push(r.wall);
        got[j].cpus.push(r.cpu);
        got[j].l1 = r.l1;
        got[j].detail = r.detail;
        process.stderr.write(`${n}² ${v.name}: ${r.wall.toFixed(2)} s (CPU ${r.cpu?.toFixed(2)} s), L1 ${r.l1?.toExponential(2)} (${r.detail})\n`);
      });
    }
    const cpuMedian = (xs: (number | null)[]): number | null => (xs.every((x) => x !== null) ? median(xs as number[]) : null);
    const base = median(got[variants.length - 1].walls);
    const baseCpu = cpuMedian(got[variants.length - 1].cpus);
    variants.forEach((v, j) => {
      const c = cpuMedian(got[j].cpus);
      rows.push({ n, variant: v.name, walls: got[j].walls, median: median(got[j].walls), cpus: got[j].cpus, cpuMedian: c, cpuSpeedup: c !== null && baseCpu !== null ? baseCpu / c : null, l1: got[j].l1, detail: got[j].detail, speedup: base / median(got[j].walls) });
    });
  }
  return rows;
}

if (process.argv[1]?.endsWith('whole-process.js')) {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const repeats = Number(opt('--repeats', '3'));
  const sizes = opt('--sizes', '256,512').split(',').map(Number);
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  const loadStart = loadavg();
  const date = new Date().toISOString();
  const base = opt('--base', '');
  const rows = wholeProcess(sizes, repeats, { ...(base ? { base } : {}), tuned: !args.includes('--no-tuned') });
  const loadEnd = loadavg();
  const jsonOut = opt('--json', '');
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ date, cpuModel, cores: cpus().length, node: process.version, loadStart, loadEnd, rows }, null, 1));
  console.log(`${date}, ${cpuModel}, ${cpus().length} cores, Node ${process.version}, load average ${loadStart.map((v) => v.toFixed(1)).join(' ')} at start, ${loadEnd.map((v) => v.toFixed(1)).join(' ')} at end; medians of ${repeats}, interleaved\n`);
  console.log('| grid | command | wall s (median) | runs | × SciPy (wall) | CPU s (median) | × SciPy (CPU) | L1 to reference | detail |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.n}² | ${r.variant} | ${r.median.toFixed(2)} | ${r.walls.map((w) => w.toFixed(2)).join(', ')} | ${r.speedup.toFixed(2)} | ${r.cpuMedian?.toFixed(2) ?? '—'} | ${r.cpuSpeedup?.toFixed(2) ?? '—'} | ${r.l1?.toExponential(2) ?? '—'} | ${r.detail} |`);
  }
}
