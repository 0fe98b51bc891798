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
 *   events/events.log[.1]    the event log (JSON lines, appended by the CLI and the shim; src/store/events.ts)
 *   tmp/                     staging: built here, then renamed into place
 *   locks/                   flock files
 */
import fs from 'node:fs';
import path from 'node:path';
import { paths } from '../config.js';
import { errnoWords, SkiffError } from '../errors.js';

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
    makeDirs(p, root, 'the store (--root, SKIFF_ROOT)');
  }
  makeDirs(runroot, runroot, 'the runtime directory (--runroot, SKIFF_RUNROOT)');
  current = d;
  return d;
}

/**
 * mkdir -p `dir` (mode 0700) below `top`, failing with one line that names `top` as `what` and says
 * why in words. Not fs.mkdirSync's recursive mode: it loops for ever where a parent exists but
 * refuses children (/proc), and its errors name only the innermost path.
 */
function makeDirs(dir: string, top: string, what: string): void {
  const missing: string[] = [];
  for (let p = dir; ; p = path.dirname(p)) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (p === path.dirname(p) || (code !== 'ENOENT' && code !== 'ENOTDIR')) throw storeDirError(top, what, p, code);
      if (code === 'ENOENT') missing.push(p);
      continue; // ENOTDIR: what is in the way is further up
    }
    if (!st.isDirectory()) throw storeDirError(top, what, p, 'ENOTDIR');
    break;
  }
  for (const p of missing.reverse()) {
    try {
      fs.mkdirSync(p, { mode: 0o700 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' || !fs.statSync(p, { throwIfNoEntry: false })?.isDirectory()) throw storeDirError(top, what, p, code);
    }
  }
}

function storeDirError(top: string, what: string, at: string, code: string | undefined): SkiffError {
  const why = errnoWords(code === 'EEXIST' ? 'ENOTDIR' : code) ?? code ?? 'unknown error';
  return new SkiffError('EINVAL', `cannot use ${top} as ${what}${at === top ? '' : ` (at ${at})`}: ${why}`);
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
/** Made by the shim once a container's final network teardown succeeded: its stale leases need no teardown. */
export const networkDownFile = (containerId: string): string => path.join(dirs().networks, 'down', containerId);
/** aardvark-dns's config dir (one server per store, for its networks with DNS): runtime state */
export const dnsConfigDir = (): string => path.join(dirs().runroot, 'aardvark-dns');
export const buildCacheFile = (key: string): string => path.join(dirs().buildcache, `${hexOf(key)}.json`);
/** The host directory of a RUN --mount=type=cache (by the hash of its id). */
export const buildCacheMountDir = (idHash: string): string => path.join(dirs().buildcache, 'mounts', idHash);
export const lockFile = (name: string): string => path.join(dirs().locks, name);
/** The store's id (`info`'s ID: a UUID made on first use). */
export const storeIdFile = (): string => path.join(dirs().root, 'id');
/** The event log (one JSON line per event; `.1` the rotated one). The shim appends to it too (skiff.events.file). */
export const eventsFile = (): string => path.join(dirs().root, 'events', 'events.log');
