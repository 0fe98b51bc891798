/** Durations and sizes in compose files: Go durations (`1m30s`) and go-units sizes (`512m`). */
import { parseSize } from '../cli/output/units.js';
import { parseGoDuration } from '../image/filters.js';
import { composeError } from './errors.js';
import type { Json } from './tree.js';

/** A compose duration (a Go duration string) in milliseconds. */
export function durationMs(v: Json, where: string): number {
  const ms = typeof v === 'string' ? parseGoDuration(v) : undefined;
  if (ms === undefined) throw composeError(`${where}: invalid duration ${JSON.stringify(v)}`);
  return ms;
}

/** Go's time.Duration.String() of a number of milliseconds (`1m30s`, `500ms`, `0s`). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let ns = Math.round(Math.abs(ms) * 1e6);
  let out: string;
  if (ns < 1e9) {
    if (ns < 1e3) out = `${ns}ns`;
    else if (ns < 1e6) out = `${trim(ns / 1e3)}\u00b5s`;
    else out = `${trim(ns / 1e6)}ms`;
  } else {
    const h = Math.floor(ns / 3.6e12);
    ns -= h * 3.6e12;
    const m = Math.floor(ns / 6e10);
    ns -= m * 6e10;
    const s = trim(ns / 1e9);
    out = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  }
  return neg ? `-${out}` : out;
}

const trim = (x: number): string => String(Number(x.toFixed(9)));

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
