/**
 * The other network options of run/create, checked as Docker's CLI and daemon check them (same
 * words): --add-host, --dns, --dns-search, --dns-option, --mac-address, --ip, --network-alias, and
 * network names. Each returns the normalised value or throws a SkiffError (EINVAL, exit 125).
 */
import { SkiffError } from '../errors.js';
import { contains, formatIPv4, parseIPv4, type Prefix } from './ipv4.js';
import { isIP } from './ports.js';

const bad = (msg: string): SkiffError => new SkiffError('EINVAL', msg);
/** pflag's wrapping of a flag value's error */
const flagError = (flag: string, value: string, msg: string): SkiffError =>
  bad(`invalid argument ${JSON.stringify(value)} for "--${flag}" flag: ${msg}`);

export const HOST_GATEWAY = 'host-gateway';

/** opts.ValidateExtraHost: "name:ip" or "name=ip", [ip] brackets, or host-gateway → "name:ip". */
export function parseAddHost(val: string): { host: string; ip: string } {
  let sep = val.indexOf('=');
  if (sep < 0) sep = val.indexOf(':');
  const k = sep < 0 ? '' : val.slice(0, sep);
  let v = sep < 0 ? '' : val.slice(sep + 1);
  if (sep < 0 || k === '' || k.includes(':')) throw flagError('add-host', val, `bad format for add-host: ${JSON.stringify(val)}`);
  if (v !== HOST_GATEWAY) {
    if (v.length > 2 && v[0] === '[' && v[v.length - 1] === ']') v = v.slice(1, -1);
    if (!isIP(v.trim())) throw flagError('add-host', val, `invalid IP address in add-host: ${JSON.stringify(v)}`);
  }
  return { host: k, ip: v };
}

/** opts.ValidateIPAddress for --dns: the address (IPv4 canonical; IPv6 as given, lowercased). */
export function parseDnsServer(val: string): string {
  const v = val.trim();
  const v4 = parseIPv4(v);
  if (v4 !== undefined) return formatIPv4(v4);
  if (isIP(v)) return v.toLowerCase();
  throw flagError('dns', val, `IP address is not correctly formatted: ${val}`);
}

const ALPHA = /[a-zA-Z]/;
const DOMAIN = /^((?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*)\.?\s*$/;

/** opts.ValidateDNSSearch: a domain, or "." (no search domains). */
export function parseDnsSearch(val: string): string {
  const v = val.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  const m = ALPHA.test(v) ? DOMAIN.exec(v) : null;
  if (!m || m[1]!.length >= 255) throw flagError('dns-search', val, `${v} is not a valid domain`);
  return m[1]!;
}

/** A 48-bit MAC ("02:42:ac:11:00:02", with '-' or as "0242.ac11.0002") in the colon form, lowercase. */
export function parseMac(val: string): string {
  const v = val.trim();
  let hex: string | undefined;
  if (/^[0-9a-fA-F]{2}([:-])([0-9a-fA-F]{2}\1){4}[0-9a-fA-F]{2}$/.test(v)) hex = v.replace(/[:-]/g, '');
  else if (/^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(v)) hex = v.replace(/\./g, '');
  if (!hex) throw bad(`${val} is not a valid mac address`);
  return hex.toLowerCase().match(/../g)!.join(':');
}

/** --ip as pflag parses it; IPv4 only here (the daemon's "invalid IPv4 address" for the rest). */
export function parseStaticIp(val: string): number {
  const v = val.trim();
  if (!isIP(v)) throw flagError('ip', val, `failed to parse IP: ${JSON.stringify(val)}`);
  const a = parseIPv4(v);
  if (a === undefined || a === 0) throw bad(`invalid endpoint settings: invalid IPv4 address: ${val}`);
  return a;
}

/**
 * The daemon's checks of a static address on a network: user-defined networks only, with a subnet
 * the user configured, and inside it (validateEndpointSettings / validateEndpointIPAddress).
 */
export function checkStaticIp(ip: number, network: { name: string; userDefined: boolean; subnet: Prefix; subnetStatic: boolean }): void {
  if (!network.userDefined) throw bad('invalid endpoint settings: user specified IP address is supported on user defined networks only');
  if (!network.subnetStatic) {
    throw bad('invalid endpoint settings: user specified IP address is supported only when connecting to networks with user configured subnets');
  }
  if (!contains(network.subnet, ip)) {
    throw bad(`invalid endpoint settings: no configured subnet or ip-range contain the IP address ${formatIPv4(ip)}`);
  }
}

/** --network-alias only on user-defined networks (runconfig.ErrUnsupportedNetworkAndAlias). */
export function checkAliases(aliases: string[], userDefined: boolean): void {
  if (aliases.length && !userDefined) {
    throw bad('invalid endpoint settings: network-scoped alias is supported only for containers in user defined networks');
  }
}

/** Docker's rule for network names (and container names): [a-zA-Z0-9][a-zA-Z0-9_.-]* */
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export function checkNetworkName(name: string): void {
  if (!NETWORK_NAME.test(name)) throw bad(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
}
