import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { fpsolve } from './helpers/cli.js';
import { tempDir } from './scenario-helpers.js';

/**
 * Red team of issue #17 through the built CLI (spawned: an e2e test): hostile set specs and
 * options for `fpsolve committor` / `fpsolve escape`, each one line on stderr naming the option,
 * exit 2 (README exit-code table), nothing on stdout and no --out written; the memory refusal of
 * a grid too big for a committor; --json output that is only JSON.
 */

const SCENARIO = `name: dw
landscape: { expr: "0.05 + (x^2 - 1)^2 + y^2" }
domain: { bounds: [[-2, 2], [-2, 2]], cells: [24, 24] }
noise: { model: multiplicative, eta: 0.05, sigma: 10 }
initial: { gaussian: { mean: [1, 0], std: [0.2, 0.2] } }
time: { end: 1, reportEvery: 0.5 }
`;

const dir = tempDir({ 'dw.yaml': SCENARIO });

function oneLine(args: string[], option: RegExp): void {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const r = fpsolve([...args, '-o', out], { cwd: dir });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines.length, r.stderr).toBe(1);
  expect(lines[0]).toMatch(option);
  expect(lines[0]).not.toMatch(/    at |Error:/);
  // NaN only where the user's own text is echoed back.
  expect(lines[0].replace(/'[^']*'/g, '')).not.toMatch(/NaN/);
  expect(existsSync(out)).toBe(false);
}

describe('hostile set specs: one line, exit 2, naming the option', () => {
  const cases: [string, string[], RegExp][] = [
    ['a coordinate that is not a number', ['--from', 'x=abc,y=0', '--to', 'min2'], /--from: .*x must be a finite number/],
    ['an unknown minimum', ['--from', 'min99', '--to', 'min2'], /--from: .*no set named 'min99'.*min1, min2/],
    ['radius 0', ['--from', 'min1:radius=0', '--to', 'min2'], /--from: .*radius must be a number > 0/],
    ['radius NaN', ['--from', 'min1', '--to', 'min2:radius=NaN'], /--to: .*radius must be a number > 0/],
    ['radius 1e308 (the whole box)', ['--from', 'min1:radius=1e308', '--to', 'min2'], /--from: .*covers the whole box/],
    ['a negative sublevel', ['--from', 'min1:sublevel=-1', '--to', 'min2'], /--from: .*sublevel must be a number > 0/],
    ['a sublevel of 1e308 (the whole box)', ['--from', 'min1', '--to', 'min2:sublevel=1e308'], /--to: .*covers the whole box/],
    ['two modifiers', ['--from', 'min1:radius=0.1:sublevel=1', '--to', 'min2'], /--from: .*more than one ':'/],
    ['a point outside the box', ['--from', 'x=99,y=0', '--to', 'min2'], /--from: .*outside the box/],
    ['a point missing an axis', ['--from', 'x=0', '--to', 'min2'], /--from: .*missing y/],
    ['a zero component where f has none', ['--from', 'zero1', '--to', 'min2'], /--from: .*no set named 'zero1'/],
    ['overlapping sets', ['--from', 'min1', '--to', 'min1'], /--to: .*overlaps --from/],
    ['an empty set (radius below half a cell)', ['--from', 'min1', '--to', 'x=1,y=0:radius=0.001'], /--to: .*holds no grid cell/],
  ];
  for (const [name, args, words] of cases) it(`committor: ${name}`, () => oneLine(['committor', 'dw.yaml', ...args], words));

  it('escape: overlapping --from and --to, --to each (committor only), --from missing', () => {
    oneLine(['escape', 'dw.yaml', '--from', 'min1', '--to', 'min1'], /--to: .*overlaps --from/);
    oneLine(['escape', 'dw.yaml', '--from', 'min1', '--to', 'each'], /--to: .*unknown set name 'each'/);
    oneLine(['escape', 'dw.yaml', '--to', 'min1'], /--from/);
  });

  it('escape without --to on a coarse grid where every other well overlaps --from (8²)', () => {
    oneLine(['escape', 'dw.yaml', '--from', 'min1', '--set', 'domain.cells=[8,8]'], /--from: .*overlaps/);
  });

  it('an unwritable --out is refused before the solve', () => {
    const r = fpsolve(['committor', 'dw.yaml', '--from', 'min1', '--to', 'min2', '-o', '/dev/null/x'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--out/);
  });
});

describe('memory: a committor is refused by its own estimate, with the option the message names', () => {
  // The refusal says "raise the limit with --max-memory"; committor and escape used to reject that
  // option ("unknown option"), and to estimate the run's 200 arrays (TR-BDF2 + spectral gap 160)
  // for a single linear solve: 256³ was refused at 25 GiB. Measured peak RSS at 96³ (8.8e5 cells,
  // 7.1 MB per float64 array): committor 379 MB, escape 572 MB, i.e. ~31 and ~58 arrays beyond
  // Node's ~160 MB. The estimate must cover that and stay within a factor ~2 of it.
  for (const [cmd, args, lo, hi] of [
    ['committor', ['--from', 'min1', '--to', 'min2'], 31, 70],
    ['escape', ['--from', 'min1'], 58, 120],
  ] as const) {
    it(`${cmd} at 256³ with --max-memory 1G`, () => {
      const d3 = tempDir({
        's.yaml': SCENARIO.replace('[[-2, 2], [-2, 2]]', '[[-2, 2], [-2, 2], [-2, 2]]')
          .replace('cells: [24, 24]', 'cells: [256, 256, 256]')
          .replace('+ y^2', '+ y^2 + z^2')
          .replace('mean: [1, 0], std: [0.2, 0.2]', 'mean: [1, 0, 0], std: [0.2, 0.2, 0.2]'),
      });
      const r = fpsolve([cmd, 's.yaml', ...args, '--max-memory', '1G'], { cwd: d3 });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/field 'domain.cells'.*--max-memory 1G/);
      const arrays = Number(/(\d+) float64 arrays/.exec(r.stderr)?.[1]);
      expect(arrays).toBeGreaterThanOrEqual(lo);
      expect(arrays).toBeLessThanOrEqual(hi);
    });
  }
});

describe('--json prints only JSON (stdout), nothing on stderr', () => {
  for (const args of [
    ['committor', 'dw.yaml', '--to', 'each'],
    ['committor', 'dw.yaml', '--from', 'min1', '--to', 'min2'],
    ['escape', 'dw.yaml', '--from', 'min1'],
  ]) {
    it(args.join(' '), () => {
      const r = fpsolve([...args, '--json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const rep = JSON.parse(r.stdout) as { command: string };
      expect(rep.command).toBe(args[0]);
    });
  }
});
