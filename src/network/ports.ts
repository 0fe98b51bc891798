/**
 * Published and exposed ports, as Docker's CLI parses them (docker/cli 28.2 with its vendored
 * go-connections/nat: ParsePortSpecs, SplitProtoPort, ParsePortRange, the long --publish syntax and
 * --expose), with Docker's error words. Ports are keyed "80/tcp" as in HostConfig.PortBindings and
 * Config.ExposedPorts.
 */
import { SkiffError } from '../errors.js';
import { isIPv6, parseIPv4 } from './ipv4.js';

export type Proto = 'tcp' | 'udp' | 'sctp';

/** HostConfig.PortBindings values: HostPort "" = any free port, "8000-8010" = the first free one there. */
export interface PortBinding {
  HostIp: string;
  HostPort: string;
}
/** "80/tcp" → its bindings (HostConfig.PortBindings) */
export type PortMap = Record<string, PortBinding[]>;
/** "80/tcp" → {} (Config.ExposedPorts) */
export type PortSet = Record<string, Record<string, never>>;

const bad = (msg: string): SkiffError => new SkiffError('EINVAL', msg);
const goQuote = (s: string): string => JSON.stringify(s);

/** Go's strconv.ParseUint(s, 10, 16): the number, or the error text. */
function parseUint16(s: string): number | string {
  if (!/^[0-9]+$/.test(s)) return `strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax`;
  const v = Number(s);
  return v > 65535 ? `strconv.ParseUint: parsing ${goQuote(s)}: value out of range` : v;
}

/** nat.ParsePortRange: "80" or "8000-8010" (parts after a second '-' are ignored, as Go does). */
export function parsePortRange(ports: string): [number, number] | string {
  if (ports === '') return 'empty string specified for ports';
  if (!ports.includes('-')) {
    const v = parseUint16(ports);
    return typeof v === 'string' ? v : [v, v];
  }
  const parts = ports.split('-');
  const start = parseUint16(parts[0]!);
  if (typeof start === 'string') return start;
  const end = parseUint16(parts[1]!);
  if (typeof end === 'string') return end;
  if (end < start) return `invalid range specified for port: ${ports}`;
  return [start, end];
}

/** nat.SplitProtoPort: "80/udp" → ["udp", "80"]; no protocol → tcp; "" → ["", ""]. */
export function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw === '' || parts[0] === '') return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1] === '') return ['tcp', parts[0]!];
  return [parts[1]!, parts[0]!];
}

function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  const ctr = parts[n - 1]!;
  if (n === 1) return ['', '', ctr];
  if (n === 2) return ['', parts[0]!, ctr];
  if (n === 3) return [parts[0]!, parts[1]!, ctr];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2]!, ctr];
}

/** Go's net.ParseIP: dotted IPv4 (no leading zeros) or IPv6 without a zone. */
export const isIP = (s: string): boolean => parseIPv4(s) !== undefined || isIPv6(s);

/** Go's net.SplitHostPort(ip + ":") for a bracketed address: the address, or Go's error text. */
function stripBrackets(ip: string): string | { error: string } {
  const hostport = `${ip}:`;
  const addrErr = (why: string): { error: string } => ({ error: `address ${hostport}: ${why}` });
  const end = hostport.indexOf(']');
  if (end < 0) return addrErr("missing ']' in address");
  const last = hostport.lastIndexOf(':');
  if (end + 1 === hostport.length) return addrErr('missing port in address');
  if (end + 1 !== last) return addrErr(hostport[end + 1] === ':' ? 'too many colons in address' : 'missing port in address');
  const host = hostport.slice(1, end);
  if (hostport.slice(1).includes('[')) return addrErr("unexpected '[' in address");
  if (hostport.slice(end + 1).includes(']')) return addrErr("unexpected ']' in address");
  return host;
}

export interface PortMapping {
  port: string;
  binding: PortBinding;
}

