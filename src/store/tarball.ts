/**
 * Overlay diff directory → OCI layer tar (the inverse of extract.ts), for push/save of layers that
 * have no stored blob. Whiteouts (char 0:0) become `.wh.<name>`, an opaque directory gets a
 * `.wh..wh..opq` entry; owners, modes, mtimes and xattrs (binary, as PAX SCHILY.xattr) are kept;
 * hard links are detected by (dev, ino). Names are sorted so the same tree gives the same bytes.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { paths } from '../config.js';
import { native } from '../native.js';

export interface PackOptions {
  overlayXattrPrefix?: 'trusted.overlay.' | 'user.overlay.';
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function header(name: string, type: string, o: { mode: number; uid: number; gid: number; size: number; mtime: number; link?: string }): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write(octal(o.mode & 0o7777, 8), 100);
  h.write(octal(Math.min(o.uid, 0o7777777), 8), 108);
  h.write(octal(Math.min(o.gid, 0o7777777), 8), 116);
  h.write(octal(Math.min(o.size, 0o77777777777), 12), 124);
  h.write(octal(Math.floor(o.mtime), 12), 136);
  h.write(type, 156);
  if (o.link) h.write(o.link.slice(0, 100), 157, 'utf8');
  h.write('ustar\u000000', 257);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);

function entry(name: string, type: string, st: fs.Stats, size: number, link: string | undefined, xattrs: [string, Buffer][]): Buffer[] {
  const pax: Buffer[] = [];
  if (Buffer.byteLength(name) > 100) pax.push(paxRecord('path', Buffer.from(name)));
  if (link && Buffer.byteLength(link) > 100) pax.push(paxRecord('linkpath', Buffer.from(link)));
  if (st.uid > 0o7777777) pax.push(paxRecord('uid', Buffer.from(String(st.uid))));
  if (st.gid > 0o7777777) pax.push(paxRecord('gid', Buffer.from(String(st.gid))));
  for (const [k, v] of xattrs) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const out: Buffer[] = [];
  if (pax.length) {
    const body = Buffer.concat(pax);
    out.push(header(`PaxHeaders/${path.basename(name)}`.slice(0, 100), 'x', { mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: st.mtimeMs / 1000 }), body, pad(body.length));
  }
  out.push(header(name, type, { mode: st.mode, uid: st.uid, gid: st.gid, size, mtime: st.mtimeMs / 1000, link }));
  return out;
}

async function* walk(root: string, prefix: string): AsyncGenerator<Buffer> {
  const addon = native();
  const seen = new Map<string, string>();
  const opaqueKeys = ['trusted.overlay.opaque', 'user.overlay.opaque'];
  async function* dir(abs: string, rel: string): AsyncGenerator<Buffer> {
    const names = (await fsp.readdir(abs)).sort();
    for (const n of names) {
      const p = path.join(abs, n);
      const r = rel ? `${rel}/${n}` : n;
      const st = await fsp.lstat(p);
      const xattrs = addon.llistxattr(p)
        .filter((k) => !k.startsWith('trusted.overlay.') && !k.startsWith('user.overlay.'))
        .map((k) => [k, addon.lgetxattr(p, k)] as [string, Buffer | null])
        .filter((x): x is [string, Buffer] => x[1] !== null);
      if (st.isCharacterDevice() && st.rdev === 0) {
        const wh = rel ? `${rel}/.wh.${n}` : `.wh.${n}`;
        yield* entry(wh, '0', st, 0, undefined, []);
        continue;
      }
      if (st.isDirectory()) {
        yield* entry(`${r}/`, '5', st, 0, undefined, xattrs);
        if (opaqueKeys.some((k) => addon.lgetxattr(p, k)?.toString() === 'y' && k.startsWith(prefix))) {
          yield* entry(`${r}/.wh..wh..opq`, '0', st, 0, undefined, []);
        }
        yield* dir(p, r);
      } else if (st.isSymbolicLink()) {
        yield* entry(r, '2', st, 0, await fsp.readlink(p), xattrs);
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? seen.get(key) : undefined;
        if (first) {
          yield* entry(r, '1', st, 0, first, []);
          continue;
        }
        if (st.nlink > 1) seen.set(key, r);
        yield* entry(r, '0', st, st.size, undefined, xattrs);
        let left = st.size;
        for await (const chunk of fs.createReadStream(p, { highWaterMark: 256 * 1024 })) {
          const c = (chunk as Buffer).subarray(0, Math.max(0, left));
          left -= c.length;
          yield c;
        }
        if (left > 0) yield Buffer.alloc(left); // the file shrank while we read it
        yield pad(st.size);
      } else if (st.isFIFO()) {
        yield* entry(r, '6', st, 0, undefined, xattrs);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const h = entry(r, st.isCharacterDevice() ? '3' : '4', st, 0, undefined, xattrs);
        const last = h[h.length - 1]!;
        last.write(octal(Math.floor(st.rdev / 256) & 0xfff, 8), 329);
        last.write(octal(st.rdev & 0xff, 8), 337);
        last.fill(' ', 148, 156);
        let sum = 0;
        for (const b of last) sum += b;
        last.write(octal(sum, 7) + ' ', 148);
        yield* h;
      }
    }
  }
  yield* dir(root, '');
  yield Buffer.alloc(1024);
}

export function packDirectory(dir: string, opts: PackOptions = {}): Readable {
  const prefix = opts.overlayXattrPrefix ?? (paths().rootless ? 'user.overlay.' : 'trusted.overlay.');
  return Readable.from(walk(dir, prefix), { objectMode: false });
}
