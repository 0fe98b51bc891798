/**
 * `cp`: files between a container and the host, with Docker's path rules:
 * - a file source goes to DEST when DEST is missing (DEST ending in `/` must exist) or a file
 *   (overwritten), to DEST/name when DEST is a directory;
 * - a directory source becomes DEST when DEST is missing, goes to DEST/name when DEST is a
 *   directory, or only its contents when the source ends in `/.`; a directory onto a file fails;
 * - `-` is a tar stream: out, the source as one entry (and what is below it); in, unpacked into
 *   DEST, which must be a directory;
 * - a symlink source is copied as the link unless `-L` (only the last component; links above it are
 *   always followed, inside the container's root);
 * - into the container, owners become the container's root unless `-a` (the source's ids); out of it,
 *   the caller's unless `-a`; modes and mtimes are kept.
 * Container paths are resolved inside the container's root (Docker's FollowSymlinkInScope: an
 * absolute link starts again at the container's `/`, `..` stops there), and nothing is written
 * through a symlink (each parent is checked with lstat; the writer never follows a link it finds):
 * - a running container: its root as its processes see it (`/proc/PID/root`: volumes, binds and
 *   tmpfs mounts included), read through directory descriptors; the container is frozen while files
 *   are written into it, as Docker pauses it, so none of its processes can swap a directory for a
 *   link in between (without a freezer cgroup, rootless without delegation, it is not);
 * - a stopped one: its image layers under its upper directory, read without mounting; writes go to
 *   the upper directory (parents copied up as a build's COPY does); paths under a volume or bind
 *   mount go to the mount's source directory.
 * Rootless, this runs in skiff's user namespace (the descriptor's `userns`), so owners are the
 * container's ids; a keep-id container's are other ids here (container/keep-id.ts): its root, and
 * the ids of a tar, go through its maps, a host file keeps its owner (the user stays the user).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { extractOptions } from '../image/pull.js';
import { makeStagingDir, removeTree } from '../store/atomic.js';
import { containerFiles, findContainer, type ContainerRecord } from '../store/containers.js';
import { diffDir, mappedDiffDir } from '../store/layers.js';
import { packDirectory } from '../store/tarball.js';
import { whileFrozen } from '../container/lifecycle.js';
import { containerState } from '../container/state.js';
import { DiffWriter } from './copy.js';
import { ContextTree, errnoText, LayeredTree, joinRel, relPath, type Tree } from './tree.js';
import { untar } from './untar.js';
import { keepIdOwners } from '../container/keep-id.js';

export interface CpOptions {
  /** -a: keep the source's owners */
  archive: boolean;
  /** -L: follow a symlink source */
  followLink: boolean;
  /** a running container's root opened by the caller (rootless: as the user, before entering skiff's namespace) */
  liveRoot?: { pid: number; dir: string };
  /** an archive into a container: refuse to replace a directory by a non-directory or the reverse (the Engine API's noOverwriteDirNonDir) */
  noOverwriteDirNonDir?: boolean;
}

/** A path of a container resolved for reading or writing: the tree holding it and a writer for it. */
interface Located {
  tree: Tree;
  writer: DiffWriter;
  /** the path in `tree` and in `writer` ('' for its root) */
  rel: string;
  readOnly?: string;
}

/** How a container's files are reached for one `cp`. */
class ContainerFs {
  private readonly open: ContextTree[] = [];
  private merged?: LayeredTree;
  private live?: ContextTree;
  /** keep-id: its files are owned for its maps (its layers read as their copies for them) */
  readonly ids: ReturnType<typeof keepIdOwners>;

  constructor(readonly rec: ContainerRecord, readonly pid: number | undefined, readonly liveRoot?: CpOptions['liveRoot']) {
    this.ids = keepIdOwners(rec.HostConfig.UsernsMode);
  }

  private tree(dir: string): ContextTree {
    const t = new ContextTree(dir, undefined, `container ${this.rec.Name}`);
    this.open.push(t);
    return t;
  }

  close(): void {
    for (const t of this.open) t.close();
  }

