/**
 * Address management: a network's leases in networks/leases/<name>.json, changed under the
 * `networks` lock. A lease ties an address to a container and to the process that holds the
 * container's network (the shim or monitor, or the CLI that is about to become the shim): it is
 * live while that process runs (same pid and start time) or the caller says the container still
 * uses it. Leases that are not live are stale: allocation reuses their addresses and returns them,
 * staleLeases() finds them, and the caller tears down what their container left (veth, DNS entry)
 * and only then forgets them (forgetLease): a crash at any point leaves a stale lease, never a
 * leaked address or a DNS entry nobody knows of. Nothing to do at exit for the address itself.
 * Addresses are handed out in order after the last one (Docker's way), wrapping around.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { processInfo } from '../lib/proc.js';
import { readJsonSync, writeJsonAtomic } from '../store/atomic.js';
import { networkLeasesFile } from '../store/layout.js';
import { withLock } from '../store/lock.js';
import { contains, formatIPv4, lastOf, parseIPv4, parsePrefix, type Prefix } from './ipv4.js';
import type { NetworkRecord } from './store.js';

export interface Holder {
  pid: number;
  startMs: number;
}

export interface Lease {
  container: string;
  ip: string;
  /** given with --ip */
  static: boolean;
  /** the interface in the container, and the host end of its veth */
  ifName: string;
  hostIf: string;
  mac?: string;
  /** names the network's DNS answers for this container */
  dnsNames?: string[];
  holder?: Holder;
  at: string;
}

interface LeaseFile {
  /** the last address handed out (next search starts after it) */
  last?: string;
  leases: Lease[];
}

/**
 * Does the lease's holder still run (same process: pid and start time)? A zombie does not: a monitor
 * that exited (a --rm container's, whose record is gone) holds nothing while its reaper is slow.
 */
export function holderAlive(l: Lease): boolean {
  if (!l.holder) return false;
  const info = processInfo(l.holder.pid);
  return info !== undefined && !info.zombie && info.startMs === l.holder.startMs;
}

/** The holder record of a running process (this one by default). */
export function holderOf(pid = process.pid): Holder {
  const info = processInfo(pid);
  if (!info) throw new SkiffError('EINTERNAL', `process ${pid} is gone`);
  return { pid, startMs: info.startMs };
}

export type Liveness = (l: Lease) => boolean;

const read = (network: string): LeaseFile => readJsonSync<LeaseFile>(networkLeasesFile(network)) ?? { leases: [] };

