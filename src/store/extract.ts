/**
 * OCI layer tar → overlayfs "diff" directory.
 *
 * Our own streaming tar reader: node's `tar` package decodes PAX values as UTF-8, which corrupts
 * binary xattrs such as `security.capability`; here PAX records stay bytes until we know the key.
 * Supports ustar, GNU long names/links (L/K), PAX x/g, base-256 numbers.
 *
 * Overlay format: `.wh.<name>` → char device 0:0 `<name>`; `.wh..wh..opq` → `<prefix>opaque=y` on
 * the directory. Security: every entry path is resolved component by component inside the
 * target, never through a symlink, and `..` may not climb out; hard-link targets likewise. An
 * offending entry fails the whole layer (the caller discards its staging directory).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { native } from '../native.js';

export interface ExtractOptions {
  overlayXattrPrefix: 'trusted.overlay.' | 'user.overlay.';
  /** Apply entry owners (false when only one id is mapped). */
  chown: boolean;
}

interface Header {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

function num(buf: Buffer, off: number, len: number): number {
  if (buf[off]! & 0x80) {
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + buf[i]!;
    return v;
  }
  const s = buf.toString('latin1', off, off + len).replace(/\0.*$/s, '').trim();
  return s ? parseInt(s, 8) : 0;
}

function str(buf: Buffer, off: number, len: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

function checksumOk(b: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i]!;
  return sum === num(b, 148, 8);
}

function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.toString('latin1', i, sp), 10);
    if (!len || len < 0) break;
    const rec = data.subarray(sp + 1, i + len - 1); // without trailing \n
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    i += len;
  }
  return out;
}

/** Pull exactly n bytes at a time from an async iterator of chunks. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  offset = 0;
  constructor(private readonly it: AsyncIterator<Buffer>) {}
  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    }
    return this.buf.length >= n;
  }
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) return this.buf.length === 0 && n > 0 ? null : this.truncated();
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += n;
    return out;
  }
  /** Stream n bytes in chunks to a callback (for file bodies). */
  async pipeTo(n: number, sink: (b: Buffer) => Promise<void>): Promise<void> {
    while (n > 0) {
      if (!this.buf.length && !(await this.fill(1))) this.truncated();
      const take = Math.min(n, this.buf.length);
      const chunk = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      this.offset += take;
      n -= take;
      await sink(chunk);
    }
  }
  /** Consume whatever follows the end of the archive. */
  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (!this.done) if ((await this.it.next()).done) this.done = true;
  }
  private truncated(): never {
    throw new SkiffError('EINVAL', `layer archive is truncated at offset ${this.offset}`);
  }
}

async function nextHeader(r: ByteReader): Promise<Header | null> {
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, Buffer>();
  for (;;) {
    const start = r.offset;
    const b = await r.read(512);
    if (!b) return null;
    if (b.every((x) => x === 0)) return null;
    if (!checksumOk(b)) throw new SkiffError('EINVAL', `invalid tar header at offset ${start}: checksum mismatch`);
    const type = String.fromCharCode(b[156]!) === '\0' ? '0' : String.fromCharCode(b[156]!);
    const size = num(b, 124, 12);
    const padded = Math.ceil(size / 512) * 512;
    if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
      const data = (await r.read(padded))!.subarray(0, size);
      if (type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
      else if (type === 'K') longLink = data.toString('utf8').replace(/\0+$/, '');
      else if (type === 'x') pax = new Map([...pax, ...parsePax(data)]);
      continue; // global headers (g) carry nothing we apply
    }
    const magic = b.toString('latin1', 257, 263);
    const prefix = magic.startsWith('ustar') && magic !== 'ustar ' ? str(b, 345, 155) : '';
    let name = str(b, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    const h: Header = {
      name: longName ?? name,
      mode: num(b, 100, 8) & 0o7777,
      uid: num(b, 108, 8),
      gid: num(b, 116, 8),
      size,
      mtime: num(b, 136, 12),
      type,
      linkname: longLink ?? str(b, 157, 100),
      devmajor: num(b, 329, 8),
      devminor: num(b, 337, 8),
      xattrs: new Map(),
    };
    for (const [k, v] of pax) {
      if (k === 'path') h.name = v.toString('utf8');
      else if (k === 'linkpath') h.linkname = v.toString('utf8');
      else if (k === 'size') h.size = Number(v.toString('utf8'));
      else if (k === 'uid') h.uid = Number(v.toString('utf8'));
      else if (k === 'gid') h.gid = Number(v.toString('utf8'));
      else if (k === 'mtime') h.mtime = Number(v.toString('utf8'));
      else if (k.startsWith('SCHILY.xattr.')) h.xattrs.set(k.slice(13), v);
    }
    return h;
  }
}

/** Normalise an entry path to components inside the root, or throw. */
function components(name: string, what: string): string[] {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (!out.length) throw new SkiffError('EINVAL', `layer entry "${what}": path escapes the layer root`);
      out.pop();
    } else out.push(c);
  }
  return out;
}

