/**
 * Security defaults, matching Podman (our side-by-side peer): capability set, masked and
 * read-only paths, and the `--security-opt` values Docker and Podman accept.
 */
import { SkiffError } from '../errors.js';

/** Linux capabilities by bit number (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
export const ALL_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Podman's default_capabilities (containers.conf). */
export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP',
  'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];

export interface CapSets {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable: string[];
  ambient: string[];
}

function normalizeCap(c: string): string {
  const up = c.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!(ALL_CAPS as readonly string[]).includes(name)) throw new SkiffError('EINVAL', `invalid capability "${c}": unknown capability name`);
  return name;
}

export function resolveCapabilities(o: { capAdd: string[]; capDrop: string[]; privileged: boolean; user: number }): CapSets {
  let set: string[];
  if (o.privileged) set = [...ALL_CAPS];
  else {
    const add = o.capAdd.map(normalizeCap);
    const drop = o.capDrop.map(normalizeCap);
    set = add.includes('ALL') ? [...ALL_CAPS] : [...DEFAULT_CAPS];
    for (const c of add) if (c !== 'ALL' && !set.includes(c)) set.push(c);
    set = drop.includes('ALL') ? set.filter((c) => add.includes(c)) : set.filter((c) => !drop.includes(c));
  }
  set.sort((a, b) => ALL_CAPS.indexOf(a as (typeof ALL_CAPS)[number]) - ALL_CAPS.indexOf(b as (typeof ALL_CAPS)[number]));
  // A non-root user keeps the bounding set only (Docker/Podman); root gets them effective.
  const eff = o.user === 0 ? set : [];
  return { bounding: set, effective: eff, permitted: eff, inheritable: [], ambient: [] };
}

/** `CapEff`-style hex of a capability set. */
export function capsToHex(set: string[]): string {
  let v = 0n;
  for (const c of set) v |= 1n << BigInt(ALL_CAPS.indexOf(c as (typeof ALL_CAPS)[number]));
  return v.toString(16).padStart(16, '0');
}

/** Podman 4.3's masked and read-only paths. */
export const MASKED_PATHS = [
  '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/selinux', '/sys/dev/block',
];
export const READONLY_PATHS = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** undefined: default profile; 'unconfined'; or a profile file path. */
  seccomp?: string;
  unmask: string[];
  mask: string[];
}

export function parseSecurityOpts(opts: string[]): SecurityOptions {
  const r: SecurityOptions = { noNewPrivileges: false, unmask: [], mask: [] };
  for (const o of opts) {
    const m = /^([\w-]+)(?:[=:](.*))?$/.exec(o);
    const key = m?.[1];
    const val = m?.[2];
    switch (key) {
      case 'no-new-privileges':
        if (val !== undefined && !['true', 'false'].includes(val)) throw new SkiffError('EINVAL', `invalid --security-opt: "${o}"`);
        r.noNewPrivileges = val !== 'false';
        break;
      case 'seccomp':
        if (!val) throw new SkiffError('EINVAL', `invalid --security-opt: "${o}": seccomp needs a profile path or unconfined`);
        r.seccomp = val;
        break;
      case 'unmask':
        r.unmask.push(...(val ?? '').split(':').filter(Boolean));
        break;
      case 'mask':
        r.mask.push(...(val ?? '').split(':').filter(Boolean));
        break;
      case 'systempaths':
        if (val !== 'unconfined') throw new SkiffError('EINVAL', `invalid --security-opt: "${o}"`);
        r.unmask.push('ALL');
        break;
      case 'label':
      case 'apparmor':
        break; // no SELinux/AppArmor on this host: accepted and ignored, as Podman does when disabled
      default:
        throw new SkiffError('EINVAL', `invalid --security-opt: "${o}"`);
    }
  }
  return r;
}

export function securityPaths(o: { privileged: boolean; unmask: string[]; mask: string[] }): { maskedPaths: string[]; readonlyPaths: string[] } {
  if (o.privileged) return { maskedPaths: [], readonlyPaths: [] };
  const all = o.unmask.includes('ALL');
  const keep = (p: string): boolean => !all && !o.unmask.includes(p);
  return { maskedPaths: [...MASKED_PATHS.filter(keep), ...o.mask], readonlyPaths: READONLY_PATHS.filter(keep) };
}
