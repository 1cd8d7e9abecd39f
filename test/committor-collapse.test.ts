import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from './scenario-helpers.js';
import { InputError } from '../src/errors.js';
import { computeCommittor, computeEscape, type EscapeInput } from '../src/escape/compute.js';
import type { FvOperator } from '../solvers/operator.js';
import { buildOperator } from './helpers/problems.js';
import { loadScenario } from '../src/scenario/load.js';
import { setUp } from '../src/run/run.js';
import { initialDensityFor } from '../src/run/setup.js';
import { escapeInput } from '../src/escape/cli-common.js';

/**
 * The committor and escape computations from scenario files, in process (the CLI's path without
 * the process: test/committor-cli.test.ts spawns it), against the splitting and mean-exit-time
 * formulas of oracles.md §6 "One-dimensional exact formulas" (computed here by Simpson
 * quadrature), and their one-line refusals of bad input.
 */

function simpson(g: (x: number) => number, a: number, b: number, m = 2000): number {
  if (b === a) return 0;
  const h = (b - a) / m;
  let s = g(a) + g(b);
  for (let k = 1; k < m; k++) s += (k % 2 ? 4 : 2) * g(a + k * h);
  return (s * h) / 3;
}

function scenario(expr: string, bounds: string, cells: string, mean: string, std: string, etaSigma = 1): string {
  return `name: t\nlandscape: { expr: "${expr}" }\ndomain: { bounds: ${bounds}, cells: ${cells} }\nnoise: { model: multiplicative, eta: ${etaSigma / 10}, sigma: 10 }\ninitial: { gaussian: { mean: ${mean}, std: ${std} } }\ntime: { end: 1, reportEvery: 0.5 }\n`;
}

/** The CLI's path without the process: scenario file → set-up → the committor's input. */
function loadInput(file: string): EscapeInput {
  const loaded = loadScenario(file, []);
  const setup = setUp(loaded);
  return escapeInput(setup, initialDensityFor(loaded, setup.grid));
}

/** P(collapse onto the zero at +1 | ρ₀) for f ∝ (x² − 1)² in x, ρ₀ a Gaussian (mean m, std s) truncated to [lo, hi]. */
function collapseRight(m: number, s: number, lo: number, hi: number, beta: number): number {
  const g = (x: number): number => ((x * x - 1) ** 2) ** beta;
  const total = simpson(g, -1, 1);
  // q(x0) = P(end at +1): 0 left of −1 (the zero at −1 blocks), 1 right of +1.
  const q = (x0: number): number => (x0 <= -1 ? 0 : x0 >= 1 ? 1 : simpson(g, -1, x0, 200) / total);
  const rho = (x: number): number => Math.exp(-((x - m) ** 2) / (2 * s * s));
  return simpson((x) => q(x) * rho(x), lo, hi, 800) / simpson(rho, lo, hi, 800);
}

describe('fpsolve committor in the collapse regime: the probability of collapsing onto each zero', () => {
  it('1-D (x² − 1)²: --to each gives two probabilities summing to 1 that match the splitting formula', () => {
    const dir = tempDir({ 's.yaml': scenario('(x^2 - 1)^2', '[[-1.6, 1.6]]', '[800]', '[0.3]', '[0.25]') });
    const rep = computeCommittor(loadInput(join(dir, 's.yaml')), undefined, 'each');
    expect(rep.targets.length).toBe(2);
    const sum = rep.targets.reduce((s, t) => s + t.probability, 0);
    expect(Math.abs(sum - 1)).toBeLessThan(1e-9);
    const right = rep.targets.find((t) => t.set.point[0] > 0);
    const exact = collapseRight(0.3, 0.25, -1.6, 1.6, 2);
    expect(right).toBeDefined();
    expect(Math.abs((right?.probability ?? NaN) - exact)).toBeLessThan(2e-3);
  });

  it('2-D valleys of (x² − 1)²(1 + y²): each valley\'s probability matches the 1-D formula in x (separable committor)', () => {
    const dir = tempDir({ 's.yaml': scenario('(x^2 - 1)^2 * (1 + y^2)', '[[-1.6, 1.6], [-1, 1]]', '[128, 32]', '[0.3, 0]', '[0.25, 0.3]') });
    const rep = computeCommittor(loadInput(join(dir, 's.yaml')), undefined, 'each');
    expect(rep.targets.length).toBe(2);
    expect(Math.abs(rep.targets[0].probability + rep.targets[1].probability - 1)).toBeLessThan(1e-8);
    const right = rep.targets.find((t) => t.set.point[0] > 0);
    // ρ₀'s y-part integrates out of the separable committor.
    expect(Math.abs((right?.probability ?? NaN) - collapseRight(0.3, 0.25, -1.6, 1.6, 2))).toBeLessThan(5e-3);
  });

});

