/**
 * A sweep's results.jsonl, appended record by record with group commit. Each record is one
 * O_APPEND write the moment its point finishes (src/io/atomic.ts appendLine), so `kill -9` of the
 * sweep loses no finished point; the fsync that puts it on disk comes at most once per `syncEvery`
 * seconds and when the log is closed. An fsync per record cost 2.3–2.7 ms of wall on ext4, about a
 * seventh of a 1-D point (bench/results-sweep.md, "sweep8 notes"; test/bench/sweep-fsync.ts); what
 * a power cut can lose instead is the last second of records, which the rerun runs again (their
 * keys are not in the file).
 */
import { appendLine, syncFile } from '../io/atomic.js';

export interface RecordLogOptions {
  /** Seconds between fsyncs (default 1). 0 syncs every record, as appendLine does on its own. */
  syncEvery?: number;
  /** Seconds since some fixed origin; injectable so that tests can count syncs without timing. */
  now?: () => number;
}

export class RecordLog {
  private readonly syncEvery: number;
  private readonly now: () => number;
  private lastSync: number;
  private unsynced = 0;
  /** fsyncs issued (a deterministic count for tests and benchmarks). */
  syncs = 0;

  constructor(
    readonly path: string,
    opts: RecordLogOptions = {},
  ) {
    this.syncEvery = opts.syncEvery ?? 1;
    this.now = opts.now ?? ((): number => performance.now() / 1000);
    this.lastSync = this.now();
  }

  append(line: string): void {
    appendLine(this.path, line, { sync: false });
    this.unsynced++;
    if (this.now() - this.lastSync >= this.syncEvery) this.sync();
  }

  /** Puts every appended record on disk (nothing to do when all are). */
  sync(): void {
    if (this.unsynced === 0) return;
    syncFile(this.path);
    this.syncs++;
    this.unsynced = 0;
    this.lastSync = this.now();
  }
}
