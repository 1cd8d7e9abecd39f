/**
 * The critical-noise limit through the built CLI (needs `npx tsc -p .` first): `fpsolve run`
 * prints it, writes it to report.json and report.html, and `fpsolve sweep` across ησ = 4 writes
 * the phase diagram and the summary.csv columns. The bundled recipe's zeros have Hessians a·I,
 * a = 1, 2, 4: limit weights a^−3/2/Σ (docs/oracles.md §7 "The critical-noise limit").
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fpsolve } from './helpers/cli.js';
import { parseCsv } from '../src/io/csv.js';
import type { RunReport } from '../src/report/types.js';

const dir = mkdtempSync(join(tmpdir(), 'fps-critical-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const RECIPE = 'examples/critical-noise/three-zeros-3d.yaml';
const COARSE = ['--set', 'domain.cells=[8,8,8]', '--set', 'time.end=0.5'];
const w = [1, 2, 4].map((a, _i, all) => a ** -1.5 / all.reduce((t, b) => t + b ** -1.5, 0));

describe('fpsolve run and sweep on the critical-noise recipe', () => {
  it('run: summary line, report.json criticalLimit and report.html row', () => {
    const out = join(dir, 'run');
    const r = fpsolve(['run', RECIPE, ...COARSE, '--set', 'noise.sigma=9', '--no-gap', '--html', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('critical-noise limit: threshold ησ = 4 (k = 3), ησ = 4.5, expected disagreement O(d − 2α) = 0.111');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    const weights = report.criticalLimit!.components.map((k) => k.predictedWeight!).sort((a, b) => b - a);
    weights.forEach((v, i) => expect(Math.abs(v - w[i])).toBeLessThan(1e-9));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<th>critical-noise limit</th>');
    expect(html).toContain(`limit weight ${+w[0].toPrecision(4)}`);
  });

  it('sweep across ησ = 4: phase-diagram.svg and per-component columns in summary.csv', () => {
    const out = join(dir, 'sweep');
    const r = fpsolve(['sweep', RECIPE, '--set', 'domain.cells=[[8,8,8]]', '--set', 'time.end=0.5', '--set', 'noise.sigma=[7,9]', '--run-arg=--no-gap', '--jobs', '2', '--out', out]);
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'phase-diagram.svg'))).toBe(true);
    const [cols, ...rows] = parseCsv(readFileSync(join(out, 'summary.csv'), 'utf8'));
    const es = rows.map((row) => Number(row[cols.indexOf('etaSigma')]));
    expect(es).toEqual([3.5, 4.5]);
    const lw = rows[0].filter((_, i) => cols[i].startsWith('limitWeight_')).map(Number).sort((a, b) => b - a);
    lw.forEach((v, i) => expect(Math.abs(v - w[i])).toBeLessThan(1e-9));
  });
});
