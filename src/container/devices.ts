/**
 * A container's devices: the nodes made in its /dev (OCI `linux.devices`) and the device cgroup
 * policy (OCI `linux.resources.devices`) that decides which devices it may open or mknod, whatever
 * nodes its rootfs holds (an image layer can hold any). The shim applies the policy to the
 * container's cgroups (addon/shim/devices.c: v1 devices.deny/allow, v2 a BPF device program).
 *
 *   - default: deny everything, then allow Docker's default set (runc's AllowedDevices: what
 *     Docker with runc and Podman with crun give).
 *   - `--device HOST[:CONTAINER[:PERMS]]`: the host's node (or every node under a host directory)
 *     made in the container, and allowed with PERMS (default rwm), as Docker's daemon does.
 *   - `--device-cgroup-rule 'TYPE MAJOR:MINOR ACCESS'`: one more allow rule.
 *   - `--privileged`: every device of the host's /dev, and every device allowed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import type { DeviceMapping } from '../store/containers.js';

/** OCI linux.devices[]: a node the runtime makes in the container. */
export interface OciDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

/** OCI linux.resources.devices[]: one device cgroup rule (absent major/minor: any; type a: any device). */
export interface OciDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'b' | 'c';
  major?: number;
  minor?: number;
  access?: string;
}

/** The nodes and rules `--device` gives (resolved against the host's /dev when the container is created). */
export interface ResolvedDevices {
  devices: OciDevice[];
  rules: OciDeviceCgroup[];
}

const rule = (type: 'b' | 'c', major: number | undefined, minor: number | undefined, access: string): OciDeviceCgroup => ({
  allow: true,
  type,
  ...(major === undefined ? {} : { major }),
  ...(minor === undefined ? {} : { minor }),
  access,
});

/**
 * runc's AllowedDevices (libcontainer/specconv), which Docker relies on, and crun's default list:
 * mknod of any node (opening it is another matter), null, random, full, tty, zero, urandom,
 * console, the container's ptys and ptmx, and /dev/net/tun (kept by runc for compatibility).
 */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceCgroup[] = [
  rule('c', undefined, undefined, 'm'),
  rule('b', undefined, undefined, 'm'),
  rule('c', 1, 3, 'rwm'), // null
  rule('c', 1, 8, 'rwm'), // random
  rule('c', 1, 7, 'rwm'), // full
  rule('c', 5, 0, 'rwm'), // tty
  rule('c', 1, 5, 'rwm'), // zero
  rule('c', 1, 9, 'rwm'), // urandom
  rule('c', 5, 1, 'rwm'), // console
  rule('c', 136, undefined, 'rwm'), // pts/*
  rule('c', 5, 2, 'rwm'), // ptmx
  rule('c', 10, 200, 'rwm'), // net/tun
];

/** Docker's validDeviceMode: a non-empty combination of r, w and m, each at most once. */
const validMode = (m: string): boolean => m.length > 0 && m.length <= 3 && /^[rwm]+$/.test(m) && new Set(m).size === m.length;

/** `--device` as Docker's CLI parses and validates it (opts.ValidateDevice, parseDevice). */
export function parseDevice(spec: string): DeviceMapping {
  const bad = (why: string): never => {
    throw new SkiffError('EINVAL', `invalid argument "${spec}" for "--device" flag: ${why}`);
  };
  const parts = spec.split(':');
  if (parts.length > 3 || parts[0] === '') bad(`bad format for path: ${spec}`);
  const host = parts[0]!;
  let dst = host;
  let perms = 'rwm';
  if (parts.length === 2) {
    if (validMode(parts[1]!)) perms = parts[1]!;
    else dst = parts[1]!;
  } else if (parts.length === 3) {
    dst = parts[1]!;
    perms = parts[2]!;
    if (!validMode(perms)) bad(`bad mode specified: ${perms}`);
  }
  if (!path.posix.isAbsolute(dst)) bad(`${dst} is not an absolute path`);
  // Go's path.Clean
  const clean = path.posix.normalize(dst).replace(/(.)\/+$/, '$1');
  return { PathOnHost: host, PathInContainer: clean, CgroupPermissions: perms };
}

const CGROUP_RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** `--device-cgroup-rule` as Docker's CLI validates and its daemon converts it. */
export function parseDeviceCgroupRule(text: string): OciDeviceCgroup {
  const m = CGROUP_RULE.exec(text);
  if (!m) throw new SkiffError('EINVAL', `invalid argument "${text}" for "--device-cgroup-rule" flag: invalid device cgroup format '${text}'`);
  const num = (s: string): number | undefined => (s === '*' ? undefined : Number(s));
  const [, type, major, minor, access] = m as unknown as [string, 'a' | 'b' | 'c', string, string, string];
  if ((num(major) ?? 0) > 0xfffff || (num(minor) ?? 0) > 0xfffff) {
    throw new SkiffError('EINVAL', `invalid device cgroup rule '${text}': device numbers go up to ${0xfffff}`);
  }
  return { allow: true, type, ...(num(major) === undefined ? {} : { major: num(major) }), ...(num(minor) === undefined ? {} : { minor: num(minor) }), access };
}

