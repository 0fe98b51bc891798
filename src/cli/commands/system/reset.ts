/** `system reset`: remove every container, image, layer and volume of this store (as `podman system reset`). */
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'system',
  name: 'reset',
  describe: 'Reset the store: remove all containers, images, layers and volumes',
  positionals: [],
  options: {
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' },
  },
  userns: true,
  handler: async (o) => {
    if (!o.force) throw new SkiffError('EINVAL', 'system reset removes everything in the store: confirm with --force');
    const [{ resetStore }, { listContainers }, { removeContainer }] = await Promise.all([
      import('../../../store/atomic.js'), import('../../../store/containers.js'), import('../../../container/lifecycle.js'),
    ]);
    await resetStore(async () => {
      for (const c of listContainers()) await removeContainer(c.Id, { force: true });
    });
  },
});
