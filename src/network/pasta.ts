/**
 * The rootless backend: pasta (Debian's passt package; what Podman uses) gives the container's
 * namespace a copy of the host's address and routes, carries its traffic through the host's sockets
 * and forwards the published ports. The holder (the shim) starts it with `-f` and keeps it as a
 * child that dies with it. The gateway address reaches the host itself (pasta maps it to the host's
 * loopback), so that is what host-gateway means here.
 * IPv4 only (`-4`), as skiff's networks are (no IPv6 in hosts/resolv.conf, host ports bound on IPv4,
 * IPv6 host addresses refused): pasta's IPv6 half (its buffers, socket pools, addresses and routes
 * copied into the namespace, NDP) is a third of its start, ~5 ms of ~20 (bench/README.md).
 * User-defined networks for rootless containers (a per-user namespace with bridges, Podman's
 * "rootless netns") are phase B; see docs/design/networking.md.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SkiffError } from '../errors.js';
import { lazyBuiltin } from '../lib/lazy.js';
import { lockFile } from '../store/layout.js';
import type { NetworkBackend, Prepared, SetupRequest } from './backend.js';
import { findHelper, type NetworkPlan } from './plan.js';
import type { Forward } from './ports.js';
import { defaultGateway } from './routes.js';
import { shimSetup } from './shim.js';

const dgram = lazyBuiltin<typeof import('node:dgram')>('node:dgram');
// node:net (~2 ms to load) only for a port check: `run` on the rootful bridge loads this module too
const net = lazyBuiltin<typeof import('node:net')>('node:net');

export function pastaPath(): string {
  const p = findHelper(['pasta'], ['/usr/bin', '/usr/local/bin'], 'SKIFF_PASTA');
  if (!p) throw new SkiffError('ERUNTIME', 'pasta not found (Debian package passt, or set SKIFF_PASTA): rootless containers need it for their network');
  return p;
}

/** pasta needs the tun device read-write; a clear line when it is missing or not usable. */
export function checkTun(dev = '/dev/net/tun'): void {
  try {
    fs.accessSync(dev, fs.constants.R_OK | fs.constants.W_OK);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not readable and writable by this user';
    throw new SkiffError(
      'ERUNTIME',
      `${dev} ${why}: rootless containers need it for their network (as root: chmod 0666 ${dev}, as Debian's udev rules and scripts/setup-debian.sh do), or use --network none`,
    );
  }
}

/** The lowest port an unprivileged process may bind (net.ipv4.ip_unprivileged_port_start). */
export function unprivilegedPortStart(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  } catch {
    return 1024;
  }
}

/** Docker's rootless words for a port below net.ipv4.ip_unprivileged_port_start. */
export function checkUnprivileged(port: number, start = unprivilegedPortStart()): void {
  if (port > 0 && port < start) {
    throw new SkiffError(
      'EINVAL',
      `cannot expose privileged port ${port}, you can add 'net.ipv4.ip_unprivileged_port_start=${port}' to /etc/sysctl.conf (currently ${start}), or choose a larger port number (>= ${start})`,
    );
  }
}

/**
 * pasta answers a container's pings through the host's ICMP echo sockets, which only the groups in
 * net.ipv4.ping_group_range may open. An empty range ("1 0", Debian's default) lets nobody: pasta's
 * ICMP half can then answer nothing, and `--no-icmp` skips setting it up (its 64 Ki-entry id table:
 * ~500 of the ~4,900 page faults of pasta's start, ~1 ms; bench/README.md). The container sees the same
 * either way: no echo reply. An unreadable or non-empty range keeps it.
 */
export function icmpArgs(range = readPingGroupRange()): string[] {
  const [low, high] = range.trim().split(/\s+/).map(Number);
  return Number.isInteger(low) && Number.isInteger(high) && low > high ? ['--no-icmp'] : [];
}

function readPingGroupRange(): string {
  try {
    return fs.readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8');
  } catch {
    return '';
  }
}

/** A free port now (the kernel's pick; pasta binds it a moment later). */
async function freePort(proto: 'tcp' | 'udp', host: string): Promise<number> {
  if (proto === 'udp') {
    const s = dgram().createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, host || '0.0.0.0', () => resolve());
    });
    const port = s.address().port;
    s.close();
    return port;
  }
  const srv = net().createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, host || '0.0.0.0', () => resolve());
  });
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * pasta's -t/-u options for the forwards ("[ADDR/]HOSTPORT:CTRPORT"), `none` when there are none.
 * A fixed host port is test-bound by the shim just before pasta starts (netsetup.c: Docker's words
 * for a taken port; a test bind here, through node:net, cost the CLI ~3-5 ms).
 */
export async function pastaPortArgs(forwards: Forward[]): Promise<string[]> {
  const args: string[] = [];
  const start = unprivilegedPortStart();
  for (const f of forwards) {
    if (f.proto === 'sctp') throw new SkiffError('EINVAL', 'publishing sctp ports is not supported');
    checkUnprivileged(f.hostPort, start);
    let host = f.hostPort;
    if (!host) host = await freePort(f.proto, f.hostIp);
    else if (f.hostPortEnd > f.hostPort) {
      // a host range for one container port: pasta takes one port, the first free one
      let found = 0;
      for (let p = f.hostPort; p <= f.hostPortEnd && !found; p++) if (await isFree(f.proto, f.hostIp, p)) found = p;
      if (!found) throw new SkiffError('ECONFLICT', `no free host port in ${f.hostPort}-${f.hostPortEnd} for ${f.containerPort}/${f.proto}`);
      host = found;
    }
    const addr = f.hostIp && f.hostIp !== '0.0.0.0' ? `${f.hostIp}/` : '';
    args.push(f.proto === 'tcp' ? '-t' : '-u', `${addr}${host}:${f.containerPort}`);
  }
  if (!forwards.some((f) => f.proto === 'tcp')) args.push('-t', 'none');
  if (!forwards.some((f) => f.proto === 'udp')) args.push('-u', 'none');
  return args;
}

async function isFree(proto: 'tcp' | 'udp', host: string, port: number): Promise<boolean> {
  if (proto === 'udp') return true; // pasta reports a taken UDP port itself
  const srv = net().createServer();
  const ok = await new Promise<boolean>((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, host || '0.0.0.0', () => resolve(true));
  });
  if (ok) await new Promise((r) => srv.close(r));
  return ok;
}

async function prepare(req: SetupRequest): Promise<Prepared> {
  if (req.networks.some((a) => !a.network.Default)) {
    throw new SkiffError('EINVAL', 'user-defined networks are not supported for rootless containers yet');
  }
  checkTun();
  const endpoint = `${req.name} (${req.containerId.slice(0, 12)})`;
  const args = ['--config-net', '-q', '-4', ...icmpArgs(), ...(await pastaPortArgs(req.forwards)), '-T', 'none', '-U', 'none'];
  const plan: NetworkPlan = {
    containerId: req.containerId,
    endpoint,
    lockFile: lockFile('networks'),
    interfaces: [],
    ports: [],
    pasta: { path: pastaPath(), args },
  };
  return { plan, leases: [], stale: [], resolv: { mode: 'legacy' }, hostGateway: defaultGateway() ?? '', addresses: [] };
}

export const pastaBackend: NetworkBackend = {
  name: 'pasta',
  prepare,
  setup: (p, target) => shimSetup(p.plan, target),
  // pasta is the holder's child and goes with it; nothing of a rootless container stays on the host
  teardown: async () => {},
  sweep: async () => [],
};
