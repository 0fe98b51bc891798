/**
 * Resource limits (issue 15): `-m`, `--memory-swap`, `--memory-reservation`, `--cpus`, `--cpu-shares`,
 * `--cpu-period/--cpu-quota`, `--cpuset-cpus/--cpuset-mems`, `--pids-limit`, `--blkio-weight`,
 * `--device-read-bps/--device-write-bps/--device-read-iops/--device-write-iops`, `--oom-kill-disable`, `--oom-score-adj`, `--ulimit`, `--shm-size`. One module owns them:
 *   - parseResources(): the flags as given → Docker's HostConfig fields (Docker's words for bad values);
 *     the record keeps those, `inspect` shows them as they are.
 *   - limitWrites(): HostConfig → the cgroup files to write (v1 controller groups, else the v2 group
 *     when its controller is there) and the limits no group can take (rootless without delegation, a
 *     hybrid host's empty v2 hierarchy, a kernel without the file). The shim writes them at every start
 *     (skiff.cgroupWrites) before the init moves in; `update` writes them into a running container.
 *   - rlimits(), shmSize(): what the spec's process and /dev/shm get.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { parseSize } from '../lib/units.js';
import type { HostConfig, ThrottleDevice, Ulimit } from '../store/containers.js';
import type { ContainerCgroups } from './cgroup.js';

/** The flags as the user gave them (strings: parsed here with Docker's words). */
export interface ResourceOptions {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  kernelMemory?: string;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
  /** DEVICE:RATE each (bps: a size, 1mb; iops: an integer) */
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  oomKillDisable?: boolean;
  oomScoreAdj?: string;
  ulimits?: string[];
  shmSize?: string;
}

export type { Ulimit };

/** Docker's HostConfig resource fields (absent: not set; inspect shows Docker's defaults). */
const RESOURCE_FIELDS = [
  'Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'PidsLimit',
  'BlkioWeight', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'OomKillDisable', 'OomScoreAdj',
  'Ulimits', 'ShmSize',
] as const;
export type ResourceConfig = Pick<HostConfig, (typeof RESOURCE_FIELDS)[number]>;

/** The cgroup fields `update` may change (Docker's `update`: memory, CPU, pids, blkio weight). */
export const UPDATABLE: (keyof ResourceConfig)[] = [
  'Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'PidsLimit',
  'BlkioWeight',
];

/** Docker's CLI words for a value its flag type refuses. */
const badFlag = (value: string, flag: string, why: string): SkiffError =>
  new SkiffError('EINVAL', `invalid argument "${value}" for "${flag}" flag: ${why}`);

function bytes(value: string | undefined, flag: string, allowMinusOne = false): number | undefined {
  if (value === undefined) return undefined;
  if (allowMinusOne && value === '-1') return -1;
  try {
    return parseSize(value);
  } catch (e) {
    throw badFlag(value, flag, (e as Error).message);
  }
}

/** Go's strconv.ParseInt words. */
function int(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(value)) throw badFlag(value, flag, `strconv.ParseInt: parsing "${value}": invalid syntax`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw badFlag(value, flag, `strconv.ParseInt: parsing "${value}": value out of range`);
  return n;
}

/** go-units ulimit names → the OCI rlimit type. */
const ULIMITS: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS', memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK',
};
/** The same names as /proc/self/limits spells them. */
const PROC_LIMITS: Record<string, string> = {
  core: 'Max core file size', cpu: 'Max cpu time', data: 'Max data size', fsize: 'Max file size', locks: 'Max file locks',
  memlock: 'Max locked memory', msgqueue: 'Max msgqueue size', nice: 'Max nice priority', nofile: 'Max open files',
  nproc: 'Max processes', rss: 'Max resident set', rtprio: 'Max realtime priority', rttime: 'Max realtime timeout',
  sigpending: 'Max pending signals', stack: 'Max stack size',
};

