/**
 * Extracted layers, one directory per chain id (OCI image-spec "ChainID"):
 * layers/<hex>/diff (overlay format), layers/<hex>/meta.json, and a short link
 * layers/l/<20 hex> -> ../<hex>/diff used in overlay mount options.
 * A layer directory appears by rename of a finished staging dir, so its existence
 * means it is complete.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dirs, layerDir, layerDiff, layerLinkName } from './layout.js';
import { sha256Hex } from '../oci/digest.js';
import { commitDir, discardStaging, makeStagingDir, readJson, removeTree, stagingPath } from './atomic.js';
import { withLock } from './lock.js';

export interface LayerMeta {
  chainId: string;
  diffId: string;
  parent: string | null;
  /** Bytes of file content in the layer. */
  size: number;
}

export function hasLayer(chainId: string): boolean {
  return fs.existsSync(path.join(layerDir(chainId), 'meta.json'));
}

export async function layerMeta(chainId: string): Promise<LayerMeta | undefined> {
  return readJson<LayerMeta>(path.join(layerDir(chainId), 'meta.json'));
}

/**
 * Create a layer: `fill` writes the diff into the given empty dir and returns its size.
 * Under the layer's lock: a concurrent invocation creating the same layer waits and then finds it
 * done, so each layer is extracted once (`created` says whether this call did it). The short link
 * is made before the rename, so a layer that exists always has its link (a dangling link is harmless).
 * On any failure nothing but tmp/ staging is touched, and that is removed.
 */
export async function createLayer(
  meta: Omit<LayerMeta, 'size'>,
  fill: (diffDir: string) => Promise<number>,
): Promise<{ meta: LayerMeta; created: boolean }> {
  return withLock(layerLock(meta.chainId), async () => {
    const existing = hasLayer(meta.chainId) ? await layerMeta(meta.chainId) : undefined;
    if (existing) return { meta: existing, created: false };
    const staging = await makeStagingDir('layer');
    try {
      const diff = path.join(staging, 'diff');
      fs.mkdirSync(diff, { mode: 0o755 });
      const size = await fill(diff);
      return await finishLayer(staging, { ...meta, size });
    } catch (e) {
      await discardStaging(staging);
      throw e;
    }
  });
}

/**
 * Write meta.json into a staging layer dir holding `diff/` and rename it into place (the short
 * link first: a kill between the two must not leave a layer without its link). Under the layer's lock.
 */
async function finishLayer(staging: string, meta: LayerMeta): Promise<{ meta: LayerMeta; created: boolean }> {
  // synchronous metadata calls: through the thread pool they wait behind a pull's decompression
  fs.writeFileSync(path.join(staging, 'meta.json'), JSON.stringify(meta) + '\n');
  ensureLink(meta.chainId);
  const created = await commitDir(staging, layerDir(meta.chainId));
  return { meta: (await layerMeta(meta.chainId)) ?? meta, created };
}

/**
 * Adopt a finished diff directory (made under tmp/, e.g. a build step's upper dir) as a layer: it
 * is renamed into a staging layer dir beside its meta.json, which then appears by rename. If the
 * layer already exists (same chain id) the diff is discarded.
 */
export async function adoptLayer(meta: LayerMeta, diff: string): Promise<LayerMeta> {
  return withLock(layerLock(meta.chainId), async () => {
    const staging = await makeStagingDir('layer');
    try {
      await fs.promises.rename(diff, path.join(staging, 'diff'));
      return (await finishLayer(staging, meta)).meta;
    } catch (e) {
      await discardStaging(staging);
      throw e;
    }
  });
}

/**
 * Run `fn`, which adds layers and blobs that no image record names until it has finished (a pull,
 * a load): garbage collection (`whileNoneAdding`) waits for it, so it cannot take them away. Any
 * number of adders run at once (a shared flock on locks/gc).
 */
export function whileAddingLayers<T>(fn: () => Promise<T>): Promise<T> {
  return withLock('gc', fn, { shared: true });
}

/** Run `fn`, which removes what no image record names, once no invocation is adding layers. Take it before 'images'. */
export function whileNoneAdding<T>(fn: () => Promise<T>): Promise<T> {
  return withLock('gc', fn);
}

/** Layers share 256 lock files (by the chain id's first byte): bounded, and a collision only serialises. */
const layerLock = (chainId: string): `layer-${string}` => `layer-${path.basename(layerDir(chainId)).slice(0, 2)}`;

