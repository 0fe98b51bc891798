/**
 * Network records: networks/<name>.json (one file per network, written atomically under the
 * `networks` lock). The default network `bridge` is made on first use. Subnets come from the
 * address pools (Docker's defaults, SKIFF_ADDRESS_POOLS) or SKIFF_BRIDGE_SUBNET for the default
 * network, skipping the host's routes and the subnets other skiff stores on this host claimed:
 * bridges and routes are host-wide while stores are not, so a rootful subnet is claimed in
 * /run/skiff/subnets/ (SKIFF_SUBNET_CLAIMS), valid while the claiming store's record exists.
 */
import { recordEvent } from '../store/events.js';
import fs from 'node:fs';
import path from 'node:path';
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import { randomHex } from '../lib/random.js';
import { readJsonSync, writeFileAtomicSync, writeJsonAtomic } from '../store/atomic.js';
import { dirs, networkFile } from '../store/layout.js';
import { withLock, withLockFile } from '../store/lock.js';
import { formatIPv4, formatPrefix, overlaps, parsePrefix, prefixSize, type Prefix } from './ipv4.js';
import { checkNetworkName } from './options.js';
import { hostRoutes } from './routes.js';
import { byteOrder } from '../lib/order.js';

export const DEFAULT_NETWORK = 'bridge';

/** A network as stored: Docker's field names where Docker has them, skiff's own below. */
export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Driver: 'bridge';
  Scope: 'local';
  EnableIPv6: false;
  Internal: boolean;
  Attachable: boolean;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  IPAM: { Driver: 'default'; Options: Record<string, string>; Config: { Subnet: string; Gateway: string; IPRange?: string }[] };
  /** the bridge device (host-wide name, made from the id) */
  Bridge: string;
  /** nf_tables table of the network */
  Table: string;
  /** the subnet was given by the user (--subnet): only then --ip is allowed (Docker's rule) */
  SubnetStatic: boolean;
  /** the network's DNS server answers container names (user-defined networks; never the default one) */
  DNS: boolean;
  /** the default network: not user-defined */
  Default: boolean;
}

