/** `system reset`: remove every container, image, layer and volume of this store (like `podman system reset`). */
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

export const systemGroup: CommandModule = {
  command: 'system <command>',
  describe: 'Manage skiff',
  builder: (y) => y.command([reset]).demandCommand(1),
  handler: () => undefined,
};
