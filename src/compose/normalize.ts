/**
 * The merged model → the normalised Project (compose-go's Normalize, ModelToProject, profiles,
 * consistency checks and environment resolution): defaults, implicit dependencies, the
 * `default` network, resource names `PROJECT_KEY`, inactive profiles set aside, env_file files read,
 * references checked, dependency cycles refused; then the typed model.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { readEnvFile, type EnvMap } from './dotenv.js';
import { composeError, Warnings } from './errors.js';
import { unsupportedKeys } from './keys.js';
import type { Build, Dependency, DependencyCondition, FileMount, FileObject, Healthcheck, Network, Port, Project, Service, ServiceNetwork, ServiceVolume, Ulimit, Volume, VolumeType, WatchRule } from './model.js';
import { splitShellWords } from './shellwords.js';
import { hasOwn, isMap, setOwn, type Json, type JsonMap } from './tree.js';
import { bytesOf, durationMs, numberOf } from './units.js';
import { formatGoDuration } from '../lib/duration.js';

export interface NormalizeOptions {
  name: string;
  workingDir: string;
  composeFiles: string[];
  environment: EnvMap;
  profiles: string[];
  warnings: Warnings;
}

const NAMESPACE_KEYS = ['network_mode', 'ipc', 'pid', 'uts', 'cgroup'];

/** `["K=V", "K"]` or `{K: V}` → {K: "V" | null}. */
function toMap(v: Json | undefined): JsonMap {
  const out: JsonMap = {};
  if (Array.isArray(v)) {
    for (const e of v) {
      const s = String(e);
      const i = s.indexOf('=');
      if (i < 0) setOwn(out, s, null);
      else setOwn(out, s.slice(0, i), s.slice(i + 1));
    }
  } else if (isMap(v)) {
    for (const [k, x] of Object.entries(v)) setOwn(out, k, x === null ? null : typeof x === 'object' ? JSON.stringify(x) : String(x));
  }
  return out;
}

function strings(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.map((x) => String(x)) : v === undefined || v === null ? [] : [String(v)];
}

function stringMap(v: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(toMap(v))) out[k] = x === null ? '' : String(x);
  return out;
}

/** Posix path.Clean of a container path. */
const cleanTarget = (t: string): string => (t === '' ? t : path.posix.normalize(t).replace(/(.)\/$/, '$1'));

function normalizeService(s: JsonMap, o: NormalizeOptions): void {
  if (s.pull_policy === 'if_not_present') s.pull_policy = 'missing';
  if (isMap(s.build)) {
    const b = s.build;
    if (b.context === undefined || b.context === null) b.context = o.workingDir;
    if ((b.dockerfile === undefined || b.dockerfile === null) && (b.dockerfile_inline === undefined || b.dockerfile_inline === null)) b.dockerfile = 'Dockerfile';
    if (b.args !== undefined) {
      const args = toMap(b.args);
      for (const [k, v] of Object.entries(args)) {
        if (v !== null) continue;
        const e = o.environment.get(k);
        if (e === undefined) delete args[k];
        else args[k] = e;
      }
      b.args = args;
    }
    if (b.labels !== undefined) b.labels = toMap(b.labels);
  }
  if (s.environment !== undefined) {
    const env = toMap(s.environment);
    for (const [k, v] of Object.entries(env)) {
      if (v === null) {
        const e = o.environment.get(k);
        if (e !== undefined) env[k] = e;
      }
    }
    s.environment = env;
  }
  if (s.labels !== undefined) s.labels = toMap(s.labels);
  if (s.sysctls !== undefined) s.sysctls = toMap(s.sysctls);
  const deps: JsonMap = isMap(s.depends_on) ? s.depends_on : {};
  const implied = (dep: string, restart: boolean): void => {
    if (!hasOwn(deps, dep)) setOwn(deps, dep, { condition: 'service_started', restart, required: true });
  };
  for (const l of strings(s.links)) implied(l.split(':').length === 2 ? l.split(':')[0]! : l, true);
  for (const ns of NAMESPACE_KEYS) {
    const ref = s[ns];
    if (typeof ref === 'string' && ref.startsWith('service:')) implied(ref.slice('service:'.length), true);
  }
  for (const vf of strings(s.volumes_from)) if (!vf.startsWith('container:')) implied(vf.split(':')[0]!, false);
  if (Object.keys(deps).length > 0) s.depends_on = deps;
  if (Array.isArray(s.volumes)) for (const v of s.volumes) if (isMap(v) && typeof v.target === 'string') v.target = cleanTarget(v.target);
  if (Array.isArray(s.secrets)) {
    for (const m of s.secrets) if (isMap(m) && (m.target === undefined || m.target === null)) m.target = `/run/secrets/${String(m.source)}`;
  }
  if (Array.isArray(s.ports)) {
    for (const p of s.ports) {
      if (!isMap(p)) continue;
      p.mode ??= 'ingress';
      p.protocol ??= 'tcp';
    }
  }
  if (typeof s.command === 'string') s.command = splitShellWords(s.command);
  if (typeof s.entrypoint === 'string') s.entrypoint = splitShellWords(s.entrypoint);
  if (isMap(s.healthcheck) && typeof s.healthcheck.test === 'string') s.healthcheck.test = ['CMD-SHELL', s.healthcheck.test];
  if (s.extra_hosts !== undefined) {
    s.extra_hosts = isMap(s.extra_hosts)
      ? Object.entries(s.extra_hosts).flatMap(([h, ip]) => (Array.isArray(ip) ? ip.map((x) => `${h}=${String(x)}`) : [`${h}=${String(ip)}`]))
      : strings(s.extra_hosts).map((e) => (e.includes('=') ? e : e.replace(':', '=')));
  }
}

