/**
 * RunOptions as the library receives them from JavaScript (docs/library.md): the CLI parses its
 * flags into valid values, a script may pass anything. A NaN stop time, an unknown backend or a
 * tracker interval of 0 used to be accepted silently (stopAfter NaN stopped at the first report
 * time; a bogus backend ran on the CPU), so they are refused up front as InputError (exit 2).
 */
import { InputError } from '../errors.js';
import { BACKEND_CHOICES } from '../../solvers/backend/select.js';
import type { RunOptions } from './types.js';

const positive = (v: unknown): boolean => typeof v === 'number' && v > 0 && Number.isFinite(v);

/** @throws InputError naming the option (as `field`) and what it allows. */
export function checkRunOptions(opts: RunOptions): void {
  const bad = (field: string, allowed: string, got: unknown): never => {
    throw new InputError(`run option ${field} must be ${allowed} (got ${typeof got === 'number' ? String(got) : typeof got})`, { file: '<RunOptions>', field });
  };
  if (opts.stopAfter !== undefined && !positive(opts.stopAfter)) bad('stopAfter', 'a positive finite simulated time', opts.stopAfter);
  // Infinity is no limit, as the CLI's --max-wall Infinity.
  if (opts.maxWallSeconds !== undefined && !(typeof opts.maxWallSeconds === 'number' && opts.maxWallSeconds > 0)) bad('maxWallSeconds', 'a positive number of seconds', opts.maxWallSeconds);
  if (opts.backend !== undefined && !BACKEND_CHOICES.includes(opts.backend)) bad('backend', `one of ${BACKEND_CHOICES.join(', ')}`, opts.backend);
  if (opts.snapshots !== undefined) {
    if (!Array.isArray(opts.snapshots)) bad('snapshots', 'a list of times >= 0', opts.snapshots);
    opts.snapshots.forEach((t, k) => {
      if (!(typeof t === 'number' && t >= 0 && Number.isFinite(t))) bad(`snapshots.${k}`, 'a finite time >= 0', t);
    });
  }
  if (opts.trackers !== undefined) {
    if (!Array.isArray(opts.trackers)) bad('trackers', 'a list of trackers', opts.trackers);
    opts.trackers.forEach((tr, k) => {
      if (!tr || typeof tr !== 'object') bad(`trackers.${k}`, 'a tracker object', tr);
      if (tr.interval !== undefined && !positive(tr.interval)) bad(`trackers.${k}.interval`, 'a positive finite simulated time', tr.interval);
      if (tr.work !== undefined && !positive(tr.work)) bad(`trackers.${k}.work`, 'a positive finite number of cell updates', tr.work);
    });
  }
}
