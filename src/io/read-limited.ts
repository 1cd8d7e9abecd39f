/**
 * Reading an input file that someone else may have written. A path can name a FIFO (opening it
 * blocks until a writer appears), a device such as /dev/zero (never ends), a /proc file (stat says
 * size 0, reading yields data) or a 20 GB file; each would hang or exhaust the heap. So: the path
 * must be a regular file, it is opened without blocking, and at most `maxBytes` are read, whatever
 * its stated size.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

export interface LimitedReadOptions {
  /** Most bytes accepted; a larger file is refused (exit 2). */
  maxBytes: number;
  /** What the file is, for messages ("scenario file", "baselines file", ".npy file"). */
  what: string;
  /** File and field named in messages (defaults: the path itself, no field). */
  file?: string;
  field?: string;
}

function sizeText(bytes: number): string {
  return bytes >= MiB ? `${+(bytes / MiB).toPrecision(3)} MiB` : bytes >= KiB ? `${+(bytes / KiB).toPrecision(3)} KiB` : `${bytes} bytes`;
}

function refuse(opts: LimitedReadOptions, path: string, why: string): never {
  throw new InputError(`cannot read the ${opts.what}: ${why}`, { file: opts.file ?? path, field: opts.field });
}

function errnoWhy(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'too many levels of symbolic links';
  if (code === 'ENAMETOOLONG') return 'the path is too long';
  if (code === 'ENOTDIR') return 'a component of the path is not a directory';
  return code ?? (err instanceof Error ? err.message.split('\n')[0]! : String(err));
}

/** Why a stat result is not a regular file, or undefined when it is one. */
function notRegular(st: { isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'is a directory, not a file';
  if (st.isFIFO()) return 'is a FIFO (named pipe), not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'is a device, not a regular file';
  if (st.isSocket()) return 'is a socket, not a regular file';
  return 'is not a regular file';
}

/** Reads a regular file of at most `maxBytes` bytes. @throws InputError naming the file otherwise. */
export function readLimited(path: string, opts: LimitedReadOptions): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    return refuse(opts, path, errnoWhy(err));
  }
  const bad = notRegular(st);
  if (bad) refuse(opts, path, bad);
  if (st.size > opts.maxBytes) refuse(opts, path, `it is ${st.size} bytes, more than the ${sizeText(opts.maxBytes)} (${opts.maxBytes} bytes) allowed for a ${opts.what}`);
  let fd: number;
  try {
    // O_NONBLOCK: if the path was swapped for a FIFO after the stat, open still returns at once.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    return refuse(opts, path, errnoWhy(err));
  }
  try {
    const bad2 = notRegular(fstatSync(fd));
    if (bad2) refuse(opts, path, bad2);
    // Read up to one byte past the cap: /proc files state size 0, and files can grow under us.
    // One buffer of the stated size (+1 to see the end), grown only when the file is longer than stated.
    let buf = Buffer.allocUnsafe(Math.min(opts.maxBytes + 1, Math.max(st.size + 1, 64 * KiB)));
    let total = 0;
    for (;;) {
      if (total === buf.length) {
        const bigger = Buffer.allocUnsafe(Math.min(opts.maxBytes + 1, 2 * buf.length));
        buf.copy(bigger, 0, 0, total);
        buf = bigger;
      }
      let n: number;
      try {
        n = readSync(fd, buf, total, buf.length - total, null);
      } catch (err) {
        return refuse(opts, path, errnoWhy(err));
      }
      if (n === 0) break;
      total += n;
      if (total > opts.maxBytes) refuse(opts, path, `it is more than the ${sizeText(opts.maxBytes)} allowed for a ${opts.what}`);
    }
    return buf.subarray(0, total);
  } finally {
    closeSync(fd);
  }
}

/** readLimited as UTF-8 text. */
export function readLimitedText(path: string, opts: LimitedReadOptions): string {
  return readLimited(path, opts).toString('utf8');
}