function normalizeNetworks(dict: JsonMap): void {
  const networks: JsonMap = isMap(dict.networks) ? dict.networks : {};
  let usesDefault = false;
  for (const s of Object.values(dict.services as JsonMap)) {
    if (!isMap(s) || s.provider !== undefined || s.network_mode !== undefined) continue;
    if (!isMap(s.networks) || Object.keys(s.networks).length === 0) {
      s.networks = { default: null };
      usesDefault = true;
    } else if (hasOwn(s.networks, 'default')) usesDefault = true;
  }
  if (usesDefault && !hasOwn(networks, 'default')) networks.default = {};
  if (Object.keys(networks).length > 0) dict.networks = networks;
}

function setNames(dict: JsonMap, project: string): void {
  for (const kind of ['networks', 'volumes', 'configs', 'secrets']) {
    const m = dict[kind];
    if (!isMap(m)) continue;
    for (const [key, r] of Object.entries(m)) {
      const res: JsonMap = isMap(r) ? r : {};
      if (res.name === undefined || res.name === null) res.name = res.external === true ? key : `${project}_${key}`;
      m[key] = res;
    }
  }
}

function hasProfile(s: JsonMap, profiles: readonly string[]): boolean {
  const own = strings(s.profiles);
  if (own.length === 0) return true;
  return profiles.some((p) => p === '*' || own.includes(p));
}

/** env_file files (later files win), then `environment:` over them. */
function resolveEnvFiles(s: JsonMap, o: NormalizeOptions): void {
  if (!Array.isArray(s.env_file)) return;
  const declared = isMap(s.environment) ? s.environment : {};
  const env: EnvMap = new Map();
  for (const [k, v] of Object.entries(declared)) if (v !== null) env.set(k, String(v));
  for (const f of s.env_file) {
    if (!isMap(f) || typeof f.path !== 'string') continue;
    if (f.format !== undefined && f.format !== null && f.format !== '.env') throw composeError(`unsupported env_file format ${JSON.stringify(f.format)}`);
    let exists = true;
    try {
      statSync(f.path); // a directory is reported by readEnvFile ("... is a directory")
    } catch {
      exists = false;
    }
    if (!exists) {
      if (f.required === false) continue;
      throw composeError(`env file ${f.path} not found: stat ${f.path}: no such file or directory`);
    }
    readEnvFile(f.path, (k) => o.environment.get(k) ?? (declared[k] !== null && declared[k] !== undefined ? String(declared[k]) : undefined), env);
  }
  const out: JsonMap = {};
  for (const [k, v] of env) setOwn(out, k, v);
  for (const [k, v] of Object.entries(declared)) if (v !== null || !hasOwn(out, k)) setOwn(out, k, v);
  s.environment = out;
  delete s.env_file;
}


