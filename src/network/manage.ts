/**
 * `network ls|inspect|rm|prune` as data: Docker's rows, inspect objects, filters and errors. The
 * pre-defined networks `bridge` (the default one, made on first use), `host` and `none` are listed
 * as Docker lists them; host and none have no record (fixed ids from their names).
 */
import { createHash } from 'node:crypto';
import { SkiffError } from '../errors.js';
import { labelsMatch, parseImageFilters, type LabelFilter } from '../image/filters.js';
import { readContainer } from '../store/containers.js';
import { holderAlive, leasesOf } from './ipam.js';
import { byName, DEFAULT_NETWORK, defaultNetwork, findNetwork, listNetworks, removeNetworkRecord, type NetworkRecord } from './store.js';

/** A network as `ls` and `inspect` see it: a record, or the host/none pseudo networks. */
export interface NetworkView {
  Name: string;
  Id: string;
  Created: string;
  Driver: string;
  Scope: 'local';
  Internal: boolean;
  Labels: Record<string, string>;
  record?: NetworkRecord;
}

const pseudo = (name: 'host' | 'none'): NetworkView => ({
  Name: name,
  Id: createHash('sha256').update(`skiff-network-${name}`).digest('hex'),
  Created: '1970-01-01T00:00:00Z',
  Driver: name === 'host' ? 'host' : 'null',
  Scope: 'local',
  Internal: false,
  Labels: {},
});

const view = (r: NetworkRecord): NetworkView => ({ Name: r.Name, Id: r.Id, Created: r.Created, Driver: r.Driver, Scope: r.Scope, Internal: r.Internal, Labels: r.Labels, record: r });

export async function allNetworks(): Promise<NetworkView[]> {
  await defaultNetwork();
  return [...listNetworks().sort(byName).map(view), pseudo('host'), pseudo('none')];
}

/** By name, id or unique id prefix, the pseudo networks too. */
export function findView(ref: string): NetworkView {
  if (ref === 'host' || ref === 'none') return pseudo(ref);
  return view(findNetwork(ref));
}

/** The containers with a live address on the network. */
export function activeEndpoints(name: string): { container: string; ip: string; mac?: string; hostIf: string }[] {
  return leasesOf(name).filter(holderAlive).map((l) => ({ container: l.container, ip: l.ip, ...(l.mac ? { mac: l.mac } : {}), hostIf: l.hostIf }));
}

const FILTER_KEYS = ['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling'];

/** `network ls --filter` (Docker's keys; several values of one key: any matches). */
export function filterNetworks(nets: NetworkView[], filters: string[]): NetworkView[] {
  const by = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new SkiffError('EINVAL', `bad format of filter (expected name=value)`);
    const k = f.slice(0, eq);
    if (!FILTER_KEYS.includes(k)) throw new SkiffError('EINVAL', `invalid filter '${k}'`);
    by.set(k, [...(by.get(k) ?? []), f.slice(eq + 1)]);
  }
  const any = (k: string, test: (v: string) => boolean): boolean => !by.has(k) || by.get(k)!.some(test);
  const labels: LabelFilter[] = (by.get('label') ?? []).map((l) => {
    const eq = l.indexOf('=');
    return eq < 0 ? { key: l } : { key: l.slice(0, eq), value: l.slice(eq + 1) };
  });
  for (const t of by.get('type') ?? []) if (t !== 'custom' && t !== 'builtin') throw new SkiffError('EINVAL', `invalid filter: 'type'='${t}'`);
  for (const d of by.get('dangling') ?? []) if (!['true', 'false', '1', '0'].includes(d)) throw new SkiffError('EINVAL', `invalid filter 'dangling=${d}'`);
  return nets.filter((n) => {
    const builtin = n.Name === DEFAULT_NETWORK || n.Name === 'host' || n.Name === 'none';
    return any('driver', (v) => n.Driver === v) && any('id', (v) => n.Id.includes(v)) && any('name', (v) => n.Name.includes(v)) &&
      any('scope', (v) => v === n.Scope) && any('type', (v) => (v === 'builtin') === builtin) &&
      any('dangling', (v) => (v === 'true' || v === '1') === (!builtin && activeEndpoints(n.Name).length === 0)) &&
      labelsMatch(labels, n.Labels);
  });
}

/** Docker's `network inspect` object. */
export function inspectNetwork(n: NetworkView): Record<string, unknown> {
  const r = n.record;
  const containers: Record<string, unknown> = {};
  if (r) {
    const prefix = r.IPAM.Config[0]!.Subnet.split('/')[1];
    for (const e of activeEndpoints(r.Name)) {
      containers[e.container] = {
        Name: readContainer(e.container)?.Name ?? '', EndpointID: e.hostIf, MacAddress: e.mac ?? '', IPv4Address: `${e.ip}/${prefix}`, IPv6Address: '',
      };
    }
  }
  return {
    Name: n.Name,
    Id: n.Id,
    Created: n.Created,
    Scope: n.Scope,
    Driver: n.Driver,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: r ? { Driver: 'default', Options: {}, Config: r.IPAM.Config } : { Driver: 'default', Options: null, Config: null },
    Internal: n.Internal,
    Attachable: r?.Attachable ?? false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: r ? (r.Default ? { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.name': r.Bridge } : { ...r.Options, 'com.docker.network.bridge.name': r.Bridge }) : {},
    Labels: n.Labels,
  };
}

/** `network rm`: a user-defined network no running container uses. */
export async function removeNetwork(ref: string): Promise<string> {
  if (ref === 'host' || ref === 'none' || ref === DEFAULT_NETWORK) {
    throw new SkiffError('ECONFLICT', `${ref} is a pre-defined network and cannot be removed`, 1);
  }
  const r = findNetwork(ref);
  if (r.Default) throw new SkiffError('ECONFLICT', `${r.Name} is a pre-defined network and cannot be removed`, 1);
  const active = activeEndpoints(r.Name);
  if (active.length) {
    const c = active[0]!;
    throw new SkiffError('ECONFLICT', `error while removing network: network ${r.Name} has active endpoints (name:"${readContainer(c.container)?.Name ?? ''}" id:"${c.container.slice(0, 12)}")`, 1);
  }
  await removeNetworkRecord(r);
  return r.Name;
}

/** `network prune`: the user-defined networks no running container uses (label filters, until). */
export async function pruneNetworks(filters: string[]): Promise<string[]> {
  const f = parseImageFilters(filters, ['label', 'until']);
  const labels = f.label;
  const until = f.until ?? Infinity;
  const out: string[] = [];
  for (const r of listNetworks().sort(byName)) {
    if (r.Default || activeEndpoints(r.Name).length || !labelsMatch(labels, r.Labels) || Date.parse(r.Created) >= until) continue;
    await removeNetworkRecord(r);
    out.push(r.Name);
  }
  return out;
}
