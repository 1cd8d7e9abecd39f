/**
 * One writer per sweep directory. Two `fpsolve sweep` processes with the same --out would each
 * see the same points as not done and run all of them (every point twice in results.jsonl); a
 * merge into a directory a sweep is appending to would drop the sweep's newer lines. The lock is
 * a file holding the owner's pid and host, created atomically (link(2) of a complete temp file,
 * which fails if the name exists), so it is never seen half-written.
 *
 * A lock whose owner is a dead process on this host is stale (kill -9, a node killed by the OOM
 * killer) and is taken over. A lock from another host cannot be checked and is refused with the
 * file to delete.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { asOutputError, InputError } from '../errors.js';

export const LOCK_FILE = '.fpsolve-sweep.lock';

export interface LockOwner {
  pid: number;
  host: string;
  /** What holds it: `sweep` or `sweep merge`. */
  command: string;
  started: string;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid === 'number' && typeof v.host === 'string') return { command: 'fpsolve', started: '?', ...v } as LockOwner;
  } catch {
    // Not ours, or damaged: treated as held by an unknown owner.
  }
  return undefined;
}

/** Whether `pid` is a live process on this host (EPERM: alive, owned by another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(`cannot read the lock file: ${(e as Error).message}`, { file: path });
  }
}

/**
 * Moves a stale lock out of the way. Two processes may find the same stale lock at once: the
 * rename lets only one of them move it, and one that moved a lock it had not judged stale (the
 * other process's fresh lock) puts it back.
 */
function removeStale(path: string, staleText: string): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw asOutputError(e, path);
  }
  const moved = readLock(aside);
  if (moved !== staleText) {
    try {
      linkSync(aside, path);
    } catch {
      // A third process holds it now; the lock it made is the one that counts.
    }
  }
  unlinkSync(aside);
}

function createExclusive(path: string, text: string): boolean {
  try {
    writeFileSync(path, text, { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw asOutputError(e, path);
  }
}

/**
 * Takes the lock of `dir` (which must exist) for `command`, or throws an InputError (exit 2)
 * naming the lock file and its owner. Returns the release function; the lock is also released
 * when the process exits normally or through process.exit.
 */
export function lockDirectory(dir: string, command: string): () => void {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), command, started: new Date().toISOString() };
  const mine = JSON.stringify(me) + '\n';
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, mine, { flag: 'wx' });
  } catch (e) {
    throw asOutputError(e, tmp);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
          // No hard links here (some FUSE and SMB mounts): O_EXCL create, which a crash can leave empty (then refused as unreadable).
          if (createExclusive(path, mine)) break;
        } else if (code !== 'EEXIST') throw asOutputError(e, path);
      }
      const text = readLock(path);
      if (text === undefined) continue; // released between our link and our read
      const owner = parseOwner(text);
      const stale = owner !== undefined && owner.host === me.host && !pidAlive(owner.pid);
      if (!stale || attempt >= 5) {
        const who = owner ? `${owner.command} pid ${owner.pid} on ${owner.host}, since ${owner.started}` : 'an unknown owner (unreadable lock)';
        throw new InputError(
          `is in use by ${who}; wait for it to finish, or, if that process is gone, delete the lock file ${path}`,
          { file: dir },
        );
      }
      removeStale(path, text);
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone.
    }
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    // Only our own lock: never delete one that a takeover (after we were thought dead) made.
    if (readLock(path) === mine) {
      try {
        unlinkSync(path);
      } catch {
        // Gone already.
      }
    }
  };
  process.on('exit', release);
  return release;
}