/** label_file files (later wins, references resolve from labels read so far), then `labels:` over them. */
function resolveLabelFiles(s: JsonMap): void {
  if (!Array.isArray(s.label_file)) return;
  const labels: EnvMap = new Map();
  for (const f of s.label_file) {
    const file = String(f);
    try {
      statSync(file);
    } catch {
      throw composeError(`label file ${file} not found: stat ${file}: no such file or directory`);
    }
    readEnvFile(file, (k) => labels.get(k), labels);
  }
  const out: JsonMap = {};
  for (const [k, v] of labels) setOwn(out, k, v);
  if (isMap(s.labels)) for (const [k, v] of Object.entries(s.labels)) setOwn(out, k, v);
  s.labels = out;
  delete s.label_file;
}

function checkCycles(services: Record<string, JsonMap>): void {
  const names = Object.keys(services).sort();
  const children = (n: string): string[] => (isMap(services[n]!.depends_on) ? Object.keys(services[n]!.depends_on as JsonMap).filter((d) => hasOwn(services, d)).sort() : []);
  const acyclic = new Set<string>(); // explored without finding a cycle: no need to walk them again
  const search = (trail: string[], n: string): void => {
    for (const c of children(n)) {
      const i = trail.indexOf(c);
      if (i >= 0) throw composeError(`dependency cycle detected: ${trail.slice(i).join(' -> ')} -> ${c}`);
      if (!acyclic.has(c)) search([...trail, c], c);
    }
    acyclic.add(n);
  };
  for (const n of names) search([n], n);
}

