/**
 * A plain run's phases, in-process, for this build and (with `--base DIR`) another build of
 * fpsolve, interleaved, each run a fresh process (cold, as a user's run is): wall and CPU seconds
 * of each phase between the run's own onPhase marks (src/run/run.ts), on the 2-D reference problem
 * (bench/reference-2d.yaml) without the gap. CPU is the process's (all threads): in the set-up
 * phases only the main thread works; in stepping the kernel threads add theirs.
 *
 *   npx tsc -p tsconfig.json && node dist/test/bench/setup-phases.js [--n 512] [--repeats 3] [--base DIR]
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../src/paths.js';

interface PhaseTime {
  phase: string;
  wall: number;
  cpu: number;
}

async function child(build: string, n: number): Promise<void> {
  const load = (await import(pathToFileURL(join(build, 'dist', 'src', 'scenario', 'load.js')).href)) as { loadScenario(p: string, o: string[]): unknown };
  const run = (await import(pathToFileURL(join(build, 'dist', 'src', 'run', 'run.js')).href)) as {
    runScenario(l: unknown, o: { gap: boolean; onPhase: (p: { phase: string; step: string }) => void }): Promise<unknown>;
  };
  const cpuNow = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const out: PhaseTime[] = [];
  let name = 'scenario load and check';
  let w0 = performance.now();
  let c0 = cpuNow();
  const mark = (next: string): void => {
    const w = performance.now();
    const c = cpuNow();
    out.push({ phase: name, wall: (w - w0) / 1000, cpu: c - c0 });
    name = next;
    w0 = w;
    c0 = c;
  };
  const loaded = load.loadScenario(join(packageRoot(), 'bench', 'reference-2d.yaml'), [`domain.cells=[${n},${n}]`]);
  mark('memory check');
  await run.runScenario(loaded, { gap: false, onPhase: (p) => mark(`${p.phase}: ${p.step}`) });
  name = 'stepping, walls, basins, critical limit, report';
  mark('end');
  process.stdout.write(JSON.stringify(out) + '\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (k: string, d: string): string => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
  const n = Number(opt('--n', '512'));
  const repeats = Number(opt('--repeats', '3'));
  const base = opt('--base', '');
  const builds = [{ name: 'this build', dir: packageRoot() }, ...(base ? [{ name: `base ${base}`, dir: base }] : [])];
  const got = builds.map(() => [] as PhaseTime[][]);
  const loadStart = loadavg();
  for (let r = 0; r < repeats; r++) {
    builds.forEach((b, j) => {
      const res = spawnSync(process.execPath, [process.argv[1], '--child', b.dir, String(n)], { encoding: 'utf8', env: { ...process.env, FPSOLVE_BUNDLE: '0' }, maxBuffer: 16 << 20 });
      if (res.status !== 0) throw new Error(res.stderr);
      got[j].push(JSON.parse(res.stdout.trim().split('\n').pop() ?? '[]') as PhaseTime[]);
    });
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  console.log(`${new Date().toISOString()}, ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}, ${n}², no gap, medians of ${repeats}, interleaved, load ${loadStart.map((v) => v.toFixed(1)).join(' ')} → ${loadavg().map((v) => v.toFixed(1)).join(' ')}\n`);
  console.log(`| phase | ${builds.map((b) => `${b.name}: wall s / CPU s`).join(' | ')} |`);
  console.log(`|---|${builds.map(() => '---').join('|')}|`);
  const phases = got[0][0].map((p) => p.phase);
  for (const [i, phase] of phases.entries()) {
    const cells = builds.map((_, j) => {
      const runs = got[j].map((r) => r.find((p) => p.phase === phase) ?? r[i]);
      return `${median(runs.map((p) => p.wall)).toFixed(3)} / ${median(runs.map((p) => p.cpu)).toFixed(3)}`;
    });
    console.log(`| ${phase} | ${cells.join(' | ')} |`);
  }
  const totals = builds.map((_, j) => `${median(got[j].map((r) => r.reduce((a, p) => a + p.wall, 0))).toFixed(2)} / ${median(got[j].map((r) => r.reduce((a, p) => a + p.cpu, 0))).toFixed(2)}`);
  console.log(`| total (in-process, no gap) | ${totals.join(' | ')} |`);
}

if (process.argv[1]?.endsWith('setup-phases.js')) {
  const i = process.argv.indexOf('--child');
  if (i >= 0) await child(process.argv[i + 1], Number(process.argv[i + 2]));
  else main();
}
