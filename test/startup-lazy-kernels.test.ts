// Start-up (#19.4): the generated CPU kernels are emitted when first looked up, not all of them when
// solvers/range-kernels.ts is imported (emitting and compiling the ~40 of them cost 40–100 ms of
// every process; a 1-D run uses a handful). The table must still list every kernel, in the order
// the threads index it, and each entry must be the kernel the registry emits for that name.
import { describe, expect, it, vi } from 'vitest';

vi.mock('../solvers/kernels/emit-js.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../solvers/kernels/emit-js.js')>();
  return { ...m, emitJs: vi.fn(m.emitJs) };
});

describe('lazy kernel emission', () => {
  it('importing the kernel table emits almost nothing; each look-up emits its kernel once', async () => {
    const { emitJs } = await import('../solvers/kernels/emit-js.js');
    const { RANGE_KERNELS } = await import('../solvers/range-kernels.js');
    const { descriptions, rangeKernel } = await import('../solvers/kernels/registry.js');
    const emitted = vi.mocked(emitJs);
    const all = descriptions().map((d) => d.name);
    expect(all.length).toBeGreaterThan(20);
    // range-kernels.ts itself looks up scaleBy (its `scaleBy` export); nothing else yet.
    expect(emitted.mock.calls.map((c) => c[0].name)).toEqual(['scaleBy']);
    // Every kernel is listed, generated ones first in description order, then the hand-written ones (the multigrid's two, the gap's Dirichlet-form apply and its basis sweeps).
    expect(Object.keys(RANGE_KERNELS)).toEqual([...all, 'restrictAfterFirstSweep', 'gaussSeidelBlock', 'dirichletApply', 'eigenDots', 'eigenCombine', 'eigenGrad']);
    expect(emitted).toHaveBeenCalledTimes(1);
    for (const name of all) {
      const k = RANGE_KERNELS[name]!;
      expect(k, name).toBe(rangeKernel(name));
      expect(RANGE_KERNELS[name], name).toBe(k);
    }
    expect(emitted).toHaveBeenCalledTimes(all.length);
    // A kernel run through the table computes what its description says: scaleBy, out = inv·r on [lo, hi).
    const inv = new Float64Array([2, 2, 0.5, 2]);
    const r = new Float64Array([1, 2, 3, 4]);
    const out = new Float64Array(4);
    RANGE_KERNELS.scaleBy!([inv, r, out], [], [], 1, 3);
    expect(Array.from(out)).toEqual([0, 4, 1.5, 0]);
  });
});
