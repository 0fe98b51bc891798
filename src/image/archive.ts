/**
 * `save` and `load`: images as tar archives.
 *
 * save, docker-archive: the layout `docker save` writes since Docker 25, which every reader
 * understands: `manifest.json` + `repositories` (read by `docker load` and `podman load`, classic
 * style) pointing into an OCI layout (`oci-layout`, `index.json`, `blobs/sha256/`) whose layers
 * are the uncompressed tars (digest = diffID). podman 4.3 reads it through index.json.
 * save, oci-archive: the OCI layout alone, layers as stored (compressed), the stored manifest
 * re-used when it is an OCI one (so the manifest digest survives the trip).
 *
 * load reads docker-archive (classic `<id>/layer.tar` and Docker 25+ layouts), OCI archives, and
 * gzip/zstd-compressed tarballs of either. Every entry is staged under tmp/ (named by number,
 * never by its untrusted archive path) while its sha256 is computed; `blobs/sha256/<hex>` entries
 * are verified against their names as they stream in, classic layers against the config's
 * diffIDs before anything is extracted. Then layers are extracted (createLayer: atomic) and blobs
 * renamed into blobs/, image records and tags written last. Classic docker-archive layers are
 * uncompressed: they are gzipped into the blob store (Docker media types), so that `push` can
 * upload them as they are, like any pulled layer; an OCI archive's blobs are kept byte for byte
 * with its manifest.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Header, Parser, type ReadEntry } from 'tar';
import { SkiffError } from '../errors.js';
import { discardStaging, makeStagingDir, stagingPath, writeFileAtomic } from '../store/atomic.js';
import { closed, isCorruptInput, LayerSink } from '../store/extract.js';
import { listImages, putImage, tagsById, type ImageRecord, type LayerRef } from '../store/images.js';
import { blobPath } from '../store/layout.js';
import { createLayer, hasLayer, whileAddingLayers } from '../store/layers.js';
import { computeChainIds } from '../oci/chainid.js';
import { beyondInflateLimit, corruptError, decompressStream, inflateError, inflateLimit } from './compression.js';
import { DigestVerifier } from '../oci/digest-verifier.js';
import { parseDigest, sha256Digest, verifyBuffer, verifyDigest } from '../oci/digest.js';
import { findImage } from './local.js';
import { MAX_JSON_DOCUMENT, MT, parseManifest, type Descriptor, type ImageConfig, type Index, type Manifest } from '../oci/media.js';
import { selectPlatform } from '../oci/platform.js';
import { extractOptions, layersSize, runLimited } from './pull.js';
import { buildManifest, ensureLayerBlobs, Hasher, storedManifest } from './push.js';
import { canonical, familiar, parseReference } from '../oci/reference.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

const hexOf = (d: string): string => parseDigest(d).hex;
const ANN_NAME = 'org.opencontainers.image.ref.name';
const ANN_CONTAINERD_NAME = 'io.containerd.image.name';

// ---------------------------------------------------------------------------------------------
// save

/** Writes tar entries to a stream, honouring backpressure. */
class TarWriter {
  private readonly dirs = new Set<string>();
  constructor(private readonly out: Writable) {}

  private async write(b: Buffer): Promise<void> {
    if (!this.out.write(b)) {
      await new Promise<void>((resolve, reject) => {
        const onErr = (e: Error): void => {
          this.out.off('drain', onDrain);
          reject(e);
        };
        const onDrain = (): void => {
          this.out.off('error', onErr);
          resolve();
        };
        this.out.once('drain', onDrain).once('error', onErr);
      });
    }
  }

  private async header(p: string, type: 'File' | 'Directory', size: number): Promise<void> {
    const h = new Header({ path: p, mode: type === 'File' ? 0o644 : 0o755, uid: 0, gid: 0, size, mtime: new Date(0), type });
    h.encode();
    await this.write(h.block!);
  }

  async dir(p: string): Promise<void> {
    if (this.dirs.has(p)) return;
    this.dirs.add(p);
    await this.header(p.endsWith('/') ? p : `${p}/`, 'Directory', 0);
  }