/** Make sure every parent of `comps` exists as a real directory (never a symlink) under root. */
async function ensureParents(root: string, comps: string[], name: string, madeDirs: Set<string>): Promise<string> {
  let p = root;
  for (const c of comps.slice(0, -1)) {
    p = path.join(p, c);
    let st: fs.Stats | undefined;
    try {
      st = await fsp.lstat(p);
    } catch {
      /* missing */
    }
    if (!st) {
      await fsp.mkdir(p, { mode: 0o755 });
      madeDirs.add(p);
    } else if (st.isSymbolicLink()) {
      throw new SkiffError('EINVAL', `layer entry "${name}": path escapes the layer root through a symlink`);
    } else if (!st.isDirectory()) {
      throw new SkiffError('EINVAL', `layer entry "${name}": a parent is not a directory`);
    }
  }
  return path.join(root, ...comps);
}

async function removeExisting(p: string, keepDir: boolean): Promise<void> {
  let st: fs.Stats;
  try {
    st = await fsp.lstat(p);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    if (!keepDir) await fsp.rm(p, { recursive: true, force: true });
  } else await fsp.unlink(p);
}

export async function extractLayer(input: Readable, target: string, opts: ExtractOptions): Promise<{ size: number }> {
  const addon = native();
  const r = new ByteReader(input[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const dirTimes: [string, number][] = [];
  const madeDirs = new Set<string>();
  let size = 0;
  const setXattr = (p: string, k: string, v: Buffer): void => {
    try {
      addon.lsetxattr(p, k, v);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (k === 'security.capability' || (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EACCES')) throw e;
    }
  };
  for (;;) {
    const h = await nextHeader(r);
    if (!h) break;
    const padded = Math.ceil(h.size / 512) * 512;
    const comps = components(h.name, h.name);
    const base = comps[comps.length - 1];
    if (!base) {
      // the root itself ("./"): its metadata applies to the target
      await r.read(padded);
      continue;
    }
    if (base.startsWith('.wh.')) {
      const parent = await ensureParents(target, comps, h.name, madeDirs);
      const dir = path.dirname(parent);
      if (base === '.wh..wh..opq') setXattr(dir, `${opts.overlayXattrPrefix}opaque`, Buffer.from('y'));
      else if (!base.startsWith('.wh..wh.')) {
        const victim = path.join(dir, base.slice(4));
        await removeExisting(victim, false);
        addon.mknod(victim, S_IFCHR | 0o000, 0, 0);
      }
      await r.read(padded);
      continue;
    }
    const p = await ensureParents(target, comps, h.name, madeDirs);
    switch (h.type) {
      case '0':
      case '7': {
        await removeExisting(p, false);
        const fh = await fsp.open(p, 'wx', 0o600);
        try {
          await r.pipeTo(h.size, async (b) => {
            await fh.write(b);
          });
        } finally {
          await fh.close();
        }
        await r.read(padded - h.size);
        size += h.size;
        break;
      }
      case '5': {
        await removeExisting(p, true);
        try {
          await fsp.mkdir(p, { mode: 0o755 });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        madeDirs.delete(p);
        break;
      }
      case '2':
        await removeExisting(p, false);
        await fsp.symlink(h.linkname, p);
        break;
      case '1': {
        const lc = components(h.linkname, h.name);
        if (!lc.length) throw new SkiffError('EINVAL', `layer entry "${h.name}": hard link target escapes the layer root`);
        const src = path.join(target, ...lc);
        const real = await fsp.realpath(path.dirname(src)).catch(() => '');
        const root = await fsp.realpath(target);
        if (real !== root && !real.startsWith(root + '/')) {
          throw new SkiffError('EINVAL', `layer entry "${h.name}": hard link target escapes the layer root`);
        }
        await removeExisting(p, false);
        await fsp.link(src, p);
        await r.read(padded);
        continue; // a hard link shares the target's metadata
      }
      case '3':
      case '4':
      case '6': {
        await removeExisting(p, false);
        const kind = h.type === '3' ? S_IFCHR : h.type === '4' ? S_IFBLK : S_IFIFO;
        try {
          addon.mknod(p, kind | h.mode, h.devmajor, h.devminor);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EPERM' && h.type !== '6') {
            await r.read(padded);
            continue; // device nodes cannot be made in a user namespace; skipped like rootless podman
          }
          throw e;
        }
        break;
      }
      case 'S':
        throw new SkiffError('EINVAL', `layer entry "${h.name}": sparse files are not supported`);
      default:
        // unknown typeflag: POSIX says treat as a regular file
        await r.read(padded);
        continue;
    }
    if (h.type !== '0' && h.type !== '7') await r.read(padded);
    if (opts.chown) await fsp.lchown(p, h.uid, h.gid);
    for (const [k, v] of h.xattrs) setXattr(p, k, v);
    if (h.type !== '2') await fsp.chmod(p, h.mode);
    if (h.type === '5') dirTimes.push([p, h.mtime]);
    else await fsp.lutimes(p, h.mtime, h.mtime);
  }
  // read the rest (end-of-archive blocks, padding) so a digest check on the stream can finish
  await r.drain();
  // directories last: creating their children changed their times
  for (const [p, t] of dirTimes.reverse()) await fsp.utimes(p, t, t);
  return { size };
}