function ensureLink(chainId: string): void {
  const link = path.join(dirs().links, layerLinkName(chainId));
  try {
    fs.symlinkSync(path.join('..', path.basename(layerDir(chainId)), 'diff'), link);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** overlay lowerdir entries for an image's layers (given bottom-first), topmost first, as short link paths. */
export function lowerDirs(chainIds: string[]): string[] {
  return chainIds.map((c) => path.join(dirs().links, layerLinkName(c))).reverse();
}

export function diffDir(chainId: string): string {
  return layerDiff(chainId);
}

export async function listLayers(): Promise<string[]> {
  const out: string[] = [];
  for (const name of await fs.promises.readdir(dirs().layers)) if (/^[0-9a-f]{64}$/.test(name)) out.push(`sha256:${name}`);
  return out;
}

/**
 * Copies of layers for containers whose user namespace places ids otherwise than the standard rootless
 * one (`--userns keep-id`): layers/<hex>/mapped/<key>/diff, the layer's diff with every owner
 * changed (containers/storage's ID-mapped copy; an unprivileged user cannot idmap a mount of the host's
 * filesystem), `key` naming the mapping. A copy lives in its layer's directory, so it goes with the
 * layer (rmi, prune, system reset), and has a short link as the layer's: layers/l/<20 hex of the key's
 * hash>. Made under the layer's lock in tmp/ staging by `copy` (the caller's: it needs the user
 * namespace) and renamed into place: one that exists is complete, and the next run only reads it.
 */
export async function mappedLowerDirs(
  chainIds: string[],
  key: string,
  copy: (src: string, dst: string) => Promise<void>,
): Promise<string[]> {
  for (const chainId of chainIds) {
    const final = mappedDir(chainId, key);
    if (!fs.existsSync(final)) {
      await withLock(layerLock(chainId), async () => {
        if (fs.existsSync(final) || !hasLayer(chainId)) return;
        const staging = await makeStagingDir('idmap');
        try {
          await copy(layerDiff(chainId), path.join(staging, 'diff'));
          fs.mkdirSync(path.dirname(final), { recursive: true, mode: 0o700 });
          await commitDir(staging, final);
        } catch (e) {
          await discardStaging(staging);
          throw e;
        }
      });
      if (!fs.existsSync(final)) throw new Error(`layer ${chainId} is not in the store`);
    }
    ensureMappedLink(chainId, key); // (again after a crash between the rename and the link)
  }
  return chainIds.map((c) => path.join(dirs().links, mappedLinkName(c, key))).reverse();
}

const mappedDir = (chainId: string, key: string): string => path.join(layerDir(chainId), 'mapped', key);

/** A layer's copy for mapping `key` (made by mappedLowerDirs): its diff dir. */
export const mappedDiffDir = (chainId: string, key: string): string => path.join(mappedDir(chainId, key), 'diff');
const mappedLinkName = (chainId: string, key: string): string => sha256Hex(`${chainId}/${key}`).slice(0, 20);

function ensureMappedLink(chainId: string, key: string): void {
  try {
    fs.symlinkSync(path.join('..', path.basename(layerDir(chainId)), 'mapped', key, 'diff'), path.join(dirs().links, mappedLinkName(chainId, key)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** The short links of a layer's mapped copies (they go before the layer). */
function mappedLinks(chainId: string): string[] {
  let keys: string[];
  try {
    keys = fs.readdirSync(path.join(layerDir(chainId), 'mapped'));
  } catch {
    return [];
  }
  return keys.map((k) => path.join(dirs().links, mappedLinkName(chainId, k)));
}

/**
 * Remove layers not in `keep`. Each goes away atomically (renamed into tmp/ first),
 * so a reader never sees a half-deleted layer. Returns the removed chain ids.
 */
export async function removeLayersExcept(keep: Set<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const chainId of await listLayers()) {
    if (keep.has(chainId)) continue;
    for (const link of [path.join(dirs().links, layerLinkName(chainId)), ...mappedLinks(chainId)]) await fs.promises.rm(link, { force: true });
    const trash = await stagingPath('rm-layer');
    try {
      await fs.promises.rename(layerDir(chainId), trash);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    await removeTree(trash);
    removed.push(chainId);
  }
  return removed;
}
