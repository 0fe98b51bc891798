/**
 * Service ports short syntax → long form, as compose-go (Docker's nat.ParsePortSpecs):
 * `[IP:][HOST:]CONTAINER[/PROTO]` with ranges (`8000-8001:80-81`), IPv6 in brackets (`[::1]:80:80`);
 * one entry per container port (sorted as Docker sorts the port keys), mode `ingress`.
 */
import { composeError } from './errors.js';

export interface PortSpec {
  name?: string;
  mode: string;
  host_ip?: string;
  target: number;
  published?: string;
  protocol: string;
  app_protocol?: string;
}

function parseRange(s: string, what: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw composeError(`invalid ${what} port ${JSON.stringify(s)} in ${JSON.stringify(spec)}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a > 65535 || b > 65535 || b < a) throw composeError(`invalid ${what} port range ${JSON.stringify(s)} in ${JSON.stringify(spec)}`);
  return [a, b];
}

/** Splits `ip:host:container` where ip may be `[v6]` (or a bare v6 address before two more parts). */
function splitParts(raw: string): [string, string, string] {
  if (raw.startsWith('[')) {
    const close = raw.indexOf(']');
    const rest = raw.slice(close + 1);
    const parts = rest.split(':');
    if (close < 0 || parts.length !== 3 || parts[0] !== '') throw composeError(`invalid port specification ${JSON.stringify(raw)}`);
    return [raw.slice(1, close), parts[1]!, parts[2]!];
  }
  const parts = raw.split(':');
  if (parts.length === 1) return ['', '', parts[0]!];
  if (parts.length === 2) return ['', parts[0]!, parts[1]!];
  if (parts.length === 3) return [parts[0]!, parts[1]!, parts[2]!];
  // a bare IPv6 address: everything before the last two parts
  return [parts.slice(0, -2).join(':'), parts[parts.length - 2]!, parts[parts.length - 1]!];
}

export function parsePortSpec(spec: string): PortSpec[] {
  let raw = spec;
  let proto = 'tcp';
  const slash = raw.lastIndexOf('/');
  if (slash >= 0) {
    proto = raw.slice(slash + 1).toLowerCase();
    raw = raw.slice(0, slash);
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw composeError(`invalid proto: ${proto}`);
  }
  const [ip, host, container] = splitParts(raw);
  if (container === '') throw composeError(`no port specified: ${spec}<empty>`);
  const [cStart, cEnd] = parseRange(container, 'containerPort', spec);
  let hStart = 0;
  let hEnd = 0;
  if (host !== '') [hStart, hEnd] = parseRange(host, 'hostPort', spec);
  const cLen = cEnd - cStart;
  if (host !== '' && hEnd - hStart !== cLen && cLen !== 0) {
    throw composeError(`invalid ranges specified for container and host Ports: ${container} and ${host}`);
  }
  const out: PortSpec[] = [];
  for (let i = 0; i <= cLen; i++) {
    const p: PortSpec = { mode: 'ingress', target: cStart + i, protocol: proto };
    if (ip !== '') p.host_ip = ip;
    if (host !== '') p.published = cLen === 0 && hEnd !== hStart ? `${hStart}-${hEnd}` : String(hStart + i);
    out.push(p);
  }
  // Docker iterates the port keys ("80/tcp", ...) sorted as strings
  return out.sort((a, b) => (String(a.target) < String(b.target) ? -1 : String(a.target) > String(b.target) ? 1 : 0));
}
