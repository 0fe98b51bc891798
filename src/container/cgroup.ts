/**
 * The one module that knows where cgroups live (docs/design/monitor.md, "Cgroups"). The layout is read
 * from /proc/self/mountinfo: v1 controller hierarchies (/sys/fs/cgroup/<ctrl>), the hybrid v2 mount
 * (/sys/fs/cgroup/unified) or pure v2 (/sys/fs/cgroup).
 *   - planCgroups(): at create, the dirs the shim makes for a container and moves its init into
 *     (skiff.cgroups in the spec; linux.cgroupsPath is the OCI name of the same place).
 *   - containerCgroups(): for a running container, the cgroups its init is really in, from
 *     /proc/PID/cgroup (only those that are the container's own: their leaf names its id).
 *   - freeze/thaw and the controller counters `stats` reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';

export interface CgroupLayout {
  mode: 'v1' | 'hybrid' | 'v2' | 'none';
  /** v1 controller (or "name=systemd") → its hierarchy's mount point (co-mounted ones share it) */
  v1: Map<string, string>;
  /** the cgroup2 mount point (/sys/fs/cgroup/unified on hybrid, /sys/fs/cgroup on pure v2) */
  v2?: string;
}

/** Mountinfo lines → the cgroup mounts (the first mount of each hierarchy, with root "/"). */
export function parseCgroupMounts(mountinfo: string): CgroupLayout {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const root = pre[3];
    const mnt = unescapeMount(pre[4] ?? '');
    if (root !== '/') continue; // a bind of a sub-cgroup: not the hierarchy's root
    if (fstype === 'cgroup2') v2 ??= mnt;
    else if (fstype === 'cgroup') {
      for (const o of superOpts.split(',')) {
        if (['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'xattr', 'nsdelegate'].includes(o)) continue;
        if (o.startsWith('release_agent=')) continue;
        if (!v1.has(o)) v1.set(o, mnt);
      }
    }
  }
  const mode = v1.size ? (v2 ? 'hybrid' : 'v1') : v2 ? 'v2' : 'none';
  return { mode, v1, ...(v2 ? { v2 } : {}) };
}

const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export interface ProcCgroup {
  /** hierarchy id ("0" for v2) */
  hierarchy: string;
  /** v1: the controllers ("cpu", "name=systemd"); v2: [] */
  controllers: string[];
  /** path inside the hierarchy */
  path: string;
}

/** /proc/PID/cgroup → one entry per hierarchy. */
export function parseProcCgroup(text: string): ProcCgroup[] {
  const out: ProcCgroup[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    out.push({ hierarchy: m[1]!, controllers: m[2] ? m[2].split(',') : [], path: m[3]! });
  }
  return out;
}

let cachedLayout: CgroupLayout | undefined;
export function cgroupLayout(): CgroupLayout {
  if (cachedLayout) return cachedLayout;
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    /* no procfs: no cgroups */
  }
  return (cachedLayout = parseCgroupMounts(text));
}

