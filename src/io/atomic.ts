/**
 * Crash-safe file writing.
 *
 * Two primitives:
 *  - {@link writeFileAtomic}: whole-file replacement. Readers see either the old file or the
 *    complete new one, never a prefix, even if the process is killed or the machine loses power.
 *  - {@link appendLine} / {@link readJsonLines}: an append-only JSON-lines log (progress, sweep
 *    results) that several processes may append to at once and that survives `kill -9`.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { asOutputError, InputError, OutputError } from '../errors.js';

/** Suffix of in-flight temporary files. A file with it that outlives its writer is debris of a killed process and may be deleted. */
export const TEMP_SUFFIX = '.tmp';

/**
 * Replaces `path` with `data` atomically: write a temp file in the same directory, fsync it,
 * rename it over the target, fsync the directory.
 *
 * The temp file must share the target's directory because rename(2) is only atomic within one
 * filesystem. Its name starts with a dot so that globs such as `*.npy` never pick up a half
 * written file. If anything fails the temp file is removed and the target is untouched; only
 * `kill -9` or a power cut can leave a `.<name>.<pid>-<random>.tmp` behind.
 *
 * Parent directories are created as needed. An operating-system error (disk full, I/O error)
 * is thrown as an OutputError (exit 74) naming `path`.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  try {
    writeFileAtomicRaw(path, data);
  } catch (e) {
    throw asOutputError(e, path);
  }
}

function writeFileAtomicRaw(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}-${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number | undefined;
  try {
    // 'wx' so that a name collision (practically impossible) fails rather than clobbering another writer's temp file.
    fd = openSync(tmp, 'wx');
    writeAll(fd, bytes);
    // Without this fsync, a crash shortly after the rename can leave a zero-length target on ext4/xfs.
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // The original error is the one worth reporting.
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone or never created.
    }
    throw err;
  }
  fsyncDir(dir);
}

/** Loops because write(2) may write less than asked (signals, quotas, pipes). */
function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.byteLength) {
    off += writeSync(fd, bytes, off, bytes.byteLength - off);
  }
}

/** Makes a rename durable. Best effort: some platforms (Windows) and filesystems refuse fsync on a directory. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Durability of the directory entry is a bonus; the rename itself has already happened atomically.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Appends `line` plus a newline to `path` (created, with parent directories, if missing).
 *
 * Guarantee (Linux and macOS, local filesystems): the line is written by a single write(2) on a
 * descriptor opened with O_APPEND, so
 *  - concurrent appenders, in this or other processes, never interleave bytes within a line:
 *    the kernel holds the inode lock for the whole write and positions it at end-of-file;
 *  - `kill -9` of the writer leaves either no trace of the line or all of it, for lines that fit
 *    in one page (about 4 KiB, the PIPE_BUF size). Longer lines are still written by one call,
 *    but the kernel may stop a multi-page write at a page boundary when a fatal signal arrives;
 *  - once this function returns, the line is on disk (fsync), unless `opts.sync` is false: then it
 *    is in the kernel's page cache (it survives `kill -9` of the writer, not a power cut) until the
 *    caller's {@link syncFile}; a sweep syncs its results about once a second (src/sweep/record-log.ts).
 * NFS and other network filesystems do not honour O_APPEND atomically; do not share a log there.
 *
 * If the file does not end with a newline (a previous writer died mid-line, which only the cases
 * excluded above can cause), a newline is written first so the new record is not glued onto the
 * fragment. The fragment then becomes an interior line that {@link readJsonLines} reports as
 * corrupt. The check reads the file without the kernel's write lock, so it can catch another
 * appender's line half-copied and add a needless newline; that costs a blank line (which
 * readJsonLines skips), never a damaged record, because the newline and our line are one write
 * that lands after the other appender's complete line.
 *
 * @throws RangeError if `line` contains a newline (it would be two records); OutputError (exit 74) on an operating-system error.
 */
