/**
 * The one place a container's OCI runtime spec is built (GUIDE.md §3). Field names follow the
 * OCI runtime spec so the same file can be given to crun; the `skiff` extension carries the
 * overlay layers and the files the shim writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { paths } from '../config.js';
import { parseSize } from '../lib/units.js';
import { initPath } from '../native.js';
import type { ContainerRecord, MountPoint } from '../store/containers.js';
import { activeHealthcheck, containerFiles } from '../store/containers.js';
import { lowerDirs } from '../store/layers.js';
import { containerNamesDir, dirs, lockFile } from '../store/layout.js';
import type { IdMap } from '../userns/idmap.js';
import { rootlessMappings } from '../userns/idmap.js';
import { inUserns } from '../userns/enter.js';
import type { ResolvedUser } from './passwd.js';
import type { NetworkPlan } from '../network/plan.js';
import { resolveCapabilities, securityPaths, type SecurityOptions } from './security.js';
import { ociSeccompFor, type OciSeccomp } from './seccomp.js';
import { devicePolicy, type OciDevice, type OciDeviceCgroup, type ResolvedDevices } from './devices.js';
import { cgroupfsMounts, type ContainerCgroups } from './cgroup.js';
import { shimEvents } from './events.js';
import { ociResources, resourcesOf, rlimits, shmSize, type CgroupWrite } from './resources.js';
import { mountFlags } from '../volume/mounts.js';

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: ReturnType<typeof resolveCapabilities>;
  noNewPrivileges: boolean;
  rlimits?: { type: string; hard: number; soft: number }[];
  oomScoreAdj?: number;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    namespaces: { type: string; path?: string }[];
    uidMappings?: IdMap[];
    gidMappings?: IdMap[];
    maskedPaths: string[];
    readonlyPaths: string[];
    seccomp?: OciSeccomp;
    sysctl?: Record<string, string>;
    /** nodes made in the container's /dev (--device, --privileged) */
    devices?: OciDevice[];
    /** the device cgroup policy (devices.ts): which devices the container may open or mknod */
    /** plus the limits in OCI's names (resources.ts ociResources; the shim writes skiff.cgroupWrites) */
    resources: { devices: OciDeviceCgroup[] } & Record<string, unknown>;
    cgroupsPath?: string;
  };
  skiff: {
    /** the network plan the shim executes at its network step (container/network.ts) */
    network?: NetworkPlan;
    networkStatusFile?: string;
    overlay: { lower: string[]; upper: string; work: string; userxattr: boolean };
    exitFile: string;
    pidFile: string;
    remove?: string[];
    /** With `remove`: a dir on the same filesystem (the store's tmp/) the paths are renamed into first. */
    trashDir?: string;
    /**
     * With `remove`: the container's link in the names index, which the shim drops (under `lock`, while
     * the link `dir`/<the record's Name> still points at `id`) before it removes the container.
     */
    nameIndex?: { dir: string; lock: string; record: string; id: string };
    idmapHelpers: boolean;
    /** Where the shim caches compiled seccomp filters. */
    seccompCache: string;
    /** The shim (and so the container) dies with the process that started it (build steps). */
    dieWithParent?: boolean;
    /** What the detached monitor (`skiff-shim run --detach`) does; foreground runs ignore it. */
    monitor: MonitorSpec;
    /** Absolute cgroup dirs (from cgroup.ts) the shim creates and moves the init into. */
    cgroups?: string[];
    /** The events the shim records (die, oom, a restart's start, --rm's destroy): container/events.ts shimEvents */
    events?: ReturnType<typeof shimEvents>;
    /** [file, value] the shim writes after it made the groups, before the init moves in (resources.ts limitWrites) */
    cgroupWrites?: CgroupWrite[];
  };
}

/** The `skiff.monitor` extension (docs/design/monitor.md). */
export interface MonitorSpec {
  /** Docker's json-file log; absent with `--log-driver none` */
  logFile?: string;
  /** bytes; 0 = unlimited */
  logMaxSize: number;
  /** >= 1 */
  logMaxFile: number;
  attachSocket: string;
  openStdin: boolean;
  stopFile: string;
  stateFile: string;
  /** the tty size an attach client asks for (read on SIGWINCH) */
  winsizeFile: string;
  restart: { policy: string; maxRetries: number };
  health?: { process: string; intervalMs: number; timeoutMs: number; startPeriodMs: number; retries: number; file: string };
}

