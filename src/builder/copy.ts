/**
 * COPY and ADD into a new layer: the files are written straight into the step's diff directory,
 * in overlay format over the stage's root filesystem (which is read, never mounted). Docker's
 * rules: a directory source copies its contents; a file goes to DEST/name when DEST ends in `/`
 * or is an existing directory, else to DEST itself; several sources need a DEST ending in `/`;
 * a relative DEST is relative to WORKDIR; symlinks in DEST resolve inside the image. Existing
 * parent directories are copied up with their metadata, missing ones are made 0755.
 * Owners become 0:0 unless --chown, except that COPY --from keeps the owners the files have in
 * that stage or image (as Buildah does); --chmod applies to everything copied; mtimes are kept.
 * ADD unpacks local tar archives (plain or gzip) into DEST.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { native } from '../native.js';
import { extractOptions } from '../image/pull.js';
import type { Source } from './context.js';
import type { IgnoreMatcher } from './dockerignore.js';
import { errnoText, joinRel, MAX_PATH, relPath, shortPath, type LayeredTree, type Tree } from './tree.js';
import { untar } from './untar.js';

export interface CopySpec {
  src: Tree;
  /** Matched sources in `src` (context.ts matchSources). */
  sources: Source[];
  /** DEST as written (after variable expansion). */
  dest: string;
  workdir: string;
  /** Several sources or a wildcard: DEST must be a directory. */
  multi: boolean;
  chown?: { uid: number; gid: number };
  chmod?: number;
  /** ADD: unpack local tar archives. */
  unpack: boolean;
  /** COPY --from: keep the owners of the source (without --chown). */
  preserveOwner?: boolean;
  /** COPY --parents: each source goes to DEST/its `keep` path (DEST is a directory). */
  parents?: boolean;
  /** --exclude patterns (.dockerignore syntax): against a matched source's path, and below a directory source against the path under it. */
  exclude?: IgnoreMatcher;
}

interface TreeCopyOptions {
  /** Paths of `src` not copied (--exclude). */
  skip?: (srcRel: string) => boolean;
  chown?: { uid: number; gid: number };
  chmod?: number;
  preserveOwner?: boolean;
  /** The owner written from the one the rules give (cp with a keep-id container: container/keep-id.ts). */
  mapOwner?: (uid: number, gid: number) => { uid: number; gid: number };
  /**
   * cp: device nodes and fifos are made too (COPY skips them). `host`: out of a container, a device
   * node is root's alone (the caller's, 0600), whatever owner and mode the container gave it.
   */
  specials?: 'container' | 'host';
}

/** chown without following a link; before chmod, which it would undo (chown clears setuid and setgid). */
function own(p: string, uid: number, gid: number): void {
  fs.lchownSync(p, uid, gid);
}

export class DiffWriter {
  /**
   * Files copied that have other hard links in their tree, by source inode: a later path of the
   * same inode becomes a hard link of the first copy. As BuildKit's copier, per source: two
   * sources of one COPY that are hard links of each other are copied apart (`nextSource`).
   */
  private readonly links = new Map<string, { rel: string; ino: number }>();

  nextSource(): void {
    this.links.clear();
  }

  constructor(readonly diff: string, readonly root: LayeredTree) {}

  private host(rel: string): string {
    const p = rel ? path.join(this.diff, rel) : this.diff;
    if (Buffer.byteLength(p) > MAX_PATH) {
      throw new SkiffError('EINVAL', `cannot write "/${shortPath(rel)}": its path is too long (${Buffer.byteLength(rel)} bytes; under the store's staging directory it passes PATH_MAX, ${MAX_PATH + 1} bytes)`);
    }
    return p;
  }

  /**
   * A whiteout in the diff (a container's upper dir) where a directory is made: the path is gone
   * below, so the new directory is opaque (what was deleted there stays deleted).
   */
  private replaceWhiteout(have: fs.Stats | undefined, p: string): boolean {
    if (!have?.isCharacterDevice() || have.rdev !== 0 || this.root.diffsTopFirst.length === 0) return false;
    fs.rmSync(p);
    return true;
  }

  private markOpaque(p: string): void {
    native().lsetxattr(p, `${this.root.prefix}opaque`, Buffer.from('y'));
  }

  private inDiff(rel: string): fs.Stats | undefined {
    try {
      return fs.lstatSync(this.host(rel));
    } catch {
      return undefined;
    }
  }

