/**
 * sweep.json: what a sweep directory holds, so that a rerun and `sweep merge` can refuse to mix
 * results of different sweeps (another base scenario, other points, another fpsolve version).
 */
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { canonicalJson, sha256 } from './key.js';
import type { Shard } from './shard.js';
import type { SweepPoint } from './points.js';

export const MANIFEST_FILE = 'sweep.json';
export const RESULTS_FILE = 'results.jsonl';

export interface SweepManifest {
  fpsolve: string;
  scenarioFile: string;
  scenarioName: string;
  /** sha256 of the base scenario (canonical JSON after validation, or its text if it does not validate alone). */
  baseScenarioHash: string;
  /** sha256 of the ordered list of point parameters. */
  pointsHash: string;
  points: number;
  parameters: string[];
  zip: boolean;
  runArgs: string[];
  /** null: all points (an unsharded run or a merge). */
  shard: Shard | null;
  mergedFrom?: string[];
}

export function pointsHash(points: readonly SweepPoint[]): string {
  return sha256(canonicalJson(points.map((p) => p.params)));
}

/** Fields that must agree for results to belong to the same sweep. */
const IDENTITY: readonly (keyof SweepManifest)[] = ['fpsolve', 'baseScenarioHash', 'pointsHash', 'points', 'runArgs'];

/** The first identity field on which two manifests differ, or undefined. */
export function manifestMismatch(a: SweepManifest, b: SweepManifest): keyof SweepManifest | undefined {
  return IDENTITY.find((f) => canonicalJson(a[f]) !== canonicalJson(b[f]));
}

/**
 * A sweep's own files (sweep.json, results.jsonl, the lock) are regular files that fpsolve wrote.
 * Anything else under those names — a FIFO (opening it blocks forever), a link to /dev/zero or
 * /dev/full, a directory — is refused before it is opened.
 */
export function assertOwnFile(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // absent (or unreadable: the read itself reports that)
  }
  if (st.isFile()) return;
  const kind = st.isSymbolicLink() ? 'a symbolic link' : st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : st.isSocket() ? 'a socket' : 'a device';
  throw new InputError(`is ${kind}, not a regular file: fpsolve keeps a sweep's files as regular files it wrote itself; remove it`, { file: path });
}

export function readManifest(dir: string): SweepManifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  assertOwnFile(path);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`cannot read the sweep manifest: ${(e as Error).message.split('\n')[0] ?? ''}`, { file: path });
  }
  const m = parsed as Partial<SweepManifest>;
  if (typeof m !== 'object' || m === null || typeof m.pointsHash !== 'string' || typeof m.baseScenarioHash !== 'string' || typeof m.fpsolve !== 'string') {
    throw new InputError('not a sweep manifest (missing fpsolve, baseScenarioHash or pointsHash)', { file: path });
  }
  return { runArgs: [], parameters: [], zip: false, shard: null, ...m } as SweepManifest;
}

export function writeManifest(dir: string, m: SweepManifest): void {
  writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(m, null, 2) + '\n');
}

const shardText = (s: Shard | null): string => (s ? `${s.k}/${s.n}` : 'all points');

/**
 * Checks that `dir` is empty of sweeps or holds this very sweep (same identity and shard), and
 * records the manifest. Refusing beats silently mixing two sweeps' lines in one results.jsonl.
 */
export function claimDirectory(dir: string, m: SweepManifest): void {
  const old = readManifest(dir);
  if (old !== undefined) {
    const diff = manifestMismatch(old, m);
    if (diff !== undefined) {
      throw new InputError(`holds a different sweep (its ${diff} differs); use another --out directory, or delete this one to start over`, { file: dir });
    }
    if (canonicalJson(old.shard) !== canonicalJson(m.shard)) {
      throw new InputError(`holds shard ${shardText(old.shard)} of this sweep, not ${shardText(m.shard)}; give each shard its own --out directory`, { file: dir });
    }
    return;
  }
  writeManifest(dir, m);
}
