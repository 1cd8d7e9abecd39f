#!/usr/bin/env node
// Checks that a sharded-and-merged sweep holds the same numbers, point by point, as a sweep of the
// same points run on one machine (docs/sweep.md, "Clusters"), as .ci/cluster-check.sh needs.
//
//   node .ci/compare-sweeps.mjs REFERENCE_DIR MERGED_DIR
//
// Both directories must hold the same sweep (sweep.json: points, point list, base scenario) and one
// `ok` record for every point. Every field of each record must be equal, numbers exactly (a point's
// result does not depend on which process, shard or machine ran it: docs/reliability.md,
// "Reproducibility"); only wallSeconds, a timing, is left out. Exit 0 when equal, 1 with the
// differences listed when not, 2 when a directory cannot be read.
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Fields that legitimately differ between two runs of the same point. */
const TIMINGS = new Set(['wallSeconds']);
/** Manifest fields that identify the sweep (shard and file paths differ between the two). */
const SAME_SWEEP = ['fpsolve', 'baseScenarioHash', 'pointsHash', 'points', 'parameters', 'zip', 'runArgs'];

class Unreadable extends Error {}

function readJson(file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Unreadable(`${file}: ${e.code ?? e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Unreadable(`${file}: not JSON (${e.message})`);
  }
}

/** index -> record; every line must parse, and no index may appear twice. */
export function readResults(dir) {
  const file = join(dir, 'results.jsonl');
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Unreadable(`${file}: ${e.code ?? e.message}`);
  }
  const byIndex = new Map();
  const problems = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch {
      problems.push(`${file}:${i + 1}: not JSON`);
      return;
    }
    if (!Number.isInteger(rec?.index)) {
      problems.push(`${file}:${i + 1}: no point index`);
      return;
    }
    if (byIndex.has(rec.index)) problems.push(`${file}:${i + 1}: point ${rec.index} appears twice`);
    byIndex.set(rec.index, rec);
  });
  return { byIndex, problems };
}

/** Paths (a.b.c) where two JSON values differ; numbers compared exactly (Object.is, so -0 ≠ 0). */
export function differences(a, b, path = '', out = []) {
  if (typeof a === 'number' && typeof b === 'number') {
    if (!Object.is(a, b)) out.push({ path, a, b });
  } else if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    if (a !== b) out.push({ path, a, b });
  } else if (Array.isArray(a) !== Array.isArray(b)) {
    out.push({ path, a, b });
  } else {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (path === '' && TIMINGS.has(k)) continue;
      const sub = path === '' ? k : `${path}.${k}`;
      if (!(k in a) || !(k in b)) out.push({ path: sub, a: a[k], b: b[k] });
      else differences(a[k], b[k], sub, out);
    }
  }
  return out;
}

/** The list of problems (empty when the two sweeps hold the same results). */
export function compareSweeps(refDir, mergedDir) {
  const problems = [];
  const refManifest = readJson(join(refDir, 'sweep.json'));
  const manifest = readJson(join(mergedDir, 'sweep.json'));
  for (const k of SAME_SWEEP) {
    if (differences(refManifest[k], manifest[k]).length > 0) {
      problems.push(
        `sweep.json ${k} differs: ${JSON.stringify(refManifest[k])} (${refDir}) vs ${JSON.stringify(manifest[k])} (${mergedDir})`,
      );
    }
  }
  const points = refManifest.points;
  if (!Number.isInteger(points) || points < 1) problems.push(`${refDir}/sweep.json: no point count`);
  const ref = readResults(refDir);
  const got = readResults(mergedDir);
  problems.push(...ref.problems, ...got.problems);
  const label = (rec) =>
    Object.entries(rec.params ?? {})
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(', ');
  for (let i = 0; i < (Number.isInteger(points) ? points : 0); i++) {
    const r = ref.byIndex.get(i);
    const g = got.byIndex.get(i);
    if (!r) problems.push(`point ${i}: no result in ${refDir}`);
    if (!g) problems.push(`point ${i}: no result in ${mergedDir}`);
    if (!r || !g) continue;
    for (const [dir, rec] of [[refDir, r], [mergedDir, g]]) {
      if (rec.status !== 'ok') problems.push(`point ${i} (${label(rec)}): ${rec.status} in ${dir}: ${rec.error}`);
    }
    for (const d of differences(r, g)) {
      problems.push(`point ${i} (${label(r)}): ${d.path} = ${JSON.stringify(d.a)} vs ${JSON.stringify(d.b)}`);
    }
  }
  for (const [dir, res] of [[refDir, ref], [mergedDir, got]]) {
    for (const i of res.byIndex.keys()) {
      if (!(i >= 0 && i < points)) problems.push(`point ${i} in ${dir} is not one of the sweep's ${points} points`);
    }
  }
  return problems;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) {
  const [refDir, mergedDir] = process.argv.slice(2);
  if (!refDir || !mergedDir) {
    process.stderr.write('usage: node .ci/compare-sweeps.mjs REFERENCE_DIR MERGED_DIR\n');
    process.exit(2);
  }
  try {
    const problems = compareSweeps(refDir, mergedDir);
    if (problems.length > 0) {
      process.stderr.write(`${mergedDir} differs from ${refDir}:\n`);
      for (const p of problems.slice(0, 20)) process.stderr.write(`  ${p}\n`);
      if (problems.length > 20) process.stderr.write(`  ... and ${problems.length - 20} more\n`);
      process.exit(1);
    }
    const n = readJson(join(refDir, 'sweep.json')).points;
    process.stdout.write(`${mergedDir}: all ${n} points equal to ${refDir} (every field but wallSeconds)\n`);
  } catch (e) {
    if (!(e instanceof Unreadable)) throw e;
    process.stderr.write(`compare-sweeps: ${e.message}\n`);
    process.exit(2);
  }
}
