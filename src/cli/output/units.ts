/** Sizes and durations as Docker prints them (go-units). */
import { SkiffError } from '../../errors.js';

const DEC = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
const BIN = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

function scaled(n: number, base: number, units: string[]): string {
  let i = 0;
  while (n >= base && i < units.length - 1) {
    n /= base;
    i++;
  }
  // go-units: fmt "%.4g" of a value with 3 significant digits
  return `${Number(n.toPrecision(3))}${units[i]}`;
}

export const humanSize = (bytes: number): string => scaled(bytes, 1000, DEC);
export const bytesSize = (bytes: number): string => scaled(bytes, 1024, BIN);

export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(m / 60);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

export const createdSince = (d: Date): string => `${humanDuration(Date.now() - d.getTime())} ago`;

/** Docker's RAMInBytes: 10m, 1g, 512k, 100 (bytes); binary multipliers. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(s.trim());
  if (!m) throw new SkiffError('EINVAL', `invalid size: '${s}'`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase() as '' | 'k'];
  return Math.floor(Number(m[1]) * mult);
}
