/**
 * Build caches shared between machines: `--cache-to` writes the steps of a build, `--cache-from`
 * reads them, so a build on an empty store takes its steps' layers instead of running them.
 *
 * Format: BuildKit's registry cache in its image-manifest form (`image-manifest=true`): one OCI
 * image manifest whose config (application/vnd.buildkit.cacheconfig.v0) lists `layers` ({blob,
 * parent}) and `records` ({digest, inputs, results: [{layer, createdAt}]}), and whose layers are the
 * cached layer blobs (annotated with `containerd.io/uncompressed`, the diffID). The record digests are
 * skiff's step keys (cache.ts), so a skiff cache is read by skiff only, as a BuildKit cache by BuildKit;
 * a step that adds no layer has a result with layer -1 (its creation time keeps the image id).
 * `type=registry,ref=REF` puts that manifest at REF; `type=local,dest=DIR` writes an OCI image layout
 * (index.json naming the manifest, blobs/sha256/...), as BuildKit's local cache.
 *
 * A build on an empty store would fetch a stage's cached layers one after another (a step's layer
 * sits on its parent's, and the solver reaches them in turn); so the blob of every layer a cache
 * records for a step the local cache lacks starts downloading as soon as the cache's config is read
 * (`Prefetch`: at most pull's 6 at once, digest, size and diffID verified into staging). A cached step waits
 * for its blob only (`download`); its layer is extracted when the build reads it (`materialize`, by
 * the builder: a step that runs on it, the image, a cache export), so an intermediate stage that only
 * cached steps use is never extracted. Staged blobs are removed when the build ends.
 *
 * What a cache says is untrusted: a manifest or config that does not parse, a record that names a
 * layer the manifest lacks, a blob whose digest or diffID differs, are ignored with a warning, and
 * the step runs; so does a cache that cannot be reached.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { describeError, SkiffError } from '../errors.js';
import { SILENT } from '../image/progress.js';
import { MANIFEST_ACCEPT, MAX_JSON_DOCUMENT, MT, type Descriptor } from '../oci/media.js';
import { DigestCheck, isDigest, sha256Digest, verifyBuffer, verifyDigest } from '../oci/digest.js';
import { parseReference } from '../oci/reference.js';
import { blobPath, buildCacheFile } from '../store/layout.js';
import { discardStaging, makeStagingDir, writeFileAtomic } from '../store/atomic.js';
import { layerMeta } from '../store/layers.js';

export const CACHE_CONFIG_TYPE = 'application/vnd.buildkit.cacheconfig.v0';
const UNCOMPRESSED = 'containerd.io/uncompressed';

export type CacheSpec =
  /** `bare`: `--cache-from REF` alone: a registry cache at REF, or (an image there or in the store) the image's layers as cache (image-cache.ts). */
  | { type: 'registry'; ref: string; mode: 'min' | 'max'; ignoreError: boolean; bare?: boolean }
  | { type: 'local'; dir: string; mode: 'min' | 'max'; ignoreError: boolean };

/**
 * `--cache-from`/`--cache-to` values: `type=registry,ref=REF[,mode=min|max]`, `type=local,src=DIR`
 * (from) or `dest=DIR` (to), or a bare REF (as buildx: a registry cache at REF).
 */
