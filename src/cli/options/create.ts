/** The options of `create` and `run` (one table, both commands), and their values as the domain takes them. */
import type { CreateOptions } from '../../container/create.js';
import type { OptionTable, Values } from '../command.js';

export const CREATE_OPTIONS = {
  name: { type: 'string', describe: 'Assign a name to the container' },
  interactive: { alias: 'i', type: 'boolean', default: false, describe: 'Keep STDIN open' },
  tty: { alias: 't', type: 'boolean', default: false, describe: 'Allocate a pseudo-TTY' },
  rm: { type: 'boolean', default: false, describe: 'Automatically remove the container when it exits' },
  env: { alias: 'e', type: 'string', repeat: true, describe: 'Set environment variables' },
  'env-file': { type: 'string', repeat: true, describe: 'Read in a file of environment variables' },
  user: { alias: 'u', type: 'string', describe: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  workdir: { alias: 'w', type: 'string', describe: 'Working directory inside the container' },
  entrypoint: { type: 'string', describe: 'Overwrite the default ENTRYPOINT of the image' },
  hostname: { alias: 'h', type: 'string', describe: 'Container host name' },
  volume: { alias: 'v', type: 'string', repeat: true, describe: 'Bind mount a volume (SRC:DST[:ro])' },
  mount: { type: 'string', repeat: true, describe: 'Attach a filesystem mount (type=bind|tmpfs|volume,...)' },
  tmpfs: { type: 'string', repeat: true, describe: 'Mount a tmpfs directory' },
  network: { alias: 'net', type: 'string', default: 'bridge', describe: 'Network: bridge (private, loopback only), none, host' },
  privileged: { type: 'boolean', default: false, describe: 'Give extended privileges to this container' },
  device: { type: 'string', repeat: true, describe: 'Add a host device to the container (HOST[:CONTAINER[:PERMS]])' },
  'device-cgroup-rule': { type: 'string', repeat: true, describe: "Add a rule to the cgroup allowed devices list ('c 1:3 rwm')" },
  'cap-add': { type: 'string', repeat: true, describe: 'Add Linux capabilities' },
  'cap-drop': { type: 'string', repeat: true, describe: 'Drop Linux capabilities' },
  'security-opt': { type: 'string', repeat: true, describe: 'Security options (no-new-privileges, seccomp=..., unmask=...)' },
  'read-only': { type: 'boolean', default: false, describe: "Mount the container's root filesystem as read only" },
  init: { type: 'boolean', default: false, describe: 'Run an init inside the container that forwards signals and reaps processes' },
  label: { alias: 'l', type: 'string', repeat: true, describe: 'Set meta data on a container' },
  pull: { type: 'string', choices: ['missing', 'always', 'never'], default: 'missing', describe: 'Pull image before running' },
  platform: { type: 'string', describe: 'Set platform if server is multi-platform capable' },
  restart: { type: 'string', default: 'no', describe: 'Restart policy: no, on-failure[:max-retries], always, unless-stopped' },
  'log-driver': { type: 'string', default: 'json-file', describe: 'Logging driver: json-file or none' },
  'log-opt': { type: 'string', repeat: true, describe: 'Log driver options: max-size=10m, max-file=3' },
  'health-cmd': { type: 'string', describe: 'Command to run to check health' },
  'health-interval': { type: 'string', describe: 'Time between running the check (ms|s|m|h) (default 30s)' },
  'health-timeout': { type: 'string', describe: 'Maximum time to allow one check to run (ms|s|m|h) (default 30s)' },
  'health-retries': { type: 'int', describe: 'Consecutive failures needed to report unhealthy (default 3)' },
  'health-start-period': { type: 'string', describe: 'Start period for the container to initialize before counting retries (ms|s|m|h) (default 0s)' },
  'no-healthcheck': { type: 'boolean', default: false, describe: 'Disable any container-specified HEALTHCHECK' },
  'stop-signal': { type: 'string', describe: 'Signal to stop the container (default: the image STOPSIGNAL, else SIGTERM)' },
  'stop-timeout': { type: 'int', describe: 'Timeout (in seconds) to stop a container (default 10)' },
} as const satisfies OptionTable;

/** `run` = `create` + start: its own options on top of create's. */
export const RUN_OPTIONS = {
  ...CREATE_OPTIONS,
  detach: { alias: 'd', type: 'boolean', default: false, describe: 'Run container in background and print container ID' },
} as const satisfies OptionTable;

/** The positionals of both: the image, then the container's command, verbatim. */
export const CREATE_POSITIONALS = [{ name: 'image', required: true }, { name: 'command', variadic: true }] as const;

export const CREATE_USAGE = '[OPTIONS] IMAGE [COMMAND] [ARG...]';

export function toCreateOptions(o: Values<typeof CREATE_OPTIONS>, image: string, command: string[]): CreateOptions {
  return {
    image,
    command,
    name: o.name,
    entrypoint: o.entrypoint,
    env: o.env,
    envFile: o['env-file'],
    user: o.user,
    workdir: o.workdir,
    hostname: o.hostname,
    tty: o.tty,
    interactive: o.interactive,
    rm: o.rm,
    volumes: o.volume,
    mounts: o.mount,
    tmpfs: o.tmpfs,
    network: o.network,
    privileged: o.privileged,
    devices: o.device,
    deviceCgroupRules: o['device-cgroup-rule'],
    capAdd: o['cap-add'],
    capDrop: o['cap-drop'],
    securityOpt: o['security-opt'],
    readOnly: o['read-only'],
    init: o.init,
    labels: o.label,
    pull: o.pull,
    platform: o.platform,
    restart: o.restart,
    logDriver: o['log-driver'],
    logOpts: o['log-opt'],
    health: {
      cmd: o['health-cmd'],
      interval: o['health-interval'],
      timeout: o['health-timeout'],
      startPeriod: o['health-start-period'],
      retries: o['health-retries'],
      none: o['no-healthcheck'],
    },
    stopSignal: o['stop-signal'],
    stopTimeout: o['stop-timeout'],
  };
}
