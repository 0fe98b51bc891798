/**
 * Security defaults, matching Podman 4.3 (our side-by-side peer; checked against the installed
 * podman's generated config.json and /proc/self/status): capability sets, masked and read-only
 * paths, and the `--security-opt` values Docker and Podman accept.
 */
import path from 'node:path';
import { SkiffError } from '../errors.js';

/** Linux capabilities by bit number (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40, Linux 5.9+). */
export const ALL_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;
export type Capability = (typeof ALL_CAPS)[number];

/** Podman's default_capabilities (containers.conf); CapEff 00000000800405fb. */
export const DEFAULT_CAPS: readonly Capability[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP',
  'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];

/** Docker's default set, for reference and comparisons (= Podman's + MKNOD, NET_RAW, AUDIT_WRITE); CapEff 00000000a80425fb. */
export const DOCKER_DEFAULT_CAPS: readonly Capability[] = [
  ...DEFAULT_CAPS, 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_AUDIT_WRITE',
].sort() as Capability[];

/** OCI `process.capabilities`. */
export interface CapSets {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable: string[];
  ambient: string[];
}

export interface CapabilityOptions {
  capAdd?: readonly string[] | null;
  capDrop?: readonly string[] | null;
  privileged?: boolean;
  /** uid inside the container; 0 = root. */
  user?: number;
}

const CAP_BIT: ReadonlyMap<string, number> = new Map(ALL_CAPS.map((c, i) => [c, i]));

/** `net_admin`, `CAP_NET_ADMIN`, `Cap_Net_Admin` → `CAP_NET_ADMIN`; `all` → `ALL`; unknown → EINVAL. */
export function normalizeCapability(name: string): Capability | 'ALL' {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const full = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!CAP_BIT.has(full)) throw new SkiffError('EINVAL', `invalid capability ${JSON.stringify(name.trim())}`);
  return full as Capability;
}

const normalizeList = (l: readonly string[] | null | undefined): (Capability | 'ALL')[] =>
  [...new Set((l ?? []).filter((c) => c.trim() !== '').map(normalizeCapability))];

/**
 * The container's capabilities, by Podman 4.3's rules (containers/common MergeCapabilities):
 * - base set {@link DEFAULT_CAPS}; `--cap-drop` then `--cap-add`; a name both added and dropped is an
 *   error; `--cap-add ALL` starts from every capability (then drops apply); `--cap-drop ALL` keeps
 *   only the added ones; ALL in both is an error;
 * - `--privileged`: every capability, `--cap-add`/`--cap-drop` ignored (Docker and Podman both);
 * - root: effective = permitted = bounding; inheritable and ambient empty;
 * - another user: bounding as above, and effective = permitted = inheritable = ambient = the
 *   `--cap-add` names (Podman's way to give a non-root process capabilities), within the bounding set.
 * The shim drops what the host itself lacks (e.g. CAP_SYS_RESOURCE in some sandboxes), as crun does.
 * Lists are sorted by name, as Podman writes them.
 */
export function resolveCapabilities(o: CapabilityOptions): CapSets {
  const add = normalizeList(o.capAdd);
  const drop = normalizeList(o.capDrop);
  let bounding: Capability[];
  if (o.privileged) bounding = [...ALL_CAPS];
  else if (drop.includes('ALL')) {
    if (add.includes('ALL')) throw new SkiffError('EINVAL', 'adding all caps and removing all caps not allowed');
    bounding = add as Capability[];
  } else if (add.includes('ALL')) {
    bounding = ALL_CAPS.filter((c) => !drop.includes(c));
  } else {
    const both = add.find((c) => drop.includes(c));
    if (both) throw new SkiffError('EINVAL', `capability "${both}" cannot be dropped and added`);
    bounding = [...new Set([...DEFAULT_CAPS.filter((c) => !drop.includes(c)), ...(add as Capability[])])];
  }
  bounding = [...bounding].sort();
  if ((o.user ?? 0) === 0) return { bounding, effective: [...bounding], permitted: [...bounding], inheritable: [], ambient: [] };
  const userCaps = add.includes('ALL') ? [...bounding] : bounding.filter((c) => add.includes(c));
  return { bounding, effective: [...userCaps], permitted: [...userCaps], inheritable: [...userCaps], ambient: [...userCaps] };
}

/** The `CapEff:`-style hex of /proc/self/status for a set of `CAP_*` names (16 digits). */
export function capsToHex(set: readonly string[]): string {
  let v = 0n;
  for (const c of set) {
    const n = normalizeCapability(c);
    if (n === 'ALL') for (let b = 0; b < ALL_CAPS.length; b++) v |= 1n << BigInt(b);
    else v |= 1n << BigInt(CAP_BIT.get(n)!);
  }
  return v.toString(16).padStart(16, '0');
}

/** Inverse of {@link capsToHex}: names of the bits set (unknown high bits ignored). */
export function hexToCaps(hex: string): Capability[] {
  const v = BigInt(`0x${hex.trim() || '0'}`);
  return ALL_CAPS.filter((_, b) => (v >> BigInt(b)) & 1n);
}

