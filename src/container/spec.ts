/**
 * The one place a container's OCI runtime spec is built (GUIDE.md §3). Field names follow the
 * OCI runtime spec so the same file can be given to crun; the `skiff` extension carries the
 * overlay layers and the files the shim writes.
 */
import path from 'node:path';
import { paths } from '../config.js';
import { initPath } from '../native.js';
import type { ContainerRecord, MountPoint } from '../store/containers.js';
import { containerFiles } from '../store/containers.js';
import { lowerDirs } from '../store/layers.js';
import type { IdMap } from './idmap.js';
import { rootlessMappings } from './idmap.js';
import type { ResolvedUser } from './passwd.js';
import { resolveCapabilities, securityPaths, type SecurityOptions } from './security.js';
import { loadDefaultProfile, loadProfileFile, toOciSeccomp, type OciSeccomp } from './seccomp.js';

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
    cgroupsPath?: string;
  };
  skiff: {
    overlay: { lower: string[]; upper: string; work: string; userxattr: boolean };
    exitFile: string;
    pidFile: string;
    remove?: string[];
    idmapHelpers: boolean;
    /** Where the shim caches compiled seccomp filters. */
    seccompCache: string;
    /** The shim (and so the container) dies with the process that started it (build steps). */
    dieWithParent?: boolean;
    /** Absolute cgroup dirs (from cgroup.ts) the shim creates and moves the init into. */
    cgroups?: string[];
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
  /** The container's cgroups (planCgroups); build steps get none. */
  cgroups?: { cgroupsPath: string; dirs: string[] };
}

const NS_RW = ['nosuid', 'noexec', 'nodev'];
/** Where `--init` puts skiff-init in the container (Docker uses /sbin/docker-init, Podman /run/podman-init). */
const INIT_PATH = '/dev/init';

function defaultMounts(rootless: boolean, hostNetwork: boolean): OciMount[] {
  const m: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: [...NS_RW] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(rootless ? [] : ['gid=5'])] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: [...NS_RW] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...NS_RW, 'mode=1777', 'size=65536k'] },
  ];
  // sysfs cannot be mounted by a user namespace that does not own the network namespace.
  if (rootless && hostNetwork) m.push({ destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', ...NS_RW, 'ro'] });
  else m.push({ destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...NS_RW, 'ro'] });
  return m;
}

function userMounts(mounts: MountPoint[]): OciMount[] {
  return mounts.map((mp) => {
    if (mp.Type === 'tmpfs') {
      return { destination: mp.Destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(mp.Mode ? mp.Mode.split(',') : [])] };
    }
    return {
      destination: mp.Destination,
      type: 'bind',
      source: mp.Source,
      options: ['rbind', mp.RW ? 'rw' : 'ro', ...(mp.Propagation ? [mp.Propagation] : ['rprivate'])],
    };
  });
}

export function buildSpec(input: SpecInput): OciSpec {
  const { rec, user, env, security } = input;
  const f = input.files ?? containerFiles(rec.Id);
  const rootless = paths().rootless;
  // Inside skiff's own user namespace (rootless `build`) we already are root over the subordinate
  // range: the container gets no user namespace of its own (newuidmap cannot map from in here).
  const nestedUserns = rootless && process.env._SKIFF_IN_USERNS === '1';
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
    const profile = security.seccomp ? loadProfileFile(security.seccomp) : loadDefaultProfile();
    seccomp = toOciSeccomp(profile, { caps: caps.bounding });
  }
  const namespaces: { type: string }[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }];
  if (!hostNetwork) namespaces.push({ type: 'network' });
  let uidMappings: IdMap[] | undefined;
  let gidMappings: IdMap[] | undefined;
  let helpers = false;
  if (rootless && !nestedUserns) {
    const m = rootlessMappings();
    namespaces.unshift({ type: 'user' });
    uidMappings = m.uidMappings;
    gidMappings = m.gidMappings;
    helpers = m.helpers;
  }
  const mounts = [
    ...defaultMounts(rootless, hostNetwork),
    ...[
      ['/etc/hosts', f.hosts],
      ['/etc/hostname', f.hostname],
      ['/etc/resolv.conf', f.resolv],
    ].map(([d, s]) => ({ destination: d!, type: 'bind', source: s!, options: ['rbind', 'rprivate'] })),
    ...userMounts(rec.Mounts),
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
    },
    root: { path: f.rootfs, readonly: rec.HostConfig.ReadonlyRootfs },
    hostname: rec.Config.Hostname,
    mounts,
    linux: {
      namespaces,
      ...(uidMappings ? { uidMappings, gidMappings } : {}),
      maskedPaths: sec.maskedPaths,
      readonlyPaths: sec.readonlyPaths,
      ...(seccomp ? { seccomp } : {}),
      ...(input.cgroups?.dirs.length ? { cgroupsPath: input.cgroups.cgroupsPath } : {}),
    },
    skiff: {
      overlay: { lower: input.lower ?? lowerDirs(rec.Layers), upper: f.upper, work: f.work, userxattr: rootless },
      exitFile: f.exit,
      pidFile: f.pid,
      ...(rec.HostConfig.AutoRemove ? { remove: [f.dir] } : {}),
      idmapHelpers: helpers,
      seccompCache: path.join(paths().runroot, 'seccomp'),
      ...(input.cgroups?.dirs.length ? { cgroups: input.cgroups.dirs } : {}),
    },
  };
}
