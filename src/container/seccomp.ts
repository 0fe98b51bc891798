/**
 * Docker/moby seccomp profiles (the format of Docker's default.json and Podman's
 * /usr/share/containers/seccomp.json) → the OCI runtime spec's `linux.seccomp`, with the
 * `includes`/`excludes` conditions resolved against the container's capabilities, arch and kernel,
 * as moby's and containers/common's `setupSeccomp` do:
 * - a rule is dropped when `excludes.arches` holds the arch, or `excludes.caps` holds ANY cap the
 *   container has, or the kernel is at least `excludes.minKernel`;
 * - a rule is dropped unless `includes.arches` holds the arch, `includes.caps` are ALL held, and the
 *   kernel is at least `includes.minKernel` (major.minor compared, like moby).
 * Capabilities are the container's bounding set (what moby and Podman pass).
 */
import fs from 'node:fs';
import os from 'node:os';
import { SkiffError } from '../errors.js';
import { capsToHex } from './security.js';

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type SeccompOp =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOp;
}

/** `includes` / `excludes` of a rule. `arches` are libseccomp's native names (amd64, x86, x32, arm64, s390x...). */
export interface SeccompFilter {
  caps?: string[] | null;
  arches?: string[] | null;
  minKernel?: string | null;
}

/** A rule of the current format (`names`); `name` is the pre-2017 spelling, still accepted. */
export interface SeccompRule {
  names?: string[] | null;
  name?: string;
  action: SeccompAction;
  errnoRet?: number | null;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter | null;
  excludes?: SeccompFilter | null;
}

export interface SeccompArchMap {
  architecture: string;
  subArchitectures?: string[] | null;
}

/** Docker/moby seccomp profile (current format: `archMap`, `names`, `includes`/`excludes`). */
export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number | null;
  /** Old format; exclusive with `archMap`. Used as given, whatever the host arch. */
  architectures?: string[] | null;
  archMap?: SeccompArchMap[] | null;
  syscalls?: SeccompRule[] | null;
  /** seccomp(2) filter flags, passed to the OCI spec (see {@link SECCOMP_FLAGS}). */
  flags?: string[] | null;
  /** For SCMP_ACT_NOTIFY, which skiff does not support: ignored. */
  listenerPath?: string;
  listenerMetadata?: string;
}

/** Pre-2017 format (e.g. moby's fixtures/default-old-format.json): `architectures` and one `name` a rule. */
export interface LegacySeccompRule {
  name: string;
  action: SeccompAction;
  errnoRet?: number | null;
  args?: SeccompArg[] | null;
}
export interface LegacySeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number | null;
  architectures?: string[] | null;
  syscalls?: LegacySeccompRule[] | null;
}

/** OCI runtime spec `LinuxSyscall`. */
export interface OciSeccompSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
}

/** OCI runtime spec `LinuxSeccomp`. */
export interface OciSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures: string[];
  /** Only when the profile sets some. */
  flags?: string[];
  syscalls: OciSeccompSyscall[];
}

export interface SeccompContext {
  /** The container's capabilities (bounding set), names `CAP_*`. */
  caps: readonly string[];
  /** libseccomp native arch name (`amd64` on x86_64); default: this host's. */
  arch?: string;
  /** Kernel release (`6.1.0-18-amd64`); default: `os.release()`. */
  kernel?: string;
}

const ACTIONS: ReadonlySet<string> = new Set<SeccompAction>([
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
]);
const OPS: ReadonlySet<string> = new Set<SeccompOp>([
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
]);

/** The filter flags the OCI spec defines and skiff's shim applies. */
export const SECCOMP_FLAGS: readonly string[] = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'];

/** libseccomp native arch name → the SCMP_ARCH_* constant an `archMap` entry is keyed by (moby's nativeToSeccomp). */
const NATIVE_TO_SCMP: Readonly<Record<string, string>> = {
  x86: 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel64n32: 'SCMP_ARCH_MIPSEL64N32',
  mipsel: 'SCMP_ARCH_MIPSEL',
  mips: 'SCMP_ARCH_MIPS',
  ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
  loong64: 'SCMP_ARCH_LOONGARCH64',
};

/** This host's arch as libseccomp names it (what profiles' `arches` use): Node `x64` → `amd64`. */
export function nativeArch(nodeArch: string = process.arch): string {
  switch (nodeArch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return 'x86';
    case 'ppc64':
      return os.endianness() === 'LE' ? 'ppc64le' : 'ppc64';
    default:
      return nodeArch; // arm, arm64, s390, s390x, riscv64, loong64, mips, mipsel, ppc
  }
}

