/** `pause`: the container's cgroup freezer. */
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'pause',
  aliases: ['pause'],
  describe: 'Pause all processes within one or more containers',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {},
  handler: async (_o, { container }) => {
    const { pauseContainer } = await import('../../../container/lifecycle.js');
    return { items: eachContainer(container, pauseContainer) };
  },
});
