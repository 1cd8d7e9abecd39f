// The library API (src/library/index.ts, docs/library.md) and the package around it (#20.1, #20.2).
// Numbers are checked against results that do not come from fpsolve: the OU gap and the
// Gaussian invariant law (docs/oracles.md §3), cell averages by Gauss–Legendre quadrature here.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../src/io/npy.js';
import {
  densityView,
  fieldView,
  Grid,
  InputError,
  invariantDensityView,
  runScenario,
  scenarioFromObject,
  setUp,
  spectralGap,
  type ScenarioInput,
} from '../src/library/index.js';
import { ROOT } from './helpers/cli.js';
import { expectInputError, tempDir } from './scenario-helpers.js';

const KAPPA = 1;
const D = 0.25;
const ou = (cells: number): ScenarioInput => ({
  name: 'ou-1d',
  landscape: { expr: 'k*x^2/2', params: { k: KAPPA } },
  domain: { bounds: [[-3, 3]], cells: [cells] },
  noise: { model: 'additive', D },
  initial: { gaussian: { mean: [1], std: [0.2] } },
  time: { end: 0.5, reportEvery: 0.1 },
});

/** ∫ over [a, b] of g by 6-point Gauss–Legendre. */
function gauss(g: (x: number) => number, a: number, b: number): number {
  const nodes = [
    [0.2386191860831969, 0.4679139345726910],
    [0.6612093864662645, 0.3607615730481386],
    [0.9324695142031521, 0.1713244923791704],
  ];
  const m = (a + b) / 2;
  const r = (b - a) / 2;
  let s = 0;
  for (const [x, w] of nodes) s += w! * (g(m - r * x!) + g(m + r * x!));
  return s * r;
}

describe('scenarioFromObject', () => {
  it('validates like a file, applies overrides, leaves the object alone', () => {
    const input = ou(100);
    const before = structuredClone(input);
    const loaded = scenarioFromObject(input, { overrides: ['noise.D=0.5', 'initial.uniform={}'] });
    expect(input).toEqual(before);
    expect(loaded.scenario.noise).toEqual({ model: 'additive', D: 0.5 });
    expect(loaded.scenario.initial).toEqual({ uniform: {} });
    expect(loaded.scenario.time.integrator).toBe('auto');
    const bad = { ...ou(100), noise: { model: 'additive' as const, D: -1 } };
    expectInputError(() => scenarioFromObject(bad), { field: 'noise.D' });
  });

  it('resolves relative paths against baseDir', () => {
    const dir = tempDir({ 'rho0.npy': encodeNpy(new Float64Array(100).fill(1 / 6), [100]) });
    const input: ScenarioInput = { ...ou(100), initial: { file: 'rho0.npy' } };
    expect(scenarioFromObject(input, { baseDir: dir }).baseDir).toBe(dir);
    expectInputError(() => scenarioFromObject(input, { baseDir: join(dir, 'elsewhere') }), { field: 'initial.file' });
  });
});

describe('fields as ndarrays', () => {
  it('fieldView puts cell (i, j) at (coords[0][i], coords[1][j]) on a non-square grid', () => {
    const grid = new Grid([[0, 3], [-1, 4]], [3, 5]);
    const g = (x: number, y: number): number => x + 10 * y;
    const values = new Float64Array(grid.size);
    for (let k = 0; k < grid.size; k++) {
      const [x, y] = grid.centre(k);
      values[k] = g(x!, y!);
    }
    const v = fieldView(grid, values);
    expect(v.array.shape).toEqual([3, 5]);
    expect(v.axes).toEqual(['x', 'y']);
    expect(Array.from(v.coords[0]!)).toEqual([0.5, 1.5, 2.5]);
    expect(Array.from(v.coords[1]!)).toEqual([-0.5, 0.5, 1.5, 2.5, 3.5]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) expect(v.array.get(i, j)).toBe(g(v.coords[0]![i]!, v.coords[1]![j]!));
    expect(v.array.data).toBe(values);
    expect(() => fieldView(grid, new Float64Array(14))).toThrow(InputError);
  });

  // Additive noise: π_i ∝ e^{−f̄_i/D} with f̄_i the cell average of f (solvers/problem.ts, docs/scheme.md),
  // which tends to the Gaussian law N(0, D/κ) of OU (oracles.md §3) at second order.
  const piErrors = (cells: number): { discrete: number; continuous: number; mass: number } => {
    const pi = invariantDensityView(setUp(scenarioFromObject(ou(cells))));
    const h = 6 / cells;
    const f = (x: number): number => (KAPPA * x * x) / 2;
    const weights = pi.coords[0]!.map((x) => Math.exp(-gauss(f, x - h / 2, x + h / 2) / h / D));
    const zw = weights.reduce((a, b) => a + b, 0) * h;
    const dens = (x: number): number => Math.exp(-f(x) / D);
    // Composite over the cells: one 6-point rule across the whole box is not accurate for a narrow Gaussian.
    const cellMass = pi.coords[0]!.map((x) => gauss(dens, x - h / 2, x + h / 2));
    const z = cellMass.reduce((a, b) => a + b, 0);
    let discrete = 0;
    let continuous = 0;
    let mass = 0;
    for (let i = 0; i < cells; i++) {
      const v = pi.array.get(i);
      mass += v * pi.cellVolume;
      discrete = Math.max(discrete, Math.abs(v - weights[i]! / zw));
      continuous += Math.abs(v - cellMass[i]! / h / z) * h;
    }
    return { discrete, continuous, mass };
  };

  it('invariantDensityView is the scheme\'s π and tends to the Gaussian law of OU at second order', () => {
    const coarse = piErrors(300);
    const fine = piErrors(600);
    expect(coarse.mass).toBeCloseTo(1, 12);
    expect(coarse.discrete).toBeLessThan(1e-10);
    expect(fine.discrete).toBeLessThan(1e-10);
    // A wrong layout or normalization would be O(1), not shrink 4× with h/2.
    expect(coarse.continuous).toBeLessThan(1e-3);
    expect(coarse.continuous / fine.continuous).toBeGreaterThan(3.5);
    expect(coarse.continuous / fine.continuous).toBeLessThan(4.5);
  });
});