/** `kernel >= min`, comparing major.minor as moby does (`6.1.0-18-amd64` vs `4.8`). */
export function kernelAtLeast(kernel: string, min: string): boolean {
  const k = /^(\d+)\.(\d+)/.exec(kernel);
  const m = /^(\d+)\.(\d+)/.exec(min);
  if (!k || !m) return false;
  const [kMaj, kMin, mMaj, mMin] = [k[1], k[2], m[1], m[2]].map(Number) as [number, number, number, number];
  return kMaj !== mMaj ? kMaj > mMaj : kMin >= mMin;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrList = (v: unknown): boolean => v == null || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
const isErrno = (v: unknown): boolean => v == null || (Number.isInteger(v) && (v as number) >= 0);

function checkFilter(f: unknown, where: string): string | undefined {
  if (f == null) return undefined;
  if (!isObj(f)) return `${where} is not an object`;
  if (!isStrList(f['caps'])) return `${where}.caps is not a list of names`;
  if (!isStrList(f['arches'])) return `${where}.arches is not a list of names`;
  const mk = f['minKernel'];
  if (mk != null && mk !== '' && (typeof mk !== 'string' || !/^\d+\.\d+/.test(mk))) return `${where}.minKernel ${JSON.stringify(mk)} is not a kernel version`;
  return undefined;
}

function checkAction(a: unknown, where: string): string | undefined {
  if (typeof a !== 'string' || !ACTIONS.has(a)) return `${where}unknown action ${JSON.stringify(a)}`;
  // The shim installs the filter itself and has no notification listener to hand the fd to.
  if (a === 'SCMP_ACT_NOTIFY') return `${where}action SCMP_ACT_NOTIFY is not supported`;
  return undefined;
}

/** What is wrong with a parsed profile, or undefined. Checks what moby rejects plus what the shim would silently misread. */
export function checkProfile(p: unknown): string | undefined {
  if (!isObj(p)) return 'not a JSON object';
  let bad = checkAction(p['defaultAction'], 'defaultAction: ');
  if (bad) return bad;
  if (!isErrno(p['defaultErrnoRet'])) return 'defaultErrnoRet is not an errno number';
  if (!isStrList(p['architectures'])) return 'architectures is not a list of names';
  const archMap = p['archMap'];
  if (archMap != null) {
    if (!Array.isArray(archMap)) return 'archMap is not a list';
    for (const a of archMap) {
      if (!isObj(a) || typeof a['architecture'] !== 'string' || !isStrList(a['subArchitectures'])) return 'archMap entries need architecture and subArchitectures';
    }
  }
  const archs = p['architectures'];
  if (Array.isArray(archs) && archs.length && Array.isArray(archMap) && archMap.length) {
    return "'architectures' and 'archMap' were both given: use one";
  }
  if (!isStrList(p['flags'])) return 'flags is not a list of names';
  const flag = ((p['flags'] as string[] | null | undefined) ?? []).find((f) => !SECCOMP_FLAGS.includes(f));
  if (flag !== undefined) return `unsupported flag ${JSON.stringify(flag)}`;
  const rules = p['syscalls'];
  if (rules == null) return undefined;
  if (!Array.isArray(rules)) return 'syscalls is not a list';
  for (const [i, r] of rules.entries()) {
    const w = `syscalls[${i}]`;
    if (!isObj(r)) return `${w} is not an object`;
    if ((bad = checkAction(r['action'], `${w}: `))) return bad;
    if (!isStrList(r['names'])) return `${w}.names is not a list of names`;
    if (r['name'] != null && typeof r['name'] !== 'string') return `${w}.name is not a string`;
    if (r['name'] && Array.isArray(r['names']) && r['names'].length) return `${w}: 'name' and 'names' were both given: use one`;
    if (!isErrno(r['errnoRet'])) return `${w}.errnoRet is not an errno number`;
    const args = r['args'];
    if (args != null) {
      if (!Array.isArray(args)) return `${w}.args is not a list`;
      if (args.length > 6) return `${w}.args has more than 6 comparisons`;
      for (const a of args) {
        if (!isObj(a)) return `${w}.args entry is not an object`;
        if (!Number.isInteger(a['index']) || (a['index'] as number) < 0 || (a['index'] as number) > 5) return `${w}.args index must be 0..5`;
        if (typeof a['op'] !== 'string' || !OPS.has(a['op'])) return `${w}: unknown comparison ${JSON.stringify(a['op'])}`;
        for (const k of ['value', 'valueTwo']) {
          const v = a[k];
          // JSON numbers past 2^53 lose their low bits in JavaScript: refuse rather than filter on a different value.
          if (v != null && (!Number.isSafeInteger(v) || (v as number) < 0)) return `${w}.args ${k} ${String(v)} is not an integer in 0..2^53`;
        }
      }
    }
    if ((bad = checkFilter(r['includes'], `${w}.includes`) ?? checkFilter(r['excludes'], `${w}.excludes`))) return bad;
  }
  return undefined;
}

/** Convert a profile to the OCI `linux.seccomp` for a container with `ctx.caps` on `ctx.arch` / `ctx.kernel`. */
export function toOciSeccomp(profile: SeccompProfile | LegacySeccompProfile, ctx: SeccompContext): OciSeccomp {
  const bad = checkProfile(profile);
  if (bad) throw new SkiffError('EINVAL', `invalid seccomp profile: ${bad}`);
  const p = profile as SeccompProfile;
  const arch = ctx.arch ?? nativeArch();
  const kernel = ctx.kernel ?? os.release();
  const caps = new Set(ctx.caps);

  let architectures: string[] = [];
  if (p.architectures?.length) architectures = [...p.architectures];
  else if (p.archMap?.length) {
    const native = NATIVE_TO_SCMP[arch];
    const m = native ? p.archMap.find((a) => a.architecture === native) : undefined;
    // No entry for this arch: empty, and the runtime filters the native arch only (as moby leaves it).
    if (m) architectures = [m.architecture, ...(m.subArchitectures ?? [])];
  }

  const excluded = (f: SeccompFilter | null | undefined): boolean =>
    !!f &&
    ((f.arches?.length ?? 0) > 0 && f.arches!.includes(arch) ||
      (f.caps ?? []).some((c) => caps.has(c)) ||
      (!!f.minKernel && kernelAtLeast(kernel, f.minKernel)));
  const included = (f: SeccompFilter | null | undefined): boolean =>
    !f ||
    (!(f.arches?.length) || f.arches.includes(arch)) &&
      (f.caps ?? []).every((c) => caps.has(c)) &&
      (!f.minKernel || kernelAtLeast(kernel, f.minKernel));

  const syscalls: OciSeccompSyscall[] = [];
  for (const r of p.syscalls ?? []) {
    if (excluded(r.excludes) || !included(r.includes)) continue;
    const names = r.names?.length ? [...r.names] : r.name ? [r.name] : [];
    if (!names.length) continue;
    syscalls.push({
      names,
      action: r.action,
      ...(r.errnoRet != null ? { errnoRet: r.errnoRet } : {}),
      ...(r.args?.length
        ? { args: r.args.map((a) => ({ index: a.index, value: a.value ?? 0, ...(a.valueTwo ? { valueTwo: a.valueTwo } : {}), op: a.op })) }
        : {}),
    });
  }
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet != null ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures,
    ...(p.flags?.length ? { flags: [...p.flags] } : {}),
    syscalls,
  };
}