/** go-units ParseUlimit: `name=soft[:hard]` (hard defaults to soft), Docker's words for each fault. */
export function parseUlimit(v: string): Ulimit {
  const bad = (why: string): SkiffError => badFlag(v, '--ulimit', why);
  const eq = v.indexOf('=');
  if (eq < 0) throw bad(`invalid ulimit argument: ${v}`);
  const name = v.slice(0, eq);
  if (!(name in ULIMITS)) throw bad(`invalid ulimit type: ${name}`);
  const vals = v.slice(eq + 1).split(':');
  if (vals.length > 2) throw bad(`too many limit value arguments - ${v.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const num = (s: string): number => {
    if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw bad(`strconv.ParseInt: parsing "${s}": invalid syntax`);
    return Number(s);
  };
  const soft = num(vals[0]!);
  const hard = vals.length === 2 ? num(vals[1]!) : soft;
  if (hard !== -1 && soft > hard) throw bad(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Hard: hard, Soft: soft };
}

/** This process's hard limits (/proc/self/limits), by ulimit name; undefined: unlimited. */
function ownHardLimits(): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return out;
  }
  for (const [name, label] of Object.entries(PROC_LIMITS)) {
    const line = text.split('\n').find((l) => l.startsWith(label));
    const fields = line?.slice(label.length).trim().split(/\s+/);
    if (fields?.[1] !== undefined) out.set(name, fields[1] === 'unlimited' ? undefined : Number(fields[1]));
  }
  return out;
}

/** CAP_SYS_RESOURCE in this process's effective set: it may raise a hard limit. */
function maySysResource(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & (1n << 24n)) !== 0n;
  } catch {
    return false;
  }
}

/**
 * Never above the caller's hard limit (the kernel refuses it without CAP_SYS_RESOURCE, and a rootless
 * user never has that over the host): one line naming the limit, what it may be, and what to do.
 */
function checkUlimits(list: Ulimit[]): void {
  if (!list.length || maySysResource()) return;
  const own = ownHardLimits();
  for (const u of list) {
    if (!own.has(u.Name)) continue;
    const max = own.get(u.Name);
    const want = u.Hard === -1 ? Infinity : u.Hard;
    if (max !== undefined && want > max) {
      throw new SkiffError(
        'EINVAL',
        `--ulimit ${u.Name}=${u.Soft}:${u.Hard}: the hard limit is above this user's hard limit for ${u.Name} (${max}); ask for at most ${max} (raising it needs CAP_SYS_RESOURCE)`,
      );
    }
  }
}

