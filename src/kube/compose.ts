/**
 * A compose service (src/compose/model.ts) → ContainerSpec, for `generate --compose`. Compose's
 * durations are milliseconds and become Docker's nanoseconds here; named volumes take the project's
 * engine names (`PROJECT_KEY`). What has no Kubernetes counterpart is a warning naming the key.
 */
import type { Project, Service } from '../compose/model.js';
import { emptyContainer, type ContainerSpec, type MountSpec, type Protocol } from './model.js';
import { tmpfsOptions } from './docker.js';
import { parseRestart } from './policy.js';
import type { KubeWarning } from './errors.js';

/** Service keys with no Kubernetes field that generate leaves out (with a warning each). */
const UNMAPPED: [keyof Service, string][] = [
  ['volumesFrom', 'volumes_from'], ['networkMode', 'network_mode'], ['extraHosts', 'extra_hosts'], ['dns', 'dns'],
  ['dnsSearch', 'dns_search'], ['dnsOpt', 'dns_opt'], ['secrets', 'secrets'], ['configs', 'configs'], ['ulimits', 'ulimits'],
  ['sysctls', 'sysctls'], ['shmSize', 'shm_size'], ['logging', 'logging'], ['domainname', 'domainname'], ['securityOpt', 'security_opt'],
];

function present(v: unknown): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

export function containerFromService(project: Project, s: Service, warn: (w: KubeWarning) => void): ContainerSpec {
  const w = (message: string): void => warn({ kind: 'service', name: s.name, message });
  let image = s.image;
  if (!image) {
    image = `${project.name}-${s.name}`;
    w(`has no image (build only): the cluster needs one it can pull; written as ${image} (compose's name for the built image)`);
  }
  const c = emptyContainer(s.name, image);
  if (s.entrypoint !== undefined) c.entrypoint = s.entrypoint;
  if (s.command !== undefined) c.cmd = s.command;
  for (const [k, v] of Object.entries(s.environment)) {
    if (v === null) w(`environment ${k} has no value and is left out`);
    else c.env[k] = v;
  }
  for (const p of s.ports) {
    const range = p.published?.includes('-');
    if (range) w(`ports: the host port range ${p.published} cannot be said in Kubernetes: its first port is used`);
    const hostPort = p.published === undefined ? 0 : Number(p.published.split('-')[0]);
    c.ports.push({ containerPort: p.target, protocol: p.protocol, hostPort, ...(p.hostIp && p.hostIp !== '0.0.0.0' ? { hostIp: p.hostIp } : {}) });
  }
  for (const e of s.expose) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(e);
    if (!m) continue;
    for (let port = Number(m[1]); port <= Number(m[2] ?? m[1]); port++) {
      if (!c.ports.some((p) => p.containerPort === port && p.protocol === (m[3] ?? 'tcp'))) c.ports.push({ containerPort: port, protocol: (m[3] ?? 'tcp') as Protocol });
    }
  }
  for (const v of s.volumes) {
    let m: MountSpec | undefined;
    if (v.type === 'bind' && v.source) m = { type: 'bind', source: v.source, target: v.target, readOnly: v.readOnly };
    else if (v.type === 'volume' && v.source) m = { type: 'volume', name: project.volumes[v.source]?.name ?? v.source, target: v.target, readOnly: v.readOnly, ...(v.volume?.subpath ? { subPath: v.volume.subpath } : {}) };
    else if (v.type === 'volume') m = { type: 'anonymous', target: v.target, readOnly: v.readOnly };
    else if (v.type === 'tmpfs') m = { type: 'tmpfs', target: v.target, ...(v.tmpfs?.size ? { sizeBytes: v.tmpfs.size } : {}), ...(v.tmpfs?.mode !== undefined ? { mode: v.tmpfs.mode } : {}) };
    if (m) c.mounts.push(m);
    else w(`volumes: a ${v.type} volume at ${v.target} has no Kubernetes counterpart and is left out`);
  }
  for (const t of s.tmpfs) {
    const colon = t.indexOf(':');
    c.mounts.push({ type: 'tmpfs', target: colon < 0 ? t : t.slice(0, colon), ...(colon < 0 ? {} : tmpfsOptions(t.slice(colon + 1))) });
  }
  if (s.limits.memory) c.memory = s.limits.memory;
  if (s.limits.cpus) c.nanoCpus = Math.round(s.limits.cpus * 1e9);
  if (s.limits.pids) c.pidsLimit = s.limits.pids;
  const h = s.healthcheck;
  if (h && !h.disable) {
    if (!h.test) w('healthcheck: without a test (the image\'s) there is no command to probe with: left out');
    else if (h.test[0] !== 'NONE') {
      c.healthcheck = { Test: h.test };
      if (h.interval !== undefined) c.healthcheck.Interval = h.interval * 1e6;
      if (h.timeout !== undefined) c.healthcheck.Timeout = h.timeout * 1e6;
      if (h.startPeriod !== undefined) c.healthcheck.StartPeriod = h.startPeriod * 1e6;
      if (h.startInterval !== undefined) c.healthcheck.StartInterval = h.startInterval * 1e6;
      if (h.retries !== undefined) c.healthcheck.Retries = h.retries;
    }
  }
  c.restart = parseRestart(s.restart ?? 'no') ?? { Name: 'no', MaximumRetryCount: 0 };
  if (s.user) c.user = s.user;
  if (s.workingDir) c.workingDir = s.workingDir;
  c.labels = { ...s.labels };
  c.capAdd = s.capAdd;
  c.capDrop = s.capDrop;
  c.readOnlyRootfs = s.readOnly;
  c.privileged = s.privileged;
  c.noNewPrivileges = s.securityOpt.some((o) => /^no-new-privileges(?:[:=]true)?$/.test(o));
  c.tty = s.tty;
  c.stdin = s.stdinOpen;
  c.init = s.init === true;
  if (s.stopSignal) c.stopSignal = s.stopSignal;
  if (s.stopGracePeriod !== undefined) c.stopTimeout = Math.ceil(s.stopGracePeriod / 1000);
  if (s.hostname) c.hostname = s.hostname;
  for (const [field, key] of UNMAPPED) {
    if (field === 'securityOpt' && s.securityOpt.every((o) => /^no-new-privileges/.test(o))) continue;
    if (present(s[field])) w(`${key} has no Kubernetes counterpart here and is left out`);
  }
  for (const key of s.unsupported) w(`${key} is not supported by skiff and is left out`);
  return c;
}
