/**
 * `pull`: manifest → config → layers. Each layer streams once from the registry: its bytes are
 * hashed (blob digest) and teed to the blob file and to decompression → hashing (diffID) →
 * extraction. Both digests must match before the blob and the layer are renamed into place;
 * anything else leaves only tmp/ staging, which is removed.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import { createProgress, type Progress } from '../cli/output/progress.js';
import { rootlessMappings } from '../container/idmap.js';
import { RegistryClient } from '../registry/client.js';
import { getCredentials } from '../registry/credentials.js';
import { stagingPath, writeFileAtomic } from '../store/atomic.js';
import { extractLayer, type ExtractOptions } from '../store/extract.js';
import { putImage, type ImageRecord, type LayerRef } from '../store/images.js';
import { blobPath } from '../store/layout.js';
import { computeChainIds, createLayer, hasLayer } from '../store/layers.js';
import { decompressStream } from './compression.js';
import { DigestVerifier, verifyBuffer } from './digest.js';
import { parseManifest, selectPlatform, type ImageConfig, type Descriptor } from './media.js';
import { canonical, familiar, isInsecureRegistry, parseReference, repoName, type Reference } from './reference.js';

export interface PullOptions {
  platform?: string;
  tlsVerify?: boolean;
  quiet?: boolean;
  /** Where progress goes (stderr for `run`, stdout for `pull`). */
  progress?: NodeJS.WriteStream;
}

const CONCURRENCY = 3;

export function clientFor(ref: Reference, tlsVerify?: boolean): RegistryClient {
  const creds = getCredentials(ref.domain);
  return new RegistryClient(ref.domain, {
    insecure: tlsVerify === false || isInsecureRegistry(ref.domain),
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

async function pullLayer(
  client: RegistryClient,
  repo: string,
  desc: Descriptor,
  diffId: string,
  chainId: string,
  parent: string | null,
  progress: Progress,
): Promise<void> {
  const short = desc.digest.slice(7, 19);
  if (hasLayer(chainId)) {
    progress.update(short, 'Already exists');
    return;
  }
  const opts = extractOptions();
  const blobTmp = await stagingPath('blob');
  try {
    await createLayer({ chainId, diffId, parent }, async (diff) => {
      progress.update(short, 'Pulling fs layer');
      const { stream } = await client.getBlob(repo, desc.digest);
      let got = 0;
      stream.on('data', (c: Buffer) => {
        got += c.length;
        progress.update(short, 'Downloading', got, desc.size);
      });
      const blobCheck = new DigestVerifier(desc.digest, desc.size, `layer ${desc.digest}`);
      const toFile = new PassThrough();
      const toExtract = new PassThrough();
      blobCheck.pipe(toFile);
      blobCheck.pipe(toExtract);
      const diffCheck = new DigestVerifier(diffId, undefined, `uncompressed layer ${diffId}`);
      const fail = (e: unknown): void => {
        for (const s of [stream, blobCheck, toFile, toExtract, diffCheck]) s.destroy(e as Error);
      };
      const download = pipeline(stream, blobCheck).catch((e) => {
        fail(e);
        throw e;
      });
      const save = pipeline(toFile, fs.createWriteStream(blobTmp, { mode: 0o644 }));
      const unpacked = decompressStream(desc.mediaType, toExtract).pipe(diffCheck) as Readable;
      const extracted = extractLayer(unpacked, diff, opts).catch((e) => {
        fail(e);
        throw e;
      });
      const [, , res] = await Promise.all([download, save, extracted]);
      await new Promise<void>((resolve, reject) => {
        if (diffCheck.writableFinished) resolve();
        else diffCheck.once('finish', resolve).once('error', reject);
      });
      progress.update(short, 'Extracting');
      await fsp.rename(blobTmp, blobPath(desc.digest));
      return res.size;
    });
    progress.update(short, 'Pull complete');
  } finally {
    await fsp.rm(blobTmp, { force: true });
  }
}

/** Pull an image; returns its record. */
export async function pullImage(refText: string, o: PullOptions = {}): Promise<ImageRecord> {
  const ref = parseReference(refText);
  const client = clientFor(ref, o.tlsVerify);
  const repo = ref.path;
  const progress = createProgress(o.progress ?? process.stdout, { quiet: o.quiet });
  const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
  progress.line(`${ref.digest ? ref.digest : tagOrDigest}: Pulling from ${repo}`);
  let top = await client.getManifest(repo, tagOrDigest);
  const manifestDigest = top.digest;
  let parsed = parseManifest(top.bytes, top.mediaType);
  if (parsed.kind === 'index') {
    const chosen = selectPlatform(parsed.index, parsePlatform(o.platform));
    top = await client.getManifest(repo, chosen.digest);
    parsed = parseManifest(top.bytes, top.mediaType);
    if (parsed.kind !== 'manifest') throw new SkiffError('EREGISTRY', `${refText}: nested image index is not supported`);
  }
  const manifest = parsed.manifest;
  const configBlob = await client.getBlob(repo, manifest.config.digest);
  const configBytes = await readAll(configBlob.stream);
  verifyBuffer(configBytes, manifest.config.digest, manifest.config.size);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new SkiffError('EREGISTRY', `${refText}: image config lists ${diffIds.length} layers but the manifest has ${manifest.layers.length}`);
  }
  const chainIds = computeChainIds(diffIds);
  const queue = manifest.layers.map((desc, i) => () =>
    pullLayer(client, repo, desc, diffIds[i]!, chainIds[i]!, i > 0 ? chainIds[i - 1]! : null, progress));
  await runLimited(queue, CONCURRENCY);
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
    repoDigests: [`${repoName(ref)}@${manifestDigest}`],
    layers,
    size: await layersSize(chainIds),
    created: config.created ?? now,
    added: now,
  };
  await putImage(rec, ref.digest ? [] : [canonical(ref)]);
  progress.done();
  progress.line(`Digest: ${manifestDigest}`);
  progress.line(`Status: Downloaded newer image for ${familiar(ref)}`);
  return rec;
}

export async function layersSize(chainIds: string[]): Promise<number> {
  const { layerMeta } = await import('../store/layers.js');
  let n = 0;
  for (const c of chainIds) n += (await layerMeta(c))?.size ?? 0;
  return n;
}

export async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
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
