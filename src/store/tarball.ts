/**
 * Overlay diff directory → OCI layer tar: the inverse of extract.ts, for `commit`, `build` and
 * `push`/`save` of layers that have no stored blob.
 *
 * - whiteouts (char device 0:0) become empty regular files `.wh.<name>`; a directory with the
 *   overlay opaque xattr gets a `.wh..wh..opq` entry right after its own;
 * - owners, modes (incl. setuid/setgid/sticky), mtimes (whole seconds, as Docker writes them) and
 *   xattrs (raw bytes as PAX `SCHILY.xattr.*`, so `security.capability` survives) are kept; overlay
 *   xattrs (`trusted.overlay.*`, `user.overlay.*`) and host SELinux labels are not layer content;
 * - hard links are found by (dev, ino): the first path is stored, later ones are typeflag 1;
 * - names are sorted bytewise, uname/gname left empty and PAX header names fixed, so the same tree
 *   always gives the same bytes (and so the same diffID);
 * - names are handled as raw bytes (non-UTF-8 names survive); ustar fields are used when they
 *   fit, PAX records otherwise. Limitation: xattrs of entries whose path is not valid UTF-8 are
 *   not read, except for directories (the native addon takes UTF-8 paths).
 * extractLayer(packDirectory(extractLayer(x))) gives the same tree as extractLayer(x).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import { layerAddon, native, type NativeAddon } from '../native.js';

export interface PackOptions {
  /** Which overlay xattr marks opaque directories (default: by rootless mode). */
  overlayXattrPrefix?: 'trusted.overlay.' | 'user.overlay.';
  /** The owner an entry gets in the tar from the one it has here (a keep-id container's upper dir: container/keep-id.ts). */
  owner?: (uid: number, gid: number) => { uid: number; gid: number };
}

/** Bytes gathered before a chunk is pushed downstream. */
const CHUNK = 1 << 20;
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;
const SLASH = Buffer.from('/');
const WH = Buffer.from('.wh.');
const OPQ = Buffer.from('.wh..wh..opq');

const skipXattr = (k: string): boolean =>
  k.startsWith('trusted.overlay.') || k.startsWith('user.overlay.') || k === 'security.selinux';

/** Linux dev_t → (major, minor), as glibc's gnu_dev_major/minor. */
function devNumbers(rdev: number): [number, number] {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  const major = ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
  const minor = (lo & 0xff) | ((lo >>> 12) & 0xfff00);
  return [major >>> 0, minor >>> 0];
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

interface HeaderFields {
  name: Buffer;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  link?: Buffer;
  devmajor?: number;
  devminor?: number;
  xattrs?: [string, Buffer][];
}

function octal(h: Buffer, off: number, len: number, n: number): void {
  h.write(n.toString(8).padStart(len - 1, '0'), off, len - 1, 'latin1');
  h[off + len - 1] = 0;
}

/** Split a long name into ustar prefix/name at a slash, if it fits. */
function splitName(name: Buffer): [Buffer, Buffer] | null {
  if (name.length <= 100) return [Buffer.alloc(0), name];
  if (name.length > 256) return null;
  for (let i = Math.min(155, name.length - 2); i >= name.length - 101 && i > 0; i--) {
    if (name[i] === 0x2f) return [name.subarray(0, i), name.subarray(i + 1)];
  }
  return null;
}

function ustar(f: HeaderFields, name: Buffer, prefix: Buffer, link: Buffer): Buffer {
  const h = Buffer.alloc(512);
  name.copy(h, 0, 0, Math.min(name.length, 100));
  octal(h, 100, 8, f.mode & 0o7777);
  octal(h, 108, 8, f.uid >= 0 && f.uid <= MAX_OCTAL_7 ? f.uid : 0);
  octal(h, 116, 8, f.gid >= 0 && f.gid <= MAX_OCTAL_7 ? f.gid : 0);
  octal(h, 124, 12, f.size <= MAX_OCTAL_11 ? f.size : 0);
  octal(h, 136, 12, f.mtime >= 0 && f.mtime <= MAX_OCTAL_11 ? f.mtime : 0);
  h.write(f.type, 156, 1, 'latin1');
  link.copy(h, 157, 0, Math.min(link.length, 100));
  h.write('ustar\u000000', 257, 8, 'latin1');
  if (f.devmajor !== undefined) octal(h, 329, 8, f.devmajor <= MAX_OCTAL_7 ? f.devmajor : 0);
  if (f.devminor !== undefined) octal(h, 337, 8, f.devminor <= MAX_OCTAL_7 ? f.devminor : 0);
  prefix.copy(h, 345, 0, Math.min(prefix.length, 155));
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[i]!;
  h.write(sum.toString(8).padStart(6, '0'), 148, 6, 'latin1');
  h[154] = 0;
  h[155] = 0x20;
  return h;
}

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);