async function write(network: string, f: LeaseFile): Promise<void> {
  const file = networkLeasesFile(network);
  if (!f.leases.length) {
    fs.rmSync(file, { force: true });
    return;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeJsonAtomic(file, f);
}

export interface AllocateRequest {
  container: string;
  staticIp?: number;
  ifName: string;
  hostIf: string;
  mac?: string;
  dnsNames?: string[];
  holder: Holder;
}

/** The range addresses come from: the ip-range (or subnet) without the network and broadcast addresses. */
function pool(net: NetworkRecord): { subnet: Prefix; first: number; last: number; gateway: number } {
  const cfg = net.IPAM.Config[0]!;
  const subnet = parsePrefix(cfg.Subnet)!;
  const range = cfg.IPRange ? parsePrefix(cfg.IPRange)! : subnet;
  const first = Math.max(range.base, subnet.base + 1);
  const last = Math.min(lastOf(range), lastOf(subnet) - 1);
  return { subnet, first, last, gateway: parseIPv4(cfg.Gateway)! };
}

/**
 * An address for the container on `net` (its existing lease, renewed with the new holder, when it
 * has one). Addresses of stale leases count as free; those leases are returned for teardown.
 */
export async function allocate(net: NetworkRecord, req: AllocateRequest, live: Liveness = holderAlive): Promise<{ lease: Lease; stale: Lease[] }> {
  return withLock('networks', async () => {
    const f = read(net.Name);
    const stale: Lease[] = [];
    const keep: Lease[] = [];
    let mine: Lease | undefined;
    for (const l of f.leases) {
      if (l.container === req.container) mine = l;
      else if (live(l)) keep.push(l);
      else stale.push(l);
    }
    const { subnet, first, last, gateway } = pool(net);
    const used = new Set(keep.map((l) => parseIPv4(l.ip)!));
    let ip: number | undefined;
    if (req.staticIp !== undefined) {
      if (!contains(subnet, req.staticIp)) {
        throw new SkiffError('EINVAL', `invalid endpoint settings: no configured subnet or ip-range contain the IP address ${formatIPv4(req.staticIp)}`);
      }
      if (used.has(req.staticIp) || req.staticIp === gateway) throw new SkiffError('ECONFLICT', 'Address already in use');
      ip = req.staticIp;
    } else if (mine && !mine.static && !used.has(parseIPv4(mine.ip)!)) {
      ip = parseIPv4(mine.ip)!;
    } else {
      const size = last - first + 1;
      const prev = f.last !== undefined ? parseIPv4(f.last) : undefined;
      const start = prev !== undefined && prev >= first && prev <= last ? prev - first + 1 : 0;
      for (let i = 0; i < size && ip === undefined; i++) {
        const cand = first + ((start + i) % size);
        if (cand !== gateway && !used.has(cand)) ip = cand;
      }
      if (ip === undefined) {
        throw new SkiffError('ECONFLICT', `no available IPv4 addresses on this network's address pools: ${net.Name} (${net.Id})`);
      }
      f.last = formatIPv4(ip);
    }
    const lease: Lease = {
      container: req.container,
      ip: formatIPv4(ip),
      static: req.staticIp !== undefined,
      ifName: req.ifName,
      hostIf: req.hostIf,
      ...(req.mac ? { mac: req.mac } : {}),
      ...(req.dnsNames ? { dnsNames: req.dnsNames } : {}),
      holder: req.holder,
      at: new Date().toISOString(),
    };
    f.leases = [...keep, ...stale, lease]; // stale ones stay until their teardown is done (forgetLease)
    await write(net.Name, f);
    return { lease, stale };
  });
}

/** A new holder for the container's leases (the monitor after `run -d`). */
export async function setHolder(networks: string[], container: string, holder: Holder): Promise<void> {
  await withLock('networks', async () => {
    for (const n of networks) {
      const f = read(n);
      const l = f.leases.find((x) => x.container === container);
      if (!l) continue;
      l.holder = holder;
      await write(n, f);
    }
  });
}

/** The interface names of the container's lease on `network` (network connect: its next ethN). */
export async function setLeaseNames(network: string, container: string, ifName: string, hostIf: string): Promise<void> {
  await withLock('networks', async () => {
    const f = read(network);
    const l = f.leases.find((x) => x.container === container);
    if (!l) return;
    Object.assign(l, { ifName, hostIf });
    await write(network, f);
  });
}

/** Free the container's address on `network`; returns the lease it had. */
export async function release(network: string, container: string): Promise<Lease | undefined> {
  return withLock('networks', async () => {
    const f = read(network);
    const l = f.leases.find((x) => x.container === container);
    if (!l) return undefined;
    f.leases = f.leases.filter((x) => x !== l);
    await write(network, f);
    return l;
  });
}

export function leasesOf(network: string): Lease[] {
  return read(network).leases;
}

/** The stale leases of these networks (for teardown, then forgetLease). */
export async function staleLeases(networks: string[], live: Liveness = holderAlive): Promise<{ network: string; lease: Lease }[]> {
  return withLock('networks', async () => {
    const out: { network: string; lease: Lease }[] = [];
    for (const n of networks) for (const lease of read(n).leases) if (!live(lease)) out.push({ network: n, lease });
    return out;
  });
}

/** Forget one lease (that exact one: a newer lease of the same container stays). */
export async function forgetLease(network: string, lease: Lease): Promise<void> {
  await withLock('networks', async () => {
    const f = read(network);
    const n = f.leases.length;
    f.leases = f.leases.filter((l) => !(l.container === lease.container && l.at === lease.at && l.ip === lease.ip));
    if (f.leases.length !== n) await write(network, f);
  });
}