/**
 * Podman 4.3's masked paths, in its order (`podman inspect`/config.json of the installed podman 4.3.1;
 * newer Podman adds /proc/interrupts, /sys/devices/virtual/powercap and thermal_throttle, drops
 * /sys/dev/block). The runtime skips paths that do not exist.
 */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/selinux', '/sys/dev/block',
];
/** Podman 4.3's read-only paths (Docker's plus /proc/asound). */
export const READONLY_PATHS: readonly string[] = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** undefined: the default profile; 'unconfined'; or an absolute profile file path. */
  seccomp?: string;
  /** Patterns (Go filepath.Match syntax) of default masked/read-only paths to lift; 'ALL' lifts all. */
  unmask: string[];
  /** Extra paths to mask. */
  mask: string[];
  /** `label=` values: recorded, not applied (no SELinux here). */
  label: string[];
  /** `apparmor=` profile: recorded, not applied (no AppArmor here). */
  apparmor?: string;
}

/** Go strconv.ParseBool. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** Go's filepath.Match pattern → RegExp (`*` and `?` stop at `/`; `[...]`, `[^...]`, `\` escapes). Throws on a bad pattern. */
function globRegExp(pattern: string): RegExp {
  const esc = (ch: string): string => ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      if (++i >= pattern.length) throw new Error('trailing backslash');
      re += esc(pattern[i]!);
    } else if (ch === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      let items = 0;
      for (;;) {
        if (j >= pattern.length) throw new Error('unclosed [');
        if (pattern[j] === ']' && items > 0) break;
        let lo = pattern[j]!;
        if (lo === '\\') lo = pattern[++j] ?? '';
        if (!lo || lo === ']') throw new Error('bad character class');
        j++;
        if (pattern[j] === '-' && pattern[j + 1] !== undefined && pattern[j + 1] !== ']') {
          let hi = pattern[j + 1]!;
          j += 2;
          if (hi === '\\') hi = pattern[j++] ?? '';
          if (!hi || hi < lo) throw new Error('bad range');
          cls += `${esc(lo)}-${esc(hi)}`;
        } else cls += esc(lo);
        items++;
      }
      re += `[${cls}]`;
      i = j;
    } else re += esc(ch);
  }
  return new RegExp(`^${re}$`);
}

const bad = (o: string, why?: string): SkiffError => new SkiffError('EINVAL', `invalid --security-opt: "${o}"${why ? `: ${why}` : ''}`);

function pathList(o: string, val: string, what: 'mask' | 'unmask'): string[] {
  const list = val.split(':').filter((p) => p !== '');
  for (const p of list) {
    if (!p.startsWith('/')) throw bad(o, `${what} paths must be absolute`);
    if (what === 'unmask') {
      try {
        globRegExp(p);
      } catch (e) {
        throw bad(o, `bad pattern ${JSON.stringify(p)}: ${(e as Error).message}`);
      }
    }
  }
  return list;
}

/**
 * Parse `--security-opt` values as Podman 4.3 does (Docker's spellings included):
 * `KEY=VALUE` or the older `KEY:VALUE`; `no-new-privileges[=bool]`; `seccomp=unconfined|FILE`
 * (`builtin` or empty: the default profile); `label=...`, `apparmor=...` (recorded, no effect here);
 * `unmask=ALL|PATTERN:PATTERN`; `systempaths=unconfined` (= unmask=ALL); `mask=PATH:PATH`.
 * Stricter than Podman where it would silently do nothing: mask/unmask paths must be absolute.
 */
export function parseSecurityOpts(opts: readonly string[] | null | undefined): SecurityOptions {
  const r: SecurityOptions = { noNewPrivileges: false, unmask: [], mask: [], label: [] };
  for (const o of opts ?? []) {
    const sep = o.includes('=') ? '=' : ':';
    const at = o.indexOf(sep);
    const key = at < 0 ? o : o.slice(0, at);
    const val = at < 0 ? undefined : o.slice(at + 1);
    if (val === undefined && key !== 'no-new-privileges') throw bad(o);
    switch (key) {
      case 'no-new-privileges': {
        const b = val === undefined ? true : parseBool(val);
        if (b === undefined) throw bad(o, 'want true or false');
        r.noNewPrivileges = b;
        break;
      }
      case 'seccomp':
        if (val === '' || val === 'builtin') delete r.seccomp;
        else r.seccomp = val === 'unconfined' ? val : path.resolve(val!);
        break;
      case 'unmask':
        if (val!.toUpperCase() === 'ALL') r.unmask.push('ALL');
        else r.unmask.push(...pathList(o, val!, 'unmask'));
        break;
      case 'mask':
        r.mask.push(...pathList(o, val!, 'mask'));
        break;
      case 'systempaths':
        if (val !== 'unconfined') throw bad(o, 'only systempaths=unconfined is supported');
        r.unmask.push('ALL');
        break;
      case 'label':
        r.label.push(val!);
        break;
      case 'apparmor':
        r.apparmor = val!;
        break;
      default:
        throw bad(o);
    }
  }
  return r;
}

/**
 * The container's masked and read-only paths: Podman's defaults unless `--privileged`, minus what
 * `unmask` patterns match (both lists), plus `mask` paths (kept even when privileged or unmask=ALL,
 * as Podman does).
 */
export function securityPaths(o: { privileged: boolean; unmask?: readonly string[]; mask?: readonly string[] }): {
  maskedPaths: string[];
  readonlyPaths: string[];
} {
  const unmask = o.unmask ?? [];
  const all = o.privileged || unmask.some((u) => u.toUpperCase() === 'ALL');
  const res = all ? [] : unmask.map(globRegExp);
  const keep = (p: string): boolean => !all && !res.some((re) => re.test(p));
  const extra = (o.mask ?? []).filter((p) => p !== '');
  return {
    maskedPaths: [...new Set([...MASKED_PATHS.filter(keep), ...extra])],
    readonlyPaths: READONLY_PATHS.filter(keep),
  };
}
