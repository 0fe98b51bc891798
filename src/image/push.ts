/**
 * `push`: layers → config → manifest, like `docker push`. Layer blobs go up exactly as stored in
 * blobs/ (so a pulled image keeps its digests); a layer without a stored blob (built locally) is
 * packed from its diff directory and gzipped into blobs/ first. Each blob is HEAD-checked, then
 * cross-repo mounted when the image came from another repository of the same registry, else
 * uploaded (monolithic, or chunked with SKIFF_PUSH_CHUNK_SIZE). The stored manifest is re-used
 * byte for byte when it still describes the image, so the digest stays the source registry's.
 */
import { recordEvent } from '../store/events.js';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SkiffError } from '../errors.js';
import { SILENT, type Progress } from './progress.js';
import { stagingPath, writeFileAtomic } from '../store/atomic.js';
import { putImage, type ImageRecord, type LayerRef } from '../store/images.js';
import { blobPath } from '../store/layout.js';
import { diffDir } from '../store/layers.js';
import { packDirectory } from '../store/tarball.js';
import { DigestVerifier } from '../oci/digest-verifier.js';
import { findImage } from './local.js';
import { MT, parseManifest, type Descriptor, type Manifest } from '../oci/media.js';
import { clientFor, runLimited } from './pull.js';
import type { Credentials } from '../registry/credentials.js';
import { familiar, parseReference, repoName, type Reference } from '../oci/reference.js';

export interface PushOptions {
  tlsVerify?: boolean;
  /** Credentials for this push (the Engine API's X-Registry-Auth); default: the Docker config's. */
  credentials?: Credentials;
  /** Where the push reports its steps (the CLI's progress lines; default: nowhere). */
  progress?: Progress;
}

const PUSH_CONCURRENCY = 5; // Docker's max-concurrent-uploads default

const DOCKER_LAYER_TYPES = new Set<string>([MT.dockerLayerGzip, MT.dockerForeign]);

/** Counts and hashes what flows through (the digest of bytes we produce ourselves). */
export class Hasher extends Transform {
  readonly hash = crypto.createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

const blobPresent = (digest: string | undefined): digest is string => digest !== undefined && fs.existsSync(blobPath(digest));

/**
 * Make sure every layer of `rec` has its compressed blob in blobs/: layers that have none (built
 * locally) are packed from their diff directory and gzipped, the tar checked against the
 * layer's diffID (the config names it, so the bytes must reproduce it). The record is updated
 * (blobDigest, blobSize, mediaType) and returned.
 */
export async function ensureLayerBlobs(rec: ImageRecord): Promise<ImageRecord> {
  if (rec.layers.every((l) => blobPresent(l.blobDigest))) return rec;
  const docker = rec.configMediaType === MT.dockerConfig;
  const layers: LayerRef[] = [];
  for (const l of rec.layers) {
    if (blobPresent(l.blobDigest)) {
      layers.push(l);
      continue;
    }
    const { digest, size } = await packLayerBlob(l);
    layers.push({ ...l, blobDigest: digest, blobSize: size, mediaType: docker ? MT.dockerLayerGzip : MT.ociLayerGzip });
  }
  const updated: ImageRecord = { ...rec, layers };
  await putImage(updated, []);
  return updated;
}

/** Pack a layer's diff into a gzipped blob in blobs/ (its tar checked against the diffID). */
export async function packLayerBlob(l: Pick<LayerRef, 'chainId' | 'diffId'>): Promise<{ digest: string; size: number }> {
  const tmp = await stagingPath('blob');
  try {
    const hasher = new Hasher();
    await pipeline(
      packDirectory(diffDir(l.chainId)),
      new DigestVerifier(l.diffId, undefined, `layer ${l.diffId} packed from ${diffDir(l.chainId)}`),
      zlib.createGzip(),
      hasher,
      fs.createWriteStream(tmp, { mode: 0o644 }),
    );
    const digest = `sha256:${hasher.hash.digest('hex')}`;
    await fsp.rename(tmp, blobPath(digest));
    return { digest, size: hasher.bytes };
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

/** The stored manifest, when it still describes `rec` exactly (config and every layer blob). */
export async function storedManifest(rec: ImageRecord): Promise<{ bytes: Buffer; mediaType: string; digest: string } | undefined> {
  if (!rec.manifestDigest) return undefined;
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(blobPath(rec.manifestDigest));
  } catch {
    return undefined;
  }
  try {
    const p = parseManifest(bytes, rec.manifestMediaType);
    if (p.kind !== 'manifest') return undefined;
    const m = p.manifest;
    if (m.config.digest !== rec.id || m.layers.length !== rec.layers.length) return undefined;
    if (!m.layers.every((d, i) => d.digest === rec.layers[i]!.blobDigest)) return undefined;
    return { bytes, mediaType: rec.manifestMediaType ?? p.mediaType, digest: rec.manifestDigest };
  } catch {
    return undefined;
  }
}

/** A new manifest for `rec` (whose layers all have blobs): Docker v2s2 when its types are Docker's, else OCI. */
export async function buildManifest(rec: ImageRecord, want?: 'oci' | 'docker'): Promise<{ bytes: Buffer; mediaType: string }> {
  const dockerTypes = rec.configMediaType === MT.dockerConfig && rec.layers.every((l) => DOCKER_LAYER_TYPES.has(l.mediaType ?? MT.dockerLayerGzip));
  const docker = want ? want === 'docker' : dockerTypes;
  const configSize = (await fsp.stat(blobPath(rec.id))).size;
  const layers: Descriptor[] = [];
  for (const l of rec.layers) {
    const size = (await fsp.stat(blobPath(l.blobDigest!))).size;
    layers.push({ mediaType: layerMediaType(l.mediaType, docker), digest: l.blobDigest!, size });
  }
  const mediaType = docker ? MT.dockerManifest : MT.ociManifest;
  const m: Manifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: docker ? MT.dockerConfig : MT.ociConfig, digest: rec.id, size: configSize },
    layers,
  };
  return { bytes: Buffer.from(JSON.stringify(m)), mediaType };
}

