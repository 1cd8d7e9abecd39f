import type { FvOperator } from '../../solvers/operator.js';
import { InputError } from '../errors.js';

/**
 * Reachability on the grid's face graph: cells i, j are joined when the face between them has a
 * positive weight. A face with D = 0 (f = 0 on the whole face, e.g. a valley of zeros along a
 * grid line) or an underflowed weight cuts the graph: no probability crosses it, so a region
 * behind it never reaches a set on the other side and the Dirichlet system is singular there.
 */

/**
 * Faces whose D is below this fraction of the largest face D count as D = 0: f evaluated on a face
 * through a zero of f gives (round-off)² ~ 1e-32, not 0, and the process cannot cross there.
 */
export const ZERO_FACE_D = 1e-14;

/** Calls visit(i, j) for each face between cells i < j that probability can cross. */
function forFaces(op: FvOperator, visit: (i: number, j: number) => void): void {
  const g = op.grid;
  let maxD = 0;
  for (const fd of op.problem.faceD) for (const v of fd) if (v > maxD) maxD = v;
  const floor = ZERO_FACE_D * maxD;
  for (let k = 0; k < g.dim; k++) {
    const s = g.strides[k];
    const w = op.sym[k];
    const fd = op.problem.faceD[k];
    for (let i = 0; i + s < g.size; i++) if (w[i] > 0 && fd[i] > floor && Math.floor(i / s) % g.n[k] < g.n[k] - 1) visit(i, i + s);
  }
}

/**
 * The first free cell (absorbed[i] = 0) whose connected part of the free cells touches no
 * absorbed cell, or -1 when every part does.
 */
export function cutOffCell(op: FvOperator, absorbed: Uint8Array): number {
  const n = op.grid.size;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const touches = new Uint8Array(n);
  forFaces(op, (i, j) => {
    const ai = absorbed[i];
    const aj = absorbed[j];
    if (!ai && !aj) {
      const ri = find(i);
      const rj = find(j);
      if (ri !== rj) {
        parent[ri] = rj;
        if (touches[ri]) touches[rj] = 1;
      }
    } else if (ai && !aj) touches[find(j)] = 1;
    else if (!ai && aj) touches[find(i)] = 1;
  });
  for (let i = 0; i < n; i++) if (!absorbed[i] && !touches[find(i)]) return i;
  return -1;
}

/** Whether some cell of `set` has a positive face to a cell outside every absorbing set. */
export function setIsReachable(op: FvOperator, set: Uint8Array, absorbed: Uint8Array): boolean {
  let ok = false;
  forFaces(op, (i, j) => {
    if ((set[i] && !absorbed[j]) || (set[j] && !absorbed[i])) ok = true;
  });
  return ok;
}

function at(op: FvOperator, i: number): string {
  return `(${op.grid.centre(i).map((v) => +v.toPrecision(4)).join(', ')})`;
}

/**
 * Refuses a Dirichlet problem that has no unique solution: a region of free cells cut off from
 * every absorbing set, or a target that no free cell can reach. `option` names the set to blame.
 */
export function checkReachable(op: FvOperator, absorbed: Uint8Array, targets: readonly { option: string; label: string; mask: Uint8Array }[]): void {
  const blame = targets[targets.length - 1]?.option ?? '--to';
  const cut = cutOffCell(op, absorbed);
  if (cut >= 0) {
    throw new InputError(`${blame}: the cells around ${at(op, cut)} cannot reach ${targets.map((t) => `'${t.label}'`).join(' or ')}: faces with zero diffusion (D = 0 where f vanishes on a face, or π underflowing) cut them off, so the hitting problem has no solution there; pick sets on the same side of the cut`);
  }
  for (const t of targets) {
    if (!setIsReachable(op, t.mask, absorbed)) {
      throw new InputError(`${t.option}: '${t.label}' cannot be reached: no face into it has positive diffusion from outside the sets (it is enclosed by other sets or by zero-diffusion faces)`);
    }
  }
}
