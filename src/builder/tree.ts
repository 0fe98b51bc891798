/**
 * Read-only views of the file trees a build copies from and resolves paths in: the build context
 * (a directory minus what .dockerignore excludes) and an image's merged root filesystem (its
 * layer diff dirs read top-down, honouring whiteouts and opaque directories, without mounting).
 * Paths are relative slash paths, '' for the root.
 */
import fs from 'node:fs';
import path from 'node:path';
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import { native } from '../native.js';
import { cleanPath, IgnoreMatcher } from './dockerignore.js';

export interface TreeEntry {
  st: fs.Stats;
}

/** Symlinks followed in one resolution before it fails, as Linux's ELOOP. */
const MAX_LINKS = 40;

/**
 * A file tree read by the build. Paths are relative slash paths ('' is the root). `entry`,
 * `children`, `readlink` and `open` never follow a symlink anywhere in the path they are given: a
 * path reaches something only when every component before its last is a real directory of the tree.
 * `resolve` is the one place symlinks are followed, inside the tree.
 */
export abstract class Tree {
  /** What `rel` is (lstat), or undefined when the tree has nothing there. */
  abstract entry(rel: string): TreeEntry | undefined;
  /** Names in directory `rel`, sorted ([] when it is not a directory). */
  abstract children(rel: string): string[];
  /** The target of symlink `rel`, as written. */
  abstract readlink(rel: string): string;
  /** A descriptor of regular file `rel` for reading (the caller closes it). */
  abstract open(rel: string): number;

