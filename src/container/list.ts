/** Rows for `ps` and the Docker-format JSON for `container inspect`. */
import { networkSettings, portsText } from './network.js';
import { SkiffError } from '../errors.js';
import { treeSize } from '../lib/du.js';
import { createdSince, goTimeString, humanSize } from '../lib/units.js';
import { containerFiles, findContainer, listContainers, type ContainerRecord } from '../store/containers.js';
import { layerMeta, lowerDirs } from '../store/layers.js';
import { reapAbandoned } from './lifecycle.js';
import { isAbandoned, observeContainer, type DockerState, type Observed } from './state.js';
import { byteOrder } from '../lib/order.js';

export interface ContainerRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Status: string;
  State: string;
  Ports: string;
  Names: string;
  Labels: string;
  Mounts: string;
  Networks: string;
  Size: string;
  /** Docker's `{{.Label "key"}}` for --format (not enumerable: not part of `{{json .}}`) */
  readonly Label?: (key: string) => string;
}

const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];

/** `ps --filter`: values of one key are alternatives, different keys must all hold (labels: all). */
export interface PsFilters {
  byKey: Map<string, string[]>;
  /** a status filter shows stopped containers too (Docker) */
  impliesAll: boolean;
}

export function parsePsFilters(list: string[]): PsFilters {
  const byKey = new Map<string, string[]>();
  for (const f of list) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new SkiffError('EINVAL', `bad format of filter (expected name=value): ${f}`);
    const k = f.slice(0, eq).trim().toLowerCase();
    const v = f.slice(eq + 1);
    if (!['status', 'name', 'id', 'label', 'ancestor', 'exited', 'health', 'before', 'since'].includes(k)) {
      throw new SkiffError('EINVAL', `invalid filter '${k}'`);
    }
    if (k === 'status' && !STATES.includes(v)) throw new SkiffError('EINVAL', `invalid filter 'status=${v}'`);
    if (k === 'health' && !HEALTH.includes(v)) throw new SkiffError('EINVAL', `Unrecognised filter value for health: ${v}`);
    if (k === 'exited' && !/^-?\d+$/.test(v)) throw new SkiffError('EINVAL', `invalid filter 'exited=${v}'`);
    byKey.set(k, [...(byKey.get(k) ?? []), v]);
  }
  return { byKey, impliesAll: byKey.has('status') };
}

function matches(rec: ContainerRecord, st: DockerState, f: PsFilters, created: Map<string, number>): boolean {
  for (const [k, values] of f.byKey) {
    const any = (pred: (v: string) => boolean): boolean => values.some(pred);
    switch (k) {
      case 'status':
        if (!any((v) => st.Status === v)) return false;
        break;
      case 'name':
        if (!any((v) => new RegExp(v).test(rec.Name) || new RegExp(v).test(`/${rec.Name}`))) return false;
        break;
      case 'id':
        if (!any((v) => rec.Id.startsWith(v) || new RegExp(v).test(rec.Id))) return false;
        break;
      case 'label':
        for (const v of values) {
          const [lk, lv] = v.split('=', 2) as [string, string?];
          if (!(lk in rec.Config.Labels) || (lv !== undefined && rec.Config.Labels[lk] !== lv)) return false;
        }
        break;
      case 'ancestor':
        if (!any((v) => rec.ImageName === v || rec.Config.Image === v || rec.Image.slice(7).startsWith(v.replace(/^sha256:/, '')))) return false;
        break;
      case 'exited':
        if (st.Status !== 'exited' || !any((v) => Number(v) === st.ExitCode)) return false;
        break;
      case 'health':
        if (!any((v) => (st.Health?.Status ?? 'none') === v)) return false;
        break;
      case 'before':
      case 'since': {
        const t = Date.parse(rec.Created);
        for (const v of values) {
          const ref = created.get(findContainer(v).Id)!;
          if (k === 'before' ? t >= ref : t <= ref) return false;
        }
        break;
      }
    }
  }
  return true;
}

/** The container records, without --rm containers whose shim was killed: those are removed on the way. */
async function listWithoutAbandoned(): Promise<ContainerRecord[]> {
  const out: ContainerRecord[] = [];
  for (const rec of listContainers()) {
    if (rec.HostConfig.AutoRemove && isAbandoned(rec) && (await reapAbandoned(rec.Id))) continue;
    out.push(rec);
  }
  return out;
}

const quote = (s: string, trunc: boolean): string => {
  const t = trunc && s.length > 20 ? `${s.slice(0, 19)}…` : s;
  return `"${t}"`;
};

export interface ListOptions {
  all: boolean;
  last?: number;
  filters: string[];
}

/** The containers `ps` shows (newest first), each with its state read once. */
export async function selectContainers(o: ListOptions): Promise<{ rec: ContainerRecord; obs: Observed }[]> {
  const f = parsePsFilters(o.filters);
  let recs = await listWithoutAbandoned();
  recs.sort((a, b) => byteOrder(b.Created, a.Created));
  const created = new Map(recs.map((r) => [r.Id, Date.parse(r.Created)] as const));
  const all = o.all || (o.last !== undefined && o.last > 0) || f.impliesAll;
  const seen = new Map<string, Observed>();
  const observed = (r: ContainerRecord): Observed => {
    let o = seen.get(r.Id);
    if (!o) seen.set(r.Id, (o = observeContainer(r)));
    return o;
  };
  const stateOf = (r: ContainerRecord): DockerState => observed(r).State;
  recs = recs.filter((r) => all || stateOf(r).Running);
  recs = recs.filter((r) => matches(r, stateOf(r), f, created));
  if (o.last !== undefined && o.last >= 0) recs = recs.slice(0, o.last);
  return recs.map((rec) => ({ rec, obs: observed(rec) }));
}

