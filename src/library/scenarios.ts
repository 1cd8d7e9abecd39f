/**
 * The scenarios shipped with the package (scenarios/*.yaml), found from the installed package
 * rather than the working directory: a script in a project that installed fpsolve has no
 * scenarios/ folder of its own.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { packageRoot } from '../paths.js';

const EXT = '.yaml';

function scenariosDir(): string {
  return join(packageRoot(), 'scenarios');
}

/** Names of the bundled scenarios (file stems, e.g. `pearson-1d`), sorted. */
export function bundledScenarios(): string[] {
  return readdirSync(scenariosDir())
    .filter((n) => n.endsWith(EXT))
    .map((n) => n.slice(0, -EXT.length))
    .sort();
}

/**
 * Absolute path of a bundled scenario, for `loadScenario(bundledScenario('pearson-1d'), overrides)`.
 * @throws InputError naming the allowed names when `name` is not one of {@link bundledScenarios}.
 */
export function bundledScenario(name: string): string {
  // A name, not a path: 'x/../../etc' must not reach outside scenarios/.
  const file = join(scenariosDir(), `${name}${EXT}`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || !existsSync(file)) {
    // JSON.stringify: a name with control characters stays one printable line.
    throw new InputError(`bundledScenario: unknown scenario ${JSON.stringify(String(name).slice(0, 80))}; bundled: ${bundledScenarios().join(', ')}`);
  }
  return file;
}
