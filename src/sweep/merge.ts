/**
 * `sweep merge`: joins shard directories of one sweep into one directory. Shards' records are
 * self-contained lines, so merging is concatenation plus one record per key; the manifests
 * decide whether the directories belong to the same sweep.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { manifestMismatch, readManifest, writeManifest, RESULTS_FILE, type SweepManifest } from './manifest.js';
import { dedupeRecords, recordLine, type SweepRecord } from './record.js';
import { readRecords, writeSweepOutputs } from './runner.js';

export interface MergeOutcome {
  manifest: SweepManifest;
  records: SweepRecord[];
  /** Points of the sweep with no record in any directory. */
  missing: number;
  written: string[];
}

export async function mergeSweeps(dirs: readonly string[], out: string, opts: { plots?: boolean } = {}): Promise<MergeOutcome> {
  if (dirs.length === 0) throw new InputError('sweep merge: give at least one sweep directory');
  const inputs = dirs.map((d) => {
    const m = readManifest(d);
    if (m === undefined) {
      throw new InputError(`not a sweep directory (no sweep.json${existsSync(d) ? '' : '; the directory does not exist'})`, { file: d });
    }
    return { dir: d, manifest: m };
  });
  const first = inputs[0]!;
  for (const { dir, manifest } of inputs.slice(1)) {
    const diff = manifestMismatch(first.manifest, manifest);
    if (diff !== undefined) {
      throw new InputError(`is not a shard of the same sweep as ${first.dir} (their ${diff} differs: ${JSON.stringify(first.manifest[diff])} vs ${JSON.stringify(manifest[diff])})`, { file: dir });
    }
  }
  // Merging into a directory of the same sweep keeps its records, so merge can be rerun as shards arrive.
  const existing = readManifest(out);
  const sources = inputs.map((i) => resolve(i.dir));
  if (existing !== undefined) {
    const diff = manifestMismatch(first.manifest, existing);
    if (diff !== undefined) throw new InputError(`holds a different sweep (its ${diff} differs); merge into another --out directory`, { file: out });
  }
  const all: SweepRecord[] = [];
  const readDirs = new Set<string>();
  for (const d of [...(existing !== undefined ? [out] : []), ...dirs]) {
    if (readDirs.has(resolve(d))) continue;
    readDirs.add(resolve(d));
    all.push(...readRecords(d));
  }
  const records = dedupeRecords(all);
  const manifest: SweepManifest = { ...first.manifest, shard: null, mergedFrom: [...new Set([...(existing?.mergedFrom ?? []), ...sources])] };
  mkdirSync(out, { recursive: true });
  writeFileAtomic(join(out, RESULTS_FILE), records.map((r) => recordLine(r) + '\n').join(''));
  writeManifest(out, manifest);
  const indices = new Set(records.map((r) => r.index));
  const written = [join(out, RESULTS_FILE), ...(await writeSweepOutputs(out, records, manifest.parameters, opts.plots ?? true))];
  return { manifest, records, missing: manifest.points - indices.size, written };
}
