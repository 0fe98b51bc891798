/**
 * The adversarial corpus' generator: malicious tar archives written header by header (so they can
 * hold what GNU tar or Python's tarfile refuse to write: `..` paths, lying sizes, negative base-256
 * numbers, megabyte PAX records), compressed layers and bombs (gzip members and zstd RLE blocks
 * that inflate a thousandfold and more), and the images around them: OCI manifests and configs,
 * pushed to the test registry through the distribution API for `pull`, or packed as OCI and
 * docker-archive tarballs for `load`. Nothing here runs skiff; the tests do.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';

export const sha256 = (b: Buffer): string => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
const hexOf = (digest: string): string => digest.slice(digest.indexOf(':') + 1);

// ---- tar, one header at a time ---------------------------------------------------------------------

export interface EntryOpts {
  /** '0' file (default), '1' hard link, '2' symlink, '3'/'4' devices, '5' directory, 'x'/'g' PAX, 'L'/'K' GNU long name/link */
  type?: string;
  body?: string | Buffer;
  link?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  /** Write uid as a GNU base-256 number. */
  base256Uid?: boolean;
  /** What the size field says instead of the body's length: a number (octal), or the 12 raw bytes (base-256, negative, ...). */
  size?: number | Buffer;
}

/** One ustar header and its body (padded to 512). Names are raw bytes; the header checksum is right. */
export function tarEntry(name: string | Buffer, o: EntryOpts = {}): Buffer {
  const body = typeof o.body === 'string' ? Buffer.from(o.body) : (o.body ?? Buffer.alloc(0));
  const h = Buffer.alloc(512);
  (typeof name === 'string' ? Buffer.from(name) : name).copy(h, 0, 0, 100);
  const oct = (off: number, len: number, n: number): void => {
    h.write(n.toString(8).padStart(len - 1, '0'), off, len - 1, 'latin1');
  };
  oct(100, 8, o.mode ?? (o.type === '5' ? 0o755 : 0o644));
  if (o.base256Uid) {
    h[108] = 0x80;
    h.writeUIntBE(o.uid ?? 0, 108 + 2, 6);
  } else oct(108, 8, o.uid ?? 0);
  oct(116, 8, o.gid ?? 0);
  if (Buffer.isBuffer(o.size)) o.size.copy(h, 124, 0, 12);
  else if ((o.size ?? body.length) < 8 ** 11) oct(124, 12, o.size ?? body.length);
  else {
    // past 8 GiB: GNU base-256
    h[124] = 0x80;
    h.writeUIntBE(o.size ?? body.length, 124 + 6, 6);
  }
  oct(136, 12, o.mtime ?? 1_600_000_000);
  h.write(o.type ?? '0', 156, 'latin1');
  if (o.link) h.write(o.link, 157, 100);
  h.write('ustar\x0000', 257, 'latin1');
  if (o.devmajor !== undefined) oct(329, 8, o.devmajor);
  if (o.devminor !== undefined) oct(337, 8, o.devminor);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const data = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  body.copy(data);
  return Buffer.concat([h, data]);
}

/** One PAX record, `"<len> <key>=<value>\n"`. */
export function paxRecord(key: string, value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** A PAX extended header (`x`, or `g` for global) carrying the records. */
export const pax = (records: [string, string | Buffer][], type = 'x'): Buffer =>
  tarEntry('PaxHeaders/x', { type, body: Buffer.concat(records.map(([k, v]) => paxRecord(k, v))) });

/** GNU long name (`L`) or long link (`K`) pseudo-entry. */
export const gnuLong = (type: 'L' | 'K', value: string | Buffer): Buffer =>
  tarEntry('././@LongLink', { type, body: Buffer.concat([Buffer.from(value), Buffer.from([0])]) });

/** The entries with the two zero blocks that end an archive. */
export const tarArchive = (...entries: Buffer[]): Buffer => Buffer.concat([...entries, Buffer.alloc(1024)]);

/** An entry at any path: the name through a PAX header when it does not fit the 100-byte field. */
export const longEntry = (name: string, o: EntryOpts = {}): Buffer =>
  Buffer.byteLength(name) < 100 ? tarEntry(name, o) : Buffer.concat([pax([['path', name]]), tarEntry('long-name', o)]);

/** A file at any path (longEntry). */
export const longFile = (name: string, body: string | Buffer = 'x'): Buffer => longEntry(name, { body });

// ---- compression and bombs ----------------------------------------------------------------------------

/**
 * A gzip stream of `head`, then `times` copies of a `chunk`-byte run of zeros, then `tail`, as
 * separate gzip members (readers take members in a row): a few KiB per GiB. Its uncompressed bytes
 * are never all in memory.
 */
export function gzipBomb(head: Buffer, chunk: number, times: number, tail: Buffer): Buffer {
  const zeros = zlib.gzipSync(Buffer.alloc(chunk), { level: 9 });
  return Buffer.concat([zlib.gzipSync(head), ...Array.from({ length: times }, () => zeros), zlib.gzipSync(tail)]);
}

/**
 * A zstd frame of `head` (raw blocks), `total` bytes of `fill` (RLE blocks: 4 bytes per 128 KiB,
 * so 32 KiB per GiB), then `tail`. No content size, no checksum.
 */
export function zstdBomb(head: Buffer, fill: number, total: number, tail: Buffer): Buffer {
  const MAX = 128 * 1024;
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3])]; // magic; no content size; window 2^17
  const block = (type: number, size: number, last: boolean, content: Buffer): void => {
    const v = (last ? 1 : 0) | (type << 1) | (size << 3);
    parts.push(Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]), content);
  };
  const raw = (b: Buffer, last: boolean): void => {
    for (let i = 0; i < b.length; i += MAX) block(0, Math.min(MAX, b.length - i), last && i + MAX >= b.length, b.subarray(i, i + MAX));
  };
  raw(head, false);
  for (let left = total; left > 0; left -= MAX) block(1, Math.min(MAX, left), false, Buffer.from([fill]));
  if (tail.length) raw(tail, true);
  else block(0, 0, true, Buffer.alloc(0));
  return Buffer.concat(parts);
}