export function parseCacheSpec(text: string, dir: 'from' | 'to'): CacheSpec {
  const bad = (why: string): SkiffError => new SkiffError('EINVAL', `invalid --cache-${dir} ${text}: ${why}`);
  if (!text.includes('=')) {
    try {
      parseReference(text);
    } catch (e) {
      throw bad(e instanceof Error ? e.message : String(e));
    }
    return { type: 'registry', ref: text, mode: 'min', ignoreError: false, bare: true };
  }
  const f = new Map<string, string>();
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) throw bad(`"${part}" is not KEY=VALUE`);
    f.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1));
  }
  const type = f.get('type') ?? (f.has('ref') ? 'registry' : '');
  const mode = f.get('mode') ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw bad(`mode must be min or max, not "${mode}"`);
  const ignoreError = f.get('ignore-error') === 'true';
  if (type === 'registry') {
    const ref = f.get('ref');
    if (!ref) throw bad('type=registry needs ref=REF');
    const r = parseReference(ref);
    if (r.digest && dir === 'to') throw bad('the cache is written to a tag, not a digest');
    return { type, ref, mode, ignoreError };
  }
  if (type === 'local') {
    const d = f.get(dir === 'from' ? 'src' : 'dest');
    if (!d) throw bad(`type=local needs ${dir === 'from' ? 'src' : 'dest'}=DIR`);
    return { type, dir: path.resolve(d), mode, ignoreError };
  }
  throw bad(`unsupported cache type "${type}": use registry or local`);
}

/** What a cache knows about one step: when it was made and the layer it adds, if any. */
export interface RemoteStep {
  created: string;
  layer?: { desc: Descriptor; diffId: string };
  source: CacheSource;
}

/** One step of this build, as --cache-to writes it. */
export interface StepRecord {
  key: string;
  parent: string;
  created: string;
  layer?: { chainId: string; diffId: string; blobDigest?: string; blobSize?: number };
  stage: number;
}

interface CacheSource {
  name: string;
  blob(digest: string): Promise<{ stream: Readable }>;
}

interface CacheConfig {
  layers: { blob: string; parent: number }[];
  records: { digest: string; inputs?: { selector: string; link: number }[][]; results?: { layer: number; createdAt: string }[] }[];
}

/** The caches of `--cache-from`, loaded when the build starts. */
export class CacheSources {
  private readonly steps = new Map<string, RemoteStep>();
  private readonly prefetch = new Prefetch();
  /** Bare `--cache-from REF`s that name an image, not a cache: classic image caches (pulled by the caller). */
  readonly images: string[] = [];

  static async load(specs: CacheSpec[], warn: (line: string) => void): Promise<CacheSources> {
    const c = new CacheSources();
    await Promise.all(specs.map(async (s) => {
      const name = s.type === 'registry' ? s.ref : s.dir;
      try {
        const { source, manifest } = s.type === 'registry' ? await openRegistry(s.ref) : await openLocal(s.dir);
        c.add(source, manifest, await readBlobBytes(source, manifest.config));
      } catch (e) {
        if (e instanceof NotACache && s.type === 'registry' && s.bare) {
          c.images.push(s.ref);
          return;
        }
        warn(`[Warning] cache ${name} not used: ${e instanceof SkiffError ? e.message : describeError(e)}`);
      }
    }));
    return c;
  }

  get size(): number {
    return this.steps.size;
  }

  lookup(key: string): RemoteStep | undefined {
    return this.steps.get(key);
  }

  /** Check a cache's manifest and config (all or nothing) and remember its steps. */
  private add(source: CacheSource, m: ParsedManifest, configBytes: Buffer): void {
    let cfg: CacheConfig;
    try {
      cfg = JSON.parse(configBytes.toString('utf8')) as CacheConfig;
    } catch {
      throw new SkiffError('EINVAL', 'its cache config is not JSON');
    }
    if (!cfg || typeof cfg !== 'object' || !Array.isArray(cfg.layers) || !Array.isArray(cfg.records)) throw new SkiffError('EINVAL', 'its cache config has no layers and records');
    const byBlob = new Map(m.layers.map((l) => [l.desc.digest, l]));
    const layers = cfg.layers.map((l, i) => {
      const found = l && typeof l.blob === 'string' ? byBlob.get(l.blob) : undefined;
      if (!found) throw new SkiffError('EINVAL', `cache layer ${i} names a blob the manifest does not list`);
      return found;
    });
    const steps: [string, RemoteStep][] = [];
    for (const r of cfg.records) {
      if (!r || typeof r.digest !== 'string' || !isDigest(r.digest) || !Array.isArray(r.results)) throw new SkiffError('EINVAL', 'a cache record has no valid digest or results');
      const res = r.results[0];
      if (!res) continue;
      if (!Number.isInteger(res.layer) || res.layer < -1 || res.layer >= layers.length) throw new SkiffError('EINVAL', `cache record ${r.digest} names layer ${String(res.layer)}, which is not there`);
      if (typeof res.createdAt !== 'string' || Number.isNaN(Date.parse(res.createdAt))) throw new SkiffError('EINVAL', `cache record ${r.digest} has no valid createdAt`);
      steps.push([r.digest, { created: res.createdAt, ...(res.layer >= 0 ? { layer: layers[res.layer]! } : {}), source }]);
    }
    for (const [k, v] of steps) {
      if (this.steps.has(k)) continue;
      this.steps.set(k, v);
      // a step the local cache has needs no layer from here
      if (v.layer && !fs.existsSync(buildCacheFile(k))) this.prefetch.add(source, v.layer);
    }
  }