function layerMediaType(mt: string | undefined, docker: boolean): string {
  const t = mt ?? MT.ociLayerGzip;
  if (docker) {
    if (t === MT.ociLayerGzip) return MT.dockerLayerGzip;
    return t;
  }
  if (t === MT.dockerLayerGzip) return MT.ociLayerGzip;
  if (t === MT.dockerForeign) return 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
  return t;
}

/** Repositories of the same registry this image is known to be in (cross-repo mount sources). */
function mountSources(rec: ImageRecord, ref: Reference): string[] {
  const out: string[] = [];
  for (const rd of rec.repoDigests) {
    const name = rd.split('@')[0]!;
    try {
      const r = parseReference(name);
      if (r.domain === ref.domain && r.path !== ref.path && !out.includes(r.path)) out.push(r.path);
    } catch {
      // an unparsable record entry is no mount source
    }
  }
  return out;
}

function chunkSize(): number | undefined {
  const v = process.env.SKIFF_PUSH_CHUNK_SIZE;
  if (!v) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new SkiffError('EINVAL', `SKIFF_PUSH_CHUNK_SIZE must be a positive number of bytes, not "${v}"`);
  return n;
}

/** Errors name the reference being pushed (the client's messages may name only the registry). */
function named(e: unknown, ref: Reference): unknown {
  if (!(e instanceof SkiffError)) return e;
  const name = repoName(ref);
  if (e.message.includes(name) || e.message.includes(familiar(ref))) return e;
  const wrapped = new SkiffError(e.code, `push ${familiar(ref)}: ${e.message}`, e.exitCode);
  return wrapped;
}

/** Push a local image to the registry its name points at; returns the manifest digest. */
export async function pushImage(refText: string, o: PushOptions = {}): Promise<{ digest: string; size: number }> {
  const ref = parseReference(refText);
  if (ref.digest) throw new SkiffError('EINVAL', `cannot push a digest reference "${refText}": tag the image and push the tag`);
  const tag = ref.tag ?? 'latest';
  let rec = await findImage(refText);
  if (!rec) throw new SkiffError('ENOIMAGE', `An image does not exist locally with the tag: ${familiar(ref)}`);
  const progress = o.progress ?? SILENT;
  const explicitTag = /:[^/]+$/.test(refText.trim());
  if (!explicitTag) progress.line(`Using default tag: ${tag}`);
  progress.line(`The push refers to repository [${repoName(ref)}]`);
  const client = clientFor(ref, o.tlsVerify, o.credentials);
  const repo = ref.path;
  try {
    rec = await ensureLayerBlobs(rec);
    const image = rec;
    const sources = mountSources(image, ref);
    const chunk = chunkSize();
    const shortId = (l: LayerRef): string => l.diffId.slice(7, 19);
    const seen = new Set<string>();
    const unique = [...image.layers].reverse().filter((l) => !seen.has(l.blobDigest!) && seen.add(l.blobDigest!));
    for (const l of unique) progress.update(shortId(l), 'Preparing');
    const tasks = unique.map((l) => async (): Promise<void> => {
      const digest = l.blobDigest!;
      const size = (await fsp.stat(blobPath(digest))).size;
      const id = shortId(l);
      const from = sources[0];
      let sent = 0;
      const open = (): fs.ReadStream => {
        sent = 0;
        const s = fs.createReadStream(blobPath(digest), { highWaterMark: 256 * 1024 });
        s.on('data', (c) => {
          sent += c.length;
          progress.update(id, 'Pushing', sent, size);
        });
        return s;
      };
      const res = await client.uploadBlob(repo, digest, size, open, { ...(from ? { mountFrom: from } : {}), ...(chunk ? { chunkSize: chunk } : {}) });
      if (res === 'exists') progress.update(id, 'Layer already exists');
      else if (res === 'mounted') progress.update(id, `Mounted from ${from}`);
      else progress.update(id, 'Pushed');
    });
    await runLimited(tasks, PUSH_CONCURRENCY);
    const configSize = (await fsp.stat(blobPath(image.id))).size;
    await client.uploadBlob(repo, image.id, configSize, () => fs.createReadStream(blobPath(image.id)), chunk ? { chunkSize: chunk } : {});
    progress.done();
    const stored = await storedManifest(image);
    const manifest = stored ?? (await buildManifest(image));
    const digest = await client.putManifest(repo, tag, manifest.mediaType, manifest.bytes);
    if (!stored) await writeFileAtomic(blobPath(digest), manifest.bytes, 0o644);
    await putImage(
      {
        ...image,
        repoDigests: [`${repoName(ref)}@${digest}`],
        ...(stored ? {} : { manifestDigest: digest, manifestMediaType: manifest.mediaType }),
      },
      [],
    );
    progress.line(`${tag}: digest: ${digest} size: ${manifest.bytes.length}`);
    recordEvent('image', 'push', familiar(ref), { name: familiar(ref) });
    return { digest, size: manifest.bytes.length };
  } catch (e) {
    throw named(e, ref);
  }
}