  /** Resolve container path `p` (symlinks inside the root; the last one only when `followLast`). */
  locate(p: string, followLast: boolean): Located {
    const rel = relPath(p);
    if (this.pid) {
      this.live ??= this.tree(this.liveRoot?.pid === this.pid ? this.liveRoot.dir : `/proc/${this.pid}/root`);
      const r = this.live.resolve(rel, followLast);
      return { tree: this.live, writer: new DiffWriter(this.live.path, new LayeredTree([])), rel: r, ...this.readOnly(r) };
    }
    const files = containerFiles(this.rec.Id);
    const key = this.ids?.key;
    this.merged ??= new LayeredTree([files.upper, ...this.rec.Layers.map((l) => (key ? mappedDiffDir(l, key) : diffDir(l))).reverse()]);
    const r = this.merged.resolve(rel, followLast);
    const m = this.mountOf(r);
    if (m) {
      const t = this.tree(m.Source);
      const sub = t.resolve(r === relPath(m.Destination) ? '' : r.slice(relPath(m.Destination).length + 1), followLast);
      return { tree: t, writer: new DiffWriter(t.path, new LayeredTree([])), rel: sub, ...this.readOnly(r) };
    }
    return { tree: this.merged, writer: new DiffWriter(files.upper, this.merged), rel: r, ...this.readOnly(r) };
  }

  /** The volume or bind mount holding resolved path `r` (the deepest one). */
  private mountOf(r: string): ContainerRecord['Mounts'][number] | undefined {
    let best: ContainerRecord['Mounts'][number] | undefined;
    for (const m of this.rec.Mounts) {
      if (m.Type === 'tmpfs') continue;
      const d = relPath(m.Destination);
      if ((d === '' || r === d || r.startsWith(d + '/')) && (!best || d.length > relPath(best.Destination).length)) best = m;
    }
    return best;
  }

  /** Docker's refusals for writes: a read-only mount, a read-only root filesystem. */
  private readOnly(r: string): { readOnly?: string } {
    const m = [...this.rec.Mounts].filter((x) => r === relPath(x.Destination) || r.startsWith(relPath(x.Destination) + '/')).sort((a, b) => b.Destination.length - a.Destination.length)[0];
    if (m) return m.RW ? {} : { readOnly: 'mounted volume is marked read-only' };
    return this.rec.HostConfig.ReadonlyRootfs ? { readOnly: 'container rootfs is marked read-only' } : {};
  }
}

const missing = (ctr: string, p: string): SkiffError => new SkiffError('EINVAL', `Could not find the file ${p} in container ${ctr}`, 1);
const base = (p: string): string => path.posix.basename(p.replace(/\/+\.?$/, '')) || '';
const endsDot = (p: string): boolean => p === '.' || p.endsWith('/.');
const endsSep = (p: string): boolean => p.endsWith('/') || endsDot(p);

async function withContainer<T>(ref: string, o: CpOptions, fn: (c: ContainerFs) => Promise<T>, writes: boolean): Promise<T> {
  const rec = findContainer(ref);
  const st = containerState(rec);
  const run = async (): Promise<T> => {
    const c = new ContainerFs(rec, st.Running && st.Pid ? st.Pid : undefined, o.liveRoot);
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  };
  return writes && st.Running && !st.Paused ? whileFrozen(rec, run) : run();
}

type OwnerMap = (uid: number, gid: number) => { uid: number; gid: number };

/**
 * The owners written: the source's (-a) or one pair, through `map` (a keep-id container's ids) when
 * given; device nodes and fifos made, as Docker's archives carry them (copy.ts: to the `host`, a
 * device is root's alone).
 */
const owners = (o: CpOptions, uid: number, gid: number, to: 'host' | 'container', map?: OwnerMap): { chown?: { uid: number; gid: number }; preserveOwner?: boolean; specials: 'host' | 'container'; mapOwner?: OwnerMap } => ({
  ...(o.archive ? { preserveOwner: true } : { chown: { uid, gid } }),
  specials: to,
  ...(map ? { mapOwner: map } : {}),
});