function checkConsistency(dict: JsonMap, active: Record<string, JsonMap>, disabled: Record<string, JsonMap>): void {
  const networks = isMap(dict.networks) ? dict.networks : {};
  const volumes = isMap(dict.volumes) ? dict.volumes : {};
  const secrets = isMap(dict.secrets) ? dict.secrets : {};
  const configs = isMap(dict.configs) ? dict.configs : {};
  const invalid = (m: string): never => {
    throw composeError(`${m}: invalid compose project`);
  };
  for (const [name, s] of Object.entries(active)) {
    if (s.build === undefined && s.image === undefined && s.provider === undefined) invalid(`service ${JSON.stringify(name)} has neither an image nor a build context specified`);
    if (isMap(s.build) && s.build.dockerfile_inline !== undefined && s.build.dockerfile !== undefined && s.build.dockerfile !== 'Dockerfile') {
      invalid(`service ${JSON.stringify(name)} declares mutualy exclusive dockerfile and dockerfile_inline`);
    }
    if (s.network_mode !== undefined && isMap(s.networks) && Object.keys(s.networks).length > 0) invalid(`service ${name} declares mutually exclusive \`network_mode\` and \`networks\``);
    if (isMap(s.networks)) for (const n of Object.keys(s.networks)) if (!hasOwn(networks, n)) invalid(`service ${JSON.stringify(name)} refers to undefined network ${n}`);
    if (isMap(s.healthcheck) && Array.isArray(s.healthcheck.test) && s.healthcheck.test.length > 0 && !['CMD', 'CMD-SHELL', 'NONE'].includes(String(s.healthcheck.test[0]))) {
      throw composeError('healthcheck.test must start either by "CMD", "CMD-SHELL" or "NONE"');
    }
    if (isMap(s.depends_on)) {
      for (const [dep, cfg] of Object.entries(s.depends_on)) {
        if (hasOwn(active, dep)) continue;
        const required = !isMap(cfg) || cfg.required !== false;
        if (!required) {
          delete s.depends_on[dep];
          continue;
        }
        if (hasOwn(disabled, dep)) {
          const profiles = strings(disabled[dep]!.profiles);
          throw composeError(`service ${JSON.stringify(dep)} is required by ${JSON.stringify(name)} but is disabled. Can be enabled by profiles [${profiles.join(' ')}]`);
        }
        invalid(`service ${JSON.stringify(name)} depends on undefined service ${JSON.stringify(dep)}`);
      }
    }
    if (typeof s.network_mode === 'string' && s.network_mode.startsWith('service:')) {
      const ref = s.network_mode.slice('service:'.length);
      if (!hasOwn(active, ref)) throw composeError(`service ${JSON.stringify(ref)} not found for network_mode 'service:${ref}'`);
    }
    if (Array.isArray(s.volumes)) {
      for (const v of s.volumes) {
        if (isMap(v) && v.type === 'volume' && typeof v.source === 'string' && v.source !== '' && !hasOwn(volumes, v.source)) {
          invalid(`service ${JSON.stringify(name)} refers to undefined volume ${v.source}`);
        }
      }
    }
    for (const [kind, defined] of [
      ['secret', secrets],
      ['config', configs],
    ] as const) {
      const list = s[`${kind}s`];
      if (Array.isArray(list)) for (const m of list) if (isMap(m) && !hasOwn(defined, String(m.source))) invalid(`service ${JSON.stringify(name)} refers to undefined ${kind} ${String(m.source)}`);
    }
    const replicas = isMap(s.deploy) ? s.deploy.replicas : undefined;
    if (s.scale !== undefined && replicas !== undefined && replicas !== null && s.scale !== replicas) invalid(`services.${name}: can't set distinct values on 'scale' and 'deploy.replicas'`);
    const scale = (s.scale ?? replicas ?? 1) as number;
    if (typeof scale === 'number' && scale < 0) throw composeError(`services.${name}.${s.scale !== undefined ? 'scale' : 'deploy.replicas'}: must be greater than or equal to 0`);
    if (typeof scale === 'number' && scale > 1 && s.container_name !== undefined) {
      invalid(`services.${name}: can't set container_name and ${s.scale !== undefined ? 'scale' : 'deploy.replicas'} as container name must be unique`);
    }
    const mounts = new Map<string, string>();
    strings(s.tmpfs).forEach((t, i) => {
      const target = t.split(':')[0]!;
      const loc = `services.${name}.tmpfs[${i}]`;
      if (mounts.has(target)) throw composeError(`${loc}: target ${target} already mounted as ${mounts.get(target)}`);
      mounts.set(target, loc);
    });
    if (Array.isArray(s.volumes)) {
      s.volumes.forEach((v, i) => {
        if (!isMap(v)) return;
        const target = String(v.target);
        const loc = `services.${name}.volumes[${i}]`;
        if (mounts.has(target)) throw composeError(`${loc}: target ${target} already mounted as ${mounts.get(target)}`);
        mounts.set(target, loc);
      });
    }
  }
  for (const [name, sec] of Object.entries(secrets)) {
    if (isMap(sec) && sec.external !== true && sec.file === undefined && sec.environment === undefined) invalid(`secret ${JSON.stringify(name)} must declare either \`file\` or \`environment\``);
  }
}

// ---- typed model ---------------------------------------------------------------------------------

const str = (v: Json | undefined): string | undefined => (v === undefined || v === null ? undefined : String(v));

function toPort(p: JsonMap, where: string): Port {
  const target = numberOf(p.target ?? null, `${where}.target`);
  if (!Number.isInteger(target) || target < 1 || target > 65535) throw composeError(`${where}.target: invalid port ${JSON.stringify(p.target)}`);
  const protocol = String(p.protocol ?? 'tcp').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') throw composeError(`${where}.protocol: invalid protocol ${JSON.stringify(p.protocol)}`);
  const out: Port = { mode: String(p.mode ?? 'ingress'), hostIp: String(p.host_ip ?? ''), target, protocol };
  if (p.published !== undefined && p.published !== null && p.published !== '') {
    const pub = String(p.published);
    if (!/^\d+(-\d+)?$/.test(pub) || pub.split('-').some((x) => Number(x) > 65535)) throw composeError(`${where}.published: invalid port ${JSON.stringify(pub)}`);
    out.published = pub;
  }
  if (p.name !== undefined) out.name = String(p.name);
  if (p.app_protocol !== undefined) out.appProtocol = String(p.app_protocol);
  return out;
}

