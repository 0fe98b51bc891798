/** The IPv4 routes of this network namespace, from /proc/net/route (addresses in little-endian hex). */
import fs from 'node:fs';
import { formatIPv4, type Prefix } from './ipv4.js';

export interface Route {
  iface: string;
  dest: Prefix;
  /** 0: none (a connected route) */
  gateway: number;
}

const le = (h: string): number => Buffer.from(h.padStart(8, '0'), 'hex').readUInt32LE(0);

function popcount(v: number): number {
  let n = 0;
  for (let x = v >>> 0; x; x >>>= 1) n += x & 1;
  return n;
}

export function parseRoutes(text?: string): Route[] {
  let t = text;
  try {
    t ??= fs.readFileSync('/proc/net/route', 'utf8');
  } catch {
    return [];
  }
  const out: Route[] = [];
  for (const line of t.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const mask = le(f[7]!);
    out.push({ iface: f[0]!, dest: { base: (le(f[1]!) & mask) >>> 0, bits: popcount(mask) }, gateway: le(f[2]!) });
  }
  return out;
}

/** Routes to networks (default routes left out): what a new subnet must not overlap. */
export const hostRoutes = (text?: string): Prefix[] => parseRoutes(text).filter((r) => r.dest.bits > 0).map((r) => r.dest);

/** The default IPv4 gateway. */
export function defaultGateway(text?: string): string | undefined {
  const r = parseRoutes(text).find((x) => x.dest.bits === 0 && x.gateway !== 0);
  return r ? formatIPv4(r.gateway) : undefined;
}
