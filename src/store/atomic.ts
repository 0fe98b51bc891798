/**
 * Atomic writes and staging. Readers never see a half-written file or directory:
 * content is made under tmp/ (or beside the target) and renamed into place.
 * Staging entries are named `<pid>-<random>` so a later invocation can sweep the
 * leftovers of a process that died (kill -9 mid-pull leaves only tmp/ garbage).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import { native } from '../native.js';
import { lazyBuiltin } from '../lib/lazy.js';
import { randomHex } from '../lib/random.js';
import { dirs } from './layout.js';

const rand = (): string => randomHex(6);

/**
 * Where a file is written before its rename: inside the store, under tmp/ (so that a killed
 * process leaves nothing but tmp/ entries, which sweepStaging removes); elsewhere beside it.
 */
function tmpFor(file: string): string {
  const { root, tmp } = dirs();
  return file.startsWith(root + path.sep)
    ? path.join(tmp, `${process.pid}-file-${rand()}`)
    : `${file}.tmp-${process.pid}-${rand()}`;
}

/** Store files written this way are small (records, configs, manifests): written synchronously, as readJson reads. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  writeFileAtomicSync(file, data, mode);
}

export function writeFileAtomicSync(file: string, data: string | Buffer, mode = 0o600): void {
  const tmp = tmpFor(file);
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Store records are small files in the page cache: they are read synchronously (one read costs
 * microseconds; a thread-pool round trip per open/stat/read/close costs more, and much more on a
 * busy machine). Async for the callers, so the store may change that.
 */
export async function readJson<T>(file: string): Promise<T | undefined> {
  return readJsonSync<T>(file);
}

export function readJsonSync<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** A fresh staging directory (or file path when `file` is set) under tmp/. */
export async function stagingPath(kind: string): Promise<string> {
  return path.join(dirs().tmp, `${process.pid}-${kind}-${rand()}`);
}

export async function makeStagingDir(kind: string): Promise<string> {
  const p = await stagingPath(kind);
  fs.mkdirSync(p, { mode: 0o700 }); // metadata calls are synchronous: a thread-pool round trip waits behind a pull's decompression
  return p;
}

/**
 * rm -rf of a store path, for any tree a layer or a container can leave: native (addon/common/rmtree.c),
 * so no depth or path length stops it (fs.rm builds full paths: ENAMETOOLONG past PATH_MAX), no
 * symlink is followed, unwritable directories are made writable and immutable attributes cleared
 * where permitted. A missing path is fine. Fails with one line naming what could not be removed.
 */
export async function removeTree(p: string): Promise<void> {
  try {
    await native().removeTree(p);
  } catch (e) {
    throw new SkiffError('ERUNTIME', (e as Error).message);
  }
}

/**
 * Remove staging after a failure: what cannot be removed now stays for the sweep of a later
 * invocation (its pid is then gone), so the failure reported is the one that happened.
 */
export async function discardStaging(p: string): Promise<void> {
  await removeTree(p).catch(() => undefined);
}

/** What every store root holds (layout.ts makes them all), and what skiff puts in its runtime dir. */
const STORE_MARKS = ['blobs', 'layers', 'images', 'locks'];
const RUNROOT_MARKS = ['attach', 'seccomp', 'registry-schemes.json'];

/**
 * `system reset`: everything in the store root and the runtime dir goes (the dirs too, when empty
 * then; a symlink to one stays). Checked first, before `beforeRemoval` (removing the containers)
 * runs: each must be a directory, empty or holding something skiff makes there, so that a
 * mistyped --root (`/dev/null`, `/etc`) removes nothing.
 */
export async function resetStore(beforeRemoval: () => Promise<void>): Promise<void> {
  const { root, runroot } = paths();
  const targets: string[] = [];
  for (const [dir, marks, what] of [[root, STORE_MARKS, 'store'], [runroot, RUNROOT_MARKS, 'runtime directory']] as const) {
    const st = fs.statSync(dir, { throwIfNoEntry: false });
    if (!st) continue;
    if (!st.isDirectory()) throw new SkiffError('EINVAL', `cannot reset ${dir}: it is not a directory`);
    const names = fs.readdirSync(dir);
    if (names.length && !names.some((n) => (marks as readonly string[]).includes(n))) {
      throw new SkiffError('EINVAL', `cannot reset ${dir}: it does not look like a skiff ${what} (none of ${marks.join(', ')} in it); nothing was removed`);
    }
    targets.push(dir);
  }
  await beforeRemoval();
  for (const dir of targets) {
    for (const name of fs.readdirSync(dir)) await removeTree(path.join(dir, name));
    try {
      fs.rmdirSync(dir);
    } catch {
      /* something appeared meanwhile, or a symlink to the dir: it stays */
    }
  }
}

/**
 * Move a finished staging dir into place. Returns false when `final` already exists
 * (another invocation won the race): the staging copy is then removed.
 */
export async function commitDir(staging: string, final: string): Promise<boolean> {
  try {
    fs.renameSync(staging, final);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      await discardStaging(staging);
      return false;
    }
    throw e;
  }
}

