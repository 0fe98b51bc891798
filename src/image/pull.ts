/**
 * `pull`: manifest → config → layers. Each layer streams once from the registry: its bytes are
 * hashed (blob digest) and teed to the blob file and to decompression → hashing (diffID) →
 * extraction. Both digests must match before the blob and the layer are renamed into place;
 * anything else leaves only tmp/ staging, which is removed.
 */
import { recordEvent } from '../store/events.js';
import fs from 'node:fs';
import type { Readable, Transform, Writable } from 'node:stream';
import { paths } from '../config.js';
import { describeError, SkiffError } from '../errors.js';
import { SILENT, type Progress } from './progress.js';
import { rootlessMappings } from '../userns/idmap.js';
import { RegistryClient, type ManifestResponse } from '../registry/client.js';
import { getCredentials, type Credentials } from '../registry/credentials.js';
import { fileSink, stagingPath, sweepStaging, writeFileAtomic } from '../store/atomic.js';
import { closed, isCorruptInput, LayerSink, type ExtractOptions } from '../store/extract.js';
import { schemeCache } from '../store/schemes.js';
import { getImage, putImage, readRepositories, type ImageRecord, type LayerRef } from '../store/images.js';
import { blobPath } from '../store/layout.js';
import { createLayer, hasLayer, whileAddingLayers } from '../store/layers.js';
import { computeChainIds } from '../oci/chainid.js';
import { corruptError, decoderFor, detectCompression, inflateLimit } from './compression.js';
import { mark } from '../lib/trace.js';
import { imageComplete } from './local.js';
import { DigestCheck, parseDigest, verifyBuffer, verifyDigest } from '../oci/digest.js';
import { MAX_JSON_DOCUMENT, parseImageConfig, parseManifest, type Descriptor, type Manifest } from '../oci/media.js';
import { selectPlatform } from '../oci/platform.js';
import { canonical, familiar, familiarName, isInsecureRegistry, parseReference, repoName, type Reference } from '../oci/reference.js';

export interface PullOptions {
  platform?: string;
  tlsVerify?: boolean;
  /** Credentials for this pull (the Engine API's X-Registry-Auth); default: the Docker config's. */
  credentials?: Credentials;
  /** Where the pull reports its steps (the CLI's progress lines; default: nowhere). */
  progress?: Progress;
}

/**
 * Layers downloaded and extracted at once (containers/image's default is 6). Each extracts into its
 * own staging dir, so they do not wait for their parents; with 3, the small top layers of a
 * 5-layer image waited for the big ones and the pull took ~30 ms longer.
 */
export const CONCURRENCY = 6;

/** A client for the reference's registry: `credentials` given (the Engine API's X-Registry-Auth), else the Docker config's. */
export function clientFor(ref: Reference, tlsVerify?: boolean, credentials?: Credentials): RegistryClient {
  const creds = credentials ?? getCredentials(ref.domain);
  return new RegistryClient(ref.domain, {
    insecure: tlsVerify === false || isInsecureRegistry(ref.domain),
    schemeCache,
    ...(creds ? { credentials: creds } : {}),
  });
}

function parsePlatform(p?: string): { os: string; arch: string; variant?: string } {
  if (!p) return { os: 'linux', arch: process.arch === 'x64' ? 'amd64' : process.arch };
  const [os = 'linux', arch = 'amd64', variant] = p.split('/');
  return { os, arch, ...(variant ? { variant } : {}) };
}

async function storeBlobBuffer(digest: string, bytes: Buffer): Promise<void> {
  if (!fs.existsSync(blobPath(digest))) await writeFileAtomic(blobPath(digest), bytes, 0o644);
}

/** How layers are extracted into this store (overlay xattr namespace, whether owners apply). */
export function extractOptions(): ExtractOptions {
  const rootless = paths().rootless;
  return {
    overlayXattrPrefix: rootless ? 'user.overlay.' : 'trusted.overlay.',
    chown: !rootless || rootlessMappings().helpers,
  };
}

