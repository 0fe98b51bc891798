/**
 * An ordinary tar archive (ADD of a local archive, a build context on stdin), plain or gzip,
 * unpacked into a directory the way Docker unpacks it (chrooted into the destination), which is
 * not the way a layer is extracted (no whiteouts: `.wh.` names are ordinary files here):
 * - entry paths stay inside the destination: a leading `/` is dropped, a `..` that would climb
 *   out of it is refused, and so is a path longer than PATH_MAX or holding a NUL byte;
 * - symlink targets are kept exactly as written, absolute or relative (the link is resolved later,
 *   inside the container, never here);
 * - nothing is written through a symlink or a non-directory: every parent of an entry must be a
 *   real directory (made 0755 when missing), checked with lstat before the entry is created;
 * - a hard link must name an earlier entry (a non-directory inside the destination);
 * - an existing entry is replaced (a directory merged with a directory entry);
 * - device nodes and fifos are skipped (cp: made, `specials`); directory modes and times are applied last, deepest first.
 * The destination is a directory of our own under the store's tmp/ (nobody else writes there while
 * this runs), so an lstat check cannot race with anyone.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { native } from '../native.js';
import { errnoText, joinRel, MAX_PATH, parentRel, shortPath as short } from './tree.js';

export interface UntarOptions {
  /** Give entries the owners the archive names (else they keep ours). */
  chown: boolean;
  /** The archive in error messages: `the build context`, `archive "/app.tar"`. */
  what: string;
  /** cp: device nodes and fifos are made (else skipped); a device where none may be made (a user namespace) is left out. */
  specials?: boolean;
}

interface Meta {
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

interface TarEntry extends NodeJS.EventEmitter {
  type: string;
  path: string;
  linkpath?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  /** (devmaj/devmin: read from a POSIX ustar or PAX header only) */
  header: { devmaj?: number; devmin?: number };
  resume(): void;
}

/** Unpack `input` into `dest` (an existing directory). */
export async function untar(input: Readable, dest: string, o: UntarOptions): Promise<void> {
  const { Parser } = await import('tar');
  const u = new Unpacker(dest, o);
  const parser = new Parser({ strict: true, zstd: false });
  let failure: unknown;
  parser.on('entry', (e: TarEntry) => {
    if (failure) return e.resume();
    try {
      u.entry(e);
    } catch (err) {
      failure = err;
      e.resume();
    }
  });
  // the parser ends with 'end', or fails with 'error' (then it emits nothing more)
  let settle: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  parser.on('end', () => settle());
  parser.on('error', (err: Error) => {
    failure ??= err;
    settle();
  });
  u.onError = (err) => (failure ??= err);
  try {
    for await (const chunk of input) {
      if (failure) break;
      if (!parser.write(chunk as Buffer)) await Promise.race([once(parser, 'drain'), settled]);
    }
    if (!failure) {
      parser.end();
      await settled;
    }
    if (!failure) u.finish();
  } catch (err) {
    failure ??= err;
  } finally {
    u.close();
  }
  if (failure) throw describe(failure, o.what);
}

function describe(e: unknown, what: string): unknown {
  if (e instanceof SkiffError) return e;
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === 'string' && err.code.startsWith('TAR_')) {
    return new SkiffError('EINVAL', `cannot read ${what} as a tar archive: ${err.message.replace(/^TAR_[A-Z_]+: /, '')}`);
  }
  if (err instanceof Error) return new SkiffError('EINVAL', `cannot unpack ${what}: ${errnoText(err)}`);
  return e;
}

class Unpacker {
  /** Relative paths known to be real directories (of the destination, or made by this archive). */
  private readonly dirs = new Set<string>(['']);
  private readonly dirMeta = new Map<string, Meta>();
  /** The file being written (its data arrives in events after its header). */
  private fd: number | undefined;
  onError: (e: unknown) => void = () => undefined;

  constructor(private readonly dest: string, private readonly o: UntarOptions) {}

  private host(rel: string): string {
    return rel ? path.join(this.dest, rel) : this.dest;
  }

  private fail(name: string, why: string): never {
    throw new SkiffError('EINVAL', `${this.o.what}: entry "${short(name)}" ${why}`);
  }

