/**
 * A container's /etc/hosts as Docker writes it (libnetwork/etchosts + Sandbox.buildHostsFile): the
 * loopback entries (IPv6 ones when the container has IPv6 on lo), the --add-host entries in order,
 * then one line per address of the container with its hostname ("name.domain name" with a domain).
 * With --network host and no --add-host: the host's own file.
 */

export interface HostsInput {
  hostname: string;
  domainname?: string;
  /** the container's own addresses (one line each); none with --network none */
  addresses: string[];
  /** --add-host entries, host-gateway already resolved */
  extraHosts: { host: string; ip: string }[];
  /** false leaves out the IPv6 lines (and IPv6 extra hosts), as Docker does when lo has no ::1 */
  ipv6: boolean;
}

const IPV4_DEFAULTS: [string, string][] = [['127.0.0.1', 'localhost']];
const IPV6_DEFAULTS: [string, string][] = [
  ['::1', 'localhost ip6-localhost ip6-loopback'],
  ['fe00::', 'ip6-localnet'],
  ['ff00::', 'ip6-mcastprefix'],
  ['ff02::1', 'ip6-allnodes'],
  ['ff02::2', 'ip6-allrouters'],
];

/** makeHostsRecs: the FQDN and the bare hostname when it has a dot. */
function ownNames(hostname: string, domainname?: string): string {
  let hosts = hostname;
  if (domainname) hosts += `.${domainname}`;
  const dot = hosts.indexOf('.');
  if (dot >= 0) hosts += ` ${hosts.slice(0, dot)}`;
  return hosts;
}

export function hostsFile(o: HostsInput): string {
  const recs: [string, string][] = [...IPV4_DEFAULTS, ...(o.ipv6 ? IPV6_DEFAULTS : [])];
  const extra: [string, string][] = o.extraHosts.map((h) => [h.ip, h.host]);
  const own = o.addresses.map((a): [string, string] => [a, ownNames(o.hostname, o.domainname)]);
  for (const r of [...extra, ...own]) if (o.ipv6 || !r[0].includes(':')) recs.push(r);
  return recs.map(([ip, names]) => `${ip}\t${names}\n`).join('');
}