/** Docker's defaults for a health check (daemon/health.go). */
const HEALTH_DEFAULTS = { interval: 30_000, timeout: 30_000, startPeriod: 0, retries: 3 };
const nsToMs = (ns: number | undefined, def: number): number => (ns && ns > 0 ? Math.round(ns / 1e6) : def);

/**
 * Rootless, a spec fits where its container starts: outside skiff's user namespace (a user namespace
 * of its own, the rootless maps through newuidmap) or inside one (the rootless network namespace's:
 * none of its own, buildSpec's nestedUserns). A container made on one side and started on the other
 * (made by `create` or the Engine API's listener, started on a user-defined network inside the
 * rootless network namespace; or back, after `network disconnect`) gets its spec turned to this side
 * at the start. True when it changed.
 */
export function fitUserns(spec: OciSpec): boolean {
  if (!paths().rootless) return false;
  const nested = inUserns();
  const own = spec.linux.namespaces.some((n) => n.type === 'user');
  if (nested !== own) return false;
  const devpts = spec.mounts.find((m) => m.type === 'devpts');
  if (nested) {
    spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'user');
    delete spec.linux.uidMappings;
    delete spec.linux.gidMappings;
    spec.skiff.idmapHelpers = false;
    if (devpts) devpts.options = devpts.options.filter((o) => o !== 'gid=5');
  } else {
    const m = rootlessMappings();
    spec.linux.namespaces.unshift({ type: 'user' });
    spec.linux.uidMappings = m.uidMappings;
    spec.linux.gidMappings = m.gidMappings;
    spec.skiff.idmapHelpers = m.helpers;
    if (devpts && !devpts.options.includes('gid=5')) devpts.options.push('gid=5');
  }
  return true;
}

/** A spec written before the monitor existed gets its `skiff.monitor` (true when it was missing). */
export function ensureMonitorSpec(spec: OciSpec, rec: ContainerRecord): boolean {
  if (spec.skiff.monitor) return false;
  spec.skiff.monitor = monitorSpec(rec);
  return true;
}

function monitorSpec(rec: ContainerRecord): MonitorSpec {
  const cf = containerFiles(rec.Id);
  const log = rec.HostConfig.LogConfig ?? { Type: 'json-file', Config: {} };
  const restart = rec.HostConfig.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 };
  const hc = rec.Config.Healthcheck;
  return {
    ...(log.Type === 'none' ? {} : { logFile: cf.log }),
    logMaxSize: log.Config['max-size'] ? parseSize(log.Config['max-size']) : 0,
    logMaxFile: log.Config['max-file'] ? Number(log.Config['max-file']) : 1,
    attachSocket: cf.attach,
    openStdin: rec.Config.OpenStdin,
    stopFile: cf.stopped,
    stateFile: cf.monitor,
    winsizeFile: cf.winsize,
    restart: { policy: restart.Name || 'no', maxRetries: restart.MaximumRetryCount },
    ...(hc && activeHealthcheck(rec)
      ? {
          health: {
            process: cf.healthProcess,
            intervalMs: nsToMs(hc.Interval, HEALTH_DEFAULTS.interval),
            timeoutMs: nsToMs(hc.Timeout, HEALTH_DEFAULTS.timeout),
            startPeriodMs: nsToMs(hc.StartPeriod, HEALTH_DEFAULTS.startPeriod),
            retries: hc.Retries && hc.Retries > 0 ? hc.Retries : HEALTH_DEFAULTS.retries,
            file: cf.health,
          },
        }
      : {}),
  };
}


/** The run-time files a spec points at (a container's own, or a build step's under tmp/). */
export type SpecFiles = Pick<ReturnType<typeof containerFiles>, 'dir' | 'rootfs' | 'upper' | 'work' | 'hosts' | 'hostname' | 'resolv' | 'exit' | 'pid'>;

