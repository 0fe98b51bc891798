/** Durations and sizes in compose files: Go durations (`1m30s`) and go-units sizes (`512m`). */
import { parseSize } from '../lib/units.js';
import { parseGoDuration } from '../lib/duration.js';
import { composeError } from './errors.js';
import type { Json } from './tree.js';

/** A compose duration (a Go duration string) in milliseconds. */
export function durationMs(v: Json, where: string): number {
  const ms = typeof v === 'string' ? parseGoDuration(v) : undefined;
  if (ms === undefined) throw composeError(`${where}: invalid duration ${JSON.stringify(v)}`);
  return ms;
}

/** Bytes from `512m`, `1g`, `1024` (binary units, as Docker's RAMInBytes). */
export function bytesOf(v: Json, where: string): number {
  if (typeof v === 'number') return v;
  try {
    return parseSize(String(v));
  } catch {
    throw composeError(`${where}: invalid size ${JSON.stringify(v)}`);
  }
}

export function numberOf(v: Json, where: string): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (typeof v === 'boolean' || v === null || (typeof v === 'string' && v.trim() === '') || Number.isNaN(n)) throw composeError(`${where}: invalid number ${JSON.stringify(v)}`);
  return n;
}
