/**
 * A container's network, between the container and the network domain (src/network/):
 *   create  checkNetworkOptions: --network, -p/-P/--expose, --ip, --network-alias, --mac-address,
 *           --dns*, --add-host, checked with Docker's words and recorded (HostConfig, Config, Networks);
 *   start   startNetwork: sweep what crashed containers left, the backend's prepare (addresses held by
 *           this process, then handed to the monitor: handOver), /etc/hosts and resolv.conf from what
 *           was prepared, the plan into the spec (the shim executes it at its network step);
 *   rm      releaseNetwork: what the container's last run left (its addresses; links the shim removed).
 * Addresses are taken at start, as Docker's: a created or exited container holds none.
 */
import { joinOwnerUserns } from './namespaces.js';
import { recordEvent } from '../store/events.js';
import { mark } from '../lib/trace.js';
import fs from 'node:fs';
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import type { AttachRequest, Prepared } from '../network/backend.js';
import { backendFor } from '../network/backends.js';
import { hostsFile } from '../network/hosts.js';
import { holderAlive, holderOf, leasesOf, setHolder, setLeaseNames } from '../network/ipam.js';
import { checkAliases, checkStaticIp, HOST_GATEWAY, parseAddHost, parseDnsSearch, parseDnsServer, parseMac, parseStaticIp } from '../network/options.js';
import type { NetworkStatus } from '../network/plan.js';
import { effectiveBindings, forwardsOf, parseExpose, parsePublish, type PortMap, type PortSet } from '../network/ports.js';
import { containerResolvConf, hostResolvPath, parseResolvConf } from '../network/resolv.js';
import { DEFAULT_NETWORK, defaultNetwork, findNetwork, listNetworks, type NetworkRecord } from '../network/store.js';
import { parsePrefix } from '../network/ipv4.js';
import { containerFiles, findContainer, writeRecord, type ContainerRecord, type EndpointConfig } from '../store/containers.js';
import type { OciSpec } from './spec.js';

export interface NetworkOptions {
  /** --network (repeatable: several networks) */
  network: string[];
  aliases: string[];
  ip?: string;
  mac?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  addHost: string[];
  publish: string[];
  publishAll: boolean;
  expose: string[];
  hostname?: string;
}

/** What create records of the network options. */
export interface NetworkConfig {
  /** HostConfig.NetworkMode: bridge, host, none, container:<id>, or a network's name */
  mode: string;
  /** the networks joined at start (bridge-like modes), with their options */
  endpoints: Record<string, EndpointConfig>;
  exposed: PortSet;
  bindings: PortMap;
  publishAll: boolean;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
  mac?: string;
  /** Docker's warnings (printed by the CLI as `WARNING: ...`) */
  warnings: string[];
}

const conflict = (what: string): SkiffError => new SkiffError('EINVAL', `conflicting options: ${what} and the network mode`);

const isBridgeLike = (mode: string): boolean => mode !== 'host' && mode !== 'none' && !mode.startsWith('container:');

