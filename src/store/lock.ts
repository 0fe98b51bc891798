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
    // every 2 ms for the first 200 ms: the usual holder (another command's short critical section, a
    // finished container's network teardown in the shim, ~20-40 ms) is then followed within 2 ms, where
    // the doubling from 5 ms (5, 10, 20, 40 ...) overshot its end by up to as long as it had waited
    // (e.g. run's sweep after a run --rm: 35 ms for a ~20 ms hold). Then doubling up to 100 ms (a
    // pull's or a build's hold of seconds).
    let delay = 2;
    for (let waited = 0; !addon.flock(fd, !opts.shared, true); waited += delay) {
      if (waited >= 200) delay = Math.min(delay * 2, 100);
      await new Promise((r) => setTimeout(r, delay));
    }
    return await fn();
  } finally {
    fs.closeSync(fd); // closing the last fd releases the flock
  }
}
