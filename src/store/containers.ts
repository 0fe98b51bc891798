/**
 * Container records: containers/<id>/config.json (what was asked for, Docker's field names),
 * containers/<id>/state.json (start observations, written by the CLI), and the files the shim
 * writes beside them: `pid` (init's host pid) and `exit.json` (exit code, finish time).
 * Names are unique: containers/names/<name> is a symlink to the id holding it, claimed under the
 * 'containers' lock (a link whose container is gone is stale and free). A container exists exactly
 * while its directory does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { containerDir, containerNamesDir, dirs } from './layout.js';
import { readJson, readJsonSync, removeTree, stagingPath, writeJsonAtomic } from './atomic.js';
import { withLock } from './lock.js';
import { SkiffError } from '../errors.js';

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  Env: string[];
  Cmd: string[] | null;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  /** seconds `stop` waits before SIGKILL (--stop-timeout; default 10) */
  StopTimeout?: number;
  /** Podman's: the `skiff run`/`create` command line that made the container (generate systemd --new) */
  CreateCommand?: string[];
  /** Docker's HEALTHCHECK (durations in ns); from the image, --health-* or absent. */
  Healthcheck?: HealthConfig;
  /** the image's EXPOSE, --expose and -p ports ("80/tcp": {}) */
  ExposedPorts?: Record<string, Record<string, never>>;
  /** --mac-address */
  MacAddress?: string;
}

export interface HealthConfig {
  /** ["CMD", arg...], ["CMD-SHELL", "cmd"] or ["NONE"] */
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'on-failure' | 'always' | 'unless-stopped';
  MaximumRetryCount: number;
}

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

