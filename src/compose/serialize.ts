/**
 * `compose config`: the normalised project back to YAML (or JSON) in the shape `docker compose config`
 * prints it: top-level name, services, networks, volumes, secrets, configs; services and resources
 * sorted by name; each object's keys in Docker's (compose-go's struct) order, unknown ones after them,
 * sorted; env_file entries already folded into `environment`. Plus `--services`, `--volumes`,
 * `--profiles` and `--images` queries.
 */
import type { Project, Service } from './model.js';
import { isMap, type Json, type JsonMap } from './tree.js';

const ORDER: Record<string, string[]> = {
  project: ['name', 'services', 'networks', 'volumes', 'secrets', 'configs', 'models'],
  service: ('profiles annotations attach build develop blkio_config cap_add cap_drop cgroup_parent cgroup cpu_count cpu_percent cpu_period ' +
    'cpu_quota cpu_rt_period cpu_rt_runtime cpus cpuset cpu_shares command configs container_name credential_spec depends_on deploy ' +
    'device_cgroup_rules devices dns dns_opt dns_search dockerfile domainname entrypoint provider environment env_file expose extends ' +
    'external_links extra_hosts group_add gpus hostname healthcheck image init ipc isolation labels label_file links logging log_driver ' +
    'log_opt mem_limit mem_reservation memswap_limit mem_swappiness mac_address models net network_mode networks oom_kill_disable ' +
    'oom_score_adj pid pids_limit platform ports privileged pull_policy read_only restart runtime scale secrets security_opt shm_size ' +
    'stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user userns_mode uts volume_driver ' +
    'volumes volumes_from working_dir pre_start post_start pre_stop').split(' '),
  port: ['name', 'mode', 'host_ip', 'target', 'published', 'protocol', 'app_protocol'],
  volume: ['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs', 'image'],
  bind: ['selinux', 'propagation', 'create_host_path', 'recursive'],
  healthcheck: ['test', 'timeout', 'interval', 'retries', 'start_period', 'start_interval', 'disable'],
  deploy: ['mode', 'replicas', 'labels', 'update_config', 'rollback_config', 'resources', 'restart_policy', 'placement', 'endpoint_mode'],
  resources: ['limits', 'reservations'],
  resource: ['cpus', 'memory', 'pids', 'devices', 'generic_resources'],
  dependency: ['condition', 'restart', 'required'],
  servicenetwork: ['aliases', 'driver_opts', 'gw_priority', 'interface_name', 'ipv4_address', 'ipv6_address', 'link_local_ips', 'mac_address', 'priority'],
  build: ('context dockerfile dockerfile_inline entitlements args provenance sbom ssh labels cache_from cache_to no_cache no_cache_filter ' +
    'additional_contexts pull extra_hosts isolation network target secrets shm_size tags ulimits platforms privileged').split(' '),
  network: ['name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'labels', 'enable_ipv4', 'enable_ipv6'],
  volumeres: ['name', 'driver', 'driver_opts', 'external', 'labels'],
  fileobj: ['name', 'file', 'environment', 'content', 'external', 'labels', 'driver', 'driver_opts', 'template_driver'],
  ulimit: ['soft', 'hard'],
  trigger: ['path', 'action', 'target', 'exec', 'include', 'ignore', 'initial_sync'],
};

/** Which ORDER applies to the children of a key (by the parent's kind). */
function childKind(kind: string, key: string): string | undefined {
  switch (kind) {
    case 'project':
      return { services: 'services', networks: 'networks', volumes: 'volumes', secrets: 'fileobjs', configs: 'fileobjs' }[key];
    case 'services':
      return 'service';
    case 'networks':
      return 'network';
    case 'volumes':
      return 'volumeres';
    case 'fileobjs':
      return 'fileobj';
    case 'service':
      return { ports: 'port', volumes: 'volume', healthcheck: 'healthcheck', deploy: 'deploy', depends_on: 'dependencies', networks: 'servicenetworks', build: 'build', ulimits: 'ulimits', develop: 'develop' }[key];
    case 'develop':
      return key === 'watch' ? 'trigger' : undefined;
    case 'volume':
      return key === 'bind' ? 'bind' : undefined;
    case 'deploy':
      return key === 'resources' ? 'resources' : undefined;
    case 'resources':
      return 'resource';
    case 'dependencies':
      return 'dependency';
    case 'servicenetworks':
      return 'servicenetwork';
    case 'ulimits':
      return 'ulimit';
    default:
      return undefined;
  }
}

const SORTED_MAPS = new Set(['services', 'networks', 'volumes', 'fileobjs', 'dependencies', 'servicenetworks', 'ulimits']);

function ordered(v: Json, kind: string | undefined): Json {
  if (Array.isArray(v)) return v.map((x) => ordered(x, kind));
  if (!isMap(v)) return v;
  const keys = Object.keys(v);
  const order = kind ? ORDER[kind] : undefined;
  let sorted: string[];
  if (order) {
    const known = order.filter((k) => keys.includes(k));
    sorted = [...known, ...keys.filter((k) => !order.includes(k)).sort()];
  } else sorted = kind && SORTED_MAPS.has(kind) ? keys.sort() : keys.sort();
  const out: JsonMap = {};
  for (const k of sorted) {
    const ck = kind && SORTED_MAPS.has(kind) ? childKind(kind, k) : kind ? childKind(kind, k) : undefined;
    out[k] = ordered(v[k]!, ck);
  }
  return out;
}

/** The project as the plain object `compose config` prints (active services only). */
export function projectConfig(p: Project): JsonMap {
  const services: JsonMap = {};
  for (const [name, s] of Object.entries(p.services)) services[name] = s.config;
  const out: JsonMap = { name: p.name, services };
  const add = (key: string, m: Record<string, { config: JsonMap }>): void => {
    const entries = Object.entries(m);
    if (entries.length > 0) out[key] = Object.fromEntries(entries.map(([k, r]) => [k, r.config]));
  };
  add('networks', p.networks);
  add('volumes', p.volumes);
  add('secrets', p.secrets);
  add('configs', p.configs);
  for (const [k, v] of Object.entries(p.extensions)) out[k] = v;
  return ordered(out, 'project') as JsonMap;
}

// ---- YAML output (the JSON subset the model holds; faster than a general YAML library) ---------------

const INDICATORS = new Set([...'-?:,[]{}#&*!|>\'"%@`']);
/** What YAML 1.1 or 1.2 reads as a number (ints with _, 0x, 0o, 0b, floats, sexagesimal). */
const NUMBER = /^[-+]?(?:0[xob][0-9a-f_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:e[-+]?[0-9]+)?)$/i;
const SPECIAL = /^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?\.?(?:inf|nan))$/i;

