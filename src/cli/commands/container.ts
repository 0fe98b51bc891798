/** Container commands: start, exec, rm, stop, kill, ps (run and create: run.ts; logs and attach: logs.ts). */
import type { CommandModule } from 'yargs';
import {
  execInContainer, killContainer, removeContainer, startAttached, startDetached, stopContainer,
} from '../../container/lifecycle.js';
import { parseSignal } from '../../container/signals.js';
import { listContainerRows } from '../../container/list.js';
import { findContainer, type ContainerRecord } from '../../store/containers.js';
import { SkiffError } from '../../errors.js';
import { passthrough, registerPassthrough } from '../argv.js';
import { formatOutput } from '../output/table.js';
import { batch } from '../batch.js';
import { saveCodeCache } from '../launcher.js';
import { list } from './run-options.js';
import { create, refuseTtyWithoutTerminal, run } from './run.js';

/** `batch` over containers named on the command line: `act` gets each one's record; a success prints the name as given. */
export async function eachContainer(refs: string[], act: (rec: ContainerRecord) => Promise<unknown>): Promise<void> {
  await batch(refs, async (ref) => {
    await act(findContainer(ref));
    return ref;
  });
}

export { create, run };

export const start: CommandModule = {
  command: 'start <container..>',
  describe: 'Start one or more stopped containers',
  builder: (y) =>
    y.positional('container', { type: 'string', array: true }).option('attach', { alias: 'a', type: 'boolean', default: false, describe: 'Attach STDOUT/STDERR and forward signals' })
      .option('interactive', { alias: 'i', type: 'boolean', default: false, describe: "Attach container's STDIN" }),
  handler: async (a) => {
    const refs = list(a.container);
    if (a.attach) {
      if (refs.length > 1) throw new SkiffError('EINVAL', 'you cannot start and attach multiple containers at once');
      await startAttached(findContainer(refs[0]!), saveCodeCache);
      return;
    }
    await eachContainer(refs, startDetached);
  },
};

registerPassthrough('exec', ['env', 'e', 'user', 'u', 'workdir', 'w', 'env-file', 'root', 'runroot']);
export const exec: CommandModule = {
  command: 'exec <container>',
  describe: 'Execute a command in a running container',
  builder: (y) =>
    y.usage('Usage: skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]').positional('container', { type: 'string', demandOption: true })
      .option('interactive', { alias: 'i', type: 'boolean', default: false, describe: 'Keep STDIN open' })
      .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'Allocate a pseudo-TTY' })
      .option('detach', { alias: 'd', type: 'boolean', default: false, hidden: true })
      .option('env', { alias: 'e', type: 'string', describe: 'Set environment variables' })
      .option('user', { alias: 'u', type: 'string', describe: 'Username or UID (format: <name|uid>[:<group|gid>])' })
      .option('workdir', { alias: 'w', type: 'string', describe: 'Working directory inside the container' })
      .option('privileged', { type: 'boolean', default: false, describe: 'Give extended privileges to the command' }),
  handler: async (a) => {
    const args = passthrough();
    if (!args.length) throw new SkiffError('EINVAL', "exec requires at least 2 arguments: 'skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]'");
    if (a.tty && a.interactive && !a.detach) refuseTtyWithoutTerminal();
    await execInContainer(String(a.container), {
      args, tty: Boolean(a.tty), interactive: Boolean(a.interactive), env: list(a.env),
      user: a.user as string | undefined, workdir: a.workdir as string | undefined, privileged: Boolean(a.privileged),
    }, saveCodeCache);
  },
};

export const rm: CommandModule = {
  command: 'rm <container..>',
  aliases: ['remove'],
  describe: 'Remove one or more containers',
  builder: (y) =>
    y.positional('container', { type: 'string', array: true }).option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Force the removal of a running container (uses SIGKILL)' })
      .option('volumes', { alias: 'v', type: 'boolean', default: false, describe: 'Remove anonymous volumes associated with the container' }),
  handler: async (a) => {
    await batch(list(a.container), async (ref) => {
      await removeContainer(ref, { force: Boolean(a.force), volumes: Boolean(a.volumes) });
      return ref;
    });
  },
};

export const stop: CommandModule = {
  command: 'stop <container..>',
  describe: 'Stop one or more running containers',
  builder: (y) =>
    y.positional('container', { type: 'string', array: true })
      .option('time', { alias: 't', type: 'number', describe: 'Seconds to wait before killing (default: the container\'s --stop-timeout, else 10)' })
      .option('signal', { alias: 's', type: 'string', describe: 'Signal to send to the container (default: its STOPSIGNAL, else SIGTERM)' }),
  handler: async (a) => {
    const sig = a.signal === undefined ? undefined : String(a.signal);
    if (sig !== undefined) parseSignal(sig);
    await eachContainer(list(a.container), (rec) =>
      stopContainer(sig === undefined ? rec : { ...rec, Config: { ...rec.Config, StopSignal: sig } }, a.time as number | undefined));
  },
};

export const kill: CommandModule = {
  command: 'kill <container..>',
  describe: 'Kill one or more running containers',
  builder: (y) => y.positional('container', { type: 'string', array: true }).option('signal', { alias: 's', type: 'string', default: 'KILL', describe: 'Signal to send' }),
  handler: async (a) => {
    const sig = parseSignal(String(a.signal));
    await eachContainer(list(a.container), (rec) => killContainer(rec, sig));
  },
};

export const ps: CommandModule = {
  command: 'ps',
  aliases: ['ls', 'list'],
  describe: 'List containers',
  builder: (y) =>
    y.option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Show all containers (default shows just running)' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Only display container IDs' })
      .option('no-trunc', { type: 'boolean', default: false, describe: "Don't truncate output" })
      .option('last', { alias: 'n', type: 'number', describe: 'Show n last created containers (includes all states)' })
      .option('latest', { alias: 'l', type: 'boolean', default: false, describe: 'Show the latest created container' })
      .option('filter', { alias: 'f', type: 'string', describe: 'Filter output based on conditions provided' })
      .option('format', { type: 'string', describe: 'Format output using a Go template' }),
  handler: async (a) => {
    const rows = await listContainerRows({
      all: Boolean(a.all), last: a.latest ? 1 : (a.last as number | undefined), filters: list(a.filter), noTrunc: Boolean(a['no-trunc']),
    });
    process.stdout.write(
      formatOutput(rows, {
        format: a.format as string | undefined,
        quiet: a.quiet ? (r) => r.ID : undefined,
        defaultTable: [
          { header: 'CONTAINER ID', field: (r) => r.ID },
          { header: 'IMAGE', field: (r) => r.Image },
          { header: 'COMMAND', field: (r) => r.Command },
          { header: 'CREATED', field: (r) => r.RunningFor },
          { header: 'STATUS', field: (r) => r.Status },
          { header: 'PORTS', field: (r) => r.Ports },
          { header: 'NAMES', field: (r) => r.Names },
        ],
        headerNames: { ID: 'CONTAINER ID', RunningFor: 'CREATED', CreatedAt: 'CREATED AT' },
      }),
    );
  },
};

export const containerCommands: CommandModule[] = [run, create, start, exec, rm, stop, kill, ps];
