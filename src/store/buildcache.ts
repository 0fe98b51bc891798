/**
 * The build cache: buildcache/<key hex>.json maps a build step's cache key (src/builder/cache.ts) to
 * what the step produced: when it was made (so a fully cached rebuild gives the same image) and
 * its layer, if it made one. An entry is written by rename after its layer exists, so an
 * interrupted build leaves no entry pointing at nothing; a reader still checks that the layer is
 * there (a prune may have removed it since), and treats anything unreadable as a miss.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import crypto from 'node:crypto';
import { buildCacheFile, buildCacheMountDir, dirs } from './layout.js';
import { writeJsonAtomic } from './atomic.js';
import { hasLayer } from './layers.js';

export interface CacheEntry {
  created: string;
  /** blobDigest/blobSize: the layer's gzipped blob in blobs/, once one was made (--cache-to) or pulled (--cache-from). */
  layer?: { chainId: string; diffId: string; size: number; blobDigest?: string; blobSize?: number };
}

export async function readCacheEntry(key: string): Promise<CacheEntry | undefined> {
  let e: CacheEntry;
  try {
    e = JSON.parse(fs.readFileSync(buildCacheFile(key), 'utf8')) as CacheEntry; // small: see readJson
  } catch {
    return undefined;
  }
  if (typeof e.created !== 'string') return undefined;
  if (e.layer && !hasLayer(e.layer.chainId)) return undefined;
  return e;
}

export async function writeCacheEntry(key: string, e: CacheEntry): Promise<void> {
  await writeJsonAtomic(buildCacheFile(key), e);
}

/**
 * The directory behind a `RUN --mount=type=cache,id=ID`: made on first use (mode, owner as asked),
 * kept across builds, shared by builds that name the same id.
 */
export async function cacheMountDir(id: string, o: { mode: number; uid: number; gid: number }): Promise<string> {
  const dir = buildCacheMountDir(crypto.createHash('sha256').update(id).digest('hex'));
  try {
    await fsp.mkdir(dir, { recursive: false, mode: o.mode });
    await fsp.chmod(dir, o.mode);
    await fsp.chown(dir, o.uid, o.gid);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      await fsp.mkdir(`${dirs().buildcache}/mounts`, { recursive: true, mode: 0o700 });
      return cacheMountDir(id, o);
    }
    if (code !== 'EEXIST') throw e;
  }
  return dir;
}

/** Remove every cache entry (`builder prune`, `system reset`); returns how many. */
export async function clearBuildCache(): Promise<number> {
  let n = 0;
  for (const f of await fsp.readdir(dirs().buildcache)) {
    if (!f.endsWith('.json')) continue;
    await fsp.rm(`${dirs().buildcache}/${f}`, { force: true });
    n++;
  }
  return n;
}

/** Every cache entry (unreadable ones as `undefined`: a prune removes them), by key hex. */
export async function listCacheEntries(): Promise<{ key: string; entry: CacheEntry | undefined }[]> {
  const out: { key: string; entry: CacheEntry | undefined }[] = [];
  for (const f of await fsp.readdir(dirs().buildcache)) {
    if (!f.endsWith('.json')) continue;
    let entry: CacheEntry | undefined;
    try {
      entry = JSON.parse(await fsp.readFile(`${dirs().buildcache}/${f}`, 'utf8')) as CacheEntry;
    } catch {
      entry = undefined;
    }
    out.push({ key: f.slice(0, -'.json'.length), entry: entry && typeof entry.created === 'string' ? entry : undefined });
  }
  return out;
}

export async function removeCacheEntry(key: string): Promise<void> {
  await fsp.rm(buildCacheFile(key), { force: true });
}

/** The RUN --mount=type=cache directories (absolute paths). */
export async function listCacheMounts(): Promise<string[]> {
  const dir = `${dirs().buildcache}/mounts`;
  return (await fsp.readdir(dir).catch(() => [] as string[])).map((n) => `${dir}/${n}`);
}