/**
 * Pull one layer unless the store has it; true when this call downloaded and extracted it. `getBlob`
 * opens the blob (a registry's, or a file's for a local build cache); its digest, size and diffID are checked.
 */
export async function pullLayer(
  getBlob: (digest: string) => Promise<{ stream: Readable }>,
  desc: Descriptor,
  diffId: string,
  chainId: string,
  parent: string | null,
  progress: Progress,
  prefetched?: Prefetch,
): Promise<boolean> {
  const short = desc.digest.slice(7, 19);
  if (hasLayer(chainId)) {
    prefetched?.drop();
    progress.update(short, 'Already exists');
    return false;
  }
  const opts = extractOptions();
  const blobTmp = await stagingPath('blob');
  try {
    const { created } = await createLayer({ chainId, diffId, parent }, async (diff) => {
      const { stream } = await (prefetched?.take() ?? getBlob(desc.digest));
      return receiveLayer(stream, desc, diffId, blobTmp, diff, { ...opts, label: desc.digest }, {
        bytes: (got) => progress.update(short, 'Downloading', got, desc.size),
        downloaded: () => {
          progress.update(short, 'Verifying Checksum');
          progress.update(short, 'Download complete');
          progress.update(short, 'Extracting', desc.size, desc.size);
        },
      });
    });
    progress.update(short, created ? 'Pull complete' : 'Already exists');
    return created;
  } finally {
    prefetched?.drop(); // another pull made the layer while we waited for its lock
    fs.rmSync(blobTmp, { force: true });
  }
}

/**
 * One pass over a layer blob as it arrives, with no stream stages in between on the main thread:
 * every chunk is counted and hashed (blob digest), queued for the blob file and handed to the
 * layer sink, which inflates, hashes (diffID) and extracts it on the thread pool (a zstd blob goes
 * through its JS decoder first). The download pauses while the sink or the blob file is
 * full. The blob is renamed into place once its digest and size are verified; resolves with the
 * layer's size once the layer is extracted and its diffID verified. Any failure stops everything
 * and rejects once the sink has stopped writing (the caller then discards the staging).
 */