describe('fpsolve escape', () => {
  it('1-D: the mean exit time at the --from point equals the double integral (oracles.md §6, mean exit time)', () => {
    const dir = tempDir({ 's.yaml': scenario('0.5 + (x^2 - 1)^2', '[[-1.8, 1.8]]', '[720]', '[-1]', '[0.1]') });
    // Points at cell centres (h = 0.005), radius below half a cell: each set is one cell.
    const res = computeEscape(loadInput(join(dir, 's.yaml')), 'x=-1.0025:radius=0.001', 'x=1.4975:radius=0.001');
    const rep = { meanExitTime: { atPoint: res.atPoint } };
    const f = (x: number): number => 0.5 + (x * x - 1) ** 2;
    const pi = (x: number): number => f(x) ** -3;
    const b = 1.4975;
    const x0 = -1.0025;
    const exact = simpson((y) => simpson(pi, -1.8, y, 200) / (0.5 * f(y) * pi(y)), x0, b, 400);
    expect(Math.abs(rep.meanExitTime.atPoint / exact - 1)).toBeLessThan(1e-3);
  });
});

describe('bad input is one line on stderr, exit 2, naming the option', () => {
  // In-process: the same InputError the CLI prints (main turns it into one line and exit 2, checked below).
  const dw = buildOperator([[-2, 2], [-2, 2]], [32, 32], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
  const cut = buildOperator([[-1, 1]], [40], (x) => x * x, { kind: 'multiplicative', etaSigma: 1, eps: 0 });
  const input = (op: FvOperator): EscapeInput => ({ op, zeros: [], rho0: new Float64Array(op.grid.size).fill(1) });
  const cases: { name: string; run: () => unknown; option: string; words: RegExp }[] = [
    { name: 'overlapping sets', run: () => computeCommittor(input(dw), 'min1:radius=0.5', 'x=-0.8,y=0:radius=0.5'), option: '--to', words: /overlaps --from/ },
    { name: 'an empty set', run: () => computeCommittor(input(dw), 'min1', 'x=1,y=0:radius=0.001'), option: '--to', words: /holds no grid cell/ },
    { name: 'a point outside the box', run: () => computeCommittor(input(dw), 'min1', 'x=3,y=0:radius=0.2'), option: '--to', words: /outside the box/ },
    { name: 'an unknown name', run: () => computeEscape(input(dw), 'min7', undefined), option: '--from', words: /no set named 'min7'.*min1, min2/ },
    { name: 'bad syntax', run: () => computeCommittor(input(dw), 'min1', 'min2:radius=-1'), option: '--to', words: /radius must be a number > 0/ },
    { name: 'a point missing an axis', run: () => computeCommittor(input(dw), 'min1', 'x=1'), option: '--to', words: /missing y/ },
    { name: 'no --from with one target', run: () => computeCommittor(input(dw), undefined, 'min2'), option: '--from', words: /required unless --to is 'each'/ },
    { name: 'a target behind a zero-diffusion face (escape)', run: () => computeEscape(input(cut), 'x=-0.5:radius=0.1', 'x=0.5:radius=0.1'), option: '--to', words: /cannot reach/ },
    { name: 'a region reaching neither set (committor)', run: () => computeCommittor(input(cut), 'x=-0.9:radius=0.05', 'x=-0.5:radius=0.05'), option: '--to', words: /cannot reach/ },
    { name: 'a basin that is the whole box (--to basin)', run: () => computeEscape(input(cut), 'x=0.5:radius=0.1', 'basin'), option: '--to', words: /whole box/ },
    { name: 'no other well to reach (escape without --to)', run: () => computeEscape(input(buildOperator([[-1, 1]], [40], (x) => 1 + x * x, { kind: 'multiplicative', etaSigma: 1, eps: 0 })), 'min1', undefined), option: '--from', words: /only minimum/ },
    { name: 'a target enclosed by the other set', run: () => computeCommittor(input(cut), 'x=0.5:radius=0.3', 'x=0.5:radius=0.3'), option: '--to', words: /overlaps/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let err: unknown = null;
      try {
        c.run();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      const msg = (err as InputError).message;
      expect(msg.split('\n').length).toBe(1);
      expect(msg.startsWith(c.option)).toBe(true);
      expect(msg).toMatch(c.words);
      expect(msg).not.toMatch(/NaN/);
    });
  }

});