  async file(p: string, data: Buffer): Promise<void> {
    await this.header(p, 'File', data.length);
    await this.write(data);
    await this.pad(data.length);
  }

  /** A file whose `size` is known ahead and whose bytes come from `src` (it must deliver exactly that). */
  async stream(p: string, size: number, src: Readable): Promise<void> {
    await this.header(p, 'File', size);
    let n = 0;
    for await (const c of src) {
      n += (c as Buffer).length;
      if (n > size) throw new SkiffError('EINTERNAL', `${p}: more bytes than the ${size} announced`);
      await this.write(c as Buffer);
    }
    if (n !== size) throw new SkiffError('EINTERNAL', `${p}: ${n} bytes instead of the ${size} announced`);
    await this.pad(size);
  }

  private async pad(size: number): Promise<void> {
    const rem = size % 512;
    if (rem) await this.write(Buffer.alloc(512 - rem));
  }

  async end(): Promise<void> {
    await this.write(Buffer.alloc(1024));
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      // stdout is never closed by us: wait until what we wrote is flushed
      if (this.out === process.stdout) this.out.write(Buffer.alloc(0), () => resolve());
      else this.out.end(resolve);
    });
  }
}

interface SaveItem {
  rec: ImageRecord;
  /** canonical names */
  tags: string[];
}

async function resolveForSave(refs: string[]): Promise<SaveItem[]> {
  const items = new Map<string, SaveItem>();
  for (const ref of refs) {
    const rec = await findImage(ref);
    if (!rec) throw new SkiffError('ENOIMAGE', `No such image: ${ref}`);
    const item = items.get(rec.id) ?? { rec, tags: [] };
    items.set(rec.id, item);
    const isId = /^(sha256:)?[0-9a-f]{4,64}$/.test(ref) && rec.id.slice(7).startsWith(ref.replace(/^sha256:/, ''));
    if (isId) continue;
    const parsed = parseReference(ref);
    if (parsed.digest) continue;
    const name = canonical(parsed);
    const tags = (await tagsById()).get(rec.id) ?? [];
    if (tags.includes(name) && !item.tags.includes(name)) item.tags.push(name);
  }
  return [...items.values()];
}

/** Bytes of a layer's uncompressed tar, checked against its diffID. */
async function uncompressedSize(l: LayerRef): Promise<number> {
  const v = new DigestVerifier(l.diffId, undefined, `stored layer ${l.blobDigest} (diffID ${l.diffId})`);
  await pipeline(decompressStream(l.mediaType ?? '', fs.createReadStream(blobPath(l.blobDigest!))), v, async function* (src) {
    for await (const _ of src) void _;
  });
  return v.bytes;
}

/** Write `refs` (names or ids) as one archive to `out`. */
export async function saveImages(refs: string[], out: Writable, o: { format: ArchiveFormat }): Promise<void> {
  if (!refs.length) throw new SkiffError('EINVAL', 'save needs at least one image');
  const items = await resolveForSave(refs);
  for (const it of items) it.rec = await ensureLayerBlobs(it.rec);
  if (o.format === 'oci-archive') await saveOci(items, out);
  else await saveDocker(items, out);
}

function indexEntries(desc: Descriptor, tags: string[], containerd: boolean): Descriptor[] {
  if (!tags.length) return [desc];
  return tags.map((t) => {
    const r = parseReference(t);
    const annotations: Record<string, string> = containerd ? { [ANN_CONTAINERD_NAME]: t, [ANN_NAME]: r.tag ?? 'latest' } : { [ANN_NAME]: t };
    return { ...desc, annotations };
  });
}

