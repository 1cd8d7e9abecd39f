/**
 * Where the installed package lives. Code runs from src/ (vitest, tsx) and from dist/src/ (after
 * tsc), so a fixed relative URL would be right in one layout and wrong in the other; walking up to
 * our own package.json works in both and in an npm install.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'fpsolve';

let cachedRoot: string | undefined;
let cachedVersion: string | undefined;

function readPackageJson(dir: string): { name?: unknown; version?: unknown } | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as { name?: unknown; version?: unknown }) : undefined;
  } catch {
    // A broken package.json on the way up (e.g. a fixture) is not ours; keep walking.
    return undefined;
  }
}

/** Absolute path of the directory holding fpsolve's package.json. */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (readPackageJson(dir)?.name === PACKAGE_NAME) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${fileURLToPath(import.meta.url)}`);
}

/** The `version` field of fpsolve's package.json. */
export function packageVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  const version = readPackageJson(packageRoot())?.version;
  cachedVersion = typeof version === 'string' ? version : '0.0.0';
  return cachedVersion;
}