/** The v1 controllers a rootful container gets a cgroup in (when mounted). `devices` holds its device policy. */
const V1_CONTROLLERS = ['freezer', 'memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'devices', 'name=systemd'];

export interface CgroupPlan {
  /** OCI linux.cgroupsPath */
  cgroupsPath: string;
  /** absolute dirs the shim creates and moves the init into (empty: no cgroup of its own) */
  dirs: string[];
  /** why there are none (rootless without delegation) */
  reason?: string;
  /** the same dirs by controller (the limits' files go there: resources.ts limitWrites) */
  groups: ContainerCgroups;
}

/** The leaf name of a container's cgroup: `<id>` under skiff/ (rootful), `skiff-<id>` (rootless). */
const leafNames = (id: string): string[] => [id, `skiff-${id}`];

/**
 * `cpuset`: also a v1 cpuset group (only for --cpuset-cpus/--cpuset-mems: a v1 cpuset group must be
 * given cpus and mems before it takes a task).
 */
export function planCgroups(id: string, rootless: boolean, layout: CgroupLayout = cgroupLayout(), controllers = V1_CONTROLLERS, cpuset = false, parent = '/skiff'): CgroupPlan {
  if (!rootless) {
    const rel = path.posix.join(parent, id);
    const mounts = new Set<string>();
    const groups: ContainerCgroups = { v1: new Map() };
    for (const c of cpuset ? [...controllers, 'cpuset'] : controllers) {
      const m = layout.v1.get(c);
      if (!m) continue;
      mounts.add(m);
      groups.v1.set(c, path.join(m, rel));
    }
    if (layout.v2) mounts.add(layout.v2), (groups.v2 = path.join(layout.v2, rel));
    return { cgroupsPath: rel, dirs: [...mounts].map((m) => path.join(m, rel)), groups };
  }
  const none = (reason: string): CgroupPlan => ({ cgroupsPath: '', dirs: [], reason, groups: { v1: new Map() } });
  if (!layout.v2) return none('rootless containers get a cgroup only on cgroup v2, and no cgroup2 filesystem is mounted');
  let own: string | undefined;
  try {
    own = parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8')).find((c) => c.hierarchy === '0')?.path;
  } catch {
    /* fall through */
  }
  if (own === undefined) return none('this process is in no cgroup v2 group');
  const dir = path.join(layout.v2, own);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    fs.accessSync(path.join(dir, 'cgroup.procs'), fs.constants.W_OK);
  } catch {
    return none(`the cgroup ${own} is not delegated to this user (not writable)`);
  }
  const rel = path.posix.join(own, `skiff-${id}`);
  return { cgroupsPath: rel, dirs: [path.join(dir, `skiff-${id}`)], groups: { v2: path.join(dir, `skiff-${id}`), v1: new Map() } };
}

/**
 * A build step's RUN (rootful): the groups its device policy needs (v1 devices, the v2 group),
 * named by the step's staging dir (`<pid>-...`: sweepStepCgroups removes those of dead builds).
 * Rootless steps run in skiff's user namespace, where the kernel refuses device nodes anyway.
 */
export function planStepCgroups(stagingName: string, rootless: boolean, layout: CgroupLayout = cgroupLayout()): CgroupPlan {
  if (rootless) return { cgroupsPath: '', dirs: [], groups: { v1: new Map() } };
  return planCgroups(stagingName, false, layout, ['devices']);
}

/** `--cgroup-parent PATH` (cgroupfs: a path from the hierarchies' root; rootful only): the parent of the container's groups. */
export function parseCgroupParent(parent: string | undefined, rootless: boolean): string | undefined {
  if (parent === undefined || parent === '') return undefined;
  if (rootless) throw new SkiffError('EINVAL', "--cgroup-parent: a rootless container's group is made in the user's delegated cgroup");
  const clean = path.posix.normalize(`/${parent}`).replace(/\/+$/, '');
  if (clean === '' || parent.split('/').includes('..') || parent.includes('\0')) throw new SkiffError('EINVAL', `invalid cgroup parent ${JSON.stringify(parent)}: a path below the cgroup root`);
  return clean;
}

/** Remove the (empty) step groups a killed build left: `skiff/<pid>-...` of pids that are gone. */
export function sweepStepCgroups(pidAlive: (pid: number) => boolean, layout: CgroupLayout = cgroupLayout()): void {
  for (const m of [layout.v1.get('devices'), layout.v2]) {
    if (!m) continue;
    const parent = path.join(m, 'skiff');
    let names: string[];
    try {
      names = fs.readdirSync(parent);
    } catch {
      continue;
    }
    for (const n of names) {
      const pid = /^(\d+)-/.exec(n)?.[1];
      if (pid && Number(pid) !== process.pid && !pidAlive(Number(pid))) removeCgroupDirs([path.join(parent, n)]);
    }
  }
}

/** The cgroups a running container's init is in that are the container's own. */
export interface ContainerCgroups {
  /** the v2 dir */
  v2?: string;
  /** v1 controller → dir */
  v1: Map<string, string>;
}

export function containerCgroups(pid: number, id: string, layout: CgroupLayout = cgroupLayout()): ContainerCgroups {
  const out: ContainerCgroups = { v1: new Map() };
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return out;
  }
  const leaves = leafNames(id);
  for (const c of parseProcCgroup(text)) {
    if (!leaves.includes(path.posix.basename(c.path))) continue;
    if (c.hierarchy === '0') {
      if (layout.v2) out.v2 = path.join(layout.v2, c.path);
      continue;
    }
    for (const ctrl of c.controllers) {
      const m = layout.v1.get(ctrl);
      if (m) out.v1.set(ctrl, path.join(m, c.path));
    }
  }
  return out;
}

