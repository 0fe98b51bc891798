/**
 * Random bytes for ids and names (container ids, generated names, staging names) read from the
 * kernel's /dev/urandom: the run path then does not load node:crypto (see lazy.ts).
 */
import fs from 'node:fs';

export function randomBytes(n: number): Buffer {
  const buf = Buffer.alloc(n);
  const fd = fs.openSync('/dev/urandom', 'r');
  try {
    for (let off = 0; off < n; ) off += fs.readSync(fd, buf, off, n - off, null);
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}

export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A uniform integer in [0, max) (max <= 2^32), by rejection sampling. */
export function randomInt(max: number): number {
  const limit = Math.floor(0x1_0000_0000 / max) * max;
  for (;;) {
    const v = randomBytes(4).readUInt32LE(0);
    if (v < limit) return v % max;
  }
}
