/**
 * The rootful backend: bridge networks set up by the shim through netlink and nf_tables (see
 * docs/design/networking.md for why not netavark), names through aardvark-dns on user-defined
 * networks, host ports reserved by the holder and forwarded by an nf_tables table it owns.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { native } from '../native.js';
import { networkDownFile } from '../store/layout.js';
import { withLockFile } from '../store/lock.js';
import type { NetworkBackend, Prepared, SetupRequest, SweepOptions } from './backend.js';
import { allocate, forgetLease, holderAlive, leasesOf, release, staleLeases, type Lease, type Liveness } from './ipam.js';
import { bridgePlan, hostIfName, type PlanAttachment } from './plan.js';
import { teardownVia } from './rootless-netns.js';
import { shimSetup, shimTeardown } from './shim.js';
import { claimSubnet, listNetworks, readNetwork, type NetworkRecord } from './store.js';

/** The names a container answers to on a network with DNS: name, short id, aliases (lowercase, once each). */
export function dnsNames(name: string, containerId: string, aliases: string[]): string[] {
  return [...new Set([name, containerId.slice(0, 12), ...aliases].map((n) => n.toLowerCase()))];
}

async function prepare(req: SetupRequest): Promise<Prepared> {
  if (!req.networks.length) throw new SkiffError('EINTERNAL', 'no network to attach');
  // a marker of this container's previous final teardown (plan.downFile) must not speak for this start
  const down = networkDownFile(req.containerId);
  fs.mkdirSync(path.dirname(down), { recursive: true, mode: 0o700 });
  fs.rmSync(down, { force: true });
  const leases: { network: string; lease: Lease }[] = [];
  const stale: { network: string; lease: Lease }[] = [];
  const live: Liveness = (l) => holderAlive(l) || (req.live?.(l) ?? false);
  try {
    for (const [i, a] of req.networks.entries()) {
      await claimSubnet(a.network);
      const r = await allocate(
        a.network,
        {
          container: req.containerId,
          ...(a.staticIp !== undefined ? { staticIp: a.staticIp } : {}),
          ifName: `eth${i}`,
          hostIf: hostIfName(req.containerId, i),
          ...(a.mac ? { mac: a.mac } : {}),
          ...(a.network.DNS ? { dnsNames: dnsNames(req.name, req.containerId, a.aliases) } : {}),
          holder: req.holder,
        },
        live,
      );
      leases.push({ network: a.network.Name, lease: r.lease });
      for (const s of r.stale) stale.push({ network: a.network.Name, lease: s });
    }
  } catch (e) {
    for (const l of leases) await release(l.network, req.containerId);
    throw e;
  }
  const attachments: PlanAttachment[] = req.networks.map((a, i) => ({ network: a.network, lease: leases[i]!.lease }));
  const plan = bridgePlan(req.containerId, `${req.name} (${req.containerId.slice(0, 12)})`, attachments, req.forwards);
  const first = req.networks[0]!.network;
  return {
    plan,
    leases,
    stale,
    resolv: first.DNS ? { mode: 'internal', internalNs: first.IPAM.Config[0]!.Gateway } : { mode: 'legacy' },
    // the first network's gateway, an address of the host's for as long as the container is on it
    // (Podman's rule; Docker's docker0 address exists only while a container is on the default network here)
    hostGateway: first.IPAM.Config[0]!.Gateway,
    addresses: leases.map((l) => l.lease.ip),
  };
}

/**
 * Markers of containers that hold no lease any more (a sweep that tore them down before their own
 * final teardown wrote the marker, or a removed container): nothing speaks through them; remove them.
 */
function dropOrphanMarkers(recs: Map<string, NetworkRecord>): void {
  const dir = path.dirname(networkDownFile('x'));
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  if (!names.length) return;
  const holding = new Set([...recs.keys()].flatMap((n) => leasesOf(n).map((l) => l.container)));
  for (const id of names) if (!holding.has(id)) fs.rmSync(path.join(dir, id), { force: true });
}

/** A plan naming the leases' interfaces, for the shim's teardown. */
function teardownPlan(containerId: string, items: { network: NetworkRecord; lease: Lease }[]) {
  return bridgePlan(containerId, containerId.slice(0, 12), items, []);
}

async function teardown(containerId: string, networks?: string[]): Promise<void> {
  const recs = (networks ?? listNetworks().map((n) => n.Name)).map(readNetwork).filter((r): r is NetworkRecord => r !== undefined);
  const items = recs.flatMap((network) => leasesOf(network.Name).filter((l) => l.container === containerId).map((lease) => ({ network, lease })));
  if (!items.length) return;
  // the whole container (rm, a failed start): its final teardown, still under way in the monitor's
  // child, is waited for, so its links are gone when rm returns (as Docker's are); done: nothing to undo
  const state = networks ? 'none' : await finalTeardown(networkDownFile(containerId), true);
  const via = state === 'done' ? undefined : teardownVia();
  if (via) await shimTeardown(teardownPlan(containerId, items), via);
  for (const it of items) await forgetLease(it.network.Name, it.lease);
  if (!networks) fs.rmSync(networkDownFile(containerId), { force: true });
}

/** The final teardown's state (teardownState); one still running is waited for when `wait` says so. */
async function finalTeardown(down: string, wait: boolean): Promise<'done' | 'running' | 'none'> {
  const state = teardownState(down);
  if (state !== 'running' || !wait) return state;
  await withLockFile(down, async () => undefined);
  return teardownState(down);
}

/**
 * A container's final teardown as its marker tells (plan.downFile, the shim's net_teardown_detached):
 * done; running (its child holds the marker's lock); or none: no marker, or one whose teardown ended
 * without finishing (a crash: tear down again).
 */
function teardownState(file: string): 'done' | 'running' | 'none' {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch {
    return 'none';
  }
  try {
    if (fs.fstatSync(fd).size > 0) return 'done';
    if (!native().flock(fd, true, true)) return 'running';
    return fs.fstatSync(fd).size > 0 ? 'done' : 'none'; // it may have finished meanwhile
  } finally {
    fs.closeSync(fd);
  }
}

async function sweep(live?: Liveness, opts: SweepOptions = {}): Promise<string[]> {
  const recs = new Map(listNetworks().map((n) => [n.Name, n]));
  const stale = await staleLeases([...recs.keys()], (l) => holderAlive(l) || (live?.(l) ?? false));
  const byContainer = new Map<string, { network: NetworkRecord; lease: Lease }[]>();
  for (const s of stale) {
    const network = recs.get(s.network);
    if (!network) continue;
    const list = byContainer.get(s.lease.container) ?? [];
    list.push({ network, lease: s.lease });
    byContainer.set(s.lease.container, list);
  }
  const cleaned: string[] = [];
  for (const [id, items] of byContainer) {
    // the shim's final teardown marks it done once it has undone everything (the usual exit): only
    // the leases are left to forget; else (a crash) the shim tears down now
    const down = networkDownFile(id);
    const state = await finalTeardown(down, opts.wait !== false);
    if (state === 'running') continue;
    cleaned.push(id);
    if (state !== 'done') {
      const via = teardownVia();
      if (via) await shimTeardown(teardownPlan(id, items), via);
    }
    for (const it of items) await forgetLease(it.network.Name, it.lease);
    fs.rmSync(down, { force: true });
  }
  dropOrphanMarkers(recs);
  return cleaned;
}

export const bridgeBackend: NetworkBackend = {
  name: 'bridge',
  prepare,
  setup: (p, target) => shimSetup(p.plan, target),
  teardown,
  sweep,
};
