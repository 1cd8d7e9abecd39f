/**
 * The criticalLimit as a check quantity, in sweep summaries and in the phase diagram
 * (issue #17, items 4 and 5), on the bundled recipe examples/critical-noise/three-zeros-3d.yaml:
 * three isolated zeros with Hessians a·I, a = 1, 2, 4, so the limit weights are
 * a^−3/2/Σ (docs/oracles.md §7 "The critical-noise limit"), computed here from a alone.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../src/scenario/load.js';
import { setUp } from '../src/run/setup.js';
import { Problem, isFault } from '../solvers/problem.js';
import { criticalLimit, criticalLimitOf, criticalSummary, hessianOf, type CriticalLimitReport } from '../src/estimators/critical-limit.js';
import { extractQuantity, parseQuantity } from '../src/check/quantity.js';
import { summaryColumns, summaryRows, criticalComponentCount } from '../src/sweep/summary.js';
import { phaseSpec, writePhaseDiagram } from '../src/plot/phase.js';
import type { SweepRecord } from '../src/sweep/record.js';
import type { RunReport } from '../src/report/types.js';

const s = setUp(loadScenario('examples/critical-noise/three-zeros-3d.yaml', ['domain.cells=[10,10,10]']));
const CURVATURES = [1, 2, 4];
const w = CURVATURES.map((a) => a ** -1.5 / CURVATURES.reduce((t, b) => t + b ** -1.5, 0));
const ZEROS = [
  [-0.7, -0.3, 0],
  [0.6, -0.4, 0.2],
  [0, 0.7, -0.3],
];

function at(etaSigma: number): CriticalLimitReport {
  const noise = { kind: 'multiplicative' as const, etaSigma, eps: 0 };
  const p = Problem.build(s.grid, s.landscape.evalPoints, noise);
  if (isFault(p)) throw new Error('fault');
  return criticalLimit({ grid: s.grid, noise, regime: s.regime, f: p.f, logPi: p.logPi(), fAt: (x) => s.landscape.compiled.at(x), hessianAt: hessianOf(s.landscape.compiled, s.grid) })!;
}

const ETAS = [3.5, 4.5, 6];
const reports = ETAS.map(at);
const weightOf = (c: CriticalLimitReport, z: number): number => c.components.find((k) => Math.hypot(...k.location.map((v, j) => v - ZEROS[z][j])) < 1e-6)!.predictedWeight!;

function record(c: CriticalLimitReport, index: number): SweepRecord {
  return {
    key: `k${index}`,
    index,
    params: { 'noise.sigma': c.etaSigma / 0.5 },
    status: 'ok',
    error: null,
    errorKind: null,
    regime: c.etaSigma > 4 ? 'converging' : 'collapsing',
    rates: { chi: null, kl: null, meanLoss: null },
    gap: 0.1 * index + 0.05,
    final: { l1: 0, kl: 0, chi2: 0, meanLoss: 0, massBelowDelta: 0 },
    critical: criticalSummary(c),
    wallSeconds: 1,
    fpsolve: 'test',
    scenario: 'critical-noise-3d',
  };
}
const records = reports.map(record);

describe('the bundled recipe: three zeros, det H = 1, 8, 64', () => {
  it('predicts a^−3/2/Σ for each zero, the same at every ησ', () => {
    expect(criticalLimitOf(s)!.components.length).toBe(3);
    for (const c of reports) for (let z = 0; z < 3; z++) expect(Math.abs(weightOf(c, z) - w[z])).toBeLessThan(1e-9);
  });

  it('check quantities read criticalLimit fields by their report.json path', () => {
    const report = { criticalLimit: reports[1] } as unknown as RunReport;
    for (let i = 0; i < 3; i++) {
      const q = parseQuantity(`criticalLimit.components[${i}].predictedWeight`)!;
      expect(extractQuantity(report, q)).toEqual({ ok: true, value: reports[1].components[i].predictedWeight });
      expect(extractQuantity(report, parseQuantity(`criticalLimit.components[${i}].piFraction`)!)).toEqual({ ok: true, value: reports[1].components[i].piFraction });
    }
    expect(extractQuantity(report, parseQuantity('criticalLimit.maxDeviation')!)).toEqual({ ok: true, value: reports[1].maxDeviation });
    const beyond = extractQuantity(report, parseQuantity('criticalLimit.components[3].piMass')!);
    expect(beyond.ok).toBe(false);
    expect(extractQuantity({} as RunReport, parseQuantity('criticalLimit.threshold')!).ok).toBe(false);
    expect(parseQuantity('criticalLimit.components[0].nonsense')).toBeUndefined();
  });

  it('summary.csv has ησ, the threshold and a π fraction and limit weight per component', () => {
    const n = criticalComponentCount(records);
    expect(n).toBe(3);
    const cols = summaryColumns(['noise.sigma'], records);
    const rows = summaryRows(records, ['noise.sigma']);
    const col = (name: string): number => cols.indexOf(name);
    rows.forEach((row, i) => {
      expect(row[col('etaSigma')]).toBe(ETAS[i]);
      expect(row[col('critical_threshold')]).toBe(4);
      for (let k = 0; k < 3; k++) {
        expect(row[col(`piFraction_${k + 1}`)]).toBe(reports[i].components[k].piFraction);
        expect(row[col(`limitWeight_${k + 1}`)]).toBe(reports[i].components[k].predictedWeight);
      }
    });
    // Without criticalLimit the columns are the ones sweeps always had.
    expect(summaryColumns(['noise.sigma'])).not.toContain('etaSigma');
  });

  it('the phase diagram draws the limit weights and h(ησ(k − 2) − 4)²/(16ησ) with h the smallest curvature', async () => {
    const spec = phaseSpec(records) as unknown as { vconcat: { layer: { name?: string; data: { values: Record<string, number | string>[] } }[] }[] };
    expect(spec).not.toBeNull();
    const layers = spec.vconcat.flatMap((c) => c.layer);
    const rules = layers.find((l) => l.name === 'limit_weights')!.data.values.map((v) => v['weight'] as number).sort((a, b) => a - b);
    expect(rules.length).toBe(3);
    [...w].sort((a, b) => a - b).forEach((v, i) => expect(Math.abs(rules[i] - v)).toBeLessThan(1e-9));
    const curve = layers.find((l) => l.name === 'slowing_down')!.data.values;
    expect(curve.length).toBeGreaterThan(10);
    for (const p of curve) {
      const es = p['etaSigma'] as number;
      expect(es).toBeGreaterThan(4);
      expect(Math.abs((p['predicted'] as number) - ((es - 4) ** 2) / (16 * es))).toBeLessThan(1e-12);
    }
    const dir = mkdtempSync(join(tmpdir(), 'fps-phase-'));
    try {
      const file = await writePhaseDiagram(dir, records);
      const svg = readFileSync(file!, 'utf8');
      expect(svg).toContain('<svg');
      expect(svg).toContain('limit_weights');
      expect(svg).toContain('slowing_down');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // One point, or points without a threshold, draw nothing.
    expect(phaseSpec(records.slice(0, 1))).toBeNull();
  });
});
