/**
 * The normalised compose project: what `up` and friends plan from. Every service, network, volume,
 * secret and config keeps its canonical compose form (`config`, Docker's field names, what `compose
 * config` prints and the config hash covers) beside the typed fields skiff acts on.
 */
import type { ComposeWarning } from './errors.js';
import type { JsonMap } from './tree.js';

export interface Port {
  name?: string;
  mode: string;
  /** Host address to bind ("" = all). */
  hostIp: string;
  target: number;
  /** Host port or range ("8080", "8000-8010"); undefined = an ephemeral port. */
  published?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  appProtocol?: string;
}

export type VolumeType = 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image';

export interface ServiceVolume {
  type: VolumeType;
  /** Absolute host path (bind), volume key (named; undefined = anonymous), image reference (image). */
  source?: string;
  target: string;
  readOnly: boolean;
  bind?: { createHostPath: boolean; propagation?: string; selinux?: string; recursive?: string };
  volume?: { nocopy: boolean; subpath?: string };
  tmpfs?: { size?: number; mode?: number };
}

export interface ServiceNetwork {
  aliases: string[];
  ipv4Address?: string;
  ipv6Address?: string;
  macAddress?: string;
  priority?: number;
}

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface Dependency {
  condition: DependencyCondition;
  /** Restart this service when the dependency is restarted (by compose). */
  restart: boolean;
  /** false: a missing (or inactive) dependency is ignored. */
  required: boolean;
}

export interface Healthcheck {
  /** ["CMD", ...], ["CMD-SHELL", cmd] or ["NONE"]; undefined = the image's. */
  test?: string[];
  /** Durations in milliseconds. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
  disable: boolean;
}

export interface Build {
  /** Absolute directory, or a URL / git remote kept as written. */
  context: string;
  dockerfile?: string;
  dockerfileInline?: string;
  args: Record<string, string | null>;
  target?: string;
  labels: Record<string, string>;
  cacheFrom: string[];
  network?: string;
  noCache: boolean;
  pull: boolean;
  tags: string[];
  platforms: string[];
}

/** One `develop.watch` rule (compose watch). */
export interface WatchRule {
  /** Absolute host path (a directory, watched recursively, or a file). */
  path: string;
  action: 'rebuild' | 'sync' | 'restart' | 'sync+restart' | 'sync+exec';
  /** Container path the files of `path` go to (sync actions). */
  target?: string;
  /** .dockerignore-style patterns relative to `path`. */
  ignore: string[];
  include: string[];
  /** sync+exec: the command run in each container after a sync. */
  exec?: { command: string[]; user?: string; privileged: boolean; workingDir?: string; environment: string[] };
  initialSync: boolean;
}

export interface FileMount {
  /** Key in the project's secrets/configs. */
  source: string;
  /** Absolute path in the container (secrets default to /run/secrets/SOURCE, configs to /SOURCE). */
  target: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface Ulimit {
  soft: number;
  hard: number;
}

export interface Resources {
  /** Bytes. */
  memory?: number;
  cpus?: number;
  pids?: number;
}

export interface Service {
  name: string;
  image?: string;
  build?: Build;
  /** Exec form; undefined = the image's CMD/ENTRYPOINT. */
  command?: string[];
  entrypoint?: string[];
  /** Resolved environment: env_file files, then `environment:` (a null value: set in the list without a value and not in the project environment). */
  environment: Record<string, string | null>;
  ports: Port[];
  expose: string[];
  volumes: ServiceVolume[];
  volumesFrom: string[];
  /** Networks joined (key in the project's networks) → settings; empty with network_mode. */
  networks: Record<string, ServiceNetwork>;
  networkMode?: string;
  dependsOn: Record<string, Dependency>;
  healthcheck?: Healthcheck;
  restart?: string;
  user?: string;
  workingDir?: string;
  hostname?: string;
  domainname?: string;
  containerName?: string;
  labels: Record<string, string>;
  init?: boolean;
  readOnly: boolean;
  privileged: boolean;
  tmpfs: string[];
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  stopSignal?: string;
  /** Milliseconds. */
  stopGracePeriod?: number;
  extraHosts: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOpt: string[];
  tty: boolean;
  stdinOpen: boolean;
  /** deploy.replicas / scale (default 1). */
  replicas: number;
  /** deploy.resources.limits merged with mem_limit, cpus, pids_limit. */
  limits: Resources;
  shmSize?: number;
  ulimits: Record<string, Ulimit>;
  sysctls: Record<string, string>;
  /** group_add (names or numbers) */
  groupAdd: string[];
  /** pid / ipc / uts: host, container:X, service:NAME (ipc also shareable, private) */
  pid?: string;
  ipc?: string;
  uts?: string;
  secrets: FileMount[];
  configs: FileMount[];
  profiles: string[];
  pullPolicy?: string;
  platform?: string;
  logging?: { driver?: string; options: Record<string, string> };
  /** develop.watch rules (`compose watch`). */
  watch: WatchRule[];
  /** Keys this service uses that skiff does not implement (also reported as warnings). */
  unsupported: string[];
  /** The canonical compose form (Docker's names): what `config` prints and the config hash covers. */
  config: JsonMap;
}

export interface Network {
  /** The key in the compose file. */
  key: string;
  /** The engine's name: `PROJECT_KEY` unless `name:` or external. */
  name: string;
  external: boolean;
  driver?: string;
  driverOpts: Record<string, string>;
  internal: boolean;
  enableIpv6?: boolean;
  ipam?: { driver?: string; config: { subnet?: string; gateway?: string; ipRange?: string }[] };
  labels: Record<string, string>;
  config: JsonMap;
}

export interface Volume {
  key: string;
  /** `PROJECT_KEY` unless `name:` or external. */
  name: string;
  external: boolean;
  driver?: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
  config: JsonMap;
}

export interface FileObject {
  key: string;
  name: string;
  external: boolean;
  /** Absolute path of a file-backed secret/config. */
  file?: string;
  /** Variable whose value is the content. */
  environment?: string;
  content?: string;
  config: JsonMap;
}

export interface Project {
  name: string;
  /** The project directory (absolute). */
  workingDir: string;
  /** Absolute paths of the compose files (`-` for stdin). */
  composeFiles: string[];
  /** Variables used for interpolation: process environment, then the env files. */
  environment: Record<string, string>;
  /** Active services by name. */
  services: Record<string, Service>;
  /** Services of inactive profiles. */
  disabledServices: Record<string, Service>;
  networks: Record<string, Network>;
  volumes: Record<string, Volume>;
  secrets: Record<string, FileObject>;
  configs: Record<string, FileObject>;
  /** Active profiles. */
  profiles: string[];
  /** Top-level x-* keys. */
  extensions: JsonMap;
  warnings: ComposeWarning[];
}
