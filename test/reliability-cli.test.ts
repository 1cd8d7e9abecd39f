/**
 * Issue 10 through the built CLI (`node bin/fpsolve.js`, compiled by `npm test`'s tsc step):
 * signals mid-run, --max-wall, numerical faults and memory refusal with --out, and fuzzed
 * argument vectors. Exit codes as in docs/reliability.md: 0 ok (and --max-wall: "incomplete"),
 * 2 bad input or over the memory limit, 3 numerical fault, 130 SIGINT, 143 SIGTERM.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../src/io/npy.js';
import { ROOT, fpsolve, signalWhenStepping } from './helpers/cli.js';

const OU = join(ROOT, 'scenarios', 'ou-2d.yaml');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fpsolve-reliability-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every number in a parsed report.json is finite (non-finite values must have become null). */
function nonFinite(v: unknown, p = 'report'): string[] {
  if (typeof v === 'number') return Number.isFinite(v) ? [] : [p];
  if (Array.isArray(v)) return v.flatMap((x, i) => nonFinite(x, `${p}[${i}]`));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => nonFinite(x, `${p}.${k}`));
  return [];
}

interface Report {
  status: string;
  error?: string;
  final: { t: number; mass: number };
  series: { t: number }[];
  gap?: unknown;
}

function readReport(out: string): Report {
  const text = readFileSync(join(out, 'report.json'), 'utf8');
  expect(text).not.toMatch(/NaN|Infinity/);
  const r = JSON.parse(text) as Report;
  expect(nonFinite(r)).toEqual([]);
  return r;
}

