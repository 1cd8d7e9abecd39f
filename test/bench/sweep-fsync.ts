/**
 * What results.jsonl's group commit saves (src/sweep/record-log.ts): the wall time of appending a
 * sweep's records with an fsync each (appendLine, as the sweep did before) against one write each
 * and a single fsync at the end (what RecordLog does when the records come faster than one a
 * second). Records of a 1-D point's size (~700 bytes); the log lives in the OS temp directory, so
 * run it where sweeps write (TMPDIR=… to move it). Rounds alternate the two ways.
 *
 *   npx tsc -p . && node dist/test/bench/sweep-fsync.js [--records 128] [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendLine, syncFile } from '../../src/io/atomic.js';

const argAt = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!(Number.isInteger(v) && v >= 1)) throw new Error(`--${name} must be an integer ≥ 1`);
  return v;
};
const RECORDS = argAt('records', 128);
const ROUNDS = argAt('rounds', 3);
const line = JSON.stringify({ pad: 'x'.repeat(680) });

for (let round = 1; round <= ROUNDS; round++) {
  for (const each of [true, false]) {
    const dir = mkdtempSync(join(tmpdir(), 'fps-fsync-bench-'));
    const path = join(dir, 'results.jsonl');
    try {
      const t0 = performance.now();
      for (let i = 0; i < RECORDS; i++) appendLine(path, line, { sync: each });
      if (!each) syncFile(path);
      const ms = performance.now() - t0;
      console.log(`round ${round}: ${each ? 'fsync per record' : 'one fsync at the end'}: ${ms.toFixed(1)} ms for ${RECORDS} records (${(ms / RECORDS).toFixed(2)} ms each)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