function receiveLayer(
  stream: Readable,
  desc: Descriptor,
  diffId: string,
  blobTmp: string,
  diff: string,
  opts: ExtractOptions,
  on: { bytes(got: number): void; downloaded(): void },
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const blob = new DigestCheck(desc.digest, desc.size, `layer ${desc.digest}`);
    const { algorithm } = parseDigest(diffId);
    const file = fileSink(blobTmp, 0o644);
    let sink: LayerSink | undefined;
    let decoder: Transform | undefined;
    /** Where the blob's bytes go: the sink itself (gzip, plain tar) or the zstd decoder in front of it. */
    let entry: Writable | undefined;
    let head: Buffer[] = [];
    let failed = false;
    let blobStored = false;
    let size = -1;
    const fail = (e: unknown): void => {
      if (failed) return;
      failed = true;
      stream.destroy();
      decoder?.destroy();
      file.destroy();
      if (!sink) return reject(e);
      sink.destroy();
      void closed(sink).then(() => reject(e));
    };
    const settle = (): void => {
      if (!failed && blobStored && size >= 0) resolve(size);
    };
    const resume = (): void => {
      if (!failed && !entry?.writableNeedDrain && !file.writableNeedDrain) stream.resume();
    };
    const startDecoder = (): void => {
      const first = Buffer.concat(head);
      head = [];
      const kind = detectCompression(first);
      let s: LayerSink;
      try {
        s = new LayerSink(diff, opts, { gzip: kind === 'gzip', digest: algorithm, inflateLimit: inflateLimit(desc.size) });
      } catch (e) {
        fail(e); // the addon cannot be loaded, say: one error line, not a crash in an event handler
        return;
      }
      sink = s;
      s.on('error', (e: Error) => fail(isCorruptInput(e) ? corruptError(e, 'layer', kind) : e));
      s.on('finish', () => {
        try {
          verifyDigest(s.result!.digest!, diffId, `uncompressed layer ${diffId}`);
        } catch (e) {
          fail(e);
          return;
        }
        size = s.result!.size;
        settle();
      });
      if (kind !== 'zstd') entry = s; // gzip is inflated in the sink; a plain tar goes in as it is
      else {
        const d = decoderFor(kind, `layer ${desc.digest}`);
        decoder = d;
        d.on('error', (e: Error) => fail(corruptError(e, 'layer', kind)));
        d.pipe(s);
        entry = d;
      }
      entry.on('drain', resume);
      if (first.length && !entry.write(first)) stream.pause();
    };
    file.on('error', fail);
    file.on('drain', resume);
    stream.on('error', fail);
    stream.on('data', (c: Buffer) => {
      if (failed) return;
      try {
        blob.update(c);
      } catch (e) {
        fail(e);
        return;
      }
      on.bytes(blob.bytes);
      let full = !file.write(c);
      if (entry) full = !entry.write(c) || full;
      else {
        head.push(c);
        if (blob.bytes >= 4) startDecoder();
      }
      if (full && !failed) stream.pause();
    });
    stream.on('end', () => {
      if (failed) return;
      try {
        blob.check();
      } catch (e) {
        fail(e);
        return;
      }
      if (!entry) startDecoder();
      if (failed) return;
      entry!.end();
      file.end((err?: Error | null) => {
        if (err) fail(err);
        if (failed) return;
        // the blob's digest and size are verified: it may go into the store
        on.downloaded();
        try {
          fs.renameSync(blobTmp, blobPath(desc.digest));
        } catch (e) {
          fail(e);
          return;
        }
        blobStored = true;
        settle();
      });
    });
  });
}

/** A blob request started before it is known to be needed; `drop` abandons it (and is a no-op once taken). */
interface Prefetch {
  take(): Promise<{ stream: Readable; size: number }>;
  drop(): void;
}

function prefetch(client: RegistryClient, repo: string, digest: string): Prefetch {
  let p: Promise<{ stream: Readable; size: number }> | undefined = client.getBlob(repo, digest);
  p.catch(() => undefined); // its error matters only to whoever takes it
  return {
    take() {
      const q = p!;
      p = undefined;
      return q;
    },
    drop() {
      p?.then((b) => b.stream.destroy(), () => undefined);
      p = undefined;
    },
  };
}

/**
 * Pull an image; returns its record. Every failure is one SkiffError that names the reference
 * (unless the registry's message already does) and the cause.
 */
export async function pullImage(refText: string, o: PullOptions = {}): Promise<ImageRecord> {
  const ref = parseReference(refText);
  try {
    // the manifest request goes out first: taking the gc lock and sweeping staging overlap its round trip
    const client = clientFor(ref, o.tlsVerify, o.credentials);
    mark('pull-start');
    const first = client.getManifest(ref.path, ref.digest ?? ref.tag ?? 'latest');
    first.catch(() => undefined); // awaited (and reported) by pull()
    const rec = await whileAddingLayers(() => pull(ref, refText, o, client, first));
    recordEvent('image', 'pull', familiar(ref), { name: familiar(ref) });
    return rec;
  } catch (e) {
    throw pullError(e, ref);
  }
}

/** `pull --all-tags`: every tag of the repository (a reference with a tag or digest is refused, as Docker does). */
export async function pullAllTags(refText: string, o: PullOptions = {}): Promise<{ repository: string; images: ImageRecord[] }> {
  if (hasExplicitTag(refText)) throw new SkiffError('EINVAL', 'tag can\'t be used with --all-tags/-a');
  const ref = parseReference(refText);
  let tags: string[];
  try {
    tags = await clientFor(ref, o.tlsVerify, o.credentials).listTags(ref.path);
  } catch (e) {
    throw pullError(e, ref);
  }
  const images: ImageRecord[] = [];
  for (const tag of tags.sort()) images.push(await pullImage(`${repoName(ref)}:${tag}`, o));
  return { repository: repoName(ref), images };
}