export async function listContainerRows(o: ListOptions & { noTrunc: boolean; size?: boolean }): Promise<ContainerRow[]> {
  const selected = await selectContainers(o);
  const sizes = o.size ? await Promise.all(selected.map(({ rec }) => containerSize(rec))) : undefined;
  return selected.map(({ rec: r, obs }, i) => {
    const st = obs.State;
    const row: ContainerRow = {
      ID: o.noTrunc ? r.Id : r.Id.slice(0, 12),
      Image: r.ImageName,
      Command: quote([r.Path, ...r.Args].join(' '), !o.noTrunc),
      CreatedAt: goTimeString(r.Created),
      RunningFor: createdSince(new Date(r.Created)),
      Status: obs.StatusText,
      State: st.Status,
      Ports: portsText(r, st.Running),
      Names: r.Name,
      Labels: Object.entries(r.Config.Labels).map(([k, v]) => `${k}=${v}`).join(','),
      Mounts: r.Mounts.map((m) => m.Source).join(','),
      Networks: r.HostConfig.NetworkMode,
      Size: sizes ? sizeText(sizes[i]!) : '0B',
    };
    return Object.defineProperty(row, 'Label', { value: (key: string): string => r.Config.Labels[key] ?? '', enumerable: false });
  });
}

/**
 * `ps -s`, `inspect --size`, `system df`: SizeRw is what the container wrote (its upper dir),
 * SizeRootFs that plus its image's layers (Docker's "virtual" size).
 */
export async function containerSize(rec: ContainerRecord): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const SizeRw = treeSize(containerFiles(rec.Id).upper);
  let image = 0;
  for (const l of rec.Layers) image += (await layerMeta(l))?.size ?? 0;
  return { SizeRw, SizeRootFs: SizeRw + image };
}

/** Docker's ps SIZE column: `2B (virtual 4.26MB)`. */
export const sizeText = (s: { SizeRw: number; SizeRootFs: number }): string => `${humanSize(s.SizeRw)} (virtual ${humanSize(s.SizeRootFs)})`;

/** The Engine API's container list entry (Docker's ContainerSummary) for `GET /containers/json`. */
export async function containerSummaries(o: ListOptions): Promise<Record<string, unknown>[]> {
  return (await selectContainers(o)).map(({ rec: r, obs }) => ({
    Id: r.Id,
    Names: [`/${r.Name}`],
    Image: r.ImageName,
    ImageID: r.Image,
    Command: [r.Path, ...r.Args].join(' '),
    Created: Math.floor(Date.parse(r.Created) / 1000),
    Ports: [],
    Labels: r.Config.Labels,
    State: obs.State.Status,
    Status: obs.StatusText,
    HostConfig: { NetworkMode: r.HostConfig.NetworkMode },
    NetworkSettings: { Networks: { [r.HostConfig.NetworkMode]: { NetworkID: r.HostConfig.NetworkMode, IPAddress: '', Gateway: '', MacAddress: '' } } },
    Mounts: r.Mounts,
  }));
}

/** HostConfig fields a record does not keep, with Docker's values for what skiff does. */
const HOST_CONFIG_DEFAULTS = {
  ContainerIDFile: '', PortBindings: {}, VolumeDriver: '', VolumesFrom: null, ConsoleSize: [0, 0],
  CgroupnsMode: 'private', Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null, IpcMode: 'private',
  Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '', PublishAllPorts: false, UTSMode: '', UsernsMode: '',
  ShmSize: 67108864, Runtime: 'skiff', Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '',
  BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [],
  BlkioDeviceWriteIOps: [], CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '',
  CpusetMems: '', Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0,
  MemorySwappiness: null, OomKillDisable: null, PidsLimit: null, Ulimits: [], CpuCount: 0, CpuPercent: 0,
  IOMaximumIOps: 0, IOMaximumBandwidth: 0,
};

/** `docker container inspect` JSON for one container (Docker's fields, in Docker's order). */
export function inspectContainer(rec: ContainerRecord): Record<string, unknown> {
  // the state and the restart count from one reading: a restart between two readings paired the
  // new count with the previous start's (dead) pid
  const { State: st, RestartCount } = observeContainer(rec);
  const f = containerFiles(rec.Id);
  const { MaskedPaths, ReadonlyPaths, RestartPolicy, LogConfig, ...host } = rec.HostConfig;
  const { Healthcheck, StopSignal, StopTimeout, ...cfg } = rec.Config;
  return {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: st,
    Image: rec.Image,
    ResolvConfPath: f.resolv,
    HostnamePath: f.hostname,
    HostsPath: f.hosts,
    LogPath: (LogConfig?.Type ?? 'json-file') === 'json-file' ? f.log : '',
    Name: `/${rec.Name}`,
    RestartCount,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      ...HOST_CONFIG_DEFAULTS,
      ...host,
      LogConfig: LogConfig ?? { Type: 'json-file', Config: {} },
      RestartPolicy: RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 },
      MaskedPaths,
      ReadonlyPaths,
    },
    GraphDriver: {
      Data: { LowerDir: rec.Layers.length ? lowerDirs(rec.Layers).join(':') : '', UpperDir: f.upper, WorkDir: f.work, MergedDir: f.rootfs },
      Name: 'overlay',
    },
    Mounts: rec.Mounts,
    Config: {
      ...cfg,
      StdinOnce: false,
      ...(Healthcheck ? { Healthcheck } : {}),
      OnBuild: null,
      ...(StopSignal ? { StopSignal } : {}),
      ...(StopTimeout !== undefined ? { StopTimeout } : {}),
    },
    NetworkSettings: networkSettings(rec, st.Running, st.Pid || undefined),
  };
}