  /** Make directory `rel` (and its parents) exist in the diff: copied up from the image, or new. */
  ensureDir(rel: string, created?: { uid: number; gid: number }): void {
    if (!rel) return;
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const r = parts.slice(0, i).join('/');
      const have = this.inDiff(r);
      if (have?.isDirectory()) continue;
      const whiteout = this.replaceWhiteout(have, this.host(r));
      if (have && !whiteout) throw new SkiffError('EINVAL', `cannot copy to "/${rel}": /${r} is not a directory`);
      const below = this.root.entry(r);
      const p = this.host(r);
      if (below?.st.isDirectory()) {
        fs.mkdirSync(p);
        own(p, below.st.uid, below.st.gid);
        fs.chmodSync(p, below.st.mode & 0o7777);
        fs.utimesSync(p, below.st.atime, below.st.mtime);
      } else if (below) {
        throw new SkiffError('EINVAL', `cannot copy to "/${rel}": /${r} is not a directory`);
      } else {
        fs.mkdirSync(p, 0o755);
        own(p, created?.uid ?? 0, created?.gid ?? 0);
        fs.chmodSync(p, 0o755);
        if (whiteout) this.markOpaque(p);
      }
    }
  }

  /** Is `rel` a directory in the merged result so far? */
  isDir(rel: string): boolean {
    return this.inDiff(rel)?.isDirectory() ?? this.root.entry(rel)?.st.isDirectory() ?? false;
  }

  /** Copy `srcRel` of `src` to `dstRel` (recursively), with owner and mode rules. */
  copyTree(src: Tree, srcRel: string, dstRel: string, o: TreeCopyOptions): void {
    const e = src.entry(srcRel);
    if (!e) return;
    if (o.skip?.(srcRel)) return;
    const st = e.st;
    const p = this.host(dstRel);
    const given = { uid: o.chown?.uid ?? (o.preserveOwner ? st.uid : 0), gid: o.chown?.gid ?? (o.preserveOwner ? st.gid : 0) };
    const { uid, gid } = o.mapOwner ? o.mapOwner(given.uid, given.gid) : given;
    const existing = this.inDiff(dstRel);
    if (st.isDirectory()) {
      const whiteout = this.replaceWhiteout(existing, p);
      if (existing && !existing.isDirectory() && !whiteout) fs.rmSync(p, { force: true });
      if (!existing?.isDirectory()) fs.mkdirSync(p);
      if (whiteout) this.markOpaque(p);
      for (const n of src.children(srcRel)) this.copyTree(src, joinRel(srcRel, n), joinRel(dstRel, n), o);
      if (dstRel) {
        own(p, uid, gid);
        fs.chmodSync(p, o.chmod ?? st.mode & 0o7777);
        fs.utimesSync(p, st.atime, st.mtime);
      }
      return;
    }
    if (existing) fs.rmSync(p, { recursive: true, force: true });
    if (st.isSymbolicLink()) {
      fs.symlinkSync(src.readlink(srcRel), p);
      own(p, uid, gid);
      return;
    }
    if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
      if (o.specials) makeNode(p, dstRel, st, uid, gid, o);
      return;
    }
    if (!st.isFile()) return; // sockets are not copied (nor devices and fifos but by cp)
    const inode = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? this.links.get(inode) : undefined;
    if (first && this.inDiff(first.rel)?.ino === first.ino) {
      fs.linkSync(this.host(first.rel), p);
      return;
    }
    const fd = src.open(srcRel);
    try {
      fs.copyFileSync(`/proc/self/fd/${fd}`, p); // the file opened (O_NOFOLLOW), whatever its path does meanwhile
    } finally {
      fs.closeSync(fd);
    }
    own(p, uid, gid);
    fs.chmodSync(p, o.chmod ?? st.mode & 0o7777);
    fs.utimesSync(p, st.atime, st.mtime);
    if (st.nlink > 1) this.links.set(inode, { rel: dstRel, ino: fs.lstatSync(p).ino });
  }
}