// ---- images -----------------------------------------------------------------------------------------

export interface Blob {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}
export interface LayerBlob extends Blob {
  diffId: string;
}
export interface TestImage {
  config: Blob;
  manifest: Blob;
  layers: LayerBlob[];
}

const blob = (bytes: Buffer, mediaType: string): Blob => ({ bytes, digest: sha256(bytes), mediaType });

/** A layer as it goes into an image: a tar to gzip (default) or keep plain, or bytes ready made with their diffID. */
export type LayerSpec = Buffer | { tar: Buffer; compression: 'gzip' | 'none' } | { blob: Buffer; diffId: string; mediaType: string };

export function layer(spec: LayerSpec): LayerBlob {
  if (Buffer.isBuffer(spec)) spec = { tar: spec, compression: 'gzip' };
  if ('blob' in spec) return { ...blob(spec.blob, spec.mediaType), diffId: spec.diffId };
  if (spec.compression === 'none') return { ...blob(spec.tar, 'application/vnd.oci.image.layer.v1.tar'), diffId: sha256(spec.tar) };
  return { ...blob(zlib.gzipSync(spec.tar), 'application/vnd.oci.image.layer.v1.tar+gzip'), diffId: sha256(spec.tar) };
}

/** An OCI image of these layers (bottom first); the config runs `cmd` (default: sh). */
export function makeImage(layers: LayerSpec[], o: { cmd?: string[] } = {}): TestImage {
  const ls = layers.map(layer);
  const config = blob(Buffer.from(JSON.stringify({
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    config: { Cmd: o.cmd ?? ['sh'] },
    rootfs: { type: 'layers', diff_ids: ls.map((l) => l.diffId) },
  })), 'application/vnd.oci.image.config.v1+json');
  const manifest = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: config.mediaType, digest: config.digest, size: config.bytes.length },
    layers: ls.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.bytes.length })),
  })), 'application/vnd.oci.image.manifest.v1+json');
  return { config, manifest, layers: ls };
}

// ---- the registry (distribution API, plain HTTP on loopback) ---------------------------------------------

async function call(url: string, method: string, body: Buffer | undefined, headers: Record<string, string> = {}): Promise<Response> {
  const r = await fetch(url, { method, body: body === undefined ? undefined : new Uint8Array(body), headers, redirect: 'manual' });
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${await r.text()}`);
  return r;
}

/** Upload one blob (monolithic POST + PUT); returns its digest. */
export async function pushBlob(reg: string, repo: string, b: Buffer): Promise<string> {
  const d = sha256(b);
  const start = await call(`http://${reg}/v2/${repo}/blobs/uploads/`, 'POST', undefined);
  const loc = new URL(start.headers.get('location')!, `http://${reg}`);
  loc.searchParams.set('digest', d);
  await call(loc.toString(), 'PUT', b, { 'content-type': 'application/octet-stream' });
  return d;
}

/** Push `img` as `reg/repo:tag`; returns that reference. */
export async function pushImage(reg: string, repo: string, tag: string, img: TestImage): Promise<string> {
  for (const b of [img.config, ...img.layers]) await pushBlob(reg, repo, b.bytes);
  await call(`http://${reg}/v2/${repo}/manifests/${tag}`, 'PUT', img.manifest.bytes, { 'content-type': img.manifest.mediaType });
  return `${reg}/${repo}:${tag}`;
}

// ---- archives for `load` ---------------------------------------------------------------------------------

/** One member of an outer archive: a file, or a link (symlink '2' or hard link '1') to `link`. */
export type Member = { name: string; body: string | Buffer } | { name: string; type: '1' | '2'; link: string };

export const archiveOf = (members: Member[]): Buffer =>
  tarArchive(...members.map((m) => ('link' in m ? tarEntry(m.name, { type: m.type, link: m.link }) : longFile(m.name, m.body))));

/** The blobs of `img` as OCI layout members (blobs/sha256/<hex>). */
export const blobMembers = (img: TestImage): Member[] =>
  [img.config, img.manifest, ...img.layers].map((b) => ({ name: `blobs/sha256/${hexOf(b.digest)}`, body: b.bytes }));

/** An OCI layout archive (`podman save --format oci-archive`'s shape) naming the image `name`. */
export function ociArchive(img: TestImage, name: string, extra: Member[] = []): Buffer {
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.bytes.length, annotations: { 'org.opencontainers.image.ref.name': name } }],
  };
  return archiveOf([{ name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' }, { name: 'index.json', body: JSON.stringify(index) }, ...blobMembers(img), ...extra]);
}

/** A docker-archive (`docker save`'s manifest.json) of `img` tagged `tag`; `manifest` replaces manifest.json's one entry. */
export function dockerArchive(img: TestImage, tag: string, o: { manifest?: Record<string, unknown>; extra?: Member[] } = {}): Buffer {
  const entry = o.manifest ?? {
    Config: `blobs/sha256/${hexOf(img.config.digest)}`,
    RepoTags: [tag],
    Layers: img.layers.map((l) => `blobs/sha256/${hexOf(l.digest)}`),
  };
  return archiveOf([...blobMembers(img), { name: 'manifest.json', body: JSON.stringify([entry]) }, ...(o.extra ?? [])]);
}