function toVolume(v: JsonMap, where: string): ServiceVolume {
  const type = String(v.type) as VolumeType;
  const out: ServiceVolume = { type, target: String(v.target ?? ''), readOnly: v.read_only === true };
  if (out.target === '') throw composeError(`${where}: missing target`);
  const source = str(v.source);
  if (source !== undefined && source !== '') out.source = source;
  if (type === 'bind') {
    if (out.source === undefined) throw composeError(`invalid mount config for type "bind": field Source must not be empty`);
    const b = isMap(v.bind) ? v.bind : {};
    out.bind = { createHostPath: b.create_host_path !== false };
    if (b.propagation !== undefined) out.bind.propagation = String(b.propagation);
    if (b.selinux !== undefined) out.bind.selinux = String(b.selinux);
    if (b.recursive !== undefined) out.bind.recursive = String(b.recursive);
  } else if (type === 'volume') {
    const vv = isMap(v.volume) ? v.volume : {};
    out.volume = { nocopy: vv.nocopy === true };
    if (vv.subpath !== undefined) out.volume.subpath = String(vv.subpath);
  } else if (type === 'tmpfs') {
    const t = isMap(v.tmpfs) ? v.tmpfs : {};
    out.tmpfs = {};
    if (t.size !== undefined) out.tmpfs.size = bytesOf(t.size, `${where}.tmpfs.size`);
    if (t.mode !== undefined) out.tmpfs.mode = numberOf(t.mode, `${where}.tmpfs.mode`);
  }
  return out;
}

function toHealthcheck(h: JsonMap, where: string): Healthcheck {
  const out: Healthcheck = { disable: h.disable === true };
  if (Array.isArray(h.test)) out.test = h.test.map(String);
  if (h.interval != null) out.interval = durationMs(h.interval, `${where}.interval`);
  if (h.timeout != null) out.timeout = durationMs(h.timeout, `${where}.timeout`);
  if (h.start_period != null) out.startPeriod = durationMs(h.start_period, `${where}.start_period`);
  if (h.start_interval != null) out.startInterval = durationMs(h.start_interval, `${where}.start_interval`);
  if (h.retries != null) out.retries = numberOf(h.retries, `${where}.retries`);
  if (out.test?.[0] === 'NONE') out.disable = true;
  return out;
}

/** Durations and sizes in the config as Docker prints them (Go durations, byte counts). */
function canonicalUnits(s: JsonMap, where: string): void {
  if (isMap(s.healthcheck)) {
    for (const k of ['interval', 'timeout', 'start_period', 'start_interval']) {
      const v = s.healthcheck[k];
      if (v !== undefined && v !== null) s.healthcheck[k] = formatGoDuration(durationMs(v, `${where}.healthcheck.${k}`));
    }
  }
  if (s.stop_grace_period != null) s.stop_grace_period = formatGoDuration(durationMs(s.stop_grace_period, `${where}.stop_grace_period`));
  for (const k of ['mem_limit', 'mem_reservation', 'memswap_limit', 'shm_size']) if (s[k] != null) s[k] = String(bytesOf(s[k]!, `${where}.${k}`));
  if (s.cpus != null) s.cpus = numberOf(s.cpus, `${where}.cpus`);
  const res = isMap(s.deploy) && isMap(s.deploy.resources) ? s.deploy.resources : undefined;
  if (res) {
    for (const kind of ['limits', 'reservations']) {
      const r = res[kind];
      if (!isMap(r)) continue;
      if (r.memory != null) r.memory = String(bytesOf(r.memory, `${where}.deploy.resources.${kind}.memory`));
      if (r.cpus != null) r.cpus = numberOf(r.cpus, `${where}.deploy.resources.${kind}.cpus`);
    }
  }
}

