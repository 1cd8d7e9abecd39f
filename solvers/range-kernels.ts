/**
 * The kernels a thread of solvers/exec/team.ts may be asked to run, by name: every generated one
 * (solvers/kernels/stencils.ts, ALL_KERNELS, under its description's name) and the multigrid's two
 * block drivers. Every kernel has the shape (arrays, ints, params, lo, hi) → partial result, over
 * a range of cells.
 */
import { descriptions, rangeKernel, type RangeKernel } from './kernels/registry.js';
import { gaussSeidelBlock, restrictAfterFirstSweep } from './multigrid-kernels.js';
import { useKernelTable } from './exec/team.js';
import { fileURLToPath } from 'node:url';

export type { RangeKernel } from './kernels/registry.js';

export const RANGE_KERNELS: Readonly<Record<string, RangeKernel>> = {
  ...Object.fromEntries(descriptions().map((d) => [d.name, rangeKernel(d.name)])),
  restrictAfterFirstSweep,
  gaussSeidelBlock,
};
export type RangeKernelName = string;

// Teams (solvers/exec/team.ts) run these; their workers import this file for them.
useKernelTable(fileURLToPath(import.meta.url), RANGE_KERNELS);

export const scaleBy: RangeKernel = RANGE_KERNELS.scaleBy;