/** The header blocks of one entry (a PAX extended header first when ustar cannot hold it). */
function headerBlocks(f: HeaderFields): Buffer[] {
  const pax: Buffer[] = [];
  let name = f.name;
  let prefix: Buffer = Buffer.alloc(0);
  const split = splitName(f.name);
  if (split) [prefix, name] = split;
  else pax.push(paxRecord('path', f.name));
  let link: Buffer = f.link ?? Buffer.alloc(0);
  if (link.length > 100) {
    pax.push(paxRecord('linkpath', link));
    link = Buffer.alloc(0);
  }
  if (f.uid < 0 || f.uid > MAX_OCTAL_7) pax.push(paxRecord('uid', Buffer.from(String(f.uid))));
  if (f.gid < 0 || f.gid > MAX_OCTAL_7) pax.push(paxRecord('gid', Buffer.from(String(f.gid))));
  if (f.size > MAX_OCTAL_11) pax.push(paxRecord('size', Buffer.from(String(f.size))));
  if (f.mtime < 0 || f.mtime > MAX_OCTAL_11) pax.push(paxRecord('mtime', Buffer.from(String(f.mtime))));
  if (f.devmajor !== undefined && f.devmajor > MAX_OCTAL_7) pax.push(paxRecord('SCHILY.devmajor', Buffer.from(String(f.devmajor))));
  if (f.devminor !== undefined && f.devminor > MAX_OCTAL_7) pax.push(paxRecord('SCHILY.devminor', Buffer.from(String(f.devminor))));
  for (const [k, v] of f.xattrs ?? []) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const out: Buffer[] = [];
  if (pax.length) {
    const body = Buffer.concat(pax);
    const base = f.name.subarray(f.name.lastIndexOf(0x2f, f.name.length - 2) + 1);
    const paxName = Buffer.concat([Buffer.from('PaxHeaders/'), base]).subarray(0, 100);
    out.push(ustar({ name: paxName, type: 'x', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: Math.max(0, f.mtime) }, paxName, Buffer.alloc(0), Buffer.alloc(0)));
    out.push(body, pad(body.length));
  }
  out.push(ustar(f, name, prefix, link));
  return out;
}

const utf8Path = (p: Buffer): string | undefined => (isUtf8(p) ? p.toString('utf8') : undefined);

/**
 * A UTF-8 path naming directory `abs` for the addon: the path itself, or, when it is not valid
 * UTF-8, `/proc/self/fd/<fd>/.` of an open descriptor (closed by `done`).
 */
function dirPath(abs: Buffer): { p: string | undefined; done: () => void } {
  const p = utf8Path(abs);
  if (p !== undefined) return { p, done: () => undefined };
  let fd: number;
  try {
    fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  } catch {
    return { p: undefined, done: () => undefined };
  }
  return { p: `/proc/self/fd/${fd}/.`, done: () => fs.closeSync(fd) };
}

function readXattrs(addon: NativeAddon, p: string | undefined): [string, Buffer][] {
  if (p === undefined) return [];
  let names: string[];
  try {
    names = addon.llistxattr(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTSUP' || code === 'EPERM') return [];
    throw e;
  }
  const out: [string, Buffer][] = [];
  for (const k of names.sort()) {
    if (skipXattr(k)) continue;
    let v: Buffer | null;
    try {
      v = addon.lgetxattr(p, k);
    } catch (e) {
      // one the caller may not read (rootless: a trusted.* name) is left out, as Podman's archiver does
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPERM' || code === 'EACCES' || code === 'ENOTSUP' || code === 'ENODATA') continue;
      throw e;
    }
    if (v !== null) out.push([k, v]);
  }
  return out;
}

function isOpaque(addon: NativeAddon, p: string | undefined, prefix: string): boolean {
  if (p === undefined) return false;
  try {
    return addon.lgetxattr(p, `${prefix}opaque`)?.toString('latin1') === 'y';
  } catch {
    return false;
  }
}

/** A path for a message: printable, and shortened when long. */
function shown(p: Buffer): string {
  const t = (b: Buffer): string => b.toString('utf8').replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return p.length <= 200 ? t(p) : `${t(p.subarray(0, 80))}...${t(p.subarray(p.length - 80))} (${p.length} bytes)`;
}

/**
 * The extractor's limits hold for the layers skiff makes too (a RUN step can make a tree of any
 * depth): a layer that could not be pulled or loaded again is not made. The path in the store is
 * checked as well: the packer walks by full paths.
 */
function checkLimits(rel: Buffer, abs: Buffer): void {
  const { maxPath, maxDepth } = layerAddon().limits;
  let depth = 1;
  for (const b of rel) if (b === 0x2f) depth++;
  const fail = (why: string): never => {
    throw new SkiffError('EINVAL', `layer entry "${shown(rel)}": ${why}`);
  };
  if (depth > maxDepth) fail(`path is ${depth} levels deep, deeper than the limit of ${maxDepth}`);
  if (rel.length > maxPath) fail(`path is ${rel.length} bytes long, longer than PATH_MAX allows (${maxPath})`);
  if (abs.length > maxPath) fail(`its path in the store is ${abs.length} bytes long, longer than PATH_MAX allows (${maxPath})`);
}

/** The bytes of regular file `abs`, `size` of them (zeros if it shrank meanwhile), padded. */
function* fileData(abs: Buffer, size: number): Generator<Buffer> {
  const fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(left, CHUNK));
      let got = 0;
      while (got < buf.length) {
        const n = fs.readSync(fd, buf, got, buf.length - got, null);
        if (n === 0) break;
        got += n;
      }
      left -= buf.length;
      if (got < buf.length) {
        // the file shrank while we read it: keep the size the header promised
        buf.fill(0, got);
        yield buf;
        if (left > 0) yield Buffer.alloc(left);
        break;
      }
      yield buf;
    }
  } finally {
    fs.closeSync(fd);
  }
  yield pad(size);
}

