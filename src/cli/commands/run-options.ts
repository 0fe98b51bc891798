/** Options shared by `run` and `create` (one definition; both commands use it). */
import type { Argv } from 'yargs';
import type { CreateOptions } from '../../container/create.js';
import { registerPassthrough } from '../argv.js';

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

export function createOptions<T>(y: Argv<T>) {
  return y
    .positional('image', { type: 'string', describe: 'Image to run', demandOption: true })
    .option('name', { type: 'string', describe: 'Assign a name to the container' })
    .option('interactive', { alias: 'i', type: 'boolean', default: false, describe: 'Keep STDIN open' })
    .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'Allocate a pseudo-TTY' })
    .option('rm', { type: 'boolean', default: false, describe: 'Automatically remove the container when it exits' })
    .option('env', { alias: 'e', type: 'string', describe: 'Set environment variables (repeatable)' })
    .option('env-file', { type: 'string', describe: 'Read in a file of environment variables (repeatable)' })
    .option('user', { alias: 'u', type: 'string', describe: 'Username or UID (format: <name|uid>[:<group|gid>])' })
    .option('workdir', { alias: 'w', type: 'string', describe: 'Working directory inside the container' })
    .option('entrypoint', { type: 'string', describe: 'Overwrite the default ENTRYPOINT of the image' })
    .option('hostname', { alias: 'h', type: 'string', describe: 'Container host name' })
    .option('volume', { alias: 'v', type: 'string', describe: 'Bind mount a volume (SRC:DST[:ro])' })
    .option('mount', { type: 'string', describe: 'Attach a filesystem mount (type=bind|tmpfs|volume,...)' })
    .option('tmpfs', { type: 'string', describe: 'Mount a tmpfs directory' })
    .option('network', { alias: 'net', type: 'string', default: 'bridge', describe: 'Network: bridge (private, loopback only), none, host' })
    .option('privileged', { type: 'boolean', default: false, describe: 'Give extended privileges to this container' })
    .option('cap-add', { type: 'string', describe: 'Add Linux capabilities' })
    .option('cap-drop', { type: 'string', describe: 'Drop Linux capabilities' })
    .option('security-opt', { type: 'string', describe: 'Security options (no-new-privileges, seccomp=..., unmask=...)' })
    .option('read-only', { type: 'boolean', default: false, describe: "Mount the container's root filesystem as read only" })
    .option('init', { type: 'boolean', default: false, describe: 'Run an init inside the container that forwards signals and reaps processes' })
    .option('label', { alias: 'l', type: 'string', describe: 'Set meta data on a container' })
    .option('pull', { type: 'string', choices: ['missing', 'always', 'never'], default: 'missing', describe: 'Pull image before running' })
    .option('platform', { type: 'string', describe: 'Set platform if server is multi-platform capable' })
    .option('stop-signal', { type: 'string', describe: 'Signal to stop the container (default: the image STOPSIGNAL, else SIGTERM)' })
    .option('stop-timeout', { type: 'number', describe: 'Timeout (in seconds) to stop a container (default 10)' });
}

export const CREATE_VALUE_FLAGS = [
  'name', 'env', 'e', 'env-file', 'user', 'u', 'workdir', 'w', 'entrypoint', 'hostname', 'h', 'volume', 'v', 'mount',
  'tmpfs', 'network', 'net', 'cap-add', 'cap-drop', 'security-opt', 'label', 'l', 'pull', 'platform', 'root', 'runroot',
  'stop-signal', 'stop-timeout',
];
registerPassthrough('run', CREATE_VALUE_FLAGS);
registerPassthrough('create', CREATE_VALUE_FLAGS);

export function toCreateOptions(a: Record<string, unknown>, command: string[]): CreateOptions {
  return {
    image: String(a.image),
    command,
    name: a.name as string | undefined,
    entrypoint: a.entrypoint as string | undefined,
    env: list(a.env),
    envFile: list(a['env-file']),
    user: a.user as string | undefined,
    workdir: a.workdir as string | undefined,
    hostname: a.hostname as string | undefined,
    tty: Boolean(a.tty),
    interactive: Boolean(a.interactive),
    rm: Boolean(a.rm),
    volumes: list(a.volume),
    mounts: list(a.mount),
    tmpfs: list(a.tmpfs),
    network: String(a.network ?? 'bridge'),
    privileged: Boolean(a.privileged),
    capAdd: list(a['cap-add']),
    capDrop: list(a['cap-drop']),
    securityOpt: list(a['security-opt']),
    readOnly: Boolean(a['read-only']),
    init: Boolean(a.init),
    labels: list(a.label),
    pull: (a.pull as CreateOptions['pull']) ?? 'missing',
    platform: a.platform as string | undefined,
    stopSignal: a['stop-signal'] as string | undefined,
    stopTimeout: a['stop-timeout'] as number | undefined,
  };
}

export { list };