export interface SpecInput {
  rec: ContainerRecord;
  user: ResolvedUser;
  env: string[];
  security: SecurityOptions;
  /** Default: the container's files under containers/<id>/. */
  files?: SpecFiles;
  /** Overlay lower dirs (default: the short links of rec.Layers). */
  lower?: string[];
  /** Rootless maps other than the standard ones (--userns keep-id: container/keep-id.ts). */
  idMappings?: { uidMappings: IdMap[]; gidMappings: IdMap[]; innerUidMappings: IdMap[]; innerGidMappings: IdMap[] };
  /** More files bound over the image's, as /etc/hosts is: [destination, source] (keep-id's /etc/passwd). */
  etcFiles?: [string, string][];
  /** More paths a --rm container's shim removes with it (its anonymous volumes). */
  removeWithContainer?: string[];
  /** Volumes created with --opt type=tmpfs: their tmpfs options, by destination (src/volume/). */
  tmpfsVolumes?: Record<string, string[]>;
  /** destinations whose source is a store volume's `_data` (src/volume/: copy-up at first start) */
  dataVolumes?: string[];
  /** The container's cgroups (planCgroups; build steps: planStepCgroups). */
  cgroups?: { cgroupsPath: string; dirs: string[]; groups?: ContainerCgroups };
  /** --device and --device-cgroup-rule, resolved at create (resolveDevices). */
  devices?: ResolvedDevices;
  /** The limits' cgroup files (limitWrites) for `cgroups`. */
  cgroupWrites?: CgroupWrite[];
}

const NS_RW = ['nosuid', 'noexec', 'nodev'];
/** Where the shim caches compiled filters and the CLI converted profiles. */
const seccompCacheDir = (): string => path.join(paths().runroot, 'seccomp');
/** Where `--init` puts skiff-init in the container (Docker uses /sbin/docker-init, Podman /run/podman-init). */
const INIT_PATH = '/dev/init';

/** --read-only also covers /etc/hosts, hostname and resolv.conf (Docker makes them ro, Podman too, with these flags). */
const READONLY_FILE = ['ro', 'nosuid', 'nodev', 'noexec'];

/** Which of the host's namespaces the container shares besides the network's (--pid host, --ipc host|none). */
interface HostShares {
  pid: boolean;
  ipc: boolean;
  /** --ipc none: no /dev/shm (Docker's) */
  noShm: boolean;
}

function defaultMounts(rootless: boolean, hostNetwork: boolean, privileged: boolean, tty5: boolean, shm: number, host: HostShares): OciMount[] {
  // --privileged gets a writable /sys, as Docker and Podman give
  const sysRo = privileged ? [] : ['ro'];
  // a user namespace may mount proc and mqueue only for namespaces it owns: the host's are bound (Podman's way)
  const bind = (p: string): OciMount => ({ destination: p, type: 'bind', source: p, options: ['rbind', ...NS_RW] });
  const m: OciMount[] = [
    rootless && host.pid ? bind('/proc') : { destination: '/proc', type: 'proc', source: 'proc', options: [...NS_RW] },
    // noexec on /dev as Podman (Docker leaves it out): nothing in a container runs from its device dir
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'noexec', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(tty5 ? ['gid=5'] : [])] },
  ];
  // rootless --ipc host: the host's mqueue mount where it has one
  if (!(rootless && host.ipc)) m.push({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: [...NS_RW] });
  else if (fs.existsSync('/dev/mqueue')) m.push(bind('/dev/mqueue'));
  // --ipc host: the host's /dev/shm (Docker's)
  if (host.ipc) m.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'nodev'] });
  else if (!host.noShm) m.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...NS_RW, 'mode=1777', `size=${Math.ceil(shm / 1024)}k`] });
  // sysfs cannot be mounted by a user namespace that does not own the network namespace.
  if (rootless && hostNetwork) m.push({ destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', ...NS_RW, ...sysRo] });
  else m.push({ destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...NS_RW, ...sysRo] });
  return m;
}