/** `cp CONTAINER:SRC DEST|-` */
export async function copyFromContainer(ref: string, src: string, dest: string, o: CpOptions, stdout: Writable): Promise<void> {
  const srcAbs = src.startsWith('/') ? src : `/${src}`;
  await withContainer(
    ref,
    o,
    async (c) => {
      const at = c.locate(srcAbs, o.followLink || endsSep(srcAbs));
      const e = at.tree.entry(at.rel);
      if (!e) throw missing(c.rec.Name, srcAbs);
      const isDir = e.st.isDirectory();
      if (endsSep(srcAbs) && !isDir) throw new SkiffError('EINVAL', `"${srcAbs}": not a directory`, 1);
      if (dest === '-') return packTree(at.tree, at.rel, endsDot(srcAbs) ? '.' : base(srcAbs) || '.', stdout, c.ids?.inside);
      let dst: fs.Stats | undefined;
      try {
        dst = fs.statSync(dest);
      } catch {
        /* missing */
      }
      const me = { uid: process.getuid!(), gid: process.getgid!() };
      let dir: string;
      let name: string;
      if (dst?.isDirectory()) {
        if (isDir && endsDot(srcAbs)) return copyChildren(at, new DiffWriter(dest, new LayeredTree([])), '', o, me);
        [dir, name] = [dest, base(srcAbs) || path.basename(c.rec.Name)];
      } else if (dst) {
        if (isDir) throw new SkiffError('EINVAL', `cannot copy a directory to a file: "${dest}" exists and is not a directory`, 1);
        [dir, name] = [path.dirname(dest), path.basename(dest)];
      } else {
        if (dest.endsWith('/')) throw new SkiffError('EINVAL', `destination directory "${dest}" does not exist`, 1);
        if (!fs.statSync(path.dirname(path.resolve(dest)), { throwIfNoEntry: false })?.isDirectory()) {
          throw new SkiffError('EINVAL', `destination directory "${path.dirname(path.resolve(dest))}" does not exist`, 1);
        }
        [dir, name] = [path.dirname(path.resolve(dest)), path.basename(dest)];
      }
      new DiffWriter(dir, new LayeredTree([])).copyTree(at.tree, at.rel, name, owners(o, me.uid, me.gid, 'host'));
    },
    false,
  );
}

function copyChildren(from: { tree: Tree; rel: string }, w: DiffWriter, destRel: string, o: CpOptions, who: { uid: number; gid: number }): void {
  const own = owners(o, who.uid, who.gid, 'host');
  for (const n of from.tree.children(from.rel)) w.copyTree(from.tree, joinRel(from.rel, n), joinRel(destRel, n), own);
}

/**
 * `rel` of `tree` as a tar on `out`, owners kept (through `inside`: a keep-id container's): the entry `name` with what is below it, or (`.`)
 * what is below it alone. Copied to staging first, then packed.
 */
export async function packTree(tree: Tree, rel: string, name: string, out: Writable, inside?: OwnerMap): Promise<void> {
  const stage = await makeStagingDir('cp');
  try {
    const w = new DiffWriter(stage, new LayeredTree([]));
    const own = { preserveOwner: true, specials: 'container' as const, ...(inside ? { mapOwner: inside } : {}) };
    if (name === '.') for (const n of tree.children(rel)) w.copyTree(tree, joinRel(rel, n), n, own);
    else w.copyTree(tree, rel, name, own);
    await pipeTo(packDirectory(stage, {}), out);
  } finally {
    await removeTree(stage);
  }
}

export function pipeTo(r: Readable, w: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    r.on('error', reject);
    r.on('end', resolve);
    r.pipe(w, { end: false });
  });
}

/** `cp SRC|- CONTAINER:DEST` */
export async function copyToContainer(src: string, ref: string, dest: string, o: CpOptions, stdin: Readable): Promise<void> {
  const destAbs = dest.startsWith('/') ? dest : `/${dest}`;
  // the host side first: a missing source changes nothing in the container
  let host: ContextTree | undefined;
  let hostRel = '';
  let contents = src === '-';
  let stage: string | undefined;
  try {
    if (src === '-') {
      stage = await makeStagingDir('cp');
      await untar(stdin, stage, { chown: extractOptions().chown, what: 'the archive on stdin', specials: true });
      host = new ContextTree(stage, undefined, 'the archive on stdin');
    } else {
      const abs = path.resolve(src);
      let real: string;
      let st: fs.Stats;
      try {
        real = o.followLink ? fs.realpathSync(abs) : abs;
        st = fs.lstatSync(real);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new SkiffError('EINVAL', `${o.followLink ? 'stat' : 'lstat'} ${src}: ${code === 'ENOENT' ? 'no such file or directory' : errnoText(e)}`, 1);
      }
      if (endsSep(src) && !st.isDirectory()) throw new SkiffError('EINVAL', `"${src}": not a directory`, 1);
      if (real === '/') {
        host = new ContextTree('/', undefined, `"${src}"`);
        contents = true;
      } else {
        host = new ContextTree(path.dirname(real), undefined, `"${src}"`);
        hostRel = path.basename(real);
        contents = st.isDirectory() && endsDot(src);
      }
    }
    const from = host;
    const srcIsDir = from.entry(hostRel)?.st.isDirectory() ?? false;
    const name = base(src) || hostRel;
    await withContainer(
      ref,
      o,
      async (c) => {
        const at = c.locate(destAbs, true);
        const e = at.tree.entry(at.rel);
        let target: Located;
        if (e?.st.isDirectory()) {
          target = at;
        } else if (e) {
          if (src === '-' || srcIsDir) throw new SkiffError('EINVAL', `cannot copy ${src === '-' ? 'an archive' : 'a directory'} to a file: "${destAbs}" is not a directory`, 1);
          target = at;
        } else {
          if (src === '-' || endsSep(destAbs)) throw missing(c.rec.Name, destAbs);
          const parent = c.locate(path.posix.dirname(destAbs), true);
          if (!parent.tree.entry(parent.rel)?.st.isDirectory()) throw missing(c.rec.Name, path.posix.dirname(destAbs));
          target = at;
        }
        if (target.readOnly) throw new SkiffError('ESTATE', target.readOnly, 1);
        // keep-id: its root, or a tar's ids, are other ids here (a host file's owner is kept as it is)
        const own = owners(o, 0, 0, 'container', o.archive && src !== '-' ? undefined : c.ids?.store);
        const w = target.writer;
        w.ensureDir(e?.st.isDirectory() ? target.rel : path.posix.dirname(target.rel) === '.' ? '' : path.posix.dirname(target.rel), c.ids?.store(0, 0));
        if (e?.st.isDirectory()) {
          if (contents && o.noOverwriteDirNonDir) refuseDirNonDir(from, hostRel, target.tree, target.rel);
          if (contents) for (const n of from.children(hostRel)) w.copyTree(from, joinRel(hostRel, n), joinRel(target.rel, n), own);
          else w.copyTree(from, hostRel, joinRel(target.rel, name), own);
        } else {
          // a new DEST, or a file DEST overwritten: DEST itself (a new directory takes the source's contents)
          w.copyTree(from, hostRel, target.rel, own);
        }
      },
      true,
    );
  } finally {
    host?.close();
    if (stage) await removeTree(stage);
  }
}

