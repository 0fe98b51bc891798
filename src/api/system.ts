/** `/_ping`, `/version`, `/info`: what clients ask first (API version negotiation) and `docker info`. */
import fs from 'node:fs';
import os from 'node:os';
import { paths } from '../config.js';
import { containerState } from '../container/state.js';
import { cgroupLayout } from '../container/cgroup.js';
import { engineVersion, skiffVersion } from '../lib/version.js';
import { listContainers } from '../store/containers.js';
import { listImages } from '../store/images.js';
import { sendJson } from './http.js';
import type { Route } from './router.js';

function osName(): string {
  try {
    const text = fs.readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/** Docker reports "1" on v1 and hybrid machines, "2" on pure cgroup v2. */
const cgroupVersion = (): string => (cgroupLayout().mode === 'v2' ? '2' : '1');

export const systemRoutes: Route[] = [
  {
    method: 'GET', path: /^\/_ping$/,
    handle: ({ req, res }) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2, 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
    },
  },
  {
    method: 'GET', path: /^\/version$/,
    handle: ({ res }) => sendJson(res, 200, engineVersion()),
  },
  {
    method: 'GET', path: /^\/info$/,
    handle: async ({ res }) => {
      const states = listContainers().map((c) => containerState(c));
      const p = paths();
      sendJson(res, 200, {
        ID: '', Containers: states.length,
        ContainersRunning: states.filter((s) => s.Running && !s.Paused).length,
        ContainersPaused: states.filter((s) => s.Paused).length,
        ContainersStopped: states.filter((s) => !s.Running).length,
        Images: (await listImages()).length,
        Driver: 'overlay', DriverStatus: [], DockerRootDir: p.root, Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Log: ['json-file', 'none'] },
        MemoryLimit: false, SwapLimit: false, CpuCfsPeriod: false, CpuCfsQuota: false, CPUShares: false, CPUSet: false, PidsLimit: false,
        IPv4Forwarding: true, Debug: false, NFd: 0, NGoroutines: 0, SystemTime: new Date().toISOString(), LoggingDriver: 'json-file',
        CgroupDriver: 'cgroupfs', CgroupVersion: cgroupVersion(), NEventsListener: 0, KernelVersion: os.release(), OperatingSystem: osName(),
        OSVersion: '', OSType: 'linux', Architecture: os.machine(), IndexServerAddress: 'https://index.docker.io/v1/',
        RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8'], Mirrors: [] },
        NCPU: os.cpus().length, MemTotal: os.totalmem(), Name: os.hostname(), Labels: [], ExperimentalBuild: false,
        ServerVersion: skiffVersion(), Runtimes: { skiff: { path: 'skiff-shim' } }, DefaultRuntime: 'skiff', Swarm: { LocalNodeState: 'inactive' },
        LiveRestoreEnabled: true, Isolation: '', InitBinary: 'skiff-init', SecurityOptions: ['name=seccomp,profile=builtin', ...(p.rootless ? ['name=rootless'] : [])],
        Warnings: [],
      });
    },
  },
];
