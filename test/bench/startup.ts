/**
 * Start-up benchmark (a script, not a test; issue #19.4): whole-process wall and CPU time of
 * `fpsolve --version`, `fpsolve validate scenarios/pearson-1d.yaml` and `fpsolve run
 * scenarios/pearson-1d.yaml -q`, each spawned --repeats times in turn (hyperfine-style: the
 * commands alternate, so a change in machine load hits all alike), medians reported.
 * Optionally the same for another build (--baseline <dir with bin/fpsolve.js and dist/>), in the
 * same rounds, for a before/after ratio taken under the same load. Writes bench/results-startup.md.
 *
 *   npx tsc -p . && node dist/src/schema-precompile.js && node dist/test/bench/startup.js [--repeats 15] [--baseline /tmp/fpsolve-before]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { packageRoot, packageVersion } from '../../src/paths.js';
import { writeFileAtomic } from '../../src/io/atomic.js';

const argAt = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const REPEATS = Number(argAt('repeats') ?? 15);
if (!Number.isInteger(REPEATS) || REPEATS < 1) throw new Error('--repeats must be a positive integer');
const BASELINE = argAt('baseline');

const COMMANDS: { label: string; args: string[]; target: number }[] = [
  { label: '--version', args: ['--version'], target: 0.15 },
  { label: 'validate scenarios/pearson-1d.yaml', args: ['validate', 'scenarios/pearson-1d.yaml'], target: 0.3 },
  { label: 'run scenarios/pearson-1d.yaml -q', args: ['run', 'scenarios/pearson-1d.yaml', '-q'], target: 0.5 },
];

interface Sample {
  wall: number;
  /** user + system CPU seconds of the fpsolve process, its threads included. */
  cpu: number;
}

/** One spawn, timed by a small wrapper process so that the fpsolve process's CPU can be told from ours. */
function once(root: string | null, args: string[]): Sample {
  const argv = root === null ? args : [join(root, 'bin', 'fpsolve.js'), ...args];
  const wrapper = `const { spawnSync } = require('node:child_process');
const t0 = process.hrtime.bigint();
const r = spawnSync(process.execPath, ${JSON.stringify(argv)}, { cwd: ${JSON.stringify(packageRoot())}, stdio: ['ignore', 'ignore', 'inherit'] });
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const u = process.resourceUsage();
if (r.status !== 0) process.exit(1);
// The children's CPU: ours is read from a process that only waited (its own CPU is its start-up).
process.stdout.write(JSON.stringify({ wall, self: u.userCPUTime + u.systemCPUTime }));`;
  const before = childCpu();
  const r = spawnSync(process.execPath, ['-e', wrapper], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  const { wall, self } = JSON.parse(r.stdout) as { wall: number; self: number };
  // Children's CPU of the wrapper (the fpsolve process) = all descendants' CPU minus the wrapper's own.
  return { wall, cpu: childCpu() - before - self / 1e6 };
}

/** CPU seconds of this process's finished descendants (Linux /proc/self/stat cutime + cstime). */
function childCpu(): number {
  const rest = readFileSync('/proc/self/stat', 'utf8').split(')').pop()!.trim().split(' ');
  return (Number(rest[13]) + Number(rest[14])) / 100;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const builds: { name: string; root: string }[] = [{ name: 'this build', root: packageRoot() }, ...(BASELINE ? [{ name: 'baseline', root: BASELINE }] : [])];
const samples = new Map<string, Sample[]>();
const key = (b: string, c: string): string => `${b}\u0000${c}`;
const loadBefore = loadavg();
// A bare Node start, for scale: what no JavaScript of fpsolve costs.
const bare: Sample[] = [];
for (let r = 0; r < REPEATS; r++) {
  for (const c of COMMANDS) {
    for (const b of builds) {
      const s = once(b.root, c.args);
      const k = key(b.name, c.label);
      samples.set(k, [...(samples.get(k) ?? []), s]);
    }
  }
  bare.push(once(null, ['-e', '0']));
  process.stderr.write(`round ${r + 1}/${REPEATS}\n`);
}
const loadAfter = loadavg();
/** How a build compiled the CLI bundle in a run (the start-up record bin/bundle-entry.js writes): a cache refused or absent is a slower start, not a measurement of this build. */
function codeCacheOf(root: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fpsolve-startup-bench-'));
  const preload = join(dir, 'record.cjs');
  writeFileSync(preload, "process.on('exit', () => process.stderr.write('\\n@codeCache=' + ((globalThis[Symbol.for('fpsolve.startup')] || {}).codeCache || 'none recorded (dist/, or a bundle without a code cache)') + '\\n'));\n");
  const r = spawnSync(process.execPath, ['--require', preload, join(root, 'bin', 'fpsolve.js'), ...COMMANDS[2]!.args], { cwd: packageRoot(), encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  return /@codeCache=(.*)/.exec(r.stderr)?.[1] ?? `unknown (exit ${r.status})`;
}
const cacheNote = builds.map((b) => `${b.name}: ${codeCacheOf(b.root)}`).join('; ');
const cpu = cpus();
const rows = COMMANDS.map((c) => {
  const mine = samples.get(key('this build', c.label))!;
  const base = BASELINE ? samples.get(key('baseline', c.label))! : undefined;
  const w = median(mine.map((s) => s.wall));
  const cells = [
    `\`fpsolve ${c.label}\``,
    w.toFixed(3),
    median(mine.map((s) => s.cpu)).toFixed(2),
    `${c.target} s`,
    ...(base ? [median(base.map((s) => s.wall)).toFixed(3), median(base.map((s) => s.cpu)).toFixed(2), (median(base.map((s) => s.wall)) / w).toFixed(2)] : []),
  ];
  return `| ${cells.join(' | ')} |`;
});
const head = BASELINE
  ? '| command | wall median (s) | CPU median (s) | target (wall, idle machine) | baseline wall (s) | baseline CPU (s) | wall ratio baseline/this |\n|---|---|---|---|---|---|---|'
  : '| command | wall median (s) | CPU median (s) | target (wall, idle machine) |\n|---|---|---|---|';
const md = `## Measured by test/bench/startup.ts

Generated by \`node dist/test/bench/startup.js --repeats ${REPEATS}${BASELINE ? ` --baseline ${BASELINE}` : ''}\`.

- Date: ${new Date().toISOString()}
- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, fpsolve ${packageVersion()}
- Load average (1, 5, 15 min) before: ${loadBefore.map((x) => x.toFixed(2)).join(', ')}; after: ${loadAfter.map((x) => x.toFixed(2)).join(', ')} (the machine is shared by eight engineers: wall times measure the CPU share we got; CPU times are the steadier measure)
- Bare \`node -e 0\`: wall median ${median(bare.map((s) => s.wall)).toFixed(3)} s, CPU median ${median(bare.map((s) => s.cpu)).toFixed(2)} s (what no JavaScript of fpsolve costs; under load both grow, so compare the ratios of one table)
- ${REPEATS} spawns of each command${BASELINE ? ' and build' : ''}, interleaved
- The CLI bundle's V8 code cache in a run (bin/bundle-entry.js): ${cacheNote}

${head}
${rows.join('\n')}
`;
const file = join(packageRoot(), 'bench', 'results-startup.md');
const MARK = '<!-- startup.ts output -->';
const old = existsSync(file) ? readFileSync(file, 'utf8') : `# Start-up time\n\n${MARK}\n`;
const at = old.indexOf(MARK);
writeFileAtomic(file, `${at >= 0 ? old.slice(0, at) : `${old}\n`}${MARK}\n${md}`);
process.stdout.write(md);
process.stderr.write(`wrote ${file}\n`);