function toService(name: string, s: JsonMap, o: NormalizeOptions): Service {
  const where = `services.${name}`;
  canonicalUnits(s, where);
  const env: Record<string, string | null> = {};
  if (isMap(s.environment)) for (const [k, v] of Object.entries(s.environment)) env[k] = v === null ? null : String(v);
  const deps: Record<string, Dependency> = {};
  if (isMap(s.depends_on)) {
    for (const [d, c] of Object.entries(s.depends_on)) {
      const cfg = isMap(c) ? c : {};
      deps[d] = { condition: String(cfg.condition ?? 'service_started') as DependencyCondition, restart: cfg.restart === true, required: cfg.required !== false };
    }
  }
  const networks: Record<string, ServiceNetwork> = {};
  if (isMap(s.networks)) {
    for (const [n, c] of Object.entries(s.networks)) {
      const cfg = isMap(c) ? c : {};
      const net: ServiceNetwork = { aliases: strings(cfg.aliases) };
      if (cfg.ipv4_address != null) net.ipv4Address = String(cfg.ipv4_address);
      if (cfg.ipv6_address != null) net.ipv6Address = String(cfg.ipv6_address);
      if (cfg.mac_address != null) net.macAddress = String(cfg.mac_address);
      if (cfg.priority != null) net.priority = numberOf(cfg.priority, `${where}.networks.${n}.priority`);
      networks[n] = net;
    }
  }
  const limitsIn = isMap(s.deploy) && isMap(s.deploy.resources) && isMap(s.deploy.resources.limits) ? s.deploy.resources.limits : {};
  const limits: Service['limits'] = {};
  const memory = s.mem_limit ?? limitsIn.memory;
  if (s.mem_limit != null && limitsIn.memory != null && s.mem_limit !== limitsIn.memory) {
    throw composeError(`services.${name}: can't set distinct values on 'mem_limit' and 'deploy.resources.limits.memory': invalid compose project`);
  }
  if (s.cpus != null && limitsIn.cpus != null && s.cpus !== limitsIn.cpus) {
    throw composeError(`services.${name}: can't set distinct values on 'cpus' and 'deploy.resources.limits.cpus': invalid compose project`);
  }
  if (memory != null) limits.memory = Number(memory);
  const cpus = s.cpus ?? limitsIn.cpus;
  if (cpus != null) limits.cpus = Number(cpus);
  const pids = s.pids_limit ?? limitsIn.pids;
  if (pids != null) limits.pids = numberOf(pids, `${where}.pids_limit`);
  const ulimits: Record<string, Ulimit> = {};
  if (isMap(s.ulimits)) {
    for (const [k, v] of Object.entries(s.ulimits)) {
      if (isMap(v)) ulimits[k] = { soft: numberOf(v.soft ?? null, `${where}.ulimits.${k}.soft`), hard: numberOf(v.hard ?? null, `${where}.ulimits.${k}.hard`) };
      else {
        const n = numberOf(v, `${where}.ulimits.${k}`);
        ulimits[k] = { soft: n, hard: n };
      }
    }
  }
  const mounts = (kind: 'secrets' | 'configs'): FileMount[] =>
    (Array.isArray(s[kind]) ? (s[kind] as Json[]) : []).filter(isMap).map((m) => {
      const f: FileMount = { source: String(m.source), target: String(m.target ?? (kind === 'secrets' ? `/run/secrets/${String(m.source)}` : `/${String(m.source)}`)) };
      if (m.uid != null) f.uid = String(m.uid);
      if (m.gid != null) f.gid = String(m.gid);
      if (m.mode != null) f.mode = numberOf(m.mode, `${where}.${kind}.mode`);
      return f;
    });
  const replicas = s.scale ?? (isMap(s.deploy) ? s.deploy.replicas : undefined) ?? 1;
  const unsupported = unsupportedKeys(s);
  for (const k of unsupported) o.warnings.add(`service ${JSON.stringify(name)}: ${k} is not supported by skiff and will be ignored`);
  const svc: Service = {
    name,
    environment: env,
    ports: (Array.isArray(s.ports) ? s.ports : []).map((p, i) => toPort(isMap(p) ? p : {}, `${where}.ports[${i}]`)),
    expose: strings(s.expose),
    volumes: (Array.isArray(s.volumes) ? s.volumes : []).map((v, i) => toVolume(isMap(v) ? v : {}, `${where}.volumes[${i}]`)),
    volumesFrom: strings(s.volumes_from),
    networks,
    dependsOn: deps,
    labels: stringMap(s.labels),
    readOnly: s.read_only === true,
    privileged: s.privileged === true,
    tmpfs: strings(s.tmpfs),
    capAdd: strings(s.cap_add),
    capDrop: strings(s.cap_drop),
    securityOpt: strings(s.security_opt),
    extraHosts: strings(s.extra_hosts),
    dns: strings(s.dns),
    dnsSearch: strings(s.dns_search),
    dnsOpt: strings(s.dns_opt),
    tty: s.tty === true,
    stdinOpen: s.stdin_open === true,
    replicas: numberOf(replicas, `${where}.deploy.replicas`),
    limits,
    ulimits,
    sysctls: stringMap(s.sysctls),
    groupAdd: strings(s.group_add),
    secrets: mounts('secrets'),
    configs: mounts('configs'),
    profiles: strings(s.profiles),
    watch: isMap(s.develop) && Array.isArray(s.develop.watch) ? s.develop.watch.filter(isMap).map(toWatchRule) : [],
    unsupported,
    config: s,
  };
  if (s.image != null) svc.image = String(s.image);
  if (isMap(s.build)) svc.build = toBuild(s.build);
  if (Array.isArray(s.command)) svc.command = s.command.map(String);
  if (Array.isArray(s.entrypoint)) svc.entrypoint = s.entrypoint.map(String);
  if (s.network_mode != null) svc.networkMode = String(s.network_mode);
  if (isMap(s.healthcheck)) svc.healthcheck = toHealthcheck(s.healthcheck, `${where}.healthcheck`);
  const simple: Array<[keyof Service, string]> = [
    ['restart', 'restart'], ['user', 'user'], ['workingDir', 'working_dir'], ['hostname', 'hostname'], ['domainname', 'domainname'],
    ['containerName', 'container_name'], ['stopSignal', 'stop_signal'], ['pullPolicy', 'pull_policy'], ['platform', 'platform'],
    ['pid', 'pid'], ['ipc', 'ipc'], ['uts', 'uts'],
  ];
  for (const [k, key] of simple) if (s[key] != null) (svc as unknown as Record<string, unknown>)[k] = String(s[key]);
  if (s.init != null) svc.init = s.init === true;
  if (s.stop_grace_period != null) svc.stopGracePeriod = durationMs(s.stop_grace_period, `${where}.stop_grace_period`);
  if (s.shm_size != null) svc.shmSize = Number(s.shm_size);
  if (isMap(s.logging)) {
    const l = s.logging;
    svc.logging = { options: stringMap(l.options) };
    if (l.driver != null) svc.logging.driver = String(l.driver);
  }
  return svc;
}