describe('running and the gap', () => {
  it('spectralGap of OU is κ (oracles.md §3) up to the discretization error', async () => {
    const gap = await spectralGap(setUp(scenarioFromObject(ou(400))));
    expect(gap.value).toBeCloseTo(KAPPA, 3);
    expect(gap.converged).not.toBe(false);
  });

  it('runScenario reports through onProgress, and densityView holds ρ(T) with mass 1 and the mean of OU', async () => {
    const seen: number[] = [];
    const result = await runScenario(scenarioFromObject(ou(400)), { gap: false, onProgress: (p) => seen.push(p.t) });
    expect(seen.map((t) => +t.toFixed(9))).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    const rho = densityView(result);
    let mass = 0;
    let mean = 0;
    for (let i = 0; i < 400; i++) {
      mass += rho.array.get(i) * rho.cellVolume;
      mean += rho.coords[0]![i]! * rho.array.get(i) * rho.cellVolume;
    }
    expect(mass).toBeCloseTo(1, 9);
    // E θ_t = θ₀ e^{−κt} for OU (oracles.md §3); the walls at ±3 are 6σ away from everything here.
    expect(mean).toBeCloseTo(Math.exp(-KAPPA * 0.5), 3);
    expect(result.setup.regime.regime).toBe('converging');
  });
});

describe('the package', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, { types: string; default: string } | string>;
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    peerDependenciesMeta: Record<string, { optional: boolean }>;
  };

  it("'fpsolve' resolves through exports to the built library (types beside it)", async () => {
    const main = pkg.exports['.'] as { types: string; default: string };
    expect(readFileSync(join(ROOT, main.types), 'utf8')).toContain('export declare function scenarioFromObject');
    const lib = (await import(join(ROOT, main.default))) as Record<string, unknown>;
    for (const name of ['loadScenario', 'scenarioFromObject', 'setUp', 'runScenario', 'spectralGap', 'densityView', 'invariantDensityView', 'fieldView', 'InputError']) {
      expect(typeof lib[name], name).toBe('function');
    }
  });

  it('installing the tarball runs no script, and the GPU packages are optional peers', () => {
    for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts, s).not.toHaveProperty(s);
    for (const g of ['gpu.js', 'webgpu']) {
      expect(pkg.dependencies, g).not.toHaveProperty(g);
      expect(pkg.peerDependenciesMeta[g]?.optional, g).toBe(true);
    }
  });

  it('npm pack holds the docs, examples, scenarios, schema, baselines and compiled code, and no tests', () => {
    // --ignore-scripts: list what the current build would ship without rebuilding (.ci/pack-smoke.sh packs for real).
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    for (const f of ['README.md', 'LICENSE', 'docs/library.md', 'examples/library.mjs', 'scenarios/pearson-1d.yaml', 'schema/scenario.schema.json', 'baselines/rates.yaml', 'bin/fpsolve.js', 'dist/src/library/index.js', 'dist/src/library/index.d.ts', 'dist/src/cli/main.js', 'dist/solvers/grid.js', 'dist/schema/scenario.validate.cjs']) {
      expect(files.has(f), f).toBe(true);
    }
    expect([...files].filter((f) => f.startsWith('dist/test/') || f.startsWith('test/') || f.endsWith('.map'))).toEqual([]);
  });
});