function pullError(e: unknown, ref: Reference): SkiffError {
  const name = familiar(ref);
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new SkiffError('ENOSPC', `pull ${name}: no space left on device for the store at ${paths().root}: free some disk space and retry`);
  }
  if (e instanceof SkiffError) {
    return e.message.includes(familiarName(ref)) ? e : new SkiffError(e.code, `pull ${name}: ${e.message}`, e.exitCode);
  }
  return new SkiffError('EINTERNAL', `pull ${name}: ${describeError(e)}`);
}

async function pull(ref: Reference, refText: string, o: PullOptions, client: RegistryClient, first: Promise<ManifestResponse>): Promise<ImageRecord> {
  const repo = ref.path;
  const progress = o.progress ?? SILENT;
  await sweepStaging();
  const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
  if (!hasExplicitTag(refText)) progress.line(`Using default tag: ${tagOrDigest}`);
  progress.line(`${tagOrDigest}: Pulling from ${repo}`);
  let top = await first;
  mark('manifest');
  const manifestDigest = top.digest;
  let parsed = parseManifest(top.bytes, top.mediaType);
  if (parsed.kind === 'index') {
    const chosen = selectPlatform(parsed.index, parsePlatform(o.platform));
    top = await client.getManifest(repo, chosen.digest);
    parsed = parseManifest(top.bytes, top.mediaType);
    if (parsed.kind !== 'manifest') throw new SkiffError('EREGISTRY', `${refText}: nested image index is not supported`);
  }
  const manifest = parsed.manifest;
  const repoDigest = `${repoName(ref)}@${manifestDigest}`;
  const existing = await getImage(manifest.config.digest);
  if (existing && imageComplete(existing)) {
    // Docker's shortcut: the image is here (config and every layer): only names may change
    return finish(ref, { ...existing, repoDigests: [repoDigest] }, false, progress, manifestDigest);
  }
  // The config (for the diffIDs) and the first layers are requested at once: a fresh pull saves a
  // round trip. Layers whose blob the store holds are not prefetched (their layer is most likely
  // here); a prefetched layer that turns out to exist is dropped unread.
  if (manifest.config.size > MAX_JSON_DOCUMENT) {
    throw new SkiffError('EREGISTRY', `${refText}: the image config is ${manifest.config.size} bytes, larger than the limit of ${MAX_JSON_DOCUMENT >> 20} MiB`);
  }
  // at most its announced size is read (verifyBuffer then checks size and digest)
  const configBytesP = client.getBlob(repo, manifest.config.digest).then((b) => readAll(b.stream, manifest.config.size + 1));
  const prefetched = new Map<number, Prefetch>();
  for (const [i, d] of manifest.layers.entries()) {
    if (prefetched.size >= CONCURRENCY) break;
    if (!fs.existsSync(blobPath(d.digest))) prefetched.set(i, prefetch(client, repo, d.digest));
  }
  try {
    return await pullMissing(ref, refText, top, manifest, configBytesP, prefetched, client, progress, manifestDigest);
  } finally {
    for (const f of prefetched.values()) f.drop(); // layers the store had, or left when something failed
  }
}