  /**
   * Whether a cached step's layer blob can be had: its prefetch's download (or, with none, a
   * download now), digest, size and diffID verified into staging. False, with a warning, when it cannot: the
   * step then runs. The layer itself is made only when the build reads it (`materialize`).
   */
  async download(step: RemoteStep, warn: (line: string) => void): Promise<boolean> {
    const l = step.layer!;
    try {
      await this.prefetch.get(step.source, l);
      return true;
    } catch (e) {
      warn(`[Warning] cache ${step.source.name}: layer ${l.desc.digest} not used: ${e instanceof SkiffError ? e.message : describeError(e)}`);
      return false;
    }
  }

  /**
   * Make a cached step's layer on top of `parent` from its downloaded blob (diffID verified; the blob
   * goes into blobs/); resolves with the layer's size. The caller holds the store's gc lock shared
   * (`whileAddingLayers`). The blob was verified (`download`): what fails here is the store's (a full
   * disk, say), and the build's, since the step was already taken from the cache.
   */
  async materialize(step: RemoteStep, chainId: string, parent: string | null): Promise<number> {
    const l = step.layer!;
    const { pullLayer } = await import('../image/pull.js');
    try {
      const file = await this.prefetch.get(step.source, l);
      await pullLayer(async () => ({ stream: fs.createReadStream(file) }), l.desc, l.diffId, chainId, parent, SILENT);
    } catch (e) {
      const msg = `cache ${step.source.name}: layer ${l.desc.digest}: ${e instanceof SkiffError ? e.message : describeError(e)} (its step was taken from the cache: build again without that cache)`;
      throw new SkiffError(e instanceof SkiffError ? e.code : 'EREGISTRY', msg);
    }
    return (await layerMeta(chainId))?.size ?? 0;
  }

  /** The build is over: downloads still running are stopped and every staged blob is removed. */
  close(): Promise<void> {
    return this.prefetch.close();
  }
}

/**
 * Layer blobs of the caches, downloaded before a step asks for them: at most pull's concurrency at
 * once, in the order the cache records them (a build meets them in about that order), each verified
 * (digest, size, diffID) into a staging dir of its own under tmp/ (a killed build leaves only staging, which
 * the next sweep removes). Extraction waits until the build reads the layer.
 */
class Prefetch {
  private readonly jobs = new Map<string, Promise<string>>();
  private readonly streams = new Set<Readable>();
  private readonly dirs: string[] = [];
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private closed = false;
  private closing: Promise<void> | undefined;

  add(source: CacheSource, layer: { desc: Descriptor; diffId: string }): void {
    if (!this.closed) void this.get(source, layer).catch(() => undefined); // its error matters only to a step that asks
  }

  /** The verified blob file of a layer: one download per digest, shared by every step that asks. */
  get(source: CacheSource, layer: { desc: Descriptor; diffId: string }): Promise<string> {
    let p = this.jobs.get(layer.desc.digest);
    if (!p) {
      p = this.limited(() => this.fetch(source, layer.desc, layer.diffId));
      this.jobs.set(layer.desc.digest, p);
    }
    return p;
  }