export interface NetworkSpec {
  name: string;
  /** `bridge` (the default) is the only driver */
  driver?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

const DOCKER_POOLS = [...Array.from({ length: 15 }, (_, i) => `172.${17 + i}.0.0/16/16`), '192.168.0.0/16/20'];

/**
 * Docker's default address pools (172.17.0.0/16 ... 172.31.0.0/16, then 192.168.0.0/16 in /20s), or
 * SKIFF_ADDRESS_POOLS="BASE/BITS/SIZE,..." (Docker's default-address-pools: 10.10.0.0/16/24 = /24s of 10.10.0.0/16).
 */
export function addressPools(env: string | undefined = process.env.SKIFF_ADDRESS_POOLS): Prefix[] {
  const specs = env ? env.split(',').map((s) => s.trim()).filter(Boolean) : DOCKER_POOLS;
  const out: Prefix[] = [];
  for (const spec of specs) {
    const m = /^(.+\/\d+)\/(\d+)$/.exec(spec);
    const base = m ? parsePrefix(m[1]!, true) : undefined;
    const size = m ? Number(m[2]) : NaN;
    if (!base || !(size >= base.bits && size <= 30)) {
      throw new SkiffError('EINVAL', `SKIFF_ADDRESS_POOLS: ${spec} is not BASE/BITS/SIZE (e.g. 10.10.0.0/16/24)`);
    }
    for (let b = base.base; b < base.base + prefixSize(base); b += 2 ** (32 - size)) out.push({ base: b >>> 0, bits: size });
  }
  return out;
}

// ---- host-wide claims of rootful subnets ---------------------------------------------------------

interface Claim {
  root: string;
  network: string;
  id: string;
}

const claimsDir = (): string => process.env.SKIFF_SUBNET_CLAIMS || '/run/skiff/subnets';
const claimFile = (p: Prefix): string => path.join(claimsDir(), formatPrefix(p).replace('/', '_'));

/** A claim is valid while the claiming store still has that network record (same id). */
function claimValid(c: Claim): boolean {
  const rec = readJsonSync<NetworkRecord>(path.join(c.root, 'networks', `${c.network}.json`));
  return rec?.Id === c.id;
}

function validClaims(): { prefix: Prefix; claim: Claim }[] {
  let names: string[];
  try {
    names = fs.readdirSync(claimsDir());
  } catch {
    return [];
  }
  const out: { prefix: Prefix; claim: Claim }[] = [];
  for (const n of names) {
    const prefix = parsePrefix(n.replace('_', '/'), true);
    const claim = prefix && readJsonSync<Claim>(path.join(claimsDir(), n));
    if (prefix && claim && claimValid(claim)) out.push({ prefix, claim });
  }
  return out;
}

/** fn under the claims lock (a file in the claims dir). */
async function withClaims<T>(fn: () => T): Promise<T> {
  fs.mkdirSync(claimsDir(), { recursive: true, mode: 0o700 });
  return withLockFile(path.join(claimsDir(), '.lock'), async () => fn());
}

/**
 * Claim the subnet of `rec` for this store (again after a reboot emptied /run). A subnet another
 * store holds is a conflict with one clear line.
 */
export async function claimSubnet(rec: NetworkRecord): Promise<void> {
  if (paths().rootless) return; // rootless networks live in the user's own network namespace
  const subnet = parsePrefix(rec.IPAM.Config[0]!.Subnet)!;
  const me: Claim = { root: paths().root, network: rec.Name, id: rec.Id };
  const file = claimFile(subnet);
  const cur = readJsonSync<Claim>(file);
  if (cur && cur.root === me.root && cur.id === me.id) return; // the usual case: one read
  await withClaims(() => {
    for (const { prefix, claim } of validClaims()) {
      if (claim.root === me.root && claim.id === me.id) continue;
      if (overlaps(prefix, subnet)) {
        throw new SkiffError(
          'ECONFLICT',
          `subnet ${formatPrefix(subnet)} of network ${rec.Name} overlaps ${formatPrefix(prefix)} of network ${claim.network} in the store ${claim.root}: remove one of them or give this one another --subnet`,
        );
      }
    }
    writeFileAtomicSync(file, JSON.stringify(me));
  });
}

/** Drop this store's claim on the subnet of `rec` (network rm). */
export async function releaseSubnet(rec: NetworkRecord): Promise<void> {
  if (paths().rootless) return;
  const file = claimFile(parsePrefix(rec.IPAM.Config[0]!.Subnet)!);
  await withClaims(() => {
    const cur = readJsonSync<Claim>(file);
    if (cur && cur.root === paths().root && cur.id === rec.Id) fs.rmSync(file, { force: true });
  });
}

// ---- records ---------------------------------------------------------------------------------------

export function readNetwork(name: string): NetworkRecord | undefined {
  return readJsonSync<NetworkRecord>(networkFile(name));
}

export function listNetworks(): NetworkRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(dirs().networks);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .map((n) => readNetwork(n.slice(0, -5)))
    .filter((r): r is NetworkRecord => r !== undefined)
    .sort((a, b) => byteOrder(a.Name, b.Name));
}

/**
 * The order `network ls` and `network prune` print names in. Not listNetworks' own: a first
 * localeCompare sets up ICU's collator (~6 ms), which a `run` on a store with networks would pay.
 */
export const byName = (a: { Name: string }, b: { Name: string }): number => a.Name.localeCompare(b.Name);

/** By full name, full id or unique id prefix (Docker's lookup order). */
export function findNetwork(ref: string): NetworkRecord {
  const byName = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(ref) ? readNetwork(ref) : undefined;
  if (byName) return byName;
  const all = listNetworks();
  const exact = all.find((n) => n.Id === ref);
  if (exact) return exact;
  const pref = /^[0-9a-f]+$/.test(ref) ? all.filter((n) => n.Id.startsWith(ref)) : [];
  if (pref.length === 1) return pref[0]!;
  if (pref.length > 1) throw new SkiffError('EINVAL', `network ${ref} is ambiguous (${pref.length} matches found based on ID prefix)`);
  throw new SkiffError('ENONETWORK', `network ${ref} not found`);
}

