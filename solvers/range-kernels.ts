/**
 * The kernels a thread of solvers/exec/team.ts may be asked to run, by name: the generated
 * ones (solvers/kernels/registry.ts) and the multigrid's two block drivers. Every kernel has the
 * shape (arrays, ints, params, lo, hi) → partial result, over a range of cells.
 */
import { rangeKernel, type RangeKernel } from './kernels/registry.js';
import { gaussSeidelBlock, restrictAfterFirstSweep } from './multigrid-kernels.js';
import { useKernelTable } from './exec/team.js';
import { fileURLToPath } from 'node:url';

export type { RangeKernel } from './kernels/registry.js';

const generated = <N extends string>(names: readonly N[]): Record<N, RangeKernel> => Object.fromEntries(names.map((n) => [n, rangeKernel(n)])) as Record<N, RangeKernel>;

export const RANGE_KERNELS = {
  ...generated(['sym1', 'sym2', 'sym3', 'shifted1', 'shifted2', 'shifted3', 'apply1', 'apply2', 'apply3', 'rkl2Stage1', 'rkl2Stage2', 'rkl2Stage3', 'dot', 'cgUpdate', 'lincomb', 'scaleBy', 'zero', 'prolongAdd', 'scale', 'divide', 'multiply', 'sum', 'norm1']),
  restrictAfterFirstSweep,
  gaussSeidelBlock,
} as const;
export type RangeKernelName = keyof typeof RANGE_KERNELS;

// Teams (solvers/exec/team.ts) run these; their workers import this file for them.
useKernelTable(fileURLToPath(import.meta.url), RANGE_KERNELS);

export const scaleBy: RangeKernel = RANGE_KERNELS.scaleBy;