  close(): Promise<void> {
    return (this.closing ??= this.stop());
  }

  private async stop(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w();
    for (const s of this.streams) s.destroy(new SkiffError('ERUNTIME', 'the build no longer needs this layer'));
    await Promise.allSettled(this.jobs.values());
    for (const d of this.dirs) await discardStaging(d);
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    const { CONCURRENCY } = await import('../image/pull.js');
    while (!this.closed && this.running >= CONCURRENCY) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  /**
   * Download a blob into staging, its digest and size checked as it arrives, then its diffID (what the
   * cache claims the layer is) from the staged file: decompressing and hashing costs little next to
   * extracting, and a cache that lies is then found while its step can still run instead.
   */
  private async fetch(source: CacheSource, desc: Descriptor, diffId: string): Promise<string> {
    const ended = (): SkiffError => new SkiffError('ERUNTIME', 'the build ended');
    if (this.closed) throw ended();
    const dir = await makeStagingDir('prefetch');
    this.dirs.push(dir);
    const file = path.join(dir, 'blob');
    const { stream } = await source.blob(desc.digest);
    if (this.closed) {
      stream.destroy();
      throw ended();
    }
    this.streams.add(stream);
    const out = fs.createWriteStream(file, { mode: 0o600 });
    try {
      const check = new DigestCheck(desc.digest, desc.size, `layer ${desc.digest}`);
      for await (const c of stream) {
        check.update(c as Buffer);
        if (!out.write(c)) await once(out, 'drain');
      }
      check.check();
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      const { decompressStream } = await import('../image/compression.js');
      const h = crypto.createHash('sha256'); // diffIDs are sha256 (parseCacheManifest)
      for await (const c of decompressStream(desc.mediaType, fs.createReadStream(file), `layer ${desc.digest}`)) h.update(c as Buffer);
      verifyDigest(`sha256:${h.digest('hex')}`, diffId, `uncompressed layer ${diffId}`);
      return file;
    } catch (e) {
      out.destroy();
      stream.destroy();
      throw e;
    } finally {
      this.streams.delete(stream);
    }
  }
}

interface ParsedManifest {
  config: Descriptor;
  layers: { desc: Descriptor; diffId: string }[];
}

/** A manifest that is an image's (or a multi-platform image's index), not a build cache. */
class NotACache extends SkiffError {}

function parseCacheManifest(bytes: Buffer): ParsedManifest {
  let m: { mediaType?: unknown; config?: Descriptor; layers?: (Descriptor & { annotations?: Record<string, string> })[] };
  try {
    m = JSON.parse(bytes.toString('utf8')) as typeof m;
  } catch {
    throw new SkiffError('EINVAL', 'its manifest is not JSON');
  }
  if (!m || typeof m !== 'object') throw new SkiffError('EINVAL', 'its manifest is not an object');
  if (m.mediaType === MT.ociIndex || m.mediaType === MT.dockerList) throw new NotACache('EINVAL', 'it is an image index (BuildKit\'s index form of the cache, or a multi-platform image): skiff reads the image-manifest form');
  const cfg = m.config;
  if (!cfg || typeof cfg.digest !== 'string' || !isDigest(cfg.digest) || typeof cfg.size !== 'number') throw new SkiffError('EINVAL', 'its manifest has no valid config');
  if (cfg.mediaType !== CACHE_CONFIG_TYPE) {
    const image = cfg.mediaType === MT.ociConfig || cfg.mediaType === MT.dockerConfig;
    throw new (image ? NotACache : SkiffError)('EINVAL', `it is not a build cache (config type ${String(cfg.mediaType)}, not ${CACHE_CONFIG_TYPE})`);
  }
  if (cfg.size > MAX_JSON_DOCUMENT) throw new SkiffError('EINVAL', `its cache config is larger than ${MAX_JSON_DOCUMENT} bytes`);
  if (!Array.isArray(m.layers)) throw new SkiffError('EINVAL', 'its manifest has no layers list');
  const layers = m.layers.map((d, i) => {
    const diffId = d?.annotations?.[UNCOMPRESSED];
    if (!d || typeof d.digest !== 'string' || !isDigest(d.digest) || !Number.isSafeInteger(d.size) || d.size < 0 || typeof diffId !== 'string' || !isDigest(diffId) || !diffId.startsWith('sha256:')) {
      throw new SkiffError('EINVAL', `its layer ${i} has no valid digest, size and ${UNCOMPRESSED} annotation`);
    }
    return { desc: { mediaType: typeof d.mediaType === 'string' ? d.mediaType : MT.ociLayerGzip, digest: d.digest, size: d.size }, diffId };
  });
  return { config: cfg, layers };
}

async function readBlobBytes(source: CacheSource, d: Descriptor): Promise<Buffer> {
  const { readAll } = await import('../image/pull.js');
  const bytes = await readAll((await source.blob(d.digest)).stream, d.size + 1);
  verifyBuffer(bytes, d.digest, d.size, `cache config ${d.digest}`);
  return bytes;
}

async function openRegistry(refText: string): Promise<{ source: CacheSource; manifest: ParsedManifest }> {
  const { clientFor } = await import('../image/pull.js');
  const ref = parseReference(refText);
  const client = clientFor(ref);
  const m = await client.getManifest(ref.path, ref.digest ?? ref.tag ?? 'latest', MANIFEST_ACCEPT);
  return { source: { name: refText, blob: (d) => client.getBlob(ref.path, d) }, manifest: parseCacheManifest(m.bytes) };
}

/** A file of an OCI layout, never through a symlink. */
function layoutBlob(dir: string, digest: string): string {
  const [alg, hex] = digest.split(':') as [string, string];
  return path.join(dir, 'blobs', alg, hex);
}

function openNoFollow(p: string): Readable {
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  return fs.createReadStream('', { fd });
}

async function openLocal(dir: string): Promise<{ source: CacheSource; manifest: ParsedManifest }> {
  const { readAll } = await import('../image/pull.js');
  const source: CacheSource = { name: dir, blob: async (d) => ({ stream: openNoFollow(layoutBlob(dir, d)) }) };
  let index: { manifests?: Descriptor[] };
  try {
    index = JSON.parse((await readAll(openNoFollow(path.join(dir, 'index.json')), MAX_JSON_DOCUMENT + 1)).toString('utf8')) as typeof index;
  } catch (e) {
    throw new SkiffError('EINVAL', (e as NodeJS.ErrnoException).code ? `${path.join(dir, 'index.json')}: ${describeError(e)}` : 'its index.json is not JSON');
  }
  const desc = Array.isArray(index?.manifests) ? index.manifests.find((d) => d && d.mediaType === MT.ociManifest && typeof d.digest === 'string' && isDigest(d.digest)) : undefined;
  if (!desc || typeof desc.size !== 'number' || desc.size > MAX_JSON_DOCUMENT) throw new SkiffError('EINVAL', 'its index.json names no cache manifest');
  const bytes = await readAll((await source.blob(desc.digest)).stream, desc.size + 1);
  verifyBuffer(bytes, desc.digest, desc.size, `cache manifest ${desc.digest}`);
  return { source, manifest: parseCacheManifest(bytes) };
}

/**
 * Write the cache of a build: `records` are the steps of the stages the mode keeps. Layers built
 * here are packed into blobs first (the record's layer gets its blob, so a push re-uses it).
 */
export async function exportCache(spec: CacheSpec, records: StepRecord[], log: (line: string) => void): Promise<void> {
  const name = spec.type === 'registry' ? spec.ref : spec.dir;
  log(`exporting cache to ${name} (mode=${spec.mode})`);
  const { packLayerBlob } = await import('../image/push.js');
  const layerIndex = new Map<string, number>();
  const layers: { desc: Descriptor & { annotations: Record<string, string> }; parent: number }[] = [];
  const cfg: CacheConfig = { layers: [], records: [] };
  const recordIndex = new Map<string, number>();
  for (const r of records) {
    if (recordIndex.has(r.key)) continue;
    let layer = -1;
    if (r.layer) {
      const l = r.layer;
      if (!l.blobDigest || !fs.existsSync(blobPath(l.blobDigest))) {
        const b = await packLayerBlob(l);
        l.blobDigest = b.digest;
        l.blobSize = b.size;
      }
      const known = layerIndex.get(l.blobDigest);
      if (known !== undefined) layer = known;
      else {
        layer = layers.length;
        layerIndex.set(l.blobDigest, layer);
        const size = l.blobSize ?? (await fsp.stat(blobPath(l.blobDigest))).size;
        layers.push({ desc: { mediaType: MT.ociLayerGzip, digest: l.blobDigest, size, annotations: { [UNCOMPRESSED]: l.diffId, 'buildkit/createdat': r.created } }, parent: -1 });
      }
    }
    const parent = recordIndex.get(r.parent);
    recordIndex.set(r.key, cfg.records.length);
    cfg.records.push({ digest: r.key, inputs: parent === undefined ? [] : [[{ selector: '', link: parent }]], results: [{ layer, createdAt: r.created }] });
  }
  cfg.layers = layers.map((l) => ({ blob: l.desc.digest, parent: l.parent }));
  const configBytes = Buffer.from(JSON.stringify(cfg));
  const configDesc: Descriptor = { mediaType: CACHE_CONFIG_TYPE, digest: sha256Digest(configBytes), size: configBytes.length };
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: configDesc, layers: layers.map((l) => l.desc) }));
  try {
    if (spec.type === 'registry') await toRegistry(spec.ref, layers.map((l) => l.desc), configBytes, configDesc, manifest);
    else await toLocal(spec.dir, layers.map((l) => l.desc), configBytes, configDesc, manifest);
  } catch (e) {
    const msg = `cannot export cache to ${name}: ${e instanceof SkiffError ? e.message : describeError(e)}`;
    if (spec.ignoreError) log(`[Warning] ${msg}`);
    else throw new SkiffError(e instanceof SkiffError ? e.code : 'ENET', msg);
  }
}