/** A host device node as OCI describes it, or undefined when `p` is not one. */
function deviceAt(p: string, inContainer: string): OciDevice | undefined {
  const st = fs.statSync(p, { bigint: true });
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  const r = st.rdev;
  return {
    path: inContainer,
    type: st.isCharacterDevice() ? 'c' : 'b',
    major: Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn)),
    minor: Number((r & 0xffn) | ((r >> 12n) & ~0xffn)),
    fileMode: Number(st.mode & 0o777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

/**
 * Docker's DevicesFromPath: the host's node (a symlink is followed), or every node under a host
 * directory (placed under CONTAINER the same way), each allowed with the mapping's permissions.
 */
export function resolveDevice(m: DeviceMapping): ResolvedDevices {
  const out: ResolvedDevices = { devices: [], rules: [] };
  const add = (d: OciDevice): void => {
    out.devices.push(d);
    out.rules.push(rule(d.type, d.major, d.minor, m.CgroupPermissions));
  };
  const fail = (why: string): never => {
    throw new SkiffError('EINVAL', `error gathering device information while adding custom device "${m.PathOnHost}": ${why}`);
  };
  let host: string;
  try {
    host = fs.realpathSync(m.PathOnHost);
  } catch (e) {
    return fail(errnoText(e));
  }
  let d: OciDevice | undefined;
  try {
    d = deviceAt(host, m.PathInContainer);
  } catch (e) {
    return fail(errnoText(e));
  }
  if (d) {
    add(d);
    return out;
  }
  if (fs.statSync(host).isDirectory()) {
    const walk = (dir: string): void => {
      for (const n of fs.readdirSync(dir).sort()) {
        const p = path.join(dir, n);
        const st = fs.lstatSync(p);
        if (st.isDirectory()) walk(p);
        else if (st.isCharacterDevice() || st.isBlockDevice()) add(deviceAt(p, path.posix.join(m.PathInContainer, path.relative(host, p)))!);
      }
    };
    walk(host);
  }
  if (!out.devices.length) fail('not a device node');
  return out;
}

/** Node's error for a failed call, in the words of strerror (what Docker prints). */
function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', ENOTDIR: 'not a directory', ELOOP: 'too many levels of symbolic links' };
  return (code && words[code]) ?? (e as Error).message;
}

/** --device and --device-cgroup-rule, validated and resolved (throws one SkiffError for the first bad one). */
export function resolveDevices(devices: string[], cgroupRules: string[]): { mappings: DeviceMapping[]; resolved: ResolvedDevices } {
  const mappings = devices.map(parseDevice);
  const rules = cgroupRules.map(parseDeviceCgroupRule);
  const resolved: ResolvedDevices = { devices: [], rules: [] };
  for (const m of mappings) {
    const r = resolveDevice(m);
    resolved.devices.push(...r.devices);
    resolved.rules.push(...r.rules);
  }
  resolved.rules.push(...rules);
  return { mappings, resolved };
}

/**
 * --privileged: every character and block device of the host's /dev filesystem (not the pts, shm,
 * mqueue mounts under it), as Podman and Docker give; not /dev/console and /dev/ptmx, which the
 * container has of its own. Rootless, the shim binds them from the host (their owners are then the
 * overflow ids) and the virtual consoles are left out, as Podman does.
 */
export function hostDevices(rootless: boolean, root = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  const top = fs.statSync(root).dev;
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const p = path.join(dir, n);
      if (p === '/dev/console' || p === '/dev/ptmx') continue;
      // rootless Podman (4.3) leaves out the host's virtual consoles and serial lines
      if (rootless && /^\/dev\/ttyS?\d+$/.test(p)) continue;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        continue;
      }
      if (st.dev !== top) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isCharacterDevice() || st.isBlockDevice()) {
        try {
          out.push(deviceAt(p, p)!);
        } catch {
          /* gone meanwhile */
        }
      }
    }
  };
  walk(root);
  return out;
}

/** The container's device nodes and device cgroup policy (OCI linux.devices, linux.resources.devices). */
export function devicePolicy(privileged: boolean, rootless: boolean, requested: ResolvedDevices | undefined): { devices: OciDevice[]; rules: OciDeviceCgroup[] } {
  if (privileged) return { devices: hostDevices(rootless), rules: [{ allow: true, access: 'rwm' }] };
  return {
    devices: requested?.devices ?? [],
    rules: [{ allow: false, access: 'rwm' }, ...(requested?.rules ?? []), ...DEFAULT_DEVICE_RULES],
  };
}
