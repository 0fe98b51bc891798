/**
 * The build cache as `system df` counts it and `builder prune` removes it: the cache entries
 * (src/store/buildcache.ts) with the layers only they keep (a layer an image or a container uses is
 * theirs, not the cache's), and the RUN --mount=type=cache directories.
 */
import { collectGarbageLocked } from '../image/manage.js';
import { treeSize } from '../lib/du.js';
import { listCacheEntries, listCacheMounts, removeCacheEntry, type CacheEntry } from '../store/buildcache.js';
import { listContainers, type ContainerRecord } from '../store/containers.js';
import { listImages, type ImageRecord } from '../store/images.js';
import { hasLayer, whileNoneAdding } from '../store/layers.js';
import { withLock } from '../store/lock.js';
import { removeTree } from '../store/atomic.js';

export interface CacheRecord {
  /** the entry's key (hex) or the cache mount's directory name */
  id: string;
  type: 'regular' | 'exec.cachemount';
  /** bytes only the cache holds (a layer no image or container uses; a mount's files) */
  size: number;
  created: string;
  /** an image or container uses its layer: `builder prune` without -a keeps it */
  shared: boolean;
}

async function usedLayers(known?: StoreLists): Promise<Set<string>> {
  const used = new Set<string>();
  for (const img of known?.images ?? await listImages()) for (const l of img.layers) used.add(l.chainId);
  for (const c of known?.containers ?? listContainers()) for (const l of c.Layers) used.add(l);
  return used;
}

/** The store's image and container records when the caller has read them already (system df). */
export interface StoreLists {
  images: ImageRecord[];
  containers: ContainerRecord[];
}

/** `counted`: layers already counted (entries of several keys may name one layer: counted once). */
function recordOf(key: string, entry: CacheEntry | undefined, used: Set<string>, counted: Set<string>): CacheRecord {
  const layer = entry?.layer;
  const shared = layer !== undefined && used.has(layer.chainId);
  const size = layer && !shared && !counted.has(layer.chainId) && hasLayer(layer.chainId) ? layer.size : 0;
  if (layer) counted.add(layer.chainId);
  return { id: key, type: 'regular', size, created: entry?.created ?? '', shared };
}

/** Every record of the build cache. */
export async function buildCacheRecords(known?: StoreLists): Promise<CacheRecord[]> {
  const used = await usedLayers(known);
  const counted = new Set<string>();
  const entries = (await listCacheEntries()).map(({ key, entry }) => recordOf(key, entry, used, counted));
  const mounts = (await listCacheMounts()).map((dir): CacheRecord => ({ id: dir.slice(dir.lastIndexOf('/') + 1), type: 'exec.cachemount', size: treeSize(dir), created: '', shared: false }));
  return [...entries, ...mounts];
}

/**
 * `builder prune`: cache entries whose layer no image or container uses (and broken ones); with
 * `all` every entry and the cache mounts too. The layers only they kept go (the store's GC, under
 * its locks, so no build or pull in flight loses a layer). `until`: only entries made before it (the
 * mounts, which keep no time, stay). Returns the ids removed and the bytes.
 */
export async function pruneBuildCache(all: boolean, o: { until?: number } = {}): Promise<{ deleted: string[]; reclaimed: number }> {
  return whileNoneAdding(() => withLock('images', async () => {
    const used = await usedLayers();
    const deleted: string[] = [];
    let reclaimed = 0;
    const counted = new Set<string>();
    for (const { key, entry } of await listCacheEntries()) {
      const r = recordOf(key, entry, used, counted);
      if (r.shared && !all) continue;
      if (o.until !== undefined && !(Date.parse(r.created) < o.until)) continue;
      await removeCacheEntry(key);
      deleted.push(key);
      reclaimed += r.size;
    }
    if (all && o.until === undefined) {
      for (const dir of await listCacheMounts()) {
        reclaimed += treeSize(dir);
        await removeTree(dir);
        deleted.push(dir.slice(dir.lastIndexOf('/') + 1));
      }
    }
    reclaimed += (await collectGarbageLocked()).reclaimed;
    return { deleted, reclaimed };
  }));
}
