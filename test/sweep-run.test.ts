/**
 * Sweeps end to end, through `fpsolve run --json` children (needs `npx tsc -p .` first: the
 * children run dist/). Points are 1-D Pearson runs on 200 cells to t = 1, well under a second each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/paths.js';
import { runSweep, readRecords, type SweepSpec } from '../src/sweep/runner.js';
import { mergeSweeps } from '../src/sweep/merge.js';
import { parseSetArg } from '../src/sweep/points.js';
import type { SweepRecord } from '../src/sweep/record.js';
import { loadScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/run/run.js';
import { parseCsv } from '../src/io/csv.js';

const ROOT = packageRoot();
const BIN = join(ROOT, 'bin', 'fpsolve.js');
let dir: string;
let scenario: string;

// Pearson diffusion f = c + b x² (docs/oracles.md §1): a smooth converging case whose runs take well under a second.
const SCENARIO = `
name: sweep-test
landscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }
domain: { bounds: [[-10, 10]], cells: [200] }
noise: { model: multiplicative, eta: 0.1, sigma: 10 }
initial: { gaussian: { mean: [1.5], std: [0.5] } }
time: { end: 1, reportEvery: 0.1 }
`;

// 4 × 3 = 12 points; eta = -1 is invalid (3 points), and the valid ones repeat ησ ∈ {0.5, 1, 2}.
const SETS = ['noise.eta=[-1,0.05,0.1,0.2]', 'noise.sigma=5,10,20'];
const spec = (): SweepSpec => ({ scenarioFile: scenario, axes: SETS.map(parseSetArg), zip: false });

/** A record without what legitimately differs between runs (wall time). */
const strip = (r: SweepRecord): Omit<SweepRecord, 'wallSeconds'> => {
  const { wallSeconds: _w, ...rest } = r;
  return rest;
};