const hasOwn = (cg: ContainerCgroups): boolean => cg.v2 !== undefined || cg.v1.size > 0;

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether the container's freezer holds it (v2 cgroup.events "frozen 1", else v1 freezer.state). */
export function isFrozen(cg: ContainerCgroups): boolean {
  if (cg.v2) return /^frozen 1$/m.test(read(path.join(cg.v2, 'cgroup.events')) ?? '');
  const f = cg.v1.get('freezer');
  return f !== undefined && (read(path.join(f, 'freezer.state')) ?? '').trim() === 'FROZEN';
}

/** The freezer file of the container's cgroups and its values (v2 cgroup.freeze, else the v1 freezer), or why there is none. */
function freezer(cg: ContainerCgroups, why: string): { file: string; on: string; off: string } {
  if (!hasOwn(cg)) throw new SkiffError('ESTATE', why);
  if (cg.v2) return { file: path.join(cg.v2, 'cgroup.freeze'), on: '1', off: '0' };
  const f = cg.v1.get('freezer');
  if (f) return { file: path.join(f, 'freezer.state'), on: 'FROZEN', off: 'THAWED' };
  throw new SkiffError('ESTATE', `${why}: no freezer cgroup (neither cgroup v2 nor the v1 freezer controller is mounted)`);
}

