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
