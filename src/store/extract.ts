/**
 * OCI layer tar → overlayfs "diff" directory.
 *
 * Why our own tar reader: node's `tar` package decodes every PAX value as UTF-8, which corrupts
 * binary xattrs such as `security.capability` (SCHILY.xattr.*). Here PAX records stay raw bytes
 * until we know the key, and names stay raw bytes too (held as latin1 strings, one char per byte,
 * handed to fs as Buffers when not ASCII), so non-UTF-8 file names survive.
 * Formats: POSIX ustar (prefix field), GNU (long names `L`, long links `K`, base-256 numbers), PAX
 * `x` (next entry) and `g` (defaults for all later entries; path/linkpath/size are never global),
 * libarchive's `LIBARCHIVE.xattr.*` as a fallback for xattrs. Header-only types (links, dirs,
 * devices, fifos) carry no data whatever their size field says, as Go's archive/tar reads them.
 *
 * Overlay format: `.wh.<name>` → char device 0:0 `<name>`; `.wh..wh..opq` → `<prefix>opaque=y` on
 * its directory; other `.wh..wh.*` (aufs metadata) are skipped.
 *
 * Security: entry paths are normalised lexically and may not climb out with `..`. They are created
 * component by component under the target and never through a symlink: a parent that is a symlink
 * (which can only have come from this layer: the target starts empty) fails the layer, and the
 * final component is created with O_EXCL / mkdir / symlink / mknod, which never follow one.
 * Hard-link targets must name an existing non-directory of this layer, reached the same way.
 * Anything else fails the whole layer with SkiffError('EINVAL'); the caller discards the staging dir.
 *
 * Speed: extraction is disk-bound, so the per-entry cost must be a handful of syscalls. They are
 * made synchronously (no thread-pool round trip per call), in the order GNU tar uses: create,
 * write (batched with writev, no copies, no fsync), fchown, xattrs, fchmod (after chown, which
 * clears setuid), futimes, close. Parents known to be real directories are cached so deep trees
 * do not cost an lstat per component. Directory modes and times are applied at the end, since
 * creating children changes a directory's mtime (and a read-only mode would block them).
 */
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { native, type NativeAddon } from '../native.js';
import { writeAllSync } from './atomic.js';

export interface ExtractOptions {
  overlayXattrPrefix: 'trusted.overlay.' | 'user.overlay.';
  /** Apply entry owners (false when only one id is mapped). */
  chown: boolean;
  /** Names the layer in error messages (e.g. its digest). */
  label?: string;
}

export interface ExtractResult {
  /** Bytes of regular-file content written. */
  size: number;
  /** Device nodes that could not be created (EPERM, rootless) and were skipped. */
  skippedDevices: number;
}

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
/** Bytes of file content gathered before one writev. */
const WRITE_BATCH = 1 << 20;
/** Upper bound for one PAX / GNU long-name header body. */
const MAX_META = 16 << 20;
const ASCII = /^[\x00-\x7f]*$/;
/** aufs' hard-link directory in old layers. */
const PLNK = '.wh..wh.plnk';

interface Entry {
  /** Raw bytes of the name as a latin1 string. */
  name: string;
  linkname: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  size: number;
  mtime: number;
  atime: number | undefined;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

interface DirMeta {
  mode: number;
  atime: number;
  mtime: number;
}

/** A time for fs.*utimes: node turns negative numbers into "now", but keeps a Date's value. */
const ts = (t: number): number | Date => (t < 0 ? new Date(t * 1000) : t);

/** Human-readable form of a raw (latin1) name. */
const shown = (raw: string): string => Buffer.from(raw, 'latin1').toString('utf8');

// ---------------------------------------------------------------------------------------------
// tar header fields

function badHeader(offset: number, why: string): SkiffError {
  return new SkiffError('EINVAL', `invalid tar header at offset ${offset}: ${why}`);
}

/** Octal (NUL/space padded) or GNU base-256 number; NaN when malformed. */
function parseNumber(b: Buffer, off: number, len: number): number {
  const first = b[off]!;
  if (first & 0x80) {
    const inv = first & 0x40 ? 0xff : 0;
    let x = 0;
    for (let i = 0; i < len; i++) {
      let c = b[off + i]! ^ inv;
      if (i === 0) c &= 0x7f;
      x = x * 256 + c;
      if (x > Number.MAX_SAFE_INTEGER) return NaN;
    }
    return inv ? -x - 1 : x;
  }
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let x = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c >= 0x30 && c <= 0x37) {
      x = x * 8 + (c - 0x30);
      digits++;
    } else break;
  }
  for (; i < end; i++) if (b[i] !== 0x20 && b[i] !== 0) return NaN;
  return digits ? x : 0;
}