/** cp's device node or fifo `p` like `st`; a device where none may be made (a user namespace) is left out, as Docker's archive does. */
function makeNode(p: string, dstRel: string, st: fs.Stats, uid: number, gid: number, o: TreeCopyOptions): void {
  const device = !st.isFIFO();
  if (st.isCharacterDevice() && st.rdev === 0) return; // a whiteout's form, never a file of anyone's
  // glibc's major()/minor() of a dev_t below 2^32
  const [major, minor] = [(st.rdev >>> 8) & 0xfff, (st.rdev & 0xff) | ((st.rdev >>> 12) & 0xfff00)];
  try {
    native().mknod(p, (st.mode & ~0o7777) | 0o600, major, minor);
  } catch (e) {
    if (device && (e as NodeJS.ErrnoException).code === 'EPERM') return;
    throw new SkiffError('EINVAL', `cannot make "/${shortPath(dstRel)}": ${errnoText(e)}`);
  }
  if (!(device && o.specials === 'host')) {
    own(p, uid, gid);
    fs.chmodSync(p, o.chmod ?? st.mode & 0o7777);
  }
  fs.utimesSync(p, st.atime, st.mtime);
}

/** Whether the open file is a tar archive ADD unpacks (plain or gzip). */
function isTarArchive(fd: number): boolean {
  const b = Buffer.alloc(512);
  const n = fs.readSync(fd, b, 0, 512, 0);
  if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true;
  return n >= 262 && b.toString('latin1', 257, 262) === 'ustar';
}

/** Carry out one COPY/ADD into the writer's diff. */
export async function copyInto(w: DiffWriter, c: CopySpec): Promise<void> {
  const destAbs = c.dest.startsWith('/') ? c.dest : path.posix.join(c.workdir || '/', c.dest);
  const destDir = c.dest.endsWith('/') || c.dest.endsWith('/.') || c.dest === '.';
  if (c.multi && !destDir) {
    throw new SkiffError('EINVAL', 'When using COPY with more than one source file, the destination must be a directory and end with a /');
  }
  const dest = w.root.resolve(relPath(destAbs));
  for (const { name, rel: s, keep } of c.sources) {
    w.nextSource();
    const e = c.src.entry(s)!;
    const ex = c.exclude;
    if (ex && ex.ignored(relPath(name)) && !(e.st.isDirectory() && ex.hasExclusions)) continue;
    // below a directory source, paths are matched as they are under it (a directory excluded
    // with `!` patterns about is still entered: what they name inside it is copied)
    const o: CopySpec & TreeCopyOptions = ex
      ? { ...c, skip: (r) => r !== s && ex.ignored(s ? r.slice(s.length + 1) : r) && !(ex.hasExclusions && c.src.entry(r)?.st.isDirectory()) }
      : c;
    if (c.parents) {
      const target = joinRel(dest, keep ?? relPath(name));
      const parent = path.posix.dirname(target);
      w.ensureDir(parent === '.' ? '' : parent, c.chown);
      if (e.st.isDirectory() && w.isDir(target)) for (const n of c.src.children(s)) w.copyTree(c.src, joinRel(s, n), joinRel(target, n), o);
      else w.copyTree(c.src, s, target, o);
      continue;
    }
    if (e.st.isDirectory()) {
      // the contents go into DEST; a DEST made here takes the source directory's mode and mtime
      const existed = !dest || w.isDir(dest);
      w.ensureDir(dest, c.chown);
      if (existed) for (const n of c.src.children(s)) w.copyTree(c.src, joinRel(s, n), joinRel(dest, n), o);
      else {
        w.copyTree(c.src, s, dest, o);
        if (!c.chown) own(path.join(w.diff, dest), 0, 0); // a DEST made here is root's
      }
      continue;
    }
    if (c.unpack && e.st.isFile()) {
      const fd = c.src.open(s);
      try {
        if (isTarArchive(fd)) {
          w.ensureDir(dest, c.chown);
          // the stream reopens the file opened (its own descriptor), whatever its path does meanwhile;
          // owners as the archive has them, where the store can give them (rootless with one id: ours)
          const stream = fs.createReadStream(`/proc/self/fd/${fd}`);
          await untar(stream, dest ? path.join(w.diff, dest) : w.diff, { chown: extractOptions().chown, what: `archive "/${name}"` });
          continue;
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    const target = destDir || w.isDir(dest) ? joinRel(dest, path.posix.basename(name)) : dest;
    w.ensureDir(path.posix.dirname(target) === '.' ? '' : path.posix.dirname(target), c.chown);
    w.copyTree(c.src, s, target, o);
  }
}

