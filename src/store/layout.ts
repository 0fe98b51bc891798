/**
 * The on-disk layout (GUIDE.md §2). Every path of the store is computed here and nowhere else.
 *   blobs/sha256/<hex>       compressed layers, configs, manifests exactly as pulled/built
 *   layers/<chainhex>/diff   extracted layer (overlay format); meta.json beside it
 *   layers/l/<short>         short symlinks to diff dirs, keeping overlay mount data under one page
 *   images/<hex>.json        image records; images/repositories.json maps tags to image ids
 *   containers/<id>/         container config, state, upper/, work/, rootfs/, logs
 *   volumes/<name>/_data
 *   networks/<name>.json     network records; networks/leases/<name>.json its address leases (src/network/)
 *   buildcache/<key>.json    build cache: a build step's key → its result (created, layer)
 *   tmp/                     staging: built here, then renamed into place
 *   locks/                   flock files
 */
import fs from 'node:fs';
import path from 'node:path';
import { paths } from '../config.js';

export interface StoreDirs {
  root: string;
  blobs: string;
  layers: string;
  links: string;
  images: string;
  containers: string;
  volumes: string;
  networks: string;
  tmp: string;
  buildcache: string;
  locks: string;
  runroot: string;
}

let current: StoreDirs | undefined;

/** The store's directories (made on first use); computed once per root and runroot. */
export function dirs(): StoreDirs {
  const { root, runroot } = paths();
  if (current && current.root === root && current.runroot === runroot) return current;
  const d: StoreDirs = {
    root,
    blobs: path.join(root, 'blobs', 'sha256'),
    layers: path.join(root, 'layers'),
    links: path.join(root, 'layers', 'l'),
    images: path.join(root, 'images'),
    containers: path.join(root, 'containers'),
    volumes: path.join(root, 'volumes'),
    networks: path.join(root, 'networks'),
    tmp: path.join(root, 'tmp'),
    buildcache: path.join(root, 'buildcache'),
    locks: path.join(root, 'locks'),
    runroot,
  };
  for (const p of [d.blobs, d.links, d.images, d.containers, d.volumes, d.tmp, d.buildcache, d.locks]) {
    fs.mkdirSync(p, { recursive: true, mode: 0o700 });
  }
  fs.mkdirSync(runroot, { recursive: true, mode: 0o700 });
  current = d;
  return d;
}

function hexOf(digest: string): string {
  const i = digest.indexOf(':');
  return i >= 0 ? digest.slice(i + 1) : digest;
}

export const blobPath = (digest: string): string => path.join(dirs().blobs, hexOf(digest));
export const layerDir = (chainId: string): string => path.join(dirs().layers, hexOf(chainId));
export const layerDiff = (chainId: string): string => path.join(layerDir(chainId), 'diff');
/** Short, deterministic link name for a layer (20 hex chars of its chain id). */
export const layerLinkName = (chainId: string): string => hexOf(chainId).slice(0, 20);
export const imageFile = (id: string): string => path.join(dirs().images, `${hexOf(id)}.json`);
export const repositoriesFile = (): string => path.join(dirs().images, 'repositories.json');
export const containerDir = (id: string): string => path.join(dirs().containers, id);
export const containersIndexFile = (): string => path.join(dirs().containers, 'names.json');
/** containers/names/<name>: a symlink to the id of the container that holds the name */
export const containerNamesDir = (): string => path.join(dirs().containers, 'names');
export const volumeDir = (name: string): string => path.join(dirs().volumes, name);
export const networkFile = (name: string): string => path.join(dirs().networks, `${name}.json`);
export const networkLeasesFile = (name: string): string => path.join(dirs().networks, 'leases', `${name}.json`);
/** aardvark-dns's config dir (one server per store, for its networks with DNS): runtime state */
export const dnsConfigDir = (): string => path.join(dirs().runroot, 'aardvark-dns');
export const buildCacheFile = (key: string): string => path.join(dirs().buildcache, `${hexOf(key)}.json`);
/** The host directory of a RUN --mount=type=cache (by the hash of its id). */
export const buildCacheMountDir = (idHash: string): string => path.join(dirs().buildcache, 'mounts', idHash);
export const lockFile = (name: string): string => path.join(dirs().locks, name);
