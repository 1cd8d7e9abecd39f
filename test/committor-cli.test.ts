import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { fpsolve } from './helpers/cli.js';
import { tempDir } from './scenario-helpers.js';
import { readNpy } from '../src/io/npy.js';

/**
 * `fpsolve committor` / `fpsolve escape` as users run them (spawned: an e2e test): the files of
 * --out against the printed probabilities and the committor's ρ₀-average, and bad input as one
 * line on stderr with exit 2.
 */

function scenario(expr: string, bounds: string, cells: string, mean: string, std: string, etaSigma = 1): string {
  return `name: t\nlandscape: { expr: "${expr}" }\ndomain: { bounds: ${bounds}, cells: ${cells} }\nnoise: { model: multiplicative, eta: ${etaSigma / 10}, sigma: 10 }\ninitial: { gaussian: { mean: ${mean}, std: ${std} } }\ntime: { end: 1, reportEvery: 0.5 }\n`;
}

interface Report {
  targets: { set: { label: string; point: number[] }; probability: number }[];
  fromProbability: number | null;
}

describe('fpsolve committor / escape through the CLI', () => {
  it('the CLI writes report.json, the .npy bundle and the figure, and --json prints the same probabilities', () => {
    const dir = tempDir({ 's.yaml': scenario('(x^2 - 1)^2', '[[-1.6, 1.6]]', '[200]', '[0.3]', '[0.25]') });
    const out = join(dir, 'out');
    const r = fpsolve(['committor', join(dir, 's.yaml'), '--to', 'each', '--json', '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as Report;
    const file = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report & { command: string };
    expect(file.command).toBe('committor');
    expect(file.targets.map((t) => t.probability)).toEqual(rep.targets.map((t) => t.probability));
    const q = readNpy(join(out, 'committor-2.npy'));
    expect(q.shape).toEqual([200]);
    // The saved field is the committor: its ρ₀-average is the printed probability (ρ₀ from the
    // scenario's Gaussian at cell centres, O(h²) from the cell averages the solver used).
    const x = readNpy(join(out, 'committor-2-axis0.npy')).data as Float64Array;
    const qd = q.data as Float64Array;
    let num = 0;
    let den = 0;
    for (let i = 0; i < x.length; i++) {
      const w = Math.exp(-((x[i] - 0.3) ** 2) / (2 * 0.25 * 0.25));
      num += w * qd[i];
      den += w;
    }
    expect(Math.abs(num / den - rep.targets[1].probability)).toBeLessThan(2e-3);
    expect(existsSync(join(out, 'committor-2.svg'))).toBe(true);
  });

  it('the CLI prints it as one line and exits 2 (committor and escape)', () => {
    const dir = tempDir({ 'cut.yaml': scenario('x^2', '[[-1, 1]]', '[40]', '[0.5]', '[0.1]') });
    for (const args of [
      ['committor', 'cut.yaml', '--from', 'x=-0.9:radius=0.05', '--to', 'x=-0.5:radius=0.05'],
      ['escape', 'cut.yaml', '--from', 'x=0.5:radius=0.1', '--to', 'basin'],
    ]) {
      const r = fpsolve(args, { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines.length).toBe(1);
      expect(lines[0]).toMatch(/^fpsolve: .*(--to|--from)/);
    }
  });
});