/** A NUL-terminated field as raw bytes (latin1 string). */
function field(b: Buffer, off: number, len: number): string {
  let end = b.indexOf(0, off);
  if (end < 0 || end > off + len) end = off + len;
  return b.toString('latin1', off, end);
}

function checksumOk(b: Buffer): boolean {
  const stored = parseNumber(b, 148, 8);
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < 512; i++) {
    if (i >= 148 && i < 156) continue;
    const c = b[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < 512; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * PAX records `"<len> <key>=<value>\n"`; values stay raw bytes. An empty value deletes the key
 * (stored as an empty Buffer and resolved by the caller).
 */
function parsePax(data: Buffer, offset: number, into: Map<string, Buffer>): void {
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break; // some writers pad with NULs
    const sp = data.indexOf(0x20, i);
    const digits = sp > i ? data.toString('latin1', i, sp) : '';
    const len = /^[0-9]{1,9}$/.test(digits) ? Number(digits) : NaN;
    if (!Number.isInteger(len) || len <= sp - i + 1 || i + len > data.length || data[i + len - 1] !== 0x0a) {
      throw badHeader(offset, 'malformed PAX extended header');
    }
    const rec = data.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw badHeader(offset, 'malformed PAX extended header');
    into.set(rec.toString('utf8', 0, eq), rec.subarray(eq + 1));
    i += len;
  }
}

function paxNumber(v: Buffer, key: string, offset: number): number {
  const s = v.toString('latin1', 0, v.length);
  const n = /^-?[0-9]+(\.[0-9]*)?$/.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(n)) throw badHeader(offset, `bad PAX ${key} "${s}"`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// paths

/** Lexically normalised components of an entry path, or null if it climbs out of the root. */
function normalise(name: string): string[] | null {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (!out.length) return null;
      out.pop();
    } else out.push(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

const enum State {
  Header,
  Meta,
  Body,
  Skip,
  End,
}

class LayerWriter {
  private readonly root: string;
  private readonly rootBuf: Buffer;
  private addonRef: NativeAddon | undefined;

  // parser state
  private state = State.Header;
  /** Archive offset of the next byte fed in. */
  private offset = 0;
  private readonly hdr = Buffer.alloc(512);
  private hdrFill = 0;
  private hdrOffset = 0;
  private metaType = '';
  private metaParts: Buffer[] = [];
  private metaLeft = 0;
  private metaSize = 0;
  private skipLeft = 0;
  private longName: string | undefined;
  private longLink: string | undefined;
  private pax = new Map<string, Buffer>();
  private readonly globalPax = new Map<string, Buffer>();

  // current regular file
  private fd = -1;
  private fileRel = '';
  private fileEntry: Entry | undefined;
  private bodyLeft = 0;
  private padAfter = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  // tree state
  /** Relative paths known to be real directories (cleared whenever a directory is removed). */
  private readonly dirs = new Set<string>(['']);
  /** Directories whose mode and times are applied at the end. */
  private readonly dirMeta = new Map<string, DirMeta>();
  private tmpSeq = 0;
  /** The aufs hard-link stash (.wh..wh.plnk) exists in the target. */
  private plnk = false;

  size = 0;
  skippedDevices = 0;

  /**
   * The owner a new inode gets anyway (our euid/egid), when that holds: the target's directories
   * are created without setgid (modes come at the end), so only a setgid target could hand out
   * another group. Entries owned by it need no chown call (most of a layer when we are root).
   */
  private readonly ownUid: number;
  private readonly ownGid: number;

  constructor(target: string, private readonly opts: ExtractOptions) {
    this.root = target.endsWith('/') ? target : target + '/';
    this.rootBuf = Buffer.from(this.root, 'utf8');
    const setgid = opts.chown && (fs.statSync(target).mode & 0o2000) !== 0;
    this.ownUid = setgid ? -1 : process.geteuid!();
    this.ownGid = setgid ? -1 : process.getegid!();
  }

  /** Whether entry `e` needs a chown (owners apply and differ from what creating it gave). */
  private chowns(e: Entry): boolean {
    return this.opts.chown && (e.uid !== this.ownUid || e.gid !== this.ownGid);
  }

  private get addon(): NativeAddon {
    return (this.addonRef ??= native());
  }

  // ------------------------------------------------------------------ parsing

  get ended(): boolean {
    return this.state === State.End;
  }

  /** Consume one chunk of the archive (synchronously: every entry it completes is written). */
  feed(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case State.Header: {
          if (this.hdrFill === 0 && n - i >= 512) {
            // whole header inside the chunk: no copy
            this.hdrOffset = this.offset;
            this.offset += 512;
            const b = chunk.subarray(i, i + 512);
            i += 512;
            this.onHeader(b);
          } else {
            if (this.hdrFill === 0) this.hdrOffset = this.offset;
            const take = Math.min(512 - this.hdrFill, n - i);
            chunk.copy(this.hdr, this.hdrFill, i, i + take);
            this.hdrFill += take;
            this.offset += take;
            i += take;
            if (this.hdrFill === 512) {
              this.hdrFill = 0;
              this.onHeader(this.hdr);
            }
          }
          break;
        }
        case State.Meta: {
          const take = Math.min(this.metaLeft, n - i);
          this.metaParts.push(chunk.subarray(i, i + take));
          this.metaLeft -= take;
          this.offset += take;
          i += take;
          if (this.metaLeft === 0) this.onMeta();
          break;
        }
        case State.Body: {
          const take = Math.min(this.bodyLeft, n - i);
          this.pending.push(chunk.subarray(i, i + take));
          this.pendingBytes += take;
          this.bodyLeft -= take;
          this.offset += take;
          i += take;
          if (this.bodyLeft === 0) this.finishFile();
          else if (this.pendingBytes >= WRITE_BATCH) this.flush();
          break;
        }
        case State.Skip: {
          const take = Math.min(this.skipLeft, n - i);
          this.skipLeft -= take;
          this.offset += take;
          i += take;
          if (this.skipLeft === 0) this.state = State.Header;
          break;
        }
        case State.End:
          // whatever follows the end-of-archive blocks is read and dropped (the caller's digest
          // check must see every byte)
          this.offset += n - i;
          return;
      }
    }
  }

  /** The archive is complete (LayerSink.end). */
  end(): ExtractResult {
    this.finish();
    this.finishDirs();
    return { size: this.size, skippedDevices: this.skippedDevices };
  }

  /** The input ended. */
  finish(): void {
    if (this.state === State.End) return;
    if (this.state === State.Header && this.hdrFill === 0 && !this.longName && !this.longLink && !this.pax.size) {
      // EOF on a block boundary without end-of-archive blocks: accepted, as Go's archive/tar does
      this.state = State.End;
      return;
    }
    throw new SkiffError('EINVAL', `layer${this.label} archive is truncated at offset ${this.offset}`);
  }

  /** Release what an aborted extraction holds. */
  abort(): void {
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already failing */
      }
      this.fd = -1;
    }
  }

  private get label(): string {
    return this.opts.label ? ` ${this.opts.label}` : '';
  }

  private skip(n: number): void {
    if (n > 0) {
      this.skipLeft = n;
      this.state = State.Skip;
    } else this.state = State.Header;
  }

  private onHeader(b: Buffer): void {
    const at = this.hdrOffset;
    if (isZeroBlock(b)) {
      // end of archive (the second zero block, and any padding, is drained)
      this.state = State.End;
      return;
    }
    if (!checksumOk(b)) throw badHeader(at, 'checksum mismatch');
    const typeByte = b[156]!;
    const type = typeByte === 0 ? '0' : String.fromCharCode(typeByte);
    const size = parseNumber(b, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) throw badHeader(at, 'bad size field');
    const padded = Math.ceil(size / 512) * 512;

    if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
      if (size > MAX_META) throw badHeader(at, `extended header of ${size} bytes is too large`);
      this.metaType = type;
      this.metaSize = size;
      this.metaLeft = padded;
      this.metaParts = [];
      this.state = State.Meta;
      if (padded === 0) this.onMeta();
      return;
    }

    const magic = b.toString('latin1', 257, 263);
    const posix = magic === 'ustar\0';
    let name = field(b, 0, 100);
    if (posix && b[345] !== 0) name = `${field(b, 345, 155)}/${name}`;
    const e: Entry = {
      name: this.longName ?? name,
      linkname: this.longLink ?? field(b, 157, 100),
      type,
      mode: parseNumber(b, 100, 8),
      uid: parseNumber(b, 108, 8),
      gid: parseNumber(b, 116, 8),
      uname: posix || magic.startsWith('ustar') ? field(b, 265, 32) : '',
      gname: posix || magic.startsWith('ustar') ? field(b, 297, 32) : '',
      size,
      mtime: parseNumber(b, 136, 12),
      atime: undefined,
      devmajor: parseNumber(b, 329, 8),
      devminor: parseNumber(b, 337, 8),
      xattrs: new Map(),
    };
    if (type === '3' || type === '4') {
      if (Number.isNaN(e.devmajor) || Number.isNaN(e.devminor)) throw badHeader(at, 'bad device number');
    }
    if (Number.isNaN(e.mode) || Number.isNaN(e.uid) || Number.isNaN(e.gid) || Number.isNaN(e.mtime)) {
      throw badHeader(at, 'bad numeric field');
    }
    this.longName = undefined;
    this.longLink = undefined;
    const pax = this.pax;
    this.pax = new Map();
    if (this.globalPax.size || pax.size) this.applyPax(e, pax, at);
    e.mode &= 0o7777;
    if (e.atime === undefined) e.atime = e.mtime;

    // header-only types carry no data (Go's archive/tar agrees); others are followed by `size`
    const headerOnly = type === '1' || type === '2' || type === '3' || type === '4' || type === '5' || type === '6';
    const dataLen = headerOnly ? 0 : e.size;
    const dataPadded = headerOnly ? 0 : Math.ceil(e.size / 512) * 512;
    try {
      if (this.entry(e, dataPadded - dataLen)) return; // a regular file: its body follows
    } catch (err) {
      throw this.wrap(err, e);
    }
    this.skip(dataPadded);
  }

  private onMeta(): void {
    const at = this.hdrOffset;
    const data = (this.metaParts.length === 1 ? this.metaParts[0]! : Buffer.concat(this.metaParts)).subarray(0, this.metaSize);
    this.metaParts = [];
    this.state = State.Header;
    switch (this.metaType) {
      case 'L':
        this.longName = field(data, 0, data.length);
        break;
      case 'K':
        this.longLink = field(data, 0, data.length);
        break;
      case 'x':
        parsePax(data, at, this.pax);
        break;
      case 'g':
        parsePax(data, at, this.globalPax);
        break;
    }
  }

  private applyPax(e: Entry, local: Map<string, Buffer>, at: number): void {
    const all = new Map<string, Buffer>();
    for (const [k, v] of this.globalPax) if (k !== 'path' && k !== 'linkpath' && k !== 'size') all.set(k, v);
    for (const [k, v] of local) all.set(k, v);
    const libarchiveXattrs: [string, Buffer][] = [];
    for (const [k, v] of all) {
      if (v.length === 0) continue; // an empty value removes the key (and any global default)
      switch (k) {
        case 'path':
          e.name = v.toString('latin1', 0, v.length);
          break;
        case 'linkpath':
          e.linkname = v.toString('latin1', 0, v.length);
          break;
        case 'size': {
          const n = paxNumber(v, k, at);
          if (!Number.isSafeInteger(n) || n < 0) throw badHeader(at, 'bad PAX size');
          e.size = n;
          break;
        }
        case 'uid':
          e.uid = paxNumber(v, k, at);
          break;
        case 'gid':
          e.gid = paxNumber(v, k, at);
          break;
        case 'uname':
          e.uname = v.toString('utf8');
          break;
        case 'gname':
          e.gname = v.toString('utf8');
          break;
        case 'mtime':
          e.mtime = paxNumber(v, k, at);
          break;
        case 'atime':
          e.atime = paxNumber(v, k, at);
          break;
        case 'SCHILY.devmajor':
          e.devmajor = paxNumber(v, k, at);
          break;
        case 'SCHILY.devminor':
          e.devminor = paxNumber(v, k, at);
          break;
        default:
          if (k.startsWith('SCHILY.xattr.')) e.xattrs.set(k.slice(13), v);
          else if (k.startsWith('LIBARCHIVE.xattr.')) {
            libarchiveXattrs.push([decodeURIComponent(k.slice(17)), Buffer.from(v.toString('latin1', 0, v.length), 'base64')]);
          } else if (k.startsWith('GNU.sparse.')) e.type = 'S';
      }
    }
    for (const [k, v] of libarchiveXattrs) if (!e.xattrs.has(k)) e.xattrs.set(k, v);
  }

  // ------------------------------------------------------------------ writing

  private wrap(err: unknown, e: Entry): unknown {
    if (err instanceof SkiffError) return err;
    const x = err as NodeJS.ErrnoException;
    if (x && typeof x === 'object' && x.code && x.code !== 'ENOSPC' && x.code !== 'EDQUOT') {
      x.message = `layer${this.label} entry "${shown(e.name)}": ${x.message}`;
    }
    return err;
  }

  private escapes(e: Entry, what = 'path escapes the layer root'): SkiffError {
    return new SkiffError('EINVAL', `layer${this.label} entry "${shown(e.name)}": ${what}`);
  }

  /** A path for fs: a string when ASCII, else the raw bytes. */
  private p(rel: string): string | Buffer {
    return ASCII.test(rel) ? this.root + rel : Buffer.concat([this.rootBuf, Buffer.from(rel, 'latin1')]);
  }

  /**
   * Run a call of the native addon (which takes UTF-8 strings) on `rel`. A name that is not valid
   * UTF-8 is moved to an ASCII name for the call and back.
   */
  private viaAddon(rel: string, create: boolean, fn: (p: string) => void): void {
    if (ASCII.test(rel)) return fn(this.root + rel);
    const raw = Buffer.from(rel, 'latin1');
    if (isUtf8(raw)) return fn(this.root + raw.toString('utf8'));
    const tmp = `${this.root}.skiff-tmp-${process.pid}-${this.tmpSeq++}`;
    if (!create) fs.renameSync(this.p(rel), tmp);
    try {
      fn(tmp);
    } finally {
      if (fs.lstatSync(tmp, { throwIfNoEntry: false })) fs.renameSync(tmp, this.p(rel));
    }
  }

  /**
   * Make sure every parent of `comps` is a real directory inside the root (creating missing ones
   * 0755); returns the relative path of the entry.
   */
  private parents(comps: string[], e: Entry, create: boolean): string {
    const last = comps.length - 1;
    if (last === 0) return comps[0]!;
    let parent = comps[0]!;
    for (let i = 1; i < last; i++) parent += '/' + comps[i];
    if (!this.dirs.has(parent)) {
      let rel = '';
      for (let i = 0; i < last; i++) {
        rel = i ? rel + '/' + comps[i] : comps[i]!;
        if (this.dirs.has(rel)) continue;
        const p = this.p(rel);
        const st = fs.lstatSync(p, { throwIfNoEntry: false });
        if (!st) {
          if (!create) throw this.escapes(e, 'hard link target is not in the layer');
          fs.mkdirSync(p, 0o755);
          fs.chmodSync(p, 0o755); // whatever the umask
        } else if (st.isSymbolicLink()) {
          throw this.escapes(e);
        } else if (!st.isDirectory()) {
          throw this.escapes(e, `parent "${shown(rel)}" is not a directory`);
        }
        this.dirs.add(rel);
      }
    }
    return parent + '/' + comps[last];
  }

  /** Clear `rel` for a new entry (tar's semantics: replace; a directory only by a non-directory). */
  private makeRoom(rel: string, keepDir: boolean): 'dir' | 'removed' | 'none' {
    const p = this.p(rel);
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) return 'none';
    if (st.isDirectory()) {
      if (keepDir) return 'dir';
      fs.rmSync(p, { recursive: true, force: true });
      this.dirs.clear();
      this.dirs.add('');
      for (const d of [...this.dirMeta.keys()]) if (d === rel || d.startsWith(rel + '/')) this.dirMeta.delete(d);
    } else fs.unlinkSync(p);
    return 'removed';
  }

  /** Create with `make`; if something is in the way, replace it once. */
  private create(rel: string, make: () => void): void {
    try {
      make();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      this.makeRoom(rel, false);
      make();
    }
  }

  private setXattrs(rel: string, xattrs: Map<string, Buffer>): void {
    for (const [k, v] of xattrs) {
      // overlayfs' own xattrs are not layer content: a layer must not forge redirects or origins
      if (k.startsWith('trusted.overlay.') || k.startsWith('user.overlay.')) continue;
      try {
        this.viaAddon(rel, false, (p) => this.addon.lsetxattr(p, k, v));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (k === 'security.capability' || (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EACCES')) throw err;
      }
    }
  }

  /** Handle one entry. Returns true when a regular file's body follows (state set to Body). */
  private entry(e: Entry, padAfter: number): boolean {
    if (e.name.includes('\0') || e.linkname.includes('\0')) throw this.escapes(e, 'name contains a NUL byte');
    const comps = normalise(e.name);
    if (!comps) throw this.escapes(e);
    let type = e.type;
    if (type === '0' && e.name.endsWith('/')) type = '5'; // old (v7) archives mark directories so
    if (!comps.length) {
      if (type === '5' || type === 'D') return false; // the root itself: the target's own metadata stays
      throw this.escapes(e, 'entry names the layer root');
    }
    const base = comps[comps.length - 1]!;

    const last = comps.length - 1;
    if (comps.some((c, i) => c.startsWith('.wh..wh.') && (i < last || c !== '.wh..wh..opq'))) {
      // aufs metadata (.wh..wh.plnk, .wh..wh.aufs, .wh..wh.orph) is not layer content. Files in
      // the top-level .wh..wh.plnk may be hard-link targets of later entries: kept until the end.
      if (comps.length === 2 && comps[0] === PLNK && (type === '0' || type === '7')) {
        if (!this.plnk) {
          fs.mkdirSync(this.p(PLNK), 0o700);
          this.plnk = true;
          this.dirs.add(PLNK);
        }
        return this.openFile(`${PLNK}/${comps[1]}`, e, padAfter, false);
      }
      return false;
    }

    if (base.startsWith('.wh.')) {
      if (base === '.wh..wh..opq') {
        this.parents(comps, e, true); // creates the directory itself if the archive has not yet
        const dirRel = comps.slice(0, -1).join('/');
        this.viaAddon(dirRel, false, (p) => this.addon.lsetxattr(p, `${this.opts.overlayXattrPrefix}opaque`, Buffer.from('y')));
        return false;
      }
      const victim = base.slice(4);
      if (!victim || victim === '.' || victim === '..') throw this.escapes(e, 'invalid whiteout name');
      comps[comps.length - 1] = victim;
      const rel = this.parents(comps, e, true);
      this.makeRoom(rel, false);
      this.viaAddon(rel, true, (p) => {
        try {
          this.addon.mknod(p, S_IFCHR, 0, 0);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EPERM') {
            throw new SkiffError('ERUNTIME', `layer${this.label}: cannot create the whiteout for "${shown(e.name)}" (a 0:0 character device): not permitted; rootless extraction needs Linux 5.8 or later`);
          }
          throw err;
        }
      });
      if (this.chowns(e)) fs.lchownSync(this.p(rel), e.uid, e.gid);
      return false;
    }

    switch (type) {
      case '1':
        this.hardLink(e, comps);
        return false;
      case '2': {
        const rel = this.parents(comps, e, true);
        const p = this.p(rel);
        const to = ASCII.test(e.linkname) ? e.linkname : Buffer.from(e.linkname, 'latin1');
        this.create(rel, () => fs.symlinkSync(to, p));
        if (this.chowns(e)) fs.lchownSync(p, e.uid, e.gid);
        if (e.xattrs.size) this.setXattrs(rel, e.xattrs);
        fs.lutimesSync(p, ts(e.atime!), ts(e.mtime));
        return false;
      }
      case '3':
      case '4':
      case '6': {
        const rel = this.parents(comps, e, true);
        const kind = type === '3' ? S_IFCHR : type === '4' ? S_IFBLK : S_IFIFO;
        this.makeRoom(rel, false);
        try {
          this.viaAddon(rel, true, (p) => this.addon.mknod(p, kind | (e.mode & 0o777), e.devmajor, e.devminor));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EPERM' && type !== '6') {
            this.skippedDevices++; // device nodes cannot be made in a user namespace: skipped as rootless podman does
            return false;
          }
          throw err;
        }
        const p = this.p(rel);
        if (this.chowns(e)) fs.lchownSync(p, e.uid, e.gid);
        if (e.xattrs.size) this.setXattrs(rel, e.xattrs);
        fs.chmodSync(p, e.mode);
        fs.utimesSync(p, ts(e.atime!), ts(e.mtime));
        return false;
      }
      case '5':
      case 'D': // GNU incremental dump directory: its data (a listing) is skipped
        this.directory(this.parents(comps, e, true), e);
        return false;
      case 'S':
        throw this.escapes(e, 'GNU sparse files are not supported in layers');
      case 'M':
        throw this.escapes(e, 'multi-volume archives are not supported');
      case 'V':
        return false; // volume label
      default:
        // '0', '7' and, as POSIX says, any unknown type: a regular file
        return this.openFile(this.parents(comps, e, true), e, padAfter);
    }
  }

  private directory(rel: string, e: Entry): void {
    const p = this.p(rel);
    let made = true;
    try {
      fs.mkdirSync(p, 0o700);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (this.makeRoom(rel, true) !== 'dir') fs.mkdirSync(p, 0o700);
      else made = false; // an earlier entry's directory: it may have another owner
    }
    this.dirs.add(rel);
    if (made ? this.chowns(e) : this.opts.chown) fs.lchownSync(p, e.uid, e.gid);
    if (e.xattrs.size) this.setXattrs(rel, e.xattrs);
    this.dirMeta.set(rel, { mode: e.mode, atime: e.atime!, mtime: e.mtime });
  }

  private hardLink(e: Entry, comps: string[]): void {
    const lc = normalise(e.linkname);
    if (!lc || !lc.length) throw this.escapes(e, 'hard link target escapes the layer root');
    if (lc[0]!.startsWith('.wh..wh.') && !(this.plnk && lc[0] === PLNK && lc.length === 2)) {
      throw this.escapes(e, `hard link target "${shown(e.linkname)}" is not in the layer`);
    }
    const fromRel = this.parents(lc, e, false);
    const from = this.p(fromRel);
    const st = fs.lstatSync(from, { throwIfNoEntry: false });
    if (!st) throw this.escapes(e, `hard link target "${shown(e.linkname)}" is not in the layer`);
    if (st.isDirectory()) throw this.escapes(e, `hard link target "${shown(e.linkname)}" is a directory`);
    const rel = this.parents(comps, e, true);
    if (rel === fromRel) return; // a link to itself
    const p = this.p(rel);
    this.create(rel, () => fs.linkSync(from, p)); // link(2) does not follow a symlink `from`
  }

  private openFile(rel: string, e: Entry, padAfter: number, counted = true): boolean {
    const p = this.p(rel);
    let fd = -1;
    this.create(rel, () => {
      fd = fs.openSync(p, CREATE_FLAGS, 0o600);
    });
    this.fd = fd;
    this.fileRel = rel;
    this.fileEntry = e;
    if (counted) this.size += e.size;
    this.padAfter = padAfter;
    this.bodyLeft = e.size;
    if (e.size === 0) {
      this.finishFile();
      return true;
    }
    this.state = State.Body;
    return true;
  }

  private flush(): void {
    const bufs = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    writeAllSync(this.fd, bufs);
  }

  private finishFile(): void {
    const e = this.fileEntry!;
    const fd = this.fd;
    try {
      if (this.pendingBytes) this.flush();
      if (this.chowns(e)) fs.fchownSync(fd, e.uid, e.gid);
      if (e.xattrs.size) this.setXattrs(this.fileRel, e.xattrs);
      fs.fchmodSync(fd, e.mode);
      fs.futimesSync(fd, ts(e.atime!), ts(e.mtime));
    } catch (err) {
      throw this.wrap(err, e);
    } finally {
      this.fd = -1;
      this.fileEntry = undefined;
      fs.closeSync(fd);
    }
    this.skip(this.padAfter);
  }

  /** Directory modes and times, last: creating their children changed them. */
  finishDirs(): void {
    if (this.plnk) fs.rmSync(this.p(PLNK), { recursive: true, force: true });
    // deepest (latest) first, so a parent's mode cannot stand in the way of its children
    for (const [rel, m] of [...this.dirMeta].reverse()) {
      const p = this.p(rel);
      fs.chmodSync(p, m.mode);
      fs.utimesSync(p, ts(m.atime), ts(m.mtime));
    }
  }
}

