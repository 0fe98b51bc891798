/**
 * Image records and tags. An image's ID is its config digest (Docker's rule).
 * images/<hex>.json holds one ImageRecord; images/repositories.json maps full
 * references (docker.io/library/busybox:latest) to image IDs. Changes happen under the
 * 'images' lock, files are replaced atomically.
 */
import fs from 'node:fs';
import { dirs, imageFile, repositoriesFile } from './layout.js';
import { readJson, writeJsonAtomic } from './atomic.js';
import { withLock } from './lock.js';

export interface LayerRef {
  chainId: string;
  diffId: string;
  /** Digest of the (compressed) blob in blobs/, when we have it. */
  blobDigest?: string;
  mediaType?: string;
  /** Compressed size of the blob. */
  blobSize?: number;
}

export interface ImageRecord {
  id: string; // sha256:<config digest hex>
  configMediaType: string;
  manifestDigest?: string;
  manifestMediaType?: string;
  /** name@digest for each registry repository this image was pulled from / pushed to. */
  repoDigests: string[];
  layers: LayerRef[];
  /** Uncompressed size of all layers (what `images` shows). */
  size: number;
  created: string;
  /** When skiff stored it. */
  added: string;
}

type Repositories = Record<string, string>;

export async function readRepositories(): Promise<Repositories> {
  return (await readJson<Repositories>(repositoriesFile())) ?? {};
}

export async function getImage(id: string): Promise<ImageRecord | undefined> {
  return readJson<ImageRecord>(imageFile(id));
}

export async function listImages(): Promise<ImageRecord[]> {
  const out: ImageRecord[] = [];
  for (const f of await fs.promises.readdir(dirs().images)) {
    if (!/^[0-9a-f]{64}\.json$/.test(f)) continue;
    const rec = await getImage(f.slice(0, 64));
    if (rec) out.push(rec);
  }
  return out;
}

/** Tags pointing at each image id. */
export async function tagsById(): Promise<Map<string, string[]>> {
  const repos = await readRepositories();
  const m = new Map<string, string[]>();
  for (const [ref, id] of Object.entries(repos)) {
    const l = m.get(id) ?? [];
    l.push(ref);
    m.set(id, l);
  }
  return m;
}

/** Write (or merge into) an image record and point `tags` at it. Returns tags that moved away from another image. */
export async function putImage(rec: ImageRecord, tags: string[]): Promise<void> {
  await withLock('images', async () => {
    const old = await getImage(rec.id);
    if (old) rec = { ...rec, repoDigests: [...new Set([...old.repoDigests, ...rec.repoDigests])], added: old.added };
    // an unchanged record or tag set is not rewritten (a cached rebuild, a pull of an up-to-date image)
    if (!old || JSON.stringify(old) !== JSON.stringify(rec)) await writeJsonAtomic(imageFile(rec.id), rec);
    if (tags.length) {
      const repos = await readRepositories();
      if (tags.some((t) => repos[t] !== rec.id)) {
        for (const t of tags) repos[t] = rec.id;
        await writeJsonAtomic(repositoriesFile(), repos);
      }
    }
  });
}

export async function setTag(ref: string, id: string): Promise<void> {
  await withLock('images', async () => {
    const repos = await readRepositories();
    repos[ref] = id;
    await writeJsonAtomic(repositoriesFile(), repos);
  });
}

/** Remove a tag; returns the id it pointed to. Caller holds the 'images' lock. */
export async function removeTagLocked(ref: string): Promise<string | undefined> {
  const repos = await readRepositories();
  const id = repos[ref];
  if (id === undefined) return undefined;
  delete repos[ref];
  await writeJsonAtomic(repositoriesFile(), repos);
  return id;
}

/** Delete an image record. Caller holds the 'images' lock. */
export async function deleteImageLocked(id: string): Promise<void> {
  const repos = await readRepositories();
  let changed = false;
  for (const [ref, target] of Object.entries(repos)) {
    if (target === id) {
      delete repos[ref];
      changed = true;
    }
  }
  if (changed) await writeJsonAtomic(repositoriesFile(), repos);
  await fs.promises.rm(imageFile(id), { force: true });
}
