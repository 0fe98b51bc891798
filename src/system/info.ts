/**
 * `info` and the Engine API's /info: Docker's system.Info fields that scripts read, from the store
 * (counts), the machine (kernel, OS, CPUs, memory) and the cgroup layout (driver, version, which
 * limits a container can get here).
 */
import fs from 'node:fs';
import os from 'node:os';
import { paths } from '../config.js';
import { cgroupLayout, planCgroups } from '../container/cgroup.js';
import { containerState } from '../container/state.js';
import { randomHex } from '../lib/random.js';
import { skiffVersion } from '../lib/version.js';
import { writeFileAtomicSync } from '../store/atomic.js';
import { listContainers } from '../store/containers.js';
import { listImages } from '../store/images.js';
import { storeIdFile } from '../store/layout.js';

export function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/** Docker reports "1" on v1 and hybrid machines, "2" on pure cgroup v2. */
export const cgroupVersion = (): string => (cgroupLayout().mode === 'v2' ? '2' : '1');

/** The store's id: made once (a UUID, as Docker's engine ID), kept in the store. */
function storeId(): string {
  const file = storeIdFile();
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (id) return id;
  } catch {
    /* first use */
  }
  const h = randomHex(16);
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20)}`;
  try {
    fs.linkSync(stageId(file, id), file); // the first writer's id wins; a reader never sees a partial one
  } catch {
    /* another invocation made it */
  }
  fs.rmSync(`${file}.${process.pid}`, { force: true });
  return fs.readFileSync(file, 'utf8').trim() || id;
}

function stageId(file: string, id: string): string {
  const tmp = `${file}.${process.pid}`;
  writeFileAtomicSync(tmp, `${id}\n`, 0o644);
  return tmp;
}

/** The filesystem type under the store, as Docker's "Backing Filesystem". */
function backingFs(dir: string): string {
  const types: Record<string, string> = { ef53: 'extfs', '58465342': 'xfs', '9123683e': 'btrfs', '1021994': 'tmpfs', '2fc12fc1': 'zfs', '794c7630': 'overlayfs' };
  try {
    return types[fs.statfsSync(dir).type.toString(16)] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Docker's system.Info, the fields skiff can answer. */
export async function systemInfo(): Promise<Record<string, unknown>> {
  const p = paths();
  const states = listContainers().map((c) => containerState(c));
  const layout = cgroupLayout();
  // limits apply where a container gets cgroups of its own (rootless: a delegated v2 group)
  const limits = planCgroups('info', p.rootless, layout).dirs.length > 0;
  const v1 = (c: string): boolean => limits && (p.rootless || layout.mode === 'v2' || layout.v1.has(c));
  return {
    ID: storeId(),
    Containers: states.length,
    ContainersRunning: states.filter((s) => s.Running && !s.Paused).length,
    ContainersPaused: states.filter((s) => s.Paused).length,
    ContainersStopped: states.filter((s) => !s.Running).length,
    Images: (await listImages()).length,
    Driver: 'overlay',
    DriverStatus: [['Backing Filesystem', backingFs(p.root)], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true'], ['userxattr', String(p.rootless)]],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file', 'none'] },
    MemoryLimit: v1('memory'), SwapLimit: v1('memory'), CpuCfsPeriod: v1('cpu'), CpuCfsQuota: v1('cpu'), CPUShares: v1('cpu'), CPUSet: v1('cpuset'),
    PidsLimit: v1('pids'), OomKillDisable: layout.mode !== 'v2' && v1('memory'),
    IPv4Forwarding: true, Debug: false, NFd: 0, NGoroutines: 0, SystemTime: new Date().toISOString(), LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs', CgroupVersion: cgroupVersion(), NEventsListener: 0, KernelVersion: os.release(), OperatingSystem: osName(),
    OSVersion: /^VERSION_ID="?([^"\n]*)"?/m.exec(fs.existsSync('/etc/os-release') ? fs.readFileSync('/etc/os-release', 'utf8') : '')?.[1] ?? '',
    OSType: 'linux', Architecture: os.machine(), IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128'], Mirrors: [] },
    NCPU: os.cpus().length, MemTotal: os.totalmem(), GenericResources: null, DockerRootDir: p.root, HttpProxy: process.env.HTTP_PROXY ?? '',
    HttpsProxy: process.env.HTTPS_PROXY ?? '', NoProxy: process.env.NO_PROXY ?? '', Name: os.hostname(), Labels: [], ExperimentalBuild: false,
    ServerVersion: skiffVersion(), Runtimes: { skiff: { path: 'skiff-shim' } }, DefaultRuntime: 'skiff', Swarm: { LocalNodeState: 'inactive' },
    LiveRestoreEnabled: true, Isolation: '', InitBinary: 'skiff-init', SecurityOptions: ['name=seccomp,profile=builtin', ...(p.rootless ? ['name=rootless'] : []), 'name=cgroupns'],
    Warnings: limits ? [] : ['WARNING: containers get no cgroup of their own here: resource limits cannot be applied'],
  };
}
