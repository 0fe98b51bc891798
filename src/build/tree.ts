/**
 * Read-only views of the file trees a build copies from and resolves paths in: the build context
 * (a directory minus what .dockerignore excludes) and an image's merged root filesystem (its
 * layer diff dirs read top-down, honouring whiteouts and opaque directories, without mounting).
 * Paths are relative slash paths, '' for the root.
 */
import fs from 'node:fs';
import path from 'node:path';
import { paths } from '../config.js';
import { native } from '../native.js';
import { cleanPath, IgnoreMatcher } from './dockerignore.js';

export interface TreeEntry {
  /** Where the entry is on the host. */
  host: string;
  st: fs.Stats;
}

export interface Tree {
  entry(rel: string): TreeEntry | undefined;
  /** Names in directory `rel`, sorted. */
  children(rel: string): string[];
}

const lstat = (p: string): fs.Stats | undefined => {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
};

/** `a/b` + `c` */
export const joinRel = (dir: string, name: string): string => (dir ? `${dir}/${name}` : name);

/** Clean a path given in a Dockerfile to one relative to a root ('' for the root itself); `..` cannot leave it. */
export function relPath(p: string): string {
  const c = cleanPath('/' + p);
  return c === '/' ? '' : c.slice(1);
}

/**
 * The build context as the build started: each path is looked at (lstat, .dockerignore) once and
 * remembered, as Docker snapshots the context it sends (matching sources, hashing them and copying
 * them each walk the same paths).
 */
export class ContextTree implements Tree {
  private readonly seen = new Map<string, TreeEntry | undefined>();
  constructor(readonly dir: string, readonly ignore: IgnoreMatcher) {}

  entry(rel: string): TreeEntry | undefined {
    if (this.seen.has(rel)) return this.seen.get(rel);
    let e: TreeEntry | undefined;
    if (!rel || !this.ignore.ignored(rel) || this.hasIncludedBelow(rel)) {
      const host = rel ? path.join(this.dir, rel) : this.dir;
      const st = lstat(host);
      e = st ? { host, st } : undefined;
    }
    this.seen.set(rel, e);
    return e;
  }

  /** An ignored directory still holds paths a `!` pattern brings back. */
  private hasIncludedBelow(rel: string): boolean {
    if (!this.ignore.hasExclusions) return false;
    const st = lstat(path.join(this.dir, rel));
    if (!st?.isDirectory()) return false;
    return this.children(rel).length > 0;
  }

  children(rel: string): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(rel ? path.join(this.dir, rel) : this.dir);
    } catch {
      return [];
    }
    return names.filter((n) => this.entry(joinRel(rel, n)) !== undefined).sort();
  }
}

type Probe =
  | { kind: 'missing'; hidden: boolean }
  | { kind: 'whiteout' }
  | { kind: 'entry'; host: string; st: fs.Stats; opaque: boolean };

/** The merged view of layer diff dirs, given TOP FIRST. */
export class LayeredTree implements Tree {
  private readonly prefix = paths().rootless ? 'user.overlay.' : 'trusted.overlay.';
  constructor(readonly diffsTopFirst: string[]) {}

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

  entry(rel: string): TreeEntry | undefined {
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

  /** Read a file of the merged tree (e.g. /etc/passwd). */
  readFile(file: string): string | undefined {
    const e = this.entry(relPath(file));
    return e?.st.isFile() ? fs.readFileSync(e.host, 'utf8') : undefined;
  }

  /**
   * Resolve symlinks in `rel` inside the tree (an absolute link target is relative to the tree's
   * root, `..` stops at the root), as a container would see the path. The last element is followed
   * only when `followLast`. Returns the resolved relative path (which may not exist).
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
      const cur = [...done, name].join('/');
      const e = this.entry(cur);
      if (e?.st.isSymbolicLink() && (todo.length > 0 || followLast)) {
        if (++links > 40) return cur;
        const target = fs.readlinkSync(e.host);
        if (target.startsWith('/')) done.length = 0;
        todo = [...target.split('/'), ...todo];
        continue;
      }
      done.push(name);
    }
    return done.join('/');
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
