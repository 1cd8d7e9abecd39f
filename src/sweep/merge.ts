/**
 * `sweep merge`: joins shard directories of one sweep into one directory. Shards' records are
 * self-contained lines, so merging is concatenation plus one record per key; the manifests
 * decide whether the directories belong to the same sweep.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { asOutputError, InputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { assertOwnFile, manifestMismatch, MANIFEST_FILE, readManifest, writeManifest, RESULTS_FILE, type SweepManifest } from './manifest.js';
import { dedupeRecords, isSweepRecord, recordLine, type SweepRecord } from './record.js';
import { writeSweepOutputs } from './runner.js';
import { LOCK_FILE, lockDirectory } from './lock.js';

export interface MergeOutcome {
  manifest: SweepManifest;
  records: SweepRecord[];
  /** Points of the sweep with no record in any directory. */
  missing: number;
  written: string[];
}

export interface MergeOptions {
  plots?: boolean;
  /** Skip lines that are not records (a warning each) instead of refusing the merge. */
  skipCorrupt?: boolean;
  /** Where warnings go (one line each, no prefix). */
  warn?: (message: string) => void;
}

/**
 * The records of one shard's results.jsonl, strictly: a line that is not a sweep record is an
 * InputError naming file and line (a warning with `skipCorrupt`), because a silently dropped line
 * is a point that looks done in the shard and missing in the merge. An unterminated last line is
 * what a shard killed mid-append (or still running) has; it is left out with a warning, and the
 * shard's own rerun cuts it off and runs its point again.
 */
export function readShardRecords(dir: string, opts: MergeOptions = {}): SweepRecord[] {
  const path = join(dir, RESULTS_FILE);
  assertOwnFile(path);
  if (!existsSync(path)) return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, { file: path });
  }
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  const records: SweepRecord[] = [];
  if (tail.length > 0) {
    opts.warn?.(`${path}: line ${lines.length + 1} is unterminated (the shard was killed while writing it, or is still running); left out, its point counts as missing`);
  }
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    let why: string | undefined;
    try {
      const v: unknown = JSON.parse(line);
      if (isSweepRecord(v)) records.push(v);
      else why = 'valid JSON but not a sweep record (needs key, index, params, status)';
    } catch (e) {
      why = `not valid JSON (${(e as Error).message.split('\n')[0]})`;
    }
    if (why === undefined) return;
    if (!opts.skipCorrupt) throw new InputError(`line ${i + 1} is ${why}; repair or delete the line, or merge with --skip-corrupt to leave it out`, { file: path });
    opts.warn?.(`${path}: line ${i + 1} skipped: ${why}`);
  });
  return records;
}

const shardText = (m: SweepManifest): string => (m.shard ? `shard ${m.shard.k}/${m.shard.n}` : 'all points (unsharded or merged)');

export async function mergeSweeps(dirs: readonly string[], out: string, opts: MergeOptions = {}): Promise<MergeOutcome> {
  if (dirs.length === 0) throw new InputError('sweep merge: give at least one sweep directory');
  const seen = new Map<string, string>();
  for (const d of dirs) {
    const r = resolve(d);
    const prev = seen.get(r);
    if (prev !== undefined) throw new InputError(`is given twice (also as ${JSON.stringify(prev)}); merge each shard once`, { file: d });
    seen.set(r, d);
  }
  // Merging into one of the inputs would rewrite that shard (its manifest and results) in place.
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const outReal = real(out);
  for (const d of dirs) if (real(d) === outReal) throw new InputError(`is also given as --out: merge into a new directory, not into one of the shards`, { file: d });
  for (const f of [MANIFEST_FILE, RESULTS_FILE, LOCK_FILE]) assertOwnFile(join(out, f));
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
  const byShard = new Map<string, string>();
  for (const { dir, manifest } of inputs) {
    if (manifest.shard === null) continue;
    const k = shardText(manifest);
    const prev = byShard.get(k);
    if (prev !== undefined) throw new InputError(`holds ${k}, and so does ${prev}: a shard copied or run twice; merge one of them`, { file: dir });
    byShard.set(k, dir);
  }
  const outAbs = resolve(out);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw asOutputError(e, out);
  }
  // A sweep appending to --out while we rewrite results.jsonl would lose its lines.
  const release = lockDirectory(out, 'sweep merge');
  try {
    // Merging into a directory of the same sweep keeps its records, so merge can be rerun as shards arrive.
    const existing = readManifest(out);
    const sources = inputs.map((i) => resolve(i.dir));
    if (existing !== undefined) {
      const diff = manifestMismatch(first.manifest, existing);
      if (diff !== undefined) throw new InputError(`holds a different sweep (its ${diff} differs); merge into another --out directory`, { file: out });
    }
    const all: SweepRecord[] = existing !== undefined && !sources.includes(outAbs) ? readShardRecords(out, opts) : [];
    // A point with results in two inputs means overlapping shards: which result is the sweep's is not ours to guess.
    const owner = new Map<string, string>();
    for (const { dir } of inputs) {
      const recs = readShardRecords(dir, opts);
      for (const r of recs) {
        const prev = owner.get(r.key);
        if (prev !== undefined && prev !== dir) {
          throw new InputError(`point ${r.index} (${Object.entries(r.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}) has results in both ${prev} and ${dir}; merge each shard once`, { file: dir });
        }
        owner.set(r.key, dir);
      }
      all.push(...recs);
    }
    // Every record must be one of this sweep's points: an index outside it, or two different points
    // under one index (a hand-edited or foreign line), would otherwise merge silently.
    const keyOfIndex = new Map<number, string>();
    for (const r of all) {
      const n = first.manifest.points;
      if (!(Number.isInteger(r.index) && r.index >= 0 && r.index < n)) {
        throw new InputError(`holds a record for point ${r.index}, outside this sweep's points 0..${n - 1}: not a record of this sweep`, { file: join(owner.get(r.key) ?? out, RESULTS_FILE) });
      }
      const k = keyOfIndex.get(r.index);
      if (k !== undefined && k !== r.key) {
        throw new InputError(`holds two different points under index ${r.index} (keys ${k.slice(0, 12)}… and ${r.key.slice(0, 12)}…): not records of one sweep`, { file: join(owner.get(r.key) ?? out, RESULTS_FILE) });
      }
      keyOfIndex.set(r.index, r.key);
    }
    const records = dedupeRecords(all);
    const manifest: SweepManifest = { ...first.manifest, shard: null, mergedFrom: [...new Set([...(existing?.mergedFrom ?? []), ...sources])] };
    writeFileAtomic(join(out, RESULTS_FILE), records.map((r) => recordLine(r) + '\n').join(''));
    writeManifest(out, manifest);
    const indices = new Set(records.map((r) => r.index));
    const written = [join(out, RESULTS_FILE), ...(await writeSweepOutputs(out, records, manifest.parameters, opts.plots ?? true))];
    return { manifest, records, missing: manifest.points - indices.size, written };
  } finally {
    release();
  }
}