/** create: the network options checked as Docker's CLI and daemon check them. */
export function checkNetworkOptions(o: NetworkOptions): NetworkConfig {
  const given = o.network.filter((n) => n !== '');
  const names = (given.length ? given : [DEFAULT_NETWORK]).map((n) => (n === 'default' ? DEFAULT_NETWORK : n));
  const dns = o.dns.map(parseDnsServer);
  const dnsSearch = o.dnsSearch.map(parseDnsSearch);
  const extraHosts = o.addHost.map((h) => {
    const { host, ip } = parseAddHost(h);
    return `${host}:${ip}`;
  });
  const mac = o.mac !== undefined ? parseMac(o.mac) : undefined;
  const published = parsePublish(o.publish);
  const exposed: PortSet = { ...published.exposed };
  for (const k of parseExpose(o.expose)) exposed[k] = {};
  const hasPorts = Object.keys(published.bindings).length > 0 || o.publishAll;
  const cfg: NetworkConfig = {
    mode: names[0]!, endpoints: {}, exposed, bindings: published.bindings, publishAll: o.publishAll, dns, dnsSearch,
    dnsOptions: [...o.dnsOptions], extraHosts, ...(mac ? { mac } : {}), warnings: [],
  };
  if (names.length > 1 && names.some((n) => !isBridgeLike(n))) {
    throw new SkiffError('EINVAL', 'conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  }
  const mode = names[0]!;
  if (mode.startsWith('container:')) {
    const ref = mode.slice('container:'.length);
    if (!ref) throw new SkiffError('EINVAL', 'Invalid network mode: invalid container format container:<name|id>');
    if (o.hostname !== undefined) throw conflict('hostname');
    if (dns.length || dnsSearch.length || o.dnsOptions.length) throw conflict('dns');
    if (extraHosts.length) throw conflict('custom host-to-IP mapping');
    if (mac) throw conflict('mac-address');
    if (hasPorts) throw new SkiffError('EINVAL', 'conflicting options: port publishing and the container type network mode');
    if (o.expose.length) throw new SkiffError('EINVAL', 'conflicting options: port exposing and the container type network mode');
    cfg.mode = `container:${findContainer(ref).Id}`;
    return { ...cfg, bindings: {}, publishAll: false };
  }
  if (mode === 'host' || mode === 'none') {
    if (mac) throw conflict('mac-address');
    if (o.aliases.length) checkAliases(o.aliases, false);
    if (o.ip !== undefined) throw new SkiffError('EINVAL', 'invalid endpoint settings: user specified IP address is supported on user defined networks only');
    // Docker: the ports are kept in the config and ignored; host mode says so
    if (mode === 'host' && hasPorts) cfg.warnings.push('Published ports are discarded when using host network mode');
    return cfg;
  }
  if (paths().rootless && names.some((n) => n !== DEFAULT_NETWORK)) {
    for (const n of names) if (n !== DEFAULT_NETWORK) findNetwork(n);
    if (names.includes(DEFAULT_NETWORK)) throw new SkiffError('EINVAL', ROOTLESS_MIX);
  }
  const recs = names.map((n) => (n === DEFAULT_NETWORK ? undefined : findNetwork(n)));
  const first = recs[0];
  checkAliases(o.aliases, first !== undefined);
  let staticIp: string | undefined;
  if (o.ip !== undefined) {
    const ip = parseStaticIp(o.ip);
    if (!first) checkStaticIp(ip, { name: DEFAULT_NETWORK, userDefined: false, subnet: { base: 0, bits: 0 }, subnetStatic: false });
    else checkStaticIp(ip, { name: first.Name, userDefined: true, subnet: parsePrefix(first.IPAM.Config[0]!.Subnet)!, subnetStatic: first.SubnetStatic });
    staticIp = o.ip.trim();
  }
  names.forEach((n, i) => {
    const name = recs[i]?.Name ?? n;
    cfg.endpoints[name] = {
      Aliases: i === 0 && o.aliases.length ? [...o.aliases] : null,
      IPAMConfig: i === 0 && staticIp ? { IPv4Address: staticIp } : null,
      ...(i === 0 && mac ? { MacAddress: mac } : {}),
    };
  });
  cfg.mode = recs[0]?.Name ?? mode;
  return cfg;
}

/** The record's network requests, for the backend (each network looked up now: it may have gone). */
async function attachRequests(rec: ContainerRecord): Promise<AttachRequest[]> {
  const out: AttachRequest[] = [];
  for (const [name, ep] of Object.entries(rec.Networks ?? { [DEFAULT_NETWORK]: { Aliases: null, IPAMConfig: null } })) {
    const network: NetworkRecord = name === DEFAULT_NETWORK ? await defaultNetwork() : findNetwork(name);
    const ip = ep.IPAMConfig?.IPv4Address;
    out.push({
      network,
      aliases: ep.Aliases ?? [],
      ...(ip ? { staticIp: parseStaticIp(ip) } : {}),
      ...(ep.MacAddress ? { mac: ep.MacAddress } : {}),
    });
  }
  return out;
}

function readHostFile(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** /etc/hosts and resolv.conf of the container for this start (Docker writes them at each start). */
function writeFiles(rec: ContainerRecord, p: { addresses: string[]; hostGateway: string; resolv: { mode: 'host' | 'legacy' | 'internal'; internalNs?: string } }): void {
  const f = containerFiles(rec.Id);
  const hc = rec.HostConfig;
  const extra = (hc.ExtraHosts ?? []).map((h) => {
    const i = h.indexOf(':');
    const ip = h.slice(i + 1);
    return { host: h.slice(0, i), ip: ip === HOST_GATEWAY ? p.hostGateway : ip };
  });
  const hostsText = rec.HostConfig.NetworkMode === 'host' && !extra.length
    ? (readHostFile('/etc/hosts') ?? '')
    : hostsFile({ hostname: rec.Config.Hostname, domainname: rec.Config.Domainname, addresses: p.addresses, extraHosts: extra, ipv6: false });
  const hostPath = hostResolvPath();
  const host = parseResolvConf(readHostFile(hostPath) ?? '', hostPath);
  const resolv = containerResolvConf(host, {
    mode: p.resolv.mode, ...(p.resolv.internalNs ? { internalNs: p.resolv.internalNs } : {}),
    dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [], dnsOptions: hc.DnsOptions ?? [], ipv6: false,
  });
  fs.writeFileSync(f.hosts, hostsText, { mode: 0o644 });
  fs.writeFileSync(f.resolv, resolv.content, { mode: 0o644 });
}

/**
 * The spec with this start's network, replaced by a rename: a temporary file in the container's own
 * dir (not the store's tmp/), so a CLI killed here leaves nothing that outlives the container.
 */
function writeSpec(file: string, spec: OciSpec): void {
  fs.writeFileSync(`${file}.net`, JSON.stringify(spec), { mode: 0o644 });
  fs.renameSync(`${file}.net`, file);
}

/** The published ports a start forwards (-p, and -P's exposed ports). */
export function startForwards(rec: ContainerRecord) {
  const given: PortMap = {};
  for (const [k, v] of Object.entries(rec.HostConfig.PortBindings ?? {})) given[k] = v.map((b) => ({ HostIp: b.HostIp ?? '', HostPort: b.HostPort ?? '' }));
  return forwardsOf(effectiveBindings(given, rec.Config.ExposedPorts ?? {}, rec.HostConfig.PublishAllPorts ?? false));
}

export interface StartedNetwork {
  /** the networks whose leases this process holds (to hand to the monitor) */
  networks: string[];
  prepared?: Prepared;
}

/**
 * Before the shim starts the container: its network prepared and written into its spec (`read`: the
 * spec as this start has it, the same as its file; else read here). Addresses are held by this
 * process until handOver() or its exit.
 */
export async function startNetwork(rec: ContainerRecord, read?: OciSpec): Promise<StartedNetwork> {
  const mode = rec.HostConfig.NetworkMode;
  const f = containerFiles(rec.Id);
  if (mode === 'host' || mode === 'none') {
    // none: the hostname on 127.0.1.1, as skiff always wrote it (and Podman with --network=none)
    writeFiles(rec, { addresses: mode === 'none' ? ['127.0.1.1'] : [], hostGateway: '', resolv: { mode: mode === 'host' ? 'host' : 'legacy' } });
    return { networks: [] };
  }
  fs.rmSync(f.network, { force: true });
  // the spec as the caller read (and wrote) it at this start, else from its file
  const spec = read ?? (JSON.parse(fs.readFileSync(f.spec, 'utf8')) as OciSpec);
  delete spec.skiff.network;
  delete spec.skiff.networkStatusFile;
  if (mode.startsWith('container:')) {
    const other = findContainer(mode.slice('container:'.length));
    const { livePid } = await import('./state.js');
    const pid = livePid(other.Id);
    if (pid === undefined) throw new SkiffError('ESTATE', `cannot join network namespace of a non running container: container ${other.Id} is not running`);
    const ns = spec.linux.namespaces.find((n) => n.type === 'network');
    if (ns) ns.path = `/proc/${pid}/ns/net`;
    joinOwnerUserns(spec, pid);
    const of = containerFiles(other.Id);
    fs.copyFileSync(of.hosts, f.hosts);
    fs.copyFileSync(of.resolv, f.resolv);
    writeSpec(f.spec, spec);
    return { networks: [] };
  }
  const backend = await backendFor();
  // a container whose shim's child still deletes its links is left to a later sweep: this start needs none of that
  await backend.sweep(undefined, { wait: false });
  mark('net-sweep');
  const prepared = await backend.prepare({
    containerId: rec.Id,
    name: rec.Name,
    networks: await attachRequests(rec),
    forwards: startForwards(rec),
    holder: holderOf(),
  });
  mark('net-prepare');
  try {
    writeFiles(rec, { addresses: prepared.addresses.length ? prepared.addresses : ['127.0.1.1'], hostGateway: prepared.hostGateway, resolv: prepared.resolv });
    spec.skiff.network = prepared.plan;
    spec.skiff.networkStatusFile = f.network;
    writeSpec(f.spec, spec);
  } catch (e) {
    await backend.teardown(rec.Id).catch(() => undefined);
    throw e;
  }
  mark('net-files');
  return { networks: prepared.leases.map((l) => l.network), prepared };
}

/** run -d: the monitor holds the container's addresses from now on (best effort: a monitor gone already leaves them stale). */
export async function handOver(rec: ContainerRecord, started: StartedNetwork, monitorPid: number): Promise<void> {
  if (!started.networks.length) return;
  let holder;
  try {
    holder = holderOf(monitorPid);
  } catch {
    return;
  }
  await setHolder(started.networks, rec.Id, holder);
}

/** A start that failed, or a removed container: its addresses (and whatever its shim left) freed. */
export async function releaseNetwork(rec: ContainerRecord): Promise<void> {
  const mode = rec.HostConfig.NetworkMode;
  if (!isBridgeLike(mode) || !listNetworks().length) return;
  const backend = await backendFor();
  await backend.teardown(rec.Id);
}

/** The status the shim wrote at the container's last start (interfaces, ports), if any. */
export function networkStatus(rec: ContainerRecord): NetworkStatus | undefined {
  const text = readHostFile(containerFiles(rec.Id).network);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as NetworkStatus;
  } catch {
    return undefined;
  }
}

/** Docker's NetworkSettings.Ports of a running container: bound ports, and null for exposed ones without a binding. */
export function portMap(rec: ContainerRecord, running: boolean): Record<string, { HostIp: string; HostPort: string }[] | null> {
  if (!running) return {};
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const k of Object.keys(rec.Config.ExposedPorts ?? {})) out[k] = null;
  const st = isBridgeLike(rec.HostConfig.NetworkMode) ? networkStatus(rec) : undefined;
  for (const p of st?.ports ?? []) (out[`${p.containerPort}/${p.proto}`] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  if (rec.Rootless && isBridgeLike(rec.HostConfig.NetworkMode)) {
    // pasta forwards what the plan asked for (ports chosen at start are in its arguments)
    for (const f of pastaForwards(rec)) (out[`${f.containerPort}/${f.proto}`] ??= []).push({ HostIp: f.hostIp || '0.0.0.0', HostPort: String(f.hostPort) });
  }
  return out;
}

/** The forwards in a rootless container's pasta arguments ("-t [ADDR/]HOST:CTR"). */
function pastaForwards(rec: ContainerRecord): { proto: 'tcp' | 'udp'; hostIp: string; hostPort: number; containerPort: number }[] {
  let spec: OciSpec;
  try {
    spec = JSON.parse(fs.readFileSync(containerFiles(rec.Id).spec, 'utf8')) as OciSpec;
  } catch {
    return [];
  }
  const args = spec.skiff.network?.pasta?.args ?? [];
  const out: { proto: 'tcp' | 'udp'; hostIp: string; hostPort: number; containerPort: number }[] = [];
  for (let i = 0; i + 1 < args.length; i++) {
    if (args[i] !== '-t' && args[i] !== '-u') continue;
    const m = /^(?:([^/]+)\/)?(\d+):(\d+)$/.exec(args[i + 1]!);
    if (m) out.push({ proto: args[i] === '-t' ? 'tcp' : 'udp', hostIp: m[1] ?? '', hostPort: Number(m[2]), containerPort: Number(m[3]) });
  }
  return out;
}

/** `ps`'s PORTS column (Docker's DisplayablePorts): "127.0.0.1:8080->80/tcp, 81/tcp". */
export function portsText(rec: ContainerRecord, running: boolean): string {
  const items: { key: string; port: number; text: string }[] = [];
  for (const [key, binds] of Object.entries(portMap(rec, running))) {
    const port = Number(key.split('/')[0]);
    if (!binds) items.push({ key, port, text: key });
    else for (const b of binds) items.push({ key, port, text: `${b.HostIp}:${b.HostPort}->${key}` });
  }
  return items.sort((a, b) => a.port - b.port || a.text.localeCompare(b.text)).map((i) => i.text).join(', ');
}

/** Docker's NetworkSettings for inspect: the interfaces the shim reported at this start (while running). */
export function networkSettings(rec: ContainerRecord, running: boolean, pid: number | undefined): Record<string, unknown> {
  const mode = rec.HostConfig.NetworkMode;
  const st = running && isBridgeLike(mode) ? networkStatus(rec) : undefined;
  const empty = {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '',
    IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
  const networks: Record<string, unknown> = {};
  const eps = isBridgeLike(mode) ? (rec.Networks ?? { [DEFAULT_NETWORK]: { Aliases: null, IPAMConfig: null } }) : { [mode.startsWith('container:') ? mode : mode]: undefined };
  for (const [name, ep] of Object.entries(eps)) {
    if (mode.startsWith('container:')) break;
    const ifc = st?.interfaces.find((i) => i.network === name);
    const netRec = isBridgeLike(mode) ? listNetworks().find((n) => n.Name === name) : undefined;
    networks[name] = {
      ...empty,
      IPAMConfig: ep?.IPAMConfig ?? null,
      Aliases: ep?.Aliases ?? null,
      NetworkID: netRec?.Id ?? '',
      ...(ifc
        ? {
            MacAddress: ifc.mac, EndpointID: ifc.hostName, Gateway: ifc.gateway, IPAddress: ifc.address, IPPrefixLen: ifc.prefixLen,
            DNSNames: netRec?.DNS ? [rec.Name, rec.Id.slice(0, 12), ...(ep?.Aliases ?? [])] : null,
          }
        : {}),
    };
  }
  const first = st?.interfaces[0];
  return {
    Bridge: '', SandboxID: '', SandboxKey: running && mode !== 'host' && pid ? `/proc/${pid}/ns/net` : '',
    Ports: portMap(rec, running), HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null, EndpointID: first?.hostName ?? '', Gateway: first?.gateway ?? '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    IPAddress: first?.address ?? '', IPPrefixLen: first?.prefixLen ?? 0, IPv6Gateway: '', MacAddress: first?.mac ?? '',
    Networks: networks,
  };
}

/** The monitor (or foreground shim) holding a running container's network: the holder of its leases. */
function runningHolder(rec: ContainerRecord): { pid: number; holder: ReturnType<typeof holderOf> } | undefined {
  for (const n of listNetworks()) {
    const l = leasesOf(n.Name).find((x) => x.container === rec.Id && holderAlive(x));
    if (l?.holder) return { pid: l.holder.pid, holder: l.holder };
  }
  return undefined;
}

/** Rootless: pasta's namespace (the default network) and the rootless network namespace's bridges (user networks) do not mix. */
const ROOTLESS_MIX = 'rootless containers cannot be on the default network (pasta) and on user-defined networks at once: choose one or the other';

/**
 * `network connect`: recorded for the container's next starts, and set up now in a running one (a
 * new interface, its address held by the container's monitor).
 */
export async function connectNetwork(netRef: string, ref: string, o: { aliases: string[]; ip?: string }): Promise<void> {
  const rec = findContainer(ref);
  const mode = rec.HostConfig.NetworkMode;
  if (!isBridgeLike(mode)) throw new SkiffError('EINVAL', `container cannot be disconnected from host network or connected to host network`, 1);
  const network = netRef === DEFAULT_NETWORK ? await defaultNetwork() : findNetwork(netRef);
  const eps = { ...(rec.Networks ?? { [DEFAULT_NETWORK]: { Aliases: null, IPAMConfig: null } }) };
  if (rec.Rootless && (network.Default || DEFAULT_NETWORK in eps)) throw new SkiffError('EINVAL', ROOTLESS_MIX, 1);
  if (eps[network.Name]) throw new SkiffError('ECONFLICT', `endpoint with name ${rec.Name} already exists in network ${network.Name}`, 1);
  checkAliases(o.aliases, !network.Default);
  let staticIp: number | undefined;
  if (o.ip !== undefined) {
    staticIp = parseStaticIp(o.ip);
    checkStaticIp(staticIp, { name: network.Name, userDefined: !network.Default, subnet: parsePrefix(network.IPAM.Config[0]!.Subnet)!, subnetStatic: network.SubnetStatic });
  }
  const ep: EndpointConfig = { Aliases: o.aliases.length ? [...o.aliases] : null, IPAMConfig: o.ip ? { IPv4Address: o.ip.trim() } : null };
  const { containerState } = await import('./state.js');
  const st = containerState(rec);
  if (st.Running && st.Pid) {
    const held = runningHolder(rec);
    if (!held) throw new SkiffError('ESTATE', `container ${rec.Name} has no network this command can extend (its monitor holds none)`, 1);
    const backend = await backendFor();
    const index = Object.keys(eps).length;
    const prepared = await backend.prepare({
      containerId: rec.Id, name: rec.Name, holder: held.holder, forwards: [],
      networks: [{ network, aliases: o.aliases, ...(staticIp !== undefined ? { staticIp } : {}) }],
    });
    // the new interface is the container's ethN (N: its networks so far), without the default route
    const ifc = prepared.plan.interfaces[0]!;
    const lease = prepared.leases[0]!.lease;
    const name = `eth${index}`;
    const hostName = `sk${rec.Id.slice(0, 12)}${index.toString(36)}`;
    Object.assign(ifc, { name, hostName, defaultRoute: false });
    await setLeaseNames(network.Name, rec.Id, name, hostName);
    Object.assign(lease, { ifName: name, hostIf: hostName });
    try {
      await backend.setup(prepared, st.Pid);
    } catch (e) {
      await backend.teardown(rec.Id, [network.Name]).catch(() => undefined);
      throw e;
    }
  }
  await writeRecord({ ...rec, Networks: { ...eps, [network.Name]: ep } });
  recordEvent('network', 'connect', network.Id, { container: rec.Id, name: network.Name, type: network.Driver });
}

/** `network disconnect`: gone from the record, and from a running container now (its interface and address). */
export async function disconnectNetwork(netRef: string, ref: string): Promise<void> {
  const rec = findContainer(ref);
  const network = netRef === DEFAULT_NETWORK ? await defaultNetwork() : findNetwork(netRef);
  const eps = { ...(rec.Networks ?? (isBridgeLike(rec.HostConfig.NetworkMode) ? { [DEFAULT_NETWORK]: { Aliases: null, IPAMConfig: null } } : {})) };
  if (!eps[network.Name]) throw new SkiffError('EINVAL', `container ${rec.Id} is not connected to network ${network.Name}`, 1);
  const backend = await backendFor();
  await backend.teardown(rec.Id, [network.Name]);
  delete eps[network.Name];
  const names = Object.keys(eps);
  await writeRecord({ ...rec, Networks: eps, HostConfig: { ...rec.HostConfig, NetworkMode: names.length ? (names.includes(rec.HostConfig.NetworkMode) ? rec.HostConfig.NetworkMode : names[0]!) : 'none' } });
  recordEvent('network', 'disconnect', network.Id, { container: rec.Id, name: network.Name, type: network.Driver });
}
