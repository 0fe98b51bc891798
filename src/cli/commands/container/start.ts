/** `start`: start stopped containers (detached), or one attached (-a). */
import { SkiffError } from '../../../errors.js';
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'start',
  aliases: ['start'],
  describe: 'Start one or more stopped containers',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {
    attach: { alias: 'a', type: 'boolean', default: false, describe: 'Attach STDOUT/STDERR and forward signals' },
    interactive: { alias: 'i', type: 'boolean', default: false, describe: "Attach container's STDIN" },
  },
  netns: async (_o, { container }) => (await import('../../../network/rootless-netns.js')).onUserNetworks(container),
  handler: async (o, { container }, ctx) => {
    const { startAttached, startDetached } = await import('../../../container/lifecycle.js');
    if (o.attach) {
      if (container.length > 1) throw new SkiffError('EINVAL', 'you cannot start and attach multiple containers at once');
      const { findContainer } = await import('../../../store/containers.js');
      await startAttached(findContainer(container[0]!), ctx.beforeExecve);
      return;
    }
    return { items: eachContainer(container, startDetached) };
  },
});