/** A string that would read back as the same string without quotes. */
function plainOk(s: string): boolean {
  if (s === '' || SPECIAL.test(s) || NUMBER.test(s) || /^\d{4}-\d\d?-\d\d?/.test(s)) return false;
  if (INDICATORS.has(s[0]!) || /^\s|\s$/.test(s)) return false;
  if (/[\x00-\x1f\x7f]|: |:$| #/.test(s)) return false;
  return true;
}

function scalar(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return plainOk(v) ? v : JSON.stringify(v);
  return String(v);
}

function emit(v: Json, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      if ((isMap(item) && Object.keys(item).length > 0) || (Array.isArray(item) && item.length > 0)) {
        const sub: string[] = [];
        emit(item, `${indent}  `, sub);
        out.push(`${indent}- ${sub[0]!.slice(indent.length + 2)}`, ...sub.slice(1));
      } else out.push(`${indent}- ${inline(item, `${indent}  `)}`);
    }
    return;
  }
  if (isMap(v)) {
    for (const [k, x] of Object.entries(v)) {
      const key = scalar(k);
      if ((isMap(x) && Object.keys(x).length > 0) || (Array.isArray(x) && x.length > 0)) {
        out.push(`${indent}${key}:`);
        emit(x, Array.isArray(x) ? `${indent}  ` : `${indent}  `, out);
      } else out.push(`${indent}${key}: ${inline(x, `${indent}  `)}`);
    }
  }
}

/** A value on its key's line: a scalar, {} or [], or a block literal for multi-line text. */
function inline(v: Json, indent: string): string {
  if (isMap(v)) return '{}';
  if (Array.isArray(v)) return '[]';
  if (typeof v === 'string' && v.includes('\n') && !/[\x00-\x08\x0b-\x1f\x7f]/.test(v) && !/^[ \t]/.test(v) && !/\n\n$/.test(v) && !/[ \t]\n/.test(v)) {
    const body = v.endsWith('\n') ? v.slice(0, -1) : v;
    return `|${v.endsWith('\n') ? '' : '-'}\n${body
      .split('\n')
      .map((l) => (l === '' ? '' : indent + l))
      .join('\n')}`;
  }
  return scalar(v);
}

export function toYaml(v: Json): string {
  const out: string[] = [];
  emit(v, '', out);
  return `${out.join('\n')}\n`;
}

export function configYaml(p: Project): string {
  return toYaml(projectConfig(p));
}

export function configJson(p: Project): string {
  return JSON.stringify(projectConfig(p), null, 2);
}

/** `config --services`: active services, in dependency order (dependencies first), as Docker prints them. */
export function serviceNames(p: Project): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const s: Service | undefined = p.services[name];
    if (!s) return;
    for (const d of Object.keys(s.dependsOn).sort()) visit(d);
    out.push(name);
  };
  for (const n of Object.keys(p.services).sort()) visit(n);
  return out;
}

/** `config --volumes`: the top-level volume keys. */
export function volumeNames(p: Project): string[] {
  return Object.keys(p.volumes).sort();
}

/** `config --profiles`: every profile named by any service (active or not), sorted. */
export function profileNames(p: Project): string[] {
  const all = new Set<string>();
  for (const s of [...Object.values(p.services), ...Object.values(p.disabledServices)]) for (const pr of s.profiles) all.add(pr);
  return [...all].sort();
}

/** `config --images`: image of each active service (`PROJECT-SERVICE` for one built without `image:`). */
export function imageNames(p: Project): string[] {
  return Object.values(p.services).map((s) => s.image ?? `${p.name}-${s.name}`);
}