/** The rest of a pull once the config is on its way: the layers the store lacks, then the image record. */
async function pullMissing(
  ref: Reference,
  refText: string,
  top: { digest: string; mediaType: string; bytes: Buffer },
  manifest: Manifest,
  configBytesP: Promise<Buffer>,
  prefetched: Map<number, Prefetch>,
  client: RegistryClient,
  progress: Progress,
  manifestDigest: string,
): Promise<ImageRecord> {
  const repo = ref.path;
  const repoDigest = `${repoName(ref)}@${manifestDigest}`;
  const configBytes = await configBytesP;
  mark('config');
  verifyBuffer(configBytes, manifest.config.digest, manifest.config.size);
  // diff_ids become chain ids and store paths: checked as digests here
  const config = parseImageConfig(configBytes, refText);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new SkiffError('EREGISTRY', `${refText}: image config lists ${diffIds.length} layers but the manifest has ${manifest.layers.length}`);
  }
  const chainIds = computeChainIds(diffIds);
  let downloaded = false;
  const missing = manifest.layers.map((d, i) => {
    const present = hasLayer(chainIds[i]!);
    progress.update(d.digest.slice(7, 19), present ? 'Already exists' : 'Pulling fs layer');
    return present ? -1 : i;
  }).filter((i) => i >= 0);
  for (const i of missing.slice(CONCURRENCY)) progress.update(manifest.layers[i]!.digest.slice(7, 19), 'Waiting');
  const queue = missing.map((i) => async () => {
    const desc = manifest.layers[i]!;
    const pre = prefetched.get(i);
    prefetched.delete(i);
    if (await pullLayer((d) => client.getBlob(repo, d), desc, diffIds[i]!, chainIds[i]!, i > 0 ? chainIds[i - 1]! : null, progress, pre)) downloaded = true;
  });
  await runLimited(queue, CONCURRENCY);
  mark('layers');
  await storeBlobBuffer(manifest.config.digest, configBytes);
  await storeBlobBuffer(top.digest, top.bytes);
  const layers: LayerRef[] = manifest.layers.map((d, i) => ({
    chainId: chainIds[i]!, diffId: diffIds[i]!, blobDigest: d.digest, mediaType: d.mediaType, blobSize: d.size,
  }));
  const now = new Date().toISOString();
  const rec: ImageRecord = {
    id: manifest.config.digest,
    configMediaType: manifest.config.mediaType,
    manifestDigest: top.digest,
    manifestMediaType: top.mediaType,
    repoDigests: [repoDigest],
    layers,
    size: await layersSize(chainIds),
    created: config.created ?? now,
    added: now,
  };
  return finish(ref, rec, downloaded, progress, manifestDigest);
}

/** Record the image and its name; Docker's closing lines. */
async function finish(ref: Reference, rec: ImageRecord, downloaded: boolean, progress: Progress, manifestDigest: string): Promise<ImageRecord> {
  const before = await getImage(rec.id);
  const wasThere = ref.digest
    ? before?.repoDigests.includes(rec.repoDigests[0]!) === true
    : (await readRepositories())[canonical(ref)] === rec.id;
  await putImage(rec, ref.digest ? [] : [canonical(ref)]);
  mark('recorded');
  progress.done();
  progress.line(`Digest: ${manifestDigest}`);
  progress.line(`Status: ${downloaded || !wasThere ? 'Downloaded newer image' : 'Image is up to date'} for ${familiar(ref)}`);
  return rec;
}

/** Whether the user named a tag or digest (`busybox` has neither: Docker says it uses `latest`). */
function hasExplicitTag(refText: string): boolean {
  return /[:@]/.test(refText.slice(refText.lastIndexOf('/') + 1));
}

export async function layersSize(chainIds: string[]): Promise<number> {
  const { layerMeta } = await import('../store/layers.js');
  let n = 0;
  for (const c of chainIds) n += (await layerMeta(c))?.size ?? 0;
  return n;
}

/** Everything `s` gives, or (with `limit`) its first `limit` bytes or more: the stream is then dropped. */
export async function readAll(s: Readable, limit = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of s) {
    chunks.push(c as Buffer);
    n += (c as Buffer).length;
    if (n >= limit) {
      s.destroy();
      break;
    }
  }
  return Buffer.concat(chunks);
}

export async function runLimited(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && failed === undefined) {
      const t = tasks[next++]!;
      try {
        await t();
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failed !== undefined) throw failed;
}
