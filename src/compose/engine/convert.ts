/**
 * A compose service → skiff's create options for one of its containers (pure): what `docker compose`
 * asks the engine for (pkg/compose/create.go, read, never copied): the service's keys, the project's
 * network and volume names, and the com.docker.compose.* labels. What skiff cannot express comes back
 * as warnings naming the key.
 */
import type { CreateOptions } from '../../container/create.js';
import type { Port, Project, Service, ServiceVolume } from '../model.js';
import { COMPOSE_VERSION, L } from './labels.js';

export interface ContainerPlan {
  /** The engine's container name. */
  name: string;
  number: number;
  /** The config hash label's value. */
  hash: string;
  /** `run`: a one-off container (com.docker.compose.oneoff=True). */
  oneoff?: boolean;
  /** The image id the container is made from (com.docker.compose.image), when known. */
  imageId?: string;
}

export interface ConvertOptions {
  /** The container a `service:NAME` network mode joins (the first container of NAME). */
  containerOfService?: (service: string) => string | undefined;
  /** `run`: the command, entrypoint, env and ports of the command line. */
  run?: { command?: string[]; entrypoint?: string[]; env: string[]; servicePorts: boolean; publish: string[]; tty: boolean; interactive: boolean; rm: boolean; user?: string; workdir?: string };
}

/** The image a service's containers run: `image:`, else the one `build` makes (`PROJECT-SERVICE`, as compose v2 names it). */
export function serviceImage(project: Project, s: Service): string {
  return s.image ?? `${project.name}-${s.name}`;
}

/** Docker's -p text for one compose port. */
export function publishText(p: Port): string {
  const host = p.hostIp ? (p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp) : '';
  const target = `${p.target}/${p.protocol}`;
  if (p.published === undefined || p.published === '') return host ? `${host}::${target}` : target;
  return `${host ? `${host}:` : ''}${p.published}:${target}`;
}

/** One volume of a service as -v (binds that may be created) or --mount text. */
export function mountText(project: Project, v: ServiceVolume): { volume?: string; mount?: string; tmpfs?: string } | { unsupported: string } {
  const ro = v.readOnly ? ',readonly' : '';
  switch (v.type) {
    case 'bind': {
      const src = v.source ?? '';
      const prop = v.bind?.propagation;
      if (v.bind?.createHostPath !== false && !src.includes(':') && !src.includes(',') && !v.target.includes(':')) {
        const mode = [v.readOnly ? 'ro' : '', prop ?? ''].filter(Boolean).join(',');
        return { volume: `${src}:${v.target}${mode ? `:${mode}` : ''}` };
      }
      return { mount: `type=bind,source=${src},target=${v.target}${ro}${prop ? `,bind-propagation=${prop}` : ''}` };
    }
    case 'volume': {
      if (v.volume?.subpath) return { unsupported: 'volumes[].volume.subpath' };
      const name = v.source === undefined ? undefined : (project.volumes[v.source]?.name ?? v.source);
      return { mount: `type=volume,${name ? `source=${name},` : ''}target=${v.target}${ro}${v.volume?.nocopy ? ',volume-nocopy' : ''}` };
    }
    case 'tmpfs': {
      const opts = [v.tmpfs?.size !== undefined ? `tmpfs-size=${v.tmpfs.size}` : '', v.tmpfs?.mode !== undefined ? `tmpfs-mode=${v.tmpfs.mode.toString(8)}` : ''].filter(Boolean);
      return { mount: `type=tmpfs,target=${v.target}${opts.length ? `,${opts.join(',')}` : ''}` };
    }
    default:
      return { unsupported: `volumes[] of type ${v.type}` };
  }
}

const goDuration = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : `${ms}ms`);

/** The networks a service's container joins, in Docker's order (priority, then name), as engine names with their settings. */
export function serviceNetworks(project: Project, s: Service): { name: string; key: string; aliases: string[]; ipv4?: string }[] {
  return Object.entries(s.networks)
    .sort(([a, x], [b, y]) => (y.priority ?? 0) - (x.priority ?? 0) || a.localeCompare(b))
    .map(([key, n]) => ({ key, name: project.networks[key]?.name ?? key, aliases: [s.name, ...n.aliases.filter((a) => a !== s.name)], ...(n.ipv4Address ? { ipv4: n.ipv4Address } : {}) }));
}

