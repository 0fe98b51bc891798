/** `unpause`: the container's cgroup freezer. */
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'unpause',
  aliases: ['unpause'],
  describe: 'Unpause all processes within one or more containers',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {},
  handler: async (_o, { container }) => {
    const { unpauseContainer } = await import('../../../container/lifecycle.js');
    return { items: eachContainer(container, unpauseContainer) };
  },
});