let reference: SweepRecord[];

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('build first: npx tsc -p . (sweeps run dist/ in child processes)');
  dir = mkdtempSync(join(tmpdir(), 'fps-sweep-'));
  scenario = join(dir, 'pearson.yaml');
  writeFileSync(scenario, SCENARIO);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sweep on one machine', () => {
  it('a 12-point sweep gives the same per-point results with --jobs 1 and --jobs 2', async () => {
    const one = await runSweep(spec(), { out: join(dir, 'j1'), jobs: 1, shard: null, plots: true });
    const two = await runSweep(spec(), { out: join(dir, 'j2'), jobs: 2, shard: null, plots: false });
    expect(one.records).toHaveLength(12);
    expect(two.records).toHaveLength(12);
    expect(one.records.map((r) => r.index)).toEqual([...Array(12).keys()]);
    expect(two.records.map(strip)).toEqual(one.records.map(strip));
    reference = one.records;
  });

  it('an invalid point is recorded as failed with the validation message; the others finish', () => {
    const bad = reference.filter((r) => r.params['noise.eta'] === -1);
    expect(bad.map((r) => r.index)).toEqual([0, 1, 2]);
    for (const r of bad) {
      expect(r.status).toBe('failed');
      expect(r.errorKind).toBe('input');
      expect(r.error).toMatch(/field 'noise\.eta': must be a number > 0 \(got -1\)/);
      expect(r.error).not.toContain('\n');
    }
    const good = reference.filter((r) => r.params['noise.eta'] !== -1);
    expect(good).toHaveLength(9);
    for (const r of good) {
      expect(r.status).toBe('ok');
      expect(r.regime).toBe('converging');
      expect(r.final!.l1).toBeGreaterThan(0);
    }
  });

  it('points with the same ησ give identical results (η and σ enter only through ησ, docs/design.md §1)', () => {
    const byProduct = new Map<number, SweepRecord[]>();
    for (const r of reference.filter((x) => x.status === 'ok')) {
      const p = Math.round((r.params['noise.eta'] as number) * (r.params['noise.sigma'] as number) * 1e9) / 1e9;
      byProduct.set(p, [...(byProduct.get(p) ?? []), r]);
    }
    expect([...byProduct.keys()].sort()).toEqual([0.25, 0.5, 1, 2, 4]);
    expect(byProduct.get(1)).toHaveLength(3);
    for (const group of byProduct.values()) {
      for (const r of group) {
        expect(r.final).toEqual(group[0]!.final);
        expect(r.rates).toEqual(group[0]!.rates);
        expect(r.gap).toBe(group[0]!.gap);
      }
    }
    // Different ησ, different π: the distances must differ (a sweep that ignored its overrides would not).
    expect(byProduct.get(0.5)![0]!.final!.l1).not.toBe(byProduct.get(2)![0]!.final!.l1);
  });

  it('a point equals the same scenario run in-process (an independent path: no child, no JSON)', async () => {
    const r = reference.find((x) => x.params['noise.eta'] === 0.2 && x.params['noise.sigma'] === 20)!;
    const { report } = await runScenario(loadScenario(scenario, ['noise.eta=0.2', 'noise.sigma=20']));
    expect(r.rates.chi?.value).toBe(report.rates.chi?.value);
    expect(r.rates.kl?.window).toEqual(report.rates.kl?.window);
    expect(r.final).toEqual({ l1: report.final.l1, kl: report.final.kl, chi2: report.final.chi2, meanLoss: report.final.meanLoss, massBelowDelta: report.final.massBelowDelta });
    expect(r.regime).toBe(report.regime);
    // `fpsolve run` reports the spectral gap by default; the record carries its value.
    expect(r.gap).toBe(report.gap?.value ?? null);
  });

  it('summary.csv has one row per point in index order with the records’ values; the plot has one symbol per ok point and measure', () => {
    const rows = parseCsv(readFileSync(join(dir, 'j1', 'summary.csv'), 'utf8'));
    const [head, ...body] = rows;
    expect(body).toHaveLength(12);
    const col = (name: string): number => head!.indexOf(name);
    body.forEach((row, i) => {
      const r = reference[i]!;
      expect(Number(row[col('index')])).toBe(i);
      expect(Number(row[col('noise.eta')])).toBe(r.params['noise.eta']);
      expect(row[col('status')]).toBe(r.status);
      expect(row[col('rate_chi')] === '' ? null : Number(row[col('rate_chi')])).toBe(r.rates.chi?.value ?? null);
      expect(row[col('final_kl')] === '' ? null : Number(row[col('final_kl')])).toBe(r.final?.kl ?? null);
    });
    const svg = readFileSync(join(dir, 'j1', 'plot-noise.eta.svg'), 'utf8');
    const ok = reference.filter((r) => r.status === 'ok');
    const symbols = (['chi', 'kl', 'meanLoss'] as const).reduce((s, m) => s + ok.filter((r) => r.rates[m] !== null).length, 0) + ok.filter((r) => r.gap !== null).length;
    expect(symbols).toBeGreaterThan(0);
    expect(svg.match(/aria-roledescription="point"/g)?.length).toBe(symbols);
    expect(existsSync(join(dir, 'j1', 'plot-noise.sigma.svg'))).toBe(true);
  });

  it('rerunning the same sweep skips every finished point', async () => {
    const again = await runSweep(spec(), { out: join(dir, 'j2'), jobs: 2, shard: null, plots: false });
    expect(again.skipped).toBe(12);
    expect(again.finished).toBe(0);
    expect(readFileSync(join(dir, 'j2', 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(12);
    expect(again.records.map(strip)).toEqual(reference.map(strip));
  });

  it('refuses to mix another sweep into a directory', async () => {
    const other = { ...spec(), axes: ['noise.eta=0.3,0.4'].map(parseSetArg) };
    await expect(runSweep(other, { out: join(dir, 'j2'), jobs: 1, shard: null })).rejects.toThrow(/holds a different sweep \(its pointsHash differs\)/);
  });

  it('a point that fails at set-up in its child (exit 2) is recorded with the child’s message', async () => {
    const s: SweepSpec = { scenarioFile: scenario, axes: ['landscape.params.c=[0.1,-5]'].map(parseSetArg), zip: false };
    const res = await runSweep(s, { out: join(dir, 'setup'), jobs: 2, shard: null, plots: false });
    expect(res.records.map((r) => r.status)).toEqual(['ok', 'failed']);
    expect(res.records[1]!.errorKind).toBe('input');
    expect(res.records[1]!.error).toMatch(/f must be ≥ 0/);
    await expect(mergeSweeps([join(dir, 'j1'), join(dir, 'setup')], join(dir, 'bad-merge'), { plots: false })).rejects.toThrow(/not a shard of the same sweep/);
  });
});

const hasParallel = spawnSync('parallel', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasParallel) console.warn('sweep-run.test: GNU parallel is missing (apt-get install parallel); skipping the sharded-sweep test');

describe('sharded sweep', () => {
  it.skipIf(!hasParallel)('2 shards run by GNU parallel and merged equal the single-process results', () => {
    const sets = SETS.flatMap((s) => ['--set', s]);
    // {} is the shard number; parallel runs both shards at once, as on a cluster (-q: quote the arguments so the shell leaves [ ] and , alone).
    execFileSync('parallel', ['-q', '-j', '2', '--halt', 'now,fail=1', process.execPath, BIN, 'sweep', scenario, ...sets, '--jobs', '1', '--quiet', '--no-plots', '--shard', '{}/2', '--out', join(dir, 'shard-{}'), ':::', '1', '2'], { stdio: 'pipe' });
    const s1 = readRecords(join(dir, 'shard-1'));
    const s2 = readRecords(join(dir, 'shard-2'));
    expect(s1.map((r) => r.index).sort((a, b) => a - b)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(s2.map((r) => r.index).sort((a, b) => a - b)).toEqual([1, 3, 5, 7, 9, 11]);
    const out = execFileSync(process.execPath, [BIN, 'sweep', 'merge', join(dir, 'shard-1'), join(dir, 'shard-2'), '--out', join(dir, 'merged'), '--no-plots'], { encoding: 'utf8' });
    expect(out).toMatch(/12 of 12 points \(3 failed\)/);
    const merged = readRecords(join(dir, 'merged'));
    expect(merged.map((r) => r.index)).toEqual([...Array(12).keys()]);
    expect(merged.map(strip)).toEqual(reference.map(strip));
    // The merged directory is the whole sweep: the unsharded command finds nothing left to do.
    const again = spawnSync(process.execPath, [BIN, 'sweep', scenario, ...sets, '--quiet', '--no-plots', '--out', join(dir, 'merged')], { encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/0 run now, 12 already done/);
  });
});

describe('interruptions', () => {
  const waitForLines = async (file: string, n: number, timeoutMs = 40_000): Promise<number> => {
    const t0 = Date.now();
    for (;;) {
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      const lines = text.split('\n').filter((l) => l.trim() !== '').length;
      if (lines >= n) return lines;
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${n} lines in ${file}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('kill -9, then SIGTERM, then the same command: every point exactly once and every line parses', async () => {
    const out = join(dir, 'killed');
    const results = join(out, 'results.jsonl');
    // 8 points of ~1 s each (finer grid, longer end) so the kills land mid-sweep even though
    // workers start once per sweep and small points take ~0.1 s.
    const N = 8;
    const args = [BIN, 'sweep', scenario, '--set', `noise.eta=linspace(0.02,0.3,${N})`, '--set', 'time.end=10', '--set', 'domain.cells=[[8000]]', '--jobs', '2', '--quiet', '--no-plots', '--out', out];
    // detached: its own process group, so kill -9 takes the children too, as a scheduler would.
    const first = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
    const firstExit = new Promise<NodeJS.Signals | null>((r) => first.on('exit', (_c, sig) => r(sig)));
    await waitForLines(results, 2);
    process.kill(-first.pid!, 'SIGKILL');
    expect(await firstExit).toBe('SIGKILL');
    const afterKill = readFileSync(results, 'utf8').trim().split('\n').length;
    expect(afterKill).toBeLessThan(N);

    const second = spawn(process.execPath, args, { stdio: 'ignore' });
    const secondExit = new Promise<number | null>((r) => second.on('exit', (c) => r(c)));
    await waitForLines(results, afterKill + 1);
    second.kill('SIGTERM');
    expect(await secondExit).toBe(143);
    const afterTerm = readFileSync(results, 'utf8').trim().split('\n').length;

    const third = spawnSync(process.execPath, args, { encoding: 'utf8' });
    expect(third.status).toBe(0);
    expect(afterTerm).toBeLessThan(N);
    expect(third.stdout).toMatch(new RegExp(`${N - afterTerm} run now, ${afterTerm} already done`));
    const text = readFileSync(results, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trim().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as SweepRecord);
    expect(parsed.map((r) => r.index).sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
    expect(new Set(parsed.map((r) => r.key)).size).toBe(N);
    expect(parsed.every((r) => r.status === 'ok')).toBe(true);
  });
});