async function toRegistry(refText: string, layers: Descriptor[], configBytes: Buffer, configDesc: Descriptor, manifest: Buffer): Promise<void> {
  const { clientFor, runLimited } = await import('../image/pull.js');
  const ref = parseReference(refText);
  const client = clientFor(ref);
  await runLimited(layers.map((d) => async () => {
    await client.uploadBlob(ref.path, d.digest, d.size, () => fs.createReadStream(blobPath(d.digest)));
  }), 5);
  await client.uploadBlob(ref.path, configDesc.digest, configDesc.size, () => Readable.from([configBytes]));
  await client.putManifest(ref.path, ref.tag ?? 'latest', MT.ociManifest, manifest);
}

/** An OCI image layout at `dir`: blobs first, then index.json by rename (a reader sees the old or the new cache). */
async function toLocal(dir: string, layers: Descriptor[], configBytes: Buffer, configDesc: Descriptor, manifest: Buffer): Promise<void> {
  await fsp.mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (digest: string, data: Buffer | string): Promise<void> => {
    const p = layoutBlob(dir, digest);
    if (!fs.existsSync(p)) await writeFileAtomic(p, data, 0o644);
  };
  for (const d of layers) {
    const p = layoutBlob(dir, d.digest);
    if (!fs.existsSync(p)) await writeFileAtomic(p, await fsp.readFile(blobPath(d.digest)), 0o644);
  }
  await put(configDesc.digest, configBytes);
  const manifestDigest = sha256Digest(manifest);
  await put(manifestDigest, manifest);
  await writeFileAtomic(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }), 0o644);
  const index = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: [{ mediaType: MT.ociManifest, digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] };
  await writeFileAtomic(path.join(dir, 'index.json'), JSON.stringify(index), 0o644);
}
