/**
 * Confinement of the files a scenario names (initial.file, landscape.data.file) to a directory.
 *
 * `fpsolve check` reads baselines files that may come from a pull request; their scenarios (and
 * `set:` overrides) must not make it open /proc/self/environ or ~/.ssh. The baselines loader
 * confines the scenario path itself; the scenario's own file references are resolved deep inside
 * the scenario loader, so the root travels as ambient state for the duration of one load instead
 * of through every signature in between. `fpsolve run` never sets it: the user's own command is trusted.
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';

let activeRoot: string | undefined;

/** Runs `fn` with every scenario-named file required to lie inside `root` (undefined: no restriction). */
export function withConfinement<T>(root: string | undefined, fn: () => T): T {
  const saved = activeRoot;
  activeRoot = root;
  try {
    return fn();
  } finally {
    activeRoot = saved;
  }
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Whether `path` (symbolic links resolved) lies inside `root`. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(realOrSelf(root), realOrSelf(path));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Throws unless `path` lies inside the active root. Call before anything is read from (or said
 * about) the file, so an outside file is neither opened nor described.
 */
export function assertConfined(path: string, where: { file?: string; field: string }): void {
  if (activeRoot === undefined || isInside(activeRoot, path)) return;
  // The path is text of the scenario or its overrides, not of the file, so it may be named.
  throw new InputError(
    `${path} resolves outside ${activeRoot}, the project holding the baselines file (symbolic links followed): keep data files inside it, or pass --allow-outside`,
    where,
  );
}