/** The flags → Docker's HostConfig fields, checked with Docker's rules and words (nothing is made yet). */
export function parseResources(o: ResourceOptions, warn: (line: string) => void, ncpu = cpuCount()): ResourceConfig {
  const r: ResourceConfig = {};
  const memory = bytes(o.memory, '-m, --memory');
  const swap = bytes(o.memorySwap, '--memory-swap', true);
  const reservation = bytes(o.memoryReservation, '--memory-reservation');
  if (o.kernelMemory !== undefined) {
    bytes(o.kernelMemory, '--kernel-memory');
    warn('Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
  }
  if (memory !== undefined && memory > 0) {
    if (memory < 6 * 1024 * 1024) throw new SkiffError('EINVAL', 'Minimum memory limit allowed is 6MB');
    r.Memory = memory;
  }
  if (swap !== undefined && swap !== 0) {
    if (!r.Memory) throw new SkiffError('EINVAL', 'You should always set the Memory limit when using Memoryswap limit, see usage');
    if (swap > 0 && swap < r.Memory) throw new SkiffError('EINVAL', 'Minimum memoryswap limit should be larger than memory limit, see usage');
    r.MemorySwap = swap;
  } else if (r.Memory) {
    r.MemorySwap = r.Memory * 2; // Docker's default: as much swap as memory
  }
  if (reservation !== undefined && reservation > 0) {
    if (r.Memory && r.Memory < reservation) {
      throw new SkiffError('EINVAL', 'Minimum memory limit can not be less than memory reservation limit, see usage');
    }
    if (reservation < 6 * 1024 * 1024) throw new SkiffError('EINVAL', 'Minimum memory reservation allowed is 6MB');
    r.MemoryReservation = reservation;
  }
  if (o.oomKillDisable) {
    r.OomKillDisable = true;
    if (!r.Memory) warn("Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous.");
  }
  if (o.cpus !== undefined) {
    const c = Number(o.cpus);
    if (o.cpus.trim() === '' || !Number.isFinite(c)) throw badFlag(o.cpus, '--cpus', `failed to parse ${o.cpus} as a rational number`);
    const nano = Math.round(c * 1e9);
    if (nano < 0 || nano > ncpu * 1e9 || (nano > 0 && nano < 1e7)) {
      throw new SkiffError('EINVAL', `Range of CPUs is from 0.01 to ${ncpu.toFixed(2)}, as there are only ${ncpu} CPUs available`);
    }
    if (nano > 0) r.NanoCpus = nano;
  }
  const shares = int(o.cpuShares, '-c, --cpu-shares');
  if (shares !== undefined && shares !== 0) {
    if (shares < 0) throw new SkiffError('EINVAL', `invalid CPU shares (${shares}): must be positive`);
    r.CpuShares = Math.min(Math.max(shares, 2), 262144); // the kernel's range, as Docker clamps with a warning
    if (r.CpuShares !== shares) warn(`CPU shares ${shares} is outside 2..262144: using ${r.CpuShares}`);
  }
  const period = int(o.cpuPeriod, '--cpu-period');
  const quota = int(o.cpuQuota, '--cpu-quota');
  if (r.NanoCpus && ((period ?? 0) > 0 || (quota ?? 0) > 0)) {
    throw new SkiffError('EINVAL', `Conflicting options: Nano CPUs and CPU ${(period ?? 0) > 0 ? 'Period' : 'Quota'} cannot both be set`);
  }
  if (period !== undefined && period !== 0) {
    if (period < 1000 || period > 1000000) throw new SkiffError('EINVAL', 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    r.CpuPeriod = period;
  }
  if (quota !== undefined && quota !== 0) {
    if (quota > 0 && quota < 1000) throw new SkiffError('EINVAL', 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
    r.CpuQuota = quota;
  }
  for (const [v, key, flag] of [[o.cpusetCpus, 'CpusetCpus', 'cpus'], [o.cpusetMems, 'CpusetMems', 'mems']] as const) {
    if (v === undefined || v === '') continue;
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw new SkiffError('EINVAL', `Invalid value ${v} for cpuset ${flag}`);
    r[key] = v;
  }
  const pids = int(o.pidsLimit, '--pids-limit');
  if (pids !== undefined && pids !== 0) r.PidsLimit = pids < 0 ? -1 : pids; // 0 and -1: unlimited (Docker)
  const weight = int(o.blkioWeight, '--blkio-weight');
  if (weight !== undefined && weight !== 0) {
    if (weight < 10 || weight > 1000) throw new SkiffError('EINVAL', 'Range of blkio weight is from 10 to 1000');
    r.BlkioWeight = weight;
  }
  for (const [list, key, flag, bps] of [
    [o.deviceReadBps, 'BlkioDeviceReadBps', '--device-read-bps', true],
    [o.deviceWriteBps, 'BlkioDeviceWriteBps', '--device-write-bps', true],
    [o.deviceReadIops, 'BlkioDeviceReadIOps', '--device-read-iops', false],
    [o.deviceWriteIops, 'BlkioDeviceWriteIOps', '--device-write-iops', false],
  ] as const) {
    if (list?.length) r[key] = list.map((v) => throttleDevice(v, flag, bps));
  }
  const adj = int(o.oomScoreAdj, '--oom-score-adj');
  if (adj !== undefined) {
    if (adj < -1000 || adj > 1000) throw new SkiffError('EINVAL', `Invalid value ${adj}, range for oom score adj is [-1000, 1000]`);
    if (adj !== 0) r.OomScoreAdj = adj;
  }
  if (o.ulimits?.length) {
    const byName = new Map<string, Ulimit>();
    for (const u of o.ulimits.map(parseUlimit)) byName.set(u.Name, u); // the last of one name wins, as Docker's map
    r.Ulimits = [...byName.values()];
    checkUlimits(r.Ulimits);
  }
  const shm = bytes(o.shmSize, '--shm-size');
  if (shm !== undefined && shm > 0) r.ShmSize = shm;
  return r;
}

/**
 * Docker's ValidateThrottleBpsDevice / ValidateThrottleIOpsDevice (`/dev/PATH:RATE`, their words), and
 * what the daemon finds at start checked now: the path is a block device (its numbers go to the cgroup).
 */
function throttleDevice(v: string, flag: string, bps: boolean): ThrottleDevice {
  const i = v.indexOf(':');
  const dev = i < 0 ? '' : v.slice(0, i);
  const rate = v.slice(i + 1);
  if (!dev) throw badFlag(v, flag, `bad format: ${v}`);
  if (!dev.startsWith('/dev/')) throw badFlag(v, flag, `bad format for device path: ${v}`);
  let n = NaN;
  if (bps) {
    try {
      n = parseSize(rate);
    } catch {
      /* n stays NaN */
    }
  } else if (/^\d+$/.test(rate)) n = Number(rate);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw badFlag(v, flag, bps
      ? `invalid rate for device: ${v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`
      : `invalid rate for device: ${v}. The correct format is <device-path>:<number>. Number must be a positive integer`);
  }
  blockDevice(dev, flag);
  return { Path: dev, Rate: n };
}

/** The major:minor of a block device (refused with one line when the path is none). */
function blockDevice(dev: string, flag: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(dev);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SkiffError('EINVAL', `${flag} ${dev}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (!st.isBlockDevice()) throw new SkiffError('EINVAL', `${flag} ${dev}: not a block device`);
  // glibc's gnu_dev_major/minor over the 64-bit dev_t
  const hi = Math.floor(st.rdev / 2 ** 32);
  const lo = st.rdev % 2 ** 32;
  const major = ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
  const minor = (lo & 0xff) | ((lo >>> 12) & 0xfff00);
  return `${major}:${minor}`;
}

function cpuCount(): number {
  try {
    const text = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
    let n = 0;
    for (const part of text.split(',')) {
      const [a, b] = part.split('-').map(Number);
      n += b === undefined ? 1 : b - a! + 1;
    }
    return n || 1;
  } catch {
    return 1;
  }
}

/** The resource fields of a record (those it has). */
export function resourcesOf(hc: HostConfig): ResourceConfig {
  const out: ResourceConfig = {};
  for (const k of RESOURCE_FIELDS) if (hc[k] !== undefined) Object.assign(out, { [k]: hc[k] });
  return out;
}

/** OCI process.rlimits for --ulimit (-1: unlimited). */
export function rlimits(r: ResourceConfig): { type: string; hard: number; soft: number }[] {
  const u = (n: number): number => (n < 0 ? 2 ** 64 - 1 : n);
  return (r.Ulimits ?? []).map((l) => ({ type: ULIMITS[l.Name]!, hard: u(l.Hard), soft: u(l.Soft) }));
}

/** OCI linux.resources (besides devices), for a side-by-side run with crun; the shim writes limitWrites(). */
export function ociResources(r: ResourceConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const memory = {
    ...(r.Memory ? { limit: r.Memory } : {}),
    ...(r.MemorySwap ? { swap: r.MemorySwap } : {}),
    ...(r.MemoryReservation ? { reservation: r.MemoryReservation } : {}),
    ...(r.OomKillDisable ? { disableOOMKiller: true } : {}),
  };
  if (Object.keys(memory).length) out.memory = memory;
  const { period, quota } = cfs(r);
  const cpu = {
    ...(r.CpuShares ? { shares: r.CpuShares } : {}),
    ...(quota ? { quota } : {}),
    ...(period ? { period } : {}),
    ...(r.CpusetCpus ? { cpus: r.CpusetCpus } : {}),
    ...(r.CpusetMems ? { mems: r.CpusetMems } : {}),
  };
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.PidsLimit) out.pids = { limit: r.PidsLimit };
  const throttle = (list: ThrottleDevice[] | undefined, flag: string): { major: number; minor: number; rate: number }[] | undefined =>
    list?.map((d) => {
      const [major, minor] = blockDevice(d.Path, flag).split(':').map(Number);
      return { major: major!, minor: minor!, rate: d.Rate };
    });
  const blockIO = {
    ...(r.BlkioWeight ? { weight: r.BlkioWeight } : {}),
    ...(r.BlkioDeviceReadBps ? { throttleReadBpsDevice: throttle(r.BlkioDeviceReadBps, '--device-read-bps') } : {}),
    ...(r.BlkioDeviceWriteBps ? { throttleWriteBpsDevice: throttle(r.BlkioDeviceWriteBps, '--device-write-bps') } : {}),
    ...(r.BlkioDeviceReadIOps ? { throttleReadIOPSDevice: throttle(r.BlkioDeviceReadIOps, '--device-read-iops') } : {}),
    ...(r.BlkioDeviceWriteIOps ? { throttleWriteIOPSDevice: throttle(r.BlkioDeviceWriteIOps, '--device-write-iops') } : {}),
  };
  if (Object.keys(blockIO).length) out.blockIO = blockIO;
  return out;
}

/** --cpus as CFS period and quota (Docker: a 100 ms period); else --cpu-period/--cpu-quota. */
function cfs(r: ResourceConfig): { period?: number; quota?: number } {
  if (r.NanoCpus) return { period: 100000, quota: Math.round((r.NanoCpus * 100000) / 1e9) };
  return { period: r.CpuPeriod, quota: r.CpuQuota };
}

/** A cgroup file to write: [absolute file, value]. */
export type CgroupWrite = [string, string];

export interface LimitPlan {
  writes: CgroupWrite[];
  /** one line per limit no group of the container can take */
  refused: string[];
}

/**
 * Controllers a v2 group can use: those its parent (the nearest that exists) enables for its children
 * (cgroup.subtree_control), or could enable (cgroup.controllers) when it holds no process itself — the
 * shim enables them when it makes the group; a parent with processes (a rootless user's own group)
 * cannot (cgroup v2's no-internal-process rule).
 */
function v2Controllers(dir: string): Set<string> {
  const words = (f: string): Set<string> => new Set(fs.readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean));
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    try {
      const enabled = words(path.join(d, 'cgroup.subtree_control'));
      const busy = fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').trim() !== '';
      return busy ? enabled : new Set([...enabled, ...words(path.join(d, 'cgroup.controllers'))]);
    } catch {
      /* not made yet: ask its parent */
    }
  }
  return new Set();
}

const exists = (f: string): boolean => fs.existsSync(f);
/** A v1 file exists for every group of the hierarchy when it exists at its root. */
const v1Has = (dir: string, file: string): boolean => {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) if (exists(path.join(d, file))) return true;
  return false;
};

/**
 * The cgroup files that carry `r` in the groups `g` (v1 controller groups first; the v2 group when its
 * controller is available there), in the order they must be written. `fresh`: groups being made (a v1
 * cpuset group starts with no cpus and mems: its parent `skiff/` gets the host's first). `why`: what a
 * refused limit says when the container has no group for it at all.
 */
export function limitWrites(r: ResourceConfig, g: ContainerCgroups, opts: { fresh: boolean; why?: string } = { fresh: true }): LimitPlan {
  const writes: CgroupWrite[] = [];
  const refused: string[] = [];
  const v2c = g.v2 ? v2Controllers(g.v2) : new Set<string>();
  const where = (v1: string, v2: string): { v1?: string; v2?: string } | undefined => {
    const d1 = g.v1.get(v1);
    if (d1) return { v1: d1 };
    if (g.v2 && v2c.has(v2)) return { v2: g.v2 };
    return undefined;
  };
  /** `docker`: Docker's words for a kernel without it; `short` and `ctrl` for a group without the controller */
  const refuse = (docker: string, short: string, ctrl: string): void => {
    refused.push(
      opts.why
        ? `the ${short} is not applied: ${opts.why}`
        : g.v2 && !g.v1.size
          ? `the ${short} is not applied: the cgroup v2 ${ctrl} controller is not delegated to this user (${path.dirname(g.v2)} has no ${ctrl} in cgroup.controllers)`
          : `Your kernel does not support ${docker} or the cgroup is not mounted. Limitation discarded.`,
    );
  };
  const w = (dir: string, file: string, value: string | number): void => void writes.push([path.join(dir, file), String(value)]);

  // memory
  if (r.Memory || r.MemoryReservation || r.OomKillDisable || r.MemorySwap) {
    const m = where('memory', 'memory');
    if (!m) refuse('memory limit capabilities', 'memory limit', 'memory');
    else if (m.v1) {
      if (r.Memory) w(m.v1, 'memory.limit_in_bytes', r.Memory);
      if (r.MemorySwap) {
        if (v1Has(m.v1, 'memory.memsw.limit_in_bytes')) w(m.v1, 'memory.memsw.limit_in_bytes', r.MemorySwap);
        else refused.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
      }
      if (r.MemoryReservation) w(m.v1, 'memory.soft_limit_in_bytes', r.MemoryReservation);
      if (r.OomKillDisable) w(m.v1, 'memory.oom_control', 1);
    } else if (m.v2) {
      if (r.Memory) w(m.v2, 'memory.max', r.Memory);
      if (r.MemorySwap) w(m.v2, 'memory.swap.max', r.MemorySwap < 0 ? 'max' : r.MemorySwap - (r.Memory ?? 0));
      if (r.MemoryReservation) w(m.v2, 'memory.low', r.MemoryReservation);
      if (r.OomKillDisable) refused.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    }
  }
  // cpu
  const { period, quota } = cfs(r);
  if (r.CpuShares || period || quota) {
    const c = where('cpu', 'cpu');
    if (!c) refuse('CPU limit capabilities', 'CPU limit', 'cpu');
    else if (c.v1) {
      if (r.CpuShares) w(c.v1, 'cpu.shares', r.CpuShares);
      if (period) w(c.v1, 'cpu.cfs_period_us', period);
      if (quota) w(c.v1, 'cpu.cfs_quota_us', quota);
    } else if (c.v2) {
      // runc's conversion of shares (2..262144) to weight (1..10000)
      if (r.CpuShares) w(c.v2, 'cpu.weight', 1 + Math.floor(((r.CpuShares - 2) * 9999) / 262142));
      if (period || quota) w(c.v2, 'cpu.max', `${quota && quota > 0 ? quota : 'max'} ${period ?? 100000}`);
    }
  }
  // cpuset
  if (r.CpusetCpus || r.CpusetMems) {
    const s = where('cpuset', 'cpuset');
    if (!s) refuse('cpuset', 'cpuset', 'cpuset');
    else if (s.v1) {
      const parent = path.dirname(s.v1);
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        let host = '';
        try {
          host = fs.readFileSync(path.join(hierarchyRoot(s.v1), f), 'utf8').trim();
        } catch {
          /* written as asked; the kernel says what is wrong */
        }
        if (opts.fresh) w(parent, f, host); // skiff/ is empty when made: a group under it takes no task
        const want = f === 'cpuset.cpus' ? r.CpusetCpus : r.CpusetMems;
        if (want || opts.fresh) w(s.v1, f, want || host);
      }
    } else if (s.v2) {
      if (r.CpusetCpus) w(s.v2, 'cpuset.cpus', r.CpusetCpus);
      if (r.CpusetMems) w(s.v2, 'cpuset.mems', r.CpusetMems);
    }
  }
  // pids
  if (r.PidsLimit) {
    const p = where('pids', 'pids');
    if (!p) refuse('pids limit capabilities', 'pids limit', 'pids');
    else w((p.v1 ?? p.v2)!, 'pids.max', r.PidsLimit > 0 ? r.PidsLimit : 'max');
  }
  // block I/O weight: only with a proportional scheduler (BFQ) on the device queues
  if (r.BlkioWeight) {
    const b = where('blkio', 'io');
    const file = b?.v1 ? ['blkio.weight', 'blkio.bfq.weight'].find((f) => v1Has(b.v1!, f)) : b?.v2 ? 'io.bfq.weight' : undefined;
    if (!b || !file || (b.v2 && !exists(path.join(path.dirname(b.v2), file)))) {
      refused.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    } else w((b.v1 ?? b.v2)!, file, b.v2 ? `default ${r.BlkioWeight}` : r.BlkioWeight);
  }
  // block I/O throttling per device: v1 blkio.throttle.*_device, v2 io.max (one key per line)
  const throttles = [
    [r.BlkioDeviceReadBps, 'blkio.throttle.read_bps_device', 'rbps', '--device-read-bps', 'BPS Block I/O read limit'],
    [r.BlkioDeviceWriteBps, 'blkio.throttle.write_bps_device', 'wbps', '--device-write-bps', 'BPS Block I/O write limit'],
    [r.BlkioDeviceReadIOps, 'blkio.throttle.read_iops_device', 'riops', '--device-read-iops', 'IOPS Block I/O read limit'],
    [r.BlkioDeviceWriteIOps, 'blkio.throttle.write_iops_device', 'wiops', '--device-write-iops', 'IOPS Block I/O write limit'],
  ] as const;
  for (const [list, v1File, v2Key, flag, what] of throttles) {
    if (!list?.length) continue;
    const b = where('blkio', 'io');
    if (!b || (b.v1 && !v1Has(b.v1, v1File))) {
      refuse(what, what, 'io');
      continue;
    }
    for (const d of list) {
      const dev = blockDevice(d.Path, flag);
      if (b.v1) w(b.v1, v1File, `${dev} ${d.Rate}`);
      else w(b.v2!, 'io.max', `${dev} ${v2Key}=${d.Rate > 0 ? d.Rate : 'max'}`);
    }
  }
  return { writes, refused };
}

/** The mount point of a v1 group's hierarchy (/sys/fs/cgroup/<ctrl>/skiff/<id> → /sys/fs/cgroup/<ctrl>). */
function hierarchyRoot(dir: string): string {
  const i = dir.indexOf('/skiff/');
  return i > 0 ? dir.slice(0, i) : path.dirname(path.dirname(dir));
}

/** /dev/shm's size (Docker's 64 MiB unless --shm-size). */
export const shmSize = (r: ResourceConfig): number => r.ShmSize ?? 67108864;