/** The name already written for the inode of `s` (a hard link to it), or none (then `r` is, when it has other links). */
function firstLink(seen: Map<string, Buffer>, s: fs.Stats, r: Buffer): Buffer | undefined {
  if (s.nlink <= 1) return undefined;
  const key = `${s.dev}:${s.ino}`;
  const first = seen.get(key);
  if (!first) seen.set(key, r);
  return first;
}

/** The archive, as a sequence of buffers (headers, file data, padding). */
function* entries(root: string, prefix: string, owner: PackOptions['owner']): Generator<Buffer> {
  const addon = native();
  const own = (st: fs.Stats): { uid: number; gid: number } => (owner ? owner(st.uid, st.gid) : { uid: st.uid, gid: st.gid });
  const seen = new Map<string, Buffer>();
  const rootBuf = Buffer.from(root, 'utf8');

  function* dir(abs: Buffer, rel: Buffer, st: fs.Stats | undefined): Generator<Buffer> {
    const via = dirPath(abs);
    let xattrs: [string, Buffer][];
    let opaque: boolean;
    try {
      xattrs = st ? readXattrs(addon, via.p) : [];
      opaque = isOpaque(addon, via.p, prefix);
    } finally {
      via.done();
    }
    if (st) yield* headerBlocks({ name: Buffer.concat([rel, SLASH]), type: '5', mode: st.mode, ...own(st), size: 0, mtime: Math.floor(st.mtimeMs / 1000), xattrs });
    if (opaque) {
      const s = st ?? fs.lstatSync(abs);
      yield* headerBlocks({ name: rel.length ? Buffer.concat([rel, SLASH, OPQ]) : OPQ, type: '0', mode: s.mode & 0o777, ...own(s), size: 0, mtime: Math.floor(s.mtimeMs / 1000) });
    }
    const names = (fs.readdirSync(abs, { encoding: 'buffer' }) as Buffer[]).sort(Buffer.compare);
    for (const n of names) {
      const p = Buffer.concat([abs, SLASH, n]);
      const r = rel.length ? Buffer.concat([rel, SLASH, n]) : n;
      checkLimits(r, p);
      const s = fs.lstatSync(p);
      const mtime = Math.floor(s.mtimeMs / 1000);
      const base = { mode: s.mode, ...own(s), size: 0, mtime };
      if (s.isDirectory()) {
        yield* dir(p, r, s);
        continue;
      }
      if (s.isCharacterDevice() && s.rdev === 0) {
        const wh = rel.length ? Buffer.concat([rel, SLASH, WH, n]) : Buffer.concat([WH, n]);
        yield* headerBlocks({ ...base, name: wh, type: '0', mode: 0 });
        continue;
      }
      if (s.isSocket()) continue; // tar cannot hold sockets
      const first = firstLink(seen, s, r);
      if (first) {
        yield* headerBlocks({ ...base, name: r, type: '1', link: first });
        continue;
      }
      yield* nonDirectory(addon, utf8Path(p), p, r, s, base);
    }
  }

  yield* dir(rootBuf, Buffer.alloc(0), undefined);
  yield Buffer.alloc(1024);
}

/** A merged tree read without following links (builder/tree.ts LayeredTree): each entry's host path and lstat. */
export interface MergedTree {
  entry(rel: string): { host: string; st: fs.Stats } | undefined;
  children(rel: string): string[];
}

