/**
 * Up-front checks of the output locations a user names (--out, --junit): an unusable location is
 * bad input (exit 2) found before the solve starts, so nobody waits an hour to learn that /sys is
 * not writable. What can only fail during the write (disk full) is an OutputError (exit 74).
 *
 * The checks never create anything: a run refused later as bad input leaves no empty directory.
 */
import { accessSync, constants as fsConstants, lstatSync, readlinkSync, statSync, statfsSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { errnoReason, InputError } from '../errors.js';

/**
 * statfs(2) magic numbers of kernel pseudo-filesystems. Files there are not storage: writes to
 * /proc and /sys either fail with odd errors or block, and mkdir -p under /proc can hang.
 */
const PSEUDO_FS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x62656570, 'configfs'],
  [0xcafe4a11, 'bpf'],
  [0x1cd1, 'devpts'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0x42494e4d, 'binfmt_misc'],
]);

/** Paths that are pseudo-filesystems on Linux even where statfs is unavailable (or lies, as in some sandboxes). */
const PSEUDO_PREFIXES = ['/proc', '/sys'];

type Kind = 'directory' | 'file';

function refuse(flag: string, path: string, why: string): never {
  throw new InputError(`${flag} ${JSON.stringify(path)}: ${why}`);
}

/** lstat, or undefined when nothing is there; other errors (EACCES on a parent, ELOOP, ENOTDIR) are refusals. */
function lstatOrNone(flag: string, path: string, shown: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    return refuse(flag, shown, errnoReason(e));
  }
}

function pseudoFs(flag: string, shown: string, existing: string): void {
  const abs = resolve(existing);
  for (const p of PSEUDO_PREFIXES) {
    if (abs === p || abs.startsWith(`${p}/`)) refuse(flag, shown, `${p} is a kernel pseudo-filesystem, not storage; choose a directory on a disk`);
  }
  let type: number | undefined;
  try {
    type = statfsSync(existing).type;
  } catch {
    // statfs is missing on some platforms; the write itself will report what is wrong.
  }
  const name = type !== undefined ? PSEUDO_FS.get(type) : undefined;
  if (name !== undefined) refuse(flag, shown, `${abs} is on a ${name} pseudo-filesystem, not storage; choose a directory on a disk`);
}

function writable(flag: string, shown: string, dir: string, what: string): void {
  try {
    // W_OK|X_OK: create entries in it. access(2) answers EROFS on a read-only mount, even for root.
    accessSync(dir, fsConstants.W_OK | fsConstants.X_OK);
  } catch (e) {
    refuse(flag, shown, `${what} ${dir} is not writable: ${errnoReason(e)}`);
  }
}

/**
 * Checks that `path` can be used as an output of the given kind, without creating anything:
 * - a directory output (`run --out`, `sweep --out`) is an existing writable directory, or does not
 *   exist yet and its nearest existing ancestor is a writable directory;
 * - a file output (`check --junit`) is an existing regular file, or does not exist yet and its
 *   nearest existing ancestor is a writable directory;
 * - neither is on a kernel pseudo-filesystem (/proc, /sys), a device, a dangling symbolic link or
 *   a symbolic-link loop.
 * @throws InputError (exit 2) naming the option, the path and the reason.
 */
export function checkOutputLocation(flag: string, path: string, kind: Kind): void {
  if (path.trim() === '') refuse(flag, path, 'is empty; give a path');
  if (path.includes('\0')) refuse(flag, path.replace(/\0/g, '\\0'), 'contains a NUL character');
  const shown = path;
  const target = resolve(path);
  const st = lstatOrNone(flag, target, shown);
  if (st?.isSymbolicLink()) {
    let real: Stats | undefined;
    try {
      real = statSync(target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        let to = '?';
        try {
          to = readlinkSync(target);
        } catch {
          // Only the message loses detail.
        }
        refuse(flag, shown, `is a dangling symbolic link (to ${JSON.stringify(to)}, which does not exist)`);
      }
      refuse(flag, shown, code === 'ELOOP' ? 'is a symbolic-link loop' : errnoReason(e));
    }
    return checkExisting(flag, shown, target, real, kind);
  }
  if (st !== undefined) return checkExisting(flag, shown, target, st, kind);
  // Not there yet: the nearest existing ancestor decides whether it can be created.
  let anc = dirname(target);
  for (;;) {
    const a = lstatOrNone(flag, anc, shown);
    if (a !== undefined) {
      let s: Stats = a;
      if (a.isSymbolicLink()) {
        try {
          s = statSync(anc);
        } catch (e) {
          refuse(flag, shown, `its parent ${anc} is ${(e as NodeJS.ErrnoException).code === 'ELOOP' ? 'a symbolic-link loop' : 'a dangling symbolic link'}`);
        }
      }
      if (!s.isDirectory()) refuse(flag, shown, `${anc} is not a directory, so nothing can be created under it`);
      pseudoFs(flag, shown, anc);
      writable(flag, shown, anc, 'its parent directory');
      return;
    }
    const up = dirname(anc);
    if (up === anc) refuse(flag, shown, 'no existing parent directory');
    anc = up;
  }
}

function checkExisting(flag: string, shown: string, target: string, st: Stats, kind: Kind): void {
  pseudoFs(flag, shown, target);
  if (kind === 'directory') {
    if (!st.isDirectory()) refuse(flag, shown, `exists and is not a directory (${describe(st)}); give a directory`);
    writable(flag, shown, target, 'the directory');
  } else {
    if (st.isDirectory()) refuse(flag, shown, 'is a directory; give a file name');
    if (!st.isFile()) refuse(flag, shown, `is not a regular file (${describe(st)})`);
    writable(flag, shown, dirname(target), 'its directory');
  }
}

function describe(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}