/**
 * Whether a process with this pid runs (EPERM means it does, owned by someone else). A zombie has
 * exited: it is not alive, though its pid stays taken until its parent (or init, slowly) reaps it.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/PID/stat: "pid (comm) S ...": the comm may hold spaces and parentheses, the state follows the last ')'
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no procfs to ask: trust kill(0)
  }
}

/**
 * Remove staging leftovers of processes that no longer run. One that cannot be removed (an immutable
 * file without CAP_LINUX_IMMUTABLE, say) is reported on stderr and left: it must not stop the
 * command that swept (every later pull and build would fail the same way).
 */
export async function sweepStaging(): Promise<number> {
  let n = 0;
  for (const name of fs.readdirSync(dirs().tmp)) {
    const pid = Number(name.split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || pidAlive(pid)) continue;
    try {
      await removeTree(path.join(dirs().tmp, name));
      n++;
    } catch (e) {
      process.stderr.write(`Warning: a leftover of an earlier command stays in the store: ${(e as Error).message}\n`);
    }
  }
  return n;
}

/** What is left of `bufs` once the first `n` bytes are written (a short write). */
function unwritten(bufs: Buffer[], n: number): Buffer[] {
  const rest: Buffer[] = [];
  for (const b of bufs) {
    if (n >= b.length) n -= b.length;
    else {
      rest.push(n ? b.subarray(n) : b);
      n = 0;
    }
  }
  return rest;
}

/** Write all of `bufs` at `fd` now: one write(v), again after a short write. */
export function writeAllSync(fd: number, bufs: Buffer[]): void {
  let rest = bufs;
  let bytes = rest.reduce((n, b) => n + b.length, 0);
  while (bytes > 0) {
    const n = rest.length === 1 ? fs.writeSync(fd, rest[0]!) : fs.writevSync(fd, rest);
    bytes -= n;
    if (bytes > 0) rest = unwritten(rest, n);
  }
}

// node:stream on first use: the run path (which imports this module) writes no stream
const stream = lazyBuiltin<typeof import('node:stream')>('node:stream');

/**
 * A Writable to a new file (staging: the caller renames it into place) that gathers chunks and
 * writes them with one writev per MiB, off the main thread. fs.createWriteStream makes a
 * thread-pool round trip per chunk (a 4 MB blob in 64 KiB chunks: ~12 ms of CPU, and tens of ms
 * of latency on a busy machine); synchronous writes would stall the event loop whenever the kernel
 * throttles dirty pages (a big layer). No fsync (GUIDE: a killed pull leaves only staging, which is
 * swept; a layer is never trusted from its blob file). Opening, closing and the last batch (under
 * 1 MiB: all of a small blob) are synchronous: through the thread pool, they would wait behind a
 * pull's decompression jobs.
 */
export function fileSink(file: string, mode: number): Writable {
  let fd = -1;
  let pending: Buffer[] = [];
  let bytes = 0;
  /** A writev is out on the thread pool: its fd must stay open (a closed number is soon reused). */
  let writing = false;
  /** What destroy left to do once that writev is back (close the fd). */
  let afterWrite: (() => void) | undefined;
  const flush = (cb: (e?: Error | null) => void): void => {
    const bufs = pending;
    const left = bytes;
    pending = [];
    bytes = 0;
    if (left === 0 || fd < 0) return cb(); // nothing to write, or destroyed meanwhile
    writing = true;
    fs.writev(fd, bufs, (err, n) => {
      writing = false;
      if (afterWrite) return afterWrite(); // destroyed while this write was out
      if (err) return cb(err);
      if (n === left) return cb();
      // a short write: the rest goes again (no write comes in meanwhile: its callback is this one's)
      pending = unwritten(bufs, n);
      bytes = left - n;
      flush(cb);
    });
  };
  return new (stream().Writable)({
    highWaterMark: 1 << 20,
    construct(cb) {
      try {
        fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, mode);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    write(chunk: Buffer, _enc, cb) {
      pending.push(chunk);
      bytes += chunk.length;
      if (bytes >= 1 << 20) flush(cb);
      else cb();
    },
    final(cb) {
      const close = (err?: Error | null): void => {
        if (err) return cb(err);
        const f = fd;
        if (f < 0) return cb(); // destroyed (and closed) meanwhile
        fd = -1;
        try {
          fs.closeSync(f);
          cb();
        } catch (e) {
          cb(e as Error);
        }
      };
      if (fd < 0 || bytes === 0) return close();
      // the last batch (under 1 MiB) is written here: for a small blob, the only write
      try {
        writeAllSync(fd, pending);
        pending = [];
        bytes = 0;
      } catch (e) {
        return cb(e as Error);
      }
      close();
    },
    destroy(err, cb) {
      const close = (): void => {
        if (fd < 0) return cb(err);
        const f = fd;
        fd = -1;
        fs.close(f, () => cb(err));
      };
      if (writing) afterWrite = close;
      else close();
    },
  });
}
