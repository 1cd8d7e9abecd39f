import { InputError } from '../errors.js';
import type { ComponentVerdict } from '../diagnostics/regime.js';

/**
 * Mean exit times in the collapse regime (docs/escape.md "Collapsing zeros").
 *
 * Where the regime diagnostic judges a zero component 'not integrable', paths that come near it
 * converge to it and never reach anything else (oracles.md §2, §4): from every start that can
 * reach it, the time to reach a target that does not contain it is infinite and the exit rate 0.
 * The grid has no such trap (every cell leaks), so its solve returns a finite number that grows
 * without limit as h → 0; printing it would present an artefact of h as a time. A component that
 * lies inside the target is harmless: collapsing onto it is reaching the target.
 */
export interface GuardedZero {
  cells: readonly number[];
  verdict?: ComponentVerdict;
  /** The regime report's suggestion for an undecided component. */
  refinement?: string;
}

/**
 * Throws (exit 2, one line) when a collapsing zero lies outside the absorbing set; returns a note
 * for undecided components outside it (the time is finite or infinite depending on the verdict).
 */
export function collapseGuard(zeros: readonly GuardedZero[], target: Uint8Array, fromLabel: string, targetLabel: string): string | undefined {
  const outside = (z: GuardedZero): boolean => z.cells.some((c) => !target[c]);
  const names = (p: (z: GuardedZero) => boolean): string[] => zeros.flatMap((z, k) => (p(z) && outside(z) ? [`zero${k + 1}`] : []));
  const trapped = names((z) => z.verdict === 'not integrable');
  if (trapped.length > 0) {
    throw new InputError(
      `--from: the mean exit time from '${fromLabel}' to '${targetLabel}' is infinite (exit rate 0): the process collapses onto ${trapped.join(', ')} (regime verdict 'not integrable') and does not leave it (oracles.md §2, §4), so a grid gives a finite T that grows without limit as h → 0; give a --to that contains ${trapped.join(', ')}, or use 'fpsolve committor' for the probability of collapsing onto each zero`,
    );
  }
  const undecided = zeros.flatMap((z, k) => (z.verdict === 'undecided' && outside(z) ? [{ name: `zero${k + 1}`, refinement: z.refinement }] : []));
  if (undecided.length === 0) return undefined;
  return `undecided: ${undecided.map((u) => u.name).join(', ')} outside the target may be collapsing (then T = ∞ and λ = 0, and these numbers grow without limit as h → 0) or not; ${undecided.map((u) => u.refinement ?? 'the regime report says what would decide').join('; ')}`;
}