async function saveDocker(items: SaveItem[], out: Writable): Promise<void> {
  // sizes first: a tar header needs them before the bytes
  const layerSizes = new Map<string, number>();
  for (const { rec } of items) {
    for (const l of rec.layers) if (!layerSizes.has(l.diffId)) layerSizes.set(l.diffId, await uncompressedSize(l));
  }
  const w = new TarWriter(out);
  await w.dir('blobs');
  await w.dir('blobs/sha256');
  const written = new Set<string>();
  const index: Index = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] };
  const manifestJson: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { rec, tags } of items) {
    for (const l of rec.layers) {
      if (written.has(l.diffId)) continue;
      written.add(l.diffId);
      const src = decompressStream(l.mediaType ?? '', fs.createReadStream(blobPath(l.blobDigest!)));
      const check = new DigestVerifier(l.diffId, layerSizes.get(l.diffId), `stored layer ${l.blobDigest}`);
      await w.stream(`blobs/sha256/${hexOf(l.diffId)}`, layerSizes.get(l.diffId)!, src.pipe(check));
    }
    const config = await fsp.readFile(blobPath(rec.id));
    verifyBuffer(config, rec.id, undefined, `image config ${rec.id}`);
    if (!written.has(rec.id)) {
      written.add(rec.id);
      await w.file(`blobs/sha256/${hexOf(rec.id)}`, config);
    }
    const m: Manifest = {
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      config: { mediaType: MT.ociConfig, digest: rec.id, size: config.length },
      layers: rec.layers.map((l) => ({ mediaType: MT.ociLayer, digest: l.diffId, size: layerSizes.get(l.diffId)! })),
    };
    const mb = Buffer.from(JSON.stringify(m));
    const md = sha256Digest(mb);
    if (!written.has(md)) {
      written.add(md);
      await w.file(`blobs/sha256/${hexOf(md)}`, mb);
    }
    index.manifests.push(...indexEntries({ mediaType: MT.ociManifest, digest: md, size: mb.length }, tags, true));
    const familiarTags = tags.map((t) => familiar(parseReference(t)));
    manifestJson.push({
      Config: `blobs/sha256/${hexOf(rec.id)}`,
      RepoTags: familiarTags,
      Layers: rec.layers.map((l) => `blobs/sha256/${hexOf(l.diffId)}`),
    });
    const top = rec.layers[rec.layers.length - 1];
    for (const t of familiarTags) {
      const i = t.lastIndexOf(':');
      (repositories[t.slice(0, i)] ??= {})[t.slice(i + 1)] = top ? hexOf(top.diffId) : hexOf(rec.id);
    }
  }
  await w.file('index.json', Buffer.from(JSON.stringify(index)));
  await w.file('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
  await w.file('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  if (Object.keys(repositories).length) await w.file('repositories', Buffer.from(JSON.stringify(repositories)));
  await w.end();
}

async function saveOci(items: SaveItem[], out: Writable): Promise<void> {
  const w = new TarWriter(out);
  await w.dir('blobs');
  await w.dir('blobs/sha256');
  const written = new Set<string>();
  const index: Index = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] };
  const putBlob = async (digest: string, data?: Buffer): Promise<void> => {
    if (written.has(digest)) return;
    written.add(digest);
    if (data) {
      await w.file(`blobs/sha256/${hexOf(digest)}`, data);
      return;
    }
    const size = (await fsp.stat(blobPath(digest))).size;
    const check = new DigestVerifier(digest, size, `stored blob ${digest}`);
    await w.stream(`blobs/sha256/${hexOf(digest)}`, size, fs.createReadStream(blobPath(digest)).pipe(check));
  };
  for (const { rec, tags } of items) {
    const stored = await storedManifest(rec);
    const manifest = stored && stored.mediaType === MT.ociManifest ? stored : await buildManifest(rec, 'oci');
    const md = sha256Digest(manifest.bytes);
    for (const l of rec.layers) await putBlob(l.blobDigest!);
    await putBlob(rec.id);
    await putBlob(md, manifest.bytes);
    index.manifests.push(...indexEntries({ mediaType: MT.ociManifest, digest: md, size: manifest.bytes.length }, tags, false));
  }
  await w.file('index.json', Buffer.from(JSON.stringify(index)));
  await w.file('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  await w.end();
}

// ---------------------------------------------------------------------------------------------
// load

