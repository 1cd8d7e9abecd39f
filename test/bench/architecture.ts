/**
 * The architecture measurements of issue #21 for docs/architecture.md, on the checkout or on any
 * commit, printed as a Markdown table:
 *
 *   node dist/test/bench/architecture.js                 the checkout (working tree)
 *   node dist/test/bench/architecture.js --rev ec3873e   a commit (git archive into a temporary folder)
 *   … --suites       also time `vitest run --project unit` and `--project e2e` (needs a build; minutes)
 *   … --reference    also time the 512² reference run as users run it (docs/peers.md; ~40 s)
 *   … --seconds N    time the `duplicates` tool may take (default 120, as measured before)
 *
 * Lines in solvers/, import cycles (test/bench/cycles.ts) and `duplicates` pairs come from the tree
 * alone; timings only with the flags, on the checkout, and they move with the machine and its load.
 * "Places a new stencil must be written" is counted by hand (docs/architecture.md says how).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../src/paths.js';
import { cycleReport } from './cycles.js';

export interface LineCount {
  files: number;
  lines: number;
  /** lines that are neither blank nor only comment */
  code: number;
}

/** Lines of the .ts files below dir (blank and comment-only lines counted apart). */
export function countLines(dir: string): LineCount {
  const out: LineCount = { files: 0, lines: 0, code: 0 };
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
        out.files++;
        let inBlock = false;
        const text = readFileSync(p, 'utf8');
        const lines = text.split('\n');
        if (lines[lines.length - 1] === '') lines.pop();
        for (const raw of lines) {
          out.lines++;
          const line = raw.trim();
          if (inBlock) {
            if (line.includes('*/')) {
              inBlock = false;
              if (line.slice(line.indexOf('*/') + 2).trim() !== '') out.code++;
            }
            continue;
          }
          if (line === '' || line.startsWith('//')) continue;
          if (line.startsWith('/*')) {
            if (!line.includes('*/', 2)) inBlock = true;
            else if (line.slice(line.indexOf('*/', 2) + 2).trim() !== '') out.code++;
            continue;
          }
          out.code++;
        }
      }
    }
  };
  walk(dir);
  return out;
}

/** The first line of `duplicates`: "N pairs of places (M files read)…"; null if the tool is absent. */
export function duplicatePairs(dir: string, seconds: number): { pairs: number; files: number; line: string } | null {
  const r = spawnSync('duplicates', ['--repo', dir, '--seconds', String(seconds)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.error || r.status !== 0) return null;
  const line = r.stdout.split('\n')[0] ?? '';
  const m = /^(\d+) pairs? of places \((\d+) files read\)/.exec(line);
  return m ? { pairs: Number(m[1]), files: Number(m[2]), line } : { pairs: NaN, files: NaN, line };
}

function timed(cmd: string, args: string[], cwd: string): { seconds: number; ok: boolean } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 1 << 26 });
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, ok: r.status === 0 };
}

function main(): void {
  const argv = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const rev = opt('--rev');
  const seconds = Number(opt('--seconds') ?? 120);
  const root = packageRoot();
  let tree = root;
  let scratch: string | undefined;
  if (rev) {
    scratch = mkdtempSync(join(tmpdir(), 'fpsolve-arch-'));
    const a = spawnSync('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', root, rev, scratch], { stdio: 'inherit' });
    if (a.status !== 0) throw new Error(`git archive ${rev} failed`);
    tree = scratch;
  }
  try {
    const head = spawnSync('git', ['-C', root, 'rev-parse', '--short', rev ?? 'HEAD'], { encoding: 'utf8' }).stdout.trim();
    const dirty = !rev && spawnSync('git', ['-C', root, 'status', '--porcelain'], { encoding: 'utf8' }).stdout.trim() !== '';
    const solvers = countLines(join(tree, 'solvers'));
    const cyc = cycleReport(tree);
    const dup = duplicatePairs(tree, seconds);
    const rows: [string, string][] = [
      ['lines in solvers/ (.ts: all / code)', `${solvers.lines} / ${solvers.code} in ${solvers.files} files`],
      ['file-level import cycles (with type-only imports / at run time)', `${cyc.all.length} / ${cyc.runtime.length}`],
      ['folders importing each other at run time', cyc.mutualFolders.length === 0 ? '0' : `${cyc.mutualFolders.length}: ${cyc.mutualFolders.map(([a, b]) => `${a} ↔ ${b}`).join(', ')}`],
      ['`duplicates` pairs', dup ? `${dup.pairs} on ${dup.files} files (--seconds ${seconds})` : '(tool not found)'],
      ['places a new stencil must be written', '(by hand, docs/architecture.md)'],
    ];
    if (!rev && argv.includes('--suites')) {
      for (const project of ['unit', 'e2e']) {
        const t = timed('npx', ['vitest', 'run', '--project', project], root);
        rows.push([`suite time, ${project}`, `${t.seconds.toFixed(0)} s${t.ok ? '' : ' (failures)'}`]);
      }
    }
    if (!rev && argv.includes('--reference')) {
      const out = mkdtempSync(join(tmpdir(), 'fpsolve-ref-'));
      try {
        const t = timed(process.execPath, [join(root, 'bin', 'fpsolve.js'), 'run', join(root, 'scenarios', 'double-well-2d.yaml'), '--set', 'domain.cells=[512,512]', '--json', '--quiet', '--out', out], root);
        rows.push(['512² reference run (`fpsolve run`, defaults, wall)', `${t.seconds.toFixed(1)} s${t.ok ? '' : ' (failed)'}`]);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }
    const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    console.log(`Measured ${when} on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load ${loadavg().map((l) => l.toFixed(1)).join(' / ')}, Node ${process.version}; tree ${head}${dirty ? ' + uncommitted changes' : ''}`);
    console.log('');
    console.log('| measure | value |');
    console.log('|---|---|');
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
    for (const c of cyc.all) console.log(`\ncycle${cyc.runtime.some((r) => r.join() === c.join()) ? ' (at run time)' : ' (type-only imports)'}: ${c.join(' ↔ ')}`);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