/** The labels compose puts on a service's container. */
export function composeLabels(project: Project, s: Service, c: ContainerPlan): Record<string, string> {
  const deps = Object.entries(s.dependsOn).map(([d, x]) => `${d}:${x.condition}:${x.restart}`);
  return {
    ...s.labels,
    [L.project]: project.name,
    [L.service]: s.name,
    [L.number]: String(c.number),
    [L.configHash]: c.hash,
    [L.oneoff]: c.oneoff ? 'True' : 'False',
    [L.workingDir]: project.workingDir,
    [L.configFiles]: project.composeFiles.join(','),
    [L.version]: COMPOSE_VERSION,
    [L.dependsOn]: deps.join(','),
    ...(c.imageId ? { [L.image]: c.imageId } : {}),
  };
}

/** The create options of one container of `s`, and warnings for what skiff leaves out. */
export function createOptionsFor(project: Project, s: Service, c: ContainerPlan, o: ConvertOptions): { options: CreateOptions; warnings: string[]; connect: { name: string; aliases: string[]; ip?: string }[] } {
  const warnings: string[] = [];
  const unsupported = (key: string): void => {
    warnings.push(`service ${s.name}: ${key} is not supported by skiff: ignored`);
  };
  const volumes: string[] = [];
  const mounts: string[] = [];
  for (const v of s.volumes) {
    const m = mountText(project, v);
    if ('unsupported' in m) unsupported(m.unsupported);
    else if (m.volume) volumes.push(m.volume);
    else if (m.mount) mounts.push(m.mount);
  }
  for (const f of [...s.secrets.map((x) => ({ ...x, kind: 'secrets' as const })), ...s.configs.map((x) => ({ ...x, kind: 'configs' as const }))]) {
    const obj = (f.kind === 'secrets' ? project.secrets : project.configs)[f.source];
    if (!obj?.file) {
      unsupported(`${f.kind}.${f.source} (only file-backed ${f.kind} are)`);
      continue;
    }
    if (f.uid !== undefined || f.gid !== undefined || f.mode !== undefined) unsupported(`${f.kind}[].uid/gid/mode`);
    mounts.push(`type=bind,source=${obj.file},target=${f.target},readonly`);
  }
  if (s.volumesFrom.length) unsupported('volumes_from');

  // pid/ipc/uts (and network_mode): `service:NAME` is that service's first container
  const serviceRef = (m: string): string => {
    if (!m.startsWith('service:')) return m;
    const target = o.containerOfService?.(m.slice('service:'.length));
    return target ? `container:${target}` : m;
  };

  // network: network_mode, or the project's networks
  let network: string[] = [];
  let aliases: string[] = [];
  let ip: string | undefined;
  let connect: { name: string; aliases: string[]; ip?: string }[] = [];
  if (s.networkMode !== undefined) {
    const m = s.networkMode;
    network = [serviceRef(m)];
  } else {
    const nets = serviceNetworks(project, s);
    // the first network at create, the others connected before the start (each with its own aliases)
    network = nets.slice(0, 1).map((n) => n.name);
    connect = nets.slice(1).map((n) => ({ name: n.name, aliases: n.aliases, ...(n.ipv4 ? { ip: n.ipv4 } : {}) }));
    aliases = nets[0]?.aliases ?? [];
    ip = nets[0]?.ipv4;
  }
  const env = Object.entries(s.environment).flatMap(([k, v]) => (v === null ? [] : [`${k}=${v}`]));
  const run = o.run;
  const publish = run && !run.servicePorts ? run.publish : s.ports.map(publishText);
  const hc = s.healthcheck;
  const options: CreateOptions = {
    image: serviceImage(project, s),
    command: run?.command ?? s.command ?? [],
    ...(run?.entrypoint !== undefined ? { entrypoint: run.entrypoint.length ? run.entrypoint : [''] } : s.entrypoint !== undefined ? { entrypoint: s.entrypoint.length ? s.entrypoint : [''] } : {}),
    name: c.name,
    env: [...env, ...(run?.env ?? [])],
    envFile: [],
    ...((run?.user ?? s.user) !== undefined ? { user: run?.user ?? s.user } : {}),
    ...((run?.workdir ?? s.workingDir) !== undefined ? { workdir: run?.workdir ?? s.workingDir } : {}),
    ...(s.hostname !== undefined ? { hostname: s.hostname } : {}),
    ...(s.domainname !== undefined ? { domainname: s.domainname } : {}),
    tty: run ? run.tty : s.tty,
    interactive: run ? run.interactive : s.stdinOpen,
    rm: run?.rm ?? false,
    volumes,
    mounts,
    tmpfs: [...s.tmpfs],
    privileged: s.privileged,
    devices: [],
    deviceCgroupRules: [],
    capAdd: [...s.capAdd],
    capDrop: [...s.capDrop],
    securityOpt: [...s.securityOpt],
    readOnly: s.readOnly,
    sysctls: Object.entries(s.sysctls).map(([k, v]) => `${k}=${v}`),
    groupAdd: [...s.groupAdd],
    ...(s.pid !== undefined ? { pid: serviceRef(s.pid) } : {}),
    ...(s.ipc !== undefined ? { ipc: serviceRef(s.ipc) } : {}),
    ...(s.uts !== undefined ? { uts: serviceRef(s.uts) } : {}),
    init: s.init ?? false,
    labels: Object.entries(composeLabels(project, s, c)).map(([k, v]) => `${k}=${v}`),
    // images are made present before containers are created (apply.ts): never pulled here
    pull: 'never',
    ...(s.platform !== undefined ? { platform: s.platform } : {}),
    ...(s.restart !== undefined && !run ? { restart: s.restart } : {}),
    ...(s.logging?.driver !== undefined ? { logDriver: s.logging.driver } : {}),
    logOpts: Object.entries(s.logging?.options ?? {}).map(([k, v]) => `${k}=${v}`),
    health: hc
      ? {
          none: hc.disable,
          ...(!hc.disable && hc.test ? { test: hc.test } : {}),
          ...(!hc.disable && hc.interval !== undefined ? { interval: goDuration(hc.interval) } : {}),
          ...(!hc.disable && hc.timeout !== undefined ? { timeout: goDuration(hc.timeout) } : {}),
          ...(!hc.disable && hc.startPeriod !== undefined ? { startPeriod: goDuration(hc.startPeriod) } : {}),
          ...(!hc.disable && hc.retries !== undefined ? { retries: hc.retries } : {}),
        }
      : { none: false },
    ...(s.stopSignal !== undefined ? { stopSignal: s.stopSignal } : {}),
    ...(s.stopGracePeriod !== undefined ? { stopTimeout: Math.floor(s.stopGracePeriod / 1000) } : {}),
    resources: {
      ...(s.limits.memory !== undefined ? { memory: String(s.limits.memory) } : {}),
      ...(s.limits.cpus !== undefined ? { cpus: String(s.limits.cpus) } : {}),
      ...(s.limits.pids !== undefined ? { pidsLimit: String(s.limits.pids) } : {}),
      ...(s.shmSize !== undefined ? { shmSize: String(s.shmSize) } : {}),
      ulimits: Object.entries(s.ulimits).map(([k, u]) => `${k}=${u.soft}:${u.hard}`),
    },
    network,
    aliases,
    ...(ip !== undefined ? { ip } : {}),
    dns: [...s.dns],
    dnsSearch: [...s.dnsSearch],
    dnsOptions: [...s.dnsOpt],
    addHost: s.extraHosts.map((h) => h),
    publish,
    publishAll: false,
    expose: [...s.expose],
  };
  if (hc?.disable) options.health = { none: true };
  if (hc?.startInterval !== undefined) unsupported('healthcheck.start_interval');
  return { options, warnings, connect };
}
