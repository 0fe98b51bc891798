/**
 * Inter-process locks with flock(2): the kernel drops them when a process dies,
 * so a crashed invocation never leaves the store locked. Waiting polls a
 * non-blocking flock so Node's event loop keeps running.
 */
import fs from 'node:fs';
import { native } from '../native.js';
import { lockFile } from './layout.js';

export type LockName = 'images' | 'gc' | 'containers' | 'volumes' | 'networks' | 'kube' | `compose-${string}` | `container-${string}` | `layer-${string}` | `buildmount-${string}`;

export async function withLock<T>(name: LockName, fn: () => Promise<T>, opts: { shared?: boolean } = {}): Promise<T> {
  return withLockFile(lockFile(name), fn, opts);
}

/** withLock on a lock file outside the store (host-wide state such as src/network's subnet claims). */
export async function withLockFile<T>(file: string, fn: () => Promise<T>, opts: { shared?: boolean } = {}): Promise<T> {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    const addon = native();
    let delay = 5;
    while (!addon.flock(fd, !opts.shared, true)) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 100);
    }
    return await fn();
  } finally {
    fs.closeSync(fd); // closing the last fd releases the flock
  }
}
