import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fpsolve } from './helpers/cli.js';
import { tempDir } from './scenario-helpers.js';

/**
 * `fpsolve committor` against `fpsolve simulate --first-passage` (spawned: an e2e test), the check
 * issue #17 asks for: on a small tilted 2-D double well the committor's ∫ q ρ₀ (the finite-volume
 * backward equation) must lie in the Wilson interval (oracles.md §9) of the fraction of
 * Euler–Maruyama paths from ρ₀ that reach B before A, both with the same set specs.
 */

const DW = `name: dw2
landscape: { expr: "(x^2-1)^2 + y^2 + 0.2*x" }
domain: { bounds: [[-2, 2], [-1.5, 1.5]], cells: [64, 48] }
noise: { model: additive, D: 0.25 }
initial: { gaussian: { mean: [0.1, 0], std: [0.25, 0.3] } }
time: { end: 40, reportEvery: 10 }
`;
const A = 'x=-1,y=0:radius=0.3';
const B = 'x=1,y=0:radius=0.3';

describe('committor against simulate --first-passage', () => {
  it('tilted 2-D double well, additive noise: ∫ q ρ₀ lies in the 99% Wilson interval of 4000 paths', () => {
    const dir = tempDir({ 'dw.yaml': DW });
    const c = fpsolve(['committor', 'dw.yaml', '--from', A, '--to', B, '--json'], { cwd: dir });
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    const q = (JSON.parse(c.stdout) as { targets: { probability: number }[] }).targets[0].probability;
    const out = join(dir, 'mc');
    const s = fpsolve(['simulate', 'dw.yaml', '--first-passage', '--from', A, '--to', B, '-n', '4000', '--seed', '3', '--confidence', '0.99', '--out', out], { cwd: dir });
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/P\(reach x=1,y=0:radius=0.3 before x=-1,y=0:radius=0.3 \| start from ρ₀\) = [0-9.]+ {2}\(Wilson 99% interval \[/);
    expect(s.stdout).toMatch(/mean time to reach either set = [0-9.e+-]+ ± [0-9.e+-]+ \(standard error, 4000 paths\)/);
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      unfinished: number;
      hitTo: number;
      hitFrom: number;
      from: { cells: number };
      to: { cells: number };
      probabilityTo: { estimate: number; low: number; high: number };
    };
    expect(r.unfinished).toBe(0);
    expect(r.hitTo + r.hitFrom).toBe(4000);
    // The same cells on both sides: the committor's sets resolved from the same specs.
    expect(r.from.cells).toBe(76);
    expect(r.to.cells).toBe(76);
    // Not a trivial 0 or 1: ρ₀ sits on the ridge between the wells.
    expect(q).toBeGreaterThan(0.2);
    expect(q).toBeLessThan(0.8);
    // Measured: ∫ q ρ₀ = 0.5437; Monte Carlo (seed 3) 0.5425 in [0.5222, 0.5627].
    expect(q).toBeGreaterThan(r.probabilityTo.low);
    expect(q).toBeLessThan(r.probabilityTo.high);
  });

  it('first-passage options without --first-passage, or --first-passage without --to: one line, exit 2', () => {
    const dir = tempDir({ 'dw.yaml': DW });
    for (const [args, words] of [
      [['--from', A, '--to', B], /belong to --first-passage/],
      [['--first-passage', '--from', A], /needs both --from SET and --to SET/],
      [['--first-passage', '--from', A, '--to', 'x=-1.1,y=0:radius=0.3'], /--to/],
    ] as const) {
      const r = fpsolve(['simulate', 'dw.yaml', ...args, '-n', '100'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines.length).toBe(1);
      expect(lines[0]).toMatch(words);
    }
  });
});