export function appendLine(path: string, line: string, opts: { sync?: boolean } = {}): void {
  if (line.includes('\n')) {
    throw new RangeError('appendLine: line must not contain a newline character');
  }
  try {
    appendLineRaw(path, line, opts.sync !== false);
  } catch (e) {
    throw asOutputError(e, path);
  }
}

function appendLineRaw(path: string, line: string, sync: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  // O_RDWR rather than O_WRONLY so the torn-tail check can read the last byte through the same descriptor.
  const fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_APPEND | fsConstants.O_CREAT, 0o666);
  try {
    const prefix = endsWithoutNewline(fd) ? '\n' : '';
    const bytes = Buffer.from(`${prefix}${line}\n`, 'utf8');
    const n = writeSync(fd, bytes, 0, bytes.byteLength);
    if (n !== bytes.byteLength) {
      // Retrying would append the rest as a separate write that another appender could precede; better to fail loudly.
      throw new OutputError(path, `short write (${n} of ${bytes.byteLength} bytes); the log now ends in a torn line`);
    }
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Puts what {@link appendLine} wrote with `sync: false` on disk. @throws OutputError (exit 74). */
export function syncFile(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch (e) {
    throw asOutputError(e, path);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function endsWithoutNewline(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return false;
  const b = Buffer.alloc(1);
  // Positional read: O_APPEND only affects writes, and pread leaves the descriptor's offset alone.
  const n = readSync(fd, b, 0, 1, size - 1);
  return n === 1 && b[0] !== 0x0a;
}

/**
 * Cuts an unterminated last line (what `kill -9` mid-append leaves) off a JSON-lines file, so that
 * the next appendLine does not turn it into a corrupt interior line. Only for a file whose sole
 * appender is the caller (a locked sweep directory). Returns the number of bytes removed.
 */
export function truncateTornTail(path: string): number {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw asOutputError(e, path);
  }
  if (text.length === 0 || text[text.length - 1] === 0x0a) return 0;
  const keep = text.lastIndexOf(0x0a) + 1;
  try {
    truncateSync(path, keep);
  } catch (e) {
    throw asOutputError(e, path);
  }
  return text.length - keep;
}

export interface ReadJsonLinesOptions {
  /**
   * Skip interior lines that are not valid JSON instead of throwing. Such lines are what a
   * writer killed mid-line leaves behind once later records have been appended after it.
   */
  skipCorrupt?: boolean;
}

export interface JsonLines {
  /** Parsed records in file order; blank lines are skipped. */
  records: unknown[];
  /** The file did not end with a newline; the unterminated last line was ignored. */
  tornTail: boolean;
  /** 1-based numbers of interior lines skipped as invalid JSON (only with `skipCorrupt`). */
  corruptLines: number[];
}

/**
 * Reads a JSON-lines file written with {@link appendLine}.
 *
 * A last line without a terminating newline is treated as torn and ignored even if it happens
 * to parse: a torn `12345` record can read as a valid `123`, and every complete record written
 * by appendLine ends in a newline.
 *
 * @throws InputError if the file cannot be read, or an interior line is not valid JSON (unless `skipCorrupt`).
 */
export function readJsonLines(path: string, opts: ReadJsonLinesOptions = {}): JsonLines {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read JSON-lines file: ${(err as Error).message}`, { file: path });
  }
  const lines = text.split('\n');
  // split() leaves '' after a final newline; anything else there is an unterminated line.
  const tail = lines.pop() ?? '';
  const tornTail = tail.length > 0;
  const records: unknown[] = [];
  const corruptLines: number[] = [];
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line));
    } catch (err) {
      if (!opts.skipCorrupt) {
        throw new InputError(
          `line ${i + 1} is not valid JSON (${(err as Error).message}); ` +
            'it may be a record torn by a crash, in which case read with skipCorrupt',
          { file: path },
        );
      }
      corruptLines.push(i + 1);
    }
  });
  return { records, tornTail, corruptLines };
}