  /**
   * Resolve symlinks in `rel` inside the tree, as the kernel would with the tree as `/`: an absolute
   * target starts again at the tree's root, `..` stops at the root, a link never leads out. The last
   * component is followed only when `followLast`. Returns the resolved path (which may not exist).
   */
  resolve(rel: string, followLast = true): string {
    let todo = rel ? rel.split('/') : [];
    const done: string[] = [];
    let links = 0;
    while (todo.length) {
      const name = todo.shift()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        done.pop();
        continue;
      }
      const cur = done.length ? `${done.join('/')}/${name}` : name;
      const e = this.entry(cur);
      if (e?.st.isSymbolicLink() && (todo.length > 0 || followLast)) {
        if (++links > MAX_LINKS) throw new SkiffError('EINVAL', `cannot resolve "/${rel}": too many levels of symbolic links`);
        const target = this.readlink(cur);
        if (target.startsWith('/')) done.length = 0;
        todo = [...target.split('/'), ...todo];
        continue;
      }
      done.push(name);
    }
    return done.join('/');
  }

  /** A file's text, following symlinks inside the tree (e.g. the image's /etc/passwd); undefined unless a regular file. */
  readFile(file: string): string | undefined {
    const rel = this.resolve(relPath(file));
    if (!this.entry(rel)?.st.isFile()) return undefined;
    const fd = this.open(rel);
    try {
      return fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** A path short enough for a one-line message (a deep path keeps its start and its end). */
export const shortPath = (s: string): string => (s.length > 80 ? `${s.slice(0, 40)}...${s.slice(-20)}` : s);

/** The longest path a system call takes (PATH_MAX less the terminating NUL). */
export const MAX_PATH = 4095;

/** `a/b` + `c` */
export const joinRel = (dir: string, name: string): string => (dir ? `${dir}/${name}` : name);

/** The directory part of a relative path ('' for a top-level name). */
export const parentRel = (rel: string): string => {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
};

/** Clean a path given in a Dockerfile to one relative to a root ('' for the root itself); `..` cannot leave it. */
export function relPath(p: string): string {
  const c = cleanPath('/' + p);
  return c === '/' ? '' : c.slice(1);
}

const lstat = (p: string): fs.Stats | undefined => {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
};

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
/** Directory descriptors a context keeps open (a walk needs the few on its way down). */
const DIR_FDS = 64;

/**
 * A directory tree on the host read without ever following a symlink in it: every access goes
 * through a descriptor of the directory holding the name (`/proc/self/fd/<fd>/<name>`, which the
 * kernel resolves from that open directory, as openat() would), and directories are opened with
 * O_NOFOLLOW from their parent's descriptor. So neither a symlink in the tree nor one swapped in
 * while the build reads it can lead a read outside the root. This is the build context (less what
 * .dockerignore excludes, as Docker never sends those paths), remembered as the build started:
 * each path is looked at (lstat, .dockerignore) once, as Docker snapshots the context it sends.
 */
export class ContextTree extends Tree {
  private readonly raw = new Map<string, fs.Stats | undefined>();
  private readonly seen = new Map<string, TreeEntry | undefined>();
  private readonly fds = new Map<string, number>();
  private readonly root: number;

  /**
   * `dir` is opened at once (the caller closes the tree); `what` names the tree in messages (a
   * container's root for `cp`: the same rules, no symlink in it followed on the host).
   */
  constructor(readonly dir: string, readonly ignore: IgnoreMatcher = new IgnoreMatcher([]), readonly what = 'the build context') {
    super();
    try {
      this.root = fs.openSync(dir, O_RDONLY | O_DIRECTORY);
    } catch (e) {
      throw new SkiffError('EINVAL', what === 'the build context' ? `unable to prepare context: cannot open "${dir}": ${errnoText(e)}` : `cannot open ${what}: ${errnoText(e)}`);
    }
  }

  /** The root as a path the kernel resolves from its descriptor (writes under it check every parent). */
  get path(): string {
    return `/proc/self/fd/${this.root}`;
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
    fs.closeSync(this.root);
  }

  /** A path naming `rel` through its parent directory's descriptor. */
  private at(rel: string): string {
    const i = rel.lastIndexOf('/');
    return `/proc/self/fd/${this.dirFd(i < 0 ? '' : rel.slice(0, i))}/${i < 0 ? rel : rel.slice(i + 1)}`;
  }

  /** An open descriptor of directory `rel` (reached from the root without following a symlink). */
  private dirFd(rel: string): number {
    if (!rel) return this.root;
    let fd = this.fds.get(rel);
    if (fd !== undefined) return fd;
    fd = fs.openSync(this.at(rel), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    this.fds.set(rel, fd);
    if (this.fds.size > DIR_FDS) {
      const [oldest, ofd] = this.fds.entries().next().value as [string, number];
      this.fds.delete(oldest);
      fs.closeSync(ofd);
    }
    return fd;
  }

  /** lstat of `rel` when every component before it is a directory (ignoring .dockerignore). */
  private stat(rel: string): fs.Stats | undefined {
    if (this.raw.has(rel)) return this.raw.get(rel);
    if (Buffer.byteLength(rel) > MAX_PATH) throw new SkiffError('EINVAL', `${this.what} has a path longer than ${MAX_PATH} bytes (PATH_MAX): "/${shortPath(rel)}"`);
    let st: fs.Stats | undefined;
    if (!rel) st = fs.fstatSync(this.root);
    else if (this.stat(parentRel(rel))?.isDirectory()) {
      try {
        st = fs.lstatSync(this.at(rel));
      } catch (e) {
        if (!isMissing(e)) throw contextError(rel, e, this.what);
      }
    }
    this.raw.set(rel, st);
    return st;
  }

  entry(rel: string): TreeEntry | undefined {
    if (this.seen.has(rel)) return this.seen.get(rel);
    const st = this.stat(rel);
    const e = st && (!rel || !this.ignore.ignored(rel) || this.hasIncludedBelow(rel, st)) ? { st } : undefined;
    this.seen.set(rel, e);
    return e;
  }

  /** An ignored directory still holds paths a `!` pattern brings back. */
  private hasIncludedBelow(rel: string, st: fs.Stats): boolean {
    return this.ignore.hasExclusions && st.isDirectory() && this.children(rel).length > 0;
  }

  children(rel: string): string[] {
    if (!this.stat(rel)?.isDirectory()) return [];
    let names: string[];
    try {
      names = fs.readdirSync(`/proc/self/fd/${this.dirFd(rel)}`);
    } catch (e) {
      throw contextError(rel, e, this.what);
    }
    return names.filter((n) => this.entry(joinRel(rel, n)) !== undefined).sort();
  }

  readlink(rel: string): string {
    try {
      return fs.readlinkSync(this.at(rel));
    } catch (e) {
      throw contextError(rel, e, this.what);
    }
  }

  open(rel: string): number {
    let fd: number;
    try {
      fd = fs.openSync(this.at(rel), O_RDONLY | O_NOFOLLOW);
    } catch (e) {
      throw contextError(rel, e, this.what);
    }
    if (!fs.fstatSync(fd).isFile()) {
      fs.closeSync(fd);
      throw new SkiffError('EINVAL', `"/${rel}" in ${this.what} is not a regular file (did it change during the build?)`);
    }
    return fd;
  }
}

const isMissing = (e: unknown): boolean => ['ENOENT', 'ENOTDIR', 'ELOOP'].includes((e as NodeJS.ErrnoException).code ?? '');

/** A system error's text without Node's code and call ("ENAMETOOLONG: name too long, open ..." → "name too long"). */
export function errnoText(e: unknown): string {
  const m = /^E[A-Z0-9]+: ([^,]+)/.exec((e as Error).message ?? '');
  return m ? m[1]! : String((e as Error).message ?? e);
}

function contextError(rel: string, e: unknown, what: string): unknown {
  if (e instanceof SkiffError) return e;
  if ((e as NodeJS.ErrnoException).code === undefined) return e;
  return new SkiffError('EINVAL', `cannot read "/${rel}" in ${what}: ${errnoText(e)}`);
}

type Probe =
  | { kind: 'missing'; hidden: boolean }
  | { kind: 'whiteout' }
  | { kind: 'entry'; host: string; st: fs.Stats; opaque: boolean };

/**
 * The merged view of layer diff dirs, given TOP FIRST. The diffs are the store's own (extracted
 * without a path through a symlink); a path is probed one component at a time with lstat, so a
 * symlink in an image is never followed on the host.
 */
export class LayeredTree extends Tree {
  /** The overlay xattrs' prefix in the store's diffs (`<prefix>opaque`). */
  readonly prefix = paths().rootless ? 'user.overlay.' : 'trusted.overlay.';
  constructor(readonly diffsTopFirst: string[]) {
    super();
  }

  private opaque(p: string): boolean {
    try {
      return native().lgetxattr(p, `${this.prefix}opaque`)?.toString('latin1') === 'y';
    } catch {
      return false;
    }
  }

  /** What one layer says about `rel`. `hidden`: an opaque dir on the way hides the layers below. */
  private probe(diff: string, rel: string): Probe {
    if (!rel) return { kind: 'entry', host: diff, st: lstat(diff)!, opaque: false };
    const comps = rel.split('/');
    let p = diff;
    let hidden = false;
    for (let i = 0; i < comps.length; i++) {
      p = path.join(p, comps[i]!);
      const st = lstat(p);
      if (!st) return { kind: 'missing', hidden };
      if (st.isCharacterDevice() && st.rdev === 0) return { kind: 'whiteout' };
      if (i === comps.length - 1) return { kind: 'entry', host: p, st, opaque: st.isDirectory() && this.opaque(p) };
      if (!st.isDirectory()) return { kind: 'whiteout' }; // a file here hides everything below
      if (this.opaque(p)) hidden = true;
    }
    return { kind: 'missing', hidden };
  }

  /** The layers' directories that make up directory `rel`, top first (empty if not a directory). */
  private dirSources(rel: string): string[] {
    const out: string[] = [];
    for (const d of this.diffsTopFirst) {
      const r = this.probe(d, rel);
      if (r.kind === 'whiteout') break;
      if (r.kind === 'missing') {
        if (r.hidden) break;
        continue;
      }
      if (!r.st.isDirectory()) {
        if (out.length === 0) return [];
        break;
      }
      out.push(r.host);
      if (r.opaque) break;
    }
    return out;
  }

  entry(rel: string): (TreeEntry & { host: string }) | undefined {
    for (const d of this.diffsTopFirst) {
      const r = this.probe(d, rel);
      if (r.kind === 'whiteout') return undefined;
      if (r.kind === 'missing') {
        if (r.hidden) return undefined;
        continue;
      }
      return { host: r.host, st: r.st };
    }
    if (rel === '') return { host: '/nonexistent', st: fakeRootStat() };
    return undefined;
  }

  children(rel: string): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const dir of this.dirSources(rel)) {
      for (const n of fs.readdirSync(dir)) {
        if (seen.has(n)) continue;
        seen.add(n);
        const st = lstat(path.join(dir, n));
        if (st && !(st.isCharacterDevice() && st.rdev === 0)) out.push(n);
      }
    }
    return out.sort();
  }

  readlink(rel: string): string {
    return fs.readlinkSync(this.host(rel));
  }

  open(rel: string): number {
    const fd = fs.openSync(this.host(rel), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    if (!fs.fstatSync(fd).isFile()) {
      fs.closeSync(fd);
      throw new SkiffError('EINVAL', `"/${rel}" is not a regular file`);
    }
    return fd;
  }

  private host(rel: string): string {
    const e = this.entry(rel);
    if (!e) throw new SkiffError('EINVAL', `"/${rel}": not found`);
    return e.host;
  }
}

let rootStat: fs.Stats | undefined;
/** An empty image (FROM scratch) still has a root directory: root-owned, 0755. */
function fakeRootStat(): fs.Stats {
  if (!rootStat) {
    const st = fs.lstatSync('/');
    rootStat = Object.assign(Object.create(Object.getPrototypeOf(st) as object) as fs.Stats, st, { mode: 0o40755, uid: 0, gid: 0 });
  }
  return rootStat;
}