interface StagedFile {
  kind: 'file';
  file: string;
  size: number;
  digest: string;
}
type Staged = StagedFile | { kind: 'link'; target: string };

const BLOB_RE = /^blobs\/sha256\/([0-9a-f]{64})$/;

function invalidArchive(why: string): SkiffError {
  return new SkiffError('EINVAL', `invalid image archive: ${why}`);
}

/** An archive path as a key: relative, normalised; one that climbs out of the archive is refused. */
function entryKey(p: string): string {
  if (p.startsWith('/')) throw invalidArchive(`entry "${p}" has an absolute path`);
  const n = path.posix.normalize(p).replace(/\/+$/, '');
  if (n === '..' || n.startsWith('../')) throw invalidArchive(`entry "${p}" points outside the archive`);
  return n === '.' ? '' : n;
}

/** node-tar's errors ("TAR_BAD_ARCHIVE: Truncated input ...") in words: without the code, lower case. */
function tarWords(e: unknown): string {
  const m = ((e as Error)?.message ?? String(e)).replace(/^TAR_[A-Z_]+: /, '');
  return m.charAt(0).toLowerCase() + m.slice(1);
}

/**
 * Read the (possibly compressed) archive into `dir`: each regular file becomes `dir/<n>`; links
 * are remembered as aliases. Returns archive path → staged entry.
 */
async function stageArchive(input: Readable, dir: string, size?: number): Promise<Map<string, Staged>> {
  const entries = new Map<string, Staged>();
  const pending: Promise<void>[] = [];
  let n = 0;
  let sawEntry = false;
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const plain = decompressStream('', input, 'the archive');
    const parser = new Parser({ strict: true });
    const fail = (e: unknown): void => {
      if (failed) return;
      failed = true;
      plain.destroy();
      input.destroy();
      reject(e instanceof SkiffError ? e : invalidArchive(tarWords(e)));
    };
    let declared = 0;
    parser.on('entry', (entry: ReadEntry) => {
      sawEntry = true;
      // the archive's file is `size` bytes: entries that cannot fit the decompression bound are refused at their header
      declared += 512 + Math.ceil((entry.size ?? 0) / 512) * 512;
      if (size !== undefined && beyondInflateLimit(declared, size)) {
        entry.resume();
        fail(inflateError('the archive'));
        return;
      }
      let key: string;
      try {
        key = entryKey(entry.path);
      } catch (e) {
        entry.resume();
        fail(e);
        return;
      }
      if (entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile') {
        const file = path.join(dir, String(n++));
        const hasher = new Hasher();
        const m = BLOB_RE.exec(key);
        const stages: NodeJS.ReadWriteStream[] = [hasher];
        if (m) stages.push(new DigestVerifier(`sha256:${m[1]}`, entry.size, `${key} in the archive`));
        pending.push(
          pipeline([Readable.from(entry), ...stages, fs.createWriteStream(file, { mode: 0o600 })]).then(() => {
            entries.set(key, { kind: 'file', file, size: hasher.bytes, digest: `sha256:${hasher.hash.digest('hex')}` });
          }, fail),
        );
        return;
      }
      if (entry.type === 'SymbolicLink' && entry.linkpath !== undefined) {
        const t = entry.linkpath;
        entries.set(key, { kind: 'link', target: t.startsWith('/') ? t : path.posix.join(path.posix.dirname(key), t) });
      } else if (entry.type === 'Link' && entry.linkpath !== undefined) {
        entries.set(key, { kind: 'link', target: entry.linkpath });
      }
      entry.resume();
    });
    parser.on('error', fail);
    parser.on('warn', (_code: string, msg: string | Error) => fail(typeof msg === 'string' ? new Error(msg) : msg));
    parser.on('end', () => {
      Promise.all(pending).then(() => {
        if (!sawEntry) fail(invalidArchive('the archive is empty'));
        else if (!failed) resolve();
      }, fail);
    });
    plain.on('error', fail);
    plain.pipe(parser as unknown as NodeJS.WritableStream);
  });
  return entries;
}

