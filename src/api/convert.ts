/**
 * The Engine API's container-create body (Docker's ContainerConfig + HostConfig) → the options
 * `skiff create` builds from its flags (src/container/create.ts CreateOptions). Everything is
 * type-checked here: a wrong type is a 400, never a crash further down.
 */
import type { CreateOptions } from '../container/create.js';
import type { ResourceOptions } from '../container/resources.js';
import type { UpdateOptions } from '../container/update.js';
import { bool, num, obj, str, strList, strMap, type Json } from './body.js';
import { ApiError } from './http.js';

/** A RestartPolicy ({Name, MaximumRetryCount}) as `--restart` takes it; undefined without a name. */
function restartSpec(v: unknown): string | undefined {
  const r = obj(v, 'RestartPolicy');
  const name = str(r.Name, 'RestartPolicy.Name');
  const retries = num(r.MaximumRetryCount, 'RestartPolicy.MaximumRetryCount');
  return name && name === 'on-failure' && retries ? `on-failure:${retries}` : name;
}

/** HostConfig.PortBindings ({"80/tcp": [{HostIp, HostPort}]}) as the CLI's -p values. */
function publishSpecs(bindings: Json): string[] {
  const out: string[] = [];
  for (const [port, list] of Object.entries(bindings)) {
    if (list === null) continue;
    if (!Array.isArray(list)) throw new ApiError(400, `HostConfig.PortBindings.${port}: expected a list`);
    for (const b of list) {
      const e = obj(b, `HostConfig.PortBindings.${port}[]`);
      const ip = str(e.HostIp, 'HostIp') ?? '';
      const hostPort = str(e.HostPort, 'HostPort') ?? '';
      out.push(ip ? `${ip.includes(':') ? `[${ip}]` : ip}:${hostPort}:${port}` : hostPort ? `${hostPort}:${port}` : port);
    }
  }
  return out;
}

/** A Go duration in ns (the API's) → the text `--health-*` takes ("1500ms"); 0/absent: the default. */
const nsDuration = (v: unknown, what: string): string | undefined => {
  const n = num(v, what);
  return n ? `${Math.round(n / 1e6)}ms` : undefined;
};

/** HostConfig.Mounts entries → `--mount` specs (the CLI's syntax, parsed by the one parser). */
function mountSpecs(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ApiError(400, 'HostConfig.Mounts: want a list');
  return v.map((m, i) => {
    const o = obj(m, `HostConfig.Mounts[${i}]`);
    const parts = [`type=${str(o.Type, 'Mount.Type') ?? 'volume'}`];
    const src = str(o.Source, 'Mount.Source');
    const dst = str(o.Target, 'Mount.Target');
    for (const [k, x] of [['source', src], ['target', dst]] as const) {
      if (x === undefined) continue;
      if (/[,=]/.test(x)) throw new ApiError(400, `HostConfig.Mounts[${i}]: ${k} may not contain "," or "="`);
      parts.push(`${k}=${x}`);
    }
    if (bool(o.ReadOnly, 'Mount.ReadOnly')) parts.push('readonly=true');
    const tmpfs = obj(o.TmpfsOptions, 'Mount.TmpfsOptions');
    const size = num(tmpfs.SizeBytes, 'TmpfsOptions.SizeBytes');
    if (size) parts.push(`tmpfs-size=${size}`);
    const mode = num(tmpfs.Mode, 'TmpfsOptions.Mode');
    if (mode) parts.push(`tmpfs-mode=${mode.toString(8)}`);
    if (bool(obj(o.VolumeOptions, 'Mount.VolumeOptions').NoCopy, 'VolumeOptions.NoCopy')) parts.push('volume-nocopy=true');
    return parts.join(',');
  });
}

