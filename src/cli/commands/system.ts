/**
 * `system reset`: remove every container, image, layer and volume of this store (like `podman system reset`).
 * `system service`: the Docker Engine API on a socket (src/api/).
 */
import type { CommandModule } from 'yargs';
import { SkiffError } from '../../errors.js';
import { removeContainer } from '../../container/lifecycle.js';
import { resetStore } from '../../store/atomic.js';
import { listContainers } from '../../store/containers.js';

const reset: CommandModule = {
  command: 'reset',
  describe: 'Reset the store: remove all containers, images, layers and volumes',
  builder: (y) => y.option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' }),
  handler: async (a) => {
    if (!a.force) throw new SkiffError('EINVAL', 'system reset removes everything in the store: confirm with --force');
    await resetStore(async () => {
      for (const c of listContainers()) await removeContainer(c.Id, { force: true });
    });
  },
};

const service: CommandModule = {
  command: 'service [uri]',
  describe: 'Serve the Docker Engine API on a socket (default: <runroot>/docker.sock) until idle',
  builder: (y) =>
    y.positional('uri', { type: 'string', describe: 'unix:///path/to.sock or tcp://127.0.0.1:PORT' })
      .option('time', { alias: 't', type: 'number', default: 5, describe: 'Seconds without a connection before exiting (0: never)' }),
  handler: async (a) => {
    const time = Number(a.time);
    if (!Number.isFinite(time) || time < 0) throw new SkiffError('EINVAL', `invalid --time ${String(a.time)}: want seconds (0: never)`);
    const { serve } = await import('../../api/server.js');
    await serve({ idleSec: time, ...(a.uri ? { uri: String(a.uri) } : {}) });
  },
};

export const systemGroup: CommandModule = {
  command: 'system <command>',
  describe: 'Manage skiff',
  builder: (y) => y.command([reset, service]).demandCommand(1),
  handler: () => undefined,
};
