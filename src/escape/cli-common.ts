import { InvalidArgumentError } from 'commander';
import type { Setup } from '../run/types.js';
import type { EscapeInput } from './compute.js';

/** The pieces of a set-up run that the committor and escape solves read. */
export function escapeInput(setup: Setup, rho0: Float64Array): EscapeInput {
  const comps = setup.regime.components ?? [];
  const cells = setup.regime.componentCells ?? [];
  return { op: setup.op, zeros: comps.map((c, k) => ({ location: c.location, cells: cells[k] ?? [], verdict: c.verdict, refinement: c.refinement })), rho0 };
}

export function parseTolerance(v: string): number {
  const t = Number(v);
  if (!(t >= 1e-14 && t <= 1e-2)) throw new InvalidArgumentError(`--tol must be a number from 1e-14 to 1e-2 (got '${v}')`);
  return t;
}

export const SET_SYNTAX_HELP = `Sets: NAME or a point, optionally with ':radius=R' (cells whose centre is within R) or
':sublevel=C' (the connected part of {f ≤ f(seed) + C} around it):
  min1, min2, …    minima of f on the grid (the bottoms of the run report's basins), lowest first
  zero1, zero2, …  components of the zero set of f, numbered as the regime line of 'fpsolve run' prints them
  x=..,y=..,z=..   a point of the box
Without radius or sublevel a zero component is its own cells, a minimum or point a ball of 2 cells.`;
