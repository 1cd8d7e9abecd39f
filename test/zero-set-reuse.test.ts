// Sweep throughput (#19.5): the points of a noise sweep share their landscape and grid, so set-up
// reuses the previous zero-set analysis when the landscape and grid are the same (src/run/setup.ts
// keys it, src/diagnostics/regime.ts keeps the last one). The reused verdict must be the one a
// fresh analysis gives (the independent method: classifyRegime with no key), and a change of
// landscape parameter or grid must not reuse it.
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { noiseModel, setUp } from '../src/run/setup.js';
import { classifyRegime } from '../src/diagnostics/regime.js';

// f = x²/2 (oracles.md §2, geometric Brownian motion): a quadratic zero at 0, which the analysis has to
// find; α = 1 + 2/(ησ) exceeds its exponent e = 1/2 for every ησ (§4), so the verdict is collapse at
// both noise levels, with each point's own α.
const FILE = 'scenarios/gbm-collapse-1d.yaml';
const SMALL = ['domain.bounds=[[-2, 2]]', 'domain.cells=[400]'];

function fresh(sets: string[]): ReturnType<typeof setUp>['regime'] {
  const s = setUp(loadScenario(FILE, sets));
  return classifyRegime(s.grid, s.landscape.evalPoints, noiseModel(s.scenario.noise), s.landscape.compiled);
}

describe('set-up reuses the zero-set analysis across the points of a noise sweep', () => {
  it('a second point with other noise reuses it, and its verdict equals a fresh analysis', () => {
    const a = setUp(loadScenario(FILE, [...SMALL, 'noise.eta=0.1']));
    const b = setUp(loadScenario(FILE, [...SMALL, 'noise.eta=0.3']));
    // Reused: the very cells of the first analysis (a fresh analysis builds new arrays).
    expect(b.regime.componentCells!.length).toBeGreaterThan(0);
    expect(b.regime.componentCells![0]).toBe(a.regime.componentCells![0]);
    // Same verdicts as analysing from scratch, for both noise levels.
    expect(a.regime).toEqual(fresh([...SMALL, 'noise.eta=0.1']));
    expect(b.regime).toEqual(fresh([...SMALL, 'noise.eta=0.3']));
    // Each point is judged with its own α: the regimes differ though the analysis is shared.
    expect(a.regime).not.toEqual(b.regime);
  });

  it('another landscape or grid is analysed afresh', () => {
    const a = setUp(loadScenario(FILE, [...SMALL, 'noise.eta=0.1']));
    // The minimum moved off the origin: a reused analysis would put the zero at the old place.
    const moved = setUp(loadScenario(FILE, [...SMALL, 'noise.eta=0.1', 'landscape.expr="(x - 0.5)^2/2"']));
    expect(moved.regime.componentCells![0]).not.toBe(a.regime.componentCells![0]);
    expect(moved.regime).toEqual(fresh([...SMALL, 'noise.eta=0.1', 'landscape.expr="(x - 0.5)^2/2"']));
    expect(moved.regime.argminF[0]).toBeCloseTo(0.5, 6);
    const finer = setUp(loadScenario(FILE, ['domain.bounds=[[-2, 2]]', 'domain.cells=[800]', 'noise.eta=0.1']));
    expect(finer.regime.componentCells![0]).not.toBe(a.regime.componentCells![0]);
    expect(finer.regime).toEqual(fresh(['domain.bounds=[[-2, 2]]', 'domain.cells=[800]', 'noise.eta=0.1']));
  });
});