function noDebris(out: string): void {
  expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

/**
 * Starts a long ou-2d run (one report interval of 1000 time units, so the signal lands inside an
 * interval), and sends the signal when the run says it has begun stepping (its handlers are in
 * place by then; a CPU-time or wall-clock wait is not a safe marker on a loaded machine).
 */
async function interrupt(signal: 'SIGTERM' | 'SIGINT', out: string): Promise<{ code: number | null; sig: string | null; stderr: string }> {
  // TR-BDF2 named: auto would pick the exponential integrator, which finishes this interval in a few solves
  // and leaves the signal to the gap computation (a different message, tested in gap-run).
  const r = await signalWhenStepping(['run', OU, '--set', 'time.end=1000', '--set', 'time.reportEvery=1000', '--set', 'domain.cells=[96,96]', '--set', 'time.integrator=trbdf2', '--out', out], signal);
  expect(r.sent, r.stderr).toBe(true);
  // The report's lines only: progress phase lines go to stderr too.
  return { code: r.code, sig: r.sig, stderr: r.stderr.split('\n').filter((l) => l.startsWith('fpsolve:')).join('\n') + '\n' };
}

describe('signals mid-run with --out (issue 10 §4)', () => {
  it('SIGTERM → exit 143, report.json "interrupted" with the state reached, no temp files; SIGINT → 130', async () => {
    const outTerm = join(dir, 'term');
    const outInt = join(dir, 'int');
    const [term, int] = await Promise.all([interrupt('SIGTERM', outTerm), interrupt('SIGINT', outInt)]);
    for (const [r, out, code] of [
      [term, outTerm, 143],
      [int, outInt, 130],
    ] as const) {
      expect(r.sig, r.stderr).toBeNull(); // handled, not killed by the signal
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(/^fpsolve: interrupted: interrupted by a signal at t = /m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const rep = readReport(out);
      expect(rep.status).toBe('interrupted');
      // Stopped inside the single 1000-unit interval: the last point is the state reached (how far it got
      // depends on when the signal lands, which the machine's load decides).
      expect(rep.final.t).toBeGreaterThanOrEqual(0);
      expect(rep.final.t).toBeLessThan(1000);
      expect(rep.series.at(-1)!.t).toBe(rep.final.t);
      expect(rep.final.mass).toBeCloseTo(1, 9);
      expect(rep.gap).toBeUndefined();
      const rho = readNpy(join(out, 'density.npy'));
      expect(rho.shape).toEqual([96, 96]);
      let mass = 0;
      for (const v of rho.data) {
        expect(Number.isFinite(v)).toBe(true);
        mass += v;
      }
      expect(mass * (4 / 96) ** 2).toBeCloseTo(1, 9); // mass 1 on the grid, h = 4/96 per axis
      noDebris(out);
    }
  });
});

describe('limits and faults through the CLI', () => {
  it('--max-wall stops cleanly: exit 0, status "incomplete", partial report, gap skipped', () => {
    const out = join(dir, 'wall');
    const r = fpsolve(['run', OU, '--set', 'time.end=1000', '--set', 'time.reportEvery=1', '--set', 'domain.cells=[64,64]', '--max-wall', '1', '--out', out, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/fpsolve: incomplete: stopped at t = [\d.e-]+ after the wall-clock limit of 1 s \(--max-wall\)/);
    const rep = readReport(out);
    expect(rep.status).toBe('incomplete');
    // How far it got depends on the machine's speed and load (set-up alone may use the second): only
    // that it stopped short of the end, with a consistent partial report, is a promise.
    expect(rep.final.t).toBeGreaterThanOrEqual(0);
    expect(rep.final.t).toBeLessThan(1000);
    expect(rep.gap).toBeUndefined();
    noDebris(out);
  });

  it('explicit Euler driven unstable: exit 3, step, time and cell named, report "failed" without NaN', () => {
    const out = join(dir, 'unstable');
    // pearson-1d: 2000 cells, positivity limit ≈ 2.0e-6; dt = 1e-3 is ~500× above it.
    const r = fpsolve(['run', join(ROOT, 'scenarios', 'pearson-1d.yaml'), '--set', 'time.integrator=explicit', '--set', 'time.dt=0.001', '--set', 'time.end=1', '--out', out, '-q']);
    expect(r.code, r.stderr).toBe(3);
    const line = r.stderr.trim().split('\n').find((l) => l.startsWith('fpsolve: failed:'));
    expect(line, r.stderr).toBeDefined();
    expect(line).toMatch(/in cell \d+ at x = \(/);
    expect(line).toMatch(/by step \d+, t = /);
    expect(line).toMatch(/time\.dt = 0\.001 is [\d.e+]+× the explicit limit/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const rep = readReport(out);
    expect(rep.status).toBe('failed');
    expect(rep.error).toBe(line!.replace(/^fpsolve: failed: /, ''));
    const rho = readNpy(join(out, 'density.npy'));
    for (const v of rho.data) expect(Number.isFinite(v) && v >= 0).toBe(true);
    noDebris(out);
  });

  it('refuses a 10⁹-cell grid and an over-limit run with the estimate and --max-memory (exit 2)', () => {
    const huge = fpsolve(['run', OU, '--set', 'domain.cells=[31623,31623]']);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toMatch(/field 'domain\.cells': the run needs an estimated [\d.]+ [GT]iB .* --max-memory/);
    const small = fpsolve(['run', OU, '--max-memory', '64M']);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/over the memory limit of 64\.0 MiB \(--max-memory 64M\)/);
    const env = fpsolve(['run', OU], { env: { FPSOLVE_MAX_MEMORY: '64M' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/\$FPSOLVE_MAX_MEMORY=64M/);
    const bad = fpsolve(['run', OU, '--max-memory', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-memory/);
    for (const r of [huge, small, env, bad]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('fuzzed argument vectors (issue 10 §1)', () => {
  it('8 sampled command lines: exit 0 or 2 with a message, never a stack trace', () => {
    const tiny = join(dir, 'tiny.yaml');
    writeFileSync(
      tiny,
      `name: tiny
landscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }
domain: { bounds: [[-3, 3]], cells: [40] }
noise: { model: multiplicative, eta: 0.1, sigma: 10 }
initial: { gaussian: { mean: [1], std: [0.3] } }
time: { end: 0.05, reportEvery: 0.05 }
`,
    );
    const token = fc.oneof(
      fc.constantFrom('run', 'validate', 'gap', 'sweep', 'check', 'simulate', 'frobnicate', tiny, '/nonexistent.yaml', dir, '--set', 'noise.eta=-1', 'noise.eta', '=', '--max-memory', '1k', '--max-wall', '-1', '--out', '--json', '-q', '--bogus', '--', '-', '--set=time.end=0', '--max-memory=', '\u0000', '%s%n', '../../etc/passwd', "'; rm -rf /", '$(id)'),
      fc.string({ maxLength: 6 }).filter((s) => !s.includes('\u0000')),
    );
    // Start with a command most of the time so the options reach a command's parser.
    const argv = fc.tuple(fc.constantFrom('run', 'validate', 'gap', 'nope'), fc.array(token, { minLength: 1, maxLength: 5 })).map(([c, rest]) => [c, ...rest.filter((t) => !t.includes('\u0000'))]);
    const samples = fc.sample(argv, { numRuns: 8, seed: 10_2028 });
    for (const args of samples) {
      const r = fpsolve(args, { cwd: dir, timeoutMs: 60_000 });
      const label = JSON.stringify(args);
      expect([0, 2], `${label}\n${r.stderr}`).toContain(r.code);
      expect(r.stderr, label).not.toMatch(/\n\s+at \S+ \(|internal error/);
      if (r.code === 2) expect(r.stderr.trim().length, label).toBeGreaterThan(0);
    }
  });
});