/** The first pool subnet that overlaps no host route, no network of this store and no other store's claim. */
function pickSubnet(taken: Prefix[]): Prefix {
  const busy = [...taken, ...hostRoutes(), ...(paths().rootless ? [] : validClaims().map((c) => c.prefix))];
  for (const p of addressPools()) if (!busy.some((b) => overlaps(b, p))) return p;
  throw new SkiffError('ECONFLICT', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

function newRecord(spec: NetworkSpec, isDefault: boolean, taken: Prefix[]): NetworkRecord {
  const id = randomHex(32);
  let subnet: Prefix;
  const given = spec.subnet ?? (isDefault ? process.env.SKIFF_BRIDGE_SUBNET : undefined);
  if (given !== undefined) {
    const p = parsePrefix(given);
    if (!p) throw new SkiffError('EINVAL', `invalid subnet ${given}: expected an IPv4 CIDR such as 10.10.0.0/16${spec.subnet ? '' : ' (SKIFF_BRIDGE_SUBNET)'}`);
    if (p.bits > 30) throw new SkiffError('EINVAL', `invalid subnet ${given}: too small (at most /30)`);
    const clash = taken.find((t) => overlaps(t, p));
    if (clash) throw new SkiffError('ECONFLICT', `invalid pool request: Pool overlaps with other one on this address space`);
    subnet = p;
  } else {
    subnet = pickSubnet(taken);
  }
  let gateway = subnet.base + 1;
  if (spec.gateway !== undefined) {
    const g = parsePrefix(`${spec.gateway}/32`);
    if (!g || g.base < subnet.base || g.base > subnet.base + prefixSize(subnet) - 1) {
      throw new SkiffError('EINVAL', `invalid gateway ${spec.gateway}: not in subnet ${formatPrefix(subnet)}`);
    }
    gateway = g.base;
  }
  let ipRange: string | undefined;
  if (spec.ipRange !== undefined) {
    const r = parsePrefix(spec.ipRange);
    if (!r || r.bits < subnet.bits || !overlaps(r, subnet)) {
      throw new SkiffError('EINVAL', `invalid ip-range ${spec.ipRange}: not in subnet ${formatPrefix(subnet)}`);
    }
    ipRange = formatPrefix(r);
  }
  return {
    Name: spec.name,
    Id: id,
    Created: new Date().toISOString(),
    Driver: 'bridge',
    Scope: 'local',
    EnableIPv6: false,
    Internal: spec.internal ?? false,
    Attachable: false,
    Labels: spec.labels ?? {},
    Options: spec.options ?? {},
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: formatPrefix(subnet), Gateway: formatIPv4(gateway), ...(ipRange ? { IPRange: ipRange } : {}) }] },
    Bridge: `skiff-${id.slice(0, 9)}`,
    Table: `skiff_net_${id.slice(0, 9)}`,
    SubnetStatic: spec.subnet !== undefined,
    DNS: !isDefault,
    Default: isDefault,
  };
}

const subnetsOf = (recs: NetworkRecord[]): Prefix[] => recs.map((r) => parsePrefix(r.IPAM.Config[0]!.Subnet)!);

/** `network create`: a new user-defined network (name unique, subnet not overlapping). */
export async function createNetwork(spec: NetworkSpec): Promise<NetworkRecord> {
  if (spec.driver !== undefined && spec.driver !== 'bridge') throw new SkiffError('EINVAL', `plugin "${spec.driver}" not found: skiff has the bridge driver only`);
  checkNetworkName(spec.name);
  if (spec.name === DEFAULT_NETWORK || spec.name === 'host' || spec.name === 'none') {
    throw new SkiffError('ECONFLICT', `${spec.name} is a pre-defined network and cannot be created`);
  }
  return withLock('networks', async () => {
    if (readNetwork(spec.name)) throw new SkiffError('ECONFLICT', `network with name ${spec.name} already exists`);
    const rec = newRecord(spec, false, subnetsOf(listNetworks()));
    fs.mkdirSync(dirs().networks, { recursive: true, mode: 0o700 });
    await writeJsonAtomic(networkFile(rec.Name), rec);
    try {
      await claimSubnet(rec);
    } catch (e) {
      fs.rmSync(networkFile(rec.Name), { force: true });
      throw e;
    }
    recordEvent('network', 'create', rec.Id, { name: rec.Name, type: rec.Driver });
    return rec;
  });
}

/** The default network, made on first use. */
export async function defaultNetwork(): Promise<NetworkRecord> {
  const cur = readNetwork(DEFAULT_NETWORK);
  if (cur) return cur;
  return withLock('networks', async () => {
    const again = readNetwork(DEFAULT_NETWORK);
    if (again) return again;
    const rec = newRecord({ name: DEFAULT_NETWORK }, true, subnetsOf(listNetworks()));
    fs.mkdirSync(dirs().networks, { recursive: true, mode: 0o700 });
    await writeJsonAtomic(networkFile(rec.Name), rec);
    return rec;
  });
}

/** Remove a network record (the caller checked that no container uses it). */
export async function removeNetworkRecord(rec: NetworkRecord): Promise<void> {
  await withLock('networks', async () => {
    fs.rmSync(networkFile(rec.Name), { force: true });
  });
  await releaseSubnet(rec);
  recordEvent('network', 'destroy', rec.Id, { name: rec.Name, type: rec.Driver });
}
