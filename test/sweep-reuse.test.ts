/**
 * Set-up kept across the runs of one process (src/resources/reuse.ts: the initial density and the basins
 * of f, which an ησ sweep does not change): a run that reuses them writes the report a fresh process
 * writes, bit for bit, and a run whose inputs differ does not reuse them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/run/run.js';
import { reportJson } from '../src/report/write.js';
import { clearReuse, reuseHits } from '../src/resources/reuse.js';
import { compileExpr } from '../src/landscape/expr.js';

let dir: string;
let pearson: string;
let doubleWell: string;

// docs/oracles.md §1 Pearson: f = c + b x² has no zeros (one basin); λ₁ = 1 for every ησ.
const PEARSON = `
name: reuse-pearson
landscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }
domain: { bounds: [[-10, 10]], cells: [400] }
noise: { model: multiplicative, eta: 0.1, sigma: 10 }
initial: { gaussian: { mean: [1.5], std: [0.2] } }
time: { end: 2, reportEvery: 0.5 }
`;
// Two quadratic zeros of f at ±1 (docs/oracles.md §10's kind of zero, inside the box): two seeded basins.
const DOUBLE_WELL = `
name: reuse-double-well
landscape: { expr: "(x^2 - 1)^2" }
domain: { bounds: [[-2, 2]], cells: [300] }
noise: { model: multiplicative, eta: 0.1, sigma: 1 }
initial: { uniform: {} }
time: { end: 0.5, reportEvery: 0.25 }
`;

/** The report as `fpsolve run --json` writes it, less the two fields that name the moment and the duration of the run. */
async function report(file: string, sets: string[]): Promise<Record<string, unknown>> {
  const { report: r } = await runScenario(loadScenario(file, sets), { gap: false });
  const out = JSON.parse(reportJson(r)) as Record<string, unknown>;
  delete out['createdAt'];
  delete out['wallSeconds'];
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fps-reuse-'));
  pearson = join(dir, 'pearson.yaml');
  doubleWell = join(dir, 'double-well.yaml');
  writeFileSync(pearson, PEARSON);
  writeFileSync(doubleWell, DOUBLE_WELL);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('set-up reused across the runs of one process', () => {
  for (const [name, file, etas] of [
    ['Pearson (no zeros of f)', () => pearson, ['noise.eta=0.05', 'noise.eta=0.2']],
    ['a double well with two zeros of f (seeded basins)', () => doubleWell, ['noise.eta=0.5', 'noise.eta=2']],
  ] as const) {
    it(`${name}: the second point of an ησ sweep reuses the initial density and basins and reports the bits of a fresh run`, async () => {
      clearReuse();
      await report(file(), [etas[0]]);
      const [ini, bas] = [reuseHits('initial-density'), reuseHits('basin-labels')];
      const reused = await report(file(), [etas[1]]);
      expect(reuseHits('initial-density')).toBe(ini + 1);
      expect(reuseHits('basin-labels')).toBe(bas + 1);
      clearReuse();
      const fresh = await report(file(), [etas[1]]);
      expect(reuseHits('initial-density')).toBe(ini + 1);
      expect(reused).toEqual(fresh);
      if (file() === doubleWell) expect((fresh['basins'] as { basins: { kind: string }[] }).basins.map((b) => b.kind)).toEqual(['zero component', 'zero component']);
      // The reused run is not a copy of the first point's report: π changed with ησ.
      const first = await report(file(), [etas[0]]);
      expect((first['final'] as { l1: number }).l1).not.toBe((fresh['final'] as { l1: number }).l1);
    });
  }

  it('does not reuse across a change of f, of the grid or of the initial density', async () => {
    clearReuse();
    await report(pearson, []);
    const [ini, bas] = [reuseHits('initial-density'), reuseHits('basin-labels')];
    // f changes in the 12th digit: the basins are computed again (the check compares f itself, not a name).
    await report(pearson, ['landscape.params.c=0.100000000001']);
    expect(reuseHits('basin-labels')).toBe(bas);
    expect(reuseHits('initial-density')).toBe(ini + 1);
    await report(pearson, ['domain.cells=[401]']);
    await report(pearson, ['domain.cells=[401]', 'initial.gaussian.std=[0.3]']);
    expect(reuseHits('initial-density')).toBe(ini + 1);
    // And each of those runs is the fresh one.
    const again = await report(pearson, ['domain.cells=[401]', 'initial.gaussian.std=[0.3]']);
    clearReuse();
    expect(again).toEqual(await report(pearson, ['domain.cells=[401]', 'initial.gaussian.std=[0.3]']));
  });

  it('a run cannot change what the next run reuses (it gets a copy)', async () => {
    clearReuse();
    const fresh = await report(pearson, ['noise.eta=0.2']);
    // The reused initial density and labels are copies: a run that used them leaves the kept values as computed.
    await report(pearson, ['noise.eta=0.05']);
    await report(pearson, ['noise.eta=0.1']);
    expect(await report(pearson, ['noise.eta=0.2'])).toEqual(fresh);
  });

  it('the landscape expression is compiled once for an ησ sweep, and again when its params change', async () => {
    const slot = 'expression landscape.expr';
    clearReuse();
    await report(pearson, ['noise.eta=0.05']);
    const hits = reuseHits(slot);
    const reused = await report(pearson, ['noise.eta=0.2']);
    // The second point's compiles of f (scenario check, set-up) are served from the first point's.
    expect(reuseHits(slot)).toBeGreaterThan(hits);
    clearReuse();
    expect(reused).toEqual(await report(pearson, ['noise.eta=0.2']));

    // The kept compile is f itself: docs/oracles.md §1 Pearson's f = c + b x², evaluated here directly.
    const xs = Float64Array.from([-10, -1.5, -0.3, 0, 0.7, 2, 9.99]);
    const values = (params: { c: number; b: number }): Float64Array => {
      const out = new Float64Array(xs.length);
      compileExpr('c + b*x^2', params, 1).evalPoints([xs], out);
      return out;
    };
    const a = compileExpr('c + b*x^2', { c: 0.1, b: 0.5 }, 1);
    expect(compileExpr('c + b*x^2', { c: 0.1, b: 0.5 }, 1)).toBe(a);
    for (const p of [{ c: 0.1, b: 0.5 }, { c: 0.1, b: 0.25 }, { c: 0.1, b: 0.5 }]) {
      const got = values(p);
      xs.forEach((x, i) => expect(got[i]).toBeCloseTo(p.c + p.b * x * x, 13));
    }
    // A change of a param compiles again (not the kept closure with the old constant).
    expect(compileExpr('c + b*x^2', { c: 0.1, b: 0.25 }, 1)).not.toBe(a);
    // −0 and 0 are different constants (1/x of them differ): not one key.
    const negZero = new Float64Array(1);
    compileExpr('1/c + 0*x', { c: 0 }, 1).evalPoints([Float64Array.of(1)], negZero);
    const out = new Float64Array(1);
    compileExpr('1/c + 0*x', { c: -0 }, 1).evalPoints([Float64Array.of(1)], out);
    expect([negZero[0], out[0]]).toEqual([Infinity, -Infinity]);
    // Inputs that fail are never kept: the same error every time.
    for (let k = 0; k < 2; k++) expect(() => compileExpr('c + b*x^2', { c: 0.1, b: 0.5, d: 1 }, 1)).toThrow(/parameter 'd' is not used/);
  });

  it('the scenario text parsed once per process: an override of one point never reaches the next', () => {
    const a = loadScenario(pearson, ['noise.eta=0.3', 'landscape.params.b=0.25']);
    const b = loadScenario(pearson);
    const c = loadScenario(pearson, ['noise.eta=0.3', 'landscape.params.b=0.25']);
    expect(a.scenario.noise).toMatchObject({ eta: 0.3 });
    expect(b.scenario.noise).toMatchObject({ eta: 0.1 });
    expect(b.scenario.landscape).toEqual({ expr: 'c + b*x^2', params: { c: 0.1, b: 0.5 } });
    expect(c).toEqual(a);
    expect(c.scenario).not.toBe(a.scenario);
  });
});
