/**
 * Red-team check of issue 21's promise "keeping every behaviour, number and test that holds today"
 * (not a unit test): runs `fpsolve run --json` and `fpsolve gap --json` with two builds of fpsolve, the
 * pre-redesign one and this one, over every bundled scenario × integrator (grids shrunk with --set so the
 * whole matrix runs in minutes), plus FPSOLVE_THREADS=1/2 on a 512² grid (the team only starts at 512²,
 * solvers/backend/cpu.ts THREADED_MIN_CELLS) and FPSOLVE_WASM=0/1, and compares the reports field by field.
 *
 * Flags: a relative difference above 1e-10 in any real number, a step/iteration count differing by more
 * than 1, any other change in an integer, a string, a status or an exit code. Wall times, dates, the
 * device line and the scenario file path are ignored.
 *
 * Build both trees (`npx tsc -p tsconfig.json && node dist/src/schema-precompile.js`), then
 *   node dist/test/bench/compare-builds.js <before-checkout> [--quick]
 * where <before-checkout> is a built clone at the pre-redesign commit (ec3873e). Writes
 * bench/results-compare-builds.md.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { writeFileAtomic } from '../../src/io/atomic.js';

const REL_TOL = 1e-10;
const IGNORED = new Set(['createdAt', 'wallSeconds', 'device', 'scenarioFile', 'setupSeconds', 'solveSeconds', 'seconds', 'elapsed']);
const COUNT_KEYS = /steps|iterations|iters|outer|cg|rejected|count|evaluations|matvecs|restarts/i;

interface Case { label: string; args: string[]; env: Record<string, string> }
interface Outcome { rc: number; json: unknown; stderr: string }

function run(root: string, c: Case): Outcome {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'fpsolve.js'), ...c.args], {
    cwd: process.cwd(), env: { ...process.env, ...c.env }, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 600_000,
  });
  let json: unknown = null;
  try { json = JSON.parse(r.stdout); } catch { json = null; }
  return { rc: r.status ?? -1, json, stderr: (r.stderr ?? '').trim() };
}

/** Field-by-field differences of two reports; `path` names where. */
function diff(a: unknown, b: unknown, path: string, out: string[], worst: { rel: number; at: string }): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Object.is(a, b)) return;
    const key = path.slice(path.lastIndexOf('.') + 1);
    if (Number.isInteger(a) && Number.isInteger(b) && COUNT_KEYS.test(key)) {
      if (Math.abs(a - b) > 1) out.push(`${path}: ${b} → ${a}`);
      return;
    }
    const scale = Math.max(Math.abs(a), Math.abs(b));
    const rel = scale === 0 ? 0 : Math.abs(a - b) / scale;
    if (!(rel <= REL_TOL)) out.push(`${path}: ${b} → ${a} (rel ${rel.toExponential(2)})`);
    if (rel > worst.rel) { worst.rel = rel; worst.at = path; }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) { out.push(`${path}: length ${b.length} → ${a.length}`); return; }
    for (let i = 0; i < a.length; i++) diff(a[i], b[i], `${path}[${i}]`, out, worst);
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a as object), kb = Object.keys(b as object);
    for (const k of new Set([...ka, ...kb])) {
      if (IGNORED.has(k)) continue;
      const va = (a as Record<string, unknown>)[k], vb = (b as Record<string, unknown>)[k];
      if (va === undefined) { out.push(`${path}.${k}: removed`); continue; }
      if (vb === undefined) { out.push(`${path}.${k}: added`); continue; }
      diff(va, vb, `${path}.${k}`, out, worst);
    }
    return;
  }
  if (a !== b) out.push(`${path}: ${JSON.stringify(b)?.slice(0, 160)} → ${JSON.stringify(a)?.slice(0, 160)}`);
}

/** Shrunk grid and horizon per scenario: ~10 report times, grids small enough for explicit steps. */
function shrink(file: string): string[] {
  const s = parse(readFileSync(file, 'utf8')) as { domain: { cells: number[] }; time: { end: number; reportEvery: number } };
  const dim = s.domain.cells.length;
  const cells = dim === 1 ? [160] : dim === 2 ? [20, 16] : [8, 6, 5];
  const every = s.time.reportEvery;
  // end not a multiple of reportEvery on purpose: the last, short interval is where schedules go wrong.
  const end = Math.min(s.time.end, every * 6.5);
  return ['--set', `domain.cells=${JSON.stringify(cells)}`, '--set', `time.end=${end}`];
}