/** Parse and check a profile file (`--security-opt seccomp=FILE`); errors name the file. */
export function loadProfileFile(file: string): SeccompProfile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : (err.message.split('\n')[0] ?? String(e));
    throw new SkiffError('EINVAL', `cannot read seccomp profile ${file}: ${why}`);
  }
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch (e) {
    throw new SkiffError('EINVAL', `invalid seccomp profile ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const bad = checkProfile(p);
  if (bad) throw new SkiffError('EINVAL', `invalid seccomp profile ${file}: ${bad}`);
  return p as SeccompProfile;
}

/**
 * Where Podman (containers/common) finds its default profile: the /etc override first, then the
 * one containers-common installs (Debian: package containers-common / golang-github-containers-common).
 */
export const SYSTEM_PROFILES = ['/etc/containers/seccomp.json', '/usr/share/containers/seccomp.json'] as const;

const EPERM = 1;
const ENOSYS = 38;
/** clone(2) flags that create namespaces: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (= 0x7E020000). */
const CLONE_NS_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];

const deny = (names: string[], unlessCaps?: string[], errnoRet = EPERM): SeccompRule => ({
  names,
  action: 'SCMP_ACT_ERRNO',
  errnoRet,
  ...(unlessCaps ? { excludes: { caps: unlessCaps } } : {}),
});

/**
 * Used only when no system profile is installed. Written for skiff (the Docker and Podman profiles
 * are third-party files and are not copied here).
 *
 * Why default-allow plus a denylist, not an allowlist: an allowlist must name every syscall of every
 * arch and be kept up to date, or new programs break with ENOSYS; a short denylist is reviewable.
 * It is weaker than the system profile (syscalls added to Linux later are allowed), so the
 * capability set stays the main boundary. What it denies, and why:
 * - syscalls that act on kernel state no namespace isolates: modules, kexec/reboot, swap, process
 *   accounting, the clock, keyrings (keyctl/add_key/request_key are never namespaced: always denied);
 * - new namespaces and mounts (unshare, setns, clone with CLONE_NEW* flags, mount API, pivot_root):
 *   a user namespace would hand the container a full capability set to attack the kernel with;
 *   clone3 gets ENOSYS because its flags sit behind a pointer seccomp cannot read — glibc then falls
 *   back to clone, which is filtered;
 * - large attack surfaces reachable without privilege: bpf, perf_event_open, userfaultfd, io_uring;
 * - open_by_handle_at, which let a container open host files by handle (the "shocker" escape);
 * - obsolete or x86-only legacy calls (uselib, vm86, iopl/ioperm).
 * Each group is re-allowed (`excludes.caps`) when the container holds the capability that the
 * kernel checks for it, as the Docker profile does; so `--cap-add SYS_ADMIN` restores mount/unshare.
 * ptrace is allowed: since Linux 4.8 it cannot be used to bypass seccomp, and the container's PID
 * namespace bounds what it can reach (Docker and Podman allow it too).
 */
export const FALLBACK_PROFILE: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [
    deny(
      ['mount', 'umount', 'umount2', 'pivot_root', 'unshare', 'setns', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
        'move_mount', 'open_tree', 'mount_setattr', 'swapon', 'swapoff', 'quotactl', 'quotactl_fd', 'lookup_dcookie',
        'fanotify_init', 'sethostname', 'setdomainname'],
      ['CAP_SYS_ADMIN'],
    ),
    ...CLONE_NS_FLAGS.map((flag): SeccompRule => ({
      names: ['clone'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: EPERM,
      args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    })),
    // s390 passes clone's flags second.
    ...CLONE_NS_FLAGS.map((flag): SeccompRule => ({
      names: ['clone'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: EPERM,
      args: [{ index: 1, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
      includes: { arches: ['s390', 's390x'] },
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    })),
    deny(['clone3'], ['CAP_SYS_ADMIN'], ENOSYS),
    deny(['kexec_load', 'kexec_file_load', 'reboot'], ['CAP_SYS_BOOT']),
    deny(['init_module', 'finit_module', 'delete_module', 'create_module', 'query_module'], ['CAP_SYS_MODULE']),
    deny(['bpf'], ['CAP_SYS_ADMIN', 'CAP_BPF']),
    deny(['perf_event_open'], ['CAP_SYS_ADMIN', 'CAP_PERFMON']),
    deny(['open_by_handle_at'], ['CAP_DAC_READ_SEARCH']),
    deny(['acct'], ['CAP_SYS_PACCT']),
    deny(['settimeofday', 'stime', 'clock_settime', 'clock_settime64'], ['CAP_SYS_TIME']),
    deny(['iopl', 'ioperm'], ['CAP_SYS_RAWIO']),
    deny(['syslog'], ['CAP_SYSLOG']),
    deny(['userfaultfd'], ['CAP_SYS_PTRACE']),
    deny(['keyctl', 'add_key', 'request_key', 'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'uselib',
      'vm86', 'vm86old', 'nfsservctl']),
  ],
};

/**
 * The runtime default: the profile Podman uses on this system, else {@link FALLBACK_PROFILE}.
 * `candidates` is for tests.
 */
export function loadDefaultProfile(candidates: readonly string[] = SYSTEM_PROFILES): SeccompProfile {
  for (const f of candidates) if (fs.existsSync(f)) return loadProfileFile(f);
  return FALLBACK_PROFILE;
}

/**
 * Bump when {@link toOciSeccomp} changes what it makes from a profile: cached conversions made
 * by an older skiff are then not used.
 */
const CONVERSION_VERSION = 1;

/**
 * The OCI `linux.seccomp` for a container: the profile `file` (`--security-opt seccomp=FILE`) or
 * the default one, converted for `caps`. Conversions of profile files are cached in `cacheDir`
 * (the runroot's seccomp dir, which the shim caches compiled filters in too), keyed by the file's
 * identity (device, inode, size, mtime), the capability set, arch, kernel and
 * {@link CONVERSION_VERSION}: `run` then skips reading, checking and converting the profile.
 */
export function ociSeccompFor(file: string | undefined, caps: readonly string[], cacheDir: string): OciSeccomp {
  const source = file ?? SYSTEM_PROFILES.find((f) => fs.existsSync(f));
  if (source === undefined) return toOciSeccomp(FALLBACK_PROFILE, { caps });
  let cached: string | undefined;
  try {
    const st = fs.statSync(source);
    const key = `${CONVERSION_VERSION}:${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${capsToHex(caps)}:${nativeArch()}:${os.release()}`;
    // a readable, unique file name without hashing (node:crypto stays off the run path)
    cached = `${cacheDir}/oci-${Buffer.from(key).toString('base64url')}.json`;
    if (cached.length - cacheDir.length > 250) cached = undefined;
    else return JSON.parse(fs.readFileSync(cached, 'utf8')) as OciSeccomp;
  } catch {
    /* not cached yet (or the file is gone: loadProfileFile reports that) */
  }
  const oci = toOciSeccomp(loadProfileFile(source), { caps });
  if (cached) {
    try {
      fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      const tmp = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(oci));
      fs.renameSync(tmp, cached);
    } catch {
      /* a cache is only a cache */
    }
  }
  return oci;
}
