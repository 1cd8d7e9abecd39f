/**
 * The kernels a thread of solvers/exec/team.ts may be asked to run, by name: every generated one
 * (solvers/kernels/stencils.ts, ALL_KERNELS, under its description's name) and the multigrid's two
 * block drivers. Every kernel has the shape (arrays, ints, params, lo, hi) → partial result, over
 * a range of cells.
 */
import { descriptions, rangeKernel, type RangeKernel } from './kernels/registry.js';
import { gaussSeidelBlock, restrictAfterFirstSweep } from './multigrid-kernels.js';
import { dirichletApply } from './dirichlet-kernels.js';
import { eigenCombine, eigenDots, eigenGrad } from './basis-kernels.js';
import { useKernelTable } from './exec/team.js';
import { fileURLToPath } from 'node:url';

export type { RangeKernel } from './kernels/registry.js';

// Each generated kernel is emitted when first looked up (solvers/kernels/registry.ts says why); the
// keys, and so the indices teams pass to their threads, are all there from the start, in order.
const table: Record<string, RangeKernel> = {};
for (const d of descriptions()) {
  // The first look-up turns the getter into a plain property: later calls pay no getter.
  const emit = (): RangeKernel => {
    const k = rangeKernel(d.name);
    Object.defineProperty(table, d.name, { value: k, enumerable: true, writable: false, configurable: false });
    return k;
  };
  Object.defineProperty(table, d.name, { enumerable: true, configurable: true, get: emit });
}
table.restrictAfterFirstSweep = restrictAfterFirstSweep;
table.gaussSeidelBlock = gaussSeidelBlock;
table.dirichletApply = dirichletApply;
table.eigenDots = eigenDots;
table.eigenCombine = eigenCombine;
table.eigenGrad = eigenGrad;
export const RANGE_KERNELS: Readonly<Record<string, RangeKernel>> = table;
export type RangeKernelName = string;

// Teams (solvers/exec/team.ts) run these; their workers import this file for them.
useKernelTable(fileURLToPath(import.meta.url), RANGE_KERNELS);

export const scaleBy: RangeKernel = RANGE_KERNELS.scaleBy;
