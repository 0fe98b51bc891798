/** Options shared by `run` and `create` (one definition; both descriptors, container/run.ts and container/create.ts, use it). */
import type { CreateOptions } from '../../container/create.js';
import type { ResourceOptions } from '../../container/resources.js';
import type { OptionSpec, OptionTable } from '../command.js';

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** The cgroup limits, shared by `create`/`run` and `update` (values parsed by container/resources.ts). */
export const LIMIT_OPTIONS = {
  memory: { alias: 'm', type: 'string', describe: 'Memory limit (e.g. 512m, 1g)' },
  'memory-swap': { type: 'string', describe: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  'memory-reservation': { type: 'string', describe: 'Memory soft limit' },
  'kernel-memory': { type: 'string', describe: 'Kernel memory limit (accepted and ignored, as current Docker)' },
  cpus: { type: 'string', describe: 'Number of CPUs (e.g. 1.5)' },
  'cpu-shares': { alias: 'c', type: 'string', describe: 'CPU shares (relative weight)' },
  'cpu-period': { type: 'string', describe: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  'cpu-quota': { type: 'string', describe: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  'cpuset-cpus': { type: 'string', describe: 'CPUs in which to allow execution (0-3, 0,1)' },
  'cpuset-mems': { type: 'string', describe: 'MEMs in which to allow execution (0-3, 0,1)' },
  'pids-limit': { type: 'string', describe: 'Tune container pids limit (set -1 for unlimited)' },
  'blkio-weight': { type: 'string', describe: 'Block IO (relative weight), between 10 and 1000, or 0 to disable' },
} as const satisfies OptionTable;

/** `update`: the cgroup limits and the restart policy. */
export const UPDATE_OPTIONS = {
  ...LIMIT_OPTIONS,
  restart: { type: 'string', describe: 'Restart policy to apply when a container exits' },
} as const satisfies OptionTable;

/** The limits only `create`/`run` take (the process's and the mounts': not changed on a running container). */
const PROCESS_LIMIT_OPTIONS = {
  'device-read-bps': { type: 'string', repeat: true, describe: 'Limit read rate (bytes per second) from a device (DEVICE:RATE, e.g. /dev/sda:1mb)' },
  'device-write-bps': { type: 'string', repeat: true, describe: 'Limit write rate (bytes per second) to a device (DEVICE:RATE)' },
  'device-read-iops': { type: 'string', repeat: true, describe: 'Limit read rate (IO per second) from a device (DEVICE:N)' },
  'device-write-iops': { type: 'string', repeat: true, describe: 'Limit write rate (IO per second) to a device (DEVICE:N)' },
  ulimit: { type: 'string', repeat: true, describe: 'Ulimit options (name=soft[:hard], repeatable)' },
  'shm-size': { type: 'string', describe: 'Size of /dev/shm (default 64m)' },
  'oom-kill-disable': { type: 'boolean', default: false, describe: 'Disable OOM Killer' },
  'oom-score-adj': { type: 'string', describe: "Tune host's OOM preferences (-1000 to 1000)" },
} as const satisfies OptionTable;

/** The limit flags as given → container/resources.ts's ResourceOptions. */
export function toResourceOptions(a: Record<string, unknown>): ResourceOptions {
  const s = (k: string): string | undefined => (a[k] === undefined ? undefined : String(a[k]));
  return {
    memory: s('memory'), memorySwap: s('memory-swap'), memoryReservation: s('memory-reservation'), kernelMemory: s('kernel-memory'),
    cpus: s('cpus'), cpuShares: s('cpu-shares'), cpuPeriod: s('cpu-period'), cpuQuota: s('cpu-quota'), cpusetCpus: s('cpuset-cpus'),
    cpusetMems: s('cpuset-mems'), pidsLimit: s('pids-limit'), blkioWeight: s('blkio-weight'), ulimits: list(a.ulimit), shmSize: s('shm-size'),
    oomKillDisable: Boolean(a['oom-kill-disable']), oomScoreAdj: s('oom-score-adj'),
    deviceReadBps: list(a['device-read-bps']), deviceWriteBps: list(a['device-write-bps']),
    deviceReadIops: list(a['device-read-iops']), deviceWriteIops: list(a['device-write-iops']),
  };
}

/** Docker's `WARNING: ...` lines on stderr (a limit that cannot be applied). */
export const warnLine = (line: string): void => void process.stderr.write(`WARNING: ${line}\n`);

/**
 * The options of `create` (and `run`), one entry each (the parser, parse.ts, and the help read it).
 * `repeat: true` for a flag given many times (a list); any other keeps its last value, as pflag.
 */
export const CREATE_OPTIONS = {
  name: { type: 'string', describe: 'Assign a name to the container' },
  replace: { type: 'boolean', default: false, describe: 'Remove a container that has the same name first (Podman)' },
  interactive: { alias: 'i', type: 'boolean', default: false, describe: 'Keep STDIN open' },
  attach: { alias: 'a', type: 'string', repeat: true, format: 'stream', describe: 'Attach to STDIN, STDOUT or STDERR (repeatable)' },
  tty: { alias: 't', type: 'boolean', default: false, describe: 'Allocate a pseudo-TTY' },
  rm: { type: 'boolean', default: false, describe: 'Automatically remove the container when it exits' },
  env: { alias: 'e', type: 'string', repeat: true, describe: 'Set environment variables (repeatable)' },
  'env-file': { type: 'string', repeat: true, describe: 'Read in a file of environment variables (repeatable)' },
  user: { alias: 'u', type: 'string', describe: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  workdir: { alias: 'w', type: 'string', describe: 'Working directory inside the container' },
  entrypoint: { type: 'string', describe: 'Overwrite the default ENTRYPOINT of the image' },
  hostname: { alias: 'h', type: 'string', describe: 'Container host name' },
  volume: { alias: 'v', type: 'string', repeat: true, describe: 'Bind mount a volume (SRC:DST[:OPTS], OPTS: ro, rw, nocopy, U, z, Z, [r]shared, [r]slave, [r]private)' },
  mount: { type: 'string', repeat: true, describe: 'Attach a filesystem mount (type=bind|tmpfs|volume,src=,dst=,readonly,volume-nocopy,volume-opt=K=V,...)' },
  tmpfs: { type: 'string', repeat: true, describe: 'Mount a tmpfs directory' },
  'volumes-from': { type: 'string', repeat: true, describe: 'Mount volumes from the specified container(s) (CONTAINER[:ro|rw], repeatable)' },
  network: { alias: 'net', type: 'string', repeat: true, describe: 'Connect a container to a network: bridge (default), NAME, host, none, container:NAME|ID (repeatable)' },
  'network-alias': { alias: 'net-alias', type: 'string', repeat: true, describe: 'Add network-scoped alias for the container' },
  ip: { type: 'string', describe: 'IPv4 address (e.g., 172.30.100.104)' },
  'mac-address': { type: 'string', describe: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  dns: { type: 'string', repeat: true, describe: 'Set custom DNS servers' },
  'dns-search': { type: 'string', repeat: true, describe: 'Set custom DNS search domains' },
  'dns-option': { alias: 'dns-opt', type: 'string', repeat: true, describe: 'Set DNS options' },
  'add-host': { type: 'string', repeat: true, describe: 'Add a custom host-to-IP mapping (host:ip)' },
  domainname: { type: 'string', describe: 'Container NIS domain name' },
  publish: { alias: 'p', type: 'string', repeat: true, describe: "Publish a container's port(s) to the host" },
  'publish-all': { alias: 'P', type: 'boolean', default: false, describe: 'Publish all exposed ports to random ports' },
  expose: { type: 'string', repeat: true, describe: 'Expose a port or a range of ports' },
  privileged: { type: 'boolean', default: false, describe: 'Give extended privileges to this container' },
  device: { type: 'string', repeat: true, describe: 'Add a host device to the container (HOST[:CONTAINER[:PERMS]], repeatable)' },
  'device-cgroup-rule': { type: 'string', repeat: true, describe: "Add a rule to the cgroup allowed devices list ('c 1:3 rwm', repeatable)" },
  'cap-add': { type: 'string', repeat: true, describe: 'Add Linux capabilities' },
  'cap-drop': { type: 'string', repeat: true, describe: 'Drop Linux capabilities' },
  'security-opt': { type: 'string', repeat: true, describe: 'Security options (no-new-privileges, seccomp=..., unmask=...)' },
  sysctl: { type: 'string', repeat: true, describe: 'Sysctl options (namespaced ones: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*; repeatable)' },
  'group-add': { type: 'string', repeat: true, describe: 'Add additional groups to join (name or GID, repeatable)' },
  pid: { type: 'string', describe: 'PID namespace to use: host, container:NAME|ID' },
  ipc: { type: 'string', describe: 'IPC mode to use: host, container:NAME|ID, shareable, private, none' },
  uts: { type: 'string', describe: 'UTS namespace to use: host (container:NAME|ID: Podman)' },
  userns: { type: 'string', describe: 'User namespace to use: host (rootful containers have no user namespace of their own); keep-id[:uid=U,gid=G] (Podman\'s, rootless: your uid and gid inside, or U/G)' },
  'cgroup-parent': { type: 'string', describe: 'Optional parent cgroup for the container (a path from the cgroup root; rootful)' },
  cgroupns: { type: 'string', describe: "Cgroup namespace to use: host, private (default: private)" },
  'read-only': { type: 'boolean', default: false, describe: "Mount the container's root filesystem as read only" },
  init: { type: 'boolean', default: false, describe: 'Run an init inside the container that forwards signals and reaps processes' },
  label: { alias: 'l', type: 'string', repeat: true, describe: 'Set meta data on a container' },
  'label-file': { type: 'string', repeat: true, describe: 'Read in a line delimited file of labels' },
  cidfile: { type: 'string', describe: 'Write the container ID to the file' },
  pull: { type: 'string', choices: ['missing', 'always', 'never'], default: 'missing', describe: 'Pull image before running' },
  platform: { type: 'string', describe: 'Set platform if server is multi-platform capable' },
  restart: { type: 'string', default: 'no', describe: 'Restart policy: no, on-failure[:max-retries], always, unless-stopped' },
  'log-driver': { type: 'string', default: 'json-file', describe: 'Logging driver: json-file or none' },
  'log-opt': { type: 'string', repeat: true, describe: 'Log driver options: max-size=10m, max-file=3 (repeatable)' },
  'health-cmd': { type: 'string', describe: 'Command to run to check health' },
  'health-interval': { type: 'string', describe: 'Time between running the check (ms|s|m|h) (default 30s)' },
  'health-timeout': { type: 'string', describe: 'Maximum time to allow one check to run (ms|s|m|h) (default 30s)' },
  'health-retries': { type: 'int', describe: 'Consecutive failures needed to report unhealthy (default 3)' },
  'health-start-period': { type: 'string', describe: 'Start period for the container to initialize before counting retries (ms|s|m|h) (default 0s)' },
  'no-healthcheck': { type: 'boolean', default: false, describe: 'Disable any container-specified HEALTHCHECK' },
  'stop-signal': { type: 'string', describe: 'Signal to stop the container (default: the image STOPSIGNAL, else SIGTERM)' },
  'stop-timeout': { type: 'int', describe: 'Timeout (in seconds) to stop a container (default 10)' },
  ...LIMIT_OPTIONS,
  ...PROCESS_LIMIT_OPTIONS,
} as const satisfies OptionTable;

/** `--detach-keys` of run, start, attach and exec (the value: client-config.ts detachKeys). */
export const DETACH_KEYS_OPTION = {
  type: 'string', describe: 'Override the key sequence for detaching a container (default: detachKeys of config.json, else "ctrl-p,ctrl-q")',
} as const satisfies OptionSpec;

/** `run` = `create` + start: its own options on top of create's. */
export const RUN_OPTIONS = {
  ...CREATE_OPTIONS,
  detach: { alias: 'd', type: 'boolean', default: false, describe: 'Run container in background and print container ID' },
  'detach-keys': DETACH_KEYS_OPTION,
} as const satisfies OptionTable;

export function toCreateOptions(a: Record<string, unknown>, command: string[], argv?: readonly string[]): CreateOptions {
  return {
    image: String(a.image),
    command,
    ...(argv ? { createCommand: ['skiff', ...argv] } : {}),
    name: a.name as string | undefined,
    replace: Boolean(a.replace),
    entrypoint: a.entrypoint as string | undefined,
    env: list(a.env),
    envFile: list(a['env-file']),
    user: a.user as string | undefined,
    workdir: a.workdir as string | undefined,
    hostname: a.hostname as string | undefined,
    tty: Boolean(a.tty),
    interactive: Boolean(a.interactive),
    attach: list(a.attach) as CreateOptions['attach'],
    detach: Boolean(a.detach),
    rm: Boolean(a.rm),
    volumes: list(a.volume),
    mounts: list(a.mount),
    tmpfs: list(a.tmpfs),
    volumesFrom: list(a['volumes-from']),
    network: list(a.network),
    aliases: list(a['network-alias']),
    ip: a.ip as string | undefined,
    mac: a['mac-address'] as string | undefined,
    dns: list(a.dns),
    dnsSearch: list(a['dns-search']),
    dnsOptions: list(a['dns-option']),
    addHost: list(a['add-host']),
    publish: list(a.publish),
    publishAll: Boolean(a['publish-all']),
    expose: list(a.expose),
    domainname: a.domainname as string | undefined,
    privileged: Boolean(a.privileged),
    devices: list(a.device),
    deviceCgroupRules: list(a['device-cgroup-rule']),
    capAdd: list(a['cap-add']),
    capDrop: list(a['cap-drop']),
    securityOpt: list(a['security-opt']),
    sysctls: list(a.sysctl),
    groupAdd: list(a['group-add']),
    ...(a.pid !== undefined ? { pid: String(a.pid) } : {}),
    ...(a.ipc !== undefined ? { ipc: String(a.ipc) } : {}),
    ...(a.uts !== undefined ? { uts: String(a.uts) } : {}),
    ...(a.cgroupns !== undefined ? { cgroupns: String(a.cgroupns) } : {}),
    ...(a.userns !== undefined ? { userns: String(a.userns) } : {}),
    ...(a['cgroup-parent'] !== undefined ? { cgroupParent: String(a['cgroup-parent']) } : {}),
    readOnly: Boolean(a['read-only']),
    init: Boolean(a.init),
    labels: list(a.label),
    labelFile: list(a['label-file']),
    pull: (a.pull as CreateOptions['pull']) ?? 'missing',
    platform: a.platform as string | undefined,
    restart: a.restart as string | undefined,
    logDriver: a['log-driver'] as string | undefined,
    logOpts: list(a['log-opt']),
    health: {
      cmd: a['health-cmd'] as string | undefined,
      interval: a['health-interval'] as string | undefined,
      timeout: a['health-timeout'] as string | undefined,
      startPeriod: a['health-start-period'] as string | undefined,
      retries: a['health-retries'] as number | undefined,
      none: Boolean(a['no-healthcheck']),
    },
    stopSignal: a['stop-signal'] as string | undefined,
    stopTimeout: a['stop-timeout'] as number | undefined,
    resources: toResourceOptions(a),
    warn: warnLine,
  };
}

export { list };