function toWatchRule(w: JsonMap): WatchRule {
  const rule: WatchRule = { path: String(w.path), action: String(w.action) as WatchRule['action'], ignore: strings(w.ignore), include: strings(w.include), initialSync: w.initial_sync === true };
  if (w.target != null) rule.target = String(w.target);
  if (isMap(w.exec)) {
    const x = w.exec;
    const env = isMap(x.environment) ? Object.entries(x.environment).map(([k, v]) => (v === null ? k : `${k}=${String(v)}`)) : strings(x.environment);
    rule.exec = { command: Array.isArray(x.command) ? x.command.map(String) : typeof x.command === 'string' ? splitShellWords(x.command) : [], privileged: x.privileged === true, environment: env };
    if (x.user != null) rule.exec.user = String(x.user);
    if (x.working_dir != null) rule.exec.workingDir = String(x.working_dir);
  }
  return rule;
}

function toBuild(b: JsonMap): Build {
  const args: Record<string, string | null> = {};
  if (isMap(b.args)) for (const [k, v] of Object.entries(b.args)) args[k] = v === null ? null : String(v);
  const out: Build = {
    context: String(b.context),
    args,
    labels: stringMap(b.labels),
    cacheFrom: strings(b.cache_from),
    noCache: b.no_cache === true,
    pull: b.pull === true,
    tags: strings(b.tags),
    platforms: strings(b.platforms),
  };
  if (b.dockerfile != null) out.dockerfile = String(b.dockerfile);
  if (b.dockerfile_inline != null) out.dockerfileInline = String(b.dockerfile_inline);
  if (b.target != null) out.target = String(b.target);
  if (b.network != null) out.network = String(b.network);
  return out;
}

