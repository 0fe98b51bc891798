/**
 * Tar archives written byte by byte, for what tar writers refuse to make (`../x`, links to write
 * through, paths deeper than PATH_MAX): ustar headers, a PAX `path`/`linkpath` record before an
 * entry whose name or target does not fit the header.
 */
export interface RawEntry {
  name: string;
  /** '0' file (default), '1' hard link, '2' symlink, '5' directory */
  type?: '0' | '1' | '2' | '5';
  /** a file's content */
  data?: string;
  /** a link's target */
  link?: string;
  mode?: number;
  /** seconds since the epoch */
  mtime?: number;
}

const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

function header(e: RawEntry, type: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.name.slice(0, 100), 0, 'latin1');
  h.write(((e.mode ?? (type === '5' ? 0o755 : 0o644)) & 0o7777).toString(8).padStart(7, '0') + '\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write((e.mtime ?? 1_000_000_000).toString(8).padStart(11, '0') + '\0', 136);
  h.write(type, 156);
  h.write((e.link ?? '').slice(0, 100), 157, 'latin1');
  h.write('ustar\0' + '00', 257);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** One PAX record: "<length> key=value\n", the length counting itself. */
function paxRecord(r: string): string {
  let len = r.length + 3;
  while (`${len} ${r}\n`.length !== len) len++;
  return `${len} ${r}\n`;
}

/** The archive (with its two end blocks). */
export function rawTar(entries: RawEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? '0';
    if (Buffer.byteLength(e.name) > 100 || Buffer.byteLength(e.link ?? '') > 100) {
      const recs = Buffer.from([`path=${e.name}`, ...(e.link ? [`linkpath=${e.link}`] : [])].map(paxRecord).join(''));
      out.push(header({ name: 'PaxHeader' }, 'x', recs.length), pad(recs));
    }
    const data = Buffer.from(type === '0' ? (e.data ?? '') : '');
    out.push(header(e, type, data.length));
    if (data.length) out.push(pad(data));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

export interface ReadEntry {
  name: string;
  /** the typeflag: '0' file, '1' hard link, '2' symlink, '3' char device, '4' block device, '5' directory, '6' fifo */
  type: string;
  mode: number;
  uid: number;
  gid: number;
  devmajor: number;
  devminor: number;
  /** PAX `SCHILY.xattr.*` records, by xattr name (values as bytes) */
  xattrs: Record<string, Buffer>;
}

/** The entries of an uncompressed tar (ustar and PAX `path`, `SCHILY.xattr.*`, `SCHILY.dev*`), file contents skipped. */
export function readTar(tar: Buffer): ReadEntry[] {
  const num = (h: Buffer, off: number, len: number): number => parseInt(h.toString('latin1', off, off + len).replace(/\0.*$/s, '').trim() || '0', 8);
  const out: ReadEntry[] = [];
  let pax: Map<string, Buffer> = new Map();
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const size = num(h, 124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const body = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = new Map();
      for (let i = 0; i < body.length; ) {
        const sp = body.indexOf(0x20, i);
        const len = parseInt(body.toString('latin1', i, sp), 10);
        const rec = body.subarray(sp + 1, i + len - 1);
        const eq = rec.indexOf(0x3d);
        pax.set(rec.toString('utf8', 0, eq), rec.subarray(eq + 1));
        i += len;
      }
      continue;
    }
    const field = (off: number, len: number): string => h.toString('utf8', off, off + len).replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice(13)] = v;
    out.push({
      name: pax.get('path')?.toString('utf8') ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100)),
      type,
      mode: num(h, 100, 8),
      uid: num(h, 108, 8),
      gid: num(h, 116, 8),
      devmajor: Number(pax.get('SCHILY.devmajor')?.toString() ?? num(h, 329, 8)),
      devminor: Number(pax.get('SCHILY.devminor')?.toString() ?? num(h, 337, 8)),
      xattrs,
    });
    pax = new Map();
  }
  return out;
}
