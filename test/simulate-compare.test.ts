/**
 * Acceptance tests of issue 7: Monte-Carlo (Euler–Maruyama, mini-batch SGD) against the PDE.
 * The yardstick is the Monte-Carlo noise floor of the L1 distance (src/simulate/histogram.ts):
 * the L1 that N samples from the PDE density itself would show. Grids, end times and steps are
 * reduced from the bundled scenarios (with --set-style overrides) to keep the file within budget.
 */
import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../src/scenario/load.js';
import { simulateScenario } from '../src/simulate/compare.js';
import { comparisonFigure } from '../src/simulate/plot.js';
import { main } from '../src/cli/main.js';
import { SCENARIOS } from './helpers/run-inline.js';

const scenario = (name: string, overrides: string[]) => loadScenario(join(SCENARIOS, `${name}.yaml`), overrides);

describe('SDE histograms against the PDE', () => {
  it('pearson-1d: 10^5 particles agree within 3× the L1 floor at three report times', async () => {
    const r = await simulateScenario(scenario('pearson-1d', ['time.end=0.6', 'time.reportEvery=0.2']), { particles: 100000, seed: 1 });
    const cs = r.report.methods[0]!.comparisons;
    expect(cs.map((c) => c.t)).toEqual([0.2, 0.4, 0.6000000000000001].map((t) => expect.closeTo(t, 12)) as unknown as number[]);
    for (const c of cs) {
      expect(c.l1).toBeLessThan(3 * c.l1Floor);
      // E[f]: Monte Carlo and PDE within 4 standard errors plus the PDE's O(h²) cell-average error.
      expect(Math.abs(c.meanLoss.mc - c.meanLoss.pde)).toBeLessThan(4 * c.meanLoss.mcStdErr + 1e-3 * c.meanLoss.pde);
    }
    // E θ_t = E θ₀ e^(−2bt) on the whole line (docs/oracles.md §1, Forman & Sørensen 2008); the box [−10, 10] barely matters by t = 0.6.
    const x = new Float64Array(r.grid.n[0]!).map((_, i) => r.grid.lo[0]! + (i + 0.5) * r.grid.h[0]!);
    const h = r.histograms.sde!.subarray(2 * r.grid.size);
    const meanMc = x.reduce((a, xi, i) => a + xi * h[i]! * r.grid.h[0]!, 0);
    expect(Math.abs(meanMc - 1.5 * Math.exp(-0.6))).toBeLessThan(0.01);
  });

  it('double-well-2d: 10^5 particles agree within 3× the L1 floor at three report times', async () => {
    const r = await simulateScenario(scenario('double-well-2d', ['time.end=0.3', 'time.reportEvery=0.1', 'domain.cells=[96,96]']), {
      particles: 100000,
      seed: 2,
      dt: 1e-3,
    });
    const cs = r.report.methods[0]!.comparisons;
    expect(cs).toHaveLength(3);
    for (const c of cs) {
      expect(c.l1).toBeLessThan(3 * c.l1Floor);
      expect(c.marginals).toHaveLength(2);
    }
    // The figure draws one PDE layer per marginal (distinct mark names, so vega keeps their data apart).
    const svg = await comparisonFigure(r);
    expect(svg).toContain('pde_0_marks');
    expect(svg).toContain('pde_1_marks');
  });
});

describe('Feng–Tu valley', () => {
  it('PDE and SDE both move toward the flat end; the flat-half mass agrees within Monte-Carlo error', async () => {
    const N = 40000;
    const r = await simulateScenario(scenario('feng-tu-2d', ['domain.cells=[32,64]']), { particles: N, seed: 3, dt: 4e-3 });
    const cs = r.report.methods[0]!.comparisons;
    expect(cs).toHaveLength(3);
    // Axis 0 runs along the valley; its lower half x < 0 is the flat half (curvature e^(2x) < 1).
    const flat = cs.map((c) => c.lowerHalfMass[0]!);
    for (let i = 1; i < flat.length; i++) {
      expect(flat[i]!.pde).toBeGreaterThan(flat[i - 1]!.pde);
      expect(flat[i]!.mc).toBeGreaterThan(flat[i - 1]!.mc);
    }
    // Equilibrium flat-half mass (docs/landscapes.md): marginal ∝ e^(−x) on [−1, 1] → (e − 1)/(e − e^−1) ≈ 0.731; still approaching it.
    expect(flat[2]!.pde).toBeLessThan((Math.E - 1) / (Math.E - 1 / Math.E));
    for (const f of flat) expect(Math.abs(f.mc - f.pde)).toBeLessThan(4 * f.mcStdErr);
  });
});

describe('mini-batch SGD on a data landscape', () => {
  it('neuron-1d: PDE and SGD means of f at t = 1 agree within 10%, and the run prints the noise map assumptions', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    const dir = mkdtempSync(join(tmpdir(), 'fpsolve-sim-'));
    let code: number;
    try {
      code = await main(['node', 'fpsolve', 'simulate', join(SCENARIOS, 'neuron-1d.yaml'), '--particles', '20000', '--seed', '5', '--no-plots', '--out', dir, '-q']);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    const text = out.join('');
    expect(text).toContain('Assumptions:');
    expect(text).toContain('isotropic multiplicative closure');
    expect(text).toContain('with replacement');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
      methods: { method: string; comparisons: { t: number; tSimulated: number; meanLoss: { mc: number; pde: number } }[] }[];
    };
    const sgd = report.methods.find((m) => m.method === 'sgd')!;
    const at1 = sgd.comparisons.find((c) => Math.abs(c.t - 1) < 1e-12)!;
    expect(at1.tSimulated).toBeCloseTo(1, 12);
    expect(Math.abs(at1.meanLoss.mc / at1.meanLoss.pde - 1)).toBeLessThan(0.1);
  });
});

describe('reproducibility', () => {
  it('same seed, same report (apart from timing fields) and the same histograms', async () => {
    const strip = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(strip)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'createdAt' && k !== 'wallSeconds').map(([k, x]) => [k, strip(x)]))
          : v;
    const run = async (seed: number) => {
      const dir = mkdtempSync(join(tmpdir(), 'fpsolve-sim-'));
      const code = await main(['node', 'fpsolve', 'simulate', join(SCENARIOS, 'pearson-1d.yaml'), '--set', 'time.end=0.2', '--particles', '2000', '--seed', String(seed), '--no-plots', '--out', dir, '--json', '-q']);
      expect(code).toBe(0);
      return { report: JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as unknown, hist: readFileSync(join(dir, 'sde.npy')) };
    };
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const a = await run(42);
      const b = await run(42);
      const c = await run(43);
      expect(strip(b.report)).toEqual(strip(a.report));
      expect(b.hist.equals(a.hist)).toBe(true);
      expect(c.hist.equals(a.hist)).toBe(false);
    } finally {
      spy.mockRestore();
    }
  });
});
