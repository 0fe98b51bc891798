/**
 * The network plan: what the shim executes for one container (addon/shim/netplan.c reads it, as
 * the `skiff.network` extension of a spec or the input of `skiff-shim net`), and the status the
 * shim reports back. Names on the host are made from ids so that stores never collide:
 *   bridge skiff-<9 hex of the network id>, its table skiff_net_<9 hex>   (store.ts)
 *   veth host end sk<12 hex of the container id><interface index>, port table skiff_p_<12 hex>
 *   a bridge its last container's teardown retired, until it is deleted: Sk<12 hex><interface index>
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { lockFile, dnsConfigDir, networkDownFile } from '../store/layout.js';
import { macOfIPv4, parseIPv4 } from './ipv4.js';
import type { Lease } from './ipam.js';
import type { Forward } from './ports.js';
import type { NetworkRecord } from './store.js';

export interface PlanNetwork {
  name: string;
  bridge: string;
  table: string;
  subnet: string;
  gateway: string;
  mtu?: number;
  internal: boolean;
  dnsDir?: string;
}

export interface PlanInterface {
  name: string;
  hostName: string;
  mac?: string;
  address: string;
  defaultRoute: boolean;
  dnsNames?: string;
  network: PlanNetwork;
}

export interface PlanPort {
  proto: 'tcp' | 'udp';
  hostIp?: string;
  hostPort: number;
  hostPortEnd: number;
  containerIp: string;
  containerPort: number;
}

export interface NetworkPlan {
  containerId: string;
  /** "name (short id)": Docker's endpoint in port errors */
  endpoint: string;
  lockFile: string;
  /** the shim makes it (empty) after the container's final teardown succeeded: bridge.ts sweep() */
  downFile?: string;
  aardvark?: string;
  portsTable?: string;
  interfaces: PlanInterface[];
  ports: PlanPort[];
  pasta?: { path: string; args: string[] };
  /** rootless user networks: the holder's socket that forwards the host ports (addon/shim/cmd_netns.c) */
  forward?: { socket: string };
}

/** What `skiff-shim net setup` (and the network step of a start) reports. */
export interface NetworkStatus {
  interfaces: { name: string; hostName: string; network: string; address: string; prefixLen: number; gateway: string; mac: string }[];
  ports: { proto: 'tcp' | 'udp'; hostIp: string; hostPort: number; containerPort: number }[];
  pasta?: number;
  /** microseconds per phase: lock, bridge, firewall, veth, inside, dns, ports, pasta */
  timingsUs: Record<string, number>;
}

export const hostIfName = (containerId: string, index: number): string => `sk${containerId.slice(0, 12)}${index.toString(36)}`;
/**
 * The name a bridge has between its last container's teardown and its deletion, which that teardown
 * does after the networks lock (addon/shim/netsetup.c net_teardown_held): the container's host end's
 * with 'S' for its 's'.
 */
export const retiredName = (hostIf: string): string => `S${hostIf.slice(1)}`;
export const portsTableName = (containerId: string): string => `skiff_p_${containerId.slice(0, 12)}`;

/** The first executable of `names` on PATH or in `dirs`; `env` (a variable) overrides. */
export function findHelper(names: string[], dirs: string[], env?: string): string | undefined {
  const given = env ? process.env[env] : undefined;
  if (given) return given;
  const search = [...(process.env.PATH ?? '/usr/bin:/bin').split(':').filter(Boolean), ...dirs];
  for (const d of search) {
    for (const n of names) {
      const p = path.join(d, n);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        /* next */
      }
    }
  }
  return undefined;
}

/** aardvark-dns (Debian: /usr/lib/podman), or SKIFF_AARDVARK. */
export function aardvarkPath(): string {
  const p = findHelper(['aardvark-dns'], ['/usr/lib/podman', '/usr/libexec/podman', '/usr/local/libexec/podman'], 'SKIFF_AARDVARK');
  if (!p) throw new SkiffError('ERUNTIME', 'aardvark-dns not found (Debian package aardvark-dns, or set SKIFF_AARDVARK): it answers container names on user-defined networks');
  return p;
}

export interface PlanAttachment {
  network: NetworkRecord;
  lease: Lease;
}

/** The plan for a rootful container on bridge networks: one interface per attachment, the first has the default route. */
export function bridgePlan(containerId: string, endpoint: string, attachments: PlanAttachment[], forwards: Forward[]): NetworkPlan {
  const withDns = attachments.some((a) => a.network.DNS && a.lease.dnsNames?.length);
  const interfaces = attachments.map((a, i): PlanInterface => {
    const cfg = a.network.IPAM.Config[0]!;
    const prefixLen = cfg.Subnet.split('/')[1]!;
    const mac = a.lease.mac ?? macOfIPv4(a.lease.ip);
    return {
      name: a.lease.ifName,
      hostName: a.lease.hostIf,
      ...(mac ? { mac } : {}),
      address: `${a.lease.ip}/${prefixLen}`,
      defaultRoute: i === 0 && !a.network.Internal,
      ...(a.network.DNS && a.lease.dnsNames?.length ? { dnsNames: a.lease.dnsNames.join(',') } : {}),
      network: {
        name: a.network.Name,
        bridge: a.network.Bridge,
        table: a.network.Table,
        subnet: cfg.Subnet,
        gateway: cfg.Gateway,
        internal: a.network.Internal,
        ...(a.network.DNS ? { dnsDir: dnsConfigDir() } : {}),
      },
    };
  });
  // published ports reach the container on its first network (Docker: the default gateway's endpoint)
  const target = attachments[0]?.lease.ip;
  const ports = forwards.map((f): PlanPort => {
    if (f.proto === 'sctp') throw new SkiffError('EINVAL', 'publishing sctp ports is not supported');
    if (f.hostIp && parseIPv4(f.hostIp) === undefined) throw new SkiffError('EINVAL', `publishing on the IPv6 address ${f.hostIp} is not supported yet`);
    if (!target) throw new SkiffError('EINVAL', 'published ports need a network with addresses');
    return {
      proto: f.proto,
      ...(f.hostIp && f.hostIp !== '0.0.0.0' ? { hostIp: f.hostIp } : {}),
      hostPort: f.hostPort,
      hostPortEnd: f.hostPortEnd || f.hostPort,
      containerIp: target,
      containerPort: f.containerPort,
    };
  });
  return {
    containerId,
    endpoint,
    lockFile: lockFile('networks'),
    downFile: networkDownFile(containerId),
    ...(withDns ? { aardvark: aardvarkPath() } : {}),
    ...(ports.length ? { portsTable: portsTableName(containerId) } : {}),
    interfaces,
    ports,
  };
}
