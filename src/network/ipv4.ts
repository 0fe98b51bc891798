/**
 * IPv4 addresses and prefixes as numbers (unsigned 32-bit): parsing with Go's net.ParseIP/ParseCIDR
 * strictness (no leading zeros, four parts), containment, overlap, and the n-th address of a prefix.
 * IPv6 is only recognised (isIPv6), not computed with.
 */

export interface Prefix {
  /** the network address (host bits cleared) */
  base: number;
  /** 0..32 */
  bits: number;
}

const PART = /^(0|[1-9][0-9]{0,2})$/;

/** The address as an unsigned number, or undefined when `s` is not a dotted-quad IPv4 address. */
export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!PART.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

const bytesOf = (v: number): number[] => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

export const formatIPv4 = (v: number): string => bytesOf(v).join('.');

/**
 * Docker's MAC for an address (02:42 and its four bytes): a restarted container keeps its address and,
 * with this, its MAC, so the host's neighbour entry for it stays right (a new random MAC would leave
 * traffic to the container going to the old one until the entry expires).
 */
export function macOfIPv4(ip: string): string | undefined {
  const v = parseIPv4(ip);
  if (v === undefined) return undefined;
  return ['02', '42', ...bytesOf(v).map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export const maskOf = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** "10.1.0.0/16" → prefix; `strict` refuses host bits (Docker's subnet rule: "10.1.0.1/16" is not a subnet). */
export function parsePrefix(s: string, strict = false): Prefix | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseIPv4(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (addr === undefined || !/^(0|[1-9][0-9]?)$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > 32) return undefined;
  const base = (addr & maskOf(bits)) >>> 0;
  if (strict && base !== addr) return undefined;
  return { base, bits };
}

export const formatPrefix = (p: Prefix): string => `${formatIPv4(p.base)}/${p.bits}`;
export const prefixSize = (p: Prefix): number => 2 ** (32 - p.bits);
export const contains = (p: Prefix, addr: number): boolean => ((addr & maskOf(p.bits)) >>> 0) === p.base;
export const lastOf = (p: Prefix): number => p.base + prefixSize(p) - 1;
export const overlaps = (a: Prefix, b: Prefix): boolean => a.base <= lastOf(b) && b.base <= lastOf(a);
/** Is `inner` inside `outer` (equal counts)? */
export const within = (inner: Prefix, outer: Prefix): boolean => inner.bits >= outer.bits && contains(outer, inner.base);

/** Go's net.ParseIP for IPv6 text: 8 groups of 1-4 hex digits, one "::" for zeros, an IPv4 tail (2 groups); no zone. */
export function isIPv6(s: string): boolean {
  let t = s;
  let groups = 8;
  const lastColon = t.lastIndexOf(':');
  if (lastColon >= 0 && t.slice(lastColon + 1).includes('.')) {
    if (parseIPv4(t.slice(lastColon + 1)) === undefined) return false;
    t = `${t.slice(0, lastColon + 1)}0`;
    groups = 7;
  }
  const halves = t.split('::');
  if (halves.length > 2) return false;
  const parts = (h: string): string[] | undefined => (h === '' ? [] : h.split(':'));
  const a = parts(halves[0]!);
  const b = halves.length === 2 ? parts(halves[1]!) : [];
  if (!a || !b) return false;
  const all = [...a, ...b];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? all.length < groups : all.length === groups;
}
