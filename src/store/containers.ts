/**
 * Container records: containers/<id>/config.json (what was asked for, Docker's field names),
 * containers/<id>/state.json (start observations, written by the CLI), and the files the shim
 * writes beside them: `pid` (init's host pid) and `exit.json` (exit code, finish time).
 * Names are unique; creation checks them under the 'containers' lock. There is no index file:
 * a container exists exactly while its directory does.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { containerDir, dirs } from './layout.js';
import { readJson, readJsonSync, stagingPath, writeJsonAtomic } from './atomic.js';
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
  /** Docker's HEALTHCHECK (durations in ns); from the image, --health-* or absent. */
  Healthcheck?: HealthConfig;
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
  Source: string;
  Destination: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface HostConfig {
  Binds: string[] | null;
  NetworkMode: string;
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
  /** Optional: records written before these existed lack them (read as "no" and json-file). */
  RestartPolicy?: RestartPolicy;
  LogConfig?: LogConfig;
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
}

export interface StartState {
  StartedAt: string;
  BootId: string;
  /** Set for detached containers whose monitor is the shim. */
  Detached: boolean;
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
    /** unix socket of the monitor's attach server (short: sun_path holds 108 bytes) */
    attach: `${dirs().runroot}/attach/${id.slice(0, 20)}`,
  };
};

export function listContainerIds(): string[] {
  return fs.readdirSync(dirs().containers).filter((n) => /^[0-9a-f]{64}$/.test(n));
}

export function readContainer(id: string): ContainerRecord | undefined {
  return readJsonSync<ContainerRecord>(`${containerDir(id)}/config.json`);
}

export function listContainers(): ContainerRecord[] {
  const out: ContainerRecord[] = [];
  for (const id of listContainerIds()) {
    const rec = readContainer(id);
    if (rec) out.push(rec);
  }
  return out;
}

/** Docker's lookup order: full id, exact name, unique id prefix. */
export function findContainer(ref: string): ContainerRecord {
  const name = ref.replace(/^\//, '');
  const all = listContainers();
  const exact = all.find((c) => c.Id === ref) ?? all.find((c) => c.Name === name);
  if (exact) return exact;
  const byPrefix = /^[0-9a-f]+$/.test(ref) ? all.filter((c) => c.Id.startsWith(ref)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) throw new SkiffError('EINVAL', `multiple containers match prefix "${ref}": use more characters`);
  throw new SkiffError('ENOCONTAINER', `No such container: ${ref}`, 1);
}

/**
 * Create the container's directory with its record; fails if the name is taken. Without a name
 * (`rec.Name` empty) `pickName` chooses one among the free ones: the records are read once, under
 * the lock that makes the check and the creation one step for concurrent creates.
 */
export async function createContainerDir(
  rec: ContainerRecord,
  prepare: (dir: string) => Promise<void>,
  pickName?: (taken: ReadonlySet<string>) => string,
): Promise<void> {
  await withLock('containers', async () => {
    const all = listContainers();
    if (!rec.Name) {
      if (!pickName) throw new SkiffError('EINTERNAL', 'a container needs a name');
      rec.Name = pickName(new Set(all.map((c) => c.Name)));
    }
    const clash = all.find((c) => c.Name === rec.Name);
    if (clash) {
      throw new SkiffError(
        'ECONFLICT',
        `the container name "/${rec.Name}" is already in use by container "${clash.Id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    const staging = await stagingPath('ctr');
    await fsp.mkdir(staging, { mode: 0o711 });
    try {
      await prepare(staging);
      await writeJsonAtomic(path.join(staging, 'config.json'), rec);
      await fsp.rename(staging, containerDir(rec.Id));
    } catch (e) {
      await fsp.rm(staging, { recursive: true, force: true });
      throw e;
    }
  });
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

export function readPid(id: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(containerFiles(id).pid, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function readMonitor(id: string): MonitorState | undefined {
  return readJsonSync<MonitorState>(containerFiles(id).monitor);
}

export function readHealth(id: string): HealthState | undefined {
  return readJsonSync<HealthState>(containerFiles(id).health);
}

/** Clear the run-time files before a (re)start (the log stays: Docker appends across starts). */
export async function resetRunFiles(id: string): Promise<void> {
  const f = containerFiles(id);
  await Promise.all([f.pid, f.exit, f.state, f.monitor, f.health, f.stopped].map((p) => fsp.rm(p, { force: true })));
}

/** The user stopped (or killed, or force-removed) the container: no restart policy applies. */
export function markStopped(id: string): void {
  try {
    fs.writeFileSync(containerFiles(id).stopped, '');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // the container is gone (--rm)
  }
}

/** Remove a container's directory: renamed away first so it disappears atomically. */
export async function removeContainerDir(id: string): Promise<void> {
  const trash = await stagingPath('rm-ctr');
  try {
    await fsp.rename(containerDir(id), trash);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  await fsp.rm(trash, { recursive: true, force: true });
}