function toNetwork(key: string, n: JsonMap): Network {
  const out: Network = {
    key,
    name: String(n.name),
    external: n.external === true,
    driverOpts: stringMap(n.driver_opts),
    internal: n.internal === true,
    labels: stringMap(n.labels),
    config: n,
  };
  if (n.driver != null) out.driver = String(n.driver);
  if (n.enable_ipv6 != null) out.enableIpv6 = n.enable_ipv6 === true;
  if (isMap(n.ipam)) {
    out.ipam = {
      config: (Array.isArray(n.ipam.config) ? n.ipam.config : []).filter(isMap).map((c) => {
        const e: { subnet?: string; gateway?: string; ipRange?: string } = {};
        if (c.subnet != null) e.subnet = String(c.subnet);
        if (c.gateway != null) e.gateway = String(c.gateway);
        if (c.ip_range != null) e.ipRange = String(c.ip_range);
        return e;
      }),
    };
    if (n.ipam.driver != null) out.ipam.driver = String(n.ipam.driver);
  }
  return out;
}

function toVolumeResource(key: string, v: JsonMap): Volume {
  const out: Volume = { key, name: String(v.name), external: v.external === true, driverOpts: stringMap(v.driver_opts), labels: stringMap(v.labels), config: v };
  if (v.driver != null) out.driver = String(v.driver);
  return out;
}

function toFileObject(key: string, f: JsonMap): FileObject {
  const out: FileObject = { key, name: String(f.name), external: f.external === true, config: f };
  if (f.file != null) out.file = String(f.file);
  if (f.environment != null) out.environment = String(f.environment);
  if (f.content != null) out.content = String(f.content);
  return out;
}

function resources<T>(m: Json | undefined, fn: (key: string, v: JsonMap) => T): Record<string, T> {
  const out: Record<string, T> = {};
  if (isMap(m)) for (const k of Object.keys(m).sort()) out[k] = fn(k, isMap(m[k]) ? (m[k] as JsonMap) : {});
  return out;
}

/** The merged canonical model → Project. */
export function normalize(dict: JsonMap, o: NormalizeOptions): Project {
  if (Object.keys(dict).length === 0) throw composeError('empty compose file');
  if (o.name === '') throw composeError('project name must not be empty');
  dict.name = o.name;
  const services: JsonMap = isMap(dict.services) ? dict.services : {};
  dict.services = services;
  for (const [name, s] of Object.entries(services)) {
    const svc = isMap(s) ? s : {};
    services[name] = svc;
    normalizeService(svc, o);
  }
  normalizeNetworks(dict);
  setNames(dict, o.name);
  const active: Record<string, JsonMap> = {};
  const disabled: Record<string, JsonMap> = {};
  for (const name of Object.keys(services).sort()) {
    const s = services[name] as JsonMap;
    if (hasProfile(s, o.profiles)) active[name] = s;
    else disabled[name] = s;
  }
  checkConsistency(dict, active, disabled);
  checkCycles(active);
  for (const s of Object.values(active)) {
    resolveEnvFiles(s, o);
    resolveLabelFiles(s);
  }
  const project: Project = {
    name: o.name,
    workingDir: o.workingDir,
    composeFiles: o.composeFiles,
    environment: Object.fromEntries(o.environment),
    services: {},
    disabledServices: {},
    networks: resources(dict.networks, toNetwork),
    volumes: resources(dict.volumes, toVolumeResource),
    secrets: resources(dict.secrets, toFileObject),
    configs: resources(dict.configs, toFileObject),
    profiles: [...o.profiles],
    extensions: Object.fromEntries(Object.entries(dict).filter(([k]) => k.startsWith('x-'))),
    warnings: o.warnings.list,
  };
  for (const [name, s] of Object.entries(active)) project.services[name] = toService(name, s, o);
  const quiet = new Warnings(); // inactive services are not warned about
  for (const [name, s] of Object.entries(disabled)) project.disabledServices[name] = toService(name, s, { ...o, warnings: quiet });
  return project;
}