/** HostConfig.Blkio* ([{Path, Rate}]) as the CLI's DEVICE:RATE values. */
function throttleSpecs(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ApiError(400, `${what}: want a list`);
  return v.map((t, i) => {
    const e = obj(t, `${what}[${i}]`);
    const rate = num(e.Rate, `${what}[${i}].Rate`) ?? 0;
    if (!Number.isSafeInteger(rate) || rate < 0) throw new ApiError(400, `${what}[${i}].Rate: want a non-negative integer`);
    return `${str(e.Path, `${what}[${i}].Path`) ?? ''}:${rate}`;
  });
}

/**
 * HostConfig's resource fields as the CLI's flags (the one parser, resources.ts, checks them with
 * Docker's words). Docker's client sends every field, 0 (or null, false) for the ones not given.
 */
function resourceOptions(hc: Json): ResourceOptions {
  const n = (k: string): string | undefined => {
    const v = num(hc[k], `HostConfig.${k}`);
    return v ? String(v) : undefined;
  };
  const nano = num(hc.NanoCpus, 'HostConfig.NanoCpus');
  if (hc.Ulimits !== undefined && hc.Ulimits !== null && !Array.isArray(hc.Ulimits)) throw new ApiError(400, 'HostConfig.Ulimits: want a list');
  const ulimits = ((hc.Ulimits ?? []) as unknown[]).map((u, i) => {
    const e = obj(u, `HostConfig.Ulimits[${i}]`);
    return `${str(e.Name, `HostConfig.Ulimits[${i}].Name`) ?? ''}=${num(e.Soft, `HostConfig.Ulimits[${i}].Soft`) ?? 0}:${num(e.Hard, `HostConfig.Ulimits[${i}].Hard`) ?? 0}`;
  });
  const o: ResourceOptions = {
    memory: n('Memory'), memorySwap: n('MemorySwap'), memoryReservation: n('MemoryReservation'), cpuShares: n('CpuShares'),
    cpuPeriod: n('CpuPeriod'), cpuQuota: n('CpuQuota'), cpusetCpus: str(hc.CpusetCpus, 'HostConfig.CpusetCpus'),
    cpusetMems: str(hc.CpusetMems, 'HostConfig.CpusetMems'), pidsLimit: n('PidsLimit'), blkioWeight: n('BlkioWeight'),
    deviceReadBps: throttleSpecs(hc.BlkioDeviceReadBps, 'HostConfig.BlkioDeviceReadBps'),
    deviceWriteBps: throttleSpecs(hc.BlkioDeviceWriteBps, 'HostConfig.BlkioDeviceWriteBps'),
    deviceReadIops: throttleSpecs(hc.BlkioDeviceReadIOps, 'HostConfig.BlkioDeviceReadIOps'),
    deviceWriteIops: throttleSpecs(hc.BlkioDeviceWriteIOps, 'HostConfig.BlkioDeviceWriteIOps'),
    oomKillDisable: bool(hc.OomKillDisable, 'HostConfig.OomKillDisable'), oomScoreAdj: n('OomScoreAdj'), ulimits, shmSize: n('ShmSize'),
    ...(nano ? { cpus: String(nano / 1e9) } : {}),
  };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as ResourceOptions;
}

/** HostConfig.Devices ([{PathOnHost, PathInContainer, CgroupPermissions}]) as `--device` values. */
function deviceSpecs(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ApiError(400, 'HostConfig.Devices: want a list');
  return v.map((d, i) => {
    const e = obj(d, `HostConfig.Devices[${i}]`);
    const host = str(e.PathOnHost, `HostConfig.Devices[${i}].PathOnHost`) ?? '';
    const ctr = str(e.PathInContainer, `HostConfig.Devices[${i}].PathInContainer`) ?? host;
    return `${host}:${ctr}:${str(e.CgroupPermissions, `HostConfig.Devices[${i}].CgroupPermissions`) ?? 'rwm'}`;
  });
}