/**
 * Extract an uncompressed layer tar stream into `target` (an empty existing directory) in overlay
 * "diff" format. The input is read to its end, also past the end-of-archive blocks, so a digest
 * computed on the stream covers every byte. On failure the target holds a partial tree: discard it.
 */
export async function extractLayer(input: Readable, target: string, opts: ExtractOptions): Promise<ExtractResult> {
  const w = layerWriter(target, opts);
  try {
    for await (const chunk of input) {
      const c = chunk as Buffer | Uint8Array | string;
      w.feed(Buffer.isBuffer(c) ? c : typeof c === 'string' ? Buffer.from(c, 'latin1') : Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    }
    return w.end();
  } catch (err) {
    w.abort();
    throw err;
  }
}

/** Extraction driven by its caller, chunk by chunk (pull feeds it straight from the decompressor, without a stream in between). */
export interface LayerSink {
  /** Consume the next bytes of the archive; throws (EINVAL...) on a bad entry. */
  feed(chunk: Buffer): void;
  /** The archive is complete: checks its end, applies directory metadata. */
  end(): ExtractResult;
  /** Give up: closes what is open (the caller removes the target). */
  abort(): void;
}

export const layerWriter = (target: string, opts: ExtractOptions): LayerSink => new LayerWriter(target, opts);
