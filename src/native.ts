/**
 * Typed access to the native parts: the N-API addon (syscalls Node lacks) and the shim executable.
 * Both are found next to the running bundle (dist/), or in addon/build/Release during development;
 * SKIFF_LIBEXEC overrides.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkiffError } from './errors.js';

export interface NativeAddon {
  flock(fd: number, exclusive: boolean, nonblock?: boolean): boolean;
  funlock(fd: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  execve(file: string, argv: string[], env: string[]): never;
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

function locate(file: string): string {
  for (const c of candidates(file)) if (fs.existsSync(c)) return c;
  throw new SkiffError('EINTERNAL', `cannot find ${file}: run 'make build' (or set SKIFF_LIBEXEC)`);
}

let addon: NativeAddon | undefined;
export function native(): NativeAddon {
  if (!addon) {
    const require = createRequire(import.meta.url);
    addon = require(locate('skiff_native.node')) as NativeAddon;
  }
  return addon;
}

/** A gzip decompression state of skiff_inflate (ISA-L): one write at a time, on the thread pool. */
export interface NativeInflater {
  write(chunk: Buffer, cb: (err: Error | null, out: Buffer[]) => void): void;
  /** An Error when the input ended inside a gzip member. */
  finish(): Error | undefined;
}

/** The decompression addon (its own file: only commands that decompress load libisal). */
export interface InflateAddon {
  Inflater: new () => NativeInflater;
}

let inflate: InflateAddon | undefined;
export function inflateAddon(): InflateAddon {
  if (!inflate) {
    const require = createRequire(import.meta.url);
    inflate = require(locate('skiff_inflate.node')) as InflateAddon;
  }
  return inflate;
}

let shim: string | undefined;
export function shimPath(): string {
  return (shim ??= locate('skiff-shim'));
}

/** The static init bind-mounted as /dev/init for `run --init`. */
export function initPath(): string {
  return locate('skiff-init');
}