  /** The entry's path inside the destination ('' is the destination itself). */
  private contained(name: string, field = 'path'): string {
    if (name.includes('\0')) this.fail(name, `has a NUL byte in its ${field}`);
    const out: string[] = [];
    for (const c of name.split('/')) {
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (!out.length) this.fail(name, field === 'path' ? 'is outside of the destination (its path climbs out with "..")' : 'links to a file outside of the destination');
        out.pop();
      } else out.push(c);
    }
    const rel = out.join('/');
    if (rel.length > MAX_PATH) this.fail(name, `has a ${field} longer than ${MAX_PATH} bytes (PATH_MAX)`);
    return rel;
  }

  /** Make every parent of `rel` a real directory; with `linkTo` (a hard link's target) only check that they are. */
  private parents(name: string, rel: string, linkTo?: string): void {
    const parent = parentRel(rel);
    if (this.dirs.has(parent)) return;
    let cur = '';
    for (const c of parent.split('/')) {
      cur = joinRel(cur, c);
      if (this.dirs.has(cur)) continue;
      const st = lstat(this.host(cur));
      if (!st) {
        if (linkTo !== undefined) this.fail(name, `links to "${short(linkTo)}", which the archive did not make`);
        fs.mkdirSync(this.host(cur), 0o755);
      } else if (!st.isDirectory()) {
        this.fail(name, `would be written through "${cur}", which is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`);
      }
      this.dirs.add(cur);
    }
  }

  /** Remove what is at `rel` unless it is a directory and `keepDir`. */
  private clear(rel: string, keepDir: boolean): void {
    const st = lstat(this.host(rel));
    if (!st || (keepDir && st.isDirectory())) return;
    if (st.isDirectory()) {
      fs.rmSync(this.host(rel), { recursive: true });
      const gone = (d: string): boolean => d === rel || d.startsWith(`${rel}/`);
      for (const d of this.dirs) if (gone(d)) this.dirs.delete(d);
      for (const d of this.dirMeta.keys()) if (gone(d)) this.dirMeta.delete(d);
    } else fs.unlinkSync(this.host(rel));
  }

  private meta(e: TarEntry): Meta {
    return { mode: (e.mode ?? 0o644) & 0o7777, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? new Date(0) };
  }

  entry(e: TarEntry): void {
    const rel = this.contained(e.path);
    const m = this.meta(e);
    try {
      this.create(e, rel, m);
    } catch (err) {
      if (err instanceof SkiffError) throw err;
      this.fail(e.path, `cannot be unpacked: ${errnoText(err)}`);
    }
  }

  private create(e: TarEntry, rel: string, m: Meta): void {
    const p = this.host(rel);
    switch (e.type) {
      case 'Directory':
      case 'GNUDumpDir':
        if (rel) {
          this.parents(e.path, rel);
          this.clear(rel, true);
          if (!lstat(p)) fs.mkdirSync(p, 0o700);
          this.dirs.add(rel);
        }
        this.dirMeta.set(rel, m);
        return e.resume();
      case 'File':
      case 'OldFile':
      case 'ContiguousFile': {
        if (!rel) this.fail(e.path, 'names the destination itself');
        this.parents(e.path, rel);
        this.clear(rel, false);
        const fd = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        this.fd = fd;
        e.on('data', (chunk: Buffer) => {
          try {
            for (let off = 0; off < chunk.length; ) off += fs.writeSync(fd, chunk, off);
          } catch (err) {
            this.onError(new SkiffError('EINVAL', `${this.o.what}: entry "${short(e.path)}" cannot be written: ${errnoText(err)}`));
          }
        });
        e.on('end', () => {
          try {
            if (this.o.chown) fs.fchownSync(fd, m.uid, m.gid);
            fs.fchmodSync(fd, m.mode); // after chown, which clears setuid bits
            fs.futimesSync(fd, m.mtime, m.mtime);
          } catch (err) {
            this.onError(new SkiffError('EINVAL', `${this.o.what}: entry "${short(e.path)}" cannot be given its owner, mode or times: ${errnoText(err)}`));
          } finally {
            fs.closeSync(fd);
            this.fd = undefined;
          }
        });
        return;
      }
      case 'SymbolicLink': {
        if (!rel) this.fail(e.path, 'names the destination itself');
        const target = e.linkpath ?? '';
        if (target.includes('\0')) this.fail(e.path, 'has a NUL byte in its link target');
        this.parents(e.path, rel);
        this.clear(rel, false);
        fs.symlinkSync(target, p); // kept as written: it is resolved inside the container
        if (this.o.chown) fs.lchownSync(p, m.uid, m.gid);
        fs.lutimesSync(p, m.mtime, m.mtime);
        return e.resume();
      }
      case 'Link': {
        if (!rel) this.fail(e.path, 'names the destination itself');
        const target = this.contained(e.linkpath ?? '', 'link target');
        this.parents(e.path, target, e.linkpath ?? '');
        const st = lstat(this.host(target));
        if (!st) this.fail(e.path, `links to "${short(e.linkpath ?? '')}", which the archive did not make`);
        if (st.isDirectory()) this.fail(e.path, `is a hard link to a directory ("${short(e.linkpath ?? '')}")`);
        this.parents(e.path, rel);
        if (target !== rel) {
          this.clear(rel, false);
          fs.linkSync(this.host(target), p);
        }
        return e.resume();
      }
      case 'CharacterDevice':
      case 'BlockDevice':
      case 'FIFO': {
        const [major, minor] = [e.header.devmaj ?? 0, e.header.devmin ?? 0];
        // a device 0:0 is none (a whiteout's form; or a GNU header, whose numbers the reader does not give)
        if (!this.o.specials || !rel || (e.type !== 'FIFO' && !major && !minor)) return e.resume();
        this.parents(e.path, rel);
        this.clear(rel, false);
        const kind = e.type === 'FIFO' ? fs.constants.S_IFIFO : e.type === 'BlockDevice' ? fs.constants.S_IFBLK : fs.constants.S_IFCHR;
        try {
          native().mknod(p, kind | 0o600, major, minor);
        } catch (err) {
          if (e.type !== 'FIFO' && (err as NodeJS.ErrnoException).code === 'EPERM') return e.resume();
          throw err;
        }
        if (this.o.chown) fs.lchownSync(p, m.uid, m.gid);
        fs.chmodSync(p, m.mode);
        fs.utimesSync(p, m.mtime, m.mtime);
        return e.resume();
      }
      default:
        // device nodes and fifos but for cp (as node-tar and the previous ADD did), and anything unknown
        return e.resume();
    }
  }

  /** Directory modes and times, deepest first (a child's creation changes its parent's mtime). */
  finish(): void {
    const dirs = [...this.dirMeta].sort((a, b) => b[0].split('/').length - a[0].split('/').length);
    for (const [rel, m] of dirs) {
      const p = this.host(rel);
      try {
        if (this.o.chown) fs.lchownSync(p, m.uid, m.gid);
        fs.chmodSync(p, m.mode);
        fs.utimesSync(p, m.mtime, m.mtime);
      } catch (err) {
        throw new SkiffError('EINVAL', `${this.o.what}: directory "${short(rel)}" cannot be given its owner, mode or times: ${errnoText(err)}`);
      }
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