/** The create request (body and `?name=`/`?platform=`) as create options; the API never pulls on create (Docker's). */
export function createOptionsFromApi(body: Json, q: URLSearchParams): CreateOptions {
  const hc = obj(body.HostConfig, 'HostConfig');
  const image = str(body.Image, 'Image');
  if (!image) throw new ApiError(400, 'config.Image: an image is required');
  const restart = restartSpec(hc.RestartPolicy);
  const log = obj(hc.LogConfig, 'HostConfig.LogConfig');
  const logOpts = Object.entries(obj(log.Config, 'LogConfig.Config')).map(([k, v]) => `${k}=${String(v)}`);
  const health = obj(body.Healthcheck, 'Healthcheck');
  const test = strList(health.Test, 'Healthcheck.Test');
  const tmpfs = Object.entries(obj(hc.Tmpfs, 'HostConfig.Tmpfs')).map(([dst, o]) => (o ? `${dst}:${String(o)}` : dst));
  const entrypoint = body.Entrypoint === undefined || body.Entrypoint === null ? undefined : strList(body.Entrypoint, 'Entrypoint');
  const name = q.get('name') || undefined;
  const platform = q.get('platform') || undefined;
  const hostname = str(body.Hostname, 'Hostname');
  const network = str(hc.NetworkMode, 'HostConfig.NetworkMode') ?? 'bridge';
  const aliases = Object.values(obj(obj(body.NetworkingConfig, 'NetworkingConfig').EndpointsConfig, 'NetworkingConfig.EndpointsConfig'))
    .flatMap((e) => strList(obj(e, 'EndpointsConfig entry').Aliases, 'Aliases'));
  return {
    image,
    command: strList(body.Cmd, 'Cmd'),
    ...(name ? { name } : {}),
    ...(entrypoint ? { entrypoint } : {}),
    env: strList(body.Env, 'Env'),
    envFile: [],
    ...(str(body.User, 'User') ? { user: str(body.User, 'User') } : {}),
    ...(str(body.WorkingDir, 'WorkingDir') ? { workdir: str(body.WorkingDir, 'WorkingDir') } : {}),
    ...(hostname ? { hostname } : {}),
    tty: bool(body.Tty, 'Tty'),
    interactive: bool(body.OpenStdin, 'OpenStdin'),
    rm: bool(hc.AutoRemove, 'HostConfig.AutoRemove'),
    volumes: strList(hc.Binds, 'HostConfig.Binds'),
    volumesFrom: strList(hc.VolumesFrom, 'HostConfig.VolumesFrom'),
    mounts: mountSpecs(hc.Mounts),
    tmpfs,
    network: [network === 'default' ? 'bridge' : network],
    aliases,
    dns: strList(hc.Dns, 'HostConfig.Dns'),
    dnsSearch: strList(hc.DnsSearch, 'HostConfig.DnsSearch'),
    dnsOptions: strList(hc.DnsOptions, 'HostConfig.DnsOptions'),
    addHost: strList(hc.ExtraHosts, 'HostConfig.ExtraHosts'),
    publish: publishSpecs(obj(hc.PortBindings, 'HostConfig.PortBindings')),
    publishAll: bool(hc.PublishAllPorts, 'HostConfig.PublishAllPorts'),
    expose: Object.keys(obj(body.ExposedPorts, 'ExposedPorts')),
    privileged: bool(hc.Privileged, 'HostConfig.Privileged'),
    devices: deviceSpecs(hc.Devices),
    resources: resourceOptions(hc),
    deviceCgroupRules: strList(hc.DeviceCgroupRules, 'HostConfig.DeviceCgroupRules'),
    capAdd: strList(hc.CapAdd, 'HostConfig.CapAdd'),
    capDrop: strList(hc.CapDrop, 'HostConfig.CapDrop'),
    securityOpt: strList(hc.SecurityOpt, 'HostConfig.SecurityOpt'),
    readOnly: bool(hc.ReadonlyRootfs, 'HostConfig.ReadonlyRootfs'),
    sysctls: Object.entries(strMap(hc.Sysctls, 'HostConfig.Sysctls')).map(([k, v]) => `${k}=${v}`),
    groupAdd: strList(hc.GroupAdd, 'HostConfig.GroupAdd'),
    ...(str(hc.PidMode, 'HostConfig.PidMode') ? { pid: str(hc.PidMode, 'HostConfig.PidMode') } : {}),
    ...(str(hc.IpcMode, 'HostConfig.IpcMode') ? { ipc: str(hc.IpcMode, 'HostConfig.IpcMode') } : {}),
    ...(str(hc.UTSMode, 'HostConfig.UTSMode') ? { uts: str(hc.UTSMode, 'HostConfig.UTSMode') } : {}),
    ...(str(hc.CgroupnsMode, 'HostConfig.CgroupnsMode') ? { cgroupns: str(hc.CgroupnsMode, 'HostConfig.CgroupnsMode') } : {}),
    ...(str(hc.CgroupParent, 'HostConfig.CgroupParent') ? { cgroupParent: str(hc.CgroupParent, 'HostConfig.CgroupParent') } : {}),
    ...(str(hc.UsernsMode, 'HostConfig.UsernsMode') ? { userns: str(hc.UsernsMode, 'HostConfig.UsernsMode') } : {}),
    init: bool(hc.Init, 'HostConfig.Init'),
    labels: Object.entries(obj(body.Labels, 'Labels')).map(([k, v]) => `${k}=${String(v)}`),
    pull: 'never',
    ...(platform ? { platform } : {}),
    ...(restart ? { restart } : {}),
    ...(str(log.Type, 'LogConfig.Type') ? { logDriver: str(log.Type, 'LogConfig.Type') } : {}),
    logOpts,
    health: {
      ...(test[0] === 'CMD-SHELL' ? { cmd: test[1] } : {}),
      ...(nsDuration(health.Interval, 'Healthcheck.Interval') ? { interval: nsDuration(health.Interval, 'Healthcheck.Interval') } : {}),
      ...(nsDuration(health.Timeout, 'Healthcheck.Timeout') ? { timeout: nsDuration(health.Timeout, 'Healthcheck.Timeout') } : {}),
      ...(nsDuration(health.StartPeriod, 'Healthcheck.StartPeriod') ? { startPeriod: nsDuration(health.StartPeriod, 'Healthcheck.StartPeriod') } : {}),
      ...(num(health.Retries, 'Healthcheck.Retries') ? { retries: num(health.Retries, 'Healthcheck.Retries') } : {}),
      none: test[0] === 'NONE',
    },
    ...(str(body.StopSignal, 'StopSignal') ? { stopSignal: str(body.StopSignal, 'StopSignal') } : {}),
    ...(num(body.StopTimeout, 'StopTimeout') !== undefined ? { stopTimeout: num(body.StopTimeout, 'StopTimeout') } : {}),
  };
}

/**
 * The update body (HostConfig's resource fields, RestartPolicy) as `skiff update`'s options. Docker's
 * client sends every field, the ones not given as 0 (or an empty policy name): those change nothing.
 */
export function updateOptionsFromApi(body: Json): UpdateOptions {
  const n = (k: string): string | undefined => {
    const v = num(body[k], k);
    return v ? String(v) : undefined;
  };
  const s = (k: string): string | undefined => str(body[k], k);
  const restart = restartSpec(body.RestartPolicy);
  const nano = num(body.NanoCpus, 'NanoCpus');
  const o: UpdateOptions = {
    memory: n('Memory'), memorySwap: n('MemorySwap'), memoryReservation: n('MemoryReservation'), cpuShares: n('CpuShares'),
    cpuPeriod: n('CpuPeriod'), cpuQuota: n('CpuQuota'), cpusetCpus: s('CpusetCpus'), cpusetMems: s('CpusetMems'), pidsLimit: n('PidsLimit'),
    blkioWeight: n('BlkioWeight'), ...(nano ? { cpus: String(nano / 1e9) } : {}),
    ...(restart ? { restart } : {}),
  };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as UpdateOptions;
}