function userMounts(mounts: MountPoint[], tmpfsVolumes: Record<string, string[]> = {}, dataVolumes: string[] = []): OciMount[] {
  return mounts.map((mp) => {
    if (mp.Type === 'tmpfs') {
      return { destination: mp.Destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(mp.Mode ? mp.Mode.split(',') : [])] };
    }
    const volTmpfs = mp.Type === 'volume' ? tmpfsVolumes[mp.Destination] : undefined;
    if (volTmpfs) {
      return { destination: mp.Destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', mp.RW ? 'rw' : 'ro', ...volTmpfs] };
    }
    const flags = mountFlags(mp);
    return {
      destination: mp.Destination,
      type: 'bind',
      source: mp.Source,
      // a volume is the store's directory: no setuid files or devices from it (as Podman)
      options: [
        'rbind', mp.RW ? 'rw' : 'ro', ...(mp.Type === 'volume' ? ['nosuid', 'nodev'] : []), ...(mp.Propagation ? [mp.Propagation] : ['rprivate']),
        // the shim's (addon/shim/copyup.c): a volume's first use, with or without copy-up; `:U`'s chown
        ...(dataVolumes.includes(mp.Destination) ? [flags.nocopy ? 'skiff-volume' : 'skiff-copyup'] : []),
        ...(flags.chown ? ['skiff-chown'] : []),
      ],
    };
  });
}

/**
 * /sys/fs/cgroup: the container's groups (cgroupfsMounts). Rootless with the host's cgroup namespace, the
 * host's hierarchy is bound (a user namespace may mount cgroupfs only for a cgroup namespace it owns).
 */
function cgroupMounts(groups: ContainerCgroups, writable: boolean, bindHost: boolean): OciMount[] {
  const m = cgroupfsMounts(groups, writable);
  if (!bindHost || !m.length) return m;
  return [{ destination: '/sys/fs/cgroup', type: 'bind', source: '/sys/fs/cgroup', options: ['rbind', ...NS_RW, ...(writable ? [] : ['ro'])] }];
}

