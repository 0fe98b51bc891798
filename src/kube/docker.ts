/**
 * A container record (Docker's inspect shape, src/store/containers.ts) -> ContainerSpec, for `generate`.
 * Fields that arrive with later work (published ports, resource limits) are read optionally under
 * Docker's inspect names and units: HostConfig.PortBindings, Memory, MemoryReservation, NanoCpus,
 * CpuQuota/CpuPeriod, CpuShares, PidsLimit, Tmpfs; Config.ExposedPorts.
 *
 * A record holds what is in effect, the image's values included. With the image's config at hand,
 * what equals the image's is left out (as podman does): the cluster takes it from the image anyway.
 * Without it, only what skiff itself adds is left out: HOSTNAME, the default PATH, TERM=xterm of a tty,
 * HOME=/root or / (set by the runtime from /etc/passwd in both worlds).
 */
import type { ContainerRecord, HealthConfig } from '../store/containers.js';
import { parseSize } from '../lib/units.js';
import { emptyContainer, type ContainerSpec, type MountSpec, type PortSpec, type Protocol } from './model.js';

/** Docker's `"80/tcp": [{HostIp, HostPort}]`. */
export type PortBindings = Record<string, { HostIp?: string; HostPort?: string }[] | null>;

/** The record, with the fields later work adds (all optional, Docker's names and units). */
export interface DockerRecord extends ContainerRecord {
  Config: ContainerRecord['Config'] & { ExposedPorts?: Record<string, object> | null };
  HostConfig: ContainerRecord['HostConfig'] & {
    PortBindings?: PortBindings | null;
    /** bytes */
    Memory?: number;
    MemoryReservation?: number;
    NanoCpus?: number;
    CpuQuota?: number;
    CpuPeriod?: number;
    CpuShares?: number;
    PidsLimit?: number | null;
  };
}

/** The image's config (Docker's names), for leaving out what the image says already. */
export interface ImageDefaults {
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  StopSignal?: string;
}

