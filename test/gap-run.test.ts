/**
 * Gap in the run report and the `fpsolve gap` command (issue 3 §3). Runs the built CLI
 * (bin/fpsolve.js → dist/) for the command-line checks.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fpsolve } from './helpers/cli.js';
import { loadScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/run/run.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = fpsolve(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

describe('rates.chi against λ₁ in the run report', () => {
  it('pearson-1d: rates.chi / λ₁ within 2%, λ₁ near 2b = 1 (docs/oracles.md §1), bracket contains λ₁', async () => {
    const { report } = await runScenario(loadScenario('scenarios/pearson-1d.yaml', []));
    const gap = report.gap!;
    // docs/oracles.md §1: gap 2b = 1 on the whole line (b = 0.5, ησ = 1 < 4); box and h shift it by < 1e-3.
    expect(Math.abs(gap.value - 1)).toBeLessThan(1e-3);
    expect(Math.abs(gap.rateRatio! - 1)).toBeLessThan(0.02);
    expect(gap.label).toBe('spectral gap');
    const m = report.bounds!.muckenhoupt!;
    expect(m.lower).toBeLessThanOrEqual(gap.value);
    expect(gap.value).toBeLessThanOrEqual(m.upper);
    expect(m.contains).toBe(true);
  });

  it('ou-2d (48²): rates.chi / λ₁ within 2%, λ₁ near k₁ = 1 (docs/oracles.md §3), Bakry–Émery bound κ = 1', async () => {
    const { report } = await runScenario(loadScenario('scenarios/ou-2d.yaml', ['domain.cells=[48,48]']));
    const gap = report.gap!;
    // 48² leaves an O(h²) shift of ~1% (the extrapolated check is in gap-eigen)
    expect(Math.abs(gap.value - 1)).toBeLessThan(2e-2);
    expect(Math.abs(gap.rateRatio! - 1)).toBeLessThan(0.02);
    expect(report.bounds!.bakryEmery!.lower).toBeCloseTo(1, 12);
    expect(gap.residuals[0]).toBeLessThan(1e-5);
  });

  it('a run too short for the tail says so', async () => {
    const { report } = await runScenario(loadScenario('scenarios/pearson-1d.yaml', ['domain.cells=[400]', 'time.end=0.4']));
    expect(report.gap!.notes.join(' ')).toMatch(/too short|not yet exponential|could not be fitted/);
  });
});

describe('fpsolve gap', () => {
  it('prints λ₁..λ_k with residuals and writes gap.json atomically with --out', () => {
    const out = mkdtempSync(join(tmpdir(), 'fpsolve-gap-'));
    made.push(out);
    const r = cli(['gap', 'scenarios/double-well-1d.yaml', '--modes', '3', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/λ3 = /);
    expect(r.stdout).toMatch(/Kramers/);
    const file = JSON.parse(readFileSync(join(out, 'gap.json'), 'utf8'));
    expect(file.gap.modes).toHaveLength(3);
    expect(file.gap.modes[0]).toBeLessThan(file.gap.modes[1]);
    // docs/oracles.md §5 (Mori et al.): 2κ = 2·sqrt(2)/(2π)·6^(−2.5) for ησ = 1, f_s/f_m = 0.3/0.05
    expect(file.bounds.kramers.predictedGap).toBeCloseTo(2 * (Math.SQRT2 / (2 * Math.PI)) * 6 ** -2.5, 10);
    expect(existsSync(join(out, 'gap.json.tmp'))).toBe(false);
  });

  it('--refine reports the Richardson extrapolation (JSON)', () => {
    const r = cli(['gap', 'scenarios/pearson-1d.yaml', '--refine', '--json', '--set', 'domain.cells=[500]']);
    expect(r.status).toBe(0);
    const e = JSON.parse(r.stdout).gap.extrapolated;
    expect(e.value).toBeCloseTo((4 * e.fine - e.coarse) / 3, 14);
    expect(e.errorEstimate).toBeCloseTo(Math.abs(e.value - e.fine), 14);
    // the extrapolated gap is closer to the whole-line 2b = 1 (docs/oracles.md §1) than the coarse one
    expect(Math.abs(e.value - 1)).toBeLessThan(Math.abs(e.coarse - 1));
  });

  it('collapsing regime: labelled a grid value, no bracket', () => {
    const r = cli(['gap', 'scenarios/gbm-collapse-1d.yaml', '--json', '--set', 'domain.cells=[400]']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.gap.label).toBe('grid value');
    expect(j.bounds.muckenhoupt).toBeNull();
    expect(j.gap.notes.join(' ')).toMatch(/not integrable/);
  });

  it('bad --modes is an input error (exit 2) naming the option and range', () => {
    const r = cli(['gap', 'scenarios/pearson-1d.yaml', '--modes', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--modes must be an integer from 1 to 50/);
    expect(r.stderr).not.toMatch(/at .*\.js:/);
  });

  it('run --no-gap leaves gap out', () => {
    const r = cli(['run', 'scenarios/pearson-1d.yaml', '--no-gap', '--json', '-q', '--set', 'domain.cells=[200]', '--set', 'time.end=0.2']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).gap).toBeUndefined();
  });
});
