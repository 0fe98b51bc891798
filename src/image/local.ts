/**
 * Finding images in the local store by what users type: a name (normalised like Docker),
 * name@digest, a full or short image id.
 */
import fs from 'node:fs';
import { SkiffError } from '../errors.js';
import { blobPath } from '../store/layout.js';
import { getImage, listImages, readRepositories, type ImageRecord } from '../store/images.js';
import { hasLayer } from '../store/layers.js';
import { canonical, parseReference, repoName } from '../oci/reference.js';
import type { ImageConfig } from '../oci/media.js';

const ID_RE = /^(sha256:)?([0-9a-f]{4,64})$/;

export async function findImage(ref: string): Promise<ImageRecord | undefined> {
  const idm = ID_RE.exec(ref);
  if (idm) {
    const hex = idm[2]!;
    if (hex.length === 64) {
      const rec = await getImage(hex);
      if (rec) return rec;
    } else if (!idm[1]) {
      // a short id, unless it is also a valid repository name that is tagged
      const repos = await readRepositories();
      const tagged = repos[safeCanonical(ref) ?? ''];
      if (tagged) return getImage(tagged);
    }
    const all = (await listImages()).filter((i) => i.id.slice(7).startsWith(hex));
    if (all.length === 1) return all[0];
    if (all.length > 1) throw new SkiffError('EINVAL', `short image id "${ref}" is ambiguous: use more characters`);
    if (idm[1]) return undefined;
  }
  let parsed;
  try {
    parsed = parseReference(ref);
  } catch (e) {
    if (idm) return undefined;
    throw e;
  }
  if (parsed.digest) {
    const want = `${repoName(parsed)}@${parsed.digest}`;
    return (await listImages()).find((i) => i.repoDigests.includes(want) || i.manifestDigest === parsed.digest && i.repoDigests.some((d) => d.startsWith(repoName(parsed) + '@')));
  }
  const id = (await readRepositories())[canonical(parsed)];
  return id ? getImage(id) : undefined;
}

function safeCanonical(ref: string): string | undefined {
  try {
    return canonical(parseReference(ref));
  } catch {
    return undefined;
  }
}

export async function requireImage(ref: string): Promise<ImageRecord> {
  const rec = await findImage(ref);
  if (!rec) throw new SkiffError('ENOIMAGE', `No such image: ${ref}`);
  return rec;
}

/** True when every layer of the image is present (a concurrent rmi/prune may have removed some). */
export function imageComplete(rec: ImageRecord): boolean {
  return rec.layers.every((l) => hasLayer(l.chainId));
}

export async function readImageConfig(rec: ImageRecord): Promise<ImageConfig> {
  try {
    return JSON.parse(fs.readFileSync(blobPath(rec.id), 'utf8')) as ImageConfig; // small: see readJson in store/atomic
  } catch (e) {
    throw new SkiffError('EINTERNAL', `image ${rec.id.slice(7, 19)} is damaged (config blob unreadable: ${(e as Error).message}): remove it with 'skiff rmi -f' and pull again`);
  }
}
