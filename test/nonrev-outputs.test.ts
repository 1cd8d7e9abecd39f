/**
 * What a diffusion-matrix run leaves behind (src/nonrev/write.ts, src/plot/current.ts), what
 * `fpsolve check` reads off it (src/check/quantity.ts) and what a sweep records
 * (src/sweep/record.ts), on a run through the independent OU engine of
 * test/helpers/nonrev-ou-engine.ts. The numbers are compared with the arrays the run returned and
 * with the exact OU current (oracles.md §8).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy } from '../src/io/npy.js';
import type { LoadedScenario, NoiseSpec } from '../src/scenario/types.js';
import type { RunReport } from '../src/report/types.js';
import { runMatrixScenario } from '../src/nonrev/run.js';
import { formatMatrixSummary, writeMatrixOutputs } from '../src/nonrev/write.js';
import { buildMatrixFigures, currentArrows, matrixFigureSpecs } from '../src/plot/current.js';
import { extractQuantity, parseQuantity } from '../src/check/quantity.js';
import { recordFromChild } from '../src/sweep/record.js';
import { ouEngine, type OuSpec } from './helpers/nonrev-ou-engine.js';

const spec: OuSpec = {
  H: [
    [1, 0],
    [0, 0.5],
  ],
  D: [
    [1, 0.3],
    [0.3, 0.8],
  ],
};

const loaded: LoadedScenario = {
  file: '<inline>',
  baseDir: '.',
  scenario: {
    name: 'ou-matrix-outputs',
    landscape: { expr: '(x^2 + 0.5*y^2)/2' } as LoadedScenario['scenario']['landscape'],
    domain: {
      bounds: [
        [-4, 4],
        [-5, 5],
      ],
      cells: [16, 20],
    },
    noise: { model: 'matrix' } as unknown as NoiseSpec,
    initial: { gaussian: { mean: [1, 0], std: [0.7, 0.7] } },
    time: { end: 2, reportEvery: 0.5, integrator: 'backward-euler', tolerance: 1e-6 },
    diagnostics: {},
  },
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('outputs of a matrix run', () => {
  const run = runMatrixScenario(loaded, ouEngine(spec));

  it('writes report.json, series.csv, density/steady bundles and current.npy [nx, ny, 2] holding the run\'s arrays; removes an earlier run\'s pi.npy', async () => {
    const result = await run;
    const out = mkdtempSync(join(tmpdir(), 'nonrev-out-'));
    dirs.push(out);
    // An earlier reversible run's π must not sit beside a matrix run's outputs (it is not this run's law).
    writeFileSync(join(out, 'pi.npy'), 'stale');
    await writeMatrixOutputs(out, result);
    const names = readdirSync(out);
    for (const n of ['report.json', 'series.csv', 'density.npy', 'steady.npy', 'current.npy']) expect(names).toContain(n);
    expect(names).not.toContain('pi.npy');
    const cur = readNpy(join(out, 'current.npy'));
    expect(cur.shape).toEqual([16, 20, 2]);
    expect(Array.from(cur.data)).toEqual(Array.from(result.current));
    const st = readNpy(join(out, 'steady.npy'));
    expect(Array.from(st.data)).toEqual(Array.from(result.steady));
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { kind: string; series: unknown[] };
    expect(rep.kind).toBe('diffusion-matrix');
    const csv = readFileSync(join(out, 'series.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(rep.series.length + 1);
    expect(formatMatrixSummary(result.report)).toMatch(/entropy production/);
  }, 60_000);

  it('check quantities read the steady-state and non-reversible blocks; on a reversible report they say why there is none', async () => {
    const { report } = await run;
    const r = report as unknown as RunReport;
    const read = (name: string): unknown => {
      const q = parseQuantity(name);
      expect(q, name).toBeDefined();
      return extractQuantity(r, q!);
    };
    expect(read('nonReversible.entropyProduction')).toEqual({ ok: true, value: report.nonReversible.entropyProduction });
    expect(read('nonReversible.currentMax')).toEqual({ ok: true, value: report.nonReversible.currentMax });
    expect(read('steadyState.residual')).toEqual({ ok: true, value: report.steadyState.residual });
    // The test engine computes no gap: the quantity fails with the reason.
    const g = read('gap.re') as { ok: boolean; reason?: string };
    expect(g.ok).toBe(false);
    expect(g.reason).toMatch(/no gap/);
    const scalar = { final: report.final, notes: [] } as unknown as RunReport;
    const s = extractQuantity(scalar, parseQuantity('nonReversible.currentMax')!) as { ok: boolean; reason: string };
    expect(s.ok).toBe(false);
    expect(s.reason).toMatch(/only for diffusion-matrix noise/);
  }, 60_000);

  it('a sweep record carries the non-reversible summary', async () => {
    const { report } = await run;
    const rec = recordFromChild({ key: 'k', index: 0, params: {}, fpsolve: 'x', scenario: 's' }, { ok: true, report: JSON.parse(JSON.stringify(report)) as RunReport, exitCode: 0, wallSeconds: 1 }, false);
    expect(rec?.status).toBe('ok');
    expect(rec?.regime).toBeNull();
    expect(rec?.nonReversible?.entropyProduction).toBe(report.nonReversible.entropyProduction);
    expect(rec?.nonReversible?.currentMax).toBe(report.nonReversible.currentMax);
    expect(rec?.final?.l1).toBe(report.final.l1);
  }, 60_000);

  it('the figure\'s arrows point along the exact OU current ρ(DΣ⁻¹ − H)θ (a rotation: counter-clockwise here)', async () => {
    const result = await run;
    const specs = matrixFigureSpecs(result);
    expect(specs.map((s) => s.name)).toEqual(['steady-current', 'distances']);
    // Arrows from the exact field on the same plane: the block means of an exact rotation A θ ρ.
    const n = [16, 20];
    const h = [0.5, 0.5];
    const S = [
      [1, 0.4],
      [0.4, 1.6],
    ];
    // A = DΣ⁻¹ − H (oracles.md §8): with these H, D the Lyapunov Σ is exact in decimals.
    const det = S[0][0] * S[1][1] - S[0][1] ** 2;
    const Si = [
      [S[1][1] / det, -S[0][1] / det],
      [-S[0][1] / det, S[0][0] / det],
    ];
    const A = [
      [spec.D[0][0] * Si[0][0] + spec.D[0][1] * Si[1][0] - 1, spec.D[0][0] * Si[0][1] + spec.D[0][1] * Si[1][1]],
      [spec.D[1][0] * Si[0][0] + spec.D[1][1] * Si[1][0], spec.D[1][0] * Si[0][1] + spec.D[1][1] * Si[1][1] - 0.5],
    ];
    const ja = new Float64Array(n[0] * n[1]);
    const jb = new Float64Array(n[0] * n[1]);
    const ga = new Float64Array(n[0] * n[1]);
    const gb = new Float64Array(n[0] * n[1]);
    for (let i = 0; i < n[0]; i++) {
      for (let j = 0; j < n[1]; j++) {
        const x = -4 + (i + 0.5) * h[0];
        const y = -5 + (j + 0.5) * h[1];
        const rho = Math.exp(-0.5 * (Si[0][0] * x * x + 2 * Si[0][1] * x * y + Si[1][1] * y * y));
        const k = i * n[1] + j;
        ja[k] = rho * (A[0][0] * x + A[0][1] * y);
        jb[k] = rho * (A[1][0] * x + A[1][1] * y);
        ga[k] = result.current[2 * k];
        gb[k] = result.current[2 * k + 1];
      }
    }
    const plane = { edgesA: Float64Array.from({ length: 17 }, (_, i) => -4 + i * 0.5), edgesB: Float64Array.from({ length: 21 }, (_, i) => -5 + i * 0.5), values: ja, labelA: 'x', labelB: 'y' };
    const exact = currentArrows(plane, ja, jb, 8);
    const got = currentArrows(plane, ga, gb, 8);
    expect(got.length).toBeGreaterThan(10);
    // Compare directions where the exact arrow is long enough to have one.
    const dir = (a: { x: number; y: number; x2: number; y2: number }): number => Math.atan2(a.y2 - a.y, a.x2 - a.x);
    const longest = Math.max(...exact.map((a) => a.m));
    let compared = 0;
    for (const e of exact) {
      if (e.m < 0.2 * longest) continue;
      const g2 = got.find((a) => Math.abs((a.x + a.x2) / 2 - (e.x + e.x2) / 2) < 1e-9 && Math.abs((a.y + a.y2) / 2 - (e.y + e.y2) / 2) < 1e-9);
      expect(g2).toBeDefined();
      const dd = Math.abs(Math.atan2(Math.sin(dir(e) - dir(g2!)), Math.cos(dir(e) - dir(g2!))));
      expect(dd).toBeLessThan(0.2);
      compared++;
    }
    expect(compared).toBeGreaterThan(5);
    // Counter-clockwise: the cross product θ × J has the sign of A's antisymmetric part, A21 − A12 > 0.
    expect(A[1][0] - A[0][1]).toBeGreaterThan(0);
  }, 60_000);

  it('the figures render to SVG with the heat map, the arrows and their heads', async () => {
    const figs = await buildMatrixFigures(await run);
    const svg = figs.find((f) => f.name === 'steady-current')?.svg ?? '';
    expect(svg).toMatch(/^<svg|<\?xml/);
    for (const mark of ['heatmap_steady', 'current_arrows', 'current_heads', 'heatmap_current']) expect(svg).toContain(mark);
  }, 60_000);
});