function cases(quick: boolean): Case[] {
  const dir = 'scenarios';
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f));
  const integrators = ['explicit', 'rkl2', 'backward-euler', 'trbdf2', 'exponential'];
  const out: Case[] = [];
  for (const f of files) {
    const base = shrink(f);
    for (const integ of integrators) {
      const args = ['run', f, ...base, '--set', `time.integrator=${integ}`, '--json', '-q', '--no-gap'];
      out.push({ label: `run ${f} ${integ}`, args, env: {} });
      if (!quick && integ === 'trbdf2') out.push({ label: `run ${f} ${integ} WASM=0`, args, env: { FPSOLVE_WASM: '0' } });
    }
    out.push({ label: `gap ${f}`, args: ['gap', f, ...base.slice(0, 2), '--json', '-k', '2'], env: {} });
    out.push({ label: `run ${f} auto (with gap)`, args: ['run', f, ...base, '--json', '-q'], env: {} });
  }
  // The kernel team starts at 512² cells (2-D only): one short horizon per thread count and WASM switch.
  const big = ['--set', 'domain.cells=[512,512]', '--set', 'time.end=0.02', '--set', 'time.reportEvery=0.01', '--json', '-q', '--no-gap'];
  for (const integ of quick ? ['trbdf2'] : ['trbdf2', 'backward-euler', 'rkl2']) {
    for (const threads of ['1', '2']) {
      for (const wasm of quick ? ['1'] : ['0', '1']) {
        out.push({ label: `run ou-2d 512² ${integ} THREADS=${threads} WASM=${wasm}`,
          args: ['run', join(dir, 'ou-2d.yaml'), ...big, '--set', `time.integrator=${integ}`],
          env: { FPSOLVE_THREADS: threads, FPSOLVE_WASM: wasm } });
      }
    }
  }
  return out;
}

function main(): void {
  const before = process.argv[2];
  if (!before) { console.error('usage: node dist/test/bench/compare-builds.js <built pre-redesign checkout> [--quick]'); process.exit(2); }
  const quick = process.argv.includes('--quick');
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
  const rows: string[] = [];
  let flagged = 0;
  for (const c of cases(quick)) {
    if (only && !c.label.includes(only)) continue;
    const b = run(resolve(before), c);
    const a = run(process.cwd(), c);
    const out: string[] = [];
    const worst = { rel: 0, at: '' };
    if (a.rc !== b.rc) out.push(`exit ${b.rc} → ${a.rc}`);
    if (a.json === null || b.json === null) {
      if (a.stderr !== b.stderr) out.push(`stderr: ${JSON.stringify(b.stderr.slice(-200))} → ${JSON.stringify(a.stderr.slice(-200))}`);
    } else diff(a.json, b.json, '', out, worst);
    const verdict = out.length ? 'DIFF' : 'same';
    if (out.length) flagged++;
    const line = `| ${c.label} | ${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(' ')} | ${a.rc} | ${worst.rel.toExponential(1)} ${worst.at} | ${verdict} |`;
    console.log(line);
    for (const d of out.slice(0, 12)) console.log(`    ${d}`);
    rows.push(line, ...out.slice(0, 12).map((d) => `|  | | | ${d.replace(/\|/g, '\\|')} | |`));
  }
  mkdirSync('bench', { recursive: true });
  writeFileAtomic('bench/results-compare-builds.md', [
    `# Pre-redesign build vs this build (${new Date().toISOString().slice(0, 10)}, ${process.platform}, node ${process.version})`,
    '', `Generated by test/bench/compare-builds.ts. ${flagged} case(s) flagged (relative tolerance ${REL_TOL}, counts ±1).`, '',
    '| case | env | exit | largest relative difference | verdict |', '|---|---|---|---|---|', ...rows, ''].join('\n'));
  process.exit(flagged ? 1 : 0);
}

main();