function lookup(entries: Map<string, Staged>, p: string, depth = 0): StagedFile | undefined {
  const e = entries.get(entryKey(p));
  if (!e) return undefined;
  if (e.kind === 'file') return e;
  if (depth > 16) throw invalidArchive(`too many levels of links at "${p}"`);
  return lookup(entries, e.target, depth + 1);
}

function need(entries: Map<string, Staged>, p: string, what: string): StagedFile {
  const e = lookup(entries, p);
  if (!e) throw invalidArchive(`${what} "${p}" is missing`);
  return e;
}

/** A JSON document of the archive (manifest.json, index.json, a manifest, a config), bounded. */
async function readStaged(e: StagedFile, what: string): Promise<Buffer> {
  if (e.size > MAX_JSON_DOCUMENT) throw invalidArchive(`${what} is ${e.size} bytes, larger than the limit of ${MAX_JSON_DOCUMENT >> 20} MiB`);
  return fsp.readFile(e.file);
}

function parseJson<T>(b: Buffer, what: string): T {
  try {
    return JSON.parse(b.toString('utf8')) as T;
  } catch {
    throw invalidArchive(`${what} is not valid JSON`);
  }
}

async function magicOf(file: string): Promise<'gzip' | 'zstd' | 'other'> {
  const fh = await fsp.open(file, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    if (bytesRead >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (bytesRead >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'other';
  } finally {
    await fh.close();
  }
}

/** A layer to bring into the store. */
interface LayerJob {
  staged: StagedFile;
  /** Where the staged bytes go: kept as the blob (compressed, or an OCI archive's blob) or gzipped into one. */
  keep: boolean;
  mediaType: string;
  diffId: string;
  chainId: string;
  parent: string | null;
  /** diffID already proven (the staged bytes are the uncompressed tar and hashed to it). */
  verified: boolean;
}

/**
 * Extract a staged layer file into `diff`, checking the uncompressed tar against its diffID: gzip
 * goes straight into the native sink (inflated, hashed and extracted on the thread pool), another
 * compression through its decoder first. The file is read to its very end (padding may follow the
 * end-of-archive marker) so the digest covers every byte.
 */
async function extractStaged(job: LayerJob, diff: string): Promise<number> {
  const gzip = (await magicOf(job.staged.file)) === 'gzip';
  const file = fs.createReadStream(job.staged.file, { highWaterMark: 1 << 20 });
  // a plain tar staged under its diffID is proven already: not hashed again
  const sink = new LayerSink(diff, { ...extractOptions(), label: job.diffId }, {
    gzip,
    inflateLimit: inflateLimit(job.staged.size),
    ...(job.verified ? {} : { digest: parseDigest(job.diffId).algorithm }),
  });
  try {
    await pipeline(gzip ? file : decompressStream(job.mediaType, file, `layer ${job.diffId}`), sink);
  } catch (e) {
    throw isCorruptInput(e) ? corruptError(e, 'layer', 'gzip') : e;
  } finally {
    await closed(sink);
  }
  if (!job.verified) verifyDigest(sink.result!.digest!, job.diffId, `layer ${job.diffId}`);
  return sink.result!.size;
}

async function verifyStaged(job: LayerJob): Promise<void> {
  await pipeline(
    decompressStream(job.mediaType, fs.createReadStream(job.staged.file)),
    new DigestVerifier(job.diffId, undefined, `layer ${job.diffId}`),
    async function* (src) {
      for await (const _ of src) void _;
    },
  );
}

/** Put a staged file into blobs/ (a hard link: the staged name stays usable until the end of the load). */
async function linkIntoBlobs(file: string, digest: string): Promise<void> {
  if (fs.existsSync(blobPath(digest))) return;
  await fsp.chmod(file, 0o644);
  try {
    await fsp.link(file, blobPath(digest));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** Layers already in the store, by chain id, with a blob we can re-use. */
async function knownLayerBlobs(): Promise<Map<string, LayerRef[]>> {
  const m = new Map<string, LayerRef[]>();
  for (const rec of await listImages()) {
    for (const l of rec.layers) {
      if (!l.blobDigest || !fs.existsSync(blobPath(l.blobDigest))) continue;
      m.set(l.chainId, [...(m.get(l.chainId) ?? []), l]);
    }
  }
  return m;
}

/** Bring one layer in: extract it unless present, store its blob; returns its LayerRef. */
async function ingestLayer(job: LayerJob, known: Map<string, LayerRef[]>): Promise<LayerRef> {
  const base = { chainId: job.chainId, diffId: job.diffId };
  const have = known.get(job.chainId) ?? [];
  if (job.keep) {
    const blobDigest = job.staged.digest;
    const trusted = have.some((l) => l.blobDigest === blobDigest && l.diffId === job.diffId);
    if (!hasLayer(job.chainId)) {
      await createLayer({ ...base, parent: job.parent }, (diff) => extractStaged(job, diff));
    } else if (!trusted && !job.verified) {
      await verifyStaged(job);
    }
    await linkIntoBlobs(job.staged.file, blobDigest);
    return { ...base, blobDigest, mediaType: job.mediaType, blobSize: job.staged.size };
  }
  // an uncompressed classic layer: re-use a blob we have for it, else gzip one
  const reuse = have.find((l) => l.diffId === job.diffId);
  if (reuse && hasLayer(job.chainId)) return { ...base, blobDigest: reuse.blobDigest!, mediaType: reuse.mediaType ?? job.mediaType, blobSize: reuse.blobSize ?? (await fsp.stat(blobPath(reuse.blobDigest!))).size };
  const tmp = await stagingPath('blob');
  try {
    const hasher = new Hasher();
    const gzip = pipeline(fs.createReadStream(job.staged.file, { highWaterMark: 256 * 1024 }), zlib.createGzip(), hasher, fs.createWriteStream(tmp, { mode: 0o644 }));
    const extract = hasLayer(job.chainId) ? Promise.resolve() : createLayer({ ...base, parent: job.parent }, (diff) => extractStaged(job, diff)).then(() => undefined);
    await Promise.all([gzip, extract]);
    const blobDigest = `sha256:${hasher.hash.digest('hex')}`;
    if (!fs.existsSync(blobPath(blobDigest))) await fsp.rename(tmp, blobPath(blobDigest));
    return { ...base, blobDigest, mediaType: job.mediaType, blobSize: hasher.bytes };
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

/** An image found in the archive, checked and ready to go into the store. */
interface PlannedImage {
  config: StagedFile;
  configBytes: Buffer;
  configMediaType: string;
  manifest?: { staged: StagedFile; digest: string; mediaType: string };
  jobs: LayerJob[];
  tags: string[];
}

function configOf(bytes: Buffer, what: string, layerCount: number): ImageConfig {
  const c = parseJson<ImageConfig>(bytes, what);
  const diffIds = c.rootfs?.diff_ids;
  if (!Array.isArray(diffIds)) throw invalidArchive(`${what} has no rootfs.diff_ids`);
  if (diffIds.length !== layerCount) throw invalidArchive(`${what} lists ${diffIds.length} layers but the manifest has ${layerCount}`);
  for (const d of diffIds) parseDigest(d);
  return c;
}

function normaliseTag(t: string): string | undefined {
  try {
    const r = parseReference(t);
    return r.digest ? undefined : canonical(r);
  } catch {
    return undefined;
  }
}

/** docker-archive: manifest.json entries. */
async function planDocker(entries: Map<string, Staged>): Promise<PlannedImage[]> {
  const mj = parseJson<{ Config?: string; RepoTags?: string[] | null; Layers?: string[] }[]>(await readStaged(need(entries, 'manifest.json', 'file'), 'manifest.json'), 'manifest.json');
  if (!Array.isArray(mj)) throw invalidArchive('manifest.json is not a list');
  const out: PlannedImage[] = [];
  for (const m of mj) {
    if (typeof m.Config !== 'string' || !Array.isArray(m.Layers)) throw invalidArchive('manifest.json entry without Config or Layers');
    const config = need(entries, m.Config, 'image config');
    const configBytes = await readStaged(config, `image config ${m.Config}`);
    const named = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(m.Config);
    if (named) verifyBuffer(configBytes, `sha256:${named[1]}`, undefined, `image config ${m.Config} in the archive`);
    const c = configOf(configBytes, `image config ${m.Config}`, m.Layers.length);
    const diffIds = c.rootfs.diff_ids;
    const chainIds = computeChainIds(diffIds);
    const jobs: LayerJob[] = [];
    for (const [i, lp] of m.Layers.entries()) {
      const staged = need(entries, lp, 'layer');
      const diffId = diffIds[i]!;
      const magic = await magicOf(staged.file);
      if (magic === 'other' && staged.digest !== diffId) {
        throw new SkiffError('EDIGEST', `digest mismatch for layer ${lp} in the archive: expected ${diffId}, got ${staged.digest}: the archive is corrupt and nothing was loaded`);
      }
      const verified = magic === 'other';
      jobs.push({
        staged,
        keep: magic !== 'other',
        mediaType: magic === 'zstd' ? MT.ociLayerZstd : MT.dockerLayerGzip,
        diffId,
        chainId: chainIds[i]!,
        parent: i > 0 ? chainIds[i - 1]! : null,
        verified,
      });
    }
    const tags = (m.RepoTags ?? []).map(normaliseTag).filter((t): t is string => t !== undefined);
    out.push({ config, configBytes, configMediaType: MT.dockerConfig, jobs, tags });
  }
  return out;
}

/** OCI layout: index.json → manifests (an index inside is resolved to this machine's platform). */
async function planOci(entries: Map<string, Staged>): Promise<PlannedImage[]> {
  const blob = (d: Descriptor, what: string): StagedFile => {
    const e = need(entries, `blobs/${parseDigest(d.digest).algorithm}/${parseDigest(d.digest).hex}`, what);
    if (e.digest !== d.digest) throw new SkiffError('EDIGEST', `digest mismatch for ${what} ${d.digest} in the archive: got ${e.digest}: the archive is corrupt and nothing was loaded`);
    if (e.size !== d.size) throw new SkiffError('EDIGEST', `size mismatch for ${what} ${d.digest} in the archive: expected ${d.size} bytes, got ${e.size}`);
    return e;
  };
  const idx = parseJson<Index>(await readStaged(need(entries, 'index.json', 'file'), 'index.json'), 'index.json');
  if (!Array.isArray(idx.manifests)) throw invalidArchive('index.json has no manifests');
  const byManifest = new Map<string, PlannedImage>();
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  for (const top of idx.manifests) {
    let desc = top;
    for (let depth = 0; ; depth++) {
      const staged = blob(desc, 'manifest');
      const p = parseManifest(await readStaged(staged, `manifest ${desc.digest}`), desc.mediaType);
      if (p.kind === 'manifest') break;
      if (depth > 4) throw invalidArchive('image indexes nested too deep');
      desc = selectPlatform(p.index, { os: 'linux', arch });
    }
    const ann = top.annotations ?? {};
    const name = ann[ANN_CONTAINERD_NAME] ?? ann[ANN_NAME];
    // a bare ref.name ("latest") is a tag without a repository: no name to give the image
    const tag = name && /[:/]/.test(name) ? normaliseTag(name) : undefined;
    const existing = byManifest.get(desc.digest);
    if (existing) {
      if (tag && !existing.tags.includes(tag)) existing.tags.push(tag);
      continue;
    }
    const mStaged = blob(desc, 'manifest');
    const parsed = parseManifest(await readStaged(mStaged, `manifest ${desc.digest}`), desc.mediaType);
    if (parsed.kind !== 'manifest') throw invalidArchive(`${desc.digest} is not an image manifest`);
    const m = parsed.manifest;
    const config = blob(m.config, 'image config');
    const configBytes = await readStaged(config, `image config ${m.config.digest}`);
    const c = configOf(configBytes, `image config ${m.config.digest}`, m.layers.length);
    const chainIds = computeChainIds(c.rootfs.diff_ids);
    const jobs = m.layers.map((ld, i): LayerJob => ({
      staged: blob(ld, 'layer'),
      keep: true,
      mediaType: ld.mediaType,
      diffId: c.rootfs.diff_ids[i]!,
      chainId: chainIds[i]!,
      parent: i > 0 ? chainIds[i - 1]! : null,
      verified: ld.digest === c.rootfs.diff_ids[i],
    }));
    byManifest.set(desc.digest, {
      config,
      configBytes,
      configMediaType: m.config.mediaType,
      manifest: { staged: mStaged, digest: desc.digest, mediaType: parsed.mediaType },
      jobs,
      tags: tag ? [tag] : [],
    });
  }
  if (!byManifest.size) throw invalidArchive('index.json lists no image');
  return [...byManifest.values()];
}

/** Layers, blobs and the record of one planned image. Layers shared between images are ingested once. */
async function storePlanned(
  plan: PlannedImage,
  id: string,
  known: Map<string, LayerRef[]>,
  ingested: Map<string, Promise<LayerRef>>,
): Promise<ImageRecord> {
  const refs: LayerRef[] = [];
  const tasks = plan.jobs.map((job, i) => async (): Promise<void> => {
    const key = `${job.chainId} ${job.staged.file}`;
    let p = ingested.get(key);
    if (!p) {
      p = ingestLayer(job, known);
      ingested.set(key, p);
    }
    refs[i] = await p;
  });
  await runLimited(tasks, 3);
  if (!fs.existsSync(blobPath(id))) await writeFileAtomic(blobPath(id), plan.configBytes, 0o644);
  let manifest: { manifestDigest: string; manifestMediaType: string } | undefined;
  if (plan.manifest) {
    await linkIntoBlobs(plan.manifest.staged.file, plan.manifest.digest);
    manifest = { manifestDigest: plan.manifest.digest, manifestMediaType: plan.manifest.mediaType };
  }
  const config = parseJson<ImageConfig>(plan.configBytes, 'image config');
  const now = new Date().toISOString();
  return {
    id,
    configMediaType: plan.configMediaType,
    ...(manifest ?? {}),
    repoDigests: [],
    layers: refs,
    size: await layersSize(refs.map((r) => r.chainId)),
    created: config.created ?? now,
    added: now,
  };
}

/**
 * Load every image of an archive (docker-archive or OCI, optionally gzip/zstd-compressed) into
 * the store (`size`: the archive file's, for the decompression bound). Returns Docker's report lines.
 */
export async function loadArchive(input: Readable, o: { size?: number } = {}): Promise<{ loaded: string[] }> {
  return whileAddingLayers(() => load(input, o.size));
}

async function load(input: Readable, size?: number): Promise<{ loaded: string[] }> {
  const dir = await makeStagingDir('load');
  try {
    const entries = await stageArchive(input, dir, size);
    let plans: PlannedImage[];
    if (lookup(entries, 'manifest.json')) plans = await planDocker(entries);
    else if (lookup(entries, 'index.json')) plans = await planOci(entries);
    else throw invalidArchive('no manifest.json (docker-archive) or index.json (OCI layout) in it');
    const known = await knownLayerBlobs();
    const ingested = new Map<string, Promise<LayerRef>>();
    const loaded: string[] = [];
    for (const plan of plans) {
      const id = sha256Digest(plan.configBytes);
      let rec = await findImage(id);
      const complete = rec && rec.layers.every((l) => hasLayer(l.chainId) && l.blobDigest && fs.existsSync(blobPath(l.blobDigest)));
      if (!rec || !complete) rec = await storePlanned(plan, id, known, ingested);
      // an image we already have complete stays as it is (its blobs and manifest); only tags move
      await putImage(rec, plan.tags);
      if (plan.tags.length) for (const t of plan.tags) loaded.push(`Loaded image: ${familiar(parseReference(t))}`);
      else loaded.push(`Loaded image ID: ${id}`);
    }
    return { loaded };
  } finally {
    await discardStaging(dir);
  }
}