export interface DockerContainerInput {
  record: DockerRecord;
  image?: ImageDefaults;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ANONYMOUS = /^[0-9a-f]{64}$/;
const same = (a: readonly string[] | null | undefined, b: readonly string[] | null | undefined): boolean => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

function splitPort(key: string): { port: number; protocol: Protocol } | undefined {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
  return m ? { port: Number(m[1]), protocol: (m[2] ?? 'tcp') as Protocol } : undefined;
}

function ports(rec: DockerRecord, image: ImageDefaults | undefined): PortSpec[] {
  const out: PortSpec[] = [];
  const seen = new Set<string>();
  for (const [key, binds] of Object.entries(rec.HostConfig.PortBindings ?? {})) {
    const p = splitPort(key);
    if (!p) continue;
    seen.add(`${p.port}/${p.protocol}`);
    for (const b of binds ?? [{}]) {
      const hostIp = b.HostIp && b.HostIp !== '0.0.0.0' && b.HostIp !== '::' ? b.HostIp : undefined;
      out.push({ containerPort: p.port, protocol: p.protocol, hostPort: b.HostPort ? Number(b.HostPort) : 0, ...(hostIp ? { hostIp } : {}) });
    }
  }
  for (const key of Object.keys(rec.Config.ExposedPorts ?? {})) {
    const p = splitPort(key);
    if (!p || seen.has(`${p.port}/${p.protocol}`) || (image?.ExposedPorts && key in image.ExposedPorts)) continue;
    seen.add(`${p.port}/${p.protocol}`);
    out.push({ containerPort: p.port, protocol: p.protocol });
  }
  return out;
}

/** `size=64m,mode=1777` (Docker's --tmpfs options). */
export function tmpfsOptions(opts: string): { sizeBytes?: number; mode?: number } {
  const out: { sizeBytes?: number; mode?: number } = {};
  for (const o of opts.split(',')) {
    const [k, v] = o.split('=', 2) as [string, string | undefined];
    if (k === 'size' && v) {
      try {
        out.sizeBytes = parseSize(v);
      } catch {
        /* Docker would have refused it at create */
      }
    } else if (k === 'mode' && v && /^[0-7]+$/.test(v)) out.mode = parseInt(v, 8);
  }
  return out;
}

function mounts(rec: DockerRecord): MountSpec[] {
  const out: MountSpec[] = [];
  const targets = new Set<string>();
  for (const m of rec.Mounts ?? []) {
    targets.add(m.Destination);
    if (m.Type === 'bind') out.push({ type: 'bind', source: m.Source, target: m.Destination, readOnly: !m.RW });
    else if (m.Type === 'volume') {
      const name = m.Name ?? '';
      out.push(name === '' || ANONYMOUS.test(name) ? { type: 'anonymous', target: m.Destination, readOnly: !m.RW } : { type: 'volume', name, target: m.Destination, readOnly: !m.RW });
    } else if (m.Type === 'tmpfs') out.push({ type: 'tmpfs', target: m.Destination, ...tmpfsOptions(m.Mode ?? '') });
  }
  for (const [target, opts] of Object.entries(rec.HostConfig.Tmpfs ?? {})) {
    if (!targets.has(target)) out.push({ type: 'tmpfs', target, ...tmpfsOptions(opts) });
  }
  return out;
}

function env(rec: DockerRecord, image: ImageDefaults | undefined): Record<string, string> {
  const fromImage = new Set(image?.Env ?? []);
  const out: Record<string, string> = {};
  for (const e of rec.Config.Env ?? []) {
    const eq = e.indexOf('=');
    const k = eq < 0 ? e : e.slice(0, eq);
    const v = eq < 0 ? '' : e.slice(eq + 1);
    if (fromImage.has(e) || k === 'HOSTNAME') continue;
    if (k === 'PATH' && v === DEFAULT_PATH) continue;
    if (k === 'TERM' && v === 'xterm' && rec.Config.Tty) continue;
    if (k === 'HOME' && (v === '/root' || v === '/')) continue;
    out[k] = v;
  }
  return out;
}

/** Docker's ENTRYPOINT and CMD as the spec's, the image's left out where the image says them. */
function command(rec: DockerRecord, image: ImageDefaults | undefined): Pick<ContainerSpec, 'entrypoint' | 'cmd'> {
  const ep = rec.Config.Entrypoint ?? [];
  const cmd = rec.Config.Cmd ?? [];
  if (image) {
    if (same(ep, image.Entrypoint)) return same(cmd, image.Cmd) ? {} : { cmd };
    return { entrypoint: ep, cmd };
  }
  // unknown image: an empty ENTRYPOINT may be `--entrypoint ""` over the image's: say the whole argv
  if (ep.length === 0) return { entrypoint: [], cmd };
  return { entrypoint: ep, cmd };
}

function health(h: HealthConfig | undefined): ContainerSpec['healthcheck'] {
  if (!h || !h.Test || h.Test.length === 0 || h.Test[0] === 'NONE') return undefined;
  return h;
}

export function containerFromRecord({ record: rec, image }: DockerContainerInput): ContainerSpec {
  const c = emptyContainer(rec.Name, rec.Config.Image || rec.ImageName);
  const hc = rec.HostConfig;
  Object.assign(c, command(rec, image));
  c.env = env(rec, image);
  c.ports = ports(rec, image);
  c.mounts = mounts(rec);
  if (hc.Memory) c.memory = hc.Memory;
  if (hc.MemoryReservation) c.memoryReservation = hc.MemoryReservation;
  if (hc.NanoCpus) c.nanoCpus = hc.NanoCpus;
  else if (hc.CpuQuota && hc.CpuQuota > 0) c.nanoCpus = Math.round((hc.CpuQuota / (hc.CpuPeriod || 100000)) * 1e9);
  if (hc.CpuShares) c.cpuShares = hc.CpuShares;
  if (hc.PidsLimit && hc.PidsLimit > 0) c.pidsLimit = hc.PidsLimit;
  const h = health(rec.Config.Healthcheck);
  if (h) c.healthcheck = h;
  c.restart = hc.RestartPolicy && hc.RestartPolicy.Name !== '' ? hc.RestartPolicy : { Name: 'no', MaximumRetryCount: 0 };
  if (rec.Config.User && rec.Config.User !== (image?.User ?? '')) c.user = rec.Config.User;
  if (rec.Config.WorkingDir && rec.Config.WorkingDir !== (image?.WorkingDir || '/') && rec.Config.WorkingDir !== '/') c.workingDir = rec.Config.WorkingDir;
  const imageLabels = image?.Labels ?? {};
  // io.skiff.kube.*: what `kube play` marks its containers with (the pod, the file), not the user's
  for (const [k, v] of Object.entries(rec.Config.Labels ?? {})) if (imageLabels[k] !== v && !k.startsWith('io.skiff.kube.')) c.labels[k] = v;
  c.capAdd = hc.CapAdd ?? [];
  c.capDrop = hc.CapDrop ?? [];
  c.readOnlyRootfs = hc.ReadonlyRootfs;
  c.privileged = hc.Privileged;
  c.noNewPrivileges = (hc.SecurityOpt ?? []).some((o) => /^no-new-privileges(?:[:=]true)?$/.test(o));
  c.tty = rec.Config.Tty;
  c.stdin = rec.Config.OpenStdin;
  c.init = hc.Init;
  c.autoRemove = hc.AutoRemove;
  if (rec.Config.StopSignal && rec.Config.StopSignal !== image?.StopSignal) c.stopSignal = rec.Config.StopSignal;
  if (rec.Config.StopTimeout !== undefined) c.stopTimeout = rec.Config.StopTimeout;
  // skiff's (and Docker's) default hostname is the id's first 12 characters: not the user's
  if (rec.Config.Hostname && rec.Config.Hostname !== rec.Id.slice(0, 12)) c.hostname = rec.Config.Hostname;
  return c;
}