/** nat.ParsePortSpec: "[ip:][hostPort:]containerPort[/proto]" → one mapping per container port. */
export function parsePortSpec(raw: string): PortMapping[] {
  let [ip, hostPort, containerPort] = splitParts(raw);
  const [proto, ctr] = splitProtoPort(containerPort);
  containerPort = ctr;
  if (ip !== '' && ip[0] === '[') {
    const r = stripBrackets(ip);
    if (typeof r !== 'string') throw bad(`invalid IP address ${ip}: ${r.error}`);
    ip = r;
  }
  if (ip !== '' && !isIP(ip)) throw bad(`invalid IP address: ${ip}`);
  if (containerPort === '') throw bad(`no port specified: ${raw}<empty>`);
  const cr = parsePortRange(containerPort);
  if (typeof cr === 'string') throw bad(`invalid containerPort: ${containerPort}`);
  const [start, end] = cr;
  let [hstart, hend] = [0, 0];
  if (hostPort.length > 0) {
    const hr = parsePortRange(hostPort);
    if (typeof hr === 'string') throw bad(`invalid hostPort: ${hostPort}`);
    [hstart, hend] = hr;
  }
  if (hostPort !== '' && end - start !== hend - hstart && end !== start) {
    throw bad(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  const p = proto.toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(p)) throw bad(`invalid proto: ${proto}`);
  const out: PortMapping[] = [];
  for (let i = 0; i <= end - start; i++) {
    let hp = hostPort.length > 0 ? String(hstart + i) : hostPort;
    // a single container port with a host range: the host range is where to pick a free port
    if (start === end && hstart !== hend) hp = `${hp}-${hend}`;
    out.push({ port: `${start + i}/${p}`, binding: { HostIp: ip, HostPort: hp } });
  }
  return out;
}

/** The long syntax (`--publish published=8080,target=80,protocol=udp`) in the short one, as the CLI does. */
export function toStandardNotation(publish: string[]): string[] {
  return publish.map((p) => {
    if (!p.includes('=')) return p;
    const params: Record<string, string> = { protocol: 'tcp' };
    for (const param of p.split(',')) {
      const eq = param.indexOf('=');
      if (eq <= 0) throw bad(`invalid publish opts format (should be name=value but got '${param}')`);
      params[param.slice(0, eq)] = param.slice(eq + 1);
    }
    return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`;
  });
}

/** nat.ParsePortSpecs over -p/--publish values: the exposed ports and the bindings. */
export function parsePublish(publish: string[]): { exposed: PortSet; bindings: PortMap } {
  const exposed: PortSet = {};
  const bindings: PortMap = {};
  for (const raw of toStandardNotation(publish)) {
    for (const m of parsePortSpec(raw)) {
      exposed[m.port] = {};
      (bindings[m.port] ??= []).push(m.binding);
    }
  }
  return { exposed, bindings };
}

/** --expose values ("80", "8000-8010/udp") → port keys, with the CLI's errors. */
export function parseExpose(expose: string[]): string[] {
  const out: string[] = [];
  for (const e of expose) {
    if (e.includes(':')) throw bad(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    const r = parsePortRange(port);
    if (typeof r === 'string') throw bad(`invalid range format for --expose: ${e}, error: ${r}`);
    for (let i = r[0]; i <= r[1]; i++) out.push(`${i}/${proto}`);
  }
  return out;
}

/** A port key's number and protocol ("80/tcp" → [80, "tcp"]; an image's "80" is tcp). */
export function portKey(key: string): [number, Proto] {
  const [proto, port] = splitProtoPort(key);
  const r = parsePortRange(port);
  if (typeof r === 'string' || !['tcp', 'udp', 'sctp'].includes(proto)) throw bad(`invalid port ${key}`);
  return [r[0], proto as Proto];
}

/**
 * The bindings a start applies: the given ones, and with -P (PublishAllPorts) one to any free host
 * port for every exposed port (image EXPOSE, --expose, -p) that has none.
 */
export function effectiveBindings(bindings: PortMap, exposed: PortSet, publishAll: boolean): PortMap {
  const out: PortMap = {};
  for (const [k, v] of Object.entries(bindings)) out[k] = v.map((b) => ({ ...b }));
  if (publishAll) for (const k of Object.keys(exposed)) if (!out[k]?.length) out[k] = [{ HostIp: '', HostPort: '' }];
  return out;
}

/** One host-port forward for the plan: HostPort "" → any port (0), a range → the first free one in it. */
export interface Forward {
  proto: Proto;
  hostIp: string;
  hostPort: number;
  hostPortEnd: number;
  containerPort: number;
}

export function forwardsOf(bindings: PortMap): Forward[] {
  const out: Forward[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const [containerPort, proto] = portKey(key);
    for (const b of list) {
      let hostPort = 0;
      let hostPortEnd = 0;
      if (b.HostPort !== '') {
        const r = parsePortRange(b.HostPort);
        if (typeof r === 'string') throw bad(`invalid hostPort: ${b.HostPort}`);
        [hostPort, hostPortEnd] = r;
      }
      out.push({ proto, hostIp: b.HostIp, hostPort, hostPortEnd, containerPort });
    }
  }
  return out;
}