/**
 * The entries below the root of a merged tree (an exported container's filesystem) as a plain
 * tar: whiteouts and opaque directories are already resolved by the tree, so what it shows is
 * written as it is, devices (major/minor), fifos and xattrs (as in a layer) included; sockets
 * are left out. Hard links by (dev, ino) among the entries written.
 */
function* mergedEntries(tree: MergedTree, owner?: (host: string, st: fs.Stats) => { uid: number; gid: number }): Generator<Buffer> {
  const addon = native();
  const seen = new Map<string, Buffer>();
  function* walk(rel: string): Generator<Buffer> {
    for (const n of tree.children(rel)) {
      const relStr = rel ? `${rel}/${n}` : n;
      const e = tree.entry(relStr);
      if (!e) continue;
      const r = Buffer.from(relStr, 'utf8');
      const p = Buffer.from(e.host, 'utf8');
      checkLimits(r, p);
      const s = e.st;
      const base = { mode: s.mode, ...(owner ? owner(e.host, s) : { uid: s.uid, gid: s.gid }), size: 0, mtime: Math.floor(s.mtimeMs / 1000) };
      if (s.isSocket()) continue; // tar cannot hold sockets
      if (s.isDirectory()) {
        yield* headerBlocks({ ...base, name: Buffer.concat([r, SLASH]), type: '5', xattrs: readXattrs(addon, e.host) });
        yield* walk(relStr);
        continue;
      }
      const first = firstLink(seen, s, r);
      if (first) {
        yield* headerBlocks({ ...base, name: r, type: '1', link: first });
        continue;
      }
      yield* nonDirectory(addon, e.host, p, r, s, base);
    }
  }
  yield* walk('');
  yield Buffer.alloc(1024);
}

/** The header (and data) of a file, link, fifo or device `p` (host path; `host` as UTF-8 for the addon) named `r`. */
function* nonDirectory(addon: NativeAddon, host: string | undefined, p: Buffer, r: Buffer, s: fs.Stats, base: Pick<HeaderFields, 'mode' | 'uid' | 'gid' | 'size' | 'mtime'>): Generator<Buffer> {
  const xattrs = readXattrs(addon, host);
  if (s.isSymbolicLink()) {
    yield* headerBlocks({ ...base, name: r, type: '2', link: fs.readlinkSync(p, { encoding: 'buffer' }) as Buffer, xattrs });
  } else if (s.isFile()) {
    yield* headerBlocks({ ...base, name: r, type: '0', size: s.size, xattrs });
    yield* fileData(p, s.size);
  } else if (s.isFIFO()) {
    yield* headerBlocks({ ...base, name: r, type: '6', xattrs });
  } else if (s.isCharacterDevice() || s.isBlockDevice()) {
    const [devmajor, devminor] = devNumbers(s.rdev);
    yield* headerBlocks({ ...base, name: r, type: s.isCharacterDevice() ? '3' : '4', devmajor, devminor, xattrs });
  }
}

/** A merged tree (an exported container's filesystem) as an uncompressed tar stream; `owner`: an entry's owner in the tar from its host path and lstat (default: as it is). */
export function packMergedTree(tree: MergedTree, owner?: (host: string, st: fs.Stats) => { uid: number; gid: number }): Readable {
  return chunked(() => mergedEntries(tree, owner));
}

/** Turn an overlay diff directory back into an (uncompressed) OCI layer tar stream. */
export function packDirectory(dir: string, opts: PackOptions = {}): Readable {
  const prefix = opts.overlayXattrPrefix ?? (paths().rootless ? 'user.overlay.' : 'trusted.overlay.');
  return chunked(() => entries(dir, prefix, opts.owner));
}

function chunked(start: () => Generator<Buffer>): Readable {
  let it: Generator<Buffer> | undefined;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      try {
        it ??= start();
        // gather small pieces (headers, small files) into one chunk; stop after each large one
        const parts: Buffer[] = [];
        let bytes = 0;
        while (bytes < CHUNK) {
          const r = it.next();
          if (r.done) {
            if (bytes) this.push(parts.length === 1 ? parts[0] : Buffer.concat(parts, bytes));
            this.push(null);
            return;
          }
          parts.push(r.value);
          bytes += r.value.length;
        }
        this.push(parts.length === 1 ? parts[0] : Buffer.concat(parts, bytes));
      } catch (e) {
        this.destroy(e as Error);
      }
    },
  });
}

/** The digest of the tar packDirectory makes of `dir`: the diffID the directory has as a layer. */
export async function packedDigest(dir: string, opts: PackOptions = {}): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const c of packDirectory(dir, opts)) hash.update(c as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
