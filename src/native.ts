/**
 * Typed access to the native parts: the N-API addon (syscalls Node lacks) and the shim executable.
 * Both are found next to the running bundle (dist/), or in addon/build/Release during development;
 * SKIFF_LIBEXEC overrides. In the single executable (dist/skiff) its entry (bin/sea.cjs) hands them
 * out, written to its cache directory and checked before each process's first use.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkiffError } from './errors.js';

export interface NativeAddon {
  flock(fd: number, exclusive: boolean, nonblock?: boolean): boolean;
  funlock(fd: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  /** A device node or fifo (`mode` with its S_IF* type bits), the last component never followed. */
  mknod(path: string, mode: number, major: number, minor: number): void;
  llistxattr(path: string): string[];
  execve(file: string, argv: string[], env: string[]): never;
  /** `file` with stdin/stdout on /dev/null and stderr captured, waited for (no node:child_process); throws when it cannot run. */
  spawnWait(file: string, argv: string[], env: string[]): { status: number | null; signal: number | null; stderr: string };
  /** rm -rf on the thread pool (addon/common/rmtree.c); rejects with one line ("cannot remove <path>: <why>") and `code`. */
  removeTree(path: string): Promise<void>;
  /** A container's state from its files in `dir` (addon/common/state.c); throws (with `code`) for a file it cannot read. */
  observe(dir: string, id: string, healthcheck: boolean): NativeObserved;
  /** The init's pid from dir/pid while that process is alive (not a reuse of the pid), else 0. */
  livePid(dir: string): number;
  /** A live process whose command line names the container `id` (its monitor or shim). */
  isMonitor(pid: number, id: string): boolean;
  bootId(): string;
  /** Whether the other end of connected socket `fd` has closed it (POLLHUP; a half-close is not). */
  peerClosed(fd: number): boolean;
}

/** What addon/common/state.c derives (times as their files have them; "" for none). */
export interface NativeObserved {
  status: 'created' | 'running' | 'paused' | 'restarting' | 'exited';
  pid: number;
  exitCode: number;
  error: string;
  startedAt: string;
  finishedAt: string;
  restartCount: number;
  /** exit.json's oomKilled (the last run ended by the OOM killer) */
  oomKilled: boolean;
  detached: boolean;
  abandoned: boolean;
  /** with a health check the monitor runs: health.json's Status, or "starting" before its first probe */
  healthStatus?: 'starting' | 'healthy' | 'unhealthy';
  /** health.json's text (Docker's Health object) */
  healthJson?: string;
  /** Docker's STATUS column, now */
  statusText: string;
}

/** In order of preference; a generator, so that the usual first hit computes no other path. */
function* candidates(file: string): Generator<string> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dirs = [process.env.SKIFF_LIBEXEC, here, path.resolve(here, '..'), path.resolve(here, '../..')];
  for (const d of dirs) {
    if (!d) continue;
    yield `${d}/${file}`;
    yield `${d}/dist/${file}`;
    yield `${d}/addon/build/Release/${file}`;
  }
}

const seaPart = (globalThis as { __skiffNativePart?: (file: string) => string }).__skiffNativePart;
// the single executable loads its addons itself (bin/sea.cjs: checked, then process.dlopen)
const seaAddon = (globalThis as { __skiffNativeAddon?: (file: string) => unknown }).__skiffNativeAddon;

/** What bin/sea.cjs gives for `file`; its one-line error (no directory for the parts, ...) as skiff's. */
function fromSea<T>(get: (file: string) => T, file: string): T {
  try {
    return get(file);
  } catch (e) {
    throw new SkiffError('EINTERNAL', (e as Error).message);
  }
}

function locate(file: string): string {
  if (seaPart) return fromSea(seaPart, file);
  for (const c of candidates(file)) if (fs.existsSync(c)) return c;
  throw new SkiffError('EINTERNAL', `cannot find ${file}: run 'make build' (or set SKIFF_LIBEXEC)`);
}

/** An addon: the single executable's (checked before it is loaded), else found by locate() and required. */
function loadAddon(file: string): unknown {
  return seaAddon ? fromSea(seaAddon, file) : createRequire(import.meta.url)(locate(file));
}

let addon: NativeAddon | undefined;
export function native(): NativeAddon {
  return (addon ??= loadAddon('skiff_native.node') as NativeAddon);
}

/** A gzip decompression state of skiff_layer (ISA-L): one write at a time, on the thread pool. */
export interface NativeInflater {
  write(chunk: Buffer, cb: (err: Error | null, out: Buffer[]) => void): void;
  /** An Error when the input ended inside a gzip member. */
  finish(): Error | undefined;
}

/** An error of a native Layer job: `code` EINVAL/ERUNTIME (a bad layer) or an errno name; `stage` says where. */
export interface NativeLayerError extends Error {
  code: string;
  stage: 'inflate' | 'extract';
}

/** One layer's extraction (addon/src/layer.cc): gunzip, hash and extract on the thread pool, one job at a time. */
export interface NativeLayer {
  write(chunks: Buffer[], cb: (err: NativeLayerError | null) => void): void;
  end(cb: (err: NativeLayerError | null, result?: { size: number; skippedDevices: number; digest?: string }) => void): void;
  /** Stop (a running job at its next block), close what is open, then call back. */
  abort(cb?: () => void): void;
}

export interface NativeLayerOptions {
  overlayXattrPrefix: string;
  chown: boolean;
  label?: string;
  /** The input is gzip (inflated natively) rather than a plain tar. */
  gzip?: boolean;
  /** Hash the uncompressed tar with this algorithm (the diffID's). */
  digest?: string;
  /** The decompression bound (src/image/compression.ts: inflateLimit). */
  inflateLimit?: InflateLimit;
}

/**
 * How far a compressed layer may inflate: its tar at most `floor` plus `ratio` times the compressed
 * bytes read so far, and times `compressedSize` (the whole blob's) when known, checked at each header.
 */
export interface InflateLimit {
  ratio: number;
  floor: number;
  compressedSize?: number;
}

/** The layer addon: ISA-L inflate and the tar extractor (its own file: only commands that unpack layers load libisal). */
export interface LayerAddon {
  Inflater: new () => NativeInflater;
  Layer: new (target: string, opts: NativeLayerOptions) => NativeLayer;
  /** What every layer entry path keeps to (addon/src/tar_extract.h): bytes, one name's bytes, levels. */
  limits: { maxPath: number; maxName: number; maxDepth: number };
}

let layer: LayerAddon | undefined;
export function layerAddon(): LayerAddon {
  return (layer ??= loadAddon('skiff_layer.node') as LayerAddon);
}

let shim: string | undefined;
export function shimPath(): string {
  return (shim ??= locate('skiff-shim'));
}

/**
 * What a failed skiff-shim said: its last `Error: ` line without the prefix (the shim's errors are one
 * such line), else the last line it wrote; '' when it wrote nothing.
 */
export function shimMessage(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  const line = lines.filter((l) => l.startsWith('Error: ')).pop() ?? lines.pop() ?? '';
  return line.replace(/^Error: /, '').trim();
}

/** The static init bind-mounted as /dev/init for `run --init`. */
export function initPath(): string {
  return locate('skiff-init');
}
