/**
 * The build cache: buildcache/<key hex>.json maps a build step's cache key (src/build/cache.ts) to
 * what the step produced: when it was made (so a fully cached rebuild gives the same image) and
 * its layer, if it made one. An entry is written by rename after its layer exists, so an
 * interrupted build leaves no entry pointing at nothing; a reader still checks that the layer is
 * there (a prune may have removed it since), and treats anything unreadable as a miss.
 */
import fsp from 'node:fs/promises';
import { buildCacheFile, dirs } from './layout.js';
import { writeJsonAtomic } from './atomic.js';
import { hasLayer } from './layers.js';

export interface CacheEntry {
  created: string;
  layer?: { chainId: string; diffId: string; size: number };
}

export async function readCacheEntry(key: string): Promise<CacheEntry | undefined> {
  let e: CacheEntry;
  try {
    e = JSON.parse(await fsp.readFile(buildCacheFile(key), 'utf8')) as CacheEntry;
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