export interface MountPoint {
  Type: 'bind' | 'tmpfs' | 'volume';
  /** volumes: the volume's name (64 hex for an anonymous one), as Docker's inspect shows */
  Name?: string;
  /** volumes: "local" */
  Driver?: string;
  Source: string;
  Destination: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** Docker's HostConfig.Devices[] (what `--device` asked for, as `inspect` shows it). */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** Docker's HostConfig.Ulimits[] (--ulimit name=soft[:hard]; -1: unlimited). */
export interface Ulimit {
  Name: string;
  Hard: number;
  Soft: number;
}

/** Docker's blkiodev.ThrottleDevice: a block device by path and its rate. */
export interface ThrottleDevice {
  Path: string;
  Rate: number;
}

export interface HostConfig {
  Binds: string[] | null;
  VolumesFrom?: string[];
  NetworkMode: string;
  /** `host`, `container:ID` (that container's namespace: container/namespaces.ts), IPC also `shareable`/`private`/`none`; absent: its own */
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  /** --userns as given: host (rootful: no user namespace, as without it), keep-id[:uid=U,gid=G] (rootless) */
  UsernsMode?: string;
  /** --cgroup-parent as given; absent: skiff's own (`/skiff`) */
  CgroupParent?: string;
  /** --cgroupns host|private; absent: private (Docker's default on cgroup v2) */
  CgroupnsMode?: 'host' | 'private';
  /** --sysctl (container/sysctl.ts); absent: none */
  Sysctls?: Record<string, string>;
  /** --group-add as given (names or numbers); absent: none */
  GroupAdd?: string[];
  AutoRemove: boolean;
  Privileged: boolean;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  Init: boolean;
  MaskedPaths: string[];
  ReadonlyPaths: string[];
  Tmpfs: Record<string, string> | null;
  /** --device (Docker's fields); absent: none */
  Devices?: DeviceMapping[];
  /** --device-cgroup-rule; absent: none */
  DeviceCgroupRules?: string[];
  /** Optional: records written before these existed lack them (read as "no" and json-file). */
  RestartPolicy?: RestartPolicy;
  LogConfig?: LogConfig;
  /** Resource limits (Docker's names and units; src/container/resources.ts); absent: not set. */
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number;
  BlkioWeight?: number;
  /** --device-read-bps/--device-write-bps (bytes per second), --device-read-iops/--device-write-iops */
  BlkioDeviceReadBps?: ThrottleDevice[];
  BlkioDeviceWriteBps?: ThrottleDevice[];
  BlkioDeviceReadIOps?: ThrottleDevice[];
  BlkioDeviceWriteIOps?: ThrottleDevice[];
  OomKillDisable?: boolean;
  OomScoreAdj?: number;
  Ulimits?: Ulimit[];
  ShmSize?: number;
  /** -p (Docker's PortMap: "80/tcp" → [{HostIp, HostPort}]), -P */
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[]>;
  PublishAllPorts?: boolean;
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  /** --add-host as "name:ip" (ip may be host-gateway) */
  ExtraHosts?: string[] | null;
}

/** A network the container joins at start, with its options (Docker's EndpointSettings as given). */
export interface EndpointConfig {
  Aliases: string[] | null;
  IPAMConfig: { IPv4Address?: string } | null;
  MacAddress?: string;
}

export interface ContainerRecord {
  Id: string;
  Name: string; // without the leading slash
  Created: string;
  Path: string;
  Args: string[];
  Image: string; // image id
  ImageName: string; // as the user gave it
  Config: ContainerConfig;
  HostConfig: HostConfig;
  Mounts: MountPoint[];
  Rootless: boolean;
  /** Chain ids of the image's layers, bottom first. */
  Layers: string[];
  /** The container's own cgroup dirs (skiff.cgroups of its spec); absent: none. */
  CgroupDirs?: string[];
  /** The networks joined at start (bridge-like network modes; absent: the default network). */
  Networks?: Record<string, EndpointConfig>;
}

export interface StartState {
  StartedAt: string;
  BootId: string;
  /** Set for detached containers whose monitor is the shim. */
  Detached: boolean;
  /** The shim that runs the container (its monitor until monitor.json says otherwise). */
  ShimPid?: number;
}

export interface ExitInfo {
  exitCode: number;
  signal: number | null;
  finishedAt: string;
  error: string;
}

/** monitor.json, written by the detached container's monitor. */
export interface MonitorState {
  monitorPid: number;
  restartCount: number;
  restarting: boolean;
}

/** health.json: Docker's Health object, written by the monitor. */
export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

// Plain concatenation: `dir` is absolute and normalised already (path.join costs, per file and record).
export const containerFiles = (id: string) => {
  const dir = containerDir(id);
  return {
    dir,
    config: `${dir}/config.json`,
    state: `${dir}/state.json`,
    pid: `${dir}/pid`,
    exit: `${dir}/exit.json`,
    bundle: `${dir}/bundle`,
    spec: `${dir}/bundle/config.json`,
    rootfs: `${dir}/bundle/rootfs`,
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    hosts: `${dir}/hosts`,
    hostname: `${dir}/hostname`,
    resolv: `${dir}/resolv.conf`,
    /** the network status the shim wrote at the last start (interfaces, host ports) */
    network: `${dir}/network.json`,
    /** Docker's json-file log (rotated copies: .1, .2, ...), written by the monitor */
    log: `${dir}/${id}-json.log`,
    /** {monitorPid, restartCount, restarting}, written by the monitor */
    monitor: `${dir}/monitor.json`,
    /** Docker's Health object, written by the monitor */
    health: `${dir}/health.json`,
    /** the health check's process.json (written by the CLI at start) */
    healthProcess: `${dir}/health-process.json`,
    /** "ROWS COLS" of the attached terminal (attach writes it, then sends the monitor SIGWINCH) */
    winsize: `${dir}/winsize`,
    /** exists while the user stopped the container: no restart policy applies */
    stopped: `${dir}/stopped`,
    /** the pid of a command holding the running container frozen (cp): a freeze whose holder died is undone by whoever sees it (state.c) */
    freezeHolder: `${dir}/freeze-holder`,
    /** unix socket of the monitor's attach server (short: sun_path holds 108 bytes) */
    attach: `${dirs().runroot}/attach/${id.slice(0, 20)}`,
  };
};

export function listContainerIds(): string[] {
  return fs.readdirSync(dirs().containers).filter((n) => /^[0-9a-f]{64}$/.test(n));
}

export function readContainer(id: string): ContainerRecord | undefined {
  try {
    return readJsonSync<ContainerRecord>(`${containerDir(id)}/config.json`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

export function listContainers(): ContainerRecord[] {
  const out: ContainerRecord[] = [];
  for (const id of listContainerIds()) {
    const rec = readContainer(id);
    if (rec) out.push(rec);
  }
  return out;
}

// ---- names: containers/names/<name> → id (symlinks), changed under the 'containers' lock ----------

const nameLink = (name: string): string => path.join(containerNamesDir(), name);

function nameOwner(name: string): string | undefined {
  try {
    return fs.readlinkSync(nameLink(name));
  } catch {
    return undefined;
  }
}

/** The names index, made from the records once (stores from before it existed). Under the lock. */
function ensureNames(): void {
  if (fs.existsSync(containerNamesDir())) return;
  const staging = path.join(dirs().tmp, `${process.pid}-names-${Date.now()}`);
  fs.mkdirSync(staging, { mode: 0o700 });
  for (const rec of listContainers()) fs.symlinkSync(rec.Id, path.join(staging, rec.Name));
  fs.renameSync(staging, containerNamesDir());
}

/** Take `name` for `id`; returns the id holding it instead when it is taken. Under the lock. */
function claimName(name: string, id: string): string | undefined {
  try {
    fs.symlinkSync(id, nameLink(name));
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const owner = nameOwner(name);
  if (owner === id) return undefined;
  if (owner && fs.existsSync(containerFiles(owner).config)) return owner;
  // stale: its container was never committed or is gone
  fs.rmSync(nameLink(name), { force: true });
  fs.symlinkSync(id, nameLink(name));
  return undefined;
}

function releaseName(name: string, id: string): void {
  if (nameOwner(name) === id) fs.rmSync(nameLink(name), { force: true });
}

const nameInUse = (name: string, owner: string): SkiffError =>
  new SkiffError(
    'ECONFLICT',
    `the container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`,
  );

/** Docker's lookup order: full id, exact name, unique id prefix. */
export function findContainer(ref: string): ContainerRecord {
  const name = ref.replace(/^\//, '');
  const byId = /^[0-9a-f]{64}$/.test(ref) ? readContainer(ref) : undefined;
  if (byId) return byId;
  if (fs.existsSync(containerNamesDir())) {
    const owner = nameOwner(name);
    const rec = owner ? readContainer(owner) : undefined;
    if (rec && rec.Name === name) return rec;
  } else {
    const rec = listContainers().find((c) => c.Name === name);
    if (rec) return rec;
  }
  const byPrefix = /^[0-9a-f]+$/.test(ref) ? listContainerIds().filter((id) => id.startsWith(ref)) : [];
  if (byPrefix.length > 1) throw new SkiffError('EINVAL', `multiple containers match prefix "${ref}": use more characters`);
  const rec = byPrefix.length === 1 ? readContainer(byPrefix[0]!) : undefined;
  if (rec) return rec;
  throw new SkiffError('ENOCONTAINER', `No such container: ${ref}`, 1);
}

/**
 * Create the container's directory with its record; fails if the name is taken. The directory is
 * prepared in staging outside the lock; under it only the name is claimed (one symlink, O(1)) and
 * the directory renamed into place. `pickName` (generated names) is asked again on a clash; for a
 * given name `reclaim(owner)` may free it (a --rm container nobody removed), outside the lock, once.
 */
export async function createContainerDir(
  rec: ContainerRecord, prepare: (dir: string) => Promise<void>, pickName?: () => string,
  reclaim?: (owner: string) => Promise<boolean>,
): Promise<void> {
  const staging = await stagingPath('ctr');
  // synchronous steps: `run` loads no node:fs/promises (docs/design/startup.md, start-up path 4)
  fs.mkdirSync(staging, { mode: 0o711 });
  try {
    await prepare(staging);
    for (let retried = false; ; retried = true) {
      const owner = await withLock('containers', async () => {
        ensureNames();
        for (let tries = 0; ; tries++) {
          const taken = claimName(rec.Name, rec.Id);
          if (taken === undefined) break;
          if (!pickName) return taken;
          if (tries > 100) throw nameInUse(rec.Name, taken);
          rec.Name = pickName();
        }
        try {
          await writeJsonAtomic(path.join(staging, 'config.json'), rec);
          fs.renameSync(staging, containerDir(rec.Id));
        } catch (e) {
          releaseName(rec.Name, rec.Id);
          throw e;
        }
        return undefined;
      });
      if (owner === undefined) return;
      if (retried || !reclaim || !(await reclaim(owner))) throw nameInUse(rec.Name, owner);
    }
  } catch (e) {
    await fs.promises.rm(staging, { recursive: true, force: true });
    throw e;
  }
}

/** `rename`: the new name is claimed and the record rewritten under the lock. */
export async function renameContainer(id: string, newName: string): Promise<void> {
  await withLock('containers', async () => {
    ensureNames();
    const rec = readContainer(id);
    if (!rec) throw new SkiffError('ENOCONTAINER', `No such container: ${id}`, 1);
    const owner = claimName(newName, id);
    if (owner !== undefined) throw new SkiffError('ECONFLICT', `Error when allocating new name: ${nameInUse(newName, owner).message}`);
    const old = rec.Name;
    try {
      await writeJsonAtomic(containerFiles(id).config, { ...rec, Name: newName });
    } catch (e) {
      releaseName(newName, id);
      throw e;
    }
    releaseName(old, id);
  });
}

/** `update`: the record's HostConfig changed under the lock `rename` rewrites the record under. */
export async function updateHostConfig(id: string, patch: Partial<HostConfig>): Promise<ContainerRecord> {
  return withLock('containers', async () => {
    const rec = readContainer(id);
    if (!rec) throw new SkiffError('ENOCONTAINER', `No such container: ${id}`, 1);
    const next = { ...rec, HostConfig: { ...rec.HostConfig, ...patch } };
    await writeJsonAtomic(containerFiles(id).config, next);
    return next;
  });
}

/** Rewrite a record whose name stays (network connect/disconnect). */
export async function writeRecord(rec: ContainerRecord): Promise<void> {
  await writeJsonAtomic(containerFiles(rec.Id).config, rec);
}

export async function writeStartState(id: string, st: StartState): Promise<void> {
  await writeJsonAtomic(containerFiles(id).state, st);
}

export function readStartState(id: string): StartState | undefined {
  return readJsonSync<StartState>(containerFiles(id).state);
}

export function readExit(id: string): ExitInfo | undefined {
  return readJsonSync<ExitInfo>(containerFiles(id).exit);
}

export async function readExitAsync(id: string): Promise<ExitInfo | undefined> {
  return readJson<ExitInfo>(containerFiles(id).exit);
}

export function readMonitor(id: string): MonitorState | undefined {
  return readJsonSync<MonitorState>(containerFiles(id).monitor);
}

export function readHealth(id: string): HealthState | undefined {
  return readJsonSync<HealthState>(containerFiles(id).health);
}

export function readPid(id: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(containerFiles(id).pid, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Clear the run-time files before a (re)start (the user's `stopped` marker too). */
export async function resetRunFiles(id: string): Promise<void> {
  const f = containerFiles(id);
  await Promise.all([f.pid, f.exit, f.state, f.monitor, f.health, f.stopped, f.freezeHolder].map((p) => fs.promises.rm(p, { force: true })));
}

/** `stop`/`kill`/`rm -f`: mark the container as stopped by the user before signalling it. */
export function markStopped(id: string): void {
  try {
    fs.writeFileSync(containerFiles(id).stopped, '');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // the container is gone (--rm)
  }
}

/** The health check that applies to a container (the command the monitor probes with), or undefined (none, or disabled by NONE). */
export function activeHealthcheck(rec: ContainerRecord): string[] | undefined {
  const t = rec.Config.Healthcheck?.Test;
  if (!t || t.length === 0 || t[0] === 'NONE') return undefined;
  if (t[0] === 'CMD-SHELL') return ['/bin/sh', '-c', t.slice(1).join(' ')];
  if (t[0] === 'CMD') return t.length > 1 ? t.slice(1) : undefined;
  return t; // a bare list (old images): the command itself
}

/**
 * Remove a container's directory: renamed away first so it disappears atomically, then its name (if
 * the link still names it), then the files (by `deleteTree`: a rootless container's files belong to
 * subordinate ids; what it leaves stays in a staging entry of this pid, which a later sweep removes).
 */
export async function removeContainerDir(id: string, o: { deleteTree?: (dir: string) => Promise<void> } = {}): Promise<void> {
  const trash = await stagingPath('rm-ctr');
  const name = readContainer(id)?.Name;
  try {
    await fs.promises.rename(containerDir(id), trash);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (name !== undefined) await withLock('containers', async () => releaseName(name, id));
  await (o.deleteTree ? o.deleteTree(trash) : removeTree(trash));
}

/** Drop the names index's links whose container is gone (a record removed by an older skiff, say). */
export async function sweepNames(): Promise<number> {
  return withLock('containers', async () => {
    let n = 0;
    let links: string[];
    try {
      links = fs.readdirSync(containerNamesDir());
    } catch {
      return 0;
    }
    for (const name of links) {
      const owner = nameOwner(name);
      if (owner !== undefined && fs.existsSync(containerFiles(owner).config)) continue;
      fs.rmSync(nameLink(name), { force: true });
      n++;
    }
    return n;
  });
}