/** Pause (true) or unpause (false): write the freezer and wait until the kernel says it is done. */
export async function setFrozen(cg: ContainerCgroups, frozen: boolean, why: string): Promise<void> {
  const { file, on, off } = freezer(cg, why);
  const value = frozen ? on : off;
  const done = (): boolean => (cg.v2 ? isFrozen(cg) === frozen : (read(file) ?? '').trim() === value);
  try {
    fs.writeFileSync(file, value);
  } catch (e) {
    throw new SkiffError('ERUNTIME', `write ${file}: ${(e as Error).message}`);
  }
  for (let delay = 1, waited = 0; !done(); waited += delay, delay = Math.min(delay * 2, 50)) {
    if (waited > 10_000) throw new SkiffError('ERUNTIME', `the freezer did not ${frozen ? 'freeze' : 'thaw'} the container within 10s (${file})`);
    if (!cg.v2 && frozen) fs.writeFileSync(file, value); // v1 may fall back to THAWED while FREEZING
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Thaw at once, without waiting for the kernel (a signal handler's last act); false when it could not. */
export function thawNow(cg: ContainerCgroups): boolean {
  try {
    const { file, off } = freezer(cg, '');
    fs.writeFileSync(file, off);
    return true;
  } catch {
    return false;
  }
}

/** Counters a container's cgroups give (undefined: no cgroup gives it). */
export interface CgroupCounters {
  /** total CPU time in ns */
  cpuNs?: number;
  memUsage?: number;
  /** undefined: unlimited */
  memLimit?: number;
  pids?: number;
  blkRead?: number;
  blkWrite?: number;
  /** every process in the cgroup (host pids) */
  procs?: number[];
}

const num = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : undefined;
};

function keyed(text: string | undefined, key: string): number | undefined {
  if (!text) return undefined;
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export function cgroupCounters(cg: ContainerCgroups): CgroupCounters {
  const c: CgroupCounters = {};
  const v1 = (ctrl: string, file: string): string | undefined => {
    const d = cg.v1.get(ctrl);
    return d ? read(path.join(d, file)) : undefined;
  };
  if (cg.v2) {
    const d = cg.v2;
    const usec = keyed(read(path.join(d, 'cpu.stat')), 'usage_usec');
    if (usec !== undefined) c.cpuNs = usec * 1000;
    const cur = num(read(path.join(d, 'memory.current')));
    if (cur !== undefined) {
      const inactive = keyed(read(path.join(d, 'memory.stat')), 'inactive_file') ?? 0;
      c.memUsage = Math.max(0, cur - inactive);
      const max = read(path.join(d, 'memory.max'))?.trim();
      if (max && max !== 'max') c.memLimit = Number(max);
    }
    c.pids = num(read(path.join(d, 'pids.current')));
    const io = read(path.join(d, 'io.stat'));
    if (io !== undefined) {
      c.blkRead = 0;
      c.blkWrite = 0;
      for (const m of io.matchAll(/rbytes=(\d+) wbytes=(\d+)/g)) {
        c.blkRead += Number(m[1]);
        c.blkWrite += Number(m[2]);
      }
    }
    const procs = read(path.join(d, 'cgroup.procs'));
    if (procs !== undefined) c.procs = procs.split('\n').filter(Boolean).map(Number);
  }
  c.cpuNs ??= num(v1('cpuacct', 'cpuacct.usage'));
  if (c.memUsage === undefined) {
    const usage = num(v1('memory', 'memory.usage_in_bytes'));
    if (usage !== undefined) {
      const inactive = keyed(v1('memory', 'memory.stat'), 'total_inactive_file') ?? 0;
      c.memUsage = Math.max(0, usage - inactive);
      const lim = num(v1('memory', 'memory.limit_in_bytes'));
      // "unlimited" is the largest page-aligned long
      if (lim !== undefined && lim < 2 ** 62) c.memLimit = lim;
    }
  }
  c.pids ??= num(v1('pids', 'pids.current'));
  if (c.blkRead === undefined) {
    const t = v1('blkio', 'blkio.throttle.io_service_bytes');
    if (t !== undefined) {
      c.blkRead = 0;
      c.blkWrite = 0;
      for (const m of t.matchAll(/^\S+ (Read|Write) (\d+)$/gm)) {
        if (m[1] === 'Read') c.blkRead += Number(m[2]);
        else c.blkWrite += Number(m[2]);
      }
    }
  }
  if (c.procs === undefined) {
    const any = cg.v1.get('pids') ?? cg.v1.get('freezer') ?? cg.v1.get('memory');
    const procs = any ? read(path.join(any, 'cgroup.procs')) : undefined;
    if (procs !== undefined) c.procs = procs.split('\n').filter(Boolean).map(Number);
  }
  return c;
}

/** Remove a container's (empty) cgroup dirs; the shim does this when the container exits. Best effort. */
export function removeCgroupDirs(dirs: string[]): void {
  for (const d of dirs) {
    try {
      fs.rmdirSync(d);
    } catch {
      /* gone already, or still busy: the shim removes it when the container exits */
    }
  }
}

/**
 * The container's /sys/fs/cgroup (Docker's, with a cgroup namespace of its own): a tmpfs with each v1
 * hierarchy the container has a group in (mounted by its controllers: the cgroup namespace roots it
 * at the container's group) and the v2 one, read-only unless privileged. A hierarchy the container
 * has no group in would show the host's tree: it is left out.
 */
export function cgroupfsMounts(groups: ContainerCgroups, writable: boolean, layout: CgroupLayout = cgroupLayout()): { destination: string; type: string; source: string; options: string[] }[] {
  const flags = ['nosuid', 'noexec', 'nodev', ...(writable ? [] : ['ro'])];
  const byMount = new Map<string, string[]>();
  for (const [ctrl, mnt] of layout.v1) if (groups.v1.has(ctrl)) byMount.set(mnt, [...(byMount.get(mnt) ?? []), ctrl]);
  const own = [...byMount].filter(([mnt]) => mnt.startsWith('/sys/fs/cgroup/'));
  const v2 = groups.v2 && layout.v2 ? layout.v2 : undefined;
  if (!own.length && !v2) return [];
  const out = [{ destination: '/sys/fs/cgroup', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'noexec', 'nodev', 'mode=755', 'size=64k'] }];
  if (v2 === '/sys/fs/cgroup') return [{ destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup2', options: flags }];
  for (const [mnt, ctrls] of own) out.push({ destination: mnt, type: 'cgroup', source: 'cgroup', options: [...flags, ...ctrls] });
  if (v2) out.push({ destination: v2, type: 'cgroup2', source: 'cgroup2', options: flags });
  // the tmpfs itself read-only once filled, as Docker's
  return out;
}

/** The groups of planned dirs (a spec's skiff.cgroups) by controller. */
export function groupsOfDirs(dirs: string[], layout: CgroupLayout = cgroupLayout()): ContainerCgroups {
  const out: ContainerCgroups = { v1: new Map() };
  for (const d of dirs) {
    if (layout.v2 && d.startsWith(`${layout.v2}/`)) out.v2 = d;
    for (const [ctrl, mnt] of layout.v1) if (d.startsWith(`${mnt}/`)) out.v1.set(ctrl, d);
  }
  return out;
}
