/**
 * Docker/moby seccomp profiles (the format of Docker's default.json and Podman's
 * /usr/share/containers/seccomp.json) → the OCI runtime spec's `linux.seccomp`, with the
 * includes/excludes conditions resolved against the container's capabilities, arch and kernel.
 */
import fs from 'node:fs';
import os from 'node:os';
import { SkiffError } from '../errors.js';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

interface Cond {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface ProfileRule {
  names?: string[];
  name?: string; // old format
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  includes?: Cond;
  excludes?: Cond;
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap?: { architecture: string; subArchitectures?: string[] }[] | null;
  architectures?: string[];
  syscalls?: ProfileRule[] | null;
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: SeccompArg[] }[];
}

const ACTIONS = new Set(['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY']);
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' };
const SCMP_ARCH: Record<string, string> = { amd64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', '386': 'SCMP_ARCH_X86', arm: 'SCMP_ARCH_ARM', s390x: 'SCMP_ARCH_S390X', ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64' };

function kernelAtLeast(kernel: string, min: string): boolean {
  const a = kernel.split(/[.-]/).map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 2; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

export function toOciSeccomp(p: SeccompProfile, ctx: { caps: string[]; arch?: string; kernel?: string }): OciSeccomp {
  const arch = ctx.arch ?? GO_ARCH[process.arch] ?? process.arch;
  const kernel = ctx.kernel ?? os.release();
  const native = SCMP_ARCH[arch];
  let architectures: string[] = [];
  if (p.archMap) {
    const m = p.archMap.find((a) => a.architecture === native);
    architectures = m ? [m.architecture, ...(m.subArchitectures ?? [])] : native ? [native] : [];
  } else architectures = p.architectures ?? (native ? [native] : []);
  const applies = (c: Cond | undefined, include: boolean): boolean => {
    if (!c) return true;
    const checks: boolean[] = [];
    if (c.caps?.length) checks.push(include ? c.caps.every((x) => ctx.caps.includes(x)) : c.caps.some((x) => ctx.caps.includes(x)));
    if (c.arches?.length) checks.push(c.arches.includes(arch));
    if (c.minKernel) checks.push(kernelAtLeast(kernel, c.minKernel));
    if (!checks.length) return include;
    return include ? checks.every(Boolean) : checks.some(Boolean);
  };
  const syscalls: OciSeccomp['syscalls'] = [];
  for (const r of p.syscalls ?? []) {
    if (!ACTIONS.has(r.action)) throw new SkiffError('EINVAL', `seccomp profile: unknown action "${r.action}"`);
    if (!applies(r.includes, true)) continue;
    if (r.excludes && applies(r.excludes, false)) continue;
    const names = r.names ?? (r.name ? [r.name] : []);
    if (!names.length) continue;
    syscalls.push({
      names,
      action: r.action,
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
      ...(r.args?.length ? { args: r.args } : {}),
    });
  }
  if (!ACTIONS.has(p.defaultAction)) throw new SkiffError('EINVAL', `seccomp profile: unknown default action "${p.defaultAction}"`);
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures,
    syscalls,
  };
}

export function loadProfileFile(file: string): SeccompProfile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SkiffError('EINVAL', `cannot read seccomp profile ${file}: ${(e as Error).message}`);
  }
  try {
    const p = JSON.parse(text) as SeccompProfile;
    if (typeof p.defaultAction !== 'string') throw new Error('defaultAction missing');
    return p;
  } catch (e) {
    throw new SkiffError('EINVAL', `invalid seccomp profile ${file}: ${(e as Error).message}`);
  }
}

/** The profile Podman uses on this system (containers-common). */
export const SYSTEM_PROFILE = '/usr/share/containers/seccomp.json';

/**
 * Used only when the system profile is missing: allow by default, deny the syscalls that let a
 * container reach the kernel's global state (mounts, namespaces, modules, kexec, bpf, keyrings,
 * reboot, swap, accounting, clock). Less strict than the system profile; documented in README.
 */
const FALLBACK: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [
    {
      names: ['mount', 'umount2', 'pivot_root', 'unshare', 'setns', 'kexec_load', 'kexec_file_load', 'init_module',
        'finit_module', 'delete_module', 'bpf', 'perf_event_open', 'open_by_handle_at', 'keyctl', 'add_key',
        'request_key', 'reboot', 'swapon', 'swapoff', 'acct', 'userfaultfd', 'settimeofday', 'clock_settime',
        'clock_adjtime', 'adjtimex', 'fsopen', 'fsmount', 'move_mount', 'open_tree', 'quotactl', 'lookup_dcookie',
        'vm86', 'vm86old', 'iopl', 'ioperm', 'nfsservctl', 'syslog', 'uselib'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 1,
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
  ],
};

export function loadDefaultProfile(): SeccompProfile {
  return fs.existsSync(SYSTEM_PROFILE) ? loadProfileFile(SYSTEM_PROFILE) : FALLBACK;
}