export function buildSpec(input: SpecInput): OciSpec {
  const { rec, user, env, security } = input;
  const f = input.files ?? containerFiles(rec.Id);
  const rootless = paths().rootless;
  // Inside skiff's own user namespace (rootless `build`) we already are root over the subordinate
  // range: the container gets no user namespace of its own (newuidmap cannot map from in here).
  const nestedUserns = rootless && inUserns();
  const hostNetwork = rec.HostConfig.NetworkMode === 'host';
  const caps = resolveCapabilities({
    capAdd: rec.HostConfig.CapAdd ?? [],
    capDrop: rec.HostConfig.CapDrop ?? [],
    privileged: rec.HostConfig.Privileged,
    user: user.uid,
  });
  const sec = securityPaths({ privileged: rec.HostConfig.Privileged, unmask: security.unmask, mask: security.mask });
  let seccomp: OciSeccomp | undefined;
  if (!rec.HostConfig.Privileged && security.seccomp !== 'unconfined') {
    seccomp = ociSeccompFor(security.seccomp, caps.bounding, seccompCacheDir());
  }
  const hc = rec.HostConfig;
  const host: HostShares = { pid: hc.PidMode === 'host', ipc: hc.IpcMode === 'host', noShm: hc.IpcMode === 'none' };
  // --pid/--ipc/--uts/--cgroupns host: the host's namespace (left out); container:X: a path set at each start (namespaces.ts)
  const namespaces: { type: string }[] = [
    ...(host.pid ? [] : [{ type: 'pid' }]), ...(host.ipc ? [] : [{ type: 'ipc' }]), ...(hc.UTSMode === 'host' ? [] : [{ type: 'uts' }]),
    { type: 'mount' }, ...(hc.CgroupnsMode === 'host' ? [] : [{ type: 'cgroup' }]),
  ];
  if (!hostNetwork) namespaces.push({ type: 'network' });
  let uidMappings: IdMap[] | undefined;
  let gidMappings: IdMap[] | undefined;
  let helpers = false;
  if (rootless && !nestedUserns) {
    const m = rootlessMappings();
    namespaces.unshift({ type: 'user' });
    uidMappings = input.idMappings?.uidMappings ?? m.uidMappings;
    gidMappings = input.idMappings?.gidMappings ?? m.gidMappings;
    helpers = m.helpers;
  } else if (nestedUserns && input.idMappings) {
    // keep-id from inside skiff's namespace (the Engine API's service): a child namespace, whose maps
    // its root writes itself, over the ids of this one
    namespaces.unshift({ type: 'user' });
    uidMappings = input.idMappings.innerUidMappings;
    gidMappings = input.idMappings.innerGidMappings;
  }
  const dev = devicePolicy(rec.HostConfig.Privileged, rootless && !nestedUserns, input.devices);
  const limits = resourcesOf(rec.HostConfig);
  const ulimits = rlimits(limits);
  const mounts = [
    // devpts gid=5 (tty) also in a rootless container's own user namespace: the subordinate range maps
    // it, and with a single mapping the shim mounts devpts without it. Not in skiff's own namespace
    // (rootless build), where the shim has no user namespace to fall back in.
    ...defaultMounts(rootless, hostNetwork, rec.HostConfig.Privileged, !nestedUserns, shmSize(limits), host),
    ...(input.cgroups?.groups ? cgroupMounts(input.cgroups.groups, rec.HostConfig.Privileged, rootless && !nestedUserns && hc.CgroupnsMode === 'host') : []),
    ...[
      ['/etc/hosts', f.hosts],
      ['/etc/hostname', f.hostname],
      ['/etc/resolv.conf', f.resolv],
      ...(input.etcFiles ?? []),
    ].map(([d, s]) => ({ destination: d!, type: 'bind', source: s!, options: ['rbind', ...(rec.HostConfig.ReadonlyRootfs ? READONLY_FILE : []), 'rprivate'] })),
    ...userMounts(rec.Mounts, input.tmpfsVolumes, input.dataVolumes),
    ...(rec.HostConfig.Init ? [{ destination: INIT_PATH, type: 'bind', source: initPath(), options: ['bind', 'ro'] }] : []),
  ];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: rec.Config.Tty,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
      args: rec.HostConfig.Init ? [INIT_PATH, '--', rec.Path, ...rec.Args] : [rec.Path, ...rec.Args],
      env,
      cwd: rec.Config.WorkingDir || '/',
      capabilities: caps,
      noNewPrivileges: security.noNewPrivileges,
      ...(ulimits.length ? { rlimits: ulimits } : {}),
      ...(limits.OomScoreAdj !== undefined ? { oomScoreAdj: limits.OomScoreAdj } : {}),
    },
    root: { path: f.rootfs, readonly: rec.HostConfig.ReadonlyRootfs },
    hostname: rec.Config.Hostname,
    mounts,
    linux: {
      namespaces,
      ...(uidMappings ? { uidMappings, gidMappings } : {}),
      maskedPaths: sec.maskedPaths,
      readonlyPaths: sec.readonlyPaths,
      // Podman's default_sysctls: root in the container may ping (ICMP datagram sockets) without
      // CAP_NET_RAW; only in a network namespace of its own. Then --sysctl's (container/sysctl.ts).
      ...(hostNetwork && !rec.HostConfig.Sysctls ? {} : { sysctl: { ...(hostNetwork ? {} : { 'net.ipv4.ping_group_range': '0 0' }), ...rec.HostConfig.Sysctls } }),
      ...(dev.devices.length ? { devices: dev.devices } : {}),
      resources: { devices: dev.rules, ...ociResources(limits) },
      ...(seccomp ? { seccomp } : {}),
      ...(input.cgroups?.dirs.length ? { cgroupsPath: input.cgroups.cgroupsPath } : {}),
    },
    skiff: {
      overlay: { lower: input.lower ?? lowerDirs(rec.Layers), upper: f.upper, work: f.work, userxattr: rootless },
      exitFile: f.exit,
      pidFile: f.pid,
      // --rm: renamed into the store's staging dir, then deleted by a detached child of the shim
      ...(rec.HostConfig.AutoRemove
        ? {
            remove: [f.dir, ...(input.removeWithContainer ?? [])],
            trashDir: dirs().tmp,
            nameIndex: { dir: containerNamesDir(), lock: lockFile('containers'), record: path.join(f.dir, 'config.json'), id: rec.Id },
          }
        : {}),
      idmapHelpers: helpers,
      seccompCache: seccompCacheDir(),
      monitor: monitorSpec(rec),
      events: shimEvents(rec),
      ...(input.cgroups?.dirs.length ? { cgroups: input.cgroups.dirs } : {}),
      ...(input.cgroupWrites?.length ? { cgroupWrites: input.cgroupWrites } : {}),
    },
  };
}