/** noOverwriteDirNonDir: an entry of `from` that would replace a directory of `to` by a non-directory, or the reverse, is refused. */
function refuseDirNonDir(from: Tree, fromRel: string, to: Tree, toRel: string): void {
  for (const n of from.children(fromRel)) {
    const [f, t] = [joinRel(fromRel, n), joinRel(toRel, n)];
    const src = from.entry(f);
    const dst = to.entry(t);
    if (!src || !dst) continue;
    if (src.st.isDirectory() !== dst.st.isDirectory()) {
      throw new SkiffError('EINVAL', dst.st.isDirectory()
        ? `cannot overwrite directory "/${t}" with non-directory "/${t}"`
        : `cannot overwrite non-directory "/${t}" with directory "/${t}"`, 1);
    }
    if (src.st.isDirectory()) refuseDirNonDir(from, f, to, t);
  }
}

/** A container path as Docker's archive endpoints describe it (the X-Docker-Container-Path-Stat header). */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits and Go's type bits */
  mode: number;
  mtime: string;
  /** a symlink's target resolved inside the container ('' otherwise) */
  linkTarget: string;
}

/** Go's os.FileMode of an lstat: the permission bits, setuid/setgid/sticky and type as Go's high bits. */
function goFileMode(st: fs.Stats): number {
  let m = st.mode & 0o777;
  const bit = (n: number): void => void (m += 2 ** n);
  if (st.mode & 0o4000) bit(23);
  if (st.mode & 0o2000) bit(22);
  if (st.mode & 0o1000) bit(20);
  if (st.isDirectory()) bit(31);
  else if (st.isSymbolicLink()) bit(27);
  else if (st.isBlockDevice()) bit(26);
  else if (st.isCharacterDevice()) (bit(26), bit(21));
  else if (st.isFIFO()) bit(25);
  else if (st.isSocket()) bit(24);
  return m;
}

/**
 * Docker's stat of container path `p` (the symlinks above its last component followed inside the
 * root, the last one not: a link is described as a link, with its target resolved inside the
 * root); undefined when nothing is there.
 */
export async function statContainerPath(ref: string, p: string, o: Pick<CpOptions, 'liveRoot'> = {}): Promise<PathStat | undefined> {
  const abs = p.startsWith('/') ? p : `/${p}`;
  return withContainer(ref, { archive: false, followLink: false, ...o }, async (c) => {
    const at = c.locate(abs, endsSep(abs));
    const e = at.tree.entry(at.rel);
    if (!e) return undefined;
    const linkTarget = e.st.isSymbolicLink() ? `/${c.locate(abs, true).rel}` : '';
    return { name: endsDot(abs) ? '.' : base(abs) || '/', size: e.st.size, mode: goFileMode(e.st), mtime: e.st.mtime.toISOString(), linkTarget };
  }, false);
}
